// The trace by Hutchinson's estimator: for random signs z, E[zᵀAz] = tr A.
import { check, Generator } from "@sam/tensor";
import { dot, type LinearOperator } from "./operator.js";
import { rademacherVector } from "./random.js";

/** Options of {@link hutchinsonTrace}. */
export interface TraceOptions {
  /** Rademacher probes, one product each (default 100). */
  probes?: number;
  /** Seed of the probes (default 0). */
  seed?: number;
  /** Told the probes done and in all. */
  onProgress?: (done: number, total: number) => void;
}

/** The estimate, its standard error (the probes' standard deviation over √probes), and the samples. */
export interface TraceEstimate {
  /** The mean of zᵀAz over the probes. */
  trace: number;
  /** Its standard error. */
  stdErr: number;
  /** Probes used. */
  probes: number;
  /** Each probe's zᵀAz. */
  samples: number[];
}

/**
 * Estimates tr A from `probes` products.
 * @example
 * const { trace, stdErr } = await hutchinsonTrace(hessian, { probes: 100 });
 */
export async function hutchinsonTrace(op: LinearOperator, o: TraceOptions = {}): Promise<TraceEstimate> {
  const probes = o.probes ?? 100;
  check(Number.isInteger(probes) && probes >= 2, "hutchinsonTrace", () => `probes must be an integer ≥ 2 (the standard error needs two), got ${o.probes}`);
  const generator = new Generator(o.seed ?? 0);
  const samples: number[] = [];
  for (let i = 0; i < probes; i++) {
    const z = rademacherVector(op.dimension, generator);
    samples.push(dot(z, await op.apply(z)));
    o.onProgress?.(i + 1, probes);
  }
  const mean = samples.reduce((a, b) => a + b, 0) / probes;
  const variance = samples.reduce((a, s) => a + (s - mean) ** 2, 0) / (probes - 1);
  return { trace: mean, stdErr: Math.sqrt(variance / probes), probes, samples };
}
