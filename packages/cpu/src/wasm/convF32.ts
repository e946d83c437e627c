// Float32 convolutions on the SIMD GEMM, one GEMM per group over the whole batch: the packers read
// the input through the convolution's geometry (im2col on the fly), and the stores write the
// output in place (col2im on the fly for the input gradient), so no column matrix is ever built.
import type { Conv2dParams, TypedArray } from "@sam/tensor";
import { densePlacement, type Geometry as ConvGeometry, type Placement } from "../geometry.js";
import { blockedGemm, BLOCK_COLUMNS, directGemm, gatheredGemm, padPhased, padRows, transposePanels, workspace, type InPlace, type PackA } from "./gemmF32.js";
import { NR } from "./gemmKernel.js";
import { weightGradientTile, winogradProductsSize, winogradWeightGradientProducts } from "./winogradGradient.js";

/** mem[at…at+8] = src[from…from+8]: a panel row, unrolled (small enough for the engine to inline). */
function copyEight(mem: Float32Array, at: number, src: ArrayLike<number>, from: number): void {
  mem[at] = src[from];
  mem[at + 1] = src[from + 1];
  mem[at + 2] = src[from + 2];
  mem[at + 3] = src[from + 3];
  mem[at + 4] = src[from + 4];
  mem[at + 5] = src[from + 5];
  mem[at + 6] = src[from + 6];
  mem[at + 7] = src[from + 7];
}

/** Runs at least this long are copied with TypedArray.set (one call costs about as much as this many floats). */
const LONG_RUN = 64;

/**
 * Where columns j0…j0+count (each an (image, output pixel) pair) read and write: the group's
 * input plane offset, the window's top-left corner, and the output offset of channel 0.
 */
class Columns {
  readonly base: Int32Array;
  readonly top: Int32Array;
  readonly left: Int32Array;
  readonly out: Int32Array;

  constructor(size: number) {
    [this.base, this.top, this.left, this.out] = [0, 0, 0, 0].map(() => new Int32Array(size)) as [Int32Array, Int32Array, Int32Array, Int32Array];
  }

  /**
   * The run of columns starting at q that share an image and an output row, up to `end`: along
   * it the window moves by the column stride, so reads (and col2im's writes) are strided runs.
   */
  runLength(q: number, end: number): number {
    let n = 1;
    while (q + n < end && this.top[q + n] === this.top[q] && this.base[q + n] === this.base[q]) n++;
    return n;
  }

  fill(g: ConvGeometry, p: Conv2dParams, group: number, j0: number, count: number): this {
    const plane = g.ho * g.wo;
    let image = Math.floor(j0 / plane);
    let pixel = j0 - image * plane;
    let oy = Math.floor(pixel / g.wo);
    let ox = pixel - oy * g.wo;
    for (let q = 0; q < count; q++) {
      this.base[q] = (image * g.c + group * g.cg) * g.h * g.w;
      this.top[q] = oy * p.stride[0] - p.padding[0];
      this.left[q] = ox * p.stride[1] - p.padding[1];
      this.out[q] = (image * g.o + group * g.og) * plane + pixel;
      pixel++;
      if (++ox === g.wo) {
        ox = 0;
        if (++oy === g.ho) [oy, pixel, image] = [0, 0, image + 1];
      }
    }
    return this;
  }
}

/** Kernel taps r0…r0+count, each r = (channel, ky, kx) as a channel offset and a window displacement. */
class Taps {
  readonly channel: Int32Array;
  readonly dy: Int32Array;
  readonly dx: Int32Array;

  constructor(size: number) {
    [this.channel, this.dy, this.dx] = [0, 0, 0].map(() => new Int32Array(size)) as [Int32Array, Int32Array, Int32Array];
  }

  fill(g: ConvGeometry, p: Conv2dParams, r0: number, count: number): this {
    for (let i = 0; i < count; i++) {
      const r = r0 + i;
      const c = Math.floor(r / (g.kh * g.kw));
      const t = r - c * g.kh * g.kw;
      this.channel[i] = c * g.h * g.w;
      this.dy[i] = Math.floor(t / g.kw) * p.dilation[0];
      this.dx[i] = (t % g.kw) * p.dilation[1];
    }
    return this;
  }
}

