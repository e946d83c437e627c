// A long training loop must not leak: the live-buffer count is the same after 1,000 steps.
import { describe, expect, it } from "vitest";
import { Generator, hold, keep, memory, randn, setBackend, SamError, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward, gradients, noGrad } from "../src/index.js";

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

  it("hold() keeps a gradient graph across scopes for repeated double backward, and dispose() frees all of it", async () => {
    setBackend(cpu({ kernels: "reference" }));
    const g = new Generator(6);
    const x = keep(randn([8, 3], { generator: g, dtype: "float64" }));
    const w = keep(randn([3, 2], { generator: g, dtype: "float64" }).requiresGrad_());
    const v = keep(randn([3, 2], { generator: g, dtype: "float64" }));
    const loss = () => x.matmul(w).tanh().square().sum();
    const hv = (gw: Tensor) => tidy(() => gradients([gw.mul(v).sum()], [w])[0]);
    const fresh = await tidy(() => hv(gradients([loss()], [w], { createGraph: true })[0])).data();

    const live = memory().buffers;
    const graph = hold(() => gradients([loss()], [w], { createGraph: true })[0]);
    expect(memory().buffers).toBeGreaterThan(live + 1); // the saved activations, not just the gradient
    for (let i = 0; i < 3; i++) {
      const product = hv(graph.value);
      expect(await product.data()).toEqual(fresh);
      product.dispose();
    }
    graph.dispose();
    graph.dispose();
    expect(memory().buffers).toBe(live);

    // a failing function frees what it made, and an async one is refused
    expect(() => hold(() => { loss(); throw new Error("inside"); })).toThrow("inside");
    expect(memory().buffers).toBe(live);
    expect(() => hold(() => Promise.resolve(loss()) as never)).toThrow(SamError);
    [x, w, v].forEach((t) => t.dispose());
  });
});
