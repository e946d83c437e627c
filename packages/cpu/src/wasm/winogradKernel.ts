// Winograd F(2×2, 3×3)'s transforms in WebAssembly SIMD, four tiles a vector: the input tiles
// (from rows padded by padPhased, layoutKernels.ts) into the GEMM's B panels, and the products back into 2×2 output tiles. Emitted at load time by
// the module builder into a module that shares the GEMM kernel's memory, so the block kernel
// multiplies what these write.
import { buildModule, Code, I32, V128 } from "./builder.js";
import type { GemmKernel } from "./gemmKernel.js";

/** The transforms, on byte addresses in the shared memory: see each emitter. */
export interface WinogradKernel {
  inputTiles: (src: number, dst: number, channels: number, tileRows: number, tilesPerRow: number, row: number, phase: number, srcChannel: number, panel: number, xi: number) => void;
  outputTiles: (src: number, dst: number, channels: number, tileRows: number, tilesPerRow: number, mRow: number, xi: number, outRow: number, outChannel: number) => void;
  inputTilesByChannel: TilesByChannel;
  gradientTilesByChannel: TilesByChannel;
}

/**
 * A transform for the weight gradient, over planes whose pixels hold a block of channels side by
 * side: `(src, dst, blocks, tileRows, tilesPerRow, row, srcBlock, dstBlock, xi)` — block b's plane
 * at src + b·srcBlock (bytes; row stride `row`), tile t's element ξ of the block's channels written
 * at dst + b·dstBlock + ξ·xi + t·(bytes a pixel): the rows of GEMM panels whose depth is the tiles.
 */
export type TilesByChannel = (src: number, dst: number, blocks: number, tileRows: number, tilesPerRow: number, row: number, srcBlock: number, dstBlock: number, xi: number) => void;

/** Emits column j of Bᵀd from the tile's column j (rows r[0…3]) into a[4i + j], Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]. */
function columnOfBd(c: Code, r: number[], a: number[], j: number): void {
  c.get(r[0]).get(r[2]).f32x4Sub().set(a[j]);
  c.get(r[1]).get(r[2]).f32x4Add().set(a[4 + j]);
  c.get(r[2]).get(r[1]).f32x4Sub().set(a[8 + j]);
  c.get(r[1]).get(r[3]).f32x4Sub().set(a[12 + j]);
}

/**
 * `inputTiles(src, dst, channels, tileRows, tilesPerRow, row, phase, srcChannel, panel, xi)`:
 * V = Bᵀ d B of every 4×4 input tile d (tile (ty, tx) covers padded rows 2ty…2ty+3 and columns
 * 2tx…2tx+3) of a plane padded by one pixel and stored as padPhased writes it, four tiles along a row at a time (tilesPerRow a multiple of
 * 4). With Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], rows first, then columns. Element ξ of
 * tile t, channel c goes where the GEMM's B panels want it: dst + ξ·xi + ⌊t/8⌋·panel + c·32 +
 * (t mod 8)·4. A tile's columns 2tx, 2tx+1, 2tx+2, 2tx+3 are E[tx], O[tx], E[tx+1], O[tx+1].
 */
function inputTilesCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, CHANNELS, TILE_ROWS, TILES_PER_ROW, ROW, PHASE, SRC_CHANNEL, PANEL, XI] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [ch, ty, tx, t, out] = [I32, I32, I32, I32, I32].map((k) => c.local(k));
  const even = [0, 1, 2, 3].map(() => c.local(I32)); // E of rows 0…3, at tx
  const odd = [0, 1, 2, 3].map(() => c.local(I32)); // O of rows 0…3, at tx
  const r = [0, 1, 2, 3].map(() => c.local(V128));
  const a = Array.from({ length: 16 }, () => c.local(V128)); // Bᵀd: a[4i + j], row i, column j
  c.i32(0).set(ch);
  c.loop(ch, 1, CHANNELS, () => {
    c.i32(0).set(ty);
    c.loop(ty, 1, TILE_ROWS, () => {
      c.i32(0).set(tx);
      c.loop(tx, 4, TILES_PER_ROW, () => {
        c.get(SRC).get(ch).get(SRC_CHANNEL).mul().add().get(ty).get(ROW).i32(2).mul().mul().add().get(tx).i32(4).mul().add().set(even[0]);
        for (let i = 1; i < 4; i++) c.get(even[i - 1]).get(ROW).add().set(even[i]);
        for (let i = 0; i < 4; i++) c.get(even[i]).get(PHASE).add().set(odd[i]);
        for (let j = 0; j < 4; j++) {
          for (let i = 0; i < 4; i++) c.get(j % 2 === 0 ? even[i] : odd[i]).load(j < 2 ? 0 : 4).set(r[i]);
          columnOfBd(c, r, a, j);
        }
        c.get(ty).get(TILES_PER_ROW).mul().get(tx).add().set(t);
        c.get(DST).get(t).i32(3).shrU().get(PANEL).mul().add().get(ch).i32(32).mul().add().get(t).i32(7).and().i32(4).mul().add().set(out);
        for (let i = 0; i < 4; i++) {
          const [a0, a1, a2, a3] = [a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]];
          const columns: [number, number, boolean][] = [[a0, a2, false], [a1, a2, true], [a2, a1, false], [a1, a3, false]];
          for (const [u, v, plus] of columns) {
            c.get(out).get(u).get(v);
            if (plus) c.f32x4Add();
            else c.f32x4Sub();
            c.store(0);
            c.get(out).get(XI).add().set(out);
          }
        }
      });
    });
  });
  return c;
}

