// Float32 GEMM on the WebAssembly SIMD kernel: JavaScript packs strided operands into the
// kernel's memory block by block; the kernel multiplies and accumulates C in its own memory over
// the whole depth; JavaScript then stores each finished block of C once.
import type { MatrixView } from "../reference/gemm.js";
import { compileGemmKernel, GATHER_ROWS, NR, tileRows, type GemmKernel, type TileRows } from "./gemmKernel.js";

const KC = 256; // depth of a block: an A panel (5×KC) and a B panel (KC×8) stay in L1
const MC = 140; // rows of A per block: a multiple of both tile heights, so blocks start on panels
const NC = 512; // columns of B per block: the packed B block (KC×NC) stays in L2
const ROWS = 8 * MC; // rows of C kept in the kernel's memory at once (ROWS×NC floats)
const A_BYTES = 5 * 2 ** 20; // all of A, packed once when it fits (4 MiB of floats and their panels' padding)

/** The most columns (or depth) one packing call covers: packers may size scratch by it. */
export const BLOCK_COLUMNS = Math.max(NC, KC);

/** Column ranges handed to threads start at multiples of this (the column block). */
export const BLOCK_COLUMNS_ALIGN = NC;

const roundUp = (v: number, to: number) => Math.ceil(v / to) * to;

let kernel: GemmKernel | null | undefined;
const A_AT = 0;
const B_AT = A_AT + A_BYTES;
const C_AT = B_AT + NC * KC * 4;
const STAGE_AT = C_AT + ROWS * NC * 4; // operands' rows copied in before packing
const STAGE_FLOATS = Math.max(MC, NC) * KC;
const BYTES = STAGE_AT + STAGE_FLOATS * 4;

/**
 * A's packed panels for one GEMM, in tiles of `mr` rows. When all of A fits, it is packed up front,
 * row block by row block over the whole depth, so that each row of the operand is read once and in
 * order, and every column block reuses it; else each block is packed just before its use.
 */
class PackedA {
  readonly mr: TileRows;
  private readonly whole: boolean;

  constructor(mem: Float32Array, m: number, private readonly k: number, private readonly pack: PackA) {
    this.mr = tileRows(m);
    this.whole = roundUp(m, this.mr) * k * 4 <= A_BYTES;
    if (this.whole) for (let i0 = 0; i0 < m; i0 += MC) pack(mem, A_AT / 4 + i0 * k, i0, Math.min(MC, m - i0), 0, k, this.mr);
  }

  /** Byte address of the block at rows i0…i0+mc, depth p0…p0+kc (packed now unless A is whole). */
  block(mem: Float32Array, i0: number, mc: number, p0: number, kc: number): number {
    if (this.whole) return A_AT + (i0 * this.k + p0 * this.mr) * 4;
    this.pack(mem, A_AT / 4, i0, mc, p0, kc, this.mr);
    return A_AT;
  }

  /** Bytes from one row of the packed panels to the next: the depth they were packed over, times 4. */
  rowBytes(kc: number): number {
    return (this.whole ? this.k : kc) * 4;
  }
}

/** Grows the kernel's memory to at least `bytes`. */
function reserve(kern: GemmKernel, bytes: number): void {
  const pages = Math.ceil(bytes / 65536) - kern.memory.buffer.byteLength / 65536;
  if (pages > 0) kern.memory.grow(pages);
}

function ready(): GemmKernel | null {
  if (kernel === undefined) {
    kernel = compileGemmKernel();
    if (kernel) reserve(kernel, BYTES);
  }
  return kernel;
}

/**
 * The kernel with `bytes` of its memory free for the caller's own layout from the returned byte
 * address `at` (past the GEMM's blocks; the GEMMs' in-place operands use the same room, so it
 * holds nothing between calls).
 */
export function workspace(bytes: number): { kernel: GemmKernel; at: number } {
  const kern = ready()!;
  reserve(kern, BYTES + bytes);
  return { kernel: kern, at: BYTES };
}

/** {@link workspace} for regions of these byte sizes, one after another: their addresses. */
export function workspaceRegions(sizes: number[]): { kernel: GemmKernel; at: number[] } {
  const { kernel: kern, at } = workspace(sizes.reduce((a, b) => a + b, 0));
  const starts = sizes.map((_, i) => at + sizes.slice(0, i).reduce((a, b) => a + b, 0));
  return { kernel: kern, at: starts };
}

/**
 * Whether the WebAssembly SIMD GEMM can run here.
 * @example
 * if (simdAvailable()) console.log("fast float32 GEMM");
 */
export function simdAvailable(): boolean {
  return ready() !== null;
}

