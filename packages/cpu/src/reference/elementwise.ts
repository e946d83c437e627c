// The elementwise kernels by definition, on one thread: unary, binary with broadcasting,
// comparisons, where and cast.
import { broadcastStrides, type BinaryOp, type CompareOp, type Kernel, type UnaryOp } from "@sam/tensor";
import { dataOf } from "../storage.js";
import { binaryLoop, unaryLoop, whereLoop } from "./elementwiseLoops.js";

/** A kernel applying unary op `op` to every element. */
export function unaryKernel(op: UnaryOp): Kernel<UnaryOp> {
  return ([x], out) => {
    const o = dataOf(out);
    unaryLoop(op, o, dataOf(x), 0, o.length);
  };
}

/** A kernel applying binary op `op` to every pair of broadcast elements. */
export function binaryKernel(op: BinaryOp | CompareOp): Kernel<BinaryOp | CompareOp> {
  return ([x, y], out) => {
    const o = dataOf(out);
    if (o.length === 0) return;
    binaryLoop(op, o, out.shape, dataOf(x), broadcastStrides(x.shape, out.shape), dataOf(y), broadcastStrides(y.shape, out.shape), 0, o.length);
  };
}

/** where(cond, a, b), all three broadcast to the output. */
export const where: Kernel<"where"> = ([c, x, y], out) => {
  const o = dataOf(out);
  if (o.length === 0) return;
  const strides = [c, x, y].map((t) => broadcastStrides(t.shape, out.shape));
  whereLoop(o, out.shape, dataOf(c), dataOf(x), dataOf(y), strides, 0, o.length);
};

/** Converts between dtypes: the typed array store truncates to int32; bool is `x ≠ 0`. */
export const cast: Kernel<"cast"> = ([x], out) => {
  const a = dataOf(x);
  const o = dataOf(out);
  if (out.dtype === "bool") for (let i = 0; i < o.length; i++) o[i] = a[i] !== 0 ? 1 : 0;
  else o.set(a);
};