/**
 * `outputTiles(src, dst, channels, tileRows, tilesPerRow, mRow, xi, outRow, outChannel)`: the
 * 2×2 output tile Aᵀ m A of every tile, m's element ξ of channel o, tile t at src + ξ·xi + o·mRow
 * + t·4 (the GEMM's product rows), with Aᵀ = [1 1 1 0; 0 1 −1 −1]; written to output rows 2ty,
 * 2ty + 1 and columns 2tx, 2tx + 1 of channel o's plane (dst + o·outChannel, row stride outRow).
 */
function outputTilesCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, CHANNELS, TILE_ROWS, TILES_PER_ROW, M_ROW, XI, OUT_ROW, OUT_CHANNEL] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [o, ty, tx, p, q] = [I32, I32, I32, I32, I32].map((k) => c.local(k));
  const m = Array.from({ length: 16 }, () => c.local(V128));
  const s = Array.from({ length: 8 }, () => c.local(V128)); // Aᵀm: s[4i + j], row i of 2, column j
  const y = Array.from({ length: 4 }, () => c.local(V128)); // y00, y01, y10, y11
  c.i32(0).set(o);
  c.loop(o, 1, CHANNELS, () => {
    c.i32(0).set(ty);
    c.loop(ty, 1, TILE_ROWS, () => {
      c.i32(0).set(tx);
      c.loop(tx, 4, TILES_PER_ROW, () => {
        c.get(SRC).get(o).get(M_ROW).mul().add().get(ty).get(TILES_PER_ROW).mul().get(tx).add().i32(4).mul().add().set(p);
        for (const v of m) c.get(p).load(0).set(v).get(p).get(XI).add().set(p);
        for (let j = 0; j < 4; j++) {
          c.get(m[j]).get(m[4 + j]).f32x4Add().get(m[8 + j]).f32x4Add().set(s[j]);
          c.get(m[4 + j]).get(m[8 + j]).f32x4Sub().get(m[12 + j]).f32x4Sub().set(s[4 + j]);
        }
        for (let i = 0; i < 2; i++) {
          c.get(s[4 * i]).get(s[4 * i + 1]).f32x4Add().get(s[4 * i + 2]).f32x4Add().set(y[2 * i]);
          c.get(s[4 * i + 1]).get(s[4 * i + 2]).f32x4Sub().get(s[4 * i + 3]).f32x4Sub().set(y[2 * i + 1]);
        }
        c.get(DST).get(o).get(OUT_CHANNEL).mul().add().get(ty).get(OUT_ROW).i32(2).mul().mul().add().get(tx).i32(8).mul().add().set(q);
        for (let i = 0; i < 2; i++) {
          // columns 2tx, 2tx+1 of four tiles: the two vectors' lanes interleaved
          c.get(q).get(y[2 * i]).get(y[2 * i + 1]).shuffleLanes([0, 4, 1, 5]).store(0);
          c.get(q).get(y[2 * i]).get(y[2 * i + 1]).shuffleLanes([2, 6, 3, 7]).store(16);
          c.get(q).get(OUT_ROW).add().set(q);
        }
      });
    });
  });
  return c;
}

/** Emits: the vector `value` pushes stored at q, then q advanced by xi bytes (the next element ξ). */
export function storeNext(c: Code, q: number, XI: number, value: () => void): void {
  c.get(q);
  value();
  c.store(0).get(q).get(XI).add().set(q);
}

/**
 * Emits the loops of a {@link TilesByChannel} transform over pixels of `pixelBytes`, `halves`
 * vectors of four channels each, tiles `step` rows and pixels apart (the output tile's side):
 * `tile(p, out, ROW)` with p the address of the tile's first pixel (of this half) and out where
 * its element 0 goes.
 */
export function byChannelLoops(c: Code, pixelBytes: number, halves: number, tile: (p: number, out: number, ROW: number) => void, step = 2): void {
  const [SRC, DST, BLOCKS, TILE_ROWS, TILES_PER_ROW, ROW, SRC_BLOCK, DST_BLOCK] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [b, ty, tx, p, out] = [I32, I32, I32, I32, I32].map((k) => c.local(k));
  c.i32(0).set(b);
  c.loop(b, 1, BLOCKS, () => {
    for (let half = 0; half < halves; half++) {
      c.i32(0).set(ty);
      c.loop(ty, 1, TILE_ROWS, () => {
        c.i32(0).set(tx);
        c.loop(tx, 1, TILES_PER_ROW, () => {
          // a tile starts step·ty rows and step·tx pixels in; tile t = ty·tilesPerRow + tx
          c.get(SRC).get(b).get(SRC_BLOCK).mul().add().get(ty).get(ROW).i32(step).mul().mul().add().get(tx).i32(step * pixelBytes).mul().add().i32(16 * half).add().set(p);
          c.get(DST).get(b).get(DST_BLOCK).mul().add().get(ty).get(TILES_PER_ROW).mul().get(tx).add().i32(pixelBytes).mul().add().i32(16 * half).add().set(out);
          tile(p, out, ROW);
        });
      });
    }
  });
}

