// Reductions by definition: sum, max and min over any set of axes (folded in float64, slot by
// slot), argmax and argmin over one axis.
import { stridesOf, type ArgReduceOp, type Kernel, type ReduceOp } from "@sam/tensor";
import { dataOf } from "../storage.js";
import { reduceRange } from "./reduceLoops.js";

/** Output strides seen from the input: reduced axes step nowhere. */
export function targetStrides(shape: readonly number[], axes: readonly number[]): number[] {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = stridesOf(kept);
  return s.map((v, i) => (axes.includes(i) ? 0 : v));
}

/** A reduction over `axes`. */
export function reduceKernel(op: ReduceOp): Kernel<ReduceOp> {
  return ([x], out, { axes }) => {
    const [a, o] = [dataOf(x), dataOf(out)];
    reduceRange(op, a, x.shape, targetStrides(x.shape, axes), o, 0, o.length);
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
