// The functional API: every primitive with friendly arguments, and the composites built on them.
// Composites (mean, variance, stack, indexSelect, oneHot, …) need no kernel and no gradient rule.
import { isFloating, type DType } from "./dtype.js";
import { dispatch } from "./engine.js";
import { check, fmt } from "./errors.js";
import { fromValues } from "./creation.js";
import type { BinaryOp, CompareOp, Conv2dParams, Pool2dParams, UnaryOp } from "./primitives.js";
import { normalizeAxes, normalizeAxis, sizeOf } from "./shape.js";
import type { Tensor } from "./tensor.js";

/** A tensor, or a number that takes the other operand's dtype. */
export type Operand = Tensor | number;

const NONE = {} as Record<string, never>;

function lift(x: Operand, like: Tensor): Tensor {
  return typeof x === "number" ? fromValues([x], [], like.dtype, like.backend) : x;
}

function pairOf(fn: string, v: number | readonly number[], name: string): [number, number] {
  const p = typeof v === "number" ? [v, v] : [...v];
  check(p.length === 2, fn, () => `${name} must be a number or a pair, got ${JSON.stringify(v)}`);
  return p as [number, number];
}

/** Applies a unary primitive. */
export function unary(op: UnaryOp, x: Tensor): Tensor {
  return dispatch(op, [x], NONE);
}

/** Applies a binary primitive, lifting a number to a scalar tensor of the other's dtype. */
export function binary(op: BinaryOp | CompareOp, a: Operand, b: Operand): Tensor {
  check(typeof a !== "number" || typeof b !== "number", op, () => `needs at least one tensor`);
  const like = typeof a === "number" ? (b as Tensor) : a;
  return dispatch(op, [lift(a, like), lift(b, like)], NONE);
}

/**
 * Picks `a` where `cond` is true and `b` elsewhere, broadcasting all three.
 * @example
 * where(x.gt(0), x, 0); // relu
 */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  check(typeof a !== "number" || typeof b !== "number", "where", () => `needs at least one tensor among a and b`);
  const like = typeof a === "number" ? (b as Tensor) : a;
  return dispatch("where", [cond, lift(a, like), lift(b, like)], NONE);
}

/**
 * `g` where `x > 0`, else 0 (broadcast): the ReLU's gradient given its input or output `x`, in one
 * pass instead of a comparison and a `where`.
 * @example
 * reluMask(grad, x); // where(x.gt(0), grad, 0)
 */
export function reluMask(g: Tensor, x: Operand): Tensor {
  return binary("reluMask", g, x);
}

/**
 * Converts to another dtype (float → int truncates toward zero; anything → bool is `≠ 0`).
 * @example
 * cast(mask, "float32");
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  return dispatch("cast", [x], { dtype });
}

/** Which axes to reduce: one, several, or all when omitted. */
export type Axes = number | readonly number[] | undefined;

/**
 * Sum over `axes` (all when omitted).
 * @example
 * sum(x, 1, true); // [N,1]
 */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return dispatch("sum", [x], { axes: normalizeAxes("sum", axes, x.rank), keepDims });
}

/**
 * Maximum over `axes` (all when omitted). Its gradient is shared equally among ties.
 * @example
 * max(x, -1, true);
 */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return dispatch("max", [x], { axes: normalizeAxes("max", axes, x.rank), keepDims });
}

/**
 * Minimum over `axes` (all when omitted).
 * @example
 * min(x, 0);
 */
export function min(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return dispatch("min", [x], { axes: normalizeAxes("min", axes, x.rank), keepDims });
}

function argReduce(op: "argmax" | "argmin", x: Tensor, axis: number | undefined, keepDims: boolean): Tensor {
  if (axis === undefined) return dispatch(op, [reshape(x, [x.size])], { axis: 0, keepDims: false });
  return dispatch(op, [x], { axis: normalizeAxis(op, axis, x.rank), keepDims });
}

/**
 * Index of the maximum along `axis` (of the flattened tensor when omitted); the first on ties.
 * @example
 * argmax(logits, 1); // predicted classes, int32
 */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce("argmax", x, axis, keepDims);
}

/**
 * Index of the minimum along `axis` (of the flattened tensor when omitted); the first on ties.
 * @example
 * argmin(x, 0);
 */
export function argmin(x: Tensor, axis?: number, keepDims = false): Tensor {
  return argReduce("argmin", x, axis, keepDims);
}

/**
 * Mean over `axes` (all when omitted).
 * @example
 * mean(x, [0, 2, 3], true);
 */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  check(isFloating(x.dtype), "mean", () => `expected a floating dtype, got ${x.dtype}`);
  const count = normalizeAxes("mean", axes, x.rank).reduce((n, a) => n * x.shape[a], 1);
  return sum(x, axes, keepDims).div(count);
}

