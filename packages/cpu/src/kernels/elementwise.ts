// Elementwise kernels: unary, binary with broadcasting, comparisons, where and cast.
import { broadcastStrides, type BinaryOp, type CompareOp, type Kernel, type UnaryOp } from "@sam/tensor";
import { offsets } from "./strided.js";
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

/** A kernel applying `f` to every element. */
export function unaryKernel(f: Fn1): Kernel<UnaryOp> {
  return ([x], out) => {
    const a = dataOf(x);
    const o = dataOf(out);
    for (let i = 0; i < o.length; i++) o[i] = f(a[i]);
  };
}

/** A kernel applying `f` to every pair of broadcast elements. */
export function binaryKernel(f: Fn2): Kernel<BinaryOp | CompareOp> {
  return ([x, y], out) => {
    const a = dataOf(x);
    const b = dataOf(y);
    const o = dataOf(out);
    const oa = offsets(out.shape, broadcastStrides(x.shape, out.shape));
    const ob = offsets(out.shape, broadcastStrides(y.shape, out.shape));
    if (oa === null && ob === null) for (let i = 0; i < o.length; i++) o[i] = f(a[i], b[i]);
    else if (oa === null) for (let i = 0; i < o.length; i++) o[i] = f(a[i], b[ob![i]]);
    else if (ob === null) for (let i = 0; i < o.length; i++) o[i] = f(a[oa[i]], b[i]);
    else for (let i = 0; i < o.length; i++) o[i] = f(a[oa[i]], b[ob[i]]);
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
