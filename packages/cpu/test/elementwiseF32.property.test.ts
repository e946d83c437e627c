// The float32 elementwise loops in WebAssembly SIMD against the scalar functions they replace, bit
// for bit: random broadcast layouts, runs shorter and longer than a chunk, and the values where
// float arithmetic is delicate (±0, ±∞, NaN, subnormals, division by zero).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { binaryRange, unaryRange, whereRange } from "../src/fast/elementwiseRuns.js";
import { binaryFns, unaryFns } from "../src/reference/elementwiseLoops.js";
import { MIN_SIMD_RUN } from "../src/wasm/elementwiseF32.js";

const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e-45, -1e-45, 1.17e-38, 3.4e38, -3.4e38, 1, -1];

/** n floats: mostly ordinary values, some special ones. */
function floats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s % 7 === 0 ? SPECIAL[s % SPECIAL.length] : ((s >>> 8) / 2 ** 24 - 0.5) * 2 ** ((s % 40) - 20);
  }
  return out;
}

/** Whether two arrays hold the same values (NaN equal to NaN, −0 distinct from +0). */
function same(got: Float32Array | Uint8Array, want: Float32Array | Uint8Array): string | null {
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) return `element ${i}: ${got[i]}, want ${want[i]}`;
  return null;
}

describe("float32 elementwise in SIMD", () => {
  it("binary ops and comparisons equal their scalar functions, for every broadcast of the run and any share", () => {
    const inner = fc.oneof(fc.constantFrom(1, 3, 64, MIN_SIMD_RUN, MIN_SIMD_RUN + 3, 4096, 16384, 16385, 40000), fc.integer({ min: 1, max: 3000 }));
    const ops = ["add", "sub", "mul", "div", "reluMask", "eq", "ne", "lt", "le", "gt", "ge"] as const;
    fc.assert(fc.property(fc.constantFrom(...ops), inner, fc.nat(), fc.boolean(), fc.boolean(), fc.nat(), fc.nat(), fc.nat(),
      (op, n, rows, aRow, bRow, seed, cut0, cut1) => {
        // shape [outer, n]: short runs come many to a chunk; an operand is a full matrix or one value per row
        const outer = 1 + (rows % Math.min(600, Math.max(1, Math.floor(120000 / n))));
        const total = outer * n;
        const [from, to] = [cut0 % (total + 1), cut1 % (total + 1)].sort((x, y) => x - y);
        const a = floats(aRow ? outer : total, seed);
        const b = floats(bRow ? outer : total, seed + 1);
        const output = () => (["add", "sub", "mul", "div", "reluMask"].includes(op) ? new Float32Array(total) : new Uint8Array(total)).fill(7);
        const got = output();
        binaryRange(op, got, [outer, n], a, aRow ? [1, 0] : [n, 1], b, bRow ? [1, 0] : [n, 1], from, to);
        const want = output();
        const f = binaryFns[op];
        for (let e = from; e < to; e++) {
          const [r, j] = [Math.floor(e / n), e % n];
          want[e] = f(a[aRow ? r : r * n + j], b[bRow ? r : r * n + j]);
        }
        const wrong = same(got, want);
        if (wrong) expect.fail(`${op} [${outer}, ${n}] ${from}…${to}, a ${aRow ? "per row" : "full"}, b ${bRow ? "per row" : "full"}: ${wrong}`);
      }), { numRuns: 150 });
  });

  it("where equals the conditional, with values or a broadcast float on either side", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40000 }), fc.integer({ min: 1, max: 2 }), fc.boolean(), fc.boolean(), fc.nat(), (n, outer, aRow, bRow, seed) => {
      const a = floats(aRow ? outer : outer * n, seed);
      const b = floats(bRow ? outer : outer * n, seed + 1);
      const c = Uint8Array.from(floats(outer * n, seed + 2), (v) => (v > 0 ? 1 : v < 0 ? 0 : 2)); // any non-zero byte is true
      const got = new Float32Array(outer * n);
      whereRange(got, [outer, n], c, a, b, [[n, 1], aRow ? [1, 0] : [n, 1], bRow ? [1, 0] : [n, 1]], 0, outer * n);
      const want = new Float32Array(outer * n);
      for (let r = 0; r < outer; r++) {
        for (let j = 0; j < n; j++) want[r * n + j] = c[r * n + j] ? a[aRow ? r : r * n + j] : b[bRow ? r : r * n + j];
      }
      const wrong = same(got, want);
      if (wrong) expect.fail(`where [${outer}, ${n}] a ${aRow ? "per row" : "full"}, b ${bRow ? "per row" : "full"}: ${wrong}`);
    }), { numRuns: 60 });
  });

  it("unary ops equal their scalar functions, over shares that start and end anywhere", () => {
    fc.assert(fc.property(fc.constantFrom("neg", "abs", "sqrt", "relu"), fc.integer({ min: 0, max: 40000 }), fc.nat(), fc.nat(), (op, n, cut, seed) => {
      const a = floats(n, seed);
      const got = new Float32Array(n).fill(7);
      const from = n === 0 ? 0 : cut % n;
      unaryRange(op, got, a, from, n);
      const want = new Float32Array(n).fill(7);
      const f = unaryFns[op as "neg"];
      for (let i = from; i < n; i++) want[i] = f(a[i]);
      const wrong = same(got, want);
      if (wrong) expect.fail(`${op} over ${from}…${n}: ${wrong}`);
    }), { numRuns: 60 });
  });
});
