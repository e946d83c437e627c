// Winograd F(4×4, 3×3)'s transforms in WebAssembly SIMD. Forward, over four images a vector: the
// input tiles of planes whose pixels hold four images side by side into the GEMM's B panels, and
// the products back into 4×4 output tiles of each image's plane. For the weight gradient, over
// four channels a vector: the input's and the output gradient's tiles into the GEMM's panels.
// Emitted at load time by the module builder into a module that shares the GEMM kernel's memory, so
// the block kernel multiplies what these write.
import { buildModule, Code, I32, V128 } from "./builder.js";
import type { GemmKernel } from "./gemmKernel.js";
import { byChannelLoops, storeNext, type TilesByChannel } from "./winogradKernel.js";

/** The transforms, on byte addresses in the shared memory: see each emitter. */
export interface Winograd4x4Kernel {
  interleave: (src: number, dst: number, channels: number, rows: number, width: number, image: number, row: number, dstChannel: number) => void;
  inputTiles: (src: number, dst: number, channels: number, tileRows: number, tilesPerRow: number, row: number, srcChannel: number, panel: number, xi: number) => void;
  outputTiles: (src: number, dst: number, channels: number, tileRows: number, tilesPerRow: number, mRow: number, xi: number, outRow: number, outChannel: number, image: number) => void;
  /** The weight gradient's input tiles, Bᵀ d B of 6×6 tiles four pixels apart, eight channels to a pixel. */
  inputTilesByChannel: TilesByChannel;
  /** The weight gradient's output-gradient tiles, A dy Aᵀ of 4×4 tiles, four channels to a pixel. */
  gradientTilesByChannel: TilesByChannel;
}

/** Vector locals holding the constants the transforms multiply by, set at the function's start. */
function constants(c: Code, values: number[]): Map<number, number> {
  const held = new Map<number, number>();
  for (const v of values) {
    const local = c.local(V128);
    c.f32x4Const(v).set(local);
    held.set(v, local);
  }
  return held;
}

/**
 * Pushes element r of Bᵀ d for the six vectors d, with
 * Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
 * (Lavin and Gray, 2016), its rows grouped so that each takes at most two multiplications.
 */
function pushBt(c: Code, k: Map<number, number>, d: number[], r: number): void {
  const [four, five, two] = [k.get(4)!, k.get(5)!, k.get(2)!];
  if (r === 0 || r === 5) {
    // 4 d0 − 5 d2 + d4, and 4 d1 − 5 d3 + d5
    const s = r === 0 ? 0 : 1;
    c.get(d[s]).get(four).f32x4Mul().get(d[s + 2]).get(five).f32x4Mul().f32x4Sub().get(d[s + 4]).f32x4Add();
  } else if (r === 1 || r === 2) {
    // (d3 + d4) − 4 (d1 + d2), and (d4 − d3) + 4 (d1 − d2)
    if (r === 1) c.get(d[3]).get(d[4]).f32x4Add().get(d[1]).get(d[2]).f32x4Add().get(four).f32x4Mul().f32x4Sub();
    else c.get(d[4]).get(d[3]).f32x4Sub().get(d[1]).get(d[2]).f32x4Sub().get(four).f32x4Mul().f32x4Add();
  } else {
    // (d4 − d2) ± 2 (d3 − d1)
    c.get(d[4]).get(d[2]).f32x4Sub().get(d[3]).get(d[1]).f32x4Sub().get(two).f32x4Mul();
    if (r === 3) c.f32x4Add();
    else c.f32x4Sub();
  }
}

/**
 * Pushes element r of Aᵀ m for the six vectors m, with
 * Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
 */
function pushAt(c: Code, k: Map<number, number>, m: number[], r: number): void {
  if (r === 0) c.get(m[0]).get(m[1]).f32x4Add().get(m[2]).f32x4Add().get(m[3]).f32x4Add().get(m[4]).f32x4Add();
  else if (r === 2) c.get(m[1]).get(m[2]).f32x4Add().get(m[3]).get(m[4]).f32x4Add().get(k.get(4)!).f32x4Mul().f32x4Add();
  else {
    // (m1 − m2) + 2 (m3 − m4), and (m1 − m2) + 8 (m3 − m4) + m5
    c.get(m[1]).get(m[2]).f32x4Sub().get(m[3]).get(m[4]).f32x4Sub().get(k.get(r === 1 ? 2 : 8)!).f32x4Mul().f32x4Add();
    if (r === 3) c.get(m[5]).f32x4Add();
  }
}

/**
 * Pushes element r of A e for the four vectors e, with A = (Aᵀ)ᵀ =
 * [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 2 4 8; 1 −2 4 −8; 0 0 0 1]: the output transform's adjoint.
 */
