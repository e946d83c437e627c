// Picks the GEMM for a dtype: the WebAssembly SIMD kernel for float32 where it runs, else the reference.
import type { DType } from "@sam/tensor";
import { gemmF32, simdAvailable } from "../wasm/gemmF32.js";
import { gemm } from "./gemm.js";

/** The GEMM signature shared by the reference and the SIMD implementation. */
export type Gemm = typeof gemm;

/** The fastest correct GEMM for `dtype`: float64 always takes the float64 reference. */
export function gemmFor(dtype: DType): Gemm {
  return dtype === "float32" && simdAvailable() ? gemmF32 : gemm;
}
