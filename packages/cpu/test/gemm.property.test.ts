// The blocked GEMM against a plain triple loop, over random sizes (tile edges, 0 and 1) and strides.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gemm } from "../src/index.js";

function naive(m: number, n: number, k: number, a: (i: number, p: number) => number, b: (p: number, j: number) => number): number[] {
  const c: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a(i, p) * b(p, j);
    c.push(s);
  }
  return c;
}

describe("gemm", () => {
  it("equals the triple loop for any sizes and transposes", () => {
    const size = fc.oneof(fc.constantFrom(0, 1, 4, 5, 64, 65), fc.integer({ min: 0, max: 70 }));
    fc.assert(
      fc.property(size, size, fc.integer({ min: 0, max: 300 }), fc.boolean(), fc.boolean(), fc.boolean(), (m, n, k, ta, tb, acc) => {
        const a = Float64Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
        const b = Float64Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.7));
        const av = ta ? { data: a, offset: 0, rowStride: 1, colStride: m } : { data: a, offset: 0, rowStride: k, colStride: 1 };
        const bv = tb ? { data: b, offset: 0, rowStride: 1, colStride: k } : { data: b, offset: 0, rowStride: n, colStride: 1 };
        const c = new Float64Array(m * n).fill(acc ? 1 : 7);
        gemm(m, n, k, av, bv, c, 0, n, acc);
        const want = naive(m, n, k, (i, p) => a[av.offset + i * av.rowStride + p * av.colStride], (p, j) => b[p * bv.rowStride + j * bv.colStride]);
        want.forEach((w, i) => expect(c[i]).toBeCloseTo(w + (acc ? 1 : 0), 9));
      }),
      { numRuns: 60 },
    );
  });
});
