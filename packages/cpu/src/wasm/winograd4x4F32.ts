// Float32 3×3 convolutions of stride 1 by Winograd's minimal filtering F(4×4, 3×3) (Lavin and
// Gray, 2016): each 4×4 output tile takes 36 multiplications per input channel where the direct
// product takes 144 and F(2×2, 3×3) 64. Four images at a time, side by side in every pixel, so that
// the transforms' vectors span the images and a plane of any whole number of 4×4 tiles fits (a
// CIFAR network's 8×8 planes included). Per four images: their planes interleaved and padded,
// the input tiles' transforms, 36 GEMMs on the SIMD block kernel (one per transformed element ξ:
// M_ξ = U_ξ · V_ξ, output channels by tiles, depth the input channels), and the output transform.
import type { Conv2dParams, TypedArray } from "@sam/tensor";
import type { Geometry } from "../geometry.js";
import { workspaceRegions } from "./gemmF32.js";
import { NR, tileRows } from "./gemmKernel.js";
import { winograd4x4Kernel } from "./winograd4x4Kernel.js";
import { paddedRows, roundUp, SKEW, winogradShape } from "./winogradF32.js";

/** Floats of a block's V: 256 KiB, so V and M stay in L2 from the transforms to the products and back. */
const BLOCK_FLOATS = 2 ** 16;

/** The images a vector of the transforms holds. */
export const IMAGES_TOGETHER = 4;

/** Whether a convolution runs by F(4×4, 3×3): {@link winogradShape}, with whole 4×4 tiles. */
export function winograd4x4Applies(g: Geometry, p: Conv2dParams): boolean {
  return winogradShape(g, p) && g.h % 4 === 0 && g.w % 4 === 0;
}

/** Floats of {@link winograd4x4Weights}' result for o output and c input channels. */
export function winograd4x4WeightsSize(o: number, c: number): number {
  return 36 * paddedRows(o) * c;
}

/** G a for a kernel's row or column a = [a0 a1 a2], G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1]. */
function timesG(a0: number, a1: number, a2: number, out: Float64Array, at: number, step: number): void {
  const outer = (a0 + a2) / -6;
  const ends = a0 / 24 + a2 / 6;
  out[at] = a0 / 4;
  out[at + step] = outer - a1 / 6;
  out[at + 2 * step] = outer + a1 / 6;
  out[at + 3 * step] = ends + a1 / 12;
  out[at + 4 * step] = ends - a1 / 12;
  out[at + 5 * step] = a2;
}

const gg = new Float64Array(18); // G g: six rows of three
const ggg = new Float64Array(36); // G g Gᵀ

/**
 * U = G g Gᵀ of every 3×3 kernel g (w: [o, c, 3, 3]), in float64 and rounded once, written into
 * `out` packed as the block kernel's A: for each ξ = 6i + j, panels of mr output channels over the
 * depth c (rows past o are zero). With `flipped`, w is [c, o, 3, 3] and kernel (k, ch) is w[ch, k]
 * turned by 180°: the weights of an input gradient as a convolution, read in place.
 */
export function winograd4x4Weights(w: TypedArray, o: number, c: number, out: Float32Array, flipped = false): void {
  const mr = tileRows(o);
  const xi = paddedRows(o) * c; // floats per transformed element ξ
  if (paddedRows(o) > o) out.fill(0, 0, winograd4x4WeightsSize(o, c));
  for (let k = 0; k < o; k++) {
    const at = Math.floor(k / mr) * mr * c + (k % mr);
    for (let ch = 0; ch < c; ch++) {
      // element e of the kernel is w[first + e·step]
      const first = flipped ? (ch * o + k) * 9 + 8 : (k * c + ch) * 9;
      const step = flipped ? -1 : 1;
      for (let s = 0; s < 3; s++) timesG(w[first + s * step], w[first + (3 + s) * step], w[first + (6 + s) * step], gg, s, 3);
      for (let i = 0; i < 6; i++) timesG(gg[3 * i], gg[3 * i + 1], gg[3 * i + 2], ggg, 6 * i, 1);
      const to = at + ch * mr;
      for (let e = 0; e < 36; e++) out[to + e * xi] = ggg[e];
    }
  }
}

