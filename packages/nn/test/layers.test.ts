// Every layer's gradients (input and parameters) by finite differences in float64, and the losses
// against PyTorch's values.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { Generator, memory, randint, randn, setBackend, tensor, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { checkGrad, noGrad } from "@sam/autograd";
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, crossEntropy, Dropout, dropout, Flatten, Identity, Linear, logSoftmax,
  MaxPool2d, mseLoss, nllLoss, Parameter, ReLU, Sequential, softmax, type Module,
} from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const f64 = { dtype: "float64" as const };
const g = () => new Generator(3);

/** Checks d(layer)/d(input) and d(layer)/d(each parameter) by finite differences. */
async function checkLayer(make: () => Module, inputShape: number[]): Promise<void> {
  const layer = make();
  const x = randn(inputShape, { generator: g(), ...f64 });
  const params = layer.parameters();
  const r = await checkGrad((input, ...ws) => layer.withParameters(ws, () => layer.forward(input)), [x, ...params.map((p) => p.detach())]);
  if (!r.ok) expect.fail(`gradient mismatch: ${JSON.stringify(r.worst)}`);
}

describe("layer gradients by finite differences (float64)", () => {
  it("Linear", () => checkLayer(() => new Linear(4, 3, { generator: g(), ...f64 }), [5, 4]));
  it("Conv2d with stride, padding and groups", () =>
    checkLayer(() => new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2, generator: g(), ...f64 }), [2, 4, 5, 5]));
  it("BatchNorm2d in training mode", () => checkLayer(() => new BatchNorm2d(3, f64), [4, 3, 2, 2]));
  it("BatchNorm1d in training and evaluation mode", async () => {
    await checkLayer(() => new BatchNorm1d(3, f64), [6, 3]);
    await checkLayer(() => new BatchNorm1d(3, f64).eval(), [6, 3]);
  });
  it("pooling, flattening, activations", async () => {
    await checkLayer(() => new MaxPool2d({ kernel: 2 }), [2, 2, 4, 4]);
    await checkLayer(() => new AvgPool2d({ kernel: 3, stride: 2, padding: 1 }), [2, 2, 5, 5]);
    await checkLayer(() => new AdaptiveAvgPool2d(1), [2, 3, 3, 3]);
    await checkLayer(() => new AdaptiveAvgPool2d(2), [1, 2, 4, 6]);
    await checkLayer(() => new Sequential(new Flatten(), new ReLU(), new Identity()), [2, 3, 2]);
  });
  it("dropout with a fixed mask (the same seed at every evaluation)", async () => {
    const r = await checkGrad((x) => dropout(x, 0.4, new Generator(9)), [randn([3, 7], { generator: g(), ...f64 })]);
    expect(r.ok).toBe(true);
  });
  it("losses", async () => {
    const target = randint(0, 4, [5], { generator: g() });
    for (const f of [
      (z: Tensor) => crossEntropy(z, target, { labelSmoothing: 0.2 }),
      (z: Tensor) => nllLoss(logSoftmax(z, 1), target),
      (z: Tensor) => softmax(z, 0),
    ]) {
      const r = await checkGrad(f, [randn([5, 4], { generator: g(), ...f64 })]);
      expect(r.ok).toBe(true);
    }
    const r = await checkGrad((a, b) => mseLoss(a, b), [randn([3, 2], f64), randn([3, 2], f64)]);
    expect(r.ok).toBe(true);
  });
});

describe("losses against PyTorch", () => {
  const l = (JSON.parse(readFileSync(new URL("./fixtures/models.json", import.meta.url), "utf8")) as {
    losses: Record<string, number & number[]>;
  }).losses;
  const value = (t: Tensor) => tidy(() => t).dataSync()[0];
  it("cross-entropy (plain, label-smoothed, summed), NLL and MSE", () => {
    const logits = tensor(l.logits, { shape: [5, 4], ...f64 });
    const target = tensor(l.target, { dtype: "int32" });
    expect(value(crossEntropy(logits, target))).toBeCloseTo(l.crossEntropy, 12);
    expect(value(crossEntropy(logits, target, { labelSmoothing: 0.1 }))).toBeCloseTo(l.crossEntropySmoothed, 12);
    expect(value(crossEntropy(logits, target, { reduction: "sum" }))).toBeCloseTo(l.crossEntropySum, 12);
    expect(value(nllLoss(logSoftmax(logits, 1), target))).toBeCloseTo(l.nll, 12);
    expect(value(mseLoss(tensor(l.pred, { shape: [3, 2], ...f64 }), tensor(l.goal, { shape: [3, 2], ...f64 })))).toBeCloseTo(l.mse, 12);
  });
  it("name the function when targets are wrong", () => {
    const logits = randn([2, 3]);
    expect(() => crossEntropy(logits, tensor([0, 1]))).toThrow("crossEntropy: target must hold int32 class indices, got float32");
    expect(() => crossEntropy(logits, tensor([0], { dtype: "int32" }))).toThrow("crossEntropy: target [1] must be [2]");
  });
});

