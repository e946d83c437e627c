// The statistics of a sweep: mean and sample standard deviation over seeds, Student's t interval
// for a mean difference paired by seed, and Welch's for the difference of two independent means.

/** The mean of `xs` (NaN when empty). */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** The sample standard deviation (n − 1 in the denominator; NaN below two values). */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

/**
 * P(|T| < t) for Student's t with `df` degrees of freedom (a positive integer), by the finite
 * series of Abramowitz and Stegun 26.7.3 (odd df) and 26.7.4 (even df).
 */
export function studentTwoSided(t: number, df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`studentTwoSided: df must be a positive integer, got ${df}`);
  const theta = Math.atan(Math.abs(t) / Math.sqrt(df));
  const [s, c2] = [Math.sin(theta), Math.cos(theta) ** 2];
  if (df % 2 === 0) {
    let [term, sum] = [1, 1];
    for (let k = 2; k <= df - 2; k += 2) sum += (term *= ((k - 1) / k) * c2);
    return s * sum;
  }
  if (df === 1) return (2 / Math.PI) * theta;
  let term = Math.cos(theta);
  let sum = term;
  for (let k = 3; k <= df - 2; k += 2) sum += (term *= ((k - 1) / k) * c2);
  return (2 / Math.PI) * (theta + s * sum);
}

/** The t with P(|T| < t) = `level` for `df` degrees of freedom (bisection; 1e-10 relative). */
export function studentQuantile(level: number, df: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`studentQuantile: level must be in (0, 1), got ${level}`);
  let [lo, hi] = [0, 1];
  while (studentTwoSided(hi, df) < level) hi *= 2;
  while (hi - lo > 1e-10 * hi) {
    const mid = (lo + hi) / 2;
    if (studentTwoSided(mid, df) < level) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A mean with its spread and 95% confidence interval (the interval needs two values or more). */
export interface Estimate {
  n: number;
  mean: number;
  sd: number;
  /** [low, high], or undefined for fewer than two values. */
  ci95?: [number, number];
}

/** The mean of `xs` with its sample sd and Student's 95% interval. */
export function estimate(xs: readonly number[]): Estimate {
  const [m, sd] = [mean(xs), sampleSd(xs)];
  if (xs.length < 2) return { n: xs.length, mean: m, sd };
  const half = studentQuantile(0.95, xs.length - 1) * (sd / Math.sqrt(xs.length));
  return { n: xs.length, mean: m, sd, ci95: [m - half, m + half] };
}

/**
 * mean(a) − mean(b) for independent samples with Welch's 95% interval; its degrees of freedom
 * (Welch–Satterthwaite) are rounded down, which widens the interval a little. Each side needs two
 * values or more for an interval.
 */
export function welch(a: readonly number[], b: readonly number[]): { difference: number; ci95?: [number, number] } {
  const difference = mean(a) - mean(b);
  if (a.length < 2 || b.length < 2) return { difference };
  const [va, vb] = [sampleSd(a) ** 2 / a.length, sampleSd(b) ** 2 / b.length];
  const se = Math.sqrt(va + vb);
  if (se === 0) return { difference, ci95: [difference, difference] };
  const df = Math.max(1, Math.floor((va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1))));
  const half = studentQuantile(0.95, df) * se;
  return { difference, ci95: [difference - half, difference + half] };
}
