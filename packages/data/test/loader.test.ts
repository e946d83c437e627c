// DataLoader order and resumption, the transforms, statistics and label noise.
import { beforeAll, describe, expect, it } from "vitest";
import { Generator, memory, setBackend } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { channelStats, compose, cutout, DataLoader, horizontalFlip, normalize, randomCrop, withLabelNoise, type ImageDataset } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

function dataset(n: number): ImageDataset {
  const images = Uint8Array.from({ length: n * 2 * 2 * 2 }, (_, i) => i % 256);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), shape: [2, 2, 2], classes: ["a", "b", "c"] };
}

describe("DataLoader", () => {
  it("covers every example once per epoch, in a seeded order that changes between epochs", () => {
    const loader = new DataLoader(dataset(10), { batchSize: 4, seed: 5 });
    expect(loader.length).toBe(3);
    const epoch = () => [...loader.epochBatches()].map((b) => Array.from(b.x.dataSync().filter((_, i) => i % 8 === 0), (v) => Math.round(v * 255 / 8)));
    const first = epoch().flat();
    const second = epoch().flat();
    expect([...first].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(second).not.toEqual(first);
    expect(new DataLoader(dataset(10), { batchSize: 4, seed: 5 }).order(0)).toEqual(new DataLoader(dataset(10), { batchSize: 4, seed: 5 }).order(0));
  });
  it("drops the last short batch when asked, keeps it otherwise", () => {
    expect([...new DataLoader(dataset(10), { batchSize: 4, dropLast: true }).epochBatches()].map((b) => b.y.size)).toEqual([4, 4]);
    expect([...new DataLoader(dataset(10), { batchSize: 4, shuffle: false }).epochBatches()].map((b) => Array.from(b.y.dataSync()))).toEqual([[0, 1, 2, 0], [1, 2, 0, 1], [2, 0]]);
  });
  it("resumes: a loader restored at epoch 2 yields what the original yields in epoch 2", () => {
    const t = compose(randomCrop(1), horizontalFlip());
    const a = new DataLoader(dataset(9), { batchSize: 3, seed: 1, transform: t });
    [...a.epochBatches()];
    [...a.epochBatches()];
    const b = new DataLoader(dataset(9), { batchSize: 3, seed: 1, transform: t });
    b.loadState(a.state());
    const values = (l: DataLoader) => [...l.epochBatches()].flatMap((x) => Array.from(x.x.dataSync()));
    expect(values(b)).toEqual(values(a));
  });
  it("prepares the next batch while the caller awaits, with the same values, and frees it when the loop is left", async () => {
    const t = compose(randomCrop(1), horizontalFlip());
    const make = () => new DataLoader(dataset(12), { batchSize: 3, seed: 7, transform: t });
    const plain = [...make().epochBatches()].map((b) => Array.from(b.x.dataSync()));
    const start = memory().buffers;
    const seen: number[][] = [];
    for (const b of make().epochBatches()) {
      const before = memory().buffers;
      await Promise.resolve(); // the caller waits (a GPU read); the loader prepares the next batch
      if (seen.length < 3) expect(memory().buffers).toBe(before + 2);
      seen.push(Array.from(b.x.dataSync()));
      b.x.dispose();
      b.y.dispose();
    }
    expect(seen).toEqual(plain);
    expect(memory().buffers).toBe(start);
    for (const b of make().epochBatches()) {
      b.x.dispose();
      b.y.dispose();
      await Promise.resolve();
      break; // leaving the loop frees the batch prepared ahead
    }
    expect(memory().buffers).toBe(start);
  });
  it("resumes in the middle of an epoch: the remaining batches are the same, augmentation included", () => {
    const t = compose(randomCrop(1), horizontalFlip());
    const make = () => new DataLoader(dataset(12), { batchSize: 3, seed: 5, transform: t });
    const values = (batches: Iterable<{ x: { dataSync(): ArrayLike<number> } }>) => [...batches].map((x) => Array.from(x.x.dataSync()));
    const whole = values(make().epochBatches());
    const a = make();
    const it = a.epochBatches();
    it.next();
    it.next();
    expect(a.state()).toEqual({ epoch: 0, batch: 2 });
    const b = make();
    b.loadState(a.state());
    expect(values(b.epochBatches())).toEqual(whole.slice(2));
    expect(b.state()).toEqual({ epoch: 1, batch: 0 });
    expect(() => b.loadState({ epoch: 0, batch: 4 })).toThrow("DataLoader.loadState: batch must be an integer in [0, 4), got 4");
  });
});

describe("transforms", () => {
  const image = () => Float32Array.from({ length: 9 }, (_, i) => i + 1); // one 1×3×3 image
  it("random crop is a shift by (dy, dx) ∈ [−p, p]² with zero fill; flip mirrors rows", () => {
    for (let seed = 0; seed < 20; seed++) {
      const x = image();
      const twin = new Generator(seed);
      const dy = Math.floor(twin.nextFloat64() * 3) - 1;
      const dx = Math.floor(twin.nextFloat64() * 3) - 1;
      randomCrop(1)(x, 1, [1, 3, 3], new Generator(seed));
      const want = Array.from({ length: 9 }, (_, i) => {
        const [sy, sx] = [Math.floor(i / 3) + dy, (i % 3) + dx];
        return sy >= 0 && sy < 3 && sx >= 0 && sx < 3 ? sy * 3 + sx + 1 : 0;
      });
      expect(Array.from(x)).toEqual(want);
    }
    const y = image();
    const flips = new Generator(0);
    let flipped = false;
    for (let i = 0; i < 10 && !flipped; i++) {
      horizontalFlip()(y, 1, [1, 3, 3], flips);
      flipped = y[0] === 3;
    }
    expect(Array.from(y)).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]);
  });
  it("cutout zeroes a square; normalize standardises each channel", () => {
    const x = new Float32Array(2 * 8 * 8).fill(1);
    cutout(4)(x, 1, [2, 8, 8], new Generator(2));
    const zeros = x.filter((v) => v === 0).length;
    expect(zeros % 2).toBe(0);
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThanOrEqual(2 * 16);
    const z = Float32Array.from([0.5, 1, 0.2, 0.4]);
    normalize([0.5, 0.2], [0.5, 0.1])(z, 1, [2, 1, 2], new Generator(0));
    Array.from(z).forEach((v, i) => expect(v).toBeCloseTo([0, 1, 0, 2][i], 6));
    expect(() => normalize([0], [0])).toThrow("normalize: standard deviations must be positive, got [0]");
  });
});

