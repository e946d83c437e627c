// The elementwise loops as the fast layer runs them over a thread's share: float32 runs long
// enough in WebAssembly SIMD (short whole runs many a call), everything else by the reference
// loops. They import nothing from @sam/tensor at run time, so a worker loads them by relative URL
// alone.
import type { TypedArray } from "@sam/tensor";
import { binaryRun, unaryLoop, whereLoop, type Run } from "../reference/elementwiseLoops.js";
import { broadcastRuns } from "../reference/strided.js";
import { binaryRunF32, binaryRunsF32, compareRunF32, MAX_BATCHED_RUN, MIN_SIMD_RUN, runsAdjacent, simdBinary, simdCompare, simdUnary, simdWhere, unaryRangeF32, whereRunF32 } from "../wasm/elementwiseF32.js";

/** Unary op `name` over output elements from…to (a thread's share); float32 in SIMD where it can. */
export function unaryRange(name: string, o: TypedArray, a: TypedArray, from: number, to: number): void {
  if (to - from >= MIN_SIMD_RUN && o instanceof Float32Array && a instanceof Float32Array && simdUnary(name)) return unaryRangeF32(name, o, a, from, to);
  unaryLoop(name, o, a, from, to);
}

/** The SIMD run of op `name` for these arrays (float32 operands, a float32 or bool output), or null. */
function simdRunOf(name: string, o: TypedArray, a: TypedArray, b: TypedArray): Run | null {
  if (!(a instanceof Float32Array && b instanceof Float32Array)) return null;
  if (o instanceof Float32Array && simdBinary(name)) {
    return (o, at, a, ia, sa, b, ib, sb, n) => binaryRunF32(name, o as Float32Array, at, a as Float32Array, ia, sa, b as Float32Array, ib, sb, n);
  }
  if (o instanceof Uint8Array && simdCompare(name)) {
    return (o, at, a, ia, sa, b, ib, sb, n) => compareRunF32(name, o as Uint8Array, at, a as Float32Array, ia, sa, b as Float32Array, ib, sb, n);
  }
  return null;
}

/**
 * Binary op `name` over output elements from…to of an output of `shape` (a thread's share), run by
 * run; float32 runs long enough in SIMD where the op has a loop there.
 */
export function binaryRange(name: string, o: TypedArray, shape: readonly number[], a: TypedArray, aStrides: readonly number[], b: TypedArray, bStrides: readonly number[], from: number, to: number): void {
  const run = binaryRun(name);
  const simd = simdRunOf(name, o, a, b);
  const { inner, starts, steps } = broadcastRuns(shape, [aStrides, bStrides]);
  const [sa, sb] = starts;
  // short whole runs in float32, many a SIMD call; the share's partial first and last runs below
  const [w0, w1] = [Math.ceil(from / inner), Math.floor(to / inner)];
  if (simd && o instanceof Float32Array && simdBinary(name) && inner <= MAX_BATCHED_RUN && w1 - w0 > 1
    && runsAdjacent(sa, steps[0], inner, w0, w1) && runsAdjacent(sb, steps[1], inner, w0, w1)) {
    binaryRunsF32(name, o, a as Float32Array, sa, steps[0], b as Float32Array, sb, steps[1], inner, w0, w1);
    if (from < w0 * inner) binaryRange(name, o, shape, a, aStrides, b, bStrides, from, w0 * inner);
    if (w1 * inner < to) binaryRange(name, o, shape, a, aStrides, b, bStrides, w1 * inner, to);
    return;
  }
  for (let r = Math.floor(from / inner); r * inner < to; r++) {
    const j0 = Math.max(from - r * inner, 0); // a share may start or end inside a run
    const j1 = Math.min(to - r * inner, inner);
    const ia = (sa ? sa[r] : r) + j0 * steps[0];
    const ib = (sb ? sb[r] : r) + j0 * steps[1];
    (simd && j1 - j0 >= MIN_SIMD_RUN ? simd : run)(o, r * inner + j0, a, ia, steps[0], b, ib, steps[1], j1 - j0);
  }
}

/**
 * where(cond, a, b) over output elements from…to of an output of `shape` (a thread's share), run by
 * run; float32 runs long enough, with a condition that varies along them, in SIMD.
 */
export function whereRange(o: TypedArray, shape: readonly number[], c: TypedArray, a: TypedArray, b: TypedArray,
  strides: readonly (readonly number[])[], from: number, to: number): void {
  const { inner, starts, steps } = broadcastRuns(shape, strides);
  const [sc, sa, sb] = starts;
  const [tc, ta, tb] = steps;
  const simd = tc === 1 && o instanceof Float32Array && c instanceof Uint8Array && a instanceof Float32Array && b instanceof Float32Array && simdWhere();
  if (!simd) return whereLoop(o, shape, c, a, b, strides, from, to);
  for (let r = Math.floor(from / inner); r * inner < to; r++) {
    const j0 = Math.max(from - r * inner, 0);
    const j1 = Math.min(to - r * inner, inner);
    const at = r * inner;
    const ic = (sc ? sc[r] : r) + j0 * tc;
    const ia = (sa ? sa[r] : r) + j0 * ta;
    const ib = (sb ? sb[r] : r) + j0 * tb;
    if (j1 - j0 >= MIN_SIMD_RUN) whereRunF32(o as Float32Array, at + j0, c as Uint8Array, ic, a as Float32Array, ia, ta, b as Float32Array, ib, tb, j1 - j0);
    else for (let j = 0; j < j1 - j0; j++) o[at + j0 + j] = c[ic + j * tc] ? a[ia + j * ta] : b[ib + j * tb];
  }
}
