// The pointwise primitive against the tensor ops it stands for: random expressions of up to three
// inputs and constants, on every backend. On the CPU the two are equal bit for bit (each operation
// rounds as the separate op does); on a GPU within float32's tolerance (a shader compiler may fuse
// a multiply and an add). Its symbolic gradient against the ops' gradients, to the second order.
// Stacked expressions against their separate passes. And what it refuses.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { gradients } from "@sam/autograd";
import { dispatch, fromValues, keep, pointwise, pointwiseStack, pointwiseSum, setBackend, stack, tidy, type DType, type PointwiseExpr, type Tensor } from "@sam/tensor";

/** Row j of a stacked result. */
const channelRowOf = (t: Tensor, j: number) => t.slice([j]).reshape(t.shape.slice(1));
import { backends, referenceBackend } from "./backends.js";

/** An expression tree, applied to symbolic values or to tensors alike. */
type Tree = { input: number } | { constant: number } | { op: "add" | "sub" | "mul" | "div" | "maximum" | "minimum"; a: Tree; b: Tree } | { op: "neg" | "sqrt" | "abs" | "sign"; a: Tree };

const trees = (constant: fc.Arbitrary<number>): fc.Arbitrary<Tree> => fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof({ depthSize: "small", withCrossShrink: true },
    fc.record({ input: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ constant }),
    fc.record({ op: fc.constantFrom("add", "sub", "mul", "div", "maximum", "minimum"), a: tie("t"), b: tie("t") }) as fc.Arbitrary<Tree>,
    fc.record({ op: fc.constantFrom("neg", "sqrt", "abs", "sign"), a: tie("t") }) as fc.Arbitrary<Tree>),
})).t;
const tree = trees(fc.double({ min: -3, max: 3, noNaN: true }));
// for gradients, constants away from zero: dividing by a denormal makes infinities whose products
// with zero depend on the order of operations, in the ops' gradients as in the fused one
const gradientTree = trees(fc.integer({ min: -30, max: 30 }).filter((k) => k !== 0).map((k) => k / 10));

/** The arithmetic that pointwise's symbolic values and tensors share. */
interface Arithmetic<V> {
  add(v: V | number): V; sub(v: V | number): V; mul(v: V | number): V; div(v: V | number): V;
  maximum(v: V | number): V; minimum(v: V | number): V; neg(): V; sqrt(): V; abs(): V; sign(): V;
}

/**
 * The tree over `xs`: pointwise's symbolic values or tensors, one launch per operation (a bare
 * constant becomes 0·x0 + c, so every result is a value).
 */
function evaluate<V extends Arithmetic<V>>(t: Tree, xs: V[]): V {
  if ("input" in t) return xs[t.input];
  if ("constant" in t) return xs[0].mul(0).add(t.constant);
  const a = evaluate(t.a, xs);
  if ("b" in t) return "constant" in t.b ? a[t.op](t.b.constant) : a[t.op](evaluate(t.b, xs));
  return a[t.op]();
}

/**
 * A float64 number with the arithmetic of the trees, NaN propagating through max and min as in
 * JavaScript; and `d`, for each of the three inputs, the size its derivative would have if no
 * chain-rule terms cancelled (every partial taken in absolute value). Two correct gradients may
 * differ by rounding relative to that size, not to the derivative's own: (x2/(x1/x0))/(x1·x0)
 * does not depend on x0, yet its terms in x0 are of size |x2|/x1².
 */