function pushA(c: Code, k: Map<number, number>, e: number[], r: number): void {
  if (r === 0) c.get(e[0]);
  else if (r === 5) c.get(e[3]);
  else if (r === 1 || r === 2) {
    // (e0 + e2) ± (e1 + e3)
    c.get(e[0]).get(e[2]).f32x4Add().get(e[1]).get(e[3]).f32x4Add();
    if (r === 1) c.f32x4Add();
    else c.f32x4Sub();
  } else {
    // (e0 + 4 e2) ± 2 (e1 + 4 e3)
    const four = k.get(4)!;
    c.get(e[0]).get(e[2]).get(four).f32x4Mul().f32x4Add();
    c.get(e[1]).get(e[3]).get(four).f32x4Mul().f32x4Add().get(k.get(2)!).f32x4Mul();
    if (r === 3) c.f32x4Add();
    else c.f32x4Sub();
  }
}

/**
 * `inputTilesByChannel`: V = Bᵀ d B of every 6×6 tile (tile (ty, tx) covers rows 4ty…4ty+5 and
 * pixels 4tx…4tx+5) of zero-padded planes whose pixels hold eight channels (32 bytes), four
 * channels a vector: the rows of B panels eight channels wide.
 */
function inputTilesByChannelCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const XI = 8;
  const k = constants(c, [2, 4, 5]);
  const rowAt = Array.from({ length: 6 }, () => c.local(I32));
  const d = Array.from({ length: 6 }, () => c.local(V128));
  const a = Array.from({ length: 36 }, () => c.local(V128)); // Bᵀd: a[6i + j], row i, column j
  byChannelLoops(c, 32, 2, (p, out, ROW) => {
    for (let i = 0; i < 6; i++) c.get(p).get(ROW).i32(i).mul().add().set(rowAt[i]);
    for (let j = 0; j < 6; j++) {
      for (let i = 0; i < 6; i++) c.get(rowAt[i]).load(32 * j).set(d[i]);
      for (let r = 0; r < 6; r++) {
        pushBt(c, k, d, r);
        c.set(a[6 * r + j]);
      }
    }
    for (let i = 0; i < 6; i++) {
      const row = a.slice(6 * i, 6 * i + 6);
      for (let j = 0; j < 6; j++) storeNext(c, out, XI, () => pushBt(c, k, row, j));
    }
  }, 4);
  return c;
}

/**
 * `gradientTilesByChannel`: A dy Aᵀ (6×6) of every 4×4 tile of the output gradient (tile (ty, tx)
 * covers rows 4ty…4ty+3 and pixels 4tx…4tx+3) of planes whose pixels hold four channels (16
 * bytes): the rows of A panels four channels high. With V = Bᵀ d B of the input's tiles, the
 * products' sum over tiles is the gradient of the transformed weights G g Gᵀ.
 */
function gradientTilesByChannelCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const XI = 8;
  const k = constants(c, [2, 4]);
  const rowAt = Array.from({ length: 4 }, () => c.local(I32));
  const e = Array.from({ length: 4 }, () => c.local(V128));
  const a = Array.from({ length: 24 }, () => c.local(V128)); // A dy: a[4i + j], row i of 6, column j
  byChannelLoops(c, 16, 1, (p, out, ROW) => {
    for (let i = 0; i < 4; i++) c.get(p).get(ROW).i32(i).mul().add().set(rowAt[i]);
    for (let j = 0; j < 4; j++) {
      for (let i = 0; i < 4; i++) c.get(rowAt[i]).load(16 * j).set(e[i]);
      for (let r = 0; r < 6; r++) {
        pushA(c, k, e, r);
        c.set(a[4 * r + j]);
      }
    }
    for (let i = 0; i < 6; i++) {
      const row = a.slice(4 * i, 4 * i + 4);
      for (let j = 0; j < 6; j++) storeNext(c, out, XI, () => pushA(c, k, row, j));
    }
  }, 4);
  return c;
}

/** Emits loops over channels, tile rows and tiles along a row: `body(ch, ty, tx)`. */
function tileLoops(c: Code, CHANNELS: number, TILE_ROWS: number, TILES_PER_ROW: number, body: (ch: number, ty: number, tx: number) => void): void {
  const [ch, ty, tx] = [I32, I32, I32].map((k) => c.local(k));
  c.i32(0).set(ch);
  c.loop(ch, 1, CHANNELS, () => {
    c.i32(0).set(ty);
    c.loop(ty, 1, TILE_ROWS, () => {
      c.i32(0).set(tx);
      c.loop(tx, 1, TILES_PER_ROW, () => body(ch, ty, tx));
    });
  });
}

