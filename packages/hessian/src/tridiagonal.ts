// Eigenvalues and eigenvectors of the symmetric tridiagonal matrix Lanczos builds, by the QL
// algorithm with implicit Wilkinson shifts (Golub and Van Loan, "Matrix Computations", §8.3).
import { SamError } from "@sam/tensor";

/** The eigen-decomposition of a symmetric tridiagonal matrix: T = Z·diag(values)·Zᵀ. */
export interface TridiagonalEigen {
  /** Eigenvalues, largest first. */
  values: number[];
  /** Eigenvectors as columns, `vectors[i][j]` = component i of the eigenvector of `values[j]`. */
  vectors: number[][];
}

/**
 * Eigen-decomposes the symmetric tridiagonal matrix with diagonal `alpha` (length m) and
 * off-diagonal `beta` (length m − 1).
 * @example
 * tridiagonalEigen([2, 2], [1]).values; // [3, 1]
 */
export function tridiagonalEigen(alpha: readonly number[], beta: readonly number[]): TridiagonalEigen {
  const m = alpha.length;
  if (beta.length !== Math.max(0, m - 1)) throw new SamError("tridiagonalEigen", `beta must have ${Math.max(0, m - 1)} entries for ${m} diagonal ones, got ${beta.length}`);
  const d = Array.from(alpha);
  const e = [...beta, 0];
  const z: number[][] = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, j) => (i === j ? 1 : 0)));
  for (let l = 0; l < m; l++) {
    for (let iteration = 0; ; iteration++) {
      // the first negligible off-diagonal entry at or below l splits the matrix there
      let n = l;
      while (n < m - 1 && Math.abs(e[n]) > Number.EPSILON * (Math.abs(d[n]) + Math.abs(d[n + 1]))) n++;
      if (n === l) break;
      if (iteration === 60) throw new SamError("tridiagonalEigen", `no convergence after 60 sweeps at row ${l}`);
      // Wilkinson's shift from the leading 2×2 block, then one implicit QL sweep from n up to l
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[n] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let [s, c, p]: number[] = [1, 1, 0];
      let i = n - 1;
      for (; i >= l; i--) {
        let f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[n] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        for (let k = 0; k < m; k++) {
          f = z[k][i + 1];
          z[k][i + 1] = s * z[k][i] + c * f;
          z[k][i] = c * z[k][i] - s * f;
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[n] = 0;
    }
  }
  const order = d.map((_, i) => i).sort((a, b) => d[b] - d[a]);
  return { values: order.map((i) => d[i]), vectors: z.map((row) => order.map((i) => row[i])) };
}
