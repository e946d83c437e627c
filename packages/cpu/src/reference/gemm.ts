// A cache-blocked GEMM with packed panels and a 4×4 register-blocked inner kernel.
// C[m×n] (+)= A[m×k] · B[k×n], where A and B are read through strides, so transposes cost nothing.

/** A matrix read through strides: element (i, j) is `data[offset + i·rowStride + j·colStride]`. */
export interface MatrixView {
  /** The elements. */
  readonly data: ArrayLike<number>;
  /** Where element (0, 0) is. */
  readonly offset: number;
  /** Distance between rows. */
  readonly rowStride: number;
  /** Distance between columns. */
  readonly colStride: number;
}

const MR = 4; // rows of A per micro-panel
const NR = 4; // columns of B per micro-panel
const KC = 256; // depth of one packed block: a 4×KC panel of A and of B stay in L1
const MC = 64; // rows of A packed at once (fits L2 together with the B block)
const NC = 512; // columns of B packed at once

const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(NC * KC);

/** Copies A[i0:i0+rows, p0:p0+kc] into `dst` from `at` as panels of `width` rows, zero-padded. */
export function packA(dst: { [i: number]: number }, at: number, a: MatrixView, i0: number, rows: number, p0: number, kc: number, width: number): void {
  const { data, offset, rowStride, colStride } = a;
  let w = at;
  for (let ip = 0; ip < rows; ip += width) {
    for (let p = 0; p < kc; p++) {
      const col = offset + (p0 + p) * colStride;
      for (let r = 0; r < width; r++) {
        const i = ip + r;
        dst[w++] = i < rows ? data[col + (i0 + i) * rowStride] : 0;
      }
    }
  }
}

/** Copies B[p0:p0+kc, j0:j0+cols] into `dst` from `at` as panels of `width` columns, zero-padded: A's packing of Bᵀ. */
export function packB(dst: { [i: number]: number }, at: number, b: MatrixView, p0: number, kc: number, j0: number, cols: number, width: number): void {
  packA(dst, at, { ...b, rowStride: b.colStride, colStride: b.rowStride }, j0, cols, p0, kc, width);
}

/**
 * C = A·B, or C += A·B when `accumulate`; C is row-major with leading dimension `ldc` from `cOffset`.
 * @example
 * gemm(2, 2, 3, aView, bView, c, 0, 2, false);
 */
export function gemm(
  m: number, n: number, k: number, a: MatrixView, b: MatrixView,
  c: { [i: number]: number }, cOffset: number, ldc: number, accumulate: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[cOffset + i * ldc + j] = 0;
    return;
  }
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packB(packedB, 0, b, p0, kc, j0, nc, NR);
      const add = accumulate || p0 > 0;
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packA(packedA, 0, a, i0, mc, p0, kc, MR);
        for (let ip = 0; ip < mc; ip += MR) {
          for (let jp = 0; jp < nc; jp += NR) {
            microKernel(kc, ip * kc, jp * kc, c, cOffset + (i0 + ip) * ldc + j0 + jp, ldc,
              Math.min(MR, mc - ip), Math.min(NR, nc - jp), add);
          }
        }
      }
    }
  }
}

/** The 4×4 block of C from one A panel and one B panel, in sixteen local accumulators. */
function microKernel(
  kc: number, pa: number, pb: number, c: { [i: number]: number }, at: number, ldc: number,
  rows: number, cols: number, add: boolean,
): void {
  const A = packedA;
  const B = packedB;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++, pa += MR, pb += NR) {
    const a0 = A[pa], a1 = A[pa + 1], a2 = A[pa + 2], a3 = A[pa + 3];
    const b0 = B[pb], b1 = B[pb + 1], b2 = B[pb + 2], b3 = B[pb + 3];
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (rows === MR && cols === NR && !add) {
    c[at] = c00; c[at + 1] = c01; c[at + 2] = c02; c[at + 3] = c03; at += ldc;
    c[at] = c10; c[at + 1] = c11; c[at + 2] = c12; c[at + 3] = c13; at += ldc;
    c[at] = c20; c[at + 1] = c21; c[at + 2] = c22; c[at + 3] = c23; at += ldc;
    c[at] = c30; c[at + 1] = c31; c[at + 2] = c32; c[at + 3] = c33;
    return;
  }
  const block = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let r = 0; r < rows; r++) {
    const row = at + r * ldc;
    for (let j = 0; j < cols; j++) c[row + j] = add ? c[row + j] + block[r * 4 + j] : block[r * 4 + j];
  }
}
