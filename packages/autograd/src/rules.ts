// One gradient rule per primitive, written with tensor ops so that backward can itself be recorded.
// A rule gives the vector-Jacobian product for input i; broadcasting is undone by the caller (sumTo).
import {
  avgPool2d, avgPool2dBackward, firstWithAxes, channelAffine, channelDots, channelRow, reluMask, conv2d, conv2dBackwardInput, conv2dBackwardWeight, dispatch, gather, isFloating,
  maxPool2dArgmax, pad, scatterAdd, where, zeros, zerosLike, type OpName, type OpParams, type Tensor,
} from "@sam/tensor";
import { pointwiseVjp } from "./pointwiseGradient.js";

/** The gradient of a primitive's output `y`, pulled back to input `i` (null: no gradient flows). */
export type Vjp<K extends OpName> = (g: Tensor, inputs: readonly Tensor[], y: Tensor, params: OpParams[K], i: number) => Tensor | null;

const none = () => null;

/** 1 where a wins, ½ on ties, 0 where it loses: how maximum/minimum share their gradient. */
function share(winner: Tensor, loser: Tensor): Tensor {
  const dt = winner.dtype;
  return winner.gt(loser).cast(dt).add(winner.eq(loser).cast(dt).mul(0.5));
}

/** The shape of a reduction's output with the reduced axes kept as 1. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Values per channel of an [N, C, …] tensor (over all its images). */
function perChannelCount(x: Tensor): number {
  return x.size / x.shape[1];
}

/** channelAffine's output gradient with the ReLU's zeros applied. */
function passed(g: Tensor, y: Tensor, relu: boolean): Tensor {
  return relu ? reluMask(g, y) : g;
}

/** max/min: the gradient goes to the elements equal to the extreme, split evenly among ties. */
const extreme: Vjp<"max" | "min"> = (g, [x], y, { axes }) => {
  const shape = keptShape(x.shape, axes);
  const hit = x.eq(y.reshape(shape)).cast(x.dtype);
  return hit.mul(g.reshape(shape)).div(hit.sum(axes, true));
};

