// The closed set of primitive ops: each one's name, typed parameters and shape rule, in one place.
// Everything else in the framework is composed from these.
import { isFloating, type DType } from "./dtype.js";
import { check, fmt, SamError } from "./errors.js";
import { parsePointwise, pointwiseParts } from "./pointwiseProgram.js";
import { broadcastShapes, sameShape, sizeOf, type Shape } from "./shape.js";

// The elementwise families, each declared once: the op names (from which the types, the lists and
// the backends' kernel rows are derived) and whether each op needs a floating dtype.

/** The unary ops, each with whether it needs a floating dtype. */
export const UNARY_FAMILY = {
  /** −x */ neg: false,
  /** |x| */ abs: false,
  /** −1, 0 or 1 */ sign: false,
  /** eˣ */ exp: true,
  /** ln x */ log: true,
  /** √x */ sqrt: true,
  /** sin x */ sin: true,
  /** cos x */ cos: true,
  /** tanh x */ tanh: true,
  /** 1 / (1 + e⁻ˣ) */ sigmoid: true,
  /** max(x, 0) */ relu: false,
} as const satisfies Record<string, boolean>;
/** The binary arithmetic ops, each with whether it needs a floating dtype. */
export const BINARY_FAMILY = {
  /** a + b */ add: false,
  /** a − b */ sub: false,
  /** a · b */ mul: false,
  /** a / b */ div: true,
  /** aᵇ */ pow: true,
  /** max(a, b) */ maximum: false,
  /** min(a, b) */ minimum: false,
  /** a where b > 0, else 0: the ReLU's gradient a given its input or output b, in one pass */ reluMask: true,
} as const satisfies Record<string, boolean>;
/** The comparisons, each with whether it needs a floating dtype (none does). */
export const COMPARE_FAMILY = {
  /** a = b */ eq: false,
  /** a ≠ b */ ne: false,
  /** a < b */ lt: false,
  /** a ≤ b */ le: false,
  /** a > b */ gt: false,
  /** a ≥ b */ ge: false,
} as const satisfies Record<string, boolean>;

/** Elementwise ops of one input. */
export type UnaryOp = keyof typeof UNARY_FAMILY;
/** Elementwise arithmetic of two broadcast inputs. */
export type BinaryOp = keyof typeof BINARY_FAMILY;
/** Elementwise comparisons of two broadcast inputs; the result is `bool`. */
export type CompareOp = keyof typeof COMPARE_FAMILY;
/** Reductions over a set of axes. */
export type ReduceOp = "sum" | "max" | "min";
/** Index-of-extreme reductions over one axis; the result is `int32`. */
export type ArgReduceOp = "argmax" | "argmin";

/** Every unary op name, in a fixed order. */
export const UNARY_OPS = Object.keys(UNARY_FAMILY) as UnaryOp[];
/** Every binary op name, in a fixed order. */
export const BINARY_OPS = Object.keys(BINARY_FAMILY) as BinaryOp[];
/** Every comparison op name, in a fixed order. */
export const COMPARE_OPS = Object.keys(COMPARE_FAMILY) as CompareOp[];

/** The three families in one table, made once: every elementwise op's shape rule asks it. */
const FLOAT_ONLY: Record<string, boolean> = { ...UNARY_FAMILY, ...BINARY_FAMILY, ...COMPARE_FAMILY };

/** Whether an elementwise op needs a floating (float32/float64) dtype. */
export function floatOnly(op: UnaryOp | BinaryOp | CompareOp): boolean {
  return FLOAT_ONLY[op];
}

/**
 * One row per op of a family, `{ [op]: make(op) }`: how a backend fills its kernel table (and the
 * shape rules theirs) for a whole family at once.
 * @example
 * const rows = familyRows(UNARY_OPS, (op) => unaryKernel(op)); // { neg: …, abs: …, … }
 */
export function familyRows<K extends string, V>(ops: readonly K[], make: (op: K) => V): Record<K, V> {
  return Object.fromEntries(ops.map((op) => [op, make(op)])) as Record<K, V>;
}

/** Geometry of a 2-D convolution, normalised to pairs (height, width). */
export interface Conv2dParams {
  /** Step of the window. */
  stride: [number, number];
  /** Zeros added on each side. */
  padding: [number, number];
  /** Spacing between kernel taps. */
  dilation: [number, number];
  /** Channel groups: input and output channels split into this many independent convolutions. */
  groups: number;
}