/**
 * Variance over `axes`, dividing by N − `correction` (1 by default, like `torch.var`).
 * @example
 * variance(x, [0, 2, 3], true, 0); // biased, as BatchNorm uses
 */
export function variance(x: Tensor, axes?: Axes, keepDims = false, correction = 1): Tensor {
  check(isFloating(x.dtype), "variance", () => `expected a floating dtype, got ${x.dtype}`);
  const count = normalizeAxes("variance", axes, x.rank).reduce((n, a) => n * x.shape[a], 1);
  const centred = x.sub(mean(x, axes, true));
  return sum(centred.mul(centred), axes, keepDims).div(Math.max(0, count - correction));
}

/**
 * Sums `x` down to `shape`, undoing a broadcast from `shape` to `x.shape`.
 * @example
 * sumTo(grad, [1, 3]); // from [4,3]
 */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const lead = x.rank - shape.length;
  check(lead >= 0, "sumTo", () => `cannot sum ${fmt(x.shape)} down to ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  const summed = axes.length > 0 ? sum(x, axes, true) : x;
  return reshape(summed, [...shape]);
}

/**
 * A new shape with the same elements; one entry may be −1 and is inferred.
 * @example
 * reshape(x, [2, -1]);
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const free = shape.length - known.length;
  check(free <= 1, "reshape", () => `only one dimension may be -1, got ${fmt(shape)}`);
  check(known.every((d) => Number.isInteger(d) && d >= 0), "reshape", () => `invalid shape ${fmt(shape)}`);
  const rest = sizeOf(known);
  const resolved = shape.map((d) => (d === -1 ? (rest === 0 ? 0 : x.size / rest) : d));
  check(sizeOf(resolved) === x.size && resolved.every(Number.isInteger), "reshape", () => `cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
  return dispatch("reshape", [x], { shape: resolved });
}

/**
 * Reorders the axes: output axis i is input axis `perm[i]`.
 * @example
 * permute(x, [0, 2, 3, 1]); // NCHW → NHWC
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  return dispatch("permute", [x], { perm: perm.map((a) => normalizeAxis("permute", a, x.rank)) });
}

/**
 * Swaps two axes (the last two by default).
 * @example
 * transpose(w); // [in,out] from [out,in]
 */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  const i = normalizeAxis("transpose", a, x.rank);
  const j = normalizeAxis("transpose", b, x.rank);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

