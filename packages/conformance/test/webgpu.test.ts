// What only the WebGPU backend has to get right: refusing float64, errors found on the device and
// reported at the next read, writes ordered after pending kernels, memory accounting, batched
// submissions, and a training loop whose live GPU buffers stay flat.
import { describe, expect, it } from "vitest";
import { dispose, gather, memory, ones, setBackend, SamError, tensor, tidy, zeros } from "@sam/tensor";
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
    const a = tensor([1, 2, 3, 4]);
    const b = a.mul(2); // recorded, not yet submitted
    const bufferOf = (t: typeof a) => (t.storage.handle as { buffer: object }).buffer;
    const buffer = bufferOf(a);
    a.dispose(); // its buffer goes back to the pool while b's kernel still reads it
    const c = tensor([10, 20, 30, 40]); // same size class: takes a's buffer
    expect(bufferOf(c)).toBe(buffer);
    expect(Array.from(await b.data())).toEqual([2, 4, 6, 8]);
    expect(Array.from(await c.data())).toEqual([10, 20, 30, 40]);
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

  it("keeps live GPU buffers flat over 200 SAM steps", async () => {
    const gpu = await use();
    const { step } = samTraining("float32");
    const counts: { gpu: number; tensors: number }[] = [];
    for (let i = 1; i <= 200; i++) {
      const loss = step();
      if (i % 50 === 0) {
        await loss.item();
        counts.push({ gpu: gpu.stats().buffers, tensors: memory().buffers });
      }
      loss.dispose();
    }
    expect(counts.every((c) => c.gpu === counts[0].gpu && c.tensors === counts[0].tensors)).toBe(true);
  }, 120_000);
});