/** Geometry of a 2-D pooling window, normalised to pairs (height, width). */
export interface Pool2dParams {
  /** Window size. */
  kernel: [number, number];
  /** Step of the window. */
  stride: [number, number];
  /** Padding on each side (−∞ for max pooling, zeros for average pooling). */
  padding: [number, number];
}

/** Parameters of a reduction over several axes. */
export interface ReduceParams {
  /** The reduced axes, sorted and distinct. */
  axes: number[];
  /** Keep reduced axes as size 1. */
  keepDims: boolean;
}

/** Parameters of an index-of-extreme reduction. */
export interface ArgReduceParams {
  /** The reduced axis. */
  axis: number;
  /** Keep the reduced axis as size 1. */
  keepDims: boolean;
}

/** Parameters of a strided slice. */
export interface SliceParams {
  /** First index per axis. */
  starts: number[];
  /** End (exclusive) per axis. */
  ends: number[];
  /** Positive step per axis. */
  steps: number[];
}

/** Parameters of a constant pad. */
export interface PadParams {
  /** Values added before each axis. */
  before: number[];
  /** Values added after each axis. */
  after: number[];
  /** Values added between neighbours along each axis. */
  interior: number[];
  /** The padding value. */
  value: number;
}

/** Parameters naming one axis. */
export interface AxisParams {
  /** The axis. */
  axis: number;
}

/** Parameters naming a shape. */
export interface ShapeParams {
  /** The shape. */
  shape: number[];
}

/** Parameters of each primitive, keyed by its name. */
export type OpParams = { [K in UnaryOp | BinaryOp | CompareOp]: Record<string, never> } & {
  [K in ReduceOp]: ReduceParams;
} & {
  [K in ArgReduceOp]: ArgReduceParams;
} & OtherOpParams;

/** Parameters of the primitives that are not elementwise or reductions. */
export interface OtherOpParams {
  /** `where(cond, a, b)`: no parameters. */
  where: Record<string, never>;
  /** The target dtype. */
  cast: {
    /** The target dtype. */
    dtype: DType;
  };
  /** The new shape (same element count). */
  reshape: ShapeParams;
  /** Output axis i is input axis `perm[i]`. */
  permute: {
    /** The permutation. */
    perm: number[];
  };
  /** The broadcast target shape. */
  expand: ShapeParams;
  /** Per axis: first index, end (exclusive) and positive step. */
  slice: SliceParams;
  /** Per axis: values added before, after and between neighbours. */
  pad: PadParams;
  /** The axis along which the inputs are joined. */
  concat: AxisParams;
  /** Batched matrix product: no parameters. */
  matmul: Record<string, never>;
  /** Convolution geometry. */
  conv2d: Conv2dParams;
  /** Convolution geometry and the shape of the convolution's input. */
  conv2dBackwardInput: Conv2dParams & {
    /** The convolution's input shape. */
    inputShape: number[];
  };
  /** Convolution geometry and the shape of the convolution's weight. */
  conv2dBackwardWeight: Conv2dParams & {
    /** The convolution's weight shape. */
    weightShape: number[];
  };
  /** Pooling geometry. */
  maxPool2d: Pool2dParams;
  /** Pooling geometry. */
  maxPool2dArgmax: Pool2dParams;
  /** Pooling geometry. */
  avgPool2d: Pool2dParams;
  /** Pooling geometry and the shape of the pooling's input. */
  avgPool2dBackward: Pool2dParams & {
    /** The pooling's input shape. */
    inputShape: number[];
  };
  /** The indexed axis. */
  gather: AxisParams;
  /** The indexed axis. */
  scatterAdd: AxisParams;
  /** Per-channel mean and biased variance: no parameters. */
  channelMoments: ChannelMomentsParams;
  /** Per-channel Σg and Σg·(x − center): no parameters. */
  channelDots: Record<string, never>;
  /** Per-channel affine map about a center, then ReLU or not. */
  channelAffine: ChannelAffineParams;
  /** An arithmetic expression of the inputs, elementwise. */
  pointwise: PointwiseParams;
  /** The sum of such an expression over every element. */
  pointwiseSum: PointwiseParams;
}

/** Parameters of `pointwise`. */
export interface PointwiseParams {
  /** The expression in postfix order: inputs x0…, constants c0…, and operators (see pointwiseProgram); several separated by ";" stack their results into [k, …shape]. */
  program: string;
  /** The constants c0, c1, … */
  scalars: number[];
}

