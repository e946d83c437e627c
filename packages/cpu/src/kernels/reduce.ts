// Reductions: sum, max and min over any set of axes; argmax and argmin over one axis.
import { stridesOf, type ArgReduceOp, type Kernel, type ReduceOp, type TypedArray } from "@sam/tensor";
import { currentPool } from "../threads/current.js";
import { share, type SharedArray } from "../threads/shared.js";
import { splitEvenly } from "../threads/split.js";
import { broadcastRuns } from "./strided.js";
import { dataOf } from "./storage.js";

/** Output strides seen from the input: reduced axes step nowhere. */
function targetStrides(shape: readonly number[], axes: readonly number[]): number[] {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = stridesOf(kept);
  return s.map((v, i) => (axes.includes(i) ? 0 : v));
}

/** One share of a reduction: output slots from…to. */
export interface ReduceTask {
  op: "reduce";
  name: ReduceOp;
  a: SharedArray;
  out: SharedArray;
  shape: number[];
  axes: number[];
  from: number;
  to: number;
}

/** Input elements of a reduction below which its slots are not shared between threads. */
const MIN_SHARED_ELEMENTS = 2 ** 18;

/**
 * Folds every input element into its output slot, run by run, for slots from…to alone: along a
 * run the slot either stays (a reduced axis, folded in a local) or advances with the input. Each
 * slot sees its elements in the same order whatever the share, so threads change no bit.
 */
export function reduceRange(op: ReduceOp, a: TypedArray, shape: readonly number[], axes: readonly number[], o: TypedArray, from: number, to: number): void {
  const init = op === "sum" ? 0 : op === "max" ? -Infinity : Infinity;
  // NaN wins, as in PyTorch
  const fold = op === "sum" ? (acc: number, v: number) => acc + v
    : op === "max" ? (acc: number, v: number) => (v > acc || v !== v ? v : acc)
    : (acc: number, v: number) => (v < acc || v !== v ? v : acc);
  // accumulate in float64 so a float32 sum loses no more than its final rounding
  const acc = new Float64Array(to - from).fill(init);
  if (a.length > 0) {
    const { outer, inner, starts, steps } = broadcastRuns(shape, [targetStrides(shape, axes)]);
    const [slots] = starts;
    for (let r = 0; r < outer; r++) {
      const t = slots ? slots[r] : r;
      const at = r * inner;
      if (steps[0] === 0) {
        if (t < from || t >= to) continue;
        let s = acc[t - from];
        if (op === "sum") for (let j = 0; j < inner; j++) s += a[at + j];
        else for (let j = 0; j < inner; j++) s = fold(s, a[at + j]);
        acc[t - from] = s;
      } else {
        const j0 = Math.max(0, from - t);
        const j1 = Math.min(inner, to - t);
        if (op === "sum") for (let j = j0; j < j1; j++) acc[t + j - from] += a[at + j];
        else for (let j = j0; j < j1; j++) acc[t + j - from] = fold(acc[t + j - from], a[at + j]);
      }
    }
  }
  o.set(acc, from);
}

/** A reduction over `axes`; large ones share their output slots between the threads. */
export function reduceKernel(op: ReduceOp): Kernel<ReduceOp> {
  return ([x], out, { axes }) => {
    const [a, o] = [dataOf(x), dataOf(out)];
    const pool = a.length >= MIN_SHARED_ELEMENTS ? currentPool() : null;
    if (!pool || o.length < 2) return reduceRange(op, a, x.shape, axes, o, 0, o.length);
    pool.run(splitEvenly(o.length, pool.threads).map(([from, to]): ReduceTask => ({
      op: "reduce", name: op, a: share(a, x.dtype), out: share(o, out.dtype), shape: [...x.shape], axes: [...axes], from, to,
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
