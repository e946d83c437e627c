// The WebGPU rows of the benchmarks: the adapter Dawn finds, used when it is a hardware GPU, or on
// a software adapter (SwiftShader, about 0.4 GFLOP/s) only when asked with --webgpu, as a
// correctness run rather than a speed claim.
import { describeAdapter, findAdapter, webgpu, type WebGpuBackend } from "@sam/webgpu";

/** The row label of the adapter to benchmark and whether it is software, or null (after saying why). */
export async function gpuRows(force: boolean): Promise<{ system: string; software: boolean } | null> {
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
  return { system: `@sam/webgpu [${name}]`, software };
}

/** The WebGPU backend to benchmark, with its row label, or null (after saying why). */
export async function benchGpu(force: boolean): Promise<{ gpu: WebGpuBackend; system: string; software: boolean } | null> {
  const rows = await gpuRows(force);
  return rows && { ...rows, gpu: await webgpu() };
}