/** Parameters of `channelMoments`. */
export interface ChannelMomentsParams {
  /** Moments per group of images, `[2, groups, C]`, instead of over the batch, `[2, C]`. */
  groups?: number;
}

/** Parameters of `channelAffine`. */
export interface ChannelAffineParams {
  /** Apply max(0, ·) to the result. */
  relu: boolean;
}

/** The name of a primitive op. */
export type OpName = keyof OpParams;

/** What a shape rule sees of a tensor: its shape and dtype. */
export interface Meta {
  /** The tensor's shape. */
  readonly shape: Shape;
  /** The tensor's dtype. */
  readonly dtype: DType;
}

/** A shape rule: checks the inputs and parameters of one primitive and gives its output's meta. */
export type ShapeRule<K extends OpName> = (inputs: readonly Meta[], params: OpParams[K]) => Meta;

function arity(op: string, inputs: readonly Meta[], n: number): void {
  check(inputs.length === n, op, () => `expected ${n} input(s), got ${inputs.length}`);
}

function numeric(op: string, m: Meta, floatOnly: boolean): void {
  const ok = floatOnly ? isFloating(m.dtype) : m.dtype !== "bool";
  check(ok, op, () => `expected a ${floatOnly ? "floating (float32/float64)" : "numeric"} dtype, got ${m.dtype}`);
}

function sameDType(op: string, a: Meta, b: Meta): void {
  check(a.dtype === b.dtype, op, () => `dtypes differ: ${a.dtype} and ${b.dtype} (cast one explicitly)`);
}

function unary(op: UnaryOp): ShapeRule<UnaryOp> {
  return (inputs) => {
    arity(op, inputs, 1);
    numeric(op, inputs[0], floatOnly(op));
    return { shape: inputs[0].shape, dtype: inputs[0].dtype };
  };
}

function binary(op: BinaryOp): ShapeRule<BinaryOp> {
  return (inputs) => {
    arity(op, inputs, 2);
    const [a, b] = inputs;
    sameDType(op, a, b);
    numeric(op, a, floatOnly(op));
    return { shape: broadcastShapes(op, a.shape, b.shape), dtype: a.dtype };
  };
}

function compare(op: CompareOp): ShapeRule<CompareOp> {
  return (inputs) => {
    arity(op, inputs, 2);
    sameDType(op, inputs[0], inputs[1]);
    return { shape: broadcastShapes(op, inputs[0].shape, inputs[1].shape), dtype: "bool" };
  };
}

function checkAxes(op: string, axes: readonly number[], rank: number): void {
  check(
    axes.every((a, i) => Number.isInteger(a) && a >= 0 && a < rank && (i === 0 || a > axes[i - 1])),
    op,
    () => `axes ${fmt(axes)} must be sorted, distinct and within rank ${rank}`,
  );
}

function reduced(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}

function reduce(op: ReduceOp): ShapeRule<ReduceOp> {
  return (inputs, { axes, keepDims }) => {
    arity(op, inputs, 1);
    const x = inputs[0];
    numeric(op, x, false);
    checkAxes(op, axes, x.shape.length);
    if (op !== "sum") {
      check(axes.every((a) => x.shape[a] > 0), op, () => `cannot reduce an empty axis of shape ${fmt(x.shape)}`);
    }
    return { shape: reduced(x.shape, axes, keepDims), dtype: x.dtype };
  };
}

function argReduce(op: ArgReduceOp): ShapeRule<ArgReduceOp> {
  return (inputs, { axis, keepDims }) => {
    arity(op, inputs, 1);
    const x = inputs[0];
    numeric(op, x, false);
    checkAxes(op, [axis], x.shape.length);
    check(x.shape[axis] > 0, op, () => `cannot reduce an empty axis of shape ${fmt(x.shape)}`);
    return { shape: reduced(x.shape, [axis], keepDims), dtype: "int32" };
  };
}

function pair(op: string, name: string, p: readonly number[], min: number): void {
  check(p.length === 2 && p.every((v) => Number.isInteger(v) && v >= min), op, () => `${name} must be two integers ≥ ${min}, got ${fmt(p)}`);
}

