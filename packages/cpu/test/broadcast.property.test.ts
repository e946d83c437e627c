// Elementwise ops and reductions over random broadcast shapes against a plain index-by-index loop.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { channelAffine, channelDots, channelMoments, Generator, randn, setBackend, sizeOf, stridesOf, where, type Tensor } from "@sam/tensor";
import { cpu } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const shape = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });

/** x's value at output multi-index `idx` under NumPy broadcasting. */
function at(x: Tensor, data: ArrayLike<number>, idx: number[]): number {
  const lead = idx.length - x.rank;
  const s = stridesOf(x.shape);
  return data[x.shape.reduce((off, d, i) => off + (d === 1 ? 0 : idx[lead + i]) * s[i], 0)];
}

function indices(s: readonly number[]): number[][] {
  const out: number[][] = [];
  const n = sizeOf(s);
  for (let flat = 0; flat < n; flat++) {
    let rest = flat;
    out.push(s.map((_, i) => {
      const inner = sizeOf(s.slice(i + 1));
      const v = Math.floor(rest / inner);
      rest %= inner;
      return v;
    }));
  }
  return out;
}

describe("broadcast kernels", () => {
  it("binary ops equal the index-by-index definition", () => {
    fc.assert(fc.property(shape, fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 1e6 }), (s, ma, mb, seed) => {
      const g = new Generator(seed);
      const sa = s.slice(ma % (s.length + 1)).map((d, i) => ((ma >> (i + 3)) & 1 ? 1 : d));
      const sb = s.slice(mb % (s.length + 1)).map((d, i) => ((mb >> (i + 3)) & 1 ? 1 : d));
      const a = randn(sa, { generator: g, dtype: "float64" });
      const b = randn(sb, { generator: g, dtype: "float64" });
      const [da, db] = [a.dataSync(), b.dataSync()];
      for (const op of ["add", "sub", "mul", "div", "maximum", "lt"] as const) {
        const out = a[op](b);
        const got = out.dataSync();
        const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y,
          div: (x: number, y: number) => x / y, maximum: Math.max, lt: (x: number, y: number) => +(x < y) }[op];
        indices(out.shape).forEach((idx, i) => expect(got[i]).toBe(f(at(a, da, idx), at(b, db, idx))));
      }
    }), { numRuns: 100 });
  });

  it("where(cond, a, b) equals the index-by-index definition, all three broadcast", () => {
    const sub = (s: number[], m: number) => s.slice(m % (s.length + 1)).map((d, i) => ((m >> (i + 3)) & 1 ? 1 : d));
    fc.assert(fc.property(shape, fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 1e6 }), (s, mc, ma, mb, seed) => {
      const g = new Generator(seed);
      const c = randn(sub(s, mc), { generator: g }).gt(0);
      const a = randn(sub(s, ma), { generator: g, dtype: "float64" });
      const b = randn(sub(s, mb), { generator: g, dtype: "float64" });
      const out = where(c, a, b);
      const [dc, da, db, got] = [c.dataSync(), a.dataSync(), b.dataSync(), out.dataSync()];
      indices(out.shape).forEach((idx, i) => expect(got[i]).toBe(at(c, dc, idx) ? at(a, da, idx) : at(b, db, idx)));
    }), { numRuns: 100 });
  });

  it("sum, max and min over any axes equal the definition", () => {
    fc.assert(fc.property(shape, fc.nat(15), fc.boolean(), fc.integer({ min: 0, max: 1e6 }), (s, mask, keep, seed) => {
      const x = randn(s, { generator: new Generator(seed), dtype: "float64" });
      const axes = s.map((_, i) => i).filter((i) => (mask >> i) & 1);
      const data = x.dataSync();
      for (const op of ["sum", "max", "min"] as const) {
        const got = x[op](axes, true).dataSync();
        const want = new Float64Array(got.length).fill(op === "sum" ? 0 : op === "max" ? -Infinity : Infinity);
        const outStrides = stridesOf(s.map((d, i) => (axes.includes(i) ? 1 : d)));
        indices(s).forEach((idx, i) => {
          const t = idx.reduce((off, v, d) => off + (axes.includes(d) ? 0 : v * outStrides[d]), 0);
          want[t] = op === "sum" ? want[t] + data[i] : op === "max" ? Math.max(want[t], data[i]) : Math.min(want[t], data[i]);
        });
        got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
        expect(x[op](axes, keep).size).toBe(got.length);
      }
    }), { numRuns: 100 });
  });

  it("large ops, reductions and per-channel ops shared between two threads equal the one-thread result, runs cut anywhere", () => {
    const run = (threads: number) => {
      setBackend(cpu({ threads }));
      const g = new Generator(11);
      const x = randn([3, 301, 299], { generator: g });
      const col = randn([301, 1], { generator: g });
      const row = randn([299], { generator: g });
      const out = [x.mul(col), x.sub(row), x.add(x), col.div(x), x.neg(), x.relu(), x.exp(), x.gt(col).cast("float32"), where(x.gt(row), x, col),
        x.sum([0, 2]), x.sum(1), x.max([0, 1]), x.min(2), x.sum(),
        channelMoments(x), channelDots(x.exp(), x), channelAffine(x, col.reshape([301]), col.reshape([301]).neg(), { addend: x.exp(), relu: true })];
      return out.map((t) => Array.from(t.dataSync()));
    };
    const [one, two] = [run(1), run(2)];
    setBackend(cpu());
    expect(two).toEqual(one);
    expect(one[0].length).toBeGreaterThan(2 ** 18); // large enough to be shared
  });
});
