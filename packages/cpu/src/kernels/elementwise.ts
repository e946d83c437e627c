// Elementwise kernels: unary, binary with broadcasting, comparisons, where and cast.
import { broadcastStrides, type BinaryOp, type CompareOp, type Kernel, type UnaryOp } from "@sam/tensor";
import { binaryRange, unaryRange, whereRange, type ElementwiseTask } from "./elementwiseRanges.js";
import { currentPool } from "../threads/current.js";
import { share } from "../threads/shared.js";
import { splitEvenly } from "../threads/split.js";
import { dataOf } from "./storage.js";

/** Elements of an elementwise op below which its output is not shared between threads. */
const MIN_SHARED_ELEMENTS = 2 ** 18;

/**
 * Runs `local(0, n)` here, or splits 0…n between the pool's threads when the op has at least
 * MIN_SHARED_ELEMENTS elements (elementwise results do not depend on the split).
 */
function shared(elements: number, n: number, task: (from: number, to: number) => ElementwiseTask, local: (from: number, to: number) => void): void {
  const pool = elements >= MIN_SHARED_ELEMENTS ? currentPool() : null;
  if (!pool || n < 2) return local(0, n);
  pool.run(splitEvenly(n, pool.threads).map(([from, to]) => task(from, to)));
}

/** A kernel applying unary op `op` to every element. */
export function unaryKernel(op: UnaryOp): Kernel<UnaryOp> {
  return ([x], out) => {
    const [o, a] = [dataOf(out), dataOf(x)];
    shared(o.length, o.length,
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
    shared(o.length, o.length,
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
  shared(o.length, o.length,
    (from, to) => ({ op: "where", cond: share(dc, c.dtype), a: share(da, x.dtype), b: share(db, y.dtype), out: share(o, out.dtype), shape: [...out.shape], strides, from, to }),
    (from, to) => whereRange(o, out.shape, dc, da, db, strides, from, to));
};

/** Converts between dtypes: the typed array store truncates to int32; bool is `x ≠ 0`. */
export const cast: Kernel<"cast"> = ([x], out) => {
  const a = dataOf(x);
  const o = dataOf(out);
  if (out.dtype === "bool") for (let i = 0; i < o.length; i++) o[i] = a[i] !== 0 ? 1 : 0;
  else o.set(a);
};