/** im2col(x)[r, column q]: the input under tap r of column q's window, 0 in the padding. */
function sample(x: TypedArray, g: ConvGeometry, cols: Columns, q: number, channel: number, dy: number, dx: number): number {
  const iy = cols.top[q] + dy;
  const ix = cols.left[q] + dx;
  return iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? x[cols.base[q] + channel + iy * g.w + ix] : 0;
}

/** Packs a row-major matrix (row stride `ld`, column stride `cs`, from `offset`) as panels of mr rows. */
function packRows(a: TypedArray, offset: number, ld: number, cs: number): PackA {
  return (mem, at, i0, mc, p0, kc, mr) => {
    let w = at;
    for (let ip = 0; ip < mc; ip += mr) {
      for (let k = p0; k < p0 + kc; k++) {
        for (let r = 0; r < mr; r++) mem[w++] = ip + r < mc ? a[offset + (i0 + ip + r) * ld + k * cs] : 0;
      }
    }
  };
}

/** Columns (image, output pixel) over the whole batch: what conv2dF32 and conv2dBackwardInputF32 split between threads. */
export function convColumns(g: ConvGeometry): number {
  return g.n * g.ho * g.wo;
}

/**
 * Zero-padded rows as {@link padRows} writes them, but with each padded row split into its `phases`
 * column phases, L floats apart: padded column j at (j mod phases)·L + ⌊j / phases⌋. With a column
 * stride of `phases`, the pixels of an output row then read consecutive floats for every tap.
 * Float indices; the rows are `phases`·L floats apart.
 */
function padRowsPhased(mem: Float32Array, src: number, dst: number, channels: number, top: number, valid: number, bottom: number,
  w: number, pw: number, srcChannel: number, dstChannel: number, phases: number, phaseLength: number): void {
  const row = phases * phaseLength;
  for (let c = 0; c < channels; c++) {
    const to = dst + c * dstChannel;
    mem.fill(0, to, to + (top + valid + bottom) * row);
    for (let r = 0; r < valid; r++) {
      const from = src + c * srcChannel + r * w;
      const at = to + (top + r) * row;
      for (let phase = 0; phase < phases; phase++) {
        // padded columns j ≡ phase (mod phases) inside the image: j = pw + i, 0 ≤ i < w
        const first = Math.max(0, Math.ceil((pw - phase) / phases));
        const d = at + phase * phaseLength;
        for (let k = first, i = phase + first * phases - pw; i < w; k++, i += phases) mem[d + k] = mem[from + i];
      }
    }
  }
}

/**
 * The input of one group read in place by the GEMM kernels: each block of output pixels copies
 * the input rows those pixels' windows cover, zero-padded on every side, so that im2col's element
 * (tap r, pixel q) is the float at q's offset plus r's. Copying those rows moves far less than
 * im2col would (every input value once per block instead of once per tap). An image is copied
 * into the kernel's memory whole, once, and padded there. `phased` (for a kernel that reads a
 * panel's pixels as consecutive floats) stores each padded row as its column phases when the
 * column stride s is above 1, so that neighbouring output pixels still read neighbouring floats.
 */
