// Node 20's engine implements WebAssembly's relaxed SIMD (part of the standard since Wasm 3.0,
// on by default from Node 22 and Chrome 114) behind a flag. Turning it on before any kernel
// compiles lets the GEMM multiply and add in one instruction there too.
import { setFlagsFromString } from "node:v8";
import { buildModule, Code, V128 } from "./wasm/builder.js";

/** Whether this engine validates a relaxed-SIMD instruction now. */
function relaxedSimdValid(): boolean {
  const code = new Code([]);
  const v = code.local(V128);
  code.zero().zero().zero().f32x4RelaxedMadd().set(v);
  return WebAssembly.validate(buildModule([{ name: "madd", code }]));
}

/**
 * Turns on the engine's relaxed SIMD where it is implemented but off, unless the process was
 * started with `--no-experimental-wasm-relaxed-simd` (which keeps the multiply-then-add kernel).
 * Returns whether relaxed SIMD validates afterwards.
 * @example
 * enableRelaxedSimd(); // true on Node 20 and later
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdValid()) return true;
  if (process.execArgv.includes("--no-experimental-wasm-relaxed-simd")) return false;
  setFlagsFromString("--experimental-wasm-relaxed-simd");
  return relaxedSimdValid();
}
