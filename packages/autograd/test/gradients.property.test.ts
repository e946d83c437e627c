// Every differentiable primitive's gradient rule against central finite differences in float64,
// over random shapes (broadcasting included), random parameters and random values.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  conv2d, conv2dBackwardInput, conv2dBackwardWeight, avgPool2d, avgPool2dBackward, dispatch, Generator, maxPool2d, randn,
  pointwise, pointwiseSum, setBackend, shapeRules, tensor, where, channelAffine, channelDots, channelMoments, gather, scatterAdd, windowOutSize, type OpName, type Tensor,
} from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { checkGrad } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

/** A case: the function of float64 inputs to differentiate, and the inputs. */
interface Case {
  f: (...xs: Tensor[]) => Tensor;
  inputs: Tensor[];
}

const dim = fc.integer({ min: 1, max: 4 });
const shape = fc.array(dim, { minLength: 0, maxLength: 3 });
const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });

/** Random normal values; `positive` keeps them away from 0 (for log, sqrt, pow and division). */
function values(s: readonly number[], g: Generator, positive = false): Tensor {
  const x = randn([...s], { dtype: "float64", generator: g });
  return positive ? x.abs().add(0.5) : x;
}

/** A shape that broadcasts to `s`: some leading axes dropped, some axes set to 1. */
function broadcastable(s: readonly number[], mask: number): number[] {
  const drop = mask % (s.length + 1);
  return s.slice(drop).map((d, i) => ((mask >> (i + 2)) & 1 ? 1 : d));
}

const unaryCase = (op: OpName, positive = false) =>
  fc.record({ s: shape, seed }).map(({ s, seed }): Case => ({
    f: (x) => dispatch(op, [x], {} as never),
    inputs: [values(s, new Generator(seed), positive)],
  }));

const binaryCase = (op: OpName) =>
  fc.record({ s: shape, mask: fc.nat(63), swap: fc.boolean(), seed }).map(({ s, mask, swap, seed }): Case => {
    const g = new Generator(seed);
    const shapes = swap ? [broadcastable(s, mask), s] : [s, broadcastable(s, mask)];
    const positive = op === "pow" || op === "div";
    return {
      f: (a, b) => dispatch(op, [a, b], {} as never),
      inputs: [values(shapes[0], g, op === "pow"), values(shapes[1], g, positive && op === "div")],
    };
  });

/**
 * A smooth expression of a positive tensor, another tensor and a 0-d one, through pointwise or
 * pointwiseSum (max, min and abs are checked against the tensor ops' gradients in the conformance suite,
 * away from the kinks a finite difference would straddle).
 */
const expressionCase = (through: typeof pointwise) =>
  fc.record({ s: shape, seed }).map(({ s, seed }): Case => {
    const g = new Generator(seed);
    return {
      f: (a, b, c) => through([a, b, c], (a, b, c) => a.sqrt().mul(b).add(b.div(a)).sub(c.mul(a)).neg()),
      inputs: [values(s, g, true), values(s, g), values([], g)],
    };
  });

/**
 * [N, C, …] shapes: rank 2 to 4, with per-channel operands [C] (groups 0) or [groups, C], a row per
 * group of images (the batch made a multiple of groups).
 */
const channelled = fc.record({ s: fc.array(dim, { minLength: 2, maxLength: 4 }), groups: fc.integer({ min: 0, max: 2 }), seed })
  .map(({ s, groups, seed }) => ({ s: [s[0] * Math.max(1, groups), ...s.slice(1)], rows: groups > 0 ? [groups, s[1]] : [s[1]], groups, seed }));

const axesOf = (s: readonly number[], mask: number) => s.map((_, i) => i).filter((i) => (mask >> i) & 1);

const reduceCase = (op: "sum" | "max" | "min") =>
  fc.record({ s: shape, mask: fc.nat(7), keepDims: fc.boolean(), seed }).map(({ s, mask, keepDims, seed }): Case => ({
    f: (x) => dispatch(op, [x], { axes: axesOf(s, mask), keepDims }),
    inputs: [values(s, new Generator(seed))],
  }));

// imageGroups 0: a weight [O, C/groups, kH, kW]; else one kernel per group of images
const conv = fc.record({
  n: fc.integer({ min: 1, max: 2 }), imageGroups: fc.integer({ min: 0, max: 2 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 2 }),
  og: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 3, max: 6 }), w: fc.integer({ min: 3, max: 6 }),
  kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }),
  padding: fc.integer({ min: 0, max: 1 }), dilation: fc.integer({ min: 1, max: 2 }), seed,
}).filter((c) => windowOutSize(c.h, c.kh, c.stride, c.padding, c.dilation) > 0 && windowOutSize(c.w, c.kw, c.stride, c.padding, c.dilation) > 0)
  .map((c) => {
    const g = new Generator(c.seed);
    const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
    const x = values([c.n * Math.max(1, c.imageGroups), c.cg * c.groups, c.h, c.w], g);
    const w = values([...(c.imageGroups > 0 ? [c.imageGroups] : []), c.og * c.groups, c.cg, c.kh, c.kw], g);
    const y = conv2d(x, w, opts);
    return { x, w, dy: values([...y.shape], g), opts };
  });