/**
 * Broadcasts to `shape` (−1 keeps a dimension); new axes may be added in front.
 * @example
 * expand(tensor([[1], [2]]), [2, 3]);
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.rank;
  const resolved = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  return dispatch("expand", [x], { shape: resolved });
}

/**
 * Inserts an axis of size 1 at `axis`.
 * @example
 * unsqueeze(x, 0); // [1, ...x.shape]
 */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis("unsqueeze", axis < 0 ? axis + x.rank + 1 : axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/**
 * Removes axes of size 1 (the given ones, or all).
 * @example
 * squeeze(x, 1);
 */
export function squeeze(x: Tensor, axes?: Axes): Tensor {
  const list = axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes("squeeze", axes, x.rank);
  check(list.every((a) => x.shape[a] === 1), "squeeze", () => `axes ${fmt(list)} of ${fmt(x.shape)} are not all of size 1`);
  return reshape(x, x.shape.filter((_, i) => !list.includes(i)));
}

/**
 * Flattens axes `start` … `end` into one.
 * @example
 * flatten(x, 1); // [N, C·H·W]
 */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const s = normalizeAxis("flatten", start, x.rank);
  const e = normalizeAxis("flatten", end, x.rank);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** One axis of a slice: `[start, end, step]`, each optional, Python-style (negative counts from the end). */
export type SliceRange = readonly [start?: number | null, end?: number | null, step?: number | null] | number | null | undefined;

/**
 * Takes a strided sub-block. One entry per leading axis: `[start, end, step]` (Python-style, step
 * positive), a number (keeps that index as an axis of size 1), or null (the whole axis).
 * @example
 * slice(x, [[0, 2], null, [0, null, 2]]);
 */
export function slice(x: Tensor, ranges: readonly SliceRange[]): Tensor {
  check(ranges.length <= x.rank, "slice", () => `${ranges.length} ranges for a tensor of rank ${x.rank}`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  x.shape.forEach((d, i) => {
    const r = ranges[i];
    const [s, e, st] = typeof r === "number" ? [r, r === -1 ? d : r + 1, 1] : (r ?? []);
    const step = st ?? 1;
    check(Number.isInteger(step) && step > 0, "slice", () => `step must be a positive integer, got ${step}`);
    const clamp = (v: number) => Math.min(d, Math.max(0, v < 0 ? v + d : v));
    if (typeof r === "number") check(r >= -d && r < d, "slice", () => `index ${r} is out of range for axis ${i} of ${fmt(x.shape)}`);
    const start = clamp(s ?? 0);
    starts.push(start);
    ends.push(Math.max(start, clamp(e ?? d)));
    steps.push(step);
  });
  return dispatch("slice", [x], { starts, ends, steps });
}

/**
 * Pads with a constant: `widths[i] = [before, after]` for leading axes; `interior` inserts that
 * many values between neighbours along each axis (used to undo a strided slice).
 * @example
 * pad(x, [[0, 0], [0, 0], [1, 1], [1, 1]]); // one pixel of zeros around an image batch
 */
export function pad(x: Tensor, widths: readonly (readonly [number, number])[], value = 0, interior?: readonly number[]): Tensor {
  check(widths.length <= x.rank, "pad", () => `${widths.length} widths for a tensor of rank ${x.rank}`);
  const before = x.shape.map((_, i) => widths[i]?.[0] ?? 0);
  const after = x.shape.map((_, i) => widths[i]?.[1] ?? 0);
  const inner = x.shape.map((_, i) => interior?.[i] ?? 0);
  return dispatch("pad", [x], { before, after, interior: inner, value });
}

/**
 * Joins tensors along an existing axis.
 * @example
 * concat([a, b], 0);
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  check(xs.length > 0, "concat", () => `needs at least one tensor`);
  return dispatch("concat", xs, { axis: normalizeAxis("concat", axis, xs[0].rank) });
}

/**
 * Joins tensors of one shape along a new axis.
 * @example
 * stack([a, b]); // [2, ...a.shape]
 */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  check(xs.length > 0, "stack", () => `needs at least one tensor`);
  return concat(xs.map((x) => unsqueeze(x, axis)), axis < 0 ? axis + xs[0].rank + 1 : axis);
}

/**
 * Matrix product with NumPy semantics: batched over leading axes (broadcast), and a 1-D operand
 * is treated as a row (left) or column (right) vector whose axis is then dropped.
 * @example
 * matmul(x, w); // [N,in] @ [in,out]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  check(a.rank >= 1 && b.rank >= 1, "matmul", () => `needs rank ≥ 1, got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  const a2 = a.rank === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.rank === 1 ? unsqueeze(b, 1) : b;
  let out = dispatch("matmul", [a2, b2], NONE);
  if (a.rank === 1) out = squeeze(out, -2);
  if (b.rank === 1) out = squeeze(out, -1);
  return out;
}

/** Geometry options of a convolution; numbers apply to both height and width. */
export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: number | readonly number[];
  /** Zeros added on each side (default 0). */
  padding?: number | readonly number[];
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Channel groups (default 1). */
  groups?: number;
}

/** Normalises convolution options to pairs. */
export function conv2dParams(fn: string, o: Conv2dOptions = {}): Conv2dParams {
  return {
    stride: pairOf(fn, o.stride ?? 1, "stride"),
    padding: pairOf(fn, o.padding ?? 0, "padding"),
    dilation: pairOf(fn, o.dilation ?? 1, "dilation"),
    groups: o.groups ?? 1,
  };
}

/**
 * 2-D cross-correlation (as `torch.nn.functional.conv2d`, without bias): x [N,C,H,W], w [O,C/groups,kH,kW].
 * A weight [G,O,C/groups,kH,kW] gives each of G equal groups of images its own kernel (w[g] for
 * images g·N/G … (g + 1)·N/G − 1), as G convolutions side by side; its weight gradient is then
 * one per group. m-sharpness runs every group's pass at once this way.
 * @example
 * conv2d(x, w, { padding: 1 });
 * conv2d(x, stacked, { padding: 1 }); // stacked: [G, O, C, 3, 3], x: [G·n, C, H, W]
 */
export function conv2d(x: Tensor, w: Tensor, opts?: Conv2dOptions): Tensor {
  return dispatch("conv2d", [x, w], conv2dParams("conv2d", opts));
}

/**
 * The gradient of conv2d with respect to its input (a transposed convolution of `g` by `w`).
 * @example
 * conv2dBackwardInput(g, w, x.shape, { padding: 1 });
 */
export function conv2dBackwardInput(g: Tensor, w: Tensor, inputShape: readonly number[], opts?: Conv2dOptions): Tensor {
  return dispatch("conv2dBackwardInput", [g, w], { ...conv2dParams("conv2dBackwardInput", opts), inputShape: [...inputShape] });
}

