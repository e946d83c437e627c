// The Hessian of real models' losses, in float64 on the CPU: the full matrix built column by
// column from products is symmetric and agrees with finite differences of the gradient; Lanczos
// and Hutchinson agree with it; batches are weighted by size; batch norm's two modes; no leaks.
import { describe, expect, it } from "vitest";
import { gradients, noGrad } from "@sam/autograd";
import { cpu } from "@sam/cpu";
import { BatchNorm2d, Conv2d, crossEntropy, Flatten, Linear, Module, ReLU, Sequential } from "@sam/nn";
import { concat, fromValues, manualSeed, memory, setBackend, tidy, type Tensor } from "@sam/tensor";
import { hutchinsonTrace, modelHessian, topEigenvalues, type Batch, type ModelHessian } from "../src/index.js";
import { jacobiEigenvalues, uniform } from "./dense.js";
import { Tanh } from "./tanh.js";

setBackend(cpu()); // at load: the batches below are made while the suites are collected

const f64 = { dtype: "float64" as const };


function mlp(): Module {
  manualSeed(1);
  return new Sequential(new Linear(3, 4, f64), new Tanh(), new Linear(4, 3, f64));
}

function cnn(): Module {
  manualSeed(2);
  return new Sequential(new Conv2d(1, 2, 3, { padding: 1, ...f64 }), new BatchNorm2d(2, f64), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3, f64));
}

function batch(rows: number, shape: number[], seed: number): Batch {
  const next = uniform(seed);
  const size = rows * shape.reduce((a, b) => a * b, 1);
  return {
    x: fromValues(Array.from({ length: size }, next), [rows, ...shape], "float64"),
    y: fromValues(Array.from({ length: rows }, (_, i) => (i * 7 + seed) % 3), [rows], "int32"),
  };
}

const loss = (z: Tensor, t: Tensor) => crossEntropy(z, t);

/** The full Hessian, column j = H·eⱼ. */
async function explicit(h: ModelHessian): Promise<Float64Array> {
  const n = h.dimension;
  const full = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const e = new Float64Array(n);
    e[j] = 1;
    (await h.apply(e)).forEach((v, i) => (full[i * n + j] = v));
  }
  return full;
}

/** The flattened gradient of the mean loss over `batches` at the model's weights. */
async function gradientAt(model: Module, batches: readonly Batch[]): Promise<Float64Array> {
  const params = model.parameters();
  const examples = batches.reduce((n, b) => n + b.x.shape[0], 0);
  const out = new Float64Array(params.reduce((n, p) => n + p.size, 0));
  model.eval();
  for (const b of batches) {
    const g = tidy(() => gradients([loss(model.forward(b.x), b.y)], params));
    let at = 0;
    for (const gi of g) {
      (await gi.data()).forEach((v) => (out[at++] += (v * b.x.shape[0]) / examples));
      gi.dispose();
    }
  }
  return out;
}

/** Adds `scale·v` to the model's parameters, in place. */
function shift(model: Module, v: Float64Array, scale: number): void {
  let at = 0;
  noGrad(() => {
    for (const p of model.parameters()) {
      const step = fromValues(Array.from(v.subarray(at, (at += p.size)), (x) => x * scale), p.shape, "float64");
      const next = p.add(step);
      p.assign(next);
      [step, next].forEach((t) => t.dispose());
    }
  });
}

