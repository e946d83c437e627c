// The GPU rows of the benchmarks: @sam/webgpu on the adapter Dawn finds, used when it is a hardware
// GPU, or on a software adapter (SwiftShader, about 0.4 GFLOP/s) only when asked with --webgpu, as
// a correctness run rather than a speed claim; and PyTorch on CUDA beside a hardware GPU.
import { describeAdapter, findAdapter, webgpu, type WebGpuBackend } from "@sam/webgpu";
import { torchHasCuda } from "./anchor.js";
import { medianSecondsAsync } from "./report.js";

/** How GPU rows are timed: each run is `repeats` calls then a wait for the device, `runs` runs. */
export interface GpuTiming {
  runs: number;
  repeats: number;
}

export interface GpuRows {
  /** Row label: the adapter's description. */
  system: string;
  software: boolean;
  /** Whether PyTorch on CUDA runs beside (a hardware GPU, and torch sees CUDA). */
  cuda: boolean;
  timing: GpuTiming;
}

/** The adapter to benchmark, or null (after saying why). */
export async function gpuRows(force: boolean): Promise<GpuRows | null> {
  const adapter = await findAdapter();
  if (!adapter) {
    console.log("webgpu: no adapter found; no @sam/webgpu rows");
    return null;
  }
  const name = describeAdapter(adapter);
  const software = /swiftshader|llvmpipe|lavapipe/i.test(name);
  if (software && !force) {
    console.log(`webgpu: only a software adapter (${name}); pass --webgpu for a (slow) correctness run`);
    return null;
  }
  const cuda = !software && torchHasCuda();
  if (!software && !cuda) console.log("webgpu: PyTorch sees no CUDA device here; the WebGPU rows have no anchor");
  return { system: `@sam/webgpu [${name}]`, software, cuda, timing: software ? { runs: 1, repeats: 1 } : { runs: 5, repeats: 10 } };
}

/** The WebGPU backend to benchmark, with its rows' description, or null (after saying why). */
export async function benchGpu(force: boolean): Promise<(GpuRows & { gpu: WebGpuBackend }) | null> {
  const rows = await gpuRows(force);
  return rows && { ...rows, gpu: await webgpu() };
}

/** Median seconds per call of `fn` on the GPU: whole runs of `repeats` calls, each run finished on the device. */
export async function gpuSeconds(gpu: WebGpuBackend, timing: GpuTiming, fn: () => void): Promise<number> {
  const seconds = await medianSecondsAsync(async () => {
    for (let i = 0; i < timing.repeats; i++) fn();
    await gpu.sync();
  }, timing.runs);
  return seconds / timing.repeats;
}
