// Movement kernels: copies that rearrange elements without arithmetic.
import { broadcastStrides, stridesOf, type Kernel } from "@sam/tensor";
import { broadcastRuns, offsets } from "./strided.js";
import { dataOf } from "../storage.js";

/** Reshape never reaches a kernel (tensors share storage), but a copy is its correct meaning. */
export const reshape: Kernel<"reshape"> = ([x], out) => {
  dataOf(out).set(dataOf(x));
};

/** out[i₀…] = x at the permuted index. */
export const permute: Kernel<"permute"> = ([x], out, { perm }) => {
  const s = stridesOf(x.shape);
  gatherInto(dataOf(out), dataOf(x), offsets(out.shape, perm.map((p) => s[p])));
};

/**
 * Broadcast copy, run by run: along a run the input either advances with the output (a copy) or
 * stays on one element (a fill), so no per-element index table is built.
 */
export const expand: Kernel<"expand"> = ([x], out) => {
  const o = dataOf(out);
  if (o.length === 0) return;
  const a = dataOf(x);
  const { outer, inner, starts, steps } = broadcastRuns(out.shape, [broadcastStrides(x.shape, out.shape)]);
  const start = starts[0];
  for (let r = 0; r < outer; r++) {
    const from = start ? start[r] : r;
    const at = r * inner;
    if (steps[0] === 0) o.fill(a[from], at, at + inner);
    else for (let j = 0; j < inner; j++) o[at + j] = a[from + j];
  }
};

/** Strided sub-block copy. */
export const slice: Kernel<"slice"> = ([x], out, { starts, steps }) => {
  const s = stridesOf(x.shape);
  const base = starts.reduce((acc, st, i) => acc + st * s[i], 0);
  gatherInto(dataOf(out), dataOf(x), offsets(out.shape, s.map((v, i) => v * steps[i]), base));
};

/** Constant fill, then each input element placed at its padded (and dilated) position. */
export const pad: Kernel<"pad"> = ([x], out, { before, interior, value }) => {
  const o = dataOf(out);
  o.fill(value);
  const s = stridesOf(out.shape);
  const base = before.reduce((acc, b, i) => acc + b * s[i], 0);
  scatterInto(o, dataOf(x), offsets(x.shape, s.map((v, i) => v * (interior[i] + 1)), base));
};

/** Each input placed at its offset along the axis. */
export const concat: Kernel<"concat"> = (inputs, out, { axis }) => {
  const o = dataOf(out);
  const s = stridesOf(out.shape);
  let at = 0;
  for (const x of inputs) {
    scatterInto(o, dataOf(x), offsets(x.shape, s, at * s[axis]));
    at += x.shape[axis];
  }
};

function gatherInto(o: { [i: number]: number; length: number }, a: ArrayLike<number>, from: Int32Array | null): void {
  if (from === null) for (let i = 0; i < o.length; i++) o[i] = a[i];
  else for (let i = 0; i < o.length; i++) o[i] = a[from[i]];
}

function scatterInto(o: { [i: number]: number }, a: ArrayLike<number>, to: Int32Array | null): void {
  if (to === null) for (let i = 0; i < a.length; i++) o[i] = a[i];
  else for (let i = 0; i < a.length; i++) o[to[i]] = a[i];
}