function paddedInput(x: TypedArray, g: ConvGeometry, p: Conv2dParams, group: number, phased: boolean): InPlace {
  const [sy, sx, ph, pw] = [p.stride[0], p.stride[1], p.padding[0], p.padding[1]];
  const [dh, dw] = p.dilation;
  const plane = g.ho * g.wo;
  const phases = phased ? sx : 1;
  // zeros on the right: pw for a convolution of symmetric padding; more where a caller asks for
  // outputs whose windows reach further (the input gradient's phases), and then the rows are
  // padded by that on both sides and read `shift` floats further in
  const right = Math.max(pw, (g.wo - 1) * sx + (g.kw - 1) * dw + 1 - g.w - pw);
  const shift = right - pw;
  const phaseLength = Math.ceil((g.w + 2 * right) / phases);
  const wp = phases * phaseLength; // a padded row: its phases one after another
  const column = (j: number) => (j % phases) * phaseLength + Math.floor(j / phases); // padded column j's place in its row
  const outRows = Math.min(g.ho, Math.floor((BLOCK_COLUMNS - 1) / g.wo) + 2); // output rows a block can touch
  const rows = (outRows - 1) * sy + (g.kh - 1) * dh + 1; // input rows those need
  const channelStride = rows * wp;
  const segmentStride = g.cg * channelStride; // one image's part of a block
  const segments = Math.min(g.n, Math.floor((BLOCK_COLUMNS - 1) / plane) + 2);
  const imageFloats = g.cg * g.h * g.w;
  let staged = -1; // the image whose channels sit in the staging area
  // where each output pixel's window starts, relative to its image's first padded row (floats)
  const pixelAt = new Int32Array(plane);
  for (let oy = 0; oy < g.ho; oy++) for (let ox = 0; ox < g.wo; ox++) pixelAt[oy * g.wo + ox] = oy * sy * wp + column(ox * sx + shift);
  return {
    sourceBytes: (segments * segmentStride + imageFloats) * 4,
    taps(taps) {
      for (let r = 0; r < g.rows; r++) {
        const c = Math.floor(r / (g.kh * g.kw));
        const t = r - c * g.kh * g.kw;
        taps[r] = (c * channelStride + Math.floor(t / g.kw) * dh * wp + column((t % g.kw) * dw)) * 4;
      }
    },
    prepare(mem, sourceAt, offsets, j0, nc) {
      const stageAt = sourceAt + segments * segmentStride;
      let segment = sourceAt;
      for (let q = j0; q < j0 + nc;) {
        const image = Math.floor(q / plane);
        const end = Math.min(j0 + nc, (image + 1) * plane);
        const oy0 = Math.floor((q - image * plane) / g.wo);
        const oy1 = Math.floor((end - 1 - image * plane) / g.wo);
        const iy0 = oy0 * sy - ph;
        const needed = (oy1 - oy0) * sy + (g.kh - 1) * dh + 1;
        if (image !== staged) {
          const from = (image * g.c + group * g.cg) * g.h * g.w;
          mem.set(x.subarray(from, from + imageFloats), stageAt);
          staged = image;
        }
        const top = Math.min(needed, Math.max(0, -iy0)); // rows above the image, then inside it, then below
        const bottom = Math.min(needed - top, Math.max(0, iy0 + needed - g.h));
        const src = stageAt + Math.max(0, iy0) * g.w;
        if (phases === 1) padRows(src * 4, segment * 4, g.cg, top, needed - top - bottom, bottom, g.w, right, g.h * g.w * 4, channelStride * 4);
        else if (phases === 2 && right === 1 && g.w % 8 === 0) {
          // the common strided case (3×3, stride 2, padding 1) in WebAssembly: zeros, then the rows
          const valid = needed - top - bottom;
          mem.fill(0, segment, segment + g.cg * channelStride);
          if (valid > 0) padPhased(src * 4, (segment + top * wp) * 4, g.cg, valid, g.w, g.h * g.w * 4, channelStride * 4, wp * 4, phaseLength * 4);
        } else padRowsPhased(mem, src, segment, g.cg, top, needed - top - bottom, bottom, g.w, right, g.h * g.w, channelStride, phases, phaseLength);
        const first = q - image * plane;
        const base = segment - oy0 * sy * wp; // the segment holds rows from the block's first output row on
        for (let k = 0, at = q - j0; at < end - j0; k++, at++) offsets[at] = (base + pixelAt[first + k]) * 4;
        segment += segmentStride;
        q = end;
      }
    },
  };
}

/** Whether the forward convolution reads its input in place: output rows of whole panels. */
function direct(g: ConvGeometry): boolean {
  return g.wo % NR === 0;
}

/**
 * y[n, o] = Σ w[o] ⋆ x[n]: W_g [og × rows] · im2col(x) [rows × n·plane] per group; columns
 * `from`…`to`. A `placement` other than the dense one (the in-place path only) writes the output
 * into a larger tensor, such as one phase of an input gradient.
 */
