// The spectral density by stochastic Lanczos quadrature (Ghorbani, Krishnan and Xiao, 2019): each
// run's Lanczos from a random unit vector v gives nodes θᵢ (T's eigenvalues) and weights τᵢ (the
// squared first components of T's eigenvectors), a Gauss quadrature of the measure vᵀδ(t − A)v;
// their average over runs, each node smoothed by a Gaussian, estimates the density of A's spectrum.
import { check, Generator } from "@sam/tensor";
import { lanczos } from "./lanczos.js";
import type { LinearOperator } from "./operator.js";
import { tridiagonalEigen, type TridiagonalEigen } from "./tridiagonal.js";

/** Options of {@link spectralDensity}. */
export interface SpectralDensityOptions {
  /** Independent runs, each from its own random vector (default 10). */
  runs?: number;
  /** Lanczos steps per run (default 30, capped at the dimension). */
  iterations?: number;
  /** Seed of the random vectors (default 0). */
  seed?: number;
  /** Points of the grid the density is evaluated on (default 1000). */
  gridPoints?: number;
  /** Standard deviation of the Gaussian smoothing each node (default 1% of the nodes' range). */
  sigma?: number;
  /** Told the products done and in all. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Runs made already from random unit vectors, counted among `runs`: the quadrature of
   * {@link topEigenvalues}'s Lanczos run, so the density costs that many fewer products.
   */
  made?: readonly Quadrature[];
}

/** The density on a grid, and the quadrature it was smoothed from. */
export interface SpectralDensity {
  /** Evenly spaced points covering the nodes with 6σ to spare on both sides. */
  grid: number[];
  /** The density at each grid point; it integrates to 1. */
  values: number[];
  /** The Gaussian's standard deviation. */
  sigma: number;
  /** Each run's quadrature. */
  quadrature: Quadrature[];
}

/** One run's Gauss quadrature of the spectral measure. */
export interface Quadrature {
  /** The nodes θᵢ: the eigenvalues of that run's T. */
  nodes: number[];
  /** The weights τᵢ: the squared first components of T's eigenvectors; they sum to 1. */
  weights: number[];
}

/**
 * The Gauss quadrature of a Lanczos run, from the eigen-decomposition of its T: the eigenvalues as
 * nodes, the squared first components of the eigenvectors as weights.
 * @example
 * const { nodes, weights } = quadratureOf(tridiagonalEigen([2, 2], [1])); // nodes [3, 1], weights [0.5, 0.5]
 */
export function quadratureOf(t: TridiagonalEigen): Quadrature {
  return { nodes: t.values, weights: t.vectors[0].map((z) => z * z) };
}

/**
 * Estimates the density of `op`'s eigenvalues.
 * @example
 * const { grid, values } = await spectralDensity(hessian, { runs: 5, iterations: 80 });
 */
export async function spectralDensity(op: LinearOperator, o: SpectralDensityOptions = {}): Promise<SpectralDensity> {
  const runs = o.runs ?? 10;
  const gridPoints = o.gridPoints ?? 1000;
  check(Number.isInteger(runs) && runs >= 1, "spectralDensity", () => `runs must be a positive integer, got ${o.runs}`);
  check(Number.isInteger(gridPoints) && gridPoints >= 2, "spectralDensity", () => `gridPoints must be an integer ≥ 2, got ${o.gridPoints}`);
  check(o.sigma === undefined || (o.sigma > 0 && Number.isFinite(o.sigma)), "spectralDensity", () => `sigma must be a finite number > 0, got ${o.sigma}`);
  const iterations = Math.min(op.dimension, o.iterations ?? 30);
  const generator = new Generator(o.seed ?? 0);
  const quadrature: Quadrature[] = [...(o.made ?? [])].slice(0, runs);
  const fresh = runs - quadrature.length;
  for (let r = 0; r < fresh; r++) {
    const { alpha, beta } = await lanczos(op, {
      iterations, generator, onProgress: (done) => o.onProgress?.(r * iterations + done, fresh * iterations),
    });
    quadrature.push(quadratureOf(tridiagonalEigen(alpha, beta)));
  }
  const nodes = quadrature.flatMap((q) => q.nodes);
  const [lo, hi] = [Math.min(...nodes), Math.max(...nodes)];
  const sigma = o.sigma ?? (hi > lo ? 0.01 * (hi - lo) : 1e-3 * Math.max(1, Math.abs(hi)));
  const [from, to] = [lo - 6 * sigma, hi + 6 * sigma];
  const grid = Array.from({ length: gridPoints }, (_, i) => from + ((to - from) * i) / (gridPoints - 1));
  const norm = 1 / (runs * sigma * Math.sqrt(2 * Math.PI));
  const values = grid.map((t) => {
    let s = 0;
    for (const q of quadrature) q.nodes.forEach((node, i) => (s += q.weights[i] * Math.exp(-0.5 * ((t - node) / sigma) ** 2)));
    return s * norm;
  });
  return { grid, values, sigma, quadrature };
}
