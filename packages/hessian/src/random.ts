// The random vectors the estimators start from, drawn from @sam/tensor's seeded generator so that
// every figure is reproducible from its seed.
import type { Generator } from "@sam/tensor";

/**
 * n independent standard normal numbers (Box–Muller).
 * @example
 * const v = gaussianVector(1000, new Generator(0));
 */
export function gaussianVector(n: number, generator: Generator): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - generator.nextFloat64(); // in (0, 1], so the logarithm is finite
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * generator.nextFloat64();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/**
 * n independent signs, ±1 with equal probability (Hutchinson's probes).
 * @example
 * const z = rademacherVector(1000, new Generator(0));
 */
export function rademacherVector(n: number, generator: Generator): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = generator.nextUint32() & 1 ? 1 : -1;
  return out;
}
