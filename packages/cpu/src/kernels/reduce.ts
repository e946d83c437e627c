// Reductions: sum, max and min over any set of axes; argmax and argmin over one axis.
import { stridesOf, type ArgReduceOp, type Kernel, type ReduceOp } from "@sam/tensor";
import { broadcastRuns } from "./strided.js";
import { dataOf } from "./storage.js";

/** Output strides seen from the input: reduced axes step nowhere. */
function targetStrides(shape: readonly number[], axes: readonly number[]): number[] {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = stridesOf(kept);
  return s.map((v, i) => (axes.includes(i) ? 0 : v));
}

/**
 * A reduction folding every input element into its output slot, run by run: along a run the
 * slot either stays (a reduced axis, folded in a local) or advances with the input.
 */
export function reduceKernel(op: ReduceOp): Kernel<ReduceOp> {
  const init = op === "sum" ? 0 : op === "max" ? -Infinity : Infinity;
  // NaN wins, as in PyTorch
  const fold = op === "sum" ? (acc: number, v: number) => acc + v
    : op === "max" ? (acc: number, v: number) => (v > acc || v !== v ? v : acc)
    : (acc: number, v: number) => (v < acc || v !== v ? v : acc);
  return ([x], out, { axes }) => {
    const a = dataOf(x);
    // accumulate in float64 so a float32 sum loses no more than its final rounding
    const acc = new Float64Array(dataOf(out).length).fill(init);
    if (a.length > 0) {
      const { outer, inner, starts, steps } = broadcastRuns(x.shape, [targetStrides(x.shape, axes)]);
      const [slots] = starts;
      for (let r = 0; r < outer; r++) {
        const t = slots ? slots[r] : r;
        const at = r * inner;
        if (steps[0] === 0) {
          let s = acc[t];
          if (op === "sum") for (let j = 0; j < inner; j++) s += a[at + j];
          else for (let j = 0; j < inner; j++) s = fold(s, a[at + j]);
          acc[t] = s;
        } else if (op === "sum") {
          for (let j = 0; j < inner; j++) acc[t + j] += a[at + j];
        } else {
          for (let j = 0; j < inner; j++) acc[t + j] = fold(acc[t + j], a[at + j]);
        }
      }
    }
    dataOf(out).set(acc);
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
