// The loop of the reductions over a range of output slots: the definition, and what a thread runs
// for its share. It imports nothing from @sam/tensor at run time, so a worker loads it by relative
// URL alone.
import type { ReduceOp, TypedArray } from "@sam/tensor";
import { broadcastRuns } from "./strided.js";

/**
 * Folds every input element into its output slot, run by run, for slots from…to alone: along a
 * run the slot either stays (a reduced axis, folded in a local) or advances with the input. Each
 * slot sees its elements in the same order whatever the share, so threads change no bit.
 */
export function reduceRange(op: ReduceOp, a: TypedArray, shape: readonly number[], targets: readonly number[], o: TypedArray, from: number, to: number): void {
  const init = op === "sum" ? 0 : op === "max" ? -Infinity : Infinity;
  // NaN wins, as in PyTorch
  const fold = op === "sum" ? (acc: number, v: number) => acc + v
    : op === "max" ? (acc: number, v: number) => (v > acc || v !== v ? v : acc)
    : (acc: number, v: number) => (v < acc || v !== v ? v : acc);
  // accumulate in float64 so a float32 sum loses no more than its final rounding
  const acc = new Float64Array(to - from).fill(init);
  if (a.length > 0) {
    const { outer, inner, starts, steps } = broadcastRuns(shape, [targets]);
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
