// Data movement inside the kernel's memory, in WebAssembly: zero-padded image rows (what a
// convolution's in-place operand is read from, whole or split into even and odd columns) and channels transposed into GEMM panels.
// JavaScript copies an image in with one TypedArray.set; the rearranging is done here, several
// times faster than element by element in JavaScript.
import { Code, I32, V128 } from "./builder.js";

/** Emits: n floats copied from s to d (byte addresses, both advanced; n consumed), four at a time. */
function copyFloats(c: Code, s: number, d: number, n: number): void {
  c.whileLoop(() => c.get(n).i32(3).gtU(), () => {
    c.get(d).get(s).load(0).store(0);
    c.get(s).i32(16).add().set(s).get(d).i32(16).add().set(d).get(n).i32(4).sub().set(n);
  });
  c.whileLoop(() => c.get(n), () => {
    c.get(d).get(s).loadI32(0).storeI32(0);
    c.get(s).i32(4).add().set(s).get(d).i32(4).add().set(d).get(n).i32(1).sub().set(n);
  });
}

/** Emits: n zero floats written from d (advanced; n consumed), four at a time. */
function zeroFloats(c: Code, d: number, n: number): void {
  c.whileLoop(() => c.get(n).i32(3).gtU(), () => {
    c.get(d).zero().store(0);
    c.get(d).i32(16).add().set(d).get(n).i32(4).sub().set(n);
  });
  c.whileLoop(() => c.get(n), () => {
    c.get(d).i32(0).storeI32(0);
    c.get(d).i32(4).add().set(d).get(n).i32(1).sub().set(n);
  });
}

/**
 * Emits `padRows(src, dst, channels, top, valid, bottom, w, pw, srcChannel, dstChannel)`: for each
 * channel, `top` rows of zeros, then `valid` rows of w floats from src (row stride w) each between
 * pw zeros on either side, then `bottom` rows of zeros, written with row stride w + 2·pw from dst.
 * Addresses and channel strides are in bytes.
 */
export function padRowsCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, CHANNELS, TOP, VALID, BOTTOM, W, PW, SRC_CHANNEL, DST_CHANNEL] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [ch, r, s, d, n, wp] = [I32, I32, I32, I32, I32, I32].map((t) => c.local(t));
  c.get(W).get(PW).i32(2).mul().add().set(wp);
  c.i32(0).set(ch);
  c.whileLoop(() => c.get(ch).get(CHANNELS).ltU(), () => {
    c.get(SRC).get(ch).get(SRC_CHANNEL).mul().add().set(s);
    c.get(DST).get(ch).get(DST_CHANNEL).mul().add().set(d);
    c.get(TOP).get(wp).mul().set(n);
    zeroFloats(c, d, n);
    c.i32(0).set(r);
    c.whileLoop(() => c.get(r).get(VALID).ltU(), () => {
      c.get(PW).set(n);
      zeroFloats(c, d, n);
      c.get(W).set(n);
      copyFloats(c, s, d, n);
      c.get(PW).set(n);
      zeroFloats(c, d, n);
      c.get(r).i32(1).add().set(r);
    });
    c.get(BOTTOM).get(wp).mul().set(n);
    zeroFloats(c, d, n);
    c.get(ch).i32(1).add().set(ch);
  });
  return c;
}

/**
 * Emits `padPhased(src, dst, channels, h, w, srcChannel, dstChannel, row, phase)`: each channel's
 * h rows of w floats (w a multiple of 8) padded by one zero column on either side, each padded row
 * stored as its even columns (E, from dst + channel·dstChannel + y·row) then its odd ones (O,
 * `phase` bytes further): input column 2k is padded column 2k + 1, so O[k] = x[2k] and
 * E[k + 1] = x[2k + 1]. The zeros (E[0], O[w/2]) and any rows above and below are not written:
 * the caller zeroes them.
 */
export function padPhasedCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, CHANNELS, H, W, SRC_CHANNEL, DST_CHANNEL, ROW, PHASE] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [ch, y, x, s, d, e, o] = [I32, I32, I32, I32, I32, I32, I32].map((t) => c.local(t));
  const [a, b] = [c.local(V128), c.local(V128)];
  c.i32(0).set(ch);
  c.loop(ch, 1, CHANNELS, () => {
    c.get(SRC).get(ch).get(SRC_CHANNEL).mul().add().set(s);
    c.get(DST).get(ch).get(DST_CHANNEL).mul().add().set(d);
    c.i32(0).set(y);
    c.loop(y, 1, H, () => {
      c.get(d).i32(4).add().set(e);
      c.get(d).get(PHASE).add().set(o);
      c.i32(0).set(x);
      c.loop(x, 8, W, () => {
        c.get(s).load(0).set(a).get(s).load(16).set(b);
        c.get(e).get(a).get(b).shuffleLanes([1, 3, 5, 7]).store(0);
        c.get(o).get(a).get(b).shuffleLanes([0, 2, 4, 6]).store(0);
        c.get(s).i32(32).add().set(s).get(e).i32(16).add().set(e).get(o).i32(16).add().set(o);
      });
      c.get(d).get(ROW).add().set(d);
    });
  });
  return c;
}

