// 2-D pooling, one thread per output element: max (value or argmax) and average, and average
// pooling's adjoint gathered per input pixel so that no two threads add into one element.
import { sizeOf, type BackendTensor, type Kernel, type Pool2dParams } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { bindings, elementGrid, gpu, perElement } from "../wgsl.js";

/** meta: n, H, W, HO, WO, KH, KW, SH, SW, PH, PW. */
function poolMeta(input: readonly number[], output: readonly number[], p: Pool2dParams, n: number): number[] {
  return [n, input[2], input[3], output[2], output[3], ...p.kernel, ...p.stride, ...p.padding];
}

/** WGSL: the window of output element `i`, clipped to the input, and its plane. */
const WINDOW = `  let plane = i / (dims[3] * dims[4]);
  let oy = (i / dims[4]) % dims[3];
  let ox = i % dims[4];
  let top = i32(oy * dims[7]) - i32(dims[9]);
  let left = i32(ox * dims[8]) - i32(dims[10]);
  let y0 = u32(max(top, 0));
  let y1 = u32(min(top + i32(dims[5]), i32(dims[1])));
  let x0 = u32(max(left, 0));
  let x1 = u32(min(left + i32(dims[6]), i32(dims[2])));
  let base = plane * dims[1] * dims[2];`;

function windowKernel(stream: CommandStream, x: BackendTensor, out: BackendTensor, p: Pool2dParams, body: string): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
${perElement(`${WINDOW}\n${body}`)}`;
  stream.run({ code, buffers: [gpu(x), gpu(out)], meta: poolMeta(x.shape, out.shape, p, n), grid: elementGrid(n) });
}

/** WGSL: the first maximum of the window (a NaN wins and stops the search, as on the CPU). */
function firstMax(): string {
  return `  var at = y0 * dims[2] + x0;
  var best = x[base + at];
  var found = false;
  for (var iy = y0; iy < y1 && !found; iy++) {
    for (var ix = x0; ix < x1; ix++) {
      let v = x[base + iy * dims[2] + ix];
      if (v > best || v != v) {
        best = v;
        at = iy * dims[2] + ix;
        if (v != v) { found = true; break; }
      }
    }
  }`;
}

/** The maximum of each window. */
export function maxPool2dKernel(stream: CommandStream): Kernel<"maxPool2d"> {
  return ([x], out, p) => windowKernel(stream, x, out, p, `${firstMax()}\n  out[i] = best;`);
}

/** Where each window's maximum is (flat index into its H·W plane). */
export function maxPool2dArgmaxKernel(stream: CommandStream): Kernel<"maxPool2dArgmax"> {
  return ([x], out, p) => windowKernel(stream, x, out, p, `${firstMax()}\n  out[i] = i32(at);`);
}

/** The mean of each window, counting padding as zeros. */
export function avgPool2dKernel(stream: CommandStream): Kernel<"avgPool2d"> {
  return ([x], out, p) => windowKernel(stream, x, out, p, `  var s = 0.0;
  for (var iy = y0; iy < y1; iy++) {
    for (var ix = x0; ix < x1; ix++) { s += x[base + iy * dims[2] + ix]; }
  }
  out[i] = s / f32(dims[5] * dims[6]);`);
}

/** Each input pixel sums the shares of the windows that contain it: the adjoint of avgPool2d. */
export function avgPool2dBackwardKernel(stream: CommandStream): Kernel<"avgPool2dBackward"> {
  return ([dy], out, p) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const code = `${bindings([["dy", dy.dtype]], ["out", out.dtype])}
${perElement(`  let plane = i / (dims[1] * dims[2]);
  let iy = i32((i / dims[2]) % dims[1]) + i32(dims[9]);
  let ix = i32(i % dims[2]) + i32(dims[10]);
  // windows oy with oy·SH ≤ iy + PH < oy·SH + KH
  let oy0 = max(0, (iy - i32(dims[5]) + i32(dims[7])) / i32(dims[7]));
  let oy1 = min(i32(dims[3]) - 1, iy / i32(dims[7]));
  let ox0 = max(0, (ix - i32(dims[6]) + i32(dims[8])) / i32(dims[8]));
  let ox1 = min(i32(dims[4]) - 1, ix / i32(dims[8]));
  var s = 0.0;
  for (var oy = oy0; oy <= oy1; oy++) {
    for (var ox = ox0; ox <= ox1; ox++) { s += dy[(plane * dims[3] + u32(oy)) * dims[4] + u32(ox)]; }
  }
  out[i] = s / f32(dims[5] * dims[6]);`)}`;
    stream.run({ code, buffers: [gpu(dy), gpu(out)], meta: poolMeta(out.shape, dy.shape, p, n), grid: elementGrid(n) });
  };
}