export function conv2dF32(x: TypedArray, w: TypedArray, y: TypedArray, g: ConvGeometry, p: Conv2dParams, from = 0, to = convColumns(g),
  placement: Placement | null = null): void {
  const plane = g.ho * g.wo;
  if (direct(g)) {
    const at0 = placement ?? densePlacement(g);
    const rowsFollow = at0.column === 1 && at0.row === g.wo; // an image's rows are one run, as in a dense output
    const imagesFollow = rowsFollow && at0.image === plane; // and the images too: a channel-major output
    for (let group = 0; group < p.groups; group++) {
      directGemm(g.og, g.n * plane, g.rows, packRows(w, group * g.og * g.rows, g.rows, 1), paddedInput(x, g, p, group, true),
        (mem, at, ldt, i0, mc, j0, nc) => {
          // a block's columns are consecutive pixels: rows of C go out in runs (the block, an image, or a row)
          for (let j = 0; j < nc;) {
            const image = Math.floor((j0 + j) / plane);
            const pixel = j0 + j - image * plane;
            const oy = Math.floor(pixel / g.wo);
            const ox = pixel - oy * g.wo;
            const run = Math.min(nc - j, imagesFollow ? nc : rowsFollow ? plane - pixel : g.wo - ox);
            const first = image * at0.image + (group * g.og + i0) * at0.channel + oy * at0.row + ox * at0.column + at0.offset;
            for (let i = 0; i < mc; i++) {
              const dst = first + i * at0.channel;
              const src = at + i * ldt + j;
              if (at0.column !== 1) for (let e = 0; e < run; e++) y[dst + e * at0.column] = mem[src + e];
              else if (run >= LONG_RUN) y.set(mem.subarray(src, src + run), dst);
              else for (let e = 0; e < run; e++) y[dst + e] = mem[src + e];
            }
            j += run;
          }
        }, from, to);
    }
    return;
  }
  if (placement) throw new Error("conv2dF32: an output placement needs the in-place path (output rows of whole panels)");
  const cols = new Columns(BLOCK_COLUMNS);
  const taps = new Taps(BLOCK_COLUMNS);
  for (let group = 0; group < p.groups; group++) {
    blockedGemm(g.og, g.n * plane, g.rows,
      packRows(w, group * g.og * g.rows, g.rows, 1),
      (mem, at, r0, kr, j0, nc) => {
        cols.fill(g, p, group, j0, nc);
        taps.fill(g, p, r0, kr);
        let k = at;
        const sx = p.stride[1];
        for (let jp = 0; jp < nc; jp += NR) {
          const end = Math.min(jp + NR, nc);
          const count = end - jp;
          const whole = cols.runLength(jp, end) === count; // the panel lies in one output row
          const top = cols.top[jp];
          const left = cols.left[jp];
          const base = cols.base[jp];
          for (let t = 0; t < kr; t++) {
            const iy = top + taps.dy[t];
            const ix = left + taps.dx[t];
            if (whole && count === NR && sx === 1 && iy >= 0 && iy < g.h && ix >= 0 && ix + NR - 1 < g.w) {
              // the common case: eight neighbouring pixels of one input row
              copyEight(mem, k, x, base + taps.channel[t] + iy * g.w + ix);
              k += NR;
              continue;
            }
            if (whole && iy >= 0 && iy < g.h && ix >= 0 && ix + (count - 1) * sx < g.w) {
              const from = base + taps.channel[t] + iy * g.w + ix;
              for (let q = 0; q < count; q++) mem[k++] = x[from + q * sx];
            } else {
              for (let q = jp; q < end; q++) mem[k++] = sample(x, g, cols, q, taps.channel[t], taps.dy[t], taps.dx[t]);
            }
            for (let q = end; q < jp + NR; q++) mem[k++] = 0;
          }
        }
      },
      (mem, at, ldt, i0, mc, j0, nc) => {
        cols.fill(g, p, group, j0, nc);
        for (let j = 0; j < nc; j++) {
          const out = cols.out[j] + i0 * plane;
          for (let i = 0; i < mc; i++) y[out + i * plane] = mem[at + i * ldt + j];
        }
      }, from, to);
  }
}

/**
 * dx = col2im(W_gᵀ [rows × og] · dy [og × plane]) per group and image, scattered as the tiles
 * come; images `from / plane`… `to / plane`. One GEMM per image: neighbouring columns add into
 * the same input pixels, so images are the unit that threads can share out without two writing
 * one pixel, and the order of the sums stays the same for any split.
 */
