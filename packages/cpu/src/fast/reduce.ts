// Reductions shared between the threads: a large one's output slots are split between them; each
// slot sees its elements in the same order whatever the share, so threads change no bit.
import type { Kernel, ReduceOp } from "@sam/tensor";
import * as reference from "../reference/reduce.js";
import { dataOf } from "../storage.js";
import { splitEvenly } from "../threads/split.js";
import { currentPool } from "./pool.js";
import { share, type ReduceTask } from "./tasks.js";

/** Input elements of a reduction below which its slots are not shared between threads. */
const MIN_SHARED_ELEMENTS = 2 ** 18;

/** A reduction over `axes`; large ones share their output slots between the threads. */
export function reduceKernel(op: ReduceOp): Kernel<ReduceOp> {
  const local = reference.reduceKernel(op);
  return ([x], out, params) => {
    const [a, o] = [dataOf(x), dataOf(out)];
    const pool = a.length >= MIN_SHARED_ELEMENTS ? currentPool() : null;
    if (!pool || o.length < 2) return local([x], out, params);
    const targets = reference.targetStrides(x.shape, params.axes);
    pool.run(splitEvenly(o.length, pool.threads).map(([from, to]): ReduceTask => ({
      op: "reduce", name: op, a: share(a, x.dtype), out: share(o, out.dtype), shape: [...x.shape], targets, from, to,
    })));
  };
}
