// updateBatchNorm: the running statistics become the plain mean of the batches' statistics, as
// torch.optim.swa_utils.update_bn computes them, and the model is left as it was found.
import { beforeAll, describe, expect, it } from "vitest";
import { fromValues, memory, setBackend } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { BatchNorm2d, Conv2d, Sequential, updateBatchNorm } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

describe("updateBatchNorm", () => {
  it("replaces the running statistics by the mean of the batches' and restores mode and momentum", async () => {
    const bn = new BatchNorm2d(1, { momentum: 0.3 });
    const model = new Sequential(new Conv2d(1, 1, 1, { bias: false }), bn);
    model.eval();
    // the convolution's weight is made 1, so the layer sees the batches themselves
    model.parameters()[0].assign(fromValues([1], [1, 1, 1, 1], "float32"));
    const batches = [[1, 2, 3, 6], [10, 10, 12, 12], [0, 4, 0, 4]].map((v) => fromValues(v, [4, 1, 1, 1], "float32"));
    updateBatchNorm(model, batches);
    const means = [3, 11, 2];
    const unbiased = [14 / 3, 4 / 3, 16 / 3];
    expect((await bn.runningMean.data())[0]).toBeCloseTo(means.reduce((a, b) => a + b) / 3, 5);
    expect((await bn.runningVar.data())[0]).toBeCloseTo(unbiased.reduce((a, b) => a + b) / 3, 5);
    expect((await bn.numBatchesTracked.data())[0]).toBe(3);
    expect(bn.momentum).toBe(0.3);
    expect(model.training).toBe(false);
    // again, leaving nothing behind
    const live = memory().buffers;
    updateBatchNorm(model, batches);
    expect(memory().buffers).toBe(live);
    expect((await bn.numBatchesTracked.data())[0]).toBe(3);
  });
});
