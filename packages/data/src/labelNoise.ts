// Label noise as in SAM's noisy-label experiments: a seeded fraction of labels replaced at random.
import { check, Generator } from "@sam/tensor";
import type { ImageDataset } from "./dataset.js";

/**
 * A copy of `d` whose labels are replaced, for ⌊fraction·N⌋ randomly chosen examples, by a class
 * drawn uniformly from all classes (so about 1/C of the chosen keep their label by chance).
 * The same seed always corrupts the same examples the same way.
 * @example
 * const noisy = withLabelNoise(train, 0.4, 0);
 */
export function withLabelNoise(d: ImageDataset, fraction: number, seed: number): ImageDataset {
  check(fraction >= 0 && fraction <= 1, "withLabelNoise", () => `fraction must be in [0, 1], got ${fraction}`);
  const g = new Generator(seed);
  const n = d.labels.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const count = Math.floor(fraction * n);
  const labels = Int32Array.from(d.labels);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(g.nextFloat64() * (n - i));
    [order[i], order[j]] = [order[j], order[i]];
    labels[order[i]] = Math.floor(g.nextFloat64() * d.classes.length);
  }
  return { ...d, labels };
}
