// Elementwise kernels shared between the threads, float32 in WebAssembly SIMD: unary, binary with
// broadcasting, comparisons and where. Elementwise results do not depend on the split.
import { broadcastStrides, type BinaryOp, type CompareOp, type Kernel, type UnaryOp } from "@sam/tensor";
import { dataOf } from "../storage.js";
import { binaryRange, unaryRange, whereRange } from "./elementwiseRuns.js";
import { shareOut } from "./pool.js";
import { share, type ElementwiseTask } from "./tasks.js";

/** A kernel applying unary op `op` to every element. */
export function unaryKernel(op: UnaryOp): Kernel<UnaryOp> {
  return ([x], out) => {
    const [o, a] = [dataOf(out), dataOf(x)];
    shareOut(o.length, o.length,
      (from, to) => ({ op: "unary", name: op, a: share(a, x.dtype), out: share(o, out.dtype), from, to }),
      (from, to) => unaryRange(op, o, a, from, to));
  };
}

/** A kernel applying binary op `op` to every pair of broadcast elements, run by run. */
export function binaryKernel(op: BinaryOp | CompareOp): Kernel<BinaryOp | CompareOp> {
  return ([x, y], out) => {
    const o = dataOf(out);
    if (o.length === 0) return;
    const [as, bs] = [x, y].map((t) => broadcastStrides(t.shape, out.shape));
    const [a, b] = [dataOf(x), dataOf(y)];
    shareOut(o.length, o.length,
      (from, to) => ({ op: "binary", name: op, a: share(a, x.dtype), b: share(b, y.dtype), out: share(o, out.dtype), shape: [...out.shape], aStrides: as, bStrides: bs, from, to }),
      (from, to) => binaryRange(op, o, out.shape, a, as, b, bs, from, to));
  };
}

/** where(cond, a, b), all three broadcast to the output, run by run. */
export const where: Kernel<"where"> = ([c, x, y], out) => {
  const o = dataOf(out);
  if (o.length === 0) return;
  const strides = [c, x, y].map((t) => broadcastStrides(t.shape, out.shape)) as [number[], number[], number[]];
  const [dc, da, db] = [dataOf(c), dataOf(x), dataOf(y)];
  shareOut(o.length, o.length,
    (from, to) => ({ op: "where", cond: share(dc, c.dtype), a: share(da, x.dtype), b: share(db, y.dtype), out: share(o, out.dtype), shape: [...out.shape], strides, from, to }),
    (from, to) => whereRange(o, out.shape, dc, da, db, strides, from, to));
};