describe("modes and shapes", () => {
  it("Dropout is the identity in evaluation and keeps the expectation in training", async () => {
    const d = new Dropout(0.5, new Generator(1));
    const x = tensor(new Float32Array(20000).fill(1));
    const y = await d.forward(x).data();
    const mean = Array.from(y).reduce((s, v) => s + v, 0) / y.length;
    expect(mean).toBeGreaterThan(0.97);
    expect(mean).toBeLessThan(1.03);
    expect(new Set(y)).toEqual(new Set([0, 2]));
    d.eval();
    expect(Array.from(await d.forward(x).data()).every((v) => v === 1)).toBe(true);
  });
  it("BatchNorm uses running statistics in evaluation and refuses wrong channels", async () => {
    const bn = new BatchNorm2d(2).eval();
    const x = randn([3, 2, 2, 2]);
    const y = await bn.forward(x).data();
    const xs = await x.data();
    xs.forEach((v, i) => expect(y[i]).toBeCloseTo(v / Math.sqrt(1 + 1e-5), 5));
    expect(() => bn.forward(randn([3, 4, 2, 2]))).toThrow("BatchNorm2d: expected input of rank 4 with 2 channels, got [3,4,2,2]");
  });
  it("BatchNorm's residual and ReLU, fused, equal relu(bn(x) + addend), in training and evaluation", async () => {
    const g = new Generator(5);
    const [x, r] = [randn([4, 3, 5, 5], { generator: g, ...f64 }), randn([4, 3, 5, 5], { generator: g, ...f64 })];
    const bn = new BatchNorm2d(3, f64);
    bn.weight!.assign(randn([3], { generator: g, ...f64 }));
    for (const mode of ["train", "eval"] as const) {
      bn[mode]();
      bn.updateRunningStats = false;
      const [fused, apart] = [await bn.forward(x, { addend: r, relu: true }).data(), await bn.forward(x).add(r).relu().data()];
      fused.forEach((v, i) => expect(v).toBeCloseTo(apart[i], 12));
      expect(fused.some((v) => v === 0) && fused.some((v) => v > 0)).toBe(true);
    }
    expect(() => bn.forward(x, { addend: randn([4, 3, 5, 4], f64) })).toThrow("BatchNorm2d: the addend [4,3,5,4] must have the input's shape [4,3,5,5]");
  });
  it("Sequential frees each module's intermediates at once when no gradient is recorded, with the same output", async () => {
    const g = new Generator(3);
    const net = new Sequential(new Linear(6, 32, { generator: g }), new ReLU(), new Linear(32, 32, { generator: g }), new ReLU(), new Linear(32, 3, { generator: g }));
    const x = randn([5, 6], { generator: g });
    const recorded = net.forward(x);
    const before = memory().buffers;
    const y = noGrad(() => net.forward(x));
    expect(memory().buffers - before).toBe(1); // the output alone
    expect(Array.from(await y.data())).toEqual(Array.from(await recorded.data()));
    const outer = noGrad(() => tidy(() => new Sequential(new Identity(), new Identity()).forward(x)));
    expect(outer).toBe(x); // an input passed through is never freed
    expect(x.disposed).toBe(false);
  });
  it("a layer's parameters hold the only copy of their initial values: once updated, no buffer of them is left", () => {
    const before = memory().buffers;
    const layers = [new Linear(4, 3, { generator: g() }), new Conv2d(2, 3, 3, { generator: g() }), new BatchNorm2d(3)];
    const state = layers.reduce((n, l) => n + Object.keys(l.stateDict()).length, 0); // parameters, running statistics, counter
    expect(memory().buffers - before).toBe(state);
    tidy(() => noGrad(() => layers.flatMap((l) => l.parameters()).forEach((p) => p.assign(p.mul(2)))));
    expect(memory().buffers - before).toBe(state);
    // a kept tensor passed in (another parameter) stays its owner's
    const owner = new Linear(4, 3, { generator: g() });
    const tied = new Parameter(owner.weight);
    expect(owner.weight.disposed).toBe(false);
    expect(tied.storage).toBe(owner.weight.storage);
  });
  it("Linear and Conv2d name the layer and the expected input", () => {
    expect(() => new Linear(3, 2).forward(randn([2, 4]))).toThrow("Linear: expected input [..., 3], got [2,4]");
    expect(() => new Conv2d(3, 2, 3).forward(randn([2, 4, 5, 5]))).toThrow("Conv2d: expected input [N, 3, H, W], got [2,4,5,5]");
  });
});
