// @sam/cpu in browsers: the same kernels on the page's thread. (Worker threads would need a page
// that is cross-origin isolated and a caller that may block, which a page's main thread may not.)
import type { Backend } from "@sam/tensor";
import { createCpu, type CpuOptions } from "./backend.js";

export { type CpuOptions } from "./backend.js";
export { gemm, type MatrixView } from "./kernels/gemm.js";
export { gemmF32, simdAvailable } from "./wasm/gemmF32.js";

/** Creates the CPU backend on the calling thread; `threads` above 1 is refused here. */
export function cpu(opts: CpuOptions = {}): Backend {
  return createCpu(opts.threads ?? 1, null);
}
