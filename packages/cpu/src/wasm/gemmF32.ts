// Float32 GEMM on the WebAssembly SIMD kernel: JavaScript packs strided operands into the
// kernel's memory block by block; the kernel multiplies; JavaScript adds the tiles into C.
import { packA, packB, type MatrixView } from "../kernels/gemm.js";
import { compileGemmKernel, MR, NR, type GemmKernel } from "./gemmKernel.js";

const KC = 256; // depth of a block: an A panel (4×KC) and a B panel (KC×8) stay in L1
const MC = 128; // rows of A per block
const NC = 512; // columns of B per block: the packed B block (KC×NC) stays in L2

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

/**
 * C (+)= A·B in float32 on the SIMD kernel; the same contract as the reference `gemm`.
 * Products accumulate in float32, as every optimised BLAS does.
 */
export function gemmF32(
  m: number, n: number, k: number, a: MatrixView, b: MatrixView,
  c: { [i: number]: number }, cOffset: number, ldc: number, accumulate: boolean,
): void {
  const kern = ready()!;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[cOffset + i * ldc + j] = 0;
    return;
  }
  const mem = new Float32Array(kern.memory.buffer);
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    const ncPad = roundUp(nc, NR);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packB(mem, B_AT / 4, b, p0, kc, j0, nc, NR);
      const add = accumulate || p0 > 0;
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        const mcPad = roundUp(mc, MR);
        packA(mem, A_AT / 4, a, i0, mc, p0, kc, MR);
        kern.block(A_AT, B_AT, C_AT, mcPad, ncPad, kc, ncPad * 4);
        const tile = C_AT / 4;
        for (let i = 0; i < mc; i++) {
          const src = tile + i * ncPad;
          const dst = cOffset + (i0 + i) * ldc + j0;
          if (add) for (let j = 0; j < nc; j++) c[dst + j] += mem[src + j];
          else for (let j = 0; j < nc; j++) c[dst + j] = mem[src + j];
        }
      }
    }
  }
}