/**
 * Whether the SIMD GEMM multiplies and adds in one instruction here (relaxed SIMD's fused
 * multiply-add: Chrome 114+, Node 22+, and Node 20, where the Node entry turns the engine's flag on
 * unless the process was started with --no-experimental-wasm-relaxed-simd).
 * @example
 * console.log(fusedMultiplyAdd() ? "fused multiply-add" : "multiply, then add");
 */
export function fusedMultiplyAdd(): boolean {
  return ready()?.fused ?? false;
}

/**
 * Zero-padded image rows inside the kernel's memory (byte addresses and channel strides): for each
 * of `channels`, `top` zero rows, `valid` rows of w floats from src each between pw zeros, `bottom`
 * zero rows, with row stride w + 2·pw from dst.
 */
export function padRows(src: number, dst: number, channels: number, top: number, valid: number, bottom: number, w: number, pw: number, srcChannel: number, dstChannel: number): void {
  ready()!.padRows(src, dst, channels, top, valid, bottom, w, pw, srcChannel, dstChannel);
}

/** Rows padded by one zero column on either side and split into even and odd columns: see layoutKernels.ts (byte addresses and strides). */
export function padPhased(src: number, dst: number, channels: number, h: number, w: number, srcChannel: number, dstChannel: number, row: number, phase: number): void {
  ready()!.padPhased(src, dst, channels, h, w, srcChannel, dstChannel, row, phase);
}

/**
 * Channels transposed into GEMM panels inside the kernel's memory (bytes): panel n's rows 0…count
 * are eight floats, float t of row q from channel 8n + t (at src + channel·srcChannel) at pixel q;
 * panel n starts at dst + n·dstPanel.
 */
export function transposePanels(src: number, dst: number, panels: number, count: number, srcChannel: number, dstPanel: number): void {
  ready()!.transposePanelsB(src, dst, panels, count, srcChannel, dstPanel);
}

/** Writes rows i0…i0+mc of A, columns p0…p0+kc, as panels of mr rows (zero-padded) from `at`. */
export type PackA = (mem: Float32Array, at: number, i0: number, mc: number, p0: number, kc: number, mr: TileRows) => void;
/** Writes rows p0…p0+kc of B, columns j0…j0+nc, as NR-column panels (zero-padded) from `at`. */
export type PackB = (mem: Float32Array, at: number, p0: number, kc: number, j0: number, nc: number) => void;
/** Takes a finished block of C (rows i0…i0+mc, columns j0…j0+nc, row stride ldt, from `at`). */
export type Store = (mem: Float32Array, at: number, ldt: number, i0: number, mc: number, j0: number, nc: number) => void;

/**
 * The blocked GEMM loop around the SIMD kernel, for any operand layout: the caller packs A and B
 * and stores the finished blocks of C, so a convolution can pack straight from its input (im2col
 * on the fly) and scatter straight into its output. The loops run as in Goto's GEMM: a column
 * block, then depth blocks (B packed once each), then row blocks of A; C accumulates in the
 * kernel's memory until its column block is done.
 * Columns `from`…`to` alone are computed, in blocks starting at `from` (a thread's share); a
 * caller splitting work between threads starts shares at multiples of {@link BLOCK_COLUMNS_ALIGN}
 * (or always uses the same ranges) so that every share sums in the order one thread would.
 */
export function blockedGemm(m: number, n: number, k: number, packA: PackA, packB: PackB, store: Store, from = 0, to = n): void {
  const kern = ready()!;
  if (m === 0 || to <= from || k === 0) return;
  const mem = new Float32Array(kern.memory.buffer);
  const a = new PackedA(mem, m, k, packA);
  for (let r0 = 0; r0 < m; r0 += ROWS) {
    const rows = Math.min(ROWS, m - r0);
    for (let j0 = from; j0 < to; j0 += NC) {
      const nc = Math.min(NC, to - j0);
      const ncPad = roundUp(nc, NR);
      for (let p0 = 0; p0 < k; p0 += KC) {
        const kc = Math.min(KC, k - p0);
        packB(mem, B_AT / 4, p0, kc, j0, nc);
        for (let i0 = 0; i0 < rows; i0 += MC) {
          const mc = Math.min(MC, rows - i0);
          kern.block[a.mr](a.block(mem, r0 + i0, mc, p0, kc), a.rowBytes(kc), B_AT, C_AT + i0 * ncPad * 4, roundUp(mc, a.mr), ncPad, kc, ncPad * 4, p0 > 0 ? 1 : 0);
        }
      }
      store(mem, C_AT / 4, ncPad, r0, rows, j0, nc);
    }
  }
}

/**
 * An operand read in place by the kernel from a source region its provider fills: element
 * (t, q) is the float at byte address `offsets[q] + taps[t]` — for a convolution, t a kernel tap
 * and q an output pixel, both offsets into a zero-padded copy of the input rows.
 */