/**
 * The gradient of conv2d with respect to its weight.
 * @example
 * conv2dBackwardWeight(x, g, w.shape, { padding: 1 });
 */
export function conv2dBackwardWeight(x: Tensor, g: Tensor, weightShape: readonly number[], opts?: Conv2dOptions): Tensor {
  return dispatch("conv2dBackwardWeight", [x, g], { ...conv2dParams("conv2dBackwardWeight", opts), weightShape: [...weightShape] });
}

/** Geometry options of a pooling window; the stride defaults to the kernel size. */
export interface Pool2dOptions {
  /** Window size. */
  kernel: number | readonly number[];
  /** Step of the window (default: the kernel size). */
  stride?: number | readonly number[];
  /** Padding on each side (default 0). */
  padding?: number | readonly number[];
}

/** Normalises pooling options to pairs. */
export function pool2dParams(fn: string, o: Pool2dOptions): Pool2dParams {
  const kernel = pairOf(fn, o.kernel, "kernel");
  return { kernel, stride: pairOf(fn, o.stride ?? kernel, "stride"), padding: pairOf(fn, o.padding ?? 0, "padding") };
}

/**
 * 2-D max pooling over [N,C,H,W] (padding counts as −∞).
 * @example
 * maxPool2d(x, { kernel: 2 });
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return dispatch("maxPool2d", [x], pool2dParams("maxPool2d", opts));
}

/**
 * Where each max-pool output came from: the flat index into H·W of its input plane (int32).
 * @example
 * maxPool2dArgmax(x, { kernel: 2 });
 */
export function maxPool2dArgmax(x: Tensor, opts: Pool2dOptions): Tensor {
  return dispatch("maxPool2dArgmax", [x], pool2dParams("maxPool2dArgmax", opts));
}

/**
 * 2-D average pooling over [N,C,H,W]; padding counts as zeros in the average (PyTorch's default).
 * @example
 * avgPool2d(x, { kernel: 2 });
 */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return dispatch("avgPool2d", [x], pool2dParams("avgPool2d", opts));
}

/**
 * The gradient of avgPool2d with respect to its input.
 * @example
 * avgPool2dBackward(g, x.shape, { kernel: 2 });
 */
export function avgPool2dBackward(g: Tensor, inputShape: readonly number[], opts: Pool2dOptions): Tensor {
  return dispatch("avgPool2dBackward", [g], { ...pool2dParams("avgPool2dBackward", opts), inputShape: [...inputShape] });
}

/**
 * `out[i][j] = x[i][index[i][j]]` along `axis` (as `torch.gather`); index is int32.
 * @example
 * gather(logProbs, 1, labels.unsqueeze(1)); // [N,1]
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  return dispatch("gather", [x, index], { axis: normalizeAxis("gather", axis, x.rank) });
}

/**
 * A copy of `target` with `src` added at `index` along `axis` (as `torch.scatter_add`).
 * @example
 * scatterAdd(zeros([3]), 0, tensor([0, 0, 2], { dtype: "int32" }), tensor([1, 1, 1]));
 */
export function scatterAdd(target: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  return dispatch("scatterAdd", [target, index, src], { axis: normalizeAxis("scatterAdd", axis, target.rank) });
}

/**
 * Selects whole slices along `axis` by a 1-D int32 index (as `torch.index_select`).
 * @example
 * indexSelect(x, 0, tensor([2, 0], { dtype: "int32" }));
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  check(index.rank === 1, "indexSelect", () => `index must be 1-D, got ${fmt(index.shape)}`);
  const a = normalizeAxis("indexSelect", axis, x.rank);
  const viewShape = x.shape.map((_, i) => (i === a ? index.size : 1));
  const outShape = x.shape.map((d, i) => (i === a ? index.size : d));
  return gather(x, a, expand(reshape(index, viewShape), outShape));
}

/**
 * One-hot rows for int32 class indices: shape [...index.shape, numClasses]. An index outside
 * [0, numClasses) gives a row of zeros.
 * @example
 * oneHot(labels, 10); // float32
 */
export function oneHot(index: Tensor, numClasses: number, dtype: DType = "float32"): Tensor {
  check(index.dtype === "int32", "oneHot", () => `index must be int32, got ${index.dtype}`);
  check(Number.isInteger(numClasses) && numClasses > 0, "oneHot", () => `numClasses must be a positive integer, got ${numClasses}`);
  const classes = fromValues(Array.from({ length: numClasses }, (_, i) => i), [numClasses], "int32", index.backend);
  return cast(binary("eq", unsqueeze(index, -1), classes), dtype);
}
