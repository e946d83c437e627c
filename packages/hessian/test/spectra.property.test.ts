// Lanczos, the quadrature and Hutchinson's estimator on explicit symmetric matrices of known
// spectrum: random spectra with repeated and negative eigenvalues, k up to the dimension.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Generator } from "@sam/tensor";
import { hutchinsonTrace, lanczos, matrixOperator, powerIteration, spectralDensity, topEigenvalues, tridiagonalEigen } from "../src/index.js";
import { jacobiEigenvalues, withSpectrum } from "./dense.js";

/** A spectrum of n values in [−10, 10], some of them repeated. */
const spectrum = fc.integer({ min: 2, max: 12 }).chain((n) => fc.tuple(
  fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
  fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }),
).map(([values, repeats]) => {
  const out = values.map((v) => Math.round(v * 1e6) / 1e6);
  repeats.forEach((r, i) => (out[r] = out[(r + i + 1) % n])); // copy some values onto others
  return out;
}));

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => b - a);

describe("tridiagonalEigen", () => {
  it("decomposes T = Z·diag(θ)·Zᵀ with orthonormal Z, largest θ first", () => {
    fc.assert(fc.property(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 15 }), fc.integer(), (alpha, seed) => {
      const next = new Generator(seed);
      const beta = alpha.slice(1).map(() => (next.nextFloat64() < 0.2 ? 0 : next.nextFloat64() * 4 - 2));
      const { values, vectors } = tridiagonalEigen(alpha, beta);
      const m = alpha.length;
      expect(values).toEqual(sorted(values));
      const t = (i: number, j: number) => (i === j ? alpha[i] : Math.abs(i - j) === 1 ? beta[Math.min(i, j)] : 0);
      for (let c = 0; c < m; c++) {
        for (let i = 0; i < m; i++) {
          let tz = 0;
          for (let j = 0; j < m; j++) tz += t(i, j) * vectors[j][c];
          expect(Math.abs(tz - values[c] * vectors[i][c])).toBeLessThan(1e-10 * (1 + Math.abs(values[c])) * 10);
        }
        for (let d = 0; d < m; d++) {
          const z = vectors.reduce((s, row) => s + row[c] * row[d], 0);
          expect(Math.abs(z - (c === d ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    }), { numRuns: 200 });
  });

  it("refuses an off-diagonal of the wrong length", () => {
    expect(() => tridiagonalEigen([1, 2], [])).toThrow("tridiagonalEigen: beta must have 1 entries for 2 diagonal ones, got 0");
  });
});

describe("Lanczos on explicit matrices", () => {
  it("finds every eigenvalue, multiplicities and negatives included, to 1e-8 relative", async () => {
    await fc.assert(fc.asyncProperty(spectrum, fc.integer(), async (lambda, seed) => {
      const n = lambda.length;
      const op = matrixOperator(withSpectrum(lambda, seed), n);
      const k = n; // k up to the dimension
      const { values, residuals } = await topEigenvalues(op, { k, iterations: n, seed });
      const scale = Math.max(1, ...lambda.map(Math.abs));
      sorted(lambda).forEach((l, i) => expect(Math.abs(values[i] - l)).toBeLessThan(1e-8 * scale));
      residuals.forEach((r) => expect(r).toBeLessThan(1e-8 * scale));
    }), { numRuns: 150 });
  });

  it("reports residuals that equal ‖Av − λv‖ measured on its unit Ritz vectors, before convergence too", async () => {
    await fc.assert(fc.asyncProperty(spectrum, fc.integer(), fc.integer({ min: 1, max: 12 }), async (lambda, seed, steps) => {
      const n = lambda.length;
      const op = matrixOperator(withSpectrum(lambda, seed), n);
      const iterations = Math.min(n, Math.max(2, steps));
      const k = Math.min(2, iterations);
      const { values, residuals, vectors } = await topEigenvalues(op, { k, iterations, seed, vectors: true });
      const scale = Math.max(1, ...lambda.map(Math.abs));
      for (let i = 0; i < k; i++) {
        expect(Math.abs(Math.hypot(...vectors![i]) - 1)).toBeLessThan(1e-12);
        const av = await op.apply(vectors![i]);
        const measured = Math.hypot(...av.map((x, j) => x - values[i] * vectors![i][j]));
        expect(Math.abs(measured - residuals[i])).toBeLessThan(1e-9 * scale);
      }
    }), { numRuns: 150 });
  });

  it("agrees with the Jacobi method and with power iteration on the largest eigenvalue in magnitude", async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 3, max: 10 }), fc.integer(), async (n, seed) => {
      const lambda = Array.from({ length: n }, (_, i) => (i === 0 ? 20 : 10 - i)); // a dominant λ1 = 20
      const a = withSpectrum(lambda, seed);
      const op = matrixOperator(a, n);
      const jacobi = jacobiEigenvalues(a, n);
      const { values } = await topEigenvalues(op, { k: 2, iterations: n, seed });
      expect(Math.abs(values[0] - jacobi[0])).toBeLessThan(1e-9 * 20);
      expect(Math.abs(values[1] - jacobi[1])).toBeLessThan(1e-9 * 20);
      const power = await powerIteration(op, { iterations: 500, tolerance: 1e-14, seed });
      expect(Math.abs(power.value - 20)).toBeLessThan(1e-6 * 20);
    }), { numRuns: 50 });
  });

  it("makes an orthonormal basis and a Gauss quadrature exact for polynomials of degree < 2m", async () => {
    await fc.assert(fc.asyncProperty(spectrum, fc.integer(), async (lambda, seed) => {
      const n = lambda.length;
      const a = withSpectrum(lambda.map((l) => l / 10), seed); // |λ| ≤ 1 keeps the powers in scale
      const op = matrixOperator(a, n);
      const m = Math.max(1, Math.floor(n / 2));
      const start = Float64Array.from({ length: n }, (_, i) => Math.cos(seed + 3 * i));
      const { alpha, beta, basis } = await lanczos(op, { iterations: m, start });
      for (let i = 0; i < basis.length; i++) {
        for (let j = 0; j < basis.length; j++) {
          const d = basis[i].reduce((s, x, t) => s + x * basis[j][t], 0);
          expect(Math.abs(d - (i === j ? 1 : 0))).toBeLessThan(1e-10);
        }
      }
      const t = tridiagonalEigen(alpha, beta);
      const weights = t.vectors[0].map((z) => z * z);
      // vᵀAᵖv / vᵀv, by repeated products
      let power: Float64Array = Float64Array.from(start);
      const vv = start.reduce((s, x) => s + x * x, 0);
      for (let p = 0; p < 2 * alpha.length; p++) {
        const exact = start.reduce((s, x, i) => s + x * power[i], 0) / vv;
        const quadrature = t.values.reduce((s, theta, i) => s + weights[i] * theta ** p, 0);
        expect(Math.abs(quadrature - exact)).toBeLessThan(1e-9);
        power = await op.apply(power);
      }
    }), { numRuns: 150 });
  });

  it("refuses bad arguments, naming them", async () => {
    const op = matrixOperator(new Float64Array([1, 0, 0, 1]), 2);
    await expect(topEigenvalues(op, { k: 3 })).rejects.toThrow("topEigenvalues: k must be an integer in 1…2 (the dimension), got 3");
    await expect(topEigenvalues(op, { k: 2, iterations: 1 })).rejects.toThrow("topEigenvalues: iterations must be an integer ≥ k = 2, got 1");
    await expect(lanczos(op, { iterations: 0 })).rejects.toThrow("lanczos: iterations must be a positive integer, got 0");
    await expect(lanczos(op, { iterations: 2, start: new Float64Array(2) })).rejects.toThrow("lanczos: the start vector must be finite and nonzero, its norm is 0");
    await expect(hutchinsonTrace(op, { probes: 1 })).rejects.toThrow("hutchinsonTrace: probes must be an integer ≥ 2");
    expect(() => matrixOperator(new Float64Array(3), 2)).toThrow("matrixOperator: expected 2×2 = 4 values, got 3");
  });
});