export interface InPlace {
  /** Bytes of source region one block needs. */
  sourceBytes: number;
  /** Writes taps[t] (bytes, relative to an offset) for every tap. */
  taps(taps: Int32Array): void;
  /**
   * Fills the source region (from float index `sourceAt` of `mem`) for pixels q0…q0+count and
   * writes each one's byte address into offsets[q − q0].
   */
  prepare(mem: Float32Array, sourceAt: number, offsets: Int32Array, q0: number, count: number): void;
}

/**
 * The blocked GEMM of {@link blockedGemm} with B read in place through `b` (tap = row of B,
 * pixel = column) instead of packed; `from` and `to` must be multiples of NR, and each panel's
 * NR pixels consecutive floats in the source.
 */
export function directGemm(m: number, n: number, k: number, packA: PackA, b: InPlace, store: Store, from = 0, to = n): void {
  const kern = ready()!;
  if (m === 0 || to <= from || k === 0) return;
  const tapsAt = BYTES;
  const basesAt = tapsAt + roundUp(k, 4) * 4;
  const sourceAt = basesAt + NC * 4;
  reserve(kern, sourceAt + b.sourceBytes);
  const buffer = kern.memory.buffer;
  const mem = new Float32Array(buffer);
  b.taps(new Int32Array(buffer, tapsAt, k));
  const bases = new Int32Array(buffer, basesAt, NC);
  const a = new PackedA(mem, m, k, packA);
  for (let r0 = 0; r0 < m; r0 += ROWS) {
    const rows = Math.min(ROWS, m - r0);
    for (let j0 = from; j0 < to; j0 += NC) {
      const nc = Math.min(NC, to - j0);
      b.prepare(mem, sourceAt / 4, bases, j0, nc);
      for (let p0 = 0; p0 < k; p0 += KC) {
        const kc = Math.min(KC, k - p0);
        for (let i0 = 0; i0 < rows; i0 += MC) {
          const mc = Math.min(MC, rows - i0);
          kern.direct[a.mr](a.block(mem, r0 + i0, mc, p0, kc), a.rowBytes(kc), tapsAt + p0 * 4, basesAt, C_AT + i0 * nc * 4, roundUp(mc, a.mr), nc, kc, nc * 4, p0 > 0 ? 1 : 0);
        }
      }
      store(mem, C_AT / 4, nc, r0, rows, j0, nc);
    }
  }
}

/** {@link PackB} with the float index of a staging area of the bytes its caller asked for. */
export type StagedPackB = (mem: Float32Array, at: number, p0: number, kc: number, j0: number, nc: number, stage: number) => void;

/**
 * The blocked GEMM with A read in place through `a` (tap = row of A, pixel = column of A, the
 * depth) and B packed, with `stageBytes` of the kernel's memory for packB to stage its source in;
 * rows `from`…`to` alone are computed (any split gives the same values).
 */
export function gatheredGemm(m: number, n: number, k: number, a: InPlace, packB: StagedPackB, stageBytes: number, store: Store, from = 0, to = m): void {
  const kern = ready()!;
  if (to <= from || n === 0 || k === 0) return;
  const tapsAt = BYTES;
  const offsetsAt = tapsAt + roundUp(m, GATHER_ROWS) * 4;
  const sourceAt = offsetsAt + KC * 4;
  const stageAt = sourceAt + a.sourceBytes;
  reserve(kern, stageAt + stageBytes);
  const buffer = kern.memory.buffer;
  const mem = new Float32Array(buffer);
  const taps = new Int32Array(buffer, tapsAt, roundUp(m, GATHER_ROWS));
  taps.fill(0); // rows past m read a valid address: computed, never stored
  a.taps(taps);
  const offsets = new Int32Array(buffer, offsetsAt, KC);
  for (let r0 = from; r0 < to; r0 += ROWS) {
    const rows = Math.min(ROWS, to - r0);
    for (let j0 = 0; j0 < n; j0 += NC) {
      const nc = Math.min(NC, n - j0);
      const ncPad = roundUp(nc, NR);
      for (let p0 = 0; p0 < k; p0 += KC) {
        const kc = Math.min(KC, k - p0);
        a.prepare(mem, sourceAt / 4, offsets, p0, kc);
        packB(mem, B_AT / 4, p0, kc, j0, nc, stageAt / 4);
        for (let i0 = 0; i0 < rows; i0 += MC) {
          const mc = Math.min(MC, rows - i0);
          kern.gathered(tapsAt + (r0 + i0) * 4, offsetsAt, B_AT, C_AT + i0 * ncPad * 4, roundUp(mc, GATHER_ROWS), ncPad, kc, ncPad * 4, p0 > 0 ? 1 : 0);
        }
      }
      store(mem, C_AT / 4, ncPad, r0, rows, j0, nc);
    }
  }
}