export function conv2dBackwardInputF32(dy: TypedArray, w: TypedArray, dx: TypedArray, g: ConvGeometry, p: Conv2dParams, from = 0, to = convColumns(g)): void {
  const plane = g.ho * g.wo;
  const cols = new Columns(BLOCK_COLUMNS);
  const taps = new Taps(BLOCK_COLUMNS);
  const image0 = Math.floor(from / plane);
  dx.fill(0, image0 * g.c * g.h * g.w, Math.ceil(to / plane) * g.c * g.h * g.w); // this share's images; col2im adds in
  for (let image = image0; image * plane < to; image++) {
    for (let group = 0; group < p.groups; group++) {
      blockedGemm(g.rows, g.n * plane, g.og,
        packRows(w, group * g.og * g.rows, 1, g.rows),
        (mem, at, o0, ko, j0, nc) => {
          cols.fill(g, p, group, j0, nc);
          let k = at;
          for (let jp = 0; jp < nc; jp += NR) {
            // a full panel of neighbouring output pixels reads eight neighbouring gradients per channel
            const contiguous = jp + NR <= nc && cols.out[jp + NR - 1] === cols.out[jp] + NR - 1;
            const first = cols.out[jp];
            for (let o = o0; o < o0 + ko; o++) {
              if (contiguous) {
                const from = first + o * plane;
                for (let q = 0; q < NR; q++) mem[k + q] = dy[from + q];
                k += NR;
              } else {
                for (let q = jp; q < jp + NR; q++) mem[k++] = q < nc ? dy[cols.out[q] + o * plane] : 0;
              }
            }
          }
        },
        (mem, at, ldt, r0, mr, j0, nc) => {
          cols.fill(g, p, group, j0, nc);
          taps.fill(g, p, r0, mr);
          const sx = p.stride[1];
          for (let j = 0; j < nc;) {
            const run = cols.runLength(j, nc);
            for (let i = 0; i < mr; i++) {
              const iy = cols.top[j] + taps.dy[i];
              if (iy < 0 || iy >= g.h) continue;
              // the columns of the run whose tap lands inside the row: ix = left + q·sx + dx ∈ [0, w)
              const ix0 = cols.left[j] + taps.dx[i];
              const first = ix0 >= 0 ? 0 : Math.ceil(-ix0 / sx);
              const last = Math.min(run, Math.floor((g.w - 1 - ix0) / sx) + 1);
              const to = cols.base[j] + taps.channel[i] + iy * g.w + ix0;
              const from = at + i * ldt + j;
              for (let q = first; q < last; q++) dx[to + q * sx] += mem[from + q];
            }
            j += run;
          }
  }, image * plane, (image + 1) * plane);
    }
  }
}

/**
 * dW_gᵀ = im2col(x) [rows × n·plane] · dy_gᵀ [n·plane × og], with im2col read in place from
 * padded input rows and dy transposed into the kernel's panels (each image's dy copied into the
 * kernel's memory once); taps `from`…`to` of g.rows.
 */
function conv2dBackwardWeightInPlace(x: TypedArray, dy: TypedArray, dw: TypedArray, g: ConvGeometry, p: Conv2dParams, from: number, to: number): void {
  const plane = g.ho * g.wo;
  for (let group = 0; group < p.groups; group++) {
    let staged = -1; // the image whose dy sits in the staging area
    gatheredGemm(g.rows, g.og, g.n * plane, paddedInput(x, g, p, group, false),
      (mem, at, p0, kc, o0, no, stage) => {
        const whole = Math.floor(no / NR); // panels of eight channels; a narrower last one below
        for (let q = 0; q < kc;) {
          const image = Math.floor((p0 + q) / plane);
          const pixel = p0 + q - image * plane;
          const count = Math.min(kc - q, plane - pixel);
          if (image !== staged) {
            const first = (image * g.o + group * g.og) * plane;
            mem.set(dy.subarray(first, first + g.og * plane), stage);
            staged = image;
          }
          const src = stage + o0 * plane + pixel;
          transposePanels(src * 4, (at + q * NR) * 4, whole, count, plane * 4, kc * NR * 4);
          for (let op = whole * NR, k = at + (whole * kc + q) * NR; op < no; op += NR) {
            for (let e = 0; e < count; e++) {
              for (let t = 0; t < NR; t++) mem[k++] = op + t < no ? mem[src + (op + t) * plane + e] : 0;
            }
          }
          q += count;
        }
      }, g.og * plane * 4,
      (mem, at, ldt, r0, mr, o0, no) => {
        for (let o = 0; o < no; o++) {
          const dst = (group * g.og + o0 + o) * g.rows + r0;
          for (let r = 0; r < mr; r++) dw[dst + r] = mem[at + r * ldt + o];
        }
      }, from, to);
  }
}