/**
 * `inputTiles(src, dst, channels, tileRows, tilesPerRow, row, srcChannel, panel, xi)`:
 * V = Bᵀ d B of every 6×6 input tile d of a zero-padded plane whose pixels hold four images (16
 * bytes; row stride `row`, channel ch at src + ch·srcChannel). Tile (ty, tx) covers padded rows
 * 4ty…4ty+5 and pixels 4tx…4tx+5; its four images are the GEMM's columns 4t…4t+3 with
 * t = ty·tilesPerRow + tx, so element ξ = 6i + j of channel ch goes to
 * dst + ξ·xi + ⌊t/2⌋·panel + ch·32 + (t mod 2)·16: the rows of B panels eight columns wide.
 */
function inputTilesCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, CHANNELS, TILE_ROWS, TILES_PER_ROW, ROW, SRC_CHANNEL, PANEL, XI] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const k = constants(c, [2, 4, 5]);
  const [t, out] = [c.local(I32), c.local(I32)];
  const rowAt = Array.from({ length: 6 }, () => c.local(I32));
  const d = Array.from({ length: 6 }, () => c.local(V128));
  const a = Array.from({ length: 36 }, () => c.local(V128)); // Bᵀd: a[6i + j], row i, column j
  tileLoops(c, CHANNELS, TILE_ROWS, TILES_PER_ROW, (ch, ty, tx) => {
    c.get(SRC).get(ch).get(SRC_CHANNEL).mul().add().get(ty).get(ROW).i32(4).mul().mul().add().get(tx).i32(64).mul().add().set(rowAt[0]);
    for (let i = 1; i < 6; i++) c.get(rowAt[i - 1]).get(ROW).add().set(rowAt[i]);
    for (let j = 0; j < 6; j++) {
      for (let i = 0; i < 6; i++) c.get(rowAt[i]).load(16 * j).set(d[i]);
      for (let r = 0; r < 6; r++) {
        pushBt(c, k, d, r);
        c.set(a[6 * r + j]);
      }
    }
    c.get(ty).get(TILES_PER_ROW).mul().get(tx).add().set(t);
    c.get(DST).get(t).i32(1).shrU().get(PANEL).mul().add().get(ch).i32(32).mul().add().get(t).i32(1).and().i32(16).mul().add().set(out);
    for (let i = 0; i < 6; i++) {
      const row = a.slice(6 * i, 6 * i + 6);
      for (let j = 0; j < 6; j++) {
        c.get(out);
        pushBt(c, k, row, j); // (Bᵀd)B's row i is Bᵀ applied to row i of Bᵀd
        c.store(0).get(out).get(XI).add().set(out);
      }
    }
  });
  return c;
}

/**
 * `outputTiles(src, dst, channels, tileRows, tilesPerRow, mRow, xi, outRow, outChannel, image)`:
 * the 4×4 output tile Aᵀ m A of every tile and image, m's element ξ of channel o for tile t's four
 * images at src + ξ·xi + o·mRow + 16t (the GEMM's product rows; t = ty·tilesPerRow + tx),
 * written to rows 4ty…4ty+3 and columns 4tx…4tx+3 of channel o's plane of each image (image q's
 * at dst + q·image + o·outChannel, row stride outRow).
 */
function outputTilesCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, CHANNELS, TILE_ROWS, TILES_PER_ROW, M_ROW, XI, OUT_ROW, OUT_CHANNEL, IMAGE] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const k = constants(c, [2, 4, 8]);
  const [p, q] = [c.local(I32), c.local(I32)];
  const m = Array.from({ length: 36 }, () => c.local(V128));
  const s = Array.from({ length: 24 }, () => c.local(V128)); // Aᵀm: s[6i + j], row i of 4, column j
  const y = Array.from({ length: 4 }, () => c.local(V128)); // one output row: pixel j's four images
  const pairs = Array.from({ length: 4 }, () => c.local(V128));
  const images = Array.from({ length: 4 }, () => c.local(V128)); // the row's four pixels of image q
  tileLoops(c, CHANNELS, TILE_ROWS, TILES_PER_ROW, (o, ty, tx) => {
    c.get(SRC).get(o).get(M_ROW).mul().add().get(ty).get(TILES_PER_ROW).mul().get(tx).add().i32(16).mul().add().set(p);
    for (const v of m) c.get(p).load(0).set(v).get(p).get(XI).add().set(p);
    for (let j = 0; j < 6; j++) {
      const column = [0, 1, 2, 3, 4, 5].map((i) => m[6 * i + j]);
      for (let r = 0; r < 4; r++) {
        pushAt(c, k, column, r);
        c.set(s[6 * r + j]);
      }
    }
    c.get(DST).get(o).get(OUT_CHANNEL).mul().add().get(ty).get(OUT_ROW).i32(4).mul().mul().add().get(tx).i32(16).mul().add().set(q);
    for (let i = 0; i < 4; i++) {
      const row = s.slice(6 * i, 6 * i + 6);
      for (let j = 0; j < 4; j++) {
        pushAt(c, k, row, j);
        c.set(y[j]);
      }
      transpose4(c, y, pairs, images); // pixels × images → images × pixels
      for (let image = 0; image < 4; image++) c.get(q).get(IMAGE).i32(image).mul().add().get(images[image]).store(0);
      c.get(q).get(OUT_ROW).add().set(q);
    }
  });
  return c;
}

