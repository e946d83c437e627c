// Optimizers over one flat buffer against the same optimizers updating each parameter on its own
// (what an optimizer does once a later one has moved its parameters into its own buffer): the
// elementwise updates bit for bit, SAM within float32 rounding (its norm sums in another order).
import { beforeAll, describe, expect, it } from "vitest";
import { backward } from "@sam/autograd";
import { cpu } from "@sam/cpu";
import { BatchNorm1d, crossEntropy, Linear, Sequential, withoutRunningStats } from "@sam/nn";
import { assertCloseSync, Generator, randint, randn, setBackend, tidy, type Tensor } from "@sam/tensor";
import { Adam, AdamW, SAM, SGD, type Optimizer } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const net = () => {
  const generator = new Generator(7);
  return new Sequential(new Linear(5, 9, { generator }), new BatchNorm1d(9), new Linear(9, 3, { generator }));
};
type Net = ReturnType<typeof net>;

const batch = (step: number) => {
  const generator = new Generator(50 + step);
  return { x: randn([6, 5], { generator }), y: randint(0, 3, [6], { generator }) };
};

/** Two groups: the first layer's weight at its own rate, everything else at the default. */
const groups = (m: Net) => {
  const [first, ...rest] = m.parameters();
  return [{ params: [first], lr: 0.03 }, { params: rest }];
};

const values = (ts: Tensor[]) => ts.flatMap((t) => Array.from(t.dataSync()));
const stateValues = (opt: Optimizer) => Object.values(opt.stateDict().state)
  .flatMap((s) => Object.entries(s).flatMap(([k, v]) => [k, ...(typeof v === "number" ? [v] : Array.from(v.dataSync()))]));

/** The same network and optimizer twice: one stepping over its flat buffer, one whose parameters a later optimizer took. */
function twins<O extends Optimizer>(make: (m: Net) => O) {
  const [flat, own] = [net(), net()];
  const [a, b] = [make(flat), make(own)];
  make(own); // moves own's parameters into its buffer: b updates them one by one from now on
  expect(a.flat!.holds()).toBe(true);
  expect(b.flat!.holds()).toBe(false);
  return { flat, own, a, b };
}

/** `steps` SGD-style steps on both; `drop(step)` names a parameter whose gradient is dropped at that step. */
function train(m: Net, opt: Optimizer, steps: number, drop?: (step: number) => number | undefined) {
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    tidy(() => {
      const { x, y } = batch(step);
      backward(crossEntropy(m.forward(x), y));
    });
    const dropped = drop?.(step);
    if (dropped !== undefined) {
      const p = m.parameters()[dropped];
      p.grad?.dispose();
      p.grad = null;
    }
    opt.step();
  }
}

describe("optimizers over a flat buffer", () => {
  const elementwise: [string, (m: Net) => Optimizer][] = [
    ["SGD", (m) => new SGD(groups(m), { lr: 0.1 })],
    ["SGD with momentum and weight decay", (m) => new SGD(groups(m), { lr: 0.1, momentum: 0.9, weightDecay: 5e-3 })],
    ["SGD with Nesterov momentum and dampening 0", (m) => new SGD(groups(m), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ["SGD with dampening", (m) => new SGD(groups(m), { lr: 0.1, momentum: 0.8, dampening: 0.3 })],
    ["Adam with weight decay", (m) => new Adam(groups(m), { lr: 0.01, weightDecay: 1e-2 })],
    ["AdamW", (m) => new AdamW(groups(m), { lr: 0.01 })],
  ];

  it.each(elementwise)("%s: the same weights and state, bit for bit, as per-parameter updates", (_, make) => {
    const { flat, own, a, b } = twins(make);
    // at step 2 the bias of the first layer has no gradient: its group steps parameter by
    // parameter (and Adam's step counts then differ, so it stays that way), the other group flat
    train(flat, a, 5, (step) => (step === 2 ? 1 : undefined));
    train(own, b, 5, (step) => (step === 2 ? 1 : undefined));
    expect(values(flat.parameters())).toEqual(values(own.parameters()));
    expect(stateValues(a)).toEqual(stateValues(b));
  });

  it("keeps each parameter's state in the flat buffer: a loaded snapshot carries on as the run it came from", () => {
    const make = (m: Net) => new Adam(groups(m), { lr: 0.01 });
    const { flat, own, a, b } = twins(make);
    train(flat, a, 6);
    train(own, b, 3);
    const c = make(own); // a fresh optimizer (over its own buffer) given b's snapshot
    c.loadStateDict(b.stateDict());
    for (let step = 3; step < 6; step++) {
      c.zeroGrad();
      tidy(() => backward(crossEntropy(own.forward(batch(step).x), batch(step).y)));
      c.step();
    }
    expect(values(own.parameters())).toEqual(values(flat.parameters()));
    expect(stateValues(c)).toEqual(stateValues(a));
    // the state entries are views of the flat buffers: an entry read after the step shows it
    c.loadStateDict(c.stateDict()); // its own snapshot, whose entries view what the next step writes
    expect(stateValues(c)).toEqual(stateValues(a));
  });

  it.each([[false, undefined], [true, undefined], [false, 2]] as const)("SAM (adaptive %s, m %s): the same step as per-parameter updates, within float32 rounding", (adaptive, mGroup) => {
    const make = (m: Net) => new SAM(groups(m), SGD, { lr: 0.1, momentum: 0.9, rho: 0.1, adaptive }, { m: mGroup, secondPass: (run) => withoutRunningStats(m, run) });
    const { flat, own, a, b } = twins(make);
    for (const [m, opt] of [[flat, a], [own, b]] as const) {
      for (let step = 0; step < 4; step++) {
        const { x, y } = batch(step);
        opt.step(({ rows }) => crossEntropy(m.forward(rows ? x.slice([rows]) : x), rows ? y.slice([rows]) : y), 6).dispose();
      }
    }
    assertCloseSync(values(flat.parameters()), values(own.parameters()), { rtol: 1e-5, atol: 1e-6, relativeTo: "largest", name: "flat SAM against per-parameter SAM" });
  });
});