/** Every primitive's gradient rule; tsc fails until every op has one. */
export const vjps: { [K in OpName]: Vjp<K> } = {
  neg: (g) => g.neg(), //                                d(−x) = −dx
  abs: (g, [x]) => g.mul(x.sign()), //                   d|x| = sign x · dx
  sign: none, //                                         piecewise constant
  exp: (g, _, y) => g.mul(y), //                         d(eˣ) = eˣ · dx
  log: (g, [x]) => g.div(x), //                          d(ln x) = dx / x
  sqrt: (g, _, y) => g.div(y.mul(2)), //                 d(√x) = dx / (2√x)
  sin: (g, [x]) => g.mul(x.cos()), //                    d(sin x) = cos x · dx
  cos: (g, [x]) => g.mul(x.sin()).neg(), //              d(cos x) = −sin x · dx
  tanh: (g, _, y) => g.mul(y.mul(y).neg().add(1)), //    d(tanh x) = (1 − tanh² x) · dx
  sigmoid: (g, _, y) => g.mul(y.mul(y.neg().add(1))), // dσ = σ(1 − σ) · dx
  relu: (g, [x]) => reluMask(g, x), //                   d relu = [x > 0] · dx (0 where x ≤ 0, as PyTorch)

  add: (g) => g, //                                               d(a + b) = da + db
  sub: (g, _, __, ___, i) => (i === 0 ? g : g.neg()), //          d(a − b) = da − db
  mul: (g, [a, b], _, __, i) => g.mul(i === 0 ? b : a), //        d(ab) = b·da + a·db
  div: (g, [, b], y, _, i) => (i === 0 ? g.div(b) : g.mul(y).div(b).neg()), // d(a/b) = da/b − (a/b)/b·db
  pow: (g, [a, b], y, _, i) => {
    if (i === 0) return g.mul(b).mul(a.pow(b.sub(1))); //        ∂(aᵇ)/∂a = b·aᵇ⁻¹
    const positive = a.gt(0); //                                 ∂(aᵇ)/∂b = aᵇ·ln a, taken as 0 where a ≤ 0
    return where(positive, g.mul(y).mul(where(positive, a, 1).log()), 0);
  },
  maximum: (g, [a, b], _, __, i) => g.mul(i === 0 ? share(a, b) : share(b, a)),
  minimum: (g, [a, b], _, __, i) => g.mul(i === 0 ? share(b, a) : share(a, b)),
  reluMask: (g, [, b], _, __, i) => (i === 0 ? reluMask(g, b) : null), // linear in a; piecewise constant in b
  eq: none, ne: none, lt: none, le: none, gt: none, ge: none,

  where: (g, [c], _, __, i) => (i === 0 ? null : i === 1 ? where(c, g, 0) : where(c, 0, g)),
  cast: (g, [x]) => (isFloating(x.dtype) ? g.cast(x.dtype) : null),

  sum: (g, [x], _, { axes }) => g.reshape(keptShape(x.shape, axes)).expand(x.shape), // d Σx = Σ dx
  max: extreme,
  min: extreme,
  argmax: none,
  argmin: none,

  reshape: (g, [x]) => g.reshape(x.shape),
  permute: (g, _, __, { perm }) => g.permute(perm.map((_, i) => perm.indexOf(i))),
  expand: (g) => g, // the caller sums the broadcast axes away
  slice: (g, [x], _, { starts, steps }) => {
    const before = [...starts];
    const after = x.shape.map((d, i) => (g.shape[i] === 0 ? d - starts[i] : d - (starts[i] + (g.shape[i] - 1) * steps[i] + 1)));
    return pad(g, before.map((b, i) => [b, after[i]]), 0, steps.map((s) => s - 1));
  },
  pad: (g, [x], _, { before, interior }) => {
    const steps = interior.map((v) => v + 1);
    const ends = x.shape.map((d, i) => (d === 0 ? before[i] : before[i] + (d - 1) * steps[i] + 1));
    return dispatch("slice", [g], { starts: [...before], ends, steps });
  },
  concat: (g, inputs, _, { axis }, i) => {
    const start = inputs.slice(0, i).reduce((s, t) => s + t.shape[axis], 0);
    const starts = g.shape.map((_, d) => (d === axis ? start : 0));
    const ends = g.shape.map((n, d) => (d === axis ? start + inputs[i].shape[axis] : n));
    return dispatch("slice", [g], { starts, ends, steps: g.shape.map(() => 1) });
  },

  matmul: (g, [a, b], _, __, i) => (i === 0 ? g.matmul(b.transpose()) : a.transpose().matmul(g)), // d(AB) = dA·B + A·dB
  conv2d: (g, [x, w], _, p, i) => (i === 0 ? conv2dBackwardInput(g, w, x.shape, p) : conv2dBackwardWeight(x, g, w.shape, p)),
  // conv2dBackwardInput(d, w) is linear in each argument: its adjoints are conv2d and conv2dBackwardWeight
  conv2dBackwardInput: (g, [d, w], _, p, i) => (i === 0 ? conv2d(g, w, p) : conv2dBackwardWeight(g, d, w.shape, p)),
  // conv2dBackwardWeight(x, d) likewise: its adjoints are conv2dBackwardInput and conv2d
  conv2dBackwardWeight: (g, [x, d], _, p, i) => (i === 0 ? conv2dBackwardInput(d, g, x.shape, p) : conv2d(x, g, p)),

  maxPool2d: (g, [x], _, p) => {
    // route each output's gradient to the input element it came from, through scatterAdd
    const [n, c, h, w] = x.shape;
    const from = maxPool2dArgmax(x, p).reshape([n, c, -1]);
    const plane = zeros([n, c, h * w], { dtype: x.dtype, backend: x.backend });
    return scatterAdd(plane, 2, from, g.reshape([n, c, -1])).reshape(x.shape);
  },
  maxPool2dArgmax: none,
  avgPool2d: (g, [x], _, p) => avgPool2dBackward(g, x.shape, p),
  avgPool2dBackward: (g, _, __, p) => avgPool2d(g, p), // the adjoint of an adjoint

  gather: (g, [x, index], _, { axis }, i) =>
    i === 0 ? scatterAdd(zeros([...x.shape], { dtype: x.dtype, backend: x.backend }), axis, index, g) : null,
  scatterAdd: (g, [, index], _, { axis }, i) => (i === 0 ? g : i === 2 ? gather(g, axis, index) : null),

  // mean = Σx/n, var = Σ(x − mean)²/n: dx = dmean/n + dvar·2(x − mean)/n, as one affine map of x
  channelMoments: (g, [x], y, { groups }) => {
    const n = perChannelCount(x) / (groups ?? 1);
    return channelAffine(x, channelRow(g, 1).mul(2 / n), channelRow(g, 0).div(n), { center: channelRow(y, 0) });
  },
  // Σg and Σg·(x − m): d/dg = h₀ + h₁·(x − m), d/dx = h₁·g, d/dm = −h₁·Σg
  channelDots: (h, [g, x, center], y, _, i) =>
    i === 0 ? channelAffine(x, channelRow(h, 1), channelRow(h, 0), { center })
    : i === 1 ? channelAffine(g, channelRow(h, 1), zerosLike(channelRow(h, 0)))
    : channelRow(h, 1).mul(channelRow(y, 0)).neg(),
  // y = act((x − m)·s + t + r·u): with g' the gradient through act, dx = g'·s, dm = −s·Σg',
  // ds = Σg'·(x − m) = Σg'·x − m·Σg', dt = Σg', dr = g'·u, du = Σg'·r
  channelAffine: (g, [x, center, scale, , addend, addendScale], y, { relu }, i) => {
    const gp = passed(g, y, relu);
    const zero = zerosLike(scale);
    if (i === 0) return channelAffine(gp, scale, zero);
    if (i === 4) return channelAffine(gp, addendScale, zero);
    if (i === 5) return channelRow(channelDots(gp, addend, zero), 1);
    const dots = channelDots(gp, x, center);
    if (i === 1) return channelRow(dots, 0).mul(scale).neg();
    return channelRow(dots, i === 2 ? 1 : 0);
  },
  // the program differentiated symbolically, into one pointwise pass per input
  pointwise: (g, inputs, _, params, i) => pointwiseVjp(g, inputs, params, i),
  // Σ expr: each element's derivative times the one output gradient, over the elementwise shape
  pointwiseSum: (g, inputs, _, params, i) => {
    const d = pointwiseVjp(g, inputs, params, i);
    const shape = firstWithAxes(inputs).shape;
    return d && d.shape.length < shape.length ? d.expand(shape) : d;
  },
};
