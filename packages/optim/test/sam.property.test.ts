// SAM's defining properties on random small networks (an MLP, and a tiny CNN with batch norm),
// in float64, checked against finite differences and against references written independently.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { assertClose, Generator, randint, randn, setBackend, tensor, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward, grad } from "@sam/autograd";
import { BatchNorm2d, Conv2d, crossEntropy, Flatten, Linear, Module, Sequential, withoutRunningStats, AvgPool2d } from "@sam/nn";
import { SAM, SGD, type SAMContext } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const f64 = { dtype: "float64" as const };

class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** A random problem: a network, a batch, and the loss of any rows at any parameters. */
interface Problem {
  net: Module;
  x: Tensor;
  y: Tensor;
  batch: number;
}

const problem = fc.record({
  cnn: fc.boolean(), hidden: fc.integer({ min: 2, max: 5 }), classes: fc.integer({ min: 2, max: 4 }),
  groups: fc.integer({ min: 1, max: 3 }), m: fc.integer({ min: 2, max: 3 }), seed: fc.integer({ min: 0, max: 1e6 }),
}).map(({ cnn, hidden, classes, groups, m, seed }): Problem => {
  const generator = new Generator(seed);
  const batch = groups * m;
  const net = cnn
    ? new Sequential(new Conv2d(2, hidden, 3, { padding: 1, bias: false, generator, ...f64 }), new BatchNorm2d(hidden, f64), new Tanh(),
      new AvgPool2d({ kernel: 2 }), new Flatten(), new Linear(hidden * 4, classes, { generator, ...f64 }))
    : new Sequential(new Linear(3, hidden, { generator, ...f64 }), new Tanh(), new Linear(hidden, classes, { generator, ...f64 }));
  const x = randn(cnn ? [batch, 2, 4, 4] : [batch, 3], { generator, ...f64 });
  return { net, x, y: randint(0, classes, [batch], { generator }), batch };
});

/** The loss of rows [a, b) with the parameters replaced by `weights` when given. */
function lossOf(p: Problem, ctx: Partial<SAMContext> = {}): Tensor {
  const run = () => {
    const [a, b] = ctx.rows ?? [0, p.batch];
    return crossEntropy(p.net.forward(p.x.slice([[a, b]])), p.y.slice([[a, b]]));
  };
  return ctx.weights ? p.net.withParameters(ctx.weights, run) : run();
}

/** All parameters as one list of numbers. */
function flat(ps: readonly Tensor[]): number[] {
  return ps.flatMap((p) => Array.from(p.dataSync()));
}

/** Splits a flat list back into tensors shaped like the parameters. */
function unflat(ps: readonly Tensor[], values: readonly number[]): Tensor[] {
  let at = 0;
  return ps.map((p) => tensor(values.slice(at, (at += p.size)), { shape: [...p.shape], ...f64 }));
}

/** ∇L at `w` (flat), by autograd, with running statistics untouched. */
function gradientAt(p: Problem, w: readonly number[], rows?: [number, number]): number[] {
  const params = p.net.parameters();
  return tidy(() => {
    const ws = unflat(params, w);
    const packed = tensor([...w], f64);
    const g = grad((v: Tensor) => {
      let at = 0;
      const parts = params.map((q) => v.slice([[at, (at += q.size)]]).reshape([...q.shape]));
      return withoutRunningStats(p.net, () => lossOf(p, { rows, weights: parts }));
    })(packed);
    ws.forEach((t) => t.dispose());
    return Array.from(g.dataSync());
  });
}

/** ε = ρ·T²g/‖Tg‖ written out from the definition (T = |w| + η for ASAM, else 1). */
function epsilon(w: readonly number[], g: readonly number[], rho: number, adaptive: boolean, eta = 0.01): number[] {
  const t = w.map((v) => (adaptive ? Math.abs(v) + eta : 1));
  const norm = Math.sqrt(g.reduce((s, gi, i) => s + (t[i] * gi) ** 2, 0));
  return g.map((gi, i) => (rho * t[i] * t[i] * gi) / (norm + 1e-12));
}

/** The full state (parameters and buffers), shared with the live tensors but never mutated. */
function snapshot(net: Module): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(net.stateDict()).map(([k, v]) => [k, v.copy()]));
}

/** The gradient SAM hands its base optimizer, read off a plain SGD step with lr = 1: g = w − w'. */
function samGradient(p: Problem, opts: { rho: number; adaptive?: boolean; m?: number; exact?: boolean }): number[] {
  const params = p.net.parameters();
  const start = snapshot(p.net);
  const before = flat(params);
  const sam = new SAM(params, SGD, { rho: opts.rho, adaptive: opts.adaptive ?? false, lr: 1 },
    { m: opts.m, exact: opts.exact, secondPass: (run) => withoutRunningStats(p.net, run) });
  sam.step((ctx) => lossOf(p, ctx), p.batch).dispose();
  const after = flat(params);
  p.net.loadStateDict(start);
  return before.map((b, i) => b - after[i]);
}