/**
 * Emits `interleavePhases(src, dst, rows, width, phase)`: the four phases of a stride-2 plane put
 * back together — phase (φy, φx) holds pixels (2a + φy, 2b + φx) as `rows` rows of `width` floats
 * (width a multiple of 4) from src + (2φy + φx)·phase (bytes), and row r of the phases becomes rows
 * 2r and 2r + 1 of the result, 2·width floats each, from dst. Rows of consecutive channels follow
 * one another, so `rows` may count every row of every channel.
 */
export function interleavePhasesCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32]);
  const [SRC, DST, ROWS, WIDTH, PHASE] = [0, 1, 2, 3, 4];
  const [r, b, s, d, below] = [I32, I32, I32, I32, I32].map((t) => c.local(t));
  const v = [0, 1, 2, 3].map(() => c.local(V128));
  c.get(SRC).set(s).get(DST).set(d);
  c.i32(0).set(r);
  c.loop(r, 1, ROWS, () => {
    c.get(d).get(WIDTH).i32(8).mul().add().set(below); // the odd row: 2·width floats on
    c.i32(0).set(b);
    c.loop(b, 4, WIDTH, () => {
      for (let k = 0; k < 4; k++) c.get(s).get(PHASE).i32(k).mul().add().load(0).set(v[k]);
      for (const [to, even, odd] of [[d, v[0], v[1]], [below, v[2], v[3]]]) {
        c.get(to).get(even).get(odd).shuffleLanes([0, 4, 1, 5]).store(0);
        c.get(to).get(even).get(odd).shuffleLanes([2, 6, 3, 7]).store(16);
        c.get(to).i32(32).add().set(to);
      }
      c.get(s).i32(16).add().set(s);
    });
    c.get(below).set(d); // past the odd row: the next pair of rows
  });
  return c;
}

/**
 * Emits `transposePanels(src, dst, panels, count, srcChannel, dstPanel)` for panels `width` floats
 * wide: panel n's rows 0…count hold `width` floats each, float t of row q taken from channel
 * width·n + t at pixel q — channel c starts at src + c·srcChannel, its pixels consecutive — and are
 * written from dst + n·dstPanel (bytes). A row-major matrix's rows are such channels.
 */
export function transposePanelsCode(width: number): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, PANELS, COUNT, SRC_CHANNEL, DST_PANEL] = [0, 1, 2, 3, 4, 5];
  const [panel, q, s, d] = [I32, I32, I32, I32].map((t) => c.local(t));
  const channel = Array.from({ length: width }, () => c.local(I32)); // t·srcChannel
  for (let t = 0; t < width; t++) c.get(SRC_CHANNEL).i32(t).mul().set(channel[t]);
  c.i32(0).set(panel);
  c.whileLoop(() => c.get(panel).get(PANELS).ltU(), () => {
    c.get(SRC).get(panel).get(SRC_CHANNEL).i32(width).mul().mul().add().set(s);
    c.get(DST).get(panel).get(DST_PANEL).mul().add().set(d);
    c.i32(0).set(q);
    c.whileLoop(() => c.get(q).get(COUNT).ltU(), () => {
      for (let t = 0; t < width; t++) c.get(d).get(s).get(channel[t]).add().loadI32(0).storeI32(4 * t);
      c.get(s).i32(4).add().set(s).get(d).i32(4 * width).add().set(d).get(q).i32(1).add().set(q);
    });
    c.get(panel).i32(1).add().set(panel);
  });
  return c;
}

/**
 * Emits `panelRows(src, dst, panels, rows, srcRow, dstPanel)`: a row-major block cut into panels
 * eight floats wide — row p of panel n is the eight floats at src + p·srcRow + 32n, written at
 * dst + n·dstPanel + 32p (bytes).
 */
export function panelRowsCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32, I32]);
  const [SRC, DST, PANELS, ROWS, SRC_ROW, DST_PANEL] = [0, 1, 2, 3, 4, 5];
  const [panel, p, s, d] = [I32, I32, I32, I32].map((t) => c.local(t));
  c.i32(0).set(panel);
  c.whileLoop(() => c.get(panel).get(PANELS).ltU(), () => {
    c.get(SRC).get(panel).i32(32).mul().add().set(s);
    c.get(DST).get(panel).get(DST_PANEL).mul().add().set(d);
    c.i32(0).set(p);
    c.whileLoop(() => c.get(p).get(ROWS).ltU(), () => {
      c.get(d).get(s).load(0).store(0);
      c.get(d).get(s).load(16).store(16);
      c.get(s).get(SRC_ROW).add().set(s).get(d).i32(32).add().set(d).get(p).i32(1).add().set(p);
    });
    c.get(panel).i32(1).add().set(panel);
  });
  return c;
}