/**
 * `inputTilesByChannel`: V = Bᵀ d B (as in {@link inputTilesCode}) of every 4×4 tile (tile (ty, tx)
 * covers rows 2ty…2ty+3 and pixels 2tx…2tx+3) of zero-padded planes whose pixels hold eight
 * channels (32 bytes), four channels a vector: the rows of B panels eight channels wide.
 */
function inputTilesByChannelCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const XI = 8;
  const rowAt = [0, 1, 2, 3].map(() => c.local(I32));
  const r = [0, 1, 2, 3].map(() => c.local(V128));
  const a = Array.from({ length: 16 }, () => c.local(V128)); // Bᵀd: a[4i + j], row i, column j
  byChannelLoops(c, 32, 2, (p, out, ROW) => {
    for (let i = 0; i < 4; i++) c.get(p).get(ROW).i32(i).mul().add().set(rowAt[i]);
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) c.get(rowAt[i]).load(32 * j).set(r[i]);
      columnOfBd(c, r, a, j);
    }
    for (let i = 0; i < 4; i++) {
      const [a0, a1, a2, a3] = [a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]];
      storeNext(c, out, XI, () => c.get(a0).get(a2).f32x4Sub());
      storeNext(c, out, XI, () => c.get(a1).get(a2).f32x4Add());
      storeNext(c, out, XI, () => c.get(a2).get(a1).f32x4Sub());
      storeNext(c, out, XI, () => c.get(a1).get(a3).f32x4Sub());
    }
  });
  return c;
}

/**
 * `gradientTilesByChannel`: the output gradient's 2×2 tiles (tile (ty, tx) covers rows 2ty, 2ty+1
 * and pixels 2tx, 2tx+1) of planes whose pixels hold four channels (16 bytes), as S A dy Aᵀ S with
 * A = [1 0; 1 1; 1 −1; 0 −1] (the transpose of the output transform's Aᵀ) and S = diag(1, 1, 1, −1):
 * the signs of A's last row are left to the final transform, which saves the negations. The rows
 * of A panels four channels high.
 */
function gradientTilesByChannelCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const XI = 8;
  const [e0, e1, f0, f1] = [0, 1, 2, 3].map(() => c.local(V128));
  const rows = Array.from({ length: 8 }, () => c.local(V128)); // S A dy: rows[2i + j], row i of 4, column j of 2
  byChannelLoops(c, 16, 1, (p, out, ROW) => {
    c.get(p).load(0).set(e0).get(p).load(16).set(e1);
    c.get(p).get(ROW).add().load(0).set(f0).get(p).get(ROW).add().load(16).set(f1);
    c.get(e0).set(rows[0]).get(e1).set(rows[1]);
    c.get(e0).get(f0).f32x4Add().set(rows[2]).get(e1).get(f1).f32x4Add().set(rows[3]);
    c.get(e0).get(f0).f32x4Sub().set(rows[4]).get(e1).get(f1).f32x4Sub().set(rows[5]);
    c.get(f0).set(rows[6]).get(f1).set(rows[7]);
    for (let i = 0; i < 4; i++) {
      const [u, w] = [rows[2 * i], rows[2 * i + 1]];
      storeNext(c, out, XI, () => c.get(u));
      storeNext(c, out, XI, () => c.get(u).get(w).f32x4Add());
      storeNext(c, out, XI, () => c.get(u).get(w).f32x4Sub());
      storeNext(c, out, XI, () => c.get(w));
    }
  });
  return c;
}

/**
 * Compiles the transforms into `memory` (the GEMM kernel's), or returns null where WebAssembly
 * SIMD is unavailable.
 * @example
 * const transforms = compileWinogradKernel(gemm.memory);
 */
export function compileWinogradKernel(memory: GemmKernel["memory"]): WinogradKernel | null {
  const bytes = buildModule([{ name: "inputTiles", code: inputTilesCode() },
    { name: "outputTiles", code: outputTilesCode() }, { name: "inputTilesByChannel", code: inputTilesByChannelCode() },
    { name: "gradientTilesByChannel", code: gradientTilesByChannelCode() }]);
  if (typeof WebAssembly === "undefined" || !WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: memory as WebAssembly.Memory } });
  return instance.exports as unknown as WinogradKernel;
}

let compiled: WinogradKernel | null | undefined;

/** The transforms compiled into `memory` (the GEMM kernel's, one a thread) on first use. */
export function winogradKernel(memory: GemmKernel["memory"]): WinogradKernel {
  compiled ??= compileWinogradKernel(memory);
  return compiled!;
}
