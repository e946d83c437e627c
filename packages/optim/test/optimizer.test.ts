// Parameter groups, state dicts (an interrupted run resumes exactly, SAM included), schedulers,
// gradient clipping and bad hyperparameters.
import { beforeAll, describe, expect, it } from "vitest";
import { Generator, randint, randn, setBackend, tensor, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward } from "@sam/autograd";
import { BatchNorm1d, crossEntropy, Linear, Sequential, withoutRunningStats } from "@sam/nn";
import {
  Adam, clipGradNorm, CosineAnnealingLR, LinearWarmup, MultiStepLR, SAM, SGD, StepLR, type Optimizer,
} from "../src/index.js";

beforeAll(() => setBackend(cpu()));

function net(seed: number) {
  const generator = new Generator(seed);
  return new Sequential(new Linear(4, 8, { generator }), new BatchNorm1d(8), new Linear(8, 3, { generator }));
}

function data(step: number) {
  const generator = new Generator(100 + step);
  return { x: randn([8, 4], { generator }), y: randint(0, 3, [8], { generator }) };
}

const values = (m: ReturnType<typeof net>) => Object.values(m.stateDict()).flatMap((t) => Array.from(t.dataSync()));

describe("parameter groups", () => {
  it("apply per-group hyperparameters", async () => {
    const a = tensor([1]).requiresGrad_();
    const b = tensor([1]).requiresGrad_();
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    backward(a.add(b).sum());
    opt.step();
    expect(await a.item()).toBeCloseTo(0.9, 6);
    expect(await b.item()).toBeCloseTo(0.5, 6);
  });
  it("refuse a parameter twice, an empty list, and bad hyperparameters", () => {
    const a = tensor([1]).requiresGrad_();
    expect(() => new SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 })).toThrow("SGD: a parameter appears in more than one group");
    expect(() => new SGD([], { lr: 0.1 })).toThrow("SGD: got an empty parameter list");
    expect(() => new SGD([a], { lr: -1 })).toThrow("SGD: lr must be a finite number ≥ 0, got -1");
    expect(() => new SGD([a], { lr: Infinity })).toThrow("SGD: lr must be a finite number ≥ 0, got Infinity");
    expect(() => new SGD([a], { lr: 0.1, weightDecay: Infinity })).toThrow("SGD: weightDecay must be a finite number ≥ 0, got Infinity");
    expect(() => new Adam([a], { lr: Infinity })).toThrow("Adam: lr must be a finite number ≥ 0, got Infinity");
    expect(() => new Adam([a], { eps: NaN })).toThrow("Adam: eps and weightDecay must be finite numbers ≥ 0, got NaN and 0");
    expect(() => new SGD([a], { lr: 0.1, nesterov: true })).toThrow("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    expect(() => new Adam([a], { beta1: 1 })).toThrow("Adam: betas must be in [0, 1), got 1 and 0.999");
    expect(() => new SAM([a], SGD, { lr: 0.1, rho: -0.1 })).toThrow("SAM: rho must be a finite number ≥ 0, got -0.1");
    expect(() => new SAM([a], SGD, { lr: 0.1, rho: Infinity })).toThrow("SAM: rho must be a finite number ≥ 0, got Infinity");
    expect(() => new SAM([a], SGD, { lr: 0.1, rho: NaN })).toThrow("SAM: rho must be a finite number ≥ 0, got NaN");
    expect(() => new SAM([a], SGD, { lr: 0.1 }, { m: 0 })).toThrow("SAM: m must be a positive integer, got 0");
  });
  it("SAM refuses an m that does not divide the batch", () => {
    const m = net(0);
    const sam = new SAM(m.parameters(), SGD, { lr: 0.1 }, { m: 3 });
    expect(() => sam.step(() => randn([1]).sum(), 8)).toThrow("SAM.step: m = 3 must divide the batch size 8");
  });
  it("SAM with m refuses a step without the batch size, instead of running plain SAM", () => {
    const m = net(0);
    const before = values(m);
    const sam = new SAM(m.parameters(), SGD, { lr: 0.1 }, { m: 4 });
    const { x, y } = data(0);
    expect(() => sam.step(({ rows }) => crossEntropy(m.forward(rows ? x.slice([rows]) : x), rows ? y.slice([rows]) : y)))
      .toThrow("SAM.step: m-sharpness (m = 4) needs the batch size: call step(closure, batchSize)");
    expect(values(m)).toEqual(before);
  });
  it("SAM refuses a closure that runs backward itself, as PyTorch's closures do, leaving the weights", () => {
    const m = net(0);
    const weights = () => m.parameters().flatMap((p) => Array.from(p.dataSync()));
    const before = weights();
    const { x, y } = data(0);
    for (const exact of [false, true]) {
      const sam = new SAM(m.parameters(), SGD, { lr: 0.1 }, { exact });
      expect(() => sam.step(() => {
        const loss = crossEntropy(m.forward(x), y);
        backward(loss);
        return loss;
      })).toThrow(/^SAM\.step: the closure ran backward itself; return the loss without calling backward/);
      sam.zeroGrad();
    }
    expect(weights()).toEqual(before);
  });
});