/** Emits the 4×4 transpose of the vectors `v` (by lanes) into `t`, through `pairs`. */
function transpose4(c: Code, v: number[], pairs: number[], t: number[]): void {
  c.get(v[0]).get(v[1]).shuffleLanes([0, 4, 1, 5]).set(pairs[0]);
  c.get(v[0]).get(v[1]).shuffleLanes([2, 6, 3, 7]).set(pairs[1]);
  c.get(v[2]).get(v[3]).shuffleLanes([0, 4, 1, 5]).set(pairs[2]);
  c.get(v[2]).get(v[3]).shuffleLanes([2, 6, 3, 7]).set(pairs[3]);
  for (let i = 0; i < 4; i++) {
    const [lo, hi] = i < 2 ? [pairs[0], pairs[2]] : [pairs[1], pairs[3]];
    c.get(lo).get(hi).shuffleLanes(i % 2 === 0 ? [0, 1, 4, 5] : [2, 3, 6, 7]).set(t[i]);
  }
}

/**
 * `interleave(src, dst, channels, rows, width, image, row, dstChannel)`: four images' planes
 * (image q's channel ch at src + q·image + ch·rows·width·4) into planes whose pixels hold the four
 * side by side, one pixel in from the left and one row down (the padding's place): channel ch's
 * pixel (r, x) at dst + ch·dstChannel + (r + 1)·row + 16(x + 1). Width a multiple of 4.
 */
function interleaveCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, CHANNELS, ROWS, WIDTH, IMAGE, ROW, DST_CHANNEL] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [ch, r, x, p, q] = [I32, I32, I32, I32, I32].map((k) => c.local(k));
  const v = Array.from({ length: 4 }, () => c.local(V128));
  const pairs = Array.from({ length: 4 }, () => c.local(V128));
  const t = Array.from({ length: 4 }, () => c.local(V128));
  c.get(SRC).set(p);
  c.i32(0).set(ch);
  c.loop(ch, 1, CHANNELS, () => {
    c.i32(0).set(r);
    c.loop(r, 1, ROWS, () => {
      c.get(DST).get(ch).get(DST_CHANNEL).mul().add().get(r).i32(1).add().get(ROW).mul().add().i32(16).add().set(q);
      c.i32(0).set(x);
      c.loop(x, 4, WIDTH, () => {
        for (let i = 0; i < 4; i++) c.get(p).get(IMAGE).i32(i).mul().add().load(0).set(v[i]);
        transpose4(c, v, pairs, t);
        for (let j = 0; j < 4; j++) c.get(q).get(t[j]).store(16 * j);
        c.get(p).i32(16).add().set(p).get(q).i32(64).add().set(q);
      });
    });
  });
  return c;
}

/**
 * Compiles the transforms into `memory` (the GEMM kernel's), or returns null where WebAssembly
 * SIMD is unavailable.
 * @example
 * const transforms = compileWinograd4x4Kernel(gemm.memory);
 */
export function compileWinograd4x4Kernel(memory: GemmKernel["memory"]): Winograd4x4Kernel | null {
  const bytes = buildModule([{ name: "interleave", code: interleaveCode() }, { name: "inputTiles", code: inputTilesCode() },
    { name: "outputTiles", code: outputTilesCode() }, { name: "inputTilesByChannel", code: inputTilesByChannelCode() },
    { name: "gradientTilesByChannel", code: gradientTilesByChannelCode() }]);
  if (typeof WebAssembly === "undefined" || !WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: memory as WebAssembly.Memory } });
  return instance.exports as unknown as Winograd4x4Kernel;
}

let compiled: Winograd4x4Kernel | null | undefined;

/** The transforms compiled into `memory` (the GEMM kernel's, one a thread) on first use. */
export function winograd4x4Kernel(memory: GemmKernel["memory"]): Winograd4x4Kernel {
  compiled ??= compileWinograd4x4Kernel(memory);
  return compiled!;
}