/**
 * y[n] for images `from`…`to` of x: [n, c, h, w] convolved with the weights `u` that
 * {@link winograd4x4Weights} transformed, into y: [n, o, h, w]. Images are independent (each is a
 * lane of the transforms and its own columns of the products), so any split between threads gives
 * the same values; splits at multiples of {@link IMAGES_TOGETHER} leave no lane idle.
 */
export function conv2dWinograd4x4F32(x: TypedArray, u: Float32Array, y: TypedArray, g: Geometry, from: number, to: number): void {
  const { c, h, w, o } = g;
  const rows = paddedRows(o);
  const mr = tileRows(o);
  const plane = h * w;
  const tilesPerRow = w / 4;
  const tileRowsPerBlock = Math.max(1, Math.min(h / 4, Math.floor(BLOCK_FLOATS / (36 * c * tilesPerRow * IMAGES_TOGETHER))));
  const blockColumns = roundUp(tileRowsPerBlock * tilesPerRow * IMAGES_TOGETHER, NR);
  const row = (w + 2) * 16; // a padded row of pixels, four floats each
  const paddedChannel = (h + 2) * row;
  const sizes = {
    u: winograd4x4WeightsSize(o, c) * 4, images: IMAGES_TOGETHER * c * plane * 4, padded: c * paddedChannel,
    v: 36 * (c * blockColumns * 4 + SKEW), m: 36 * (rows * blockColumns * 4 + SKEW), out: IMAGES_TOGETHER * o * plane * 4,
  };
  const { kernel, at: [uAt, imagesAt, paddedAt, vAt, mAt, outAt] } = workspaceRegions(Object.values(sizes));
  const wk = winograd4x4Kernel(kernel.memory);
  const mem = new Float32Array(kernel.memory.buffer);
  mem.set(u.subarray(0, sizes.u / 4), uAt / 4);
  mem.fill(0, paddedAt / 4, (paddedAt + sizes.padded) / 4); // the borders; each round rewrites the rest
  const vXi = c * blockColumns * 4 + SKEW;
  const mXi = rows * blockColumns * 4 + SKEW;
  for (let first = from; first < to; first += IMAGES_TOGETHER) {
    const count = Math.min(IMAGES_TOGETHER, to - first);
    // lanes past `count` hold stale values: they reach only their own columns, which are not copied out
    mem.set(x.subarray(first * c * plane, (first + count) * c * plane), imagesAt / 4);
    wk.interleave(imagesAt, paddedAt, c, h, w, c * plane * 4, row, paddedChannel);
    for (let ty0 = 0; ty0 < h / 4; ty0 += tileRowsPerBlock) {
      const tileRowCount = Math.min(tileRowsPerBlock, h / 4 - ty0);
      const columns = roundUp(tileRowCount * tilesPerRow * IMAGES_TOGETHER, NR);
      wk.inputTiles(paddedAt + 4 * ty0 * row, vAt, c, tileRowCount, tilesPerRow, row, paddedChannel, c * NR * 4, vXi);
      for (let xi = 0; xi < 36; xi++) kernel.block[mr](uAt + xi * rows * c * 4, c * 4, vAt + xi * vXi, mAt + xi * mXi, rows, columns, c, columns * 4, 0);
      wk.outputTiles(mAt, outAt + 4 * ty0 * w * 4, o, tileRowCount, tilesPerRow, columns * 4, mXi, w * 4, plane * 4, o * plane * 4);
    }
    y.set(mem.subarray(outAt / 4, outAt / 4 + count * o * plane), first * o * plane);
  }
}
