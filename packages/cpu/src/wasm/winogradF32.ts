// Float32 3×3 convolutions of stride 1 by Winograd's minimal filtering F(2×2, 3×3) (Lavin and
// Gray, 2016): each 2×2 output tile takes 16 multiplications per input channel where the direct
// product takes 36. Per image: the weights' and the input tiles' transforms, sixteen GEMMs on the
// SIMD block kernel (one per transformed element ξ: M_ξ = U_ξ · V_ξ, output channels by tiles,
// depth the input channels), and the output transform. Also what the other Winograd files share:
// which convolutions Winograd takes, the weights' padded rows, the skew between ξ blocks.
import type { Conv2dParams, TypedArray } from "@sam/tensor";
import type { Geometry } from "../geometry.js";
import { padPhased, workspaceRegions } from "./gemmF32.js";
import { NR, tileRows } from "./gemmKernel.js";
import { winogradKernel } from "./winogradKernel.js";

/** Fewer channels than this on either side leave the GEMMs too shallow or too narrow to pay for the transforms. */
const MIN_CHANNELS = 8;
/** The most tiles transformed at once: whole tile rows up to this many, so V and M stay in L2. */
const MAX_TILES = 256;

/**
 * Bytes added between the ξ blocks of V and M (16, or 36 for F(4×4, 3×3)): the transforms touch
 * them all at once, and blocks a multiple of 4 KiB apart would all fall in one set of the L1 cache.
 */
export const SKEW = 64;

export const roundUp = (v: number, to: number) => Math.ceil(v / to) * to;

/** The side of a Winograd output tile: F(2×2, 3×3) or F(4×4, 3×3). */
export type WinogradTile = 2 | 4;

/**
 * Whether a convolution is one Winograd's minimal filtering takes: 3×3, stride 1, padding 1, no
 * dilation or groups, and at least {@link MIN_CHANNELS} input and output channels.
 */
export function winogradShape(g: Geometry, p: Conv2dParams): boolean {
  return g.kh === 3 && g.kw === 3 && p.groups === 1 && [...p.stride, ...p.dilation, ...p.padding].every((v) => v === 1) &&
    g.ho === g.h && g.wo === g.w && g.c >= MIN_CHANNELS && g.o >= MIN_CHANNELS;
}

/**
 * Whether a convolution runs by Winograd F(2×2, 3×3): {@link winogradShape}, with whole 2×2 tiles
 * and rows of tiles in fours (the transforms' vectors).
 */
export function winogradApplies(g: Geometry, p: Conv2dParams): boolean {
  return winogradShape(g, p) && g.h % 2 === 0 && g.w % 8 === 0;
}

/** Rows of U (the output channels) padded to the block kernel's tile height. */
export function paddedRows(o: number): number {
  return roundUp(o, tileRows(o));
}

/** Floats of {@link winogradWeights}' result for o output and c input channels. */
export function winogradWeightsSize(o: number, c: number): number {
  return 16 * paddedRows(o) * c;
}

/**
 * U = G g Gᵀ of every 3×3 kernel g (w: [o, c, 3, 3]), G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], computed
 * in float64 and rounded once, written into `out` packed as the block kernel's A: for each ξ,
 * panels of mr output channels over the depth c (rows past o are zero). With `flipped`, w is
 * [c, o, 3, 3] and kernel (k, ch) is w[ch, k] turned by 180°: the weights of an input gradient as a
 * convolution, read in place.
 */
export function winogradWeights(w: TypedArray, o: number, c: number, out: Float32Array, flipped = false): void {
  const mr = tileRows(o);
  const rows = paddedRows(o);
  const xi = rows * c; // floats per transformed element ξ
  if (rows > o) out.fill(0, 0, winogradWeightsSize(o, c)); // the panels' rows past o
  // scalars, not a scratch array: this runs for every call's weights (m-sharpness: every group's)
  for (let k = 0; k < o; k++) {
    const at = Math.floor(k / mr) * mr * c + (k % mr);
    for (let ch = 0; ch < c; ch++) {
      // element e of the kernel is w[g + e], or w[g + 8 − e] turned
      const g = flipped ? (ch * o + k) * 9 : (k * c + ch) * 9;
      const first = flipped ? g + 8 : g;
      const step = flipped ? -1 : 1;
      const g00 = w[first], g01 = w[first + step], g02 = w[first + 2 * step];
      const g10 = w[first + 3 * step], g11 = w[first + 4 * step], g12 = w[first + 5 * step];
      const g20 = w[first + 6 * step], g21 = w[first + 7 * step], g22 = w[first + 8 * step];
      // the rows of G g, each times Gᵀ into ξ = 4i … 4i + 3
      const to = at + ch * mr;
      rowTimesGt(out, to, xi, g00, g01, g02);
      rowTimesGt(out, to + 4 * xi, xi, (g00 + g10 + g20) / 2, (g01 + g11 + g21) / 2, (g02 + g12 + g22) / 2);
      rowTimesGt(out, to + 8 * xi, xi, (g00 - g10 + g20) / 2, (g01 - g11 + g21) / 2, (g02 - g12 + g22) / 2);
      rowTimesGt(out, to + 12 * xi, xi, g20, g21, g22);
    }
  }
}

