// What only the WebGPU backend has to get right: refusing float64, errors found on the device and
// reported at the next read, writes ordered after pending kernels, memory accounting, batched
// submissions, bind groups found again with unchanged results, and a training loop whose live GPU
// buffers stay flat.
import { describe, expect, it } from "vitest";
import { backward } from "@sam/autograd";
import { BatchNorm2d, Conv2d, crossEntropy, Flatten, Linear, ReLU, Sequential } from "@sam/nn";
import { SGD } from "@sam/optim";
import { dispose, gather, Generator, memory, ones, randint, randn, setBackend, SamError, tensor, tidy, zeros } from "@sam/tensor";
import { webgpu, type WebGpuBackend } from "@sam/webgpu";
import { backends, webgpuSkipped } from "./backends.js";
import { samTraining } from "./training.js";

const webgpuCase = backends.find((b) => b.name.startsWith("webgpu"));

// Without an adapter the tests are still listed, as skipped, under a name that says why.
describe.skipIf(!webgpuCase)(webgpuCase?.name ?? `webgpu: SKIPPED, ${webgpuSkipped}`, () => {
  const use = async () => {
    const backend = (await webgpuCase!.make()) as WebGpuBackend;
    setBackend(backend);
    return backend;
  };

  it("refuses float64 when allocating, leaking nothing", async () => {
    await use();
    const before = memory();
    expect(() => zeros([3], { dtype: "float64" })).toThrow(new SamError("webgpu", "float64 is not supported on WebGPU (WGSL has no 64-bit floats); use float32"));
    expect(memory()).toEqual(before);
  });

  it("reports an out-of-range gather index at the next read, then carries on", async () => {
    await use();
    const x = tensor([[1, 2], [3, 4]]);
    const bad = gather(x, 1, tensor([[0], [2]], { dtype: "int32" }));
    await expect(bad.data()).rejects.toThrow(/^gather: an index was out of range/);
    const good = gather(x, 1, tensor([[1], [0]], { dtype: "int32" }));
    expect(Array.from(await good.data())).toEqual([2, 3]);
    dispose([x, bad, good]);
  });

  it("orders a write after the kernels that still read the buffer's old contents", async () => {
    const gpu = await use();
    // 100,003 floats: a size class of its own, so the pool has no other buffer to give c
    const a = tensor(Array.from({ length: 100_003 }, (_, i) => i + 1));
    const b = a.mul(2); // recorded, not yet submitted
    const bufferOf = (t: typeof a) => (t.storage.handle as { buffer: object }).buffer;
    const buffer = bufferOf(a);
    a.dispose(); // its buffer goes back to the pool while b's kernel still reads it
    const c = tensor(Array.from({ length: 100_003 }, (_, i) => 10 * (i + 1))); // same size class: takes a's buffer
    expect(bufferOf(c)).toBe(buffer);
    const [bv, cv] = [await b.data(), await c.data()];
    expect([bv[0], bv[1], bv[100_002]]).toEqual([2, 4, 200_006]);
    expect([cv[0], cv[1], cv[100_002]]).toEqual([10, 20, 1_000_030]);
    dispose([b, c]);
    // A reused buffer that nothing wrote reads as zeros.
    const h = gpu.alloc("float32", 4);
    gpu.write(h, new Float32Array([5, 6, 7, 8]));
    gpu.free(h);
    const again = gpu.alloc("float32", 4);
    expect(Array.from(await gpu.read(again))).toEqual([0, 0, 0, 0]);
    gpu.free(again);
  });

  it("counts the bytes tensors hold, their peak since a reset, and what the pool keeps", async () => {
    const gpu = await use();
    const start = gpu.stats();
    gpu.resetPeakMemory();
    expect(gpu.stats().peakAllocatedBytes).toBe(start.allocatedBytes);
    const big = zeros([100_000]); // 400,000 bytes: size class 13 · 2^18/8 = 425,984
    const small = zeros([10]); // 40 bytes: the 256-byte class
    expect(gpu.stats().allocatedBytes - start.allocatedBytes).toBe(425_984 + 256);
    big.dispose();
    const after = gpu.stats();
    expect(after.allocatedBytes - start.allocatedBytes).toBe(256);
    expect(after.peakAllocatedBytes - start.allocatedBytes).toBe(425_984 + 256);
    expect(after.reservedBytes).toBeGreaterThanOrEqual(after.allocatedBytes + 425_984); // big's buffer waits in the pool
    gpu.resetPeakMemory();
    expect(gpu.stats().peakAllocatedBytes).toBe(after.allocatedBytes);
    small.dispose();
    expect(gpu.stats().allocatedBytes).toBe(start.allocatedBytes);
  });

  it("records many kernels into one submission; reads are the only waits", async () => {
    const gpu = await use();
    const x = ones([64]);
    await x.data();
    const before = gpu.stats();
    const y = tidy(() => {
      let t = x;
      for (let i = 0; i < 300; i++) t = t.mul(1.001).add(0.001);
      return t;
    });
    expect(gpu.stats().launches).toBe(before.launches + 600);
    expect(gpu.stats().submissions).toBe(before.submissions);
    const values = await y.data();
    expect(gpu.stats().submissions).toBe(before.submissions + 1);
    expect(values[0]).toBeCloseTo(Array.from({ length: 300 }).reduce<number>((v) => v * 1.001 + 0.001, 1), 3);
    dispose([x, y]);
  });

  it("copies a slice of consecutive elements without a kernel, ordered among the kernels around it", async () => {
    const gpu = await use();
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    await x.data();
    const before = gpu.stats();
    const [row, tail, column] = tidy(() => {
      const doubled = x.mul(2); // pending when the copy is recorded
      const r = doubled.slice([1]); // row 1: consecutive
      const t = doubled.slice([[0, 2], [1, 3]]).slice([1]); // row 1 of columns 1–2: consecutive within that slice
      const c = doubled.slice([null, 1]); // a column: strided, a kernel
      return [r.add(1), t, c];
    });
    const after = gpu.stats();
    expect(after.copies - before.copies).toBe(2);
    expect((after.launchesByOp.slice ?? 0) - (before.launchesByOp.slice ?? 0)).toBe(2); // the 2×2 block and the column
    expect(Array.from(await row.data())).toEqual([9, 11, 13]);
    expect(Array.from(await tail.data())).toEqual([10, 12]);
    expect(Array.from(await column.data())).toEqual([4, 10]);
    dispose([x, row, tail, column]);
  });

  it("steps an optimizer over its flat buffer in two launches, whatever the number of parameters", async () => {
    const gpu = await use();
    const generator = new Generator(3);
    const model = new Sequential(...Array.from({ length: 6 }, () => new Linear(4, 4, { generator })));
    const params = model.parameters();
    const opt = new SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
    const x = randn([2, 4], { generator });
    expect(params.length).toBe(12);
    const launched: number[] = [];
    const copied: number[] = [];
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      tidy(() => backward(model.forward(x).square().sum()));
      const before = gpu.stats();
      opt.step();
      const after = gpu.stats();
      launched.push(after.launches - before.launches);
      copied.push(after.copies - before.copies);
    }
    // buf ← μ·buf + (g + λw) and w ← w − η·buf, each one pass over the flat buffer; the gradients
    // gathered into theirs and the new weights written into the parameters' buffer by copies
    expect(launched).toEqual([2, 2, 2]);
    expect(copied).toEqual([14, 14, 14]); // 12 gradients, w, and the momentum into its flat buffer
    const flat = await opt.flat!.allWeights().data();
    for (const [i, p] of params.entries()) expect(Array.from(await p.data())).toEqual(Array.from(flat.subarray(64 * i, 64 * i + p.size)));
    dispose([x]);
  });

  it("refuses an allocation larger than the device's largest buffer, at once", async () => {
    await use();
    const row = ones([1, 2 ** 15]);
    const before = memory();
    expect(() => row.expand([2 ** 15, 2 ** 15])).toThrow(/^webgpu\.alloc: 1073741824 elements \(4294967296 bytes\) exceed this device's largest storage buffer/);
    expect(memory()).toEqual(before);
    row.dispose();
  });

  it("turns a lost device into a clear error on the next op", async () => {
    const gpu = await webgpu(); // a device of its own, destroyed here
    setBackend(gpu);
    const x = tensor([1, 2]);
    gpu.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the loss is reported asynchronously
    expect(() => x.add(1)).toThrow(/^webgpu\.alloc: the GPU device was lost \(.*\); create a new backend with webgpu\(\)$/);
    await expect(x.data()).rejects.toThrow(/^webgpu\.read: the GPU device was lost/);
  });

  it("finds a repeated step's bind groups again and replays its commands, with the results of recording every launch, also across a change of shape", async () => {
    // the same SGD training on three devices: one creating every bind group afresh, one finding them
    // again, one also replaying the step before
    const run = async (reuseBindGroups: boolean, replaySteps: boolean) => {
      const gpu = await webgpu({ reuseBindGroups, replaySteps });
      setBackend(gpu);
      const g = new Generator(7);
      const model = new Sequential(new Conv2d(3, 4, 3, { padding: 1, generator: g }), new BatchNorm2d(4), new ReLU(), new Flatten(), new Linear(4 * 6 * 6, 3, { generator: g }));
      const sgd = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
      const losses: number[] = [];
      const created: number[] = [];
      const launched: number[] = [];
      const replayed: number[] = [];
      // the batch shrinks for two steps, then comes back
      for (const [i, batch] of [6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 6, 6].entries()) {
        const x = randn([batch, 3, 6, 6], { generator: g });
        const y = randint(0, 3, [batch], { generator: g });
        const before = gpu.stats();
        sgd.zeroGrad();
        const loss = tidy(() => {
          const l = crossEntropy(model.forward(x), y);
          backward(l);
          return l;
        });
        sgd.paramGroups[0].lr = 0.05 * (1 - i / 20); // a new rate every step: new meta words, the same kernels
        sgd.step();
        losses.push(await loss.item());
        const after = gpu.stats();
        created.push(after.bindGroupsCreated - before.bindGroupsCreated);
        launched.push(after.launches - before.launches);
        replayed.push(after.launchesReplayed - before.launchesReplayed);
        dispose([x, y, loss]);
      }
      const weights = await Promise.all(Object.values(model.stateDict()).map((t) => t.data()));
      gpu.destroy();
      return { losses, created, launched, replayed, weights };
    };
    const [fresh, reused, replayed] = [await run(false, false), await run(true, false), await run(true, true)];
    for (const r of [reused, replayed]) {
      expect(r.losses).toEqual(fresh.losses);
      r.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(fresh.weights[i])));
    }
    // once the step's buffers settle every bind group is found again; the new shape creates its own
    expect(reused.created.slice(6, 8)).toEqual([0, 0]);
    expect(reused.created[8]).toBeGreaterThan(0);
    expect(fresh.created.every((c, i) => i === 0 || c >= reused.created[i])).toBe(true);
    expect(fresh.replayed.every((n) => n === 0) && reused.replayed.every((n) => n === 0)).toBe(true);
    // settled steps replay every launch but the weights' update, whose rate changed; the changed
    // shape records its calls afresh (only those on buffers of the shape's own, the momentum's
    // update, are replayed); back at the first shape, the steps remembered are replayed again
    const allButTheUpdate = (i: number) => replayed.launched[i] - 1;
    for (const i of [6, 7, 11]) expect(replayed.replayed[i]).toBe(allButTheUpdate(i));
    expect(replayed.launched[6]).toBeGreaterThan(10);
    expect(replayed.replayed[8]).toBeLessThan(replayed.launched[8] / 4);
  }, 180_000);

  it("keeps live GPU buffers flat over 200 SAM steps, replaying them", async () => {
    const gpu = await use();
    const { step } = samTraining("float32");
    const counts: { gpu: number; tensors: number; launches: number; replayed: number }[] = [];
    for (let i = 1; i <= 200; i++) {
      const loss = step();
      if (i % 50 === 0) {
        await loss.item();
        const stats = gpu.stats();
        counts.push({ gpu: stats.buffers, tensors: memory().buffers, launches: stats.launches, replayed: stats.launchesReplayed });
      }
      loss.dispose();
    }
    expect(counts.every((c) => c.gpu === counts[0].gpu && c.tensors === counts[0].tensors)).toBe(true);
    // the last 150 steps replayed every launch of the step before
    expect(counts[3].replayed - counts[0].replayed).toBe(counts[3].launches - counts[0].launches);
  }, 120_000);
});