class Num implements Arithmetic<Num> {
  constructor(readonly v: number, readonly d: readonly number[] = [0, 0, 0]) {}
  /** Input k's value. */
  static input(v: number, k: number): Num {
    return new Num(v, [0, 1, 2].map((i) => (i === k ? 1 : 0)));
  }
  private static of(x: Num | number): Num { return typeof x === "number" ? new Num(x) : x; }
  /** The result v, its sizes from this one's times |∂/∂this| and b's times |∂/∂b|. */
  private to(v: number, da: number, b?: Num, db = 0): Num {
    // 0 where an operand does not depend on the input, or the operation does not on the operand
    const term = (partial: number, d: number) => (d === 0 || partial === 0 ? 0 : partial * d);
    return new Num(v, this.d.map((d, k) => term(Math.abs(da), d) + (b ? term(Math.abs(db), b.d[k]) : 0)));
  }
  add(x: Num | number) { const b = Num.of(x); return this.to(this.v + b.v, 1, b, 1); }
  sub(x: Num | number) { const b = Num.of(x); return this.to(this.v - b.v, 1, b, 1); }
  mul(x: Num | number) { const b = Num.of(x); return this.to(this.v * b.v, b.v, b, this.v); }
  div(x: Num | number) { const b = Num.of(x); return this.to(this.v / b.v, 1 / b.v, b, this.v / (b.v * b.v)); }
  maximum(x: Num | number) { const b = Num.of(x); return this.to(Math.max(this.v, b.v), this.v >= b.v ? 1 : 0, b, b.v >= this.v ? 1 : 0); }
  minimum(x: Num | number) { const b = Num.of(x); return this.to(Math.min(this.v, b.v), this.v <= b.v ? 1 : 0, b, b.v <= this.v ? 1 : 0); }
  neg() { return this.to(-this.v, 1); }
  sqrt() { return this.to(Math.sqrt(this.v), 1 / (2 * Math.sqrt(this.v))); }
  abs() { return this.to(Math.abs(this.v), 1); }
  sign() { return this.to(Math.sign(this.v), 0); }
}

/** The weight of element i in {@link inputGradients}' sum. */
const weightOf = (seed: number, i: number) => Math.cos(seed + 3 * i);

/** The tolerance's scale for a gradient element: 1, its value, or its terms' size where that is finite (see {@link Num}). */
const scaleOf = (w: number, size: number) => Math.max(1, Math.abs(w), Number.isFinite(size) ? size : 0);

/** The gradients of Σ f(x0, x1, x2)·w with respect to each input, for fixed weights w. */
async function inputGradients(dtype: DType, n: number, seed: number, f: (xs: Tensor[]) => Tensor): Promise<ArrayLike<number>[]> {
  const xs = inputs(dtype, n, seed).map((x) => x.requiresGrad_());
  const w = fromValues(Array.from({ length: n }, (_, i) => weightOf(seed, i)), [n], dtype);
  const gs = tidy(() => gradients([f(xs).mul(w).sum()], xs).map((g) => keep(g)));
  const out = await Promise.all(gs.map((g) => g.data()));
  [...xs, w, ...gs].forEach((t) => t.dispose());
  return out;
}

const inputs = (dtype: DType, n: number, seed: number) =>
  [0, 1, 2].map((k) => fromValues(Array.from({ length: n }, (_, i) => Math.sin(seed + 7 * i + 13 * k) * 3), [n], dtype));

