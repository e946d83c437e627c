// A symmetric linear operator seen only through its products with vectors, the one thing Lanczos,
// the quadrature and Hutchinson's estimator ask of a Hessian; and the few vector operations they
// share, in float64 on the host whatever the device computes the products on.
import { check } from "@sam/tensor";

/** A symmetric n×n operator known through `apply(v) = A·v`. */
export interface LinearOperator {
  /** n, the length of the vectors it takes and gives. */
  readonly dimension: number;
  /** A·v; `v` is not changed. */
  apply(v: Float64Array): Promise<Float64Array>;
}

/**
 * An operator for an explicit symmetric matrix (row-major, n×n), for tests and small problems.
 * @example
 * const a = matrixOperator(new Float64Array([2, 1, 1, 3]), 2);
 * await a.apply(new Float64Array([1, 0])); // Float64Array [2, 1]
 */
export function matrixOperator(matrix: Float64Array, n: number): LinearOperator {
  check(matrix.length === n * n, "matrixOperator", () => `expected ${n}×${n} = ${n * n} values, got ${matrix.length}`);
  return {
    dimension: n,
    apply: async (v) => {
      check(v.length === n, "matrixOperator.apply", () => `expected a vector of length ${n}, got ${v.length}`);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += matrix[i * n + j] * v[j];
        out[i] = s;
      }
      return out;
    },
  };
}

/** a·b. */
export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** ‖a‖₂. */
export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + α·x, in place. */
export function axpy(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}
