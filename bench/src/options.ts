// The flags every benchmark takes.

export interface BenchOptions {
  /** Threads of @sam/cpu and of PyTorch on the CPU. */
  threads: number;
  /** A per-primitive breakdown of the @sam/cpu training steps. */
  profile: boolean;
  /** WebGPU rows even on a software adapter (a correctness run, not a speed claim). */
  webgpu: boolean;
  /** Only the GPU rows: @sam/webgpu beside PyTorch on CUDA; no CPU or TensorFlow.js rows. */
  gpuOnly: boolean;
}