/** Output size of one spatial dimension of a convolution or pooling window. */
export function windowOutSize(size: number, kernel: number, stride: number, padding: number, dilation = 1): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * The output shape of a convolution of x by w. A weight of rank 5, [G, O, C/groups, kH, kW], holds
 * one kernel per group of images: w[g] convolves images g·N/G … (g + 1)·N/G − 1.
 */
function convGeometry(op: string, x: Shape, weight: Shape, p: Conv2dParams): number[] {
  check(x.length === 4, op, () => `input must be [N,C,H,W], got ${fmt(x)}`);
  check(weight.length === 4 || weight.length === 5, op, () => `weight must be [O,C/groups,kH,kW] or, one per group of images, [G,O,C/groups,kH,kW], got ${fmt(weight)}`);
  if (weight.length === 5) {
    const images = weight[0];
    check(images >= 1 && x[0] % images === 0, op, () => `the ${x[0]} images of input ${fmt(x)} do not split into the ${images} groups of weight ${fmt(weight)}`);
  }
  const w = weight.slice(-4);
  pair(op, "stride", p.stride, 1);
  pair(op, "padding", p.padding, 0);
  pair(op, "dilation", p.dilation, 1);
  const g = p.groups;
  check(Number.isInteger(g) && g >= 1, op, () => `groups must be a positive integer, got ${g}`);
  check(x[1] % g === 0 && w[0] % g === 0, op, () => `channels ${x[1]} in and ${w[0]} out must both divide by groups ${g}`);
  check(w[1] * g === x[1], op, () => `weight ${fmt(w)} expects ${w[1] * g} input channels, input ${fmt(x)} has ${x[1]}`);
  const ho = windowOutSize(x[2], w[2], p.stride[0], p.padding[0], p.dilation[0]);
  const wo = windowOutSize(x[3], w[3], p.stride[1], p.padding[1], p.dilation[1]);
  check(ho > 0 && wo > 0, op, () => `kernel ${fmt(w.slice(2))} does not fit input ${fmt(x.slice(2))} with padding ${fmt(p.padding)}`);
  return [x[0], w[0], ho, wo];
}

function poolGeometry(op: string, x: Shape, p: Pool2dParams): number[] {
  check(x.length === 4, op, () => `input must be [N,C,H,W], got ${fmt(x)}`);
  pair(op, "kernel", p.kernel, 1);
  pair(op, "stride", p.stride, 1);
  pair(op, "padding", p.padding, 0);
  check(
    p.padding[0] * 2 <= p.kernel[0] && p.padding[1] * 2 <= p.kernel[1],
    op,
    () => `padding ${fmt(p.padding)} must be at most half of kernel ${fmt(p.kernel)}`,
  );
  const ho = windowOutSize(x[2], p.kernel[0], p.stride[0], p.padding[0]);
  const wo = windowOutSize(x[3], p.kernel[1], p.stride[1], p.padding[1]);
  check(ho > 0 && wo > 0, op, () => `window ${fmt(p.kernel)} does not fit input ${fmt(x.slice(2))}`);
  return [x[0], x[1], ho, wo];
}

function checkGathered(op: string, x: Shape, index: Meta, axis: number): void {
  check(index.dtype === "int32", op, () => `index must be int32, got ${index.dtype}`);
  check(index.shape.length === x.length, op, () => `index ${fmt(index.shape)} must have the rank of input ${fmt(x)}`);
  check(axis >= 0 && axis < x.length, op, () => `axis ${axis} is out of range for rank ${x.length}`);
  check(
    index.shape.every((d, i) => i === axis || d <= x[i]),
    op,
    () => `index ${fmt(index.shape)} is larger than input ${fmt(x)} outside axis ${axis}`,
  );
}

/** A tensor of rank ≥ 2 whose axis 1 is the channel axis, of a floating dtype. */
function channelled(op: string, x: Meta): number {
  check(x.shape.length >= 2, op, () => `input must be [N, C, …], got ${fmt(x.shape)}`);
  numeric(op, x, true);
  return x.shape[1];
}

/**
 * The shape of a per-channel operand of x: [C], or [G, C] with a row per group of images (G
 * dividing the batch).
 */
