// Float32 3×3 convolutions of stride 1 by Winograd's minimal filtering F(2×2, 3×3) (Lavin and
// Gray, 2016): each 2×2 output tile takes 16 multiplications per input channel where the direct
// product takes 36. Per image: the weights' and the input tiles' transforms, sixteen GEMMs on the
// SIMD block kernel (one per transformed element ξ: M_ξ = U_ξ · V_ξ, output channels by tiles,
// depth the input channels), and the output transform.
import type { Conv2dParams, TypedArray } from "@sam/tensor";
import type { Geometry } from "../geometry.js";
import { padPhased, workspaceRegions } from "./gemmF32.js";
import { NR, tileRows, type GemmKernel } from "./gemmKernel.js";
import { compileWinogradKernel, type WinogradKernel } from "./winogradKernel.js";

/** Fewer channels than this on either side leave the GEMMs too shallow or too narrow to pay for the transforms. */
const MIN_CHANNELS = 8;
/** The most tiles transformed at once: whole tile rows up to this many, so V and M stay in L2. */
const MAX_TILES = 256;

/**
 * Bytes added between the sixteen ξ blocks of V and M: the transforms touch all sixteen at once,
 * and blocks a multiple of 4 KiB apart would all fall in one set of the L1 cache.
 */
export const SKEW = 64;

export const roundUp = (v: number, to: number) => Math.ceil(v / to) * to;

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

let transforms: WinogradKernel | null | undefined;

