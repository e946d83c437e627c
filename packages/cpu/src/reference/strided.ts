// Strided addressing: the offset into an input for every element of an output, row-major.

/**
 * For each position of `shape` (row-major), `base + Σ index[d]·strides[d]`. Returns null when that
 * is simply 0, 1, 2, … so callers can skip the lookup.
 */
export function offsets(shape: readonly number[], strides: readonly number[], base = 0): Int32Array | null {
  let contiguous = base === 0;
  for (let d = shape.length - 1, expect = 1; d >= 0 && contiguous; d--) {
    if (shape[d] !== 1 && strides[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) return null;
  let n = 1;
  for (const d of shape) n *= d;
  const out = new Int32Array(n);
  const rank = shape.length;
  if (rank === 0) {
    if (n > 0) out[0] = base;
    return out;
  }
  const idx = new Array<number>(rank).fill(0);
  const inner = shape[rank - 1];
  const innerStride = strides[rank - 1];
  let off = base;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = off + j * innerStride;
    for (let d = rank - 2; d >= 0; d--) {
      off += strides[d];
      if (++idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * An elementwise loop over broadcast operands, split into an outer part and an inner run: along
 * the run every operand either advances with the output or stays on one element, so the hot loop
 * needs no index table. `starts[k][o]` is operand k's offset at outer position o (null: o
 * itself); `steps[k]` is 1 (advances) or 0 (stays).
 */
export interface Runs {
  outer: number;
  inner: number;
  starts: (Int32Array | null)[];
  steps: number[];
}

/** Splits an elementwise loop over `shape` with per-operand broadcast strides into runs. */
export function broadcastRuns(shape: readonly number[], operandStrides: readonly (readonly number[])[]): Runs {
  const rank = shape.length;
  const steps = operandStrides.map((s) => (rank > 0 && s[rank - 1] === 0 && shape[rank - 1] !== 1 ? 0 : 1));
  let inner = 1;
  let d = rank - 1;
  for (; d >= 0; d--) {
    if (shape[d] === 1) continue;
    const fits = operandStrides.every((s, k) => (steps[k] === 0 ? s[d] === 0 : s[d] === inner));
    if (!fits) break;
    inner *= shape[d];
  }
  const outerShape = shape.slice(0, d + 1);
  const outer = outerShape.reduce((p, v) => p * v, 1);
  const starts = operandStrides.map((s) => offsets(outerShape, s.slice(0, d + 1)));
  return { outer, inner, starts, steps };
}