/**
 * Packs A[i0:i0+mc, p0:p0+kc] as panels of mr rows (zero-padded) from `at`; float32 only, so that
 * the engine compiles one monomorphic copy loop. Rows of consecutive floats are copied into the
 * staging area at `stage` (as many whole panels at once as it holds; in one piece when they are
 * adjacent in A) and transposed there.
 */
function packRowsF32(mem: Float32Array, at: number, a: Float32Array, offset: number, rs: number, cs: number, i0: number, mc: number, p0: number, kc: number, mr: TileRows, stage: number): void {
  const chunk = cs === 1 ? Math.floor(STAGE_FLOATS / kc / mr) * mr : 0;
  const staged = chunk > 0 ? Math.floor(mc / mr) * mr : 0;
  for (let s0 = 0; s0 < staged; s0 += chunk) {
    const rows = Math.min(chunk, staged - s0);
    const from = offset + (i0 + s0) * rs + p0;
    if (rs === kc) mem.set(a.subarray(from, from + rows * kc), stage);
    else for (let r = 0; r < rows; r++) mem.set(a.subarray(from + r * rs, from + r * rs + kc), stage + r * kc);
    ready()!.transposePanelsA[mr](stage * 4, (at + s0 * kc) * 4, rows / mr, kc, kc * 4, kc * mr * 4);
  }
  let w = at + staged * kc;
  for (let ip = staged; ip < mc; ip += mr) {
    const base = offset + (i0 + ip) * rs + p0 * cs;
    const valid = Math.min(mr, mc - ip);
    for (let p = 0; p < kc; p++) {
      const col = base + p * cs;
      for (let r = 0; r < mr; r++) mem[w++] = r < valid ? a[col + r * rs] : 0;
    }
  }
}

/**
 * Packs B[p0:p0+kc, j0:j0+nc] as NR-column panels (zero-padded) from `at`; float32 only. Rows of
 * consecutive floats are copied into the staging area at `stage` and cut into panels there.
 */
function packColumnsF32(mem: Float32Array, at: number, b: Float32Array, offset: number, rs: number, cs: number, p0: number, kc: number, j0: number, nc: number, stage: number): void {
  let w = at;
  const whole = cs === 1 ? Math.floor(nc / NR) : 0;
  if (whole > 0) {
    for (let p = 0; p < kc; p++) {
      const from = offset + (p0 + p) * rs + j0;
      mem.set(b.subarray(from, from + whole * NR), stage + p * whole * NR);
    }
    ready()!.panelRows(stage * 4, at * 4, whole, kc, whole * NR * 4, kc * NR * 4);
    w += whole * NR * kc;
  }
  for (let jp = whole * NR; jp < nc; jp += NR) {
    const base = offset + p0 * rs + (j0 + jp) * cs;
    for (let p = 0; p < kc; p++) {
      for (let c = 0; c < NR; c++) mem[w++] = jp + c < nc ? b[base + p * rs + c * cs] : 0;
    }
  }
}

/**
 * C (+)= A·B in float32 on the SIMD kernel; the same contract as the reference `gemm`.
 * Products accumulate in float32, as every optimised BLAS does.
 */
export function gemmF32(
  m: number, n: number, k: number, a: MatrixView, b: MatrixView,
  c: { [i: number]: number }, cOffset: number, ldc: number, accumulate: boolean, from = 0, to = n,
): void {
  if (k === 0) {
    if (!accumulate) for (let i = 0; i < m; i++) for (let j = from; j < to; j++) c[cOffset + i * ldc + j] = 0;
    return;
  }
  blockedGemm(m, n, k,
    (mem, at, i0, mc, p0, kc, mr) => packRowsF32(mem, at, a.data as Float32Array, a.offset, a.rowStride, a.colStride, i0, mc, p0, kc, mr, STAGE_AT / 4),
    (mem, at, p0, kc, j0, nc) => packColumnsF32(mem, at, b.data as Float32Array, b.offset, b.rowStride, b.colStride, p0, kc, j0, nc, STAGE_AT / 4),
    (mem, at, ldt, i0, mc, j0, nc) => {
      for (let i = 0; i < mc; i++) {
        const src = at + i * ldt;
        const dst = cOffset + (i0 + i) * ldc + j0;
        if (accumulate) for (let j = 0; j < nc; j++) c[dst + j] += mem[src + j];
        else if (c instanceof Float32Array) c.set(mem.subarray(src, src + nc), dst);
        else for (let j = 0; j < nc; j++) c[dst + j] = mem[src + j];
      }
    }, from, to);
}
