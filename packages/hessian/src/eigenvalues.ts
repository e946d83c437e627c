// The top eigenvalues of a symmetric operator: Ritz values of Lanczos with their true residuals,
// and power iteration as an independent check of the largest.
import { check, Generator } from "@sam/tensor";
import { lanczos } from "./lanczos.js";
import { axpy, dot, norm, type LinearOperator } from "./operator.js";
import { gaussianVector } from "./random.js";
import { tridiagonalEigen } from "./tridiagonal.js";
import { quadratureOf, type Quadrature } from "./density.js";

/** Options of {@link topEigenvalues}. */
export interface TopEigenvaluesOptions {
  /** How many eigenvalues, largest first (default 5). */
  k?: number;
  /** Lanczos steps (default max(3k, 30), capped at the dimension). */
  iterations?: number;
  /** Seed of the starting vector (default 0). */
  seed?: number;
  /** Also return the eigenvectors (default false). */
  vectors?: boolean;
  /** Told the products done and in all (the Lanczos steps). */
  onProgress?: (done: number, total: number) => void;
}

/** λ1 ≥ … ≥ λk with ‖Av − λv‖ for each unit eigenvector v. */
export interface TopEigenvalues {
  /** λ1 ≥ … ≥ λk. */
  values: number[];
  /** ‖Av − λv‖ for each unit Ritz vector. */
  residuals: number[];
  /** The unit eigenvectors, when asked for. */
  vectors?: Float64Array[];
  /** Lanczos steps taken. */
  iterations: number;
  /** The Lanczos run's quadrature (it started from a random unit vector): a run of {@link spectralDensity}'s, for free. */
  quadrature: Quadrature;
}

/**
 * The k largest eigenvalues of `op` by Lanczos with full reorthogonalisation, with their
 * residuals ‖Av − λv‖ from the Lanczos relation AV = VT + βₘvₘ₊₁eₘᵀ (|βₘ·zₘ| for the Ritz vector
 * v = Vz), which costs no product beyond the `iterations` steps.
 * @example
 * const { values, residuals } = await topEigenvalues(hessian, { k: 5, iterations: 50 });
 * const ratio = values[0] / values[4]; // λmax/λ5, the SAM paper's sharpness proxy
 */
export async function topEigenvalues(op: LinearOperator, o: TopEigenvaluesOptions = {}): Promise<TopEigenvalues> {
  const k = o.k ?? 5;
  check(Number.isInteger(k) && k >= 1 && k <= op.dimension, "topEigenvalues", () => `k must be an integer in 1…${op.dimension} (the dimension), got ${k}`);
  const iterations = Math.min(op.dimension, o.iterations ?? Math.max(3 * k, 30));
  check(Number.isInteger(iterations) && iterations >= k, "topEigenvalues", () => `iterations must be an integer ≥ k = ${k}, got ${o.iterations}`);
  const { alpha, beta, basis, residual } = await lanczos(op, { iterations, generator: new Generator(o.seed ?? 0), onProgress: o.onProgress });
  const t = tridiagonalEigen(alpha, beta);
  const last = alpha.length - 1;
  const top = Array.from({ length: k }, (_, i) => i);
  const values = top.map((i) => t.values[i]);
  const residuals = top.map((i) => Math.abs(residual * t.vectors[last][i]));
  if (!o.vectors) return { values, residuals, iterations: alpha.length, quadrature: quadratureOf(t) };
  const vectors = top.map((i) => {
    const v = new Float64Array(op.dimension);
    basis.forEach((b, j) => axpy(t.vectors[j][i], b, v));
    const length = norm(v);
    return v.map((x) => x / length);
  });
  return { values, residuals, vectors, iterations: alpha.length, quadrature: quadratureOf(t) };
}

/** Options of {@link powerIteration}. */
export interface PowerIterationOptions {
  /** At most this many products (default 100). */
  iterations?: number;
  /** Stop when the estimate changes by less than this, relatively (default 1e-6). */
  tolerance?: number;
  /** Seed of the starting vector (default 0). */
  seed?: number;
}

/** The estimate of the eigenvalue of largest magnitude and the products it took. */
export interface PowerIterationResult {
  /** The last Rayleigh quotient. */
  value: number;
  /** Products taken. */
  iterations: number;
}

/**
 * The eigenvalue of largest magnitude by power iteration (the Rayleigh quotient of vₜ₊₁ = Avₜ/‖Avₜ‖):
 * an independent check of Lanczos's λmax where it dominates in magnitude, as at a minimum.
 * @example
 * const { value } = await powerIteration(hessian, { iterations: 50 });
 */
export async function powerIteration(op: LinearOperator, o: PowerIterationOptions = {}): Promise<PowerIterationResult> {
  const limit = o.iterations ?? 100;
  check(Number.isInteger(limit) && limit >= 1, "powerIteration", () => `iterations must be a positive integer, got ${o.iterations}`);
  let v = gaussianVector(op.dimension, new Generator(o.seed ?? 0));
  v = v.map((x) => x / norm(v));
  let value = NaN;
  for (let i = 1; i <= limit; i++) {
    const av = await op.apply(v);
    const next = dot(v, av);
    const length = norm(av);
    if (length === 0) return { value: 0, iterations: i };
    v = av.map((x) => x / length);
    const settled = Math.abs(next - value) <= (o.tolerance ?? 1e-6) * Math.abs(next);
    value = next;
    if (settled) return { value, iterations: i };
  }
  return { value, iterations: limit };
}