/** Central differences of f at w, with step `step(i)` for coordinate i. */
function finiteDifferences(f: (w: number[]) => number, w: readonly number[], step: (i: number) => number): number[] {
  return w.map((_, i) => {
    const h = step(i);
    const plus = [...w];
    const minus = [...w];
    plus[i] += h;
    minus[i] -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

/** L at flat parameters `w`, batch statistics only. */
function lossAt(p: Problem, w: readonly number[], rows?: [number, number]): number {
  return tidy(() => withoutRunningStats(p.net, () => lossOf(p, { rows, weights: unflat(p.net.parameters(), w) })).dataSync()[0]);
}

/** Within `tol` of the largest expected magnitude (at least 1e-3). */
const near = (got: readonly number[], want: readonly number[], tol: number) =>
  assertClose(got, want, { rtol: tol, atol: tol * 1e-3, relativeTo: "largest", name: "SAM gradient against finite differences" });

const rho = fc.double({ min: 0.01, max: 0.5, noNaN: true });
const runs = { numRuns: 12 };

describe("SAM on random small networks (float64)", () => {
  it("first-order: the gradient is ∇L at w + ε, by finite differences", async () => {
    await fc.assert(fc.asyncProperty(problem, rho, fc.boolean(), async (p, r, adaptive) => {
      const w = flat(p.net.parameters());
      const eps = epsilon(w, gradientAt(p, w), r, adaptive);
      const shifted = w.map((v, i) => v + eps[i]);
      await near(samGradient(p, { rho: r, adaptive }), finiteDifferences((v) => lossAt(p, v), shifted, () => 1e-6), 1e-6);
    }), runs);
  });

  it("exact: the gradient is that of w ↦ L(w + ε(w)), by finite differences", async () => {
    await fc.assert(fc.asyncProperty(problem, rho, fc.boolean(), async (p, r, adaptive) => {
      const w = flat(p.net.parameters());
      const composite = (v: number[]) => {
        const eps = epsilon(v, gradientAt(p, v), r, adaptive);
        return lossAt(p, v.map((vi, i) => vi + eps[i]));
      };
      // ASAM's T = |w| + η has a kink at 0. A weight on it (batch norm's zero bias) is fine: the central
      // difference of a symmetric kink is its 0 subgradient, as autograd's. A step across it from w ≠ 0 is not.
      const step = (i: number) => (adaptive && w[i] !== 0 ? Math.min(1e-5, Math.abs(w[i]) / 2) : 1e-5);
      await near(samGradient(p, { rho: r, adaptive, exact: true }), finiteDifferences(composite, w, step), 1e-5);
    }), { numRuns: 8 });
  });

  it("m = |B| is plain SAM", () => {
    fc.assert(fc.property(problem, rho, (p, r) => {
      const plain = samGradient(p, { rho: r });
      expect(samGradient(p, { rho: r, m: p.batch })).toEqual(plain);
    }), runs);
  });

  it("m < |B| averages each group's own SAM gradient (per-group reference)", async () => {
    await fc.assert(fc.asyncProperty(problem, rho, async (p, r) => {
      const m = p.batch % 3 === 0 ? 3 : 2;
      const w = flat(p.net.parameters());
      const reference = w.map(() => 0);
      for (let a = 0; a < p.batch; a += m) {
        const rows: [number, number] = [a, a + m];
        const eps = epsilon(w, gradientAt(p, w, rows), r, false);
        gradientAt(p, w.map((v, i) => v + eps[i]), rows).forEach((g, i) => (reference[i] += g / (p.batch / m)));
      }
      await near(samGradient(p, { rho: r, m }), reference, 1e-9);
    }), runs);
  });

  it("ρ = 0 reproduces the base optimizer exactly, batch-norm buffers included", () => {
    fc.assert(fc.property(problem, (p) => {
      const start = snapshot(p.net);
      const opts = { lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true };
      const run = (useSam: boolean) => {
        p.net.loadStateDict(start);
        const params = p.net.parameters();
        const sam = new SAM(params, SGD, { rho: 0, ...opts }, { secondPass: (f) => withoutRunningStats(p.net, f) });
        const sgd = new SGD(params, opts);
        for (let s = 0; s < 2; s++) {
          if (useSam) {
            sam.step((ctx) => lossOf(p, ctx)).dispose();
          } else {
            sgd.zeroGrad();
            tidy(() => backward(lossOf(p)));
            sgd.step();
          }
        }
        return Object.values(p.net.stateDict()).flatMap((t) => Array.from(t.dataSync()));
      };
      expect(run(true)).toEqual(run(false));
    }), { numRuns: 6 });
  });

  it("ASAM's perturbation is ρ·T²g/‖Tg‖ with T = |w| + η", async () => {
    await fc.assert(fc.asyncProperty(problem, rho, fc.double({ min: 0, max: 0.1, noNaN: true }), async (p, r, eta) => {
      const start = snapshot(p.net);
      const params = p.net.parameters();
      const w = flat(params);
      const sam = new SAM(params, SGD, { rho: r, adaptive: true, eta, lr: 1 });
      sam.zeroGrad();
      tidy(() => backward(lossOf(p)));
      const g = flat(params.map((q) => q.grad!));
      sam.firstStep();
      const moved = flat(params).map((v, i) => v - w[i]);
      p.net.loadStateDict(start);
      await near(moved, epsilon(w, g, r, true, eta), 1e-10);
    }), runs);
  });

  it("a zero gradient gives ε = 0 and no NaN, first-order and exact", () => {
    fc.assert(fc.property(problem, rho, fc.boolean(), (p, r, exact) => {
      const params = p.net.parameters();
      const w = flat(params);
      const sam = new SAM(params, SGD, { rho: r, adaptive: exact, lr: 0.1 }, { exact });
      const loss = sam.step((ctx) => lossOf(p, ctx).mul(0));
      expect(loss.dataSync()[0]).toBe(0);
      expect(flat(params)).toEqual(w);
      expect(flat(params.map((q) => q.grad!)).every((v) => v === 0)).toBe(true);
    }), runs);
  });
});