type Make = (m: ReturnType<typeof net>) => { opt: Optimizer; step: (x: Tensor, y: Tensor) => void };
const adam: Make = (m) => {
  const opt = new Adam(m.parameters(), { lr: 0.01, weightDecay: 1e-3 });
  return { opt, step: (x, y) => { opt.zeroGrad(); tidy(() => backward(crossEntropy(m.forward(x), y))); opt.step(); } };
};
const sam: Make = (m) => {
  const opt = new SAM(m.parameters(), SGD, { lr: 0.1, momentum: 0.9, rho: 0.1, adaptive: true }, { secondPass: (run) => withoutRunningStats(m, run), m: 4 });
  return { opt, step: (x, y) => opt.step(({ rows }) => crossEntropy(m.forward(x.slice([rows!])), y.slice([rows!])), 8).dispose() };
};

describe.each([["Adam", adam], ["SAM(SGD) with ASAM and m-sharpness", sam]] as const)("%s state dict", (_name, make) => {
  it("an interrupted run resumes to the same parameters as an uninterrupted one", () => {
    const straight = net(1);
    const run = make(straight);
    for (let s = 0; s < 4; s++) run.step(data(s).x, data(s).y);

    const first = net(1);
    const before = make(first);
    for (let s = 0; s < 2; s++) before.step(data(s).x, data(s).y);
    const savedModel = Object.fromEntries(Object.entries(first.stateDict()).map(([k, v]) => [k, v.copy()]));
    const savedOpt = before.opt.stateDict();

    const resumed = net(2);
    resumed.loadStateDict(savedModel);
    const after = make(resumed);
    after.opt.loadStateDict(savedOpt);
    for (let s = 2; s < 4; s++) after.step(data(s).x, data(s).y);
    expect(values(resumed)).toEqual(values(straight));
  });
});

describe("schedulers", () => {
  const opt = () => new SGD([tensor([1]).requiresGrad_()], { lr: 1 });
  const lrs = (s: { step(): void; getLastLr(): number[] }, n: number) => Array.from({ length: n }, () => { const v = s.getLastLr()[0]; s.step(); return v; });
  it("StepLR and MultiStepLR", () => {
    expect(lrs(new StepLR(opt(), 2, 0.5), 5)).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(lrs(new MultiStepLR(opt(), [1, 3], 0.1), 4).map((v) => +v.toFixed(6))).toEqual([1, 0.1, 0.1, 0.01]);
  });
  it("CosineAnnealingLR follows (1 + cos(πt/T))/2", () => {
    const got = lrs(new CosineAnnealingLR(opt(), 4, 0), 6);
    [1, 0.853553, 0.5, 0.146447, 0, 0].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
  });
  it("LinearWarmup ramps up, then hands over", () => {
    const got = lrs(new LinearWarmup(opt(), 4, { startFactor: 0.2, after: (o) => new StepLR(o, 1, 0.5) }), 7);
    [0.2, 0.4, 0.6, 0.8, 1, 0.5, 0.25].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 10));
  });
  it("work the same under SAM, whose groups the base optimizer shares, and resume", () => {
    const s = new SAM([tensor([1]).requiresGrad_()], SGD, { lr: 1 });
    const schedule = new StepLR(s, 1, 0.5);
    schedule.step();
    expect(s.base.paramGroups[0].lr).toBe(0.5);
    const copy = new StepLR(new SGD([tensor([1]).requiresGrad_()], { lr: 1 }), 1, 0.5);
    copy.loadStateDict(schedule.stateDict());
    expect(copy.getLastLr()).toEqual([0.5]);
  });
});

describe("clipGradNorm", () => {
  it("scales gradients to the maximum norm and returns the norm before", async () => {
    const a = tensor([3]).requiresGrad_();
    const b = tensor([4]).requiresGrad_();
    backward(a.mul(a).div(2).add(b.mul(b).div(2)).sum()); // grads 3 and 4, norm 5
    const norm = clipGradNorm([a, b], 1);
    expect(await norm.item()).toBeCloseTo(5, 6);
    expect(await a.grad!.item()).toBeCloseTo(0.6, 5);
    expect(await b.grad!.item()).toBeCloseTo(0.8, 5);
    clipGradNorm([a, b], 10);
    expect(await b.grad!.item()).toBeCloseTo(0.8, 5);
  });
});
