// A long training loop must not leak: the live-buffer count is the same after 1,000 steps.
import { describe, expect, it } from "vitest";
import { Generator, keep, memory, randn, setBackend, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward, noGrad } from "../src/index.js";

describe("memory over a training loop", () => {
  it("1,000 forward+backward steps of a small MLP leave the live-buffer count flat", async () => {
    setBackend(cpu());
    const g = new Generator(5);
    const x = randn([16, 4], { generator: g });
    const y = x.sum(1, true).sin();
    const params = [randn([4, 8], { generator: g, std: 0.5 }), randn([8]).mul(0), randn([8, 1], { generator: g, std: 0.5 })]
      .map((p) => keep(p.requiresGrad_()));
    const step = (): Tensor =>
      tidy(() => {
        const [w1, b1, w2] = params;
        const loss = x.matmul(w1).add(b1).tanh().matmul(w2).sub(y).square().mean();
        backward(loss);
        noGrad(() => params.forEach((p, i) => {
          params[i] = keep(p.sub(p.grad!.mul(0.1)).requiresGrad_());
          p.dispose();
        }));
        return loss.detach();
      });

    const first = step();
    const firstLoss = await first.item();
    first.dispose();
    const live = memory();
    let last = 0;
    for (let i = 0; i < 1000; i++) {
      const loss = step();
      if (i === 999) last = await loss.item();
      loss.dispose();
      expect(memory().buffers).toBe(live.buffers);
    }
    expect(memory()).toEqual(live);
    expect(last).toBeLessThan(firstLoss / 2);
  });
});
