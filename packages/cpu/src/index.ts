// @sam/cpu in Node: the CPU backend (browsers get browser.ts through the "browser" export condition).
export { type CpuOptions } from "./backend.js";
export { cpu } from "./node.js";
export { gemm, type MatrixView } from "./reference/gemm.js";
export { workerShares, workersReady } from "./fast/pool.js";
export { fusedMultiplyAdd, gemmF32, simdAvailable } from "./wasm/gemmF32.js";
export { multiplyAddPeak } from "./wasm/peakF32.js";
