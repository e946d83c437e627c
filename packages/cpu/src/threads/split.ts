// How work is shared between threads: column ranges aligned to the GEMM's blocks.

/**
 * Splits columns 0…n into at most `parts` ranges whose starts are multiples of `align`, so that
 * every thread sees the same column blocks a single thread would.
 */
export function splitColumns(n: number, parts: number, align: number): [number, number][] {
  const blocks = Math.ceil(n / align);
  const per = Math.ceil(blocks / parts);
  const out: [number, number][] = [];
  for (let b = 0; b < blocks; b += per) out.push([b * align, Math.min(n, (b + per) * align)]);
  return out;
}

/** Splits 0…n into at most `parts` near-equal ranges. */
export function splitEvenly(n: number, parts: number): [number, number][] {
  const per = Math.ceil(n / parts);
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += per) out.push([from, Math.min(n, from + per)]);
  return out;
}