/** dW_g = dy_g [og × n·plane] · im2col(x)ᵀ [n·plane × rows]: the depth runs over every pixel of every image. */
/** Splits between threads over the kernel taps (columns of dW), `from`…`to` of g.rows. */
export function conv2dBackwardWeightF32(x: TypedArray, dy: TypedArray, dw: TypedArray, g: ConvGeometry, p: Conv2dParams, from = 0, to = g.rows): void {
  if (g.og >= NR) return conv2dBackwardWeightInPlace(x, dy, dw, g, p, from, to);
  const cols = new Columns(BLOCK_COLUMNS);
  const [reads, firsts, lasts] = [new Int32Array(NR), new Int32Array(NR), new Int32Array(NR)];
  const taps = new Taps(BLOCK_COLUMNS);
  const plane = g.ho * g.wo;
  for (let group = 0; group < p.groups; group++) {
    blockedGemm(g.og, g.rows, g.n * plane,
      (mem, at, i0, mc, j0, kc, mr) => {
        // A may be packed whole, over a depth of every pixel of the batch: the column table holds
        // BLOCK_COLUMNS at a time
        let k = at;
        for (let ip = 0; ip < mc; ip += mr) {
          for (let c0 = 0; c0 < kc; c0 += BLOCK_COLUMNS) {
            const count = Math.min(BLOCK_COLUMNS, kc - c0);
            cols.fill(g, p, group, j0 + c0, count);
            for (let j = 0; j < count; j++) {
              for (let r = 0; r < mr; r++) mem[k++] = ip + r < mc ? dy[cols.out[j] + (i0 + ip + r) * plane] : 0;
            }
          }
        }
      },
      (mem, at, j0, kc, r0, nr) => {
        cols.fill(g, p, group, j0, kc);
        taps.fill(g, p, r0, nr);
        const sx = p.stride[1];
        for (let rp = 0; rp < nr; rp += NR) {
          const panel = at + (rp / NR) * kc * NR;
          const width = Math.min(NR, nr - rp);
          for (let j = 0; j < kc;) {
            const run = cols.runLength(j, kc);
            // per tap of the panel: where the run reads, and which of its columns land inside
            let lo = 0;
            let hi = run;
            for (let t = 0; t < NR; t++) {
              if (t >= width) {
                reads[t] = 0;
                firsts[t] = run;
                lasts[t] = run;
                continue;
              }
              const iy = cols.top[j] + taps.dy[rp + t];
              const ix0 = cols.left[j] + taps.dx[rp + t];
              const inside = iy >= 0 && iy < g.h;
              const first = inside ? (ix0 >= 0 ? 0 : Math.min(run, Math.ceil(-ix0 / sx))) : run;
              firsts[t] = first;
              lasts[t] = inside ? Math.max(first, Math.min(run, Math.floor((g.w - 1 - ix0) / sx) + 1)) : run;
              reads[t] = cols.base[j] + taps.channel[rp + t] + iy * g.w + ix0;
              lo = Math.max(lo, firsts[t]);
              hi = Math.min(hi, lasts[t]);
            }
            // columns written whole, eight taps at a time; the edges tap by tap
            const f0 = reads[0], f1 = reads[1], f2 = reads[2], f3 = reads[3];
            const f4 = reads[4], f5 = reads[5], f6 = reads[6], f7 = reads[7];
            for (let q = 0; q < run; q++) {
              const o = panel + (j + q) * NR;
              const d = q * sx;
              if (q >= lo && q < hi) {
                mem[o] = x[f0 + d];
                mem[o + 1] = x[f1 + d];
                mem[o + 2] = x[f2 + d];
                mem[o + 3] = x[f3 + d];
                mem[o + 4] = x[f4 + d];
                mem[o + 5] = x[f5 + d];
                mem[o + 6] = x[f6 + d];
                mem[o + 7] = x[f7 + d];
              } else {
                for (let t = 0; t < NR; t++) mem[o + t] = q >= firsts[t] && q < lasts[t] ? x[reads[t] + d] : 0;
              }
            }
            j += run;
          }
        }
      },
      (mem, at, ldt, i0, mc, r0, nr) => {
        for (let i = 0; i < mc; i++) {
          const dst = (group * g.og + i0 + i) * g.rows + r0;
          for (let j = 0; j < nr; j++) dw[dst + j] = mem[at + i * ldt + j];
        }
      }, from, to);
  }
}

