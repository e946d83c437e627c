// @sam/cpu in browsers: the same kernels, on the page's thread and, on a cross-origin isolated
// page, on module Web Workers over shared memory.
import { SamError, type Backend } from "@sam/tensor";
import { createCpu, type CpuOptions } from "./backend.js";
import { WebWorkerPool } from "./threads/webPool.js";

export { type CpuOptions } from "./backend.js";
export { gemm, type MatrixView } from "./reference/gemm.js";
export { workerShares, workersReady } from "./fast/pool.js";
export { fusedMultiplyAdd, gemmF32, simdAvailable } from "./wasm/gemmF32.js";
export { multiplyAddPeak } from "./wasm/peakF32.js";

/**
 * Creates the CPU backend. `threads` above 1 (default 1) starts Web Workers, which share memory
 * only on a cross-origin isolated page (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`). The workers start once the page's thread yields
 * to its event loop (`await new Promise((r) => setTimeout(r))` between steps, say); until then the
 * kernels run on the calling thread alone. Results are the same on any number of threads.
 */
export function cpu(opts: CpuOptions = {}): Backend {
  const threads = opts.threads ?? 1;
  if (threads > 1 && !globalThis.crossOriginIsolated) {
    throw new SamError("cpu", `threads: ${threads} needs a cross-origin isolated page (SharedArrayBuffer); serve it with ` +
      "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, or use threads: 1");
  }
  return createCpu(threads, (n) => new WebWorkerPool(n), opts.kernels);
}
