// The weight gradient of float32 3×3 stride-1 convolutions by Winograd's minimal filtering, in
// F(4×4, 3×3) or F(2×2, 3×3) tiles (Lavin and Gray, 2016). The forward pass is
// y = Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A per tile, so dW = Gᵀ[Σ over tiles (A dy Aᵀ) ⊙ (Bᵀ d B)]G: one GEMM
// per transformed element ξ, M_ξ [o × c] = (A dy Aᵀ)_ξ [o × tiles] · (Bᵀ d B)_ξᵀ [tiles × c], whose
// depth is the tiles of a chunk of images; the chunks' products are added in order by the caller
// and transformed into dW once, in float64.
import type { Conv2dParams, TypedArray } from "@sam/tensor";
import type { Geometry } from "../geometry.js";
import { workspaceRegions } from "./gemmF32.js";
import type { GemmKernel } from "./gemmKernel.js";
import { winograd4x4Applies } from "./winograd4x4F32.js";
import { winograd4x4Kernel } from "./winograd4x4Kernel.js";
import { SKEW, winogradApplies, type WinogradTile } from "./winogradF32.js";
import { winogradKernel, type TilesByChannel } from "./winogradKernel.js";

/**
 * The output tile Winograd takes a weight gradient in: F(4×4, 3×3) where its tiles fit, else
 * F(2×2, 3×3), else none (the direct product). Both want the channels in whole blocks of their
 * transforms (eight input, four output channels to a pixel).
 */
export function weightGradientTile(g: Geometry, p: Conv2dParams): WinogradTile | null {
  if (g.c % 8 !== 0 || g.o % 4 !== 0) return null;
  if (winograd4x4Applies(g, p)) return 4;
  return winogradApplies(g, p) ? 2 : null;
}

/** Transformed elements ξ of a tile: (tile + 2)². */
function elements(tile: WinogradTile): number {
  return (tile + 2) ** 2;
}

/** Floats of the products {@link winogradWeightGradientProducts} writes: [ξ, o, c]. */
export function winogradProductsSize(tile: WinogradTile, o: number, c: number): number {
  return elements(tile) * o * c;
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
 * Blocks of tiles, each the depth of one round of products: whole images while an image's
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

/** The two transforms of a tile's weight gradient, compiled into the GEMM kernel's memory. */
function transforms(tile: WinogradTile, memory: GemmKernel["memory"]): { input: TilesByChannel; gradient: TilesByChannel } {
  const wk = tile === 4 ? winograd4x4Kernel(memory) : winogradKernel(memory);
  return { input: wk.inputTilesByChannel, gradient: wk.gradientTilesByChannel };
}

/**
 * The weight gradient's products for the g.n images of x and dy in tiles of `tile`², written to
 * `m` as [ξ, o, c] (see {@link winogradWeightGradient}). The input and dy are laid out with their
 * channels side by side (eight and four to a pixel) so that their transforms write the GEMMs'
 * panels directly.
 */
export function winogradWeightGradientProducts(x: TypedArray, dy: TypedArray, m: TypedArray, g: Geometry, tile: WinogradTile): void {
  const { n, c, h, w, o } = g;
  const xis = elements(tile);
  if (n === 0) {
    m.fill(0, 0, winogradProductsSize(tile, o, c));
    return;
  }
  const tilesPerRow = w / tile;
  const target = Math.max(tilesPerRow, Math.floor(GRADIENT_BLOCK_FLOATS / (xis * (c + o))));
  const blocks = gradientBlocks(n, h / tile, tilesPerRow, target);
  const maxTiles = Math.max(...blocks.map((b) => b.reduce((s, r) => s + r.rows * tilesPerRow, 0)));
  const pw = w + 2;
  const paddedPlane = (h + 2) * pw;
  const plane = h * w;
  const sizes = {
    xImage: c * plane * 4, padded: c * paddedPlane * 4, dyImage: o * plane * 4, dyPixels: o * plane * 4,
    v: xis * (c * maxTiles * 4 + SKEW), d: xis * (o * maxTiles * 4 + SKEW), m: winogradProductsSize(tile, o, c) * 4,
  };
  const { kernel, at: [xAt, paddedAt, dyAt, dyPixelsAt, vAt, dAt, mAt] } = workspaceRegions(Object.values(sizes));
  const wk = transforms(tile, kernel.memory);
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
      wk.input(paddedAt + tile * ty0 * pw * 32, vAt + t0 * 32, c / 8, rows, tilesPerRow, pw * 32, paddedPlane * 32, tiles * 32, vXi);
      wk.gradient(dyPixelsAt + tile * ty0 * w * 16, dAt + t0 * 16, o / 4, rows, tilesPerRow, w * 16, plane * 16, tiles * 16, dXi);
      t0 += rows * tilesPerRow;
    }
    for (let xi = 0; xi < xis; xi++) kernel.block[4](dAt + xi * dXi, tiles * 4, vAt + xi * vXi, mAt + xi * o * c * 4, o, c, tiles, c * 4, index > 0 ? 1 : 0);
  });
  m.set(mem.subarray(mAt / 4, mAt / 4 + winogradProductsSize(tile, o, c)));
}

/** dW [o, c, 3, 3] from the products of tiles of `tile`² summed over the batch, in float64, rounded once. */
export function winogradWeightGradient(m: TypedArray, dw: TypedArray, o: number, c: number, tile: WinogradTile): void {
  if (tile === 4) weightGradient4x4(m, dw, o, c);
  else weightGradient2x2(m, dw, o, c);
}

const gtm = new Float64Array(18); // Gᵀ M: three rows of six

/** Gᵀ u for six values u spaced `step` apart in `from` (from at), written to out at, at + outStep, at + 2·outStep. */
function timesGt(from: ArrayLike<number>, fromAt: number, step: number, out: Float64Array | TypedArray, at: number, outStep: number): void {
  const u1 = from[fromAt + step], u2 = from[fromAt + 2 * step], u3 = from[fromAt + 3 * step], u4 = from[fromAt + 4 * step];
  const inner = (u1 + u2) / 6;
  const outer = (u3 + u4) / 6;
  out[at] = from[fromAt] / 4 - inner + outer / 4;
  out[at + outStep] = (u2 - u1) / 6 + (u3 - u4) / 12;
  out[at + 2 * outStep] = outer - inner + from[fromAt + 5 * step];
}

/** F(4×4, 3×3)'s dW = Gᵀ M G with G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1⁄24 1⁄12 ⅙; 1⁄24 −1⁄12 ⅙; 0 0 1]. */
function weightGradient4x4(m: TypedArray, dw: TypedArray, o: number, c: number): void {
  const oc = o * c;
  for (let k = 0; k < oc; k++) {
    for (let j = 0; j < 6; j++) timesGt(m, j * oc + k, 6 * oc, gtm, j, 6); // column j of M
    for (let r = 0; r < 3; r++) timesGt(gtm, 6 * r, 1, dw, k * 9 + 3 * r, 1); // row r of Gᵀ M, times G
  }
}

/**
 * F(2×2, 3×3)'s dW = Gᵀ (S M S) G with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1] and S = diag(1, 1, 1, −1)
 * (the signs its dy transform left out).
 */
function weightGradient2x2(m: TypedArray, dw: TypedArray, o: number, c: number): void {
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