describe("statistics and label noise", () => {
  it("channel statistics are the per-channel mean and deviation in [0, 1] units", () => {
    const d: ImageDataset = { images: Uint8Array.from([0, 255, 51, 51]), labels: Int32Array.from([0]), shape: [2, 1, 2], classes: ["a"] };
    const s = channelStats(d);
    expect(s.mean[0]).toBeCloseTo(0.5, 6);
    expect(s.std[0]).toBeCloseTo(0.5, 6);
    expect(s.mean[1]).toBeCloseTo(0.2, 6);
    expect(s.std[1]).toBeCloseTo(0, 6);
  });
  it("replaces the labels of a seeded fraction of examples, the same way for the same seed", () => {
    const d = { ...dataset(3000), labels: new Int32Array(3000) };
    const noisy = withLabelNoise(d, 0.3, 7);
    const changed = noisy.labels.filter((l) => l !== 0).length;
    // 900 examples drawn; each keeps label 0 with probability 1/3
    expect(changed).toBeGreaterThan(540);
    expect(changed).toBeLessThan(660);
    expect(Array.from(withLabelNoise(d, 0.3, 7).labels)).toEqual(Array.from(noisy.labels));
    expect(Array.from(d.labels).every((l) => l === 0)).toBe(true);
    expect(() => withLabelNoise(d, 1.5, 0)).toThrow("withLabelNoise: fraction must be in [0, 1], got 1.5");
  });
});
