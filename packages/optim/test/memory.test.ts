// A long SAM loop over a network with batch norm's fused primitives (residual and ReLU included)
// leaves the live-buffer count flat: nothing the step, its two passes or the optimizer's state
// make outlives it.
import { describe, expect, it } from "vitest";
import { Generator, memory, randint, randn, setBackend } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { crossEntropy, ResNet, withoutRunningStats } from "@sam/nn";
import { SAM, SGD } from "../src/index.js";

describe("memory over a SAM training loop", () => {
  it("1,000 SAM steps (momentum, weight decay) of a small ResNet leave the live-buffer count flat", async () => {
    setBackend(cpu({ threads: 1 }));
    const g = new Generator(3);
    const model = new ResNet(8, { generator: g });
    const x = randn([2, 3, 4, 4], { generator: g });
    const y = randint(0, 10, [2], { generator: g });
    const sam = new SAM(model.parameters(), SGD, { rho: 0.05, lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
      { secondPass: (run) => withoutRunningStats(model, run) });
    const step = () => sam.step(() => crossEntropy(model.forward(x), y));
    const first = step();
    const firstLoss = await first.item();
    first.dispose();
    const live = memory();
    let last = 0;
    for (let i = 1; i < 1000; i++) {
      const loss = step();
      if (i === 999) last = await loss.item();
      loss.dispose();
    }
    expect(memory()).toEqual(live);
    expect(last).toBeLessThan(firstLoss); // it trained
  }, 120_000);

  it.each([false, true])("100 m-sharpness steps with the groups as one batch (exact %s) leave it flat", async (exact) => {
    setBackend(cpu({ threads: 1 }));
    const g = new Generator(3);
    const model = new ResNet(8, { generator: g });
    const x = randn([4, 3, 4, 4], { generator: g });
    const y = randint(0, 10, [4], { generator: g });
    const sam = new SAM(model.parameters(), SGD, { rho: 0.05, lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
      { m: 2, exact, groupsAsBatch: true, secondPass: (run) => withoutRunningStats(model, run) });
    const step = () => sam.step(({ groups, weights }) => model.withParameters(weights!, () =>
      crossEntropy(model.forward(x), y, { reduction: "none" }).reshape([groups!, -1]).mean(1)), 4);
    step().dispose();
    const live = memory();
    for (let i = 1; i < 100; i++) step().dispose();
    expect(memory()).toEqual(live);
  }, 120_000);
});
