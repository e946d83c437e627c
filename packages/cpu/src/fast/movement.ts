// Slicing and constant padding as strided copies by runs: the axes are walked with a carry, the
// innermost one copied as a run (one block copy where it is contiguous on both sides), and
// neighbouring axes that are contiguous on both sides merged first (option A's shortcut pads only
// the channels: a run of whole planes). No offset table of the output's or the input's size.
import { stridesOf, type Kernel, type TypedArray } from "@sam/tensor";
import { dataOf } from "../storage.js";

/**
 * o[oBase + Σ i[d]·oStrides[d]] = a[aBase + Σ i[d]·aStrides[d]] for every index i of `shape`.
 */
function copyStrided(o: TypedArray, oBase: number, oStrides: number[], a: TypedArray, aBase: number, aStrides: number[], shape: readonly number[]): void {
  if (shape.some((d) => d === 0)) return;
  // merge axis d into d + 1 where both sides step over d + 1 whole
  const dims: number[] = [];
  const [os, as]: [number[], number[]] = [[], []];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && os[last] === oStrides[d] * shape[d] && as[last] === aStrides[d] * shape[d]) {
      dims[last] *= shape[d];
      os[last] = oStrides[d];
      as[last] = aStrides[d];
    } else {
      dims.push(shape[d]);
      os.push(oStrides[d]);
      as.push(aStrides[d]);
    }
  }
  const rank = dims.length;
  const inner = rank > 0 ? dims[rank - 1] : 1;
  const [oStep, aStep] = rank > 0 ? [os[rank - 1], as[rank - 1]] : [1, 1];
  const count = dims.slice(0, rank - 1).reduce((n, d) => n * d, 1);
  const index = new Array<number>(Math.max(0, rank - 1)).fill(0);
  let [dst, src] = [oBase, aBase];
  for (let k = 0; k < count; k++) {
    if (oStep === 1 && aStep === 1) o.set(a.subarray(src, src + inner), dst);
    else for (let j = 0; j < inner; j++) o[dst + j * oStep] = a[src + j * aStep];
    for (let d = rank - 2; d >= 0; d--) {
      dst += os[d];
      src += as[d];
      if (++index[d] < dims[d]) break;
      dst -= dims[d] * os[d];
      src -= dims[d] * as[d];
      index[d] = 0;
    }
  }
}

/** out[i] = x[starts + i·steps]. */
export const slice: Kernel<"slice"> = ([x], out, { starts, steps }) => {
  const s = stridesOf(x.shape);
  const base = starts.reduce((acc, st, i) => acc + st * s[i], 0);
  copyStrided(dataOf(out), 0, stridesOf(out.shape), dataOf(x), base, s.map((v, i) => v * steps[i]), out.shape);
};

/** Constant fill, then each input element placed at its padded (and dilated) position. */
export const pad: Kernel<"pad"> = ([x], out, { before, interior, value }) => {
  const o = dataOf(out);
  o.fill(value);
  const s = stridesOf(out.shape);
  const base = before.reduce((acc, b, i) => acc + b * s[i], 0);
  copyStrided(o, base, s.map((v, i) => v * (interior[i] + 1)), dataOf(x), 0, stridesOf(x.shape), x.shape);
};