const pool = fc.record({
  n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 2, max: 6 }), w: fc.integer({ min: 2, max: 6 }),
  kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 3 }),
  padding: fc.integer({ min: 0, max: 1 }), seed,
}).filter((p) => p.padding * 2 <= Math.min(p.kh, p.kw) && p.kh <= p.h + 2 * p.padding && p.kw <= p.w + 2 * p.padding)
  .map((p) => ({
    x: values([p.n, p.c, p.h, p.w], new Generator(p.seed)),
    opts: { kernel: [p.kh, p.kw], stride: p.stride, padding: p.padding },
  }));

const cases: Partial<Record<OpName, fc.Arbitrary<Case>>> = {
  neg: unaryCase("neg"), abs: unaryCase("abs"), exp: unaryCase("exp"), log: unaryCase("log", true),
  sqrt: unaryCase("sqrt", true), sin: unaryCase("sin"), cos: unaryCase("cos"), tanh: unaryCase("tanh"),
  sigmoid: unaryCase("sigmoid"), relu: unaryCase("relu"),
  add: binaryCase("add"), sub: binaryCase("sub"), mul: binaryCase("mul"), div: binaryCase("div"),
  pow: binaryCase("pow"), maximum: binaryCase("maximum"), minimum: binaryCase("minimum"), reluMask: binaryCase("reluMask"),
  sum: reduceCase("sum"), max: reduceCase("max"), min: reduceCase("min"),
  where: fc.record({ s: shape, mask: fc.nat(63), seed }).map(({ s, mask, seed }): Case => {
    const g = new Generator(seed);
    const cond = values(broadcastable(s, mask), g).gt(0);
    return { f: (a, b) => where(cond, a, b), inputs: [values(s, g), values(broadcastable(s, mask >> 1), g)] };
  }),
  cast: unaryCase("neg").map((c): Case => ({ f: (x) => x.cast("float64").cast("float64"), inputs: c.inputs })),
  reshape: fc.record({ s: shape, seed }).map(({ s, seed }): Case => ({
    f: (x) => x.reshape([-1]).reshape([...s].reverse()), inputs: [values(s, new Generator(seed))],
  })),
  permute: fc.record({ s: shape, seed, keys: fc.array(fc.double({ noNaN: true }), { minLength: 3, maxLength: 3 }) }).map(({ s, seed, keys }): Case => {
    const perm = s.map((_, i) => i).sort((a, b) => keys[a] - keys[b]);
    return { f: (x) => x.permute(perm), inputs: [values(s, new Generator(seed))] };
  }),
  expand: fc.record({ s: shape, mask: fc.nat(63), seed }).map(({ s, mask, seed }): Case => ({
    f: (x) => x.expand(s), inputs: [values(broadcastable(s, mask), new Generator(seed))],
  })),
  slice: fc.record({ s: shape, seed, r: fc.array(fc.tuple(fc.nat(5), fc.nat(5), fc.integer({ min: 1, max: 3 })), { minLength: 3, maxLength: 3 }) })
    .map(({ s, seed, r }): Case => {
      const starts = s.map((d, i) => Math.min(d, r[i][0]));
      const ends = s.map((d, i) => Math.min(d, Math.max(starts[i], r[i][1])));
      return { f: (x) => dispatch("slice", [x], { starts, ends, steps: s.map((_, i) => r[i][2]) }), inputs: [values(s, new Generator(seed))] };
    }),
  pad: fc.record({ s: shape, seed, w: fc.array(fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2)), { minLength: 3, maxLength: 3 }) })
    .map(({ s, seed, w }): Case => ({
      f: (x) => dispatch("pad", [x], { before: s.map((_, i) => w[i][0]), after: s.map((_, i) => w[i][1]), interior: s.map((_, i) => w[i][2]), value: 0.5 }),
      inputs: [values(s, new Generator(seed))],
    })),
  concat: fc.record({ s: fc.array(dim, { minLength: 1, maxLength: 3 }), axis: fc.nat(2), sizes: fc.array(fc.nat(3), { minLength: 2, maxLength: 3 }), seed })
    .map(({ s, axis, sizes, seed }): Case => {
      const a = axis % s.length;
      const g = new Generator(seed);
      return { f: (...xs) => dispatch("concat", xs, { axis: a }), inputs: sizes.map((n) => values(s.map((d, i) => (i === a ? n : d)), g)) };
    }),
  matmul: fc.record({ batch: fc.array(dim, { maxLength: 2 }), mask: fc.nat(63), m: dim, k: dim, n: dim, seed })
    .map(({ batch, mask, m, k, n, seed }): Case => {
      const g = new Generator(seed);
      return { f: (a, b) => a.matmul(b), inputs: [values([...batch, m, k], g), values([...broadcastable(batch, mask), k, n], g)] };
    }),
  conv2d: conv.map(({ x, w, opts }): Case => ({ f: (a, b) => conv2d(a, b, opts), inputs: [x, w] })),
  conv2dBackwardInput: conv.map(({ x, w, dy, opts }): Case => ({ f: (g, b) => conv2dBackwardInput(g, b, x.shape, opts), inputs: [dy, w] })),
  conv2dBackwardWeight: conv.map(({ x, w, dy, opts }): Case => ({ f: (a, g) => conv2dBackwardWeight(a, g, w.shape, opts), inputs: [x, dy] })),
  maxPool2d: pool.map(({ x, opts }): Case => ({ f: (a) => maxPool2d(a, opts), inputs: [x] })),
  avgPool2d: pool.map(({ x, opts }): Case => ({ f: (a) => avgPool2d(a, opts), inputs: [x] })),
  avgPool2dBackward: pool.map(({ x, opts }): Case => {
    const y = avgPool2d(x, opts);
    return { f: (g) => avgPool2dBackward(g, x.shape, opts), inputs: [values([...y.shape], new Generator(1))] };
  }),
  gather: fc.record({ s: fc.array(dim, { minLength: 1, maxLength: 3 }), axis: fc.nat(2), k: dim, seed }).map(({ s, axis, k, seed }): Case => {
    const a = axis % s.length;
    const g = new Generator(seed);
    const idxShape = s.map((d, i) => (i === a ? k : d));
    const index = tensor(Array.from({ length: idxShape.reduce((p, d) => p * d, 1) }, () => g.nextUint32() % s[a]), { dtype: "int32", shape: idxShape });
    return { f: (x) => gather(x, a, index), inputs: [values(s, g)] };
  }),
  scatterAdd: fc.record({ s: fc.array(dim, { minLength: 1, maxLength: 3 }), axis: fc.nat(2), k: dim, seed }).map(({ s, axis, k, seed }): Case => {
    const a = axis % s.length;
    const g = new Generator(seed);
    const idxShape = s.map((d, i) => (i === a ? k : d));
    const index = tensor(Array.from({ length: idxShape.reduce((p, d) => p * d, 1) }, () => g.nextUint32() % s[a]), { dtype: "int32", shape: idxShape });
    return { f: (t, src) => scatterAdd(t, a, index, src), inputs: [values(s, g), values(idxShape, g)] };
  }),
  pointwise: expressionCase(pointwise),
  pointwiseSum: expressionCase(pointwiseSum),
  channelMoments: channelled.map(({ s, groups, seed }): Case => ({ f: (x) => channelMoments(x, groups || undefined), inputs: [values(s, new Generator(seed))] })),
  channelDots: channelled.map(({ s, rows, seed }): Case => {
    const g = new Generator(seed);
    return { f: (dy, x, m) => channelDots(dy, x, m), inputs: [values(s, g), values(s, g), values(rows, g)] };
  }),
  channelAffine: fc.record({ c: channelled, addend: fc.boolean(), relu: fc.boolean() }).map(({ c: { s, rows, seed }, addend, relu }): Case => {
    const g = new Generator(seed);
    const perChannel = () => values(rows, g);
    const inputs = [values(s, g), perChannel(), perChannel(), perChannel(), ...(addend ? [values(s, g), perChannel()] : [])];
    return {
      f: (x, center, scale, shift, r, u) => channelAffine(x, scale, shift, { center, addend: r, addendScale: u, relu }),
      inputs,
    };
  }),
};

/** Primitives whose output is piecewise constant or not floating: no gradient flows through them. */
const notDifferentiable = new Set<OpName>(["sign", "eq", "ne", "lt", "le", "gt", "ge", "argmax", "argmin", "maxPool2dArgmax"]);

describe("gradient rules against finite differences (float64)", () => {
  it("cover every differentiable primitive", () => {
    const missing = (Object.keys(shapeRules) as OpName[]).filter((op) => !notDifferentiable.has(op) && !cases[op]);
    expect(missing).toEqual([]);
  });

  it.each(Object.entries(cases))("%s", async (_op, arb) => {
    await fc.assert(
      fc.asyncProperty(arb!, async ({ f, inputs }) => {
        const r = await checkGrad(f, inputs, { atol: 1e-6, rtol: 1e-5 });
        if (!r.ok) throw new Error(`gradient mismatch: ${JSON.stringify(r.worst)}`);
      }),
      { numRuns: 30 },
    );
  });
});