describe.each([
  ["an MLP", mlp, [3]],
  ["a CNN with batch norm", cnn, [1, 4, 4]],
] as const)("the Hessian of %s, in float64", (_name, make, shape) => {
  const batches = [batch(5, [...shape], 1), batch(3, [...shape], 2)];

  it("is symmetric, and each column is the finite difference of the gradient", async () => {
    const model = make();
    const h = modelHessian(model, batches, loss);
    const n = h.dimension;
    const full = await explicit(h);
    let largest = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) largest = Math.max(largest, Math.abs(full[i * n + j]));
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(Math.abs(full[i * n + j] - full[j * n + i])).toBeLessThan(1e-12 * largest);
    // column j by central differences of the gradient along eⱼ (batch norm in evaluation mode is smooth in w)
    const eps = 1e-5;
    for (const j of [0, Math.floor(n / 2), n - 1]) {
      const e = new Float64Array(n);
      e[j] = 1;
      shift(model, e, eps);
      const plus = await gradientAt(model, batches);
      shift(model, e, -2 * eps);
      const minus = await gradientAt(model, batches);
      shift(model, e, eps);
      for (let i = 0; i < n; i++) expect(Math.abs((plus[i] - minus[i]) / (2 * eps) - full[i * n + j])).toBeLessThan(1e-6 * Math.max(1, largest));
    }
  });

  it("has Lanczos's top eigenvalues equal to the explicit Hessian's, and Hutchinson's trace within 3 standard errors of its trace", async () => {
    const model = make();
    const h = modelHessian(model, batches, loss);
    const full = await explicit(h);
    const n = h.dimension;
    const exact = jacobiEigenvalues(full, n);
    const scale = Math.max(...exact.map(Math.abs));
    const { values, residuals } = await topEigenvalues(h, { k: 5, iterations: n, seed: 4 });
    values.forEach((v, i) => expect(Math.abs(v - exact[i])).toBeLessThan(1e-8 * scale));
    residuals.forEach((r) => expect(r).toBeLessThan(1e-8 * scale));
    let trace = 0;
    for (let i = 0; i < n; i++) trace += full[i * n + i];
    const estimate = await hutchinsonTrace(h, { probes: 60, seed: 9 });
    expect(Math.abs(estimate.trace - trace)).toBeLessThanOrEqual(3 * estimate.stdErr);
  }, 120_000);

  it("weights its batches by size: two batches give the Hessian of their union", async () => {
    const model = make();
    const union: Batch = { x: concat([batches[0].x, batches[1].x]), y: concat([batches[0].y, batches[1].y]) };
    const v = Float64Array.from({ length: modelHessian(model, [union], loss).dimension }, uniform(5));
    const split = await modelHessian(model, batches, loss).apply(v);
    const whole = await modelHessian(model, [union], loss).apply(v);
    split.forEach((x, i) => expect(Math.abs(x - whole[i])).toBeLessThan(1e-12 * Math.max(1, Math.abs(whole[i]))));
  });

  it("keeps the model's mode and live buffers unchanged across products", async () => {
    const model = make();
    model.train();
    const h = modelHessian(model, batches, loss);
    const v = Float64Array.from({ length: h.dimension }, uniform(6));
    await h.apply(v);
    const before = memory().buffers;
    for (let i = 0; i < 5; i++) await h.apply(v);
    expect(memory().buffers).toBe(before);
    expect(model.training).toBe(true);
  });

  it("gives the same products, bit for bit, with each batch's gradient graph held (retainGraphs), in both batch-norm modes, and frees them on dispose", async () => {
    const model = make();
    model.train();
    for (const batchNorm of ["running", "batch"] as const) {
      const fresh = modelHessian(model, batches, loss, { batchNorm });
      const before = memory().buffers;
      const held = modelHessian(model, batches, loss, { batchNorm, retainGraphs: true });
      const vs = [1, 2, 3].map((k) => Float64Array.from({ length: fresh.dimension }, uniform(10 + k)));
      for (const v of vs) expect(await held.apply(v)).toEqual(await fresh.apply(v));
      const holding = memory().buffers;
      expect(holding).toBeGreaterThan(before); // the graphs stay between products
      await held.apply(vs[0]);
      expect(memory().buffers).toBe(holding); // and nothing else does
      // new weights: the held graphs are built again at them
      const step = Float64Array.from({ length: fresh.dimension }, uniform(20));
      shift(model, step, 1e-2);
      expect(await held.apply(vs[1])).toEqual(await fresh.apply(vs[1]));
      expect(memory().buffers).toBe(holding);
      shift(model, step, -1e-2);
      held.dispose();
      held.dispose();
      expect(memory().buffers).toBe(before);
      expect(model.training).toBe(true);
    }
  });

  it("stops within a product once its signal aborts, so the algorithm using it rejects, leaking nothing", async () => {
    const model = make();
    const aborts = new AbortController();
    const h = modelHessian(model, batches, loss, { signal: aborts.signal });
    const before = memory().buffers;
    let products = 0;
    const counted = { dimension: h.dimension, apply: (v: Float64Array) => (products++, h.apply(v)) };
    // aborted from a timer, as a signal handler would: the products must let it run
    const run = topEigenvalues(counted, { k: 1, iterations: 1000, onProgress: (done) => done === 2 && setTimeout(() => aborts.abort(), 0) });
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(products).toBeLessThanOrEqual(4);
    expect(memory().buffers).toBe(before);
    expect(model.training).toBe(true);
    await expect(h.apply(new Float64Array(h.dimension))).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("batch norm in the Hessian", () => {
  it("uses the running statistics by default; batch statistics on request, leaving the running ones untouched", async () => {
    const model = cnn();
    const batches = [batch(6, [1, 4, 4], 3)];
    const state = () => Object.values(model.stateDict()).flatMap((t) => Array.from(t.dataSync()));
    const before = state();
    const v = Float64Array.from({ length: modelHessian(model, batches, loss).dimension }, uniform(8));
    const running = await modelHessian(model, batches, loss).apply(v);
    const statistics = await modelHessian(model, batches, loss, { batchNorm: "batch" }).apply(v);
    expect(state()).toEqual(before);
    expect(running.some((x, i) => Math.abs(x - statistics[i]) > 1e-6)).toBe(true);
  });

  it("refuses what it cannot use, naming it", () => {
    const model = mlp();
    expect(() => modelHessian(model, [], loss)).toThrow("modelHessian: needs at least one batch");
    const b = batch(4, [3], 1);
    expect(() => modelHessian(model, [{ x: b.x, y: b.y.slice([[0, 3]]) }], loss)).toThrow("modelHessian: batch 0: inputs [4,3] and targets [3] must have the same, nonzero, number of rows");
    expect(() => modelHessian(model, [b], loss, { batchNorm: "eval" as "running" })).toThrow('modelHessian: batchNorm must be "running" or "batch", got "eval"');
  });
});
