// Elementwise kernels: unary, binary with broadcasting, comparisons, where and cast.
import { broadcastStrides, type BinaryOp, type CompareOp, type Kernel, type TypedArray, type UnaryOp } from "@sam/tensor";
import { broadcastRuns, offsets } from "./strided.js";
import { dataOf } from "./storage.js";

type Fn1 = (x: number) => number;
type Fn2 = (a: number, b: number) => number;

/** The scalar function behind each unary primitive. */
export const unaryFns: Record<UnaryOp, Fn1> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 || x !== x ? x : 0),
};

/** The scalar function behind each binary and comparison primitive. */
export const binaryFns: Record<BinaryOp | CompareOp, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: Math.max,
  minimum: Math.min,
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};

// The hottest unary ops get a loop each, so the arithmetic compiles inline.
const unaryLoops: Partial<Record<UnaryOp, (o: TypedArray, a: TypedArray) => void>> = {
  neg: (o, a) => { for (let i = 0; i < o.length; i++) o[i] = -a[i]; },
  relu: (o, a) => { for (let i = 0; i < o.length; i++) { const v = a[i]; o[i] = v > 0 || v !== v ? v : 0; } },
};

/** A kernel applying unary op `op` to every element. */
export function unaryKernel(op: UnaryOp): Kernel<UnaryOp> {
  const f = unaryFns[op];
  const loop = unaryLoops[op] ?? ((o: TypedArray, a: TypedArray) => { for (let i = 0; i < o.length; i++) o[i] = f(a[i]); });
  return ([x], out) => loop(dataOf(out), dataOf(x));
}

/** One run of a binary op: o[at + j] = a[ia + j·sa] ∘ b[ib + j·sb], with sa and sb each 0 or 1. */
type Run = (o: TypedArray, at: number, a: TypedArray, ia: number, sa: number, b: TypedArray, ib: number, sb: number, n: number) => void;

// The hottest ops get a loop each, so the engine compiles the arithmetic inline instead of calling
// through a shared function value.
const runs: Partial<Record<BinaryOp | CompareOp, Run>> = {
  add: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] + b[ib + j * sb]; },
  sub: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] - b[ib + j * sb]; },
  mul: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] * b[ib + j * sb]; },
  div: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] / b[ib + j * sb]; },
};

/** The run of a general op, through its scalar function. */
function runOf(f: Fn2): Run {
  return (o, at, a, ia, sa, b, ib, sb, n) => {
    for (let j = 0; j < n; j++) o[at + j] = f(a[ia + j * sa], b[ib + j * sb]);
  };
}

/** A kernel applying binary op `op` to every pair of broadcast elements, run by run. */
export function binaryKernel(op: BinaryOp | CompareOp): Kernel<BinaryOp | CompareOp> {
  const run = runs[op] ?? runOf(binaryFns[op]);
  return ([x, y], out) => {
    const o = dataOf(out);
    if (o.length === 0) return;
    const { outer, inner, starts, steps } = broadcastRuns(out.shape, [x, y].map((t) => broadcastStrides(t.shape, out.shape)));
    const [sa, sb] = starts;
    const [a, b] = [dataOf(x), dataOf(y)];
    for (let r = 0; r < outer; r++) run(o, r * inner, a, sa ? sa[r] : r, steps[0], b, sb ? sb[r] : r, steps[1], inner);
  };
}

/** where(cond, a, b), all three broadcast to the output. */
export const where: Kernel<"where"> = ([c, x, y], out) => {
  const o = dataOf(out);
  const [dc, da, db] = [dataOf(c), dataOf(x), dataOf(y)];
  const [oc, oa, ob] = [c, x, y].map((t) => offsets(out.shape, broadcastStrides(t.shape, out.shape)));
  for (let i = 0; i < o.length; i++) {
    o[i] = dc[oc ? oc[i] : i] ? da[oa ? oa[i] : i] : db[ob ? ob[i] : i];
  }
};

/** Converts between dtypes: the typed array store truncates to int32; bool is `x ≠ 0`. */
export const cast: Kernel<"cast"> = ([x], out) => {
  const a = dataOf(x);
  const o = dataOf(out);
  if (out.dtype === "bool") for (let i = 0; i < o.length; i++) o[i] = a[i] !== 0 ? 1 : 0;
  else o.set(a);
};
