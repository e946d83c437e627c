// The Lanczos process with full reorthogonalisation: m products with A give an orthonormal basis
// V of a Krylov space and the tridiagonal T = VᵀAV, whose eigenvalues approximate A's extremes
// first. When the Krylov space closes (A has repeated eigenvalues, or m reaches its dimension)
// it restarts from a fresh random vector orthogonal to V, so every multiplicity is found.
import { check, Generator } from "@sam/tensor";
import { axpy, dot, norm, type LinearOperator } from "./operator.js";
import { gaussianVector } from "./random.js";

/** Options of {@link lanczos}. */
export interface LanczosOptions {
  /** Steps m, each one product with the operator (capped at its dimension). */
  iterations: number;
  /** The starting vector (default: Gaussian from `generator`); it is normalised. */
  start?: Float64Array;
  /** Where random vectors come from (default: a generator seeded with 0). */
  generator?: Generator;
  /** Told the steps done and the steps in all after each product. */
  onProgress?: (done: number, total: number) => void;
}

/** T's diagonal `alpha` and off-diagonal `beta`, and the orthonormal basis V (one vector a step). */
export interface LanczosResult {
  /** T's diagonal, one entry a step. */
  alpha: number[];
  /** T's off-diagonal, one fewer; a 0 where the Krylov space closed and a fresh vector took over. */
  beta: number[];
  /** The orthonormal Lanczos vectors. */
  basis: Float64Array[];
  /**
   * βₘ, the norm of what the last product left outside the basis (0 when the Krylov space
   * closed): AV = VT + βₘ·vₘ₊₁·eₘᵀ, so a Ritz pair (θ, Vz) has residual |βₘ·zₘ| without another product.
   */
  residual: number;
}

/** Removes from `w` its components along `basis`, twice (once is not enough in floating point). */
function orthogonalise(w: Float64Array, basis: readonly Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) for (const v of basis) axpy(-dot(w, v), v, w);
}

/** A random unit vector orthogonal to `basis`, or null when the basis spans the whole space. */
function freshDirection(n: number, basis: readonly Float64Array[], generator: Generator): Float64Array | null {
  if (basis.length >= n) return null;
  const w = gaussianVector(n, generator);
  orthogonalise(w, basis);
  const length = norm(w);
  if (length < 1e-8 * Math.sqrt(n)) return null;
  return w.map((x) => x / length);
}

/**
 * Runs m Lanczos steps on `op`.
 * @example
 * const { alpha, beta } = await lanczos(op, { iterations: 30, generator: new Generator(0) });
 * const { values } = tridiagonalEigen(alpha, beta); // Ritz values, largest first
 */
export async function lanczos(op: LinearOperator, o: LanczosOptions): Promise<LanczosResult> {
  const n = op.dimension;
  check(Number.isInteger(o.iterations) && o.iterations >= 1, "lanczos", () => `iterations must be a positive integer, got ${o.iterations}`);
  check(o.start === undefined || o.start.length === n, "lanczos", () => `the start vector has length ${o.start!.length}, the operator dimension ${n}`);
  const m = Math.min(o.iterations, n);
  const generator = o.generator ?? new Generator(0);
  const start = o.start ?? gaussianVector(n, generator);
  const length = norm(start);
  check(length > 0 && Number.isFinite(length), "lanczos", () => `the start vector must be finite and nonzero, its norm is ${length}`);
  const basis: Float64Array[] = [start.map((x) => x / length)];
  const alpha: number[] = [];
  const beta: number[] = [];
  let scale = 0; // a running estimate of ‖A‖, against which a closing Krylov space is judged
  let residual = 0;
  for (let j = 0; j < m; j++) {
    const w = await op.apply(basis[j]);
    check(w.length === n, "lanczos", () => `the operator returned a vector of length ${w.length}, expected ${n}`);
    const a = dot(w, basis[j]);
    check(Number.isFinite(a), "lanczos", () => `the operator's product is not finite at step ${j + 1}`);
    alpha.push(a);
    o.onProgress?.(j + 1, m);
    axpy(-a, basis[j], w);
    if (j > 0) axpy(-beta[j - 1], basis[j - 1], w);
    orthogonalise(w, basis);
    const b = norm(w);
    scale = Math.max(scale, Math.abs(a) + b + (j > 0 ? beta[j - 1] : 0));
    if (j === m - 1) {
      residual = b > 1e-10 * scale ? b : 0;
      break;
    }
    if (b > 1e-10 * scale) {
      beta.push(b);
      basis.push(w.map((x) => x / b));
      continue;
    }
    const fresh = freshDirection(n, basis, generator);
    if (!fresh) break;
    beta.push(0); // T splits here: the new block starts a Krylov space of its own
    basis.push(fresh);
  }
  return { alpha, beta, basis, residual };
}