/** One row [a0 a1 a2] of G g times Gᵀ: [a0, (a0 + a1 + a2)/2, (a0 − a1 + a2)/2, a2], ξ-blocks `xi` apart. */
function rowTimesGt(out: Float32Array, to: number, xi: number, a0: number, a1: number, a2: number): void {
  out[to] = a0;
  out[to + xi] = (a0 + a1 + a2) / 2;
  out[to + 2 * xi] = (a0 - a1 + a2) / 2;
  out[to + 3 * xi] = a2;
}

/**
 * y[n] for images `from`…`to` of x: [n, c, h, w] convolved with the weights `u` that
 * {@link winogradWeights} transformed, into y: [n, o, h, w]. Images are independent, so any split
 * between threads gives the same values.
 */
export function conv2dWinogradF32(x: TypedArray, u: Float32Array, y: TypedArray, g: Geometry, from: number, to: number): void {
  const { c, h, w, o } = g;
  const rows = paddedRows(o);
  const mr = tileRows(o);
  const tilesPerRow = w / 2;
  const tileRowsPerBlock = Math.max(1, Math.min(h / 2, Math.floor(MAX_TILES / tilesPerRow)));
  const blockTiles = roundUp(tileRowsPerBlock * tilesPerRow, NR);
  const phase = (tilesPerRow + 1) * 4; // E and O of a padded row: w/2 + 1 floats each
  const row = 2 * phase;
  const padChannel = (h + 2) * row;
  const sizes = { u: winogradWeightsSize(o, c) * 4, image: c * h * w * 4, padded: c * padChannel, v: 16 * (c * blockTiles * 4 + SKEW), m: 16 * (rows * blockTiles * 4 + SKEW), out: o * h * w * 4 };
  const { kernel, at: [uAt, imageAt, paddedAt, vAt, mAt, outAt] } = workspaceRegions(Object.values(sizes));
  const wk = winogradKernel(kernel.memory);
  const mem = new Float32Array(kernel.memory.buffer);
  mem.set(u.subarray(0, sizes.u / 4), uAt / 4);
  mem.fill(0, paddedAt / 4, (paddedAt + sizes.padded) / 4); // the borders; padPhased rewrites the rest per image
  const vXi = c * blockTiles * 4 + SKEW;
  const mXi = rows * blockTiles * 4 + SKEW;
  for (let image = from; image < to; image++) {
    mem.set(x.subarray(image * c * h * w, (image + 1) * c * h * w), imageAt / 4);
    padPhased(imageAt, paddedAt + row, c, h, w, h * w * 4, padChannel, row, phase);
    for (let ty0 = 0; ty0 < h / 2; ty0 += tileRowsPerBlock) {
      const tileRowCount = Math.min(tileRowsPerBlock, h / 2 - ty0);
      const tiles = roundUp(tileRowCount * tilesPerRow, NR); // columns past the tiles hold stale values that only reach unused columns of M
      wk.inputTiles(paddedAt + 2 * ty0 * row, vAt, c, tileRowCount, tilesPerRow, row, phase, padChannel, c * NR * 4, vXi);
      for (let xi = 0; xi < 16; xi++) kernel.block[mr](uAt + xi * rows * c * 4, c * 4, vAt + xi * vXi, mAt + xi * mXi, rows, tiles, c, tiles * 4, 0);
      wk.outputTiles(mAt, outAt + 2 * ty0 * w * 4, o, tileRowCount, tilesPerRow, tiles * 4, mXi, w * 4, h * w * 4);
    }
    y.set(mem.subarray(outAt / 4, outAt / 4 + o * h * w), image * o * h * w);
  }
}
