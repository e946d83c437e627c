// Reductions: sum, max and min over any set of axes; argmax and argmin over one axis.
import { stridesOf, type ArgReduceOp, type Kernel, type ReduceOp } from "@sam/tensor";
import { currentPool } from "../threads/current.js";
import { share } from "../threads/shared.js";
import { splitEvenly } from "../threads/split.js";
import { reduceRange, type ReduceTask } from "./reduceRange.js";
import { dataOf } from "./storage.js";

/** Output strides seen from the input: reduced axes step nowhere. */
function targetStrides(shape: readonly number[], axes: readonly number[]): number[] {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = stridesOf(kept);
  return s.map((v, i) => (axes.includes(i) ? 0 : v));
}

/** Input elements of a reduction below which its slots are not shared between threads. */
const MIN_SHARED_ELEMENTS = 2 ** 18;

/** A reduction over `axes`; large ones share their output slots between the threads. */
export function reduceKernel(op: ReduceOp): Kernel<ReduceOp> {
  return ([x], out, { axes }) => {
    const [a, o] = [dataOf(x), dataOf(out)];
    const targets = targetStrides(x.shape, axes);
    const pool = a.length >= MIN_SHARED_ELEMENTS ? currentPool() : null;
    if (!pool || o.length < 2) return reduceRange(op, a, x.shape, targets, o, 0, o.length);
    pool.run(splitEvenly(o.length, pool.threads).map(([from, to]): ReduceTask => ({
      op: "reduce", name: op, a: share(a, x.dtype), out: share(o, out.dtype), shape: [...x.shape], targets, from, to,
    })));
  };
}

/** Index of the first extreme along one axis. */
export function argReduceKernel(op: ArgReduceOp): Kernel<ArgReduceOp> {
  const better = op === "argmax" ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  return ([x], out, { axis }) => {
    const a = dataOf(x);
    const o = dataOf(out);
    const n = x.shape[axis];
    const inner = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const outer = a.length / (n * inner || 1);
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        const base = p * n * inner + q;
        let best = a[base];
        let at = 0;
        for (let k = 1; k < n && best === best; k++) {
          const v = a[base + k * inner];
          if (better(v, best) || v !== v) [best, at] = [v, k];
        }
        o[p * inner + q] = at;
      }
    }
  };
}