describe("the spectral density", () => {
  it("integrates to 1 and puts each eigenvalue's share of the mass at it", async () => {
    const lambda = [-2, 1, 1, 1, 4, 4, 9, 12]; // repeated and negative eigenvalues, well apart
    const op = matrixOperator(withSpectrum(lambda, 7), lambda.length);
    const { grid, values, quadrature } = await spectralDensity(op, { runs: 400, iterations: lambda.length, seed: 3, sigma: 0.1, gridPoints: 4000 });
    const step = grid[1] - grid[0];
    const mass = (lo: number, hi: number) => values.reduce((s, v, i) => s + (grid[i] >= lo && grid[i] < hi ? v * step : 0), 0);
    expect(Math.abs(mass(-Infinity, Infinity) - 1)).toBeLessThan(1e-6);
    for (const q of quadrature) expect(Math.abs(q.weights.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-12);
    for (const l of new Set(lambda)) {
      const share = lambda.filter((x) => x === l).length / lambda.length;
      expect(Math.abs(mass(l - 1, l + 1) - share)).toBeLessThan(0.02);
    }
  });

  it("counts runs made already, such as the eigenvalues' Lanczos run, without repeating them", async () => {
    const base = matrixOperator(withSpectrum([1, 2, 3, 4, 5], 2), 5);
    let products = 0;
    const op = { dimension: 5, apply: (v: Float64Array) => (products++, base.apply(v)) };
    const top = await topEigenvalues(op, { k: 2, iterations: 5, seed: 1 });
    products = 0;
    const one = await spectralDensity(op, { runs: 1, iterations: 5, made: [top.quadrature] });
    expect(products).toBe(0);
    expect(one.quadrature).toEqual([top.quadrature]);
    const three = await spectralDensity(op, { runs: 3, iterations: 5, made: [top.quadrature] });
    expect(products).toBe(10);
    expect(three.quadrature[0]).toEqual(top.quadrature);
  });

  it("is the same for the same seed, and refuses a bad sigma", async () => {
    const op = matrixOperator(withSpectrum([1, 2, 3, 4], 1), 4);
    const a = await spectralDensity(op, { runs: 3, seed: 5 });
    const b = await spectralDensity(op, { runs: 3, seed: 5 });
    expect(b.values).toEqual(a.values);
    await expect(spectralDensity(op, { sigma: 0 })).rejects.toThrow("spectralDensity: sigma must be a finite number > 0, got 0");
  });
});

describe("Hutchinson's trace", () => {
  it("is exact for a diagonal matrix (zᵀDz = tr D for any signs) and within 4 standard errors otherwise", async () => {
    const diagonal = new Float64Array(16);
    [3, -1, 7, 2].forEach((d, i) => (diagonal[i * 5] = d));
    const exact = await hutchinsonTrace(matrixOperator(diagonal, 4), { probes: 10 });
    expect(exact.trace).toBe(11);
    expect(exact.stdErr).toBe(0);
    await fc.assert(fc.asyncProperty(spectrum, fc.integer(), async (lambda, seed) => {
      const { trace, stdErr } = await hutchinsonTrace(matrixOperator(withSpectrum(lambda, seed), lambda.length), { probes: 200, seed });
      expect(Math.abs(trace - lambda.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(4 * stdErr + 1e-9);
    }), { numRuns: 50, seed: 1 });
  });
});