/**
 * Floats of one chunk's slot of the weight gradient's partial sums: dW, or Winograd's products
 * where it applies (36 or 16; transformed into dW once, after the slots are added).
 */
export function weightChunkFloats(g: ConvGeometry, p: Conv2dParams): number {
  const tile = weightGradientTile(g, p);
  return tile ? winogradProductsSize(tile, g.o, g.c) : g.o * g.rows;
}

/**
 * The weight gradient of chunks from…to of the batch, each into its own slot of `partials`
 * (chunk c: images c·per…(c+1)·per, slot c·size… with size {@link weightChunkFloats}): the
 * caller adds the slots in order.
 */
export function conv2dBackwardWeightChunksF32(x: Float32Array, dy: Float32Array, partials: Float32Array, g: ConvGeometry, p: Conv2dParams, per: number, from: number, to: number): void {
  const size = weightChunkFloats(g, p);
  const tile = weightGradientTile(g, p);
  const [xImage, yImage] = [g.c * g.h * g.w, g.o * g.ho * g.wo];
  for (let c = from; c < to; c++) {
    const [i0, i1] = [c * per, Math.min(g.n, (c + 1) * per)];
    const [xs, dys, slot, gc] = [x.subarray(i0 * xImage, i1 * xImage), dy.subarray(i0 * yImage, i1 * yImage), partials.subarray(c * size, (c + 1) * size), { ...g, n: i1 - i0 }];
    if (tile) winogradWeightGradientProducts(xs, dys, slot, gc, tile);
    else conv2dBackwardWeightF32(xs, dys, slot, gc, p);
  }
}

/** Floats of the four phases interleaved at once: with the result, half of L2. */
const INTERLEAVE_FLOATS = 2 ** 15;

/**
 * Channels from…to of dx [n, c, 2·hp, 2·wp], from the four phases of a stride-2 input gradient:
 * phase (φy, φx) channel-major, [c, n, hp, wp] at planes[(2φy + φx)·c·n·hp·wp…], its pixel (a, b)
 * dx's (2a + φy, 2b + φx). Through the kernel's memory a run of images of one channel at a time:
 * its four phases copied in, interleaved over every row of the run at once, and written out
 * image by image.
 */
export function interleavePhasesF32(planes: Float32Array, dx: TypedArray, n: number, c: number, hp: number, wp: number, from: number, to: number): void {
  const area = hp * wp; // one image's plane of one phase
  const images = Math.max(1, Math.min(n, Math.floor(INTERLEAVE_FLOATS / (4 * area))));
  const run = images * area;
  const { kernel, at } = workspace(8 * run * 4);
  const mem = new Float32Array(kernel.memory.buffer);
  const outAt = at + 4 * run * 4;
  for (let ch = from; ch < to; ch++) {
    for (let i0 = 0; i0 < n; i0 += images) {
      const count = Math.min(images, n - i0);
      for (let f = 0; f < 4; f++) {
        const first = (f * c + ch) * n * area + i0 * area;
        mem.set(planes.subarray(first, first + count * area), at / 4 + f * run);
      }
      kernel.interleavePhases(at, outAt, count * hp, wp, run * 4);
      for (let i = 0; i < count; i++) dx.set(mem.subarray(outAt / 4 + i * 4 * area, outAt / 4 + (i + 1) * 4 * area), ((i0 + i) * c + ch) * 4 * area);
    }
  }
}
