// 2-D convolution and its two gradient primitives by definition: per image and group, im2col onto
// the reference GEMM (col2im back for the input gradient), in the tensors' own dtype.
import type { Conv2dParams, Kernel } from "@sam/tensor";
import { geometry, type Geometry } from "../geometry.js";
import { dataOf } from "../storage.js";
import { gemm } from "./gemm.js";

type Columns = Float64Array;
let scratch = new Float64Array(0);

/** The im2col buffer, reused across calls. */
function columns(size: number): Columns {
  if (scratch.length < size) scratch = new Float64Array(size);
  return scratch;
}

/** cols[(c·kh + i)·kw + j, oy·wo + ox] = x[n, g·cg + c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] (0 outside). */
function im2col(x: ArrayLike<number>, g: Geometry, p: Conv2dParams, n: number, group: number, cols: Columns): void {
  const plane = g.ho * g.wo;
  for (let c = 0; c < g.cg; c++) {
    const src = (n * g.c + group * g.cg + c) * g.h * g.w;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const row = ((c * g.kh + i) * g.kw + j) * plane;
        for (let oy = 0; oy < g.ho; oy++) {
          const iy = oy * p.stride[0] - p.padding[0] + i * p.dilation[0];
          const at = row + oy * g.wo;
          if (iy < 0 || iy >= g.h) {
            cols.fill(0, at, at + g.wo);
            continue;
          }
          for (let ox = 0; ox < g.wo; ox++) {
            const ix = ox * p.stride[1] - p.padding[1] + j * p.dilation[1];
            cols[at + ox] = ix >= 0 && ix < g.w ? x[src + iy * g.w + ix] : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: dx[n, g·cg + c, iy, ix] += cols[…] for every window position. */
function col2im(cols: Columns, g: Geometry, p: Conv2dParams, n: number, group: number, dx: { [i: number]: number }): void {
  const plane = g.ho * g.wo;
  for (let c = 0; c < g.cg; c++) {
    const dst = (n * g.c + group * g.cg + c) * g.h * g.w;
    for (let i = 0; i < g.kh; i++) {
      for (let j = 0; j < g.kw; j++) {
        const row = ((c * g.kh + i) * g.kw + j) * plane;
        for (let oy = 0; oy < g.ho; oy++) {
          const iy = oy * p.stride[0] - p.padding[0] + i * p.dilation[0];
          if (iy < 0 || iy >= g.h) continue;
          for (let ox = 0; ox < g.wo; ox++) {
            const ix = ox * p.stride[1] - p.padding[1] + j * p.dilation[1];
            if (ix >= 0 && ix < g.w) dx[dst + iy * g.w + ix] += cols[row + oy * g.wo + ox];
          }
        }
      }
    }
  }
}

function forEachImageAndGroup(g: Geometry, groups: number, fn: (n: number, group: number) => void): void {
  for (let n = 0; n < g.n; n++) for (let group = 0; group < groups; group++) fn(n, group);
}

/** y[n, o] = Σ w[o] ⋆ x[n]: per image and group, W_g · im2col(x). */
export const conv2d: Kernel<"conv2d"> = ([x, w], out, p) => {
  const g = geometry(x.shape, w.shape, out.shape, p.groups);
  const plane = g.ho * g.wo;
  const cols = columns(g.rows * plane);
  const [xs, ws, ys] = [dataOf(x), dataOf(w), dataOf(out)];
  forEachImageAndGroup(g, p.groups, (n, group) => {
    im2col(xs, g, p, n, group, cols);
    gemm(g.og, plane, g.rows,
      { data: ws, offset: group * g.og * g.rows, rowStride: g.rows, colStride: 1 },
      { data: cols, offset: 0, rowStride: plane, colStride: 1 },
      ys, (n * g.o + group * g.og) * plane, plane, false);
  });
};

/** dx = col2im(W_gᵀ · dy) per image and group. */
export const conv2dBackwardInput: Kernel<"conv2dBackwardInput"> = ([dy, w], out, p) => {
  const g = geometry(out.shape, w.shape, dy.shape, p.groups);
  const plane = g.ho * g.wo;
  const cols = columns(g.rows * plane);
  const [dys, ws, dx] = [dataOf(dy), dataOf(w), dataOf(out)];
  dx.fill(0); // col2im adds in
  forEachImageAndGroup(g, p.groups, (n, group) => {
    gemm(g.rows, plane, g.og,
      { data: ws, offset: group * g.og * g.rows, rowStride: 1, colStride: g.rows },
      { data: dys, offset: (n * g.o + group * g.og) * plane, rowStride: plane, colStride: 1 },
      cols, 0, plane, false);
    col2im(cols, g, p, n, group, dx);
  });
};

/** dW_g = Σₙ dy[n, g] · im2col(x[n])ᵀ. */
export const conv2dBackwardWeight: Kernel<"conv2dBackwardWeight"> = ([x, dy], out, p) => {
  const g = geometry(x.shape, out.shape, dy.shape, p.groups);
  const plane = g.ho * g.wo;
  const cols = columns(g.rows * plane);
  const [xs, dys, dw] = [dataOf(x), dataOf(dy), dataOf(out)];
  dw.fill(0); // an empty batch adds nothing
  forEachImageAndGroup(g, p.groups, (n, group) => {
    im2col(xs, g, p, n, group, cols);
    gemm(g.og, g.rows, plane,
      { data: dys, offset: (n * g.o + group * g.og) * plane, rowStride: plane, colStride: 1 },
      { data: cols, offset: 0, rowStride: 1, colStride: plane },
      dw, group * g.og * g.rows, g.rows, n > 0);
  });
};
