// Float32 GEMM on the WebAssembly SIMD kernel: JavaScript packs strided operands into the
// kernel's memory block by block; the kernel multiplies; JavaScript adds the tiles into C.
import { packA, packB, type MatrixView } from "../kernels/gemm.js";
import { compileGemmKernel, MR, NR, type GemmKernel } from "./gemmKernel.js";

const KC = 256; // depth of a block: an A panel (4×KC) and a B panel (KC×8) stay in L1
const MC = 128; // rows of A per block
const NC = 512; // columns of B per block: the packed B block (KC×NC) stays in L2

/** The most columns (or depth) one packing call covers: packers may size scratch by it. */
export const BLOCK_COLUMNS = Math.max(NC, KC);

/** Column ranges handed to threads start at multiples of this (the column block). */
export const BLOCK_COLUMNS_ALIGN = NC;

const roundUp = (v: number, to: number) => Math.ceil(v / to) * to;

let kernel: GemmKernel | null | undefined;
const A_AT = 0;
const B_AT = A_AT + MC * KC * 4;
const C_AT = B_AT + NC * KC * 4;
const BYTES = C_AT + MC * NC * 4;

function ready(): GemmKernel | null {
  if (kernel === undefined) {
    kernel = compileGemmKernel();
    if (kernel) {
      const pages = Math.ceil(BYTES / 65536) - kernel.memory.buffer.byteLength / 65536;
      if (pages > 0) kernel.memory.grow(pages);
    }
  }
  return kernel;
}

/**
 * Whether the WebAssembly SIMD GEMM can run here.
 * @example
 * if (simdAvailable()) console.log("fast float32 GEMM");
 */
export function simdAvailable(): boolean {
  return ready() !== null;
}

/** Writes rows i0…i0+mc of A, columns p0…p0+kc, as MR-row panels (zero-padded) from `at`. */
export type PackA = (mem: Float32Array, at: number, i0: number, mc: number, p0: number, kc: number) => void;
/** Writes rows p0…p0+kc of B, columns j0…j0+nc, as NR-column panels (zero-padded) from `at`. */
export type PackB = (mem: Float32Array, at: number, p0: number, kc: number, j0: number, nc: number) => void;
/** Takes a computed tile (rows i0…, columns j0…, row stride ldt) into C, adding when `add`. */
export type Store = (mem: Float32Array, at: number, ldt: number, i0: number, mc: number, j0: number, nc: number, add: boolean) => void;

/**
 * The blocked GEMM loop around the SIMD kernel, for any operand layout: the caller packs A and B
 * and stores the tiles, so a convolution can pack straight from its input (im2col on the fly)
 * and scatter straight into its output. `add` is false only for the first depth block.
 * Columns `from`…`to` alone are computed, in blocks starting at `from` (a thread's share); a
 * caller splitting work between threads starts shares at multiples of {@link BLOCK_COLUMNS_ALIGN}
 * (or always uses the same ranges) so that every share sums in the order one thread would.
 */
export function blockedGemm(m: number, n: number, k: number, packA: PackA, packB: PackB, store: Store, from = 0, to = n): void {
  const kern = ready()!;
  if (m === 0 || to <= from || k === 0) return;
  const mem = new Float32Array(kern.memory.buffer);
  for (let i0 = 0; i0 < m; i0 += MC) {
    const mc = Math.min(MC, m - i0);
    const mcPad = roundUp(mc, MR);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packA(mem, A_AT / 4, i0, mc, p0, kc);
      for (let j0 = from; j0 < to; j0 += NC) {
        const nc = Math.min(NC, to - j0);
        const ncPad = roundUp(nc, NR);
        packB(mem, B_AT / 4, p0, kc, j0, nc);
        kern.block(A_AT, B_AT, C_AT, mcPad, ncPad, kc, ncPad * 4);
        store(mem, C_AT / 4, ncPad, i0, mc, j0, nc, p0 > 0);
      }
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
    (mem, at, i0, mc, p0, kc) => packA(mem, at, a, i0, mc, p0, kc, MR),
    (mem, at, p0, kc, j0, nc) => packB(mem, at, b, p0, kc, j0, nc, NR),
    (mem, at, ldt, i0, mc, j0, nc, add) => {
      for (let i = 0; i < mc; i++) {
        const src = at + i * ldt;
        const dst = cOffset + (i0 + i) * ldc + j0;
        if (add || accumulate) for (let j = 0; j < nc; j++) c[dst + j] += mem[src + j];
        else for (let j = 0; j < nc; j++) c[dst + j] = mem[src + j];
      }
    }, from, to);
}
