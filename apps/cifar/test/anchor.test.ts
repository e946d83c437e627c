// The PyTorch anchors (bench/anchors) train the sweeps' other side "on the same configuration": here
// the trainer's data pipeline is held to what the anchors make of the same inputs (fixtures/anchor.json,
// written by fixtures/make_anchor.py) — the same noisy labels, the same channel statistics, and the
// same training batch for the same crop offsets and flips.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { channelStats, withLabelNoise, type ImageDataset } from "@sam/data";
import type { Generator } from "@sam/tensor";
import { parseCommand } from "../src/config.js";
import { augmentation } from "../src/train.js";

interface Anchor {
  labelNoise: { labels: number[]; fraction: number; seed: number; noisy: number[] };
  images: { shape: [number, number, number, number]; bytes: number[] };
  mean: number[];
  std: number[];
  /** The anchor's draws, image by image: the crop's source offsets and whether it flipped. */
  draws: { dy: number; dx: number; flip: boolean }[];
  prepared: number[];
}

const anchor = JSON.parse(readFileSync(new URL("fixtures/anchor.json", import.meta.url), "utf8")) as Anchor;
const [n, c, h, w] = anchor.images.shape;
const dataset = (labels: number[]): ImageDataset => ({
  images: Uint8Array.from(anchor.images.bytes), labels: Int32Array.from(labels), shape: [c, h, w], classes: Array.from({ length: 10 }, (_, i) => `class ${i}`),
});

/** A generator that returns these uniforms in turn, so the transforms make the anchor's choices. */
function replaying(values: number[]): Generator {
  return { nextFloat64: () => values.shift() ?? Number.NaN } as unknown as Generator;
}

describe("the trainer's data pipeline against the PyTorch anchor's", () => {
  it("corrupts the same labels the same way", () => {
    const { labels, fraction, seed, noisy } = anchor.labelNoise;
    const ours = withLabelNoise({ ...dataset(labels), images: new Uint8Array(labels.length * c * h * w) }, fraction, seed);
    expect(Array.from(ours.labels)).toEqual(noisy);
    expect(noisy.filter((l, i) => l !== labels[i]).length).toBeGreaterThan(25); // about 40% of 100, less the draws that kept their label
  });

  it("normalises by the same statistics and crops, pads and flips a training batch as the anchor does", () => {
    const train = dataset(Array.from({ length: n }, () => 0));
    const stats = channelStats(train);
    stats.mean.forEach((m, i) => expect(m).toBeCloseTo(anchor.mean[i], 6));
    stats.std.forEach((s, i) => expect(s).toBeCloseTo(anchor.std[i], 6));

    const { train: transform } = augmentation(parseCommand(["train", "--augment", "basic"]).config, train);
    const batch = Float32Array.from(anchor.images.bytes, (b) => b / 255); // as the loader hands it over
    // the crop draws an offset o as ⌊9u⌋ − 4 for each axis of each image, then the flip u < ½ for each image
    const offsets = anchor.draws.flatMap((d) => [(d.dy + 4.5) / 9, (d.dx + 4.5) / 9]);
    const flips = anchor.draws.map((d) => (d.flip ? 0.25 : 0.75));
    transform(batch, n, [c, h, w], replaying([...offsets, ...flips]));
    const worst = batch.reduce((m, v, i) => Math.max(m, Math.abs(v - anchor.prepared[i])), 0);
    expect(worst).toBeLessThan(1e-5);
    // the fixture's draws include a crop into the padding on both axes, and a flip
    expect(anchor.draws.some((d) => d.dy !== 0 && d.dx !== 0 && d.flip)).toBe(true);
  });
});
