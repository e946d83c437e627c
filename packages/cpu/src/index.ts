// @sam/cpu: the CPU backend.
export { cpu, type CpuOptions } from "./backend.js";
export { gemm, type MatrixView } from "./kernels/gemm.js";
export { gemmF32, simdAvailable } from "./wasm/gemmF32.js";