/** The kernel's workspace for regions of these byte sizes, one after another: their addresses, and the transforms compiled into its memory. */
function laidOut(sizes: number[]): { kernel: GemmKernel; wk: WinogradKernel; at: number[] } {
  const { kernel, at } = workspaceRegions(sizes);
  transforms ??= compileWinogradKernel(kernel.memory);
  return { kernel, wk: transforms!, at };
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
  const { kernel, wk, at: [uAt, imageAt, paddedAt, vAt, mAt, outAt] } = laidOut(Object.values(sizes));
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

/**
 * Whether the weight gradient runs by Winograd: as {@link winogradApplies}, with the channels in
 * whole blocks of its transforms (eight input, four output channels to a pixel).
 */
export function winogradWeightGradientApplies(g: Geometry, p: Conv2dParams): boolean {
  return winogradApplies(g, p) && g.c % 8 === 0 && g.o % 4 === 0;
}

/** Floats of a weight-gradient block's V and transformed dy: about 512 KiB, so they stay in L2 from their transforms to the products. */
const GRADIENT_BLOCK_FLOATS = 2 ** 17;

/** One stretch of a block's tiles: tile rows ty0…ty0+rows of an image. */
interface TileRun {
  image: number;
  ty0: number;
  rows: number;
}

/**
 * Blocks of tiles, each the depth of one round of sixteen products: whole images while an image's
 * tiles fit in `target`, else runs of whole tile rows. Fixed by the shapes alone.
 */
function gradientBlocks(n: number, tileRowCount: number, tilesPerRow: number, target: number): TileRun[][] {
  const blocks: TileRun[][] = [];
  const perImage = tileRowCount * tilesPerRow;
  if (perImage <= target) {
    const images = Math.floor(target / perImage);
    for (let i = 0; i < n; i += images) {
      blocks.push(Array.from({ length: Math.min(images, n - i) }, (_, k) => ({ image: i + k, ty0: 0, rows: tileRowCount })));
    }
    return blocks;
  }
  const rowsPerBlock = Math.max(1, Math.floor(target / tilesPerRow));
  for (let image = 0; image < n; image++) {
    for (let ty0 = 0; ty0 < tileRowCount; ty0 += rowsPerBlock) blocks.push([{ image, ty0, rows: Math.min(rowsPerBlock, tileRowCount - ty0) }]);
  }
  return blocks;
}

/** Floats of the sixteen products {@link winogradWeightGradientProducts} writes: [16, o, c]. */
export function winogradProductsSize(o: number, c: number): number {
  return 16 * o * c;
}

/**
 * The weight gradient's sixteen products for the g.n images of x and dy, written to `m` as
 * [ξ, o, c] (see {@link winogradWeightGradient}): M_ξ [o × c] = (S A dy Aᵀ S)_ξ [o × tiles] ·
 * (Bᵀ d B)_ξᵀ [tiles × c], whose depth is the tiles of every image. The input and dy are laid out
 * with their channels side by side (eight and four to a pixel) so that their transforms write the
 * GEMMs' panels directly.
 */
export function winogradWeightGradientProducts(x: TypedArray, dy: TypedArray, m: TypedArray, g: Geometry): void {
  const { n, c, h, w, o } = g;
  if (n === 0) {
    m.fill(0, 0, winogradProductsSize(o, c));
    return;
  }
  const tilesPerRow = w / 2;
  const target = Math.max(tilesPerRow, Math.floor(GRADIENT_BLOCK_FLOATS / (16 * (c + o))));
  const blocks = gradientBlocks(n, h / 2, tilesPerRow, target);
  const maxTiles = Math.max(...blocks.map((b) => b.reduce((s, r) => s + r.rows * tilesPerRow, 0)));
  const pw = w + 2;
  const paddedPlane = (h + 2) * pw;
  const plane = h * w;
  const sizes = {
    xImage: c * plane * 4, padded: c * paddedPlane * 4, dyImage: o * plane * 4, dyPixels: o * plane * 4,
    v: 16 * (c * maxTiles * 4 + SKEW), d: 16 * (o * maxTiles * 4 + SKEW), m: winogradProductsSize(o, c) * 4,
  };
  const { kernel, wk, at: [xAt, paddedAt, dyAt, dyPixelsAt, vAt, dAt, mAt] } = laidOut(Object.values(sizes));
  const mem = new Float32Array(kernel.memory.buffer);
  mem.fill(0, paddedAt / 4, (paddedAt + sizes.padded) / 4); // the borders; each image rewrites the rest
  let staged = -1;
  blocks.forEach((block, index) => {
    const tiles = block.reduce((s, r) => s + r.rows * tilesPerRow, 0);
    const [vXi, dXi] = [c * tiles * 4 + SKEW, o * tiles * 4 + SKEW];
    let t0 = 0;
    for (const { image, ty0, rows } of block) {
      if (image !== staged) {
        // x as blocks of eight channels a pixel, zero-padded; dy as blocks of four
        mem.set(x.subarray(image * c * plane, (image + 1) * c * plane), xAt / 4);
        for (let y = 0; y < h; y++) kernel.transposePanelsB(xAt + y * w * 4, paddedAt + ((y + 1) * pw + 1) * 32, c / 8, w, plane * 4, paddedPlane * 32);
        mem.set(dy.subarray(image * o * plane, (image + 1) * o * plane), dyAt / 4);
        kernel.transposePanelsA[4](dyAt, dyPixelsAt, o / 4, plane, plane * 4, plane * 16);
        staged = image;
      }
      wk.inputTilesByChannel(paddedAt + 2 * ty0 * pw * 32, vAt + t0 * 32, c / 8, rows, tilesPerRow, pw * 32, paddedPlane * 32, tiles * 32, vXi);
      wk.gradientTilesByChannel(dyPixelsAt + 2 * ty0 * w * 16, dAt + t0 * 16, o / 4, rows, tilesPerRow, w * 16, plane * 16, tiles * 16, dXi);
      t0 += rows * tilesPerRow;
    }
    for (let xi = 0; xi < 16; xi++) kernel.block[4](dAt + xi * dXi, tiles * 4, vAt + xi * vXi, mAt + xi * o * c * 4, o, c, tiles, c * 4, index > 0 ? 1 : 0);
  });
  m.set(mem.subarray(mAt / 4, mAt / 4 + winogradProductsSize(o, c)));
}

/**
 * dW [o, c, 3, 3] from the sixteen products summed over the batch: the forward pass is
 * y = Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A per tile, so dW = Gᵀ[Σ over tiles (A dy Aᵀ) ⊙ (Bᵀ d B)]G = Gᵀ (S M S) G
 * with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] and S = diag(1, 1, 1, −1) (the signs the dy transform left
 * out); in float64, rounded once.
 */
export function winogradWeightGradient(m: TypedArray, dw: TypedArray, o: number, c: number): void {
  const oc = o * c;
  for (let k = 0; k < oc; k++) {
    // column j of S M S is v[j], v[4 + j], v[8 + j], v[12 + j] (v[ξ] = m[ξ·oc + k]), the last column negated
    const v0 = m[k], v1 = m[oc + k], v2 = m[2 * oc + k], v3 = m[3 * oc + k];
    const v4 = m[4 * oc + k], v5 = m[5 * oc + k], v6 = m[6 * oc + k], v7 = m[7 * oc + k];
    const v8 = m[8 * oc + k], v9 = m[9 * oc + k], v10 = m[10 * oc + k], v11 = m[11 * oc + k];
    const v12 = m[12 * oc + k], v13 = m[13 * oc + k], v14 = m[14 * oc + k], v15 = m[15 * oc + k];
    // T = Gᵀ S M S (3×4), row by row, then each row times G
    const out = k * 9;
    rowTimesG(dw, out, v0 + (v4 + v8) / 2, v1 + (v5 + v9) / 2, v2 + (v6 + v10) / 2, -(v3 + (v7 + v11) / 2));
    rowTimesG(dw, out + 3, (v4 - v8) / 2, (v5 - v9) / 2, (v6 - v10) / 2, -(v7 - v11) / 2);
    rowTimesG(dw, out + 6, (v4 + v8) / 2 - v12, (v5 + v9) / 2 - v13, (v6 + v10) / 2 - v14, -((v7 + v11) / 2 - v15));
  }
}

/** One row [t0 t1 t2 t3] of Gᵀ S M S times G: [t0 + (t1 + t2)/2, (t1 − t2)/2, (t1 + t2)/2 + t3]. */
function rowTimesG(dw: TypedArray, at: number, t0: number, t1: number, t2: number, t3: number): void {
  dw[at] = t0 + (t1 + t2) / 2;
  dw[at + 1] = (t1 - t2) / 2;
  dw[at + 2] = (t1 + t2) / 2 + t3;
}