describe.each([referenceBackend, ...backends])("pointwise on $name", ({ make, float64, name }) => {
  beforeAll(async () => setBackend(await make()));
  const exact = name.startsWith("cpu");

  it.each(float64 ? ["float64", "float32"] as DType[] : ["float32"] as DType[])("equals the ops it stands for, in %s", async (dtype) => {
    await fc.assert(fc.asyncProperty(tree, fc.integer({ min: 1, max: 300 }), fc.nat(1000), async (t, n, seed) => {
      const xs = inputs(dtype, n, seed);
      const [got, want] = tidy(() => [pointwise(xs, (...s) => evaluate<PointwiseExpr>(t, s)), evaluate<Tensor>(t, xs)]);
      const [g, w] = [await got.data(), await want.data()];
      [got, want, ...xs].forEach((x) => x.dispose());
      for (let i = 0; i < n; i++) {
        if (exact || Number.isNaN(w[i]) || !Number.isFinite(w[i])) expect(Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i])), `element ${i}: ${g[i]} vs ${w[i]}`).toBe(true);
        else expect(Math.abs(g[i] - w[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[i])));
      }
    }), { numRuns: exact ? 200 : 60 });
  });

  it.each(float64 ? ["float64", "float32"] as DType[] : ["float32"] as DType[])("has the gradient of the ops it stands for, in %s", async (dtype) => {
    await fc.assert(fc.asyncProperty(gradientTree, fc.integer({ min: 1, max: 40 }), fc.nat(1000), async (t, n, seed) => {
      const [got, want] = [await inputGradients(dtype, n, seed, (xs) => pointwise(xs, (...s) => evaluate<PointwiseExpr>(t, s))),
        await inputGradients(dtype, n, seed, (xs) => evaluate<Tensor>(t, xs))];
      // the value in float64 with NaN propagating (a GPU's min and max may drop a NaN operand)
      const made = inputs(dtype, n, seed);
      const xs = await Promise.all(made.map((x) => x.data()));
      made.forEach((x) => x.dispose());
      const value = Array.from({ length: n }, (_, i) => evaluate(t, xs.map((x, k) => Num.input(x[i], k))));
      for (let k = 0; k < got.length; k++) {
        for (let i = 0; i < n; i++) {
          if (!Number.isFinite(value[i].v)) continue; // no derivative where the value is NaN or infinite
          const [g, w] = [got[k][i], want[k][i]];
          const size = value[i].d[k] * Math.abs(weightOf(seed, i));
          if (!Number.isFinite(w) || !Number.isFinite(g)) expect(Number.isFinite(g), `input ${k} element ${i}: ${g} vs ${w}`).toBe(Number.isFinite(w));
          else expect(Math.abs(g - w), `input ${k} element ${i}: ${g} vs ${w}`).toBeLessThanOrEqual((dtype === "float64" ? 1e-9 : 2e-4) * scaleOf(w, size));
        }
      }
    }), { numRuns: exact ? 150 : 40 });
  });

  it("gives second derivatives, and gradients for a 0-d input (summed over the elements)", async () => {
    const dtype: DType = float64 ? "float64" : "float32";
    const [x, y] = inputs(dtype, 50, 2);
    const s = fromValues([0.7], [], dtype);
    // f = Σ (x·s + √(x² + y²))·y: ∂f/∂s = Σ x·y, and ∂/∂x of ∂f/∂x = y·y²/(x² + y²)^{3/2}
    const [gx, gs] = tidy(() => {
      const [xv, sv] = [x.detach().requiresGrad_(), s.detach().requiresGrad_()];
      const f = pointwise([xv, y, sv], (x, y, s) => x.mul(s).add(x.mul(x).add(y.mul(y)).sqrt()).mul(y)).sum();
      const [dx, ds] = gradients([f], [xv, sv], { createGraph: true });
      const [ddx] = gradients([dx.sum()], [xv]);
      return [keep(ddx), keep(ds)];
    });
    const [xs, ys, ddx, ds] = [await x.data(), await y.data(), await gx.data(), await gs.data()];
    const tolerance = float64 ? 1e-12 : 1e-4;
    let dsWant = 0;
    for (let i = 0; i < 50; i++) {
      const r2 = xs[i] ** 2 + ys[i] ** 2;
      expect(Math.abs(ddx[i] - ys[i] ** 3 / r2 ** 1.5)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(ddx[i])));
      dsWant += xs[i] * ys[i];
    }
    expect(gs.shape).toEqual([]);
    expect(Math.abs(ds[0] - dsWant)).toBeLessThanOrEqual(tolerance * 50);
  });

  it.each(float64 ? ["float64", "float32"] as DType[] : ["float32"] as DType[])("pointwiseSum equals pointwise then sum, with its gradient, in %s", async (dtype) => {
    await fc.assert(fc.asyncProperty(gradientTree, fc.integer({ min: 1, max: 3000 }), fc.nat(1000), async (t, n, seed) => {
      const xs = inputs(dtype, n, seed);
      const [got, want] = tidy(() => [pointwiseSum(xs, (...s) => evaluate<PointwiseExpr>(t, s)), pointwise(xs, (...s) => evaluate<PointwiseExpr>(t, s)).sum()]);
      const [g, w] = [(await got.data())[0], (await want.data())[0]];
      [got, want, ...xs].forEach((x) => x.dispose());
      expect(got.shape).toEqual([]);
      if (exact || !Number.isFinite(w)) expect(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${g} vs ${w}`).toBe(true);
      else expect(Math.abs(g - w)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w)) * Math.sqrt(n));
    }), { numRuns: exact ? 100 : 30 });
    // the gradient: d/dx Σ (x·s)² = 2x·s², d/ds = Σ 2x²·s (s 0-d, summed over the elements)
    const [x] = inputs(dtype, 40, 9).map((t) => t.requiresGrad_());
    const s = fromValues([0.6], [], dtype).requiresGrad_();
    const [dx, ds] = tidy(() => gradients([pointwiseSum([x, s], (x, s) => x.mul(s).mul(x.mul(s)))], [x, s]).map((t) => keep(t)));
    expect(ds.shape).toEqual([]);
    const [xv, dxv, dsv] = [await x.data(), await dx.data(), (await ds.data())[0]];
    const tolerance = dtype === "float64" ? 1e-12 : 1e-5;
    let dsWant = 0;
    xv.forEach((v, i) => {
      expect(Math.abs(dxv[i] - 2 * v * 0.36)).toBeLessThanOrEqual(tolerance * 4);
      dsWant += 2 * v * v * 0.6;
    });
    expect(Math.abs(dsv - dsWant)).toBeLessThanOrEqual(tolerance * 40 * 4);
    [x, s, dx, ds].forEach((t) => t.dispose());
  });

  it.each(float64 ? ["float64", "float32"] as DType[] : ["float32"] as DType[])("pointwiseStack equals its expressions' passes stacked, with their gradient, in %s", async (dtype) => {
    await fc.assert(fc.asyncProperty(fc.array(gradientTree, { minLength: 2, maxLength: 4 }), fc.integer({ min: 1, max: 60 }), fc.nat(1000), async (ts, n, seed) => {
      const xs = inputs(dtype, n, seed);
      const [got, want] = tidy(() => [pointwiseStack(xs, (...s) => ts.map((t) => evaluate<PointwiseExpr>(t, s))), stack(ts.map((t) => pointwise(xs, (...s) => evaluate<PointwiseExpr>(t, s))))]);
      expect(got.shape).toEqual([ts.length, n]);
      const [g, w] = [await got.data(), await want.data()];
      [got, want, ...xs].forEach((x) => x.dispose());
      for (let i = 0; i < g.length; i++) {
        if (exact || !Number.isFinite(w[i])) expect(Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i])), `element ${i}: ${g[i]} vs ${w[i]}`).toBe(true);
        else expect(Math.abs(g[i] - w[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(w[i])));
      }
      // Σ_j rows_j·w_j: the stacked gradient (one pass per input over the rows' gradients) against the separate passes'
      const weigh = (rows: Tensor[]) => rows.map((r, j) => r.mul(j + 1)).reduce((a, b) => a.add(b));
      const [gs, ws] = [await inputGradients(dtype, n, seed, (x) => weigh([0, 1, 2, 3].slice(0, ts.length).map((j) => channelRowOf(pointwiseStack(x, (...s) => ts.map((t) => evaluate<PointwiseExpr>(t, s))), j)))),
        await inputGradients(dtype, n, seed, (x) => weigh(ts.map((t) => pointwise(x, (...s) => evaluate<PointwiseExpr>(t, s)))))];
      const made = inputs(dtype, n, seed);
      const values = await Promise.all(made.map((x) => x.data()));
      made.forEach((x) => x.dispose());
      for (let k = 0; k < gs.length; k++) {
        for (let i = 0; i < n; i++) {
          const [a, b] = [gs[k][i], ws[k][i]];
          // the rows' sizes, weighted as weigh() weighs the rows
          const size = ts.reduce((sum, t, j) => sum + (j + 1) * evaluate(t, values.map((x, q) => Num.input(x[i], q))).d[k], 0) * Math.abs(weightOf(seed, i));
          if (!Number.isFinite(a) || !Number.isFinite(b)) expect(Number.isFinite(a), `input ${k} element ${i}: ${a} vs ${b}`).toBe(Number.isFinite(b));
          else expect(Math.abs(a - b), `input ${k} element ${i}: ${a} vs ${b}`).toBeLessThanOrEqual((dtype === "float64" ? 1e-9 : 2e-4) * scaleOf(b, size));
        }
      }
    }), { numRuns: exact ? 60 : 15 });
  });

  it("takes a 0-d tensor as one value for every element (a scale computed on the device)", async () => {
    const [w, g] = inputs("float32", 500, 5);
    const s = fromValues([0.37], [], "float32");
    const [f, o] = [await pointwise([w, g, s], (w, g, s) => w.add(g.mul(s))).data(), await w.add(g.mul(s)).data()];
    if (exact) expect(Array.from(f)).toEqual(Array.from(o));
    else f.forEach((v, i) => expect(Math.abs(v - o[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(o[i]))));
    expect(Array.from(await pointwise([s, s], (a, b) => a.mul(b)).data())).toEqual([Math.fround(Math.fround(0.37) * Math.fround(0.37))]);
  });

  it("an SGD step with momentum and weight decay, in two passes, equals the six ops", async () => {
    const [w, g, b] = inputs("float32", 1000, 3);
    const fused = pointwise([pointwise([b, g, w], (b, g, w) => b.mul(0.9).add(g.add(w.mul(5e-4)))), w], (b, w) => w.sub(b.mul(0.1)).add(b.mul(0)));
    const buf = b.mul(0.9).add(g.add(w.mul(5e-4)));
    const ops = w.sub(buf.mul(0.1)).add(buf.mul(0));
    const [f, o] = [await fused.data(), await ops.data()];
    if (exact) expect(Array.from(f)).toEqual(Array.from(o));
    else f.forEach((v, i) => expect(Math.abs(v - o[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(o[i]))));
  });
});

describe("pointwise refuses", () => {
  beforeAll(async () => setBackend(await referenceBackend.make()));
  const x = () => fromValues([1, 2, 3], [3], "float32");

  it("inputs of other shapes or dtypes, integers, and programs that do not add up", () => {
    expect(() => pointwise([x(), fromValues([1, 2], [2], "float32")], (a, b) => a.add(b))).toThrow("pointwise: input 1 has shape [2], another [3]; the inputs must have one shape (or none: a 0-d tensor)");
    expect(() => pointwise([x(), fromValues([1, 2, 3], [3], "float64")], (a, b) => a.add(b))).toThrow("pointwise: input 1 is float64, the others float32");
    expect(() => pointwise([fromValues([1], [1], "int32")], (a) => a.neg())).toThrow("pointwise: needs floating inputs, got int32");
    expect(() => dispatch("pointwise", [x()], { program: "x0 add", scalars: [] })).toThrow('pointwise: program "x0 add": "add" needs two operands');
    expect(() => dispatch("pointwise", [x()], { program: "x0 c1 mul", scalars: [2] })).toThrow('"c1" refers past the 1 constants given');
    expect(() => dispatch("pointwise", [x()], { program: "x0 x0", scalars: [] })).toThrow("leaves 2 values, not one");
    expect(() => pointwiseStack([x()], (a) => [a.neg()])).toThrow("pointwiseStack: the expressions must be a list of two or more");
    expect(() => pointwise([x()], ((a: PointwiseExpr) => [a, a]) as never)).toThrow("pointwise: the expression must be one value; pointwiseStack takes a list");
    expect(() => dispatch("pointwiseSum", [x()], { program: "x0;x0 neg", scalars: [] })).toThrow('pointwiseSum: takes one expression, got "x0;x0 neg"');
  });

});
