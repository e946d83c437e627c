// The float32 arithmetic rate one thread of this engine's WebAssembly SIMD can reach: independent
// 4-lane multiply-adds on registers, no memory traffic. It is the ceiling of any kernel built on
// these instructions, against which the benchmarks read a kernel's rate (and a native library's).
import { buildModule, Code, I32, V128 } from "./builder.js";
import { multiplyAdd } from "./gemmKernel.js";
import { fusedMultiplyAdd } from "./gemmF32.js";

/** Independent accumulators: enough to cover the multiply-add's latency on every pipe. */
const ACCUMULATORS = 12;
const ITERATIONS = 2_000_000;

/** peak(n): n rounds of ACCUMULATORS multiply-adds, the sum stored at byte 0 (so nothing is dead code). */
function peakCode(fused: boolean): Code {
  const c = new Code([I32]);
  const [n, i] = [0, c.local(I32)];
  const acc = Array.from({ length: ACCUMULATORS }, () => c.local(V128));
  const [a, b] = [c.local(V128), c.local(V128)];
  c.i32(0).loadF32().f32x4Splat().set(a).i32(4).loadF32().f32x4Splat().set(b);
  acc.forEach((v) => c.zero().set(v));
  c.i32(0).set(i);
  c.loop(i, 1, n, () => acc.forEach((v) => multiplyAdd(c, fused, v, a, b)));
  c.i32(0);
  acc.forEach((v, k) => (k === 0 ? c.get(v) : c.get(v).f32x4Add()));
  return c.store();
}

/**
 * GFLOP/s (a multiply-add counted as two) that one thread reaches with 4-lane float32 multiply-adds
 * (fused where the GEMM kernel is: {@link fusedMultiplyAdd}) and nothing else: the median of
 * `runs` timed runs after one untimed; null where WebAssembly SIMD is unavailable.
 * @example
 * console.log(`${multiplyAddPeak()?.toFixed(0)} GFLOP/s a thread at most`);
 */
export function multiplyAddPeak(runs = 5): number | null {
  if (typeof WebAssembly === "undefined") return null;
  const bytes = buildModule([{ name: "peak", code: peakCode(fusedMultiplyAdd()) }]);
  if (!WebAssembly.validate(bytes)) return null;
  const memory = new WebAssembly.Memory({ initial: 1 });
  new Float32Array(memory.buffer).set([1, 1]);
  const peak = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.peak as (n: number) => void;
  peak(ITERATIONS);
  const times = Array.from({ length: runs }, () => {
    const t0 = performance.now();
    peak(ITERATIONS);
    return (performance.now() - t0) / 1e3;
  }).sort((x, y) => x - y);
  return (2 * 4 * ACCUMULATORS * ITERATIONS) / times[runs >> 1] / 1e9;
}