function perChannelShape(op: string, name: string, m: Meta, x: Meta): number[] {
  const channels = channelled(op, x);
  if (m.shape.length === 2) {
    const groups = m.shape[0];
    check(m.shape[1] === channels && groups >= 1 && x.shape[0] % groups === 0, op,
      () => `${name} ${fmt(m.shape)} must be [${channels}], or [G, ${channels}] with G dividing the ${x.shape[0]} images`);
    return [...m.shape];
  }
  check(m.shape.length === 1 && m.shape[0] === channels, op, () => `${name} must be [${channels}], or [G, ${channels}] per group of images, got ${fmt(m.shape)}`);
  return [channels];
}

/** Per-channel operands of x: each of one shape, [C] or [G, C], and x's dtype. */
function perChannel(op: string, x: Meta, operands: [string, Meta][]): void {
  const [first, firstShape] = [operands[0][0], perChannelShape(op, operands[0][0], operands[0][1], x)];
  for (const [name, m] of operands) {
    sameDType(op, x, m);
    const shape = perChannelShape(op, name, m, x);
    check(sameShape(shape, firstShape), op, () => `${name} ${fmt(shape)} and ${first} ${fmt(firstShape)} must have one shape`);
  }
}

/** Another tensor of x's shape and dtype. */
function likeInput(op: string, name: string, m: Meta, x: Meta): void {
  sameDType(op, x, m);
  check(sameShape(m.shape, x.shape), op, () => `${name} ${fmt(m.shape)} must have the input's shape ${fmt(x.shape)}`);
}

