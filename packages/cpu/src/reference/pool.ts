// 2-D pooling: max (with the argmax its gradient needs) and average (with its adjoint).
import type { BackendTensor, Kernel, Pool2dParams } from "@sam/tensor";
import { dataOf } from "../storage.js";

/** Visits every output position with the bounds of its window, clipped to the input. */
function forEachWindow(
  x: readonly number[], y: readonly number[], p: Pool2dParams,
  fn: (plane: number, out: number, y0: number, y1: number, x0: number, x1: number) => void,
): void {
  const [n, c, h, w] = x;
  const [, , ho, wo] = y;
  for (let plane = 0; plane < n * c; plane++) {
    for (let oy = 0; oy < ho; oy++) {
      const top = oy * p.stride[0] - p.padding[0];
      for (let ox = 0; ox < wo; ox++) {
        const left = ox * p.stride[1] - p.padding[1];
        fn(plane, (plane * ho + oy) * wo + ox,
          Math.max(0, top), Math.min(h, top + p.kernel[0]), Math.max(0, left), Math.min(w, left + p.kernel[1]));
      }
    }
  }
}

/** For each output, the flat index (into H·W) of the first maximum of its window. */
function argmaxInto(x: BackendTensor, out: BackendTensor, p: Pool2dParams, write: (o: number, at: number, v: number) => void): void {
  const a = dataOf(x);
  const [h, w] = x.shape.slice(2);
  forEachWindow(x.shape, out.shape, p, (plane, o, y0, y1, x0, x1) => {
    const base = plane * h * w;
    let best = -Infinity;
    let at = y0 * w + x0;
    for (let iy = y0; iy < y1; iy++) {
      for (let ix = x0; ix < x1; ix++) {
        const v = a[base + iy * w + ix];
        if (v > best || v !== v) {
          best = v;
          at = iy * w + ix;
          if (v !== v) break;
        }
      }
    }
    write(o, at, best);
  });
}

/** The maximum of each window. */
export const maxPool2d: Kernel<"maxPool2d"> = ([x], out, p) => {
  const o = dataOf(out);
  argmaxInto(x, out, p, (i, _at, v) => (o[i] = v));
};

/** Where each window's maximum is (flat index into its H·W plane). */
export const maxPool2dArgmax: Kernel<"maxPool2dArgmax"> = ([x], out, p) => {
  const o = dataOf(out);
  argmaxInto(x, out, p, (i, at) => (o[i] = at));
};

/** The mean of each window, counting padding as zeros (divides by the full kernel area). */
export const avgPool2d: Kernel<"avgPool2d"> = ([x], out, p) => {
  const a = dataOf(x);
  const o = dataOf(out);
  const [h, w] = x.shape.slice(2);
  const area = p.kernel[0] * p.kernel[1];
  forEachWindow(x.shape, out.shape, p, (plane, i, y0, y1, x0, x1) => {
    let s = 0;
    for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += a[plane * h * w + iy * w + ix];
    o[i] = s / area;
  });
};

/** Spreads each output gradient evenly over its window: the adjoint of avgPool2d. */
export const avgPool2dBackward: Kernel<"avgPool2dBackward"> = ([dy], out, p) => {
  const g = dataOf(dy);
  const dx = dataOf(out);
  dx.fill(0); // shares are added in
  const [h, w] = out.shape.slice(2);
  const area = p.kernel[0] * p.kernel[1];
  forEachWindow(out.shape, dy.shape, p, (plane, i, y0, y1, x0, x1) => {
    const share = g[i] / area;
    for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) dx[plane * h * w + iy * w + ix] += share;
  });
};
