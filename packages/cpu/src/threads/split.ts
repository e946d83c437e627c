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
