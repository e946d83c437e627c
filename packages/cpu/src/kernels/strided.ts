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