/** The shape rule of every primitive; a primitive without one fails to compile. */
export const shapeRules: { [K in OpName]: ShapeRule<K> } = {
  ...familyRows(UNARY_OPS, unary),
  ...familyRows(BINARY_OPS, binary),
  ...familyRows(COMPARE_OPS, compare),
  sum: reduce("sum"), max: reduce("max"), min: reduce("min"),
  argmax: argReduce("argmax"), argmin: argReduce("argmin"),

  where(inputs) {
    arity("where", inputs, 3);
    const [c, a, b] = inputs;
    check(c.dtype === "bool", "where", () => `condition must be bool, got ${c.dtype}`);
    sameDType("where", a, b);
    return { shape: broadcastShapes("where", c.shape, a.shape, b.shape), dtype: a.dtype };
  },
  cast(inputs, { dtype }) {
    arity("cast", inputs, 1);
    return { shape: inputs[0].shape, dtype };
  },
  reshape(inputs, { shape }) {
    arity("reshape", inputs, 1);
    check(sizeOf(shape) === sizeOf(inputs[0].shape), "reshape", () => `cannot reshape ${fmt(inputs[0].shape)} to ${fmt(shape)}`);
    return { shape, dtype: inputs[0].dtype };
  },
  permute(inputs, { perm }) {
    arity("permute", inputs, 1);
    const x = inputs[0].shape;
    const valid = perm.length === x.length && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    check(valid, "permute", () => `${fmt(perm)} is not a permutation of the ${x.length} axes of ${fmt(x)}`);
    return { shape: perm.map((p) => x[p]), dtype: inputs[0].dtype };
  },
  expand(inputs, { shape }) {
    arity("expand", inputs, 1);
    const x = inputs[0].shape;
    const ok = shape.length >= x.length && x.every((d, i) => d === 1 || d === shape[shape.length - x.length + i]);
    check(ok, "expand", () => `cannot expand ${fmt(x)} to ${fmt(shape)}`);
    return { shape, dtype: inputs[0].dtype };
  },
  slice(inputs, { starts, ends, steps }) {
    arity("slice", inputs, 1);
    const x = inputs[0].shape;
    check(starts.length === x.length && ends.length === x.length && steps.length === x.length, "slice",
      () => `needs one start, end and step per axis of ${fmt(x)}`);
    const shape = x.map((d, i) => {
      check(steps[i] >= 1 && Number.isInteger(steps[i]), "slice", () => `step must be a positive integer, got ${steps[i]}`);
      check(0 <= starts[i] && starts[i] <= ends[i] && ends[i] <= d, "slice",
        () => `range ${starts[i]}:${ends[i]} is out of bounds for axis ${i} of ${fmt(x)}`);
      return Math.ceil((ends[i] - starts[i]) / steps[i]);
    });
    return { shape, dtype: inputs[0].dtype };
  },
  pad(inputs, { before, after, interior }) {
    arity("pad", inputs, 1);
    const x = inputs[0].shape;
    check(before.length === x.length && after.length === x.length && interior.length === x.length, "pad",
      () => `needs one width per axis of ${fmt(x)}`);
    check([...before, ...after, ...interior].every((w) => Number.isInteger(w) && w >= 0), "pad",
      () => `widths must be non-negative integers`);
    return { shape: x.map((d, i) => before[i] + d + Math.max(0, d - 1) * interior[i] + after[i]), dtype: inputs[0].dtype };
  },
  concat(inputs, { axis }) {
    check(inputs.length >= 1, "concat", () => `needs at least one tensor`);
    const first = inputs[0];
    check(axis >= 0 && axis < first.shape.length, "concat", () => `axis ${axis} is out of range for rank ${first.shape.length}`);
    let total = 0;
    for (const m of inputs) {
      sameDType("concat", first, m);
      const ok = m.shape.length === first.shape.length && m.shape.every((d, i) => i === axis || d === first.shape[i]);
      check(ok, "concat", () => `shapes ${fmt(first.shape)} and ${fmt(m.shape)} differ outside axis ${axis}`);
      total += m.shape[axis];
    }
    return { shape: first.shape.map((d, i) => (i === axis ? total : d)), dtype: first.dtype };
  },
  matmul(inputs) {
    arity("matmul", inputs, 2);
    const [a, b] = inputs;
    sameDType("matmul", a, b);
    numeric("matmul", a, true);
    check(a.shape.length >= 2 && b.shape.length >= 2, "matmul", () => `needs rank ≥ 2, got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
    const [m, k] = a.shape.slice(-2);
    const [k2, n] = b.shape.slice(-2);
    check(k === k2, "matmul", () => `inner dimensions differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
    const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
    return { shape: [...batch, m, n], dtype: a.dtype };
  },
  conv2d(inputs, p) {
    arity("conv2d", inputs, 2);
    sameDType("conv2d", inputs[0], inputs[1]);
    numeric("conv2d", inputs[0], true);
    return { shape: convGeometry("conv2d", inputs[0].shape, inputs[1].shape, p), dtype: inputs[0].dtype };
  },
  conv2dBackwardInput(inputs, p) {
    arity("conv2dBackwardInput", inputs, 2);
    const [g, w] = inputs;
    sameDType("conv2dBackwardInput", g, w);
    numeric("conv2dBackwardInput", g, true);
    const out = convGeometry("conv2dBackwardInput", p.inputShape, w.shape, p);
    check(sameShape(out, g.shape), "conv2dBackwardInput", () => `gradient ${fmt(g.shape)} does not match output ${fmt(out)}`);
    return { shape: p.inputShape, dtype: g.dtype };
  },
  conv2dBackwardWeight(inputs, p) {
    arity("conv2dBackwardWeight", inputs, 2);
    const [x, g] = inputs;
    sameDType("conv2dBackwardWeight", x, g);
    numeric("conv2dBackwardWeight", x, true);
    const out = convGeometry("conv2dBackwardWeight", x.shape, p.weightShape, p);
    check(sameShape(out, g.shape), "conv2dBackwardWeight", () => `gradient ${fmt(g.shape)} does not match output ${fmt(out)}`);
    return { shape: p.weightShape, dtype: x.dtype };
  },
  maxPool2d(inputs, p) {
    arity("maxPool2d", inputs, 1);
    numeric("maxPool2d", inputs[0], false);
    return { shape: poolGeometry("maxPool2d", inputs[0].shape, p), dtype: inputs[0].dtype };
  },
  maxPool2dArgmax(inputs, p) {
    arity("maxPool2dArgmax", inputs, 1);
    numeric("maxPool2dArgmax", inputs[0], false);
    return { shape: poolGeometry("maxPool2dArgmax", inputs[0].shape, p), dtype: "int32" };
  },
  avgPool2d(inputs, p) {
    arity("avgPool2d", inputs, 1);
    numeric("avgPool2d", inputs[0], true);
    return { shape: poolGeometry("avgPool2d", inputs[0].shape, p), dtype: inputs[0].dtype };
  },
  avgPool2dBackward(inputs, p) {
    arity("avgPool2dBackward", inputs, 1);
    numeric("avgPool2dBackward", inputs[0], true);
    const out = poolGeometry("avgPool2dBackward", p.inputShape, p);
    check(sameShape(out, inputs[0].shape), "avgPool2dBackward", () => `gradient ${fmt(inputs[0].shape)} does not match output ${fmt(out)}`);
    return { shape: p.inputShape, dtype: inputs[0].dtype };
  },
  gather(inputs, { axis }) {
    arity("gather", inputs, 2);
    checkGathered("gather", inputs[0].shape, inputs[1], axis);
    return { shape: inputs[1].shape, dtype: inputs[0].dtype };
  },
  scatterAdd(inputs, { axis }) {
    arity("scatterAdd", inputs, 3);
    const [target, index, src] = inputs;
    checkGathered("scatterAdd", target.shape, index, axis);
    sameDType("scatterAdd", target, src);
    numeric("scatterAdd", target, false);
    check(sameShape(index.shape, src.shape), "scatterAdd", () => `index ${fmt(index.shape)} and source ${fmt(src.shape)} differ`);
    return { shape: target.shape, dtype: target.dtype };
  },
  channelMoments(inputs, { groups }) {
    arity("channelMoments", inputs, 1);
    const [x] = inputs;
    const channels = channelled("channelMoments", x);
    if (groups === undefined) return { shape: [2, channels], dtype: x.dtype };
    check(Number.isInteger(groups) && groups >= 1 && x.shape[0] % groups === 0, "channelMoments",
      () => `groups must be a positive integer dividing the ${x.shape[0]} images of ${fmt(x.shape)}, got ${groups}`);
    return { shape: [2, groups, channels], dtype: x.dtype };
  },
  channelDots(inputs) {
    arity("channelDots", inputs, 3);
    const [g, x, center] = inputs;
    likeInput("channelDots", "gradient", g, x);
    perChannel("channelDots", x, [["center", center]]);
    return { shape: [2, ...center.shape], dtype: x.dtype };
  },
  channelAffine(inputs) {
    check(inputs.length === 4 || inputs.length === 6, "channelAffine",
      () => `expected 4 inputs (x, center, scale, shift) or 6 (and addend, addendScale), got ${inputs.length}`);
    const [x, center, scale, shift, addend, addendScale] = inputs;
    perChannel("channelAffine", x, [["center", center], ["scale", scale], ["shift", shift], ...(addend ? [["addendScale", addendScale] as [string, Meta]] : [])]);
    if (addend) likeInput("channelAffine", "addend", addend, x);
    return { shape: x.shape, dtype: x.dtype };
  },
  pointwise(inputs, params) {
    const each = checkPointwise("pointwise", inputs, params);
    const k = pointwiseParts(params.program).length;
    return k === 1 ? each : { shape: [k, ...each.shape], dtype: each.dtype };
  },
  pointwiseSum(inputs, params) {
    check(pointwiseParts(params.program).length === 1, "pointwiseSum", () => `takes one expression, got "${params.program}"`);
    return { shape: [], dtype: checkPointwise("pointwiseSum", inputs, params).dtype };
  },
};

/**
 * The input whose shape a pointwise program runs over: the inputs share one shape, but for 0-d
 * inputs, which stand for their one value everywhere (all 0-d: the first).
 * @example
 * firstWithAxes([scalar(2), ones([2, 3])]).shape; // [2, 3]
 */
export function firstWithAxes<T extends Meta>(inputs: readonly T[]): T {
  return inputs.find((t) => t.shape.length > 0) ?? inputs[0];
}

/** pointwise's inputs checked (one floating dtype, one shape or 0-d, a program that parses): the elementwise result's shape. */
function checkPointwise(op: "pointwise" | "pointwiseSum", inputs: readonly Meta[], { program, scalars }: PointwiseParams): Meta {
  check(inputs.length >= 1, op, () => "needs at least one input");
  const x = firstWithAxes(inputs);
  check(isFloating(x.dtype), op, () => `needs floating inputs, got ${x.dtype}`);
  inputs.forEach((t, i) => {
    check(t.dtype === x.dtype, op, () => `input ${i} is ${t.dtype}, the others ${x.dtype}`);
    check(t.shape.length === 0 || sameShape(t.shape, x.shape), op, () => `input ${i} has shape ${fmt(t.shape)}, another ${fmt(x.shape)}; the inputs must have one shape (or none: a 0-d tensor)`);
  });
  try {
    for (const part of pointwiseParts(program)) parsePointwise(part, inputs.length, scalars.length);
  } catch (e) {
    throw new SamError(op, `program "${program}": ${(e as Error).message}`);
  }
  return { shape: x.shape, dtype: x.dtype };
}
