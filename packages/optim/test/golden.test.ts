// Several steps of each optimizer on a small CNN with batch norm, against PyTorch
// (fixtures/make_optim.py): parameters and batch-norm buffers after every case, and the losses.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { assertClose, setBackend, tensor, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward } from "@sam/autograd";
import { BatchNorm2d, Conv2d, crossEntropy, Flatten, Linear, MaxPool2d, ReLU, Sequential, withoutRunningStats } from "@sam/nn";
import { Adam, AdamW, SAM, SGD, type Optimizer } from "../src/index.js";

interface Fixture {
  initial: Record<string, { shape: number[]; data: number[] }>;
  x: { shape: number[]; data: number[] };
  y: number[];
  cases: Record<string, { losses: number[]; final: Record<string, number[]> }>;
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/optim.json", import.meta.url), "utf8")) as Fixture;
const [STEPS, BATCH] = fixture.x.shape;

beforeAll(() => setBackend(cpu()));

function model() {
  const f64 = { dtype: "float64" as const };
  const m = new Sequential(new Conv2d(3, 4, 3, { padding: 1, bias: false, ...f64 }), new BatchNorm2d(4, f64), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Flatten(), new Linear(64, 3, f64));
  const initial: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(fixture.initial)) {
    initial[k] = tensor(v.data, { shape: v.shape, dtype: k.endsWith("num_batches_tracked") ? "int32" : "float64" });
  }
  m.loadStateDict(initial);
  return m;
}

function batch(step: number): { x: Tensor; y: Tensor } {
  const per = fixture.x.data.length / STEPS;
  return {
    x: tensor(fixture.x.data.slice(step * per, (step + 1) * per), { shape: fixture.x.shape.slice(1), dtype: "float64" }),
    y: tensor(fixture.y.slice(step * BATCH, (step + 1) * BATCH), { dtype: "int32" }),
  };
}

type Net = ReturnType<typeof model>;
const plain = (make: (m: Net) => Optimizer) => (m: Net) => {
  const opt = make(m);
  return (x: Tensor, y: Tensor) => {
    opt.zeroGrad();
    const loss = tidy(() => {
      const l = crossEntropy(m.forward(x), y);
      backward(l);
      return l.detach();
    });
    opt.step();
    return loss;
  };
};
const sam = (opts: { rho: number; adaptive: boolean; m?: number }, base: "sgd" | "sgdPlain" | "adam") => (m: Net) => {
  const secondPass = <T>(run: () => T) => withoutRunningStats(m, run);
  const s = base === "adam"
    ? new SAM(m.parameters(), Adam, { rho: opts.rho, lr: 0.01 }, { secondPass })
    : new SAM(m.parameters(), SGD, { rho: opts.rho, adaptive: opts.adaptive, lr: 0.1, momentum: 0.9, weightDecay: base === "sgd" ? 5e-4 : 0 },
      { secondPass, m: opts.m });
  return (x: Tensor, y: Tensor) =>
    s.step(({ rows }) => crossEntropy(m.forward(rows ? x.slice([rows]) : x), rows ? y.slice([rows]) : y), BATCH);
};

const runners: Record<string, (m: Net) => (x: Tensor, y: Tensor) => Tensor> = {
  sgd: plain((m) => new SGD(m.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 })),
  "sgd-nesterov": plain((m) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })),
  "sgd-dampening": plain((m) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.8, dampening: 0.3 })),
  adam: plain((m) => new Adam(m.parameters(), { lr: 0.01, beta2: 0.99, weightDecay: 1e-4 })),
  adamw: plain((m) => new AdamW(m.parameters(), { lr: 0.01, weightDecay: 0.05 })),
  sam: sam({ rho: 0.05, adaptive: false }, "sgd"),
  asam: sam({ rho: 0.5, adaptive: true }, "sgd"),
  "sam-m3": sam({ rho: 0.1, adaptive: false, m: 3 }, "sgdPlain"),
  "sam-adam": sam({ rho: 0.05, adaptive: false }, "adam"),
};

describe("optimizers against PyTorch", () => {
  it("cover every case in the fixture", () => {
    expect(Object.keys(runners).sort()).toEqual(Object.keys(fixture.cases).sort());
  });

  it.each(Object.keys(fixture.cases))("%s", async (name) => {
    const m = model();
    const step = runners[name](m);
    const losses: number[] = [];
    for (let s = 0; s < STEPS; s++) {
      const { x, y } = batch(s);
      const loss = step(x, y);
      losses.push(await loss.item());
    }
    const want = fixture.cases[name];
    losses.forEach((l, i) => expect(Math.abs(l - want.losses[i])).toBeLessThan(1e-10 * Math.abs(want.losses[i])));
    const state = m.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(want.final));
    for (const [key, values] of Object.entries(want.final)) {
      await assertClose(state[key], values, { rtol: 1e-9, atol: 1e-12, relativeTo: "largest", name: `${key} against PyTorch` });
    }
  });
});
