// Mixup: Beta(α, α) draws with the right moments, and batches mixed with a shuffled copy of
// themselves, the same for the same seed, differentiable in the inputs.
import { beforeAll, describe, expect, it } from "vitest";
import { grad } from "@sam/autograd";
import { fromValues, Generator, memory, setBackend } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { mixup, sampleBeta } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

describe("sampleBeta", () => {
  it.each([0.2, 1, 2])("Beta(%d, %d) has mean 1/2 and variance 1/(4(2α + 1))", (alpha) => {
    const g = new Generator(1);
    const draws = Array.from({ length: 40000 }, () => sampleBeta(alpha, g));
    const mean = draws.reduce((s, v) => s + v, 0) / draws.length;
    const variance = draws.reduce((s, v) => s + (v - mean) ** 2, 0) / draws.length;
    expect(draws.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / (4 * (2 * alpha + 1)), 2);
  });

  it("refuses α ≤ 0", () => {
    expect(() => sampleBeta(0, new Generator(0))).toThrow("sampleBeta: alpha must be a finite number > 0, got 0");
  });
});

describe("mixup", () => {
  const n = 16;
  const x = () => fromValues(Array.from({ length: n * 2 }, (_, i) => Math.floor(i / 2)), [n, 2], "float32");
  const y = () => fromValues(Array.from({ length: n }, (_, i) => i), [n], "int32");

  it("mixes each example with another's by one λ, the second labels those of the partners", async () => {
    const { x: mixed, yA, yB, lambda } = mixup(x(), y(), 0.4, new Generator(3));
    const partner = Array.from(await yB.data());
    expect([...partner].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(partner.some((p, i) => p !== i)).toBe(true);
    expect(Array.from(await yA.data())).toEqual(Array.from({ length: n }, (_, i) => i));
    const values = Array.from(await mixed.data());
    values.forEach((v, k) => {
      const row = Math.floor(k / 2);
      expect(v).toBeCloseTo(lambda * row + (1 - lambda) * partner[row], 5);
    });
    const again = mixup(x(), y(), 0.4, new Generator(3));
    expect(again.lambda).toBe(lambda);
    expect(Array.from(await again.yB.data())).toEqual(partner);
  });

  it("passes the gradient back to every example: each is used once with λ and once with 1 − λ", async () => {
    const dx = await grad((t) => mixup(t, y(), 1, new Generator(5)).x.sum())(x()).data();
    for (const v of dx) expect(v).toBeCloseTo(1, 6);
  });

  it("leaves nothing behind but what it returns", () => {
    const [xs, ys] = [x(), y()];
    const before = memory().buffers;
    const r = mixup(xs, ys, 0.2, new Generator(0));
    expect(memory().buffers - before).toBe(2);
    r.x.dispose();
    r.yB.dispose();
  });

  it("refuses labels that do not match the batch", () => {
    expect(() => mixup(x(), fromValues([0, 1], [2], "int32"), 0.2, new Generator(0))).toThrow("mixup: x must be a batch [N, …] and y its N labels");
  });
});
