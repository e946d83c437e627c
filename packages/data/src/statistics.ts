// Per-channel statistics of a data set, for normalisation.
import type { ImageDataset } from "./dataset.js";

/** Mean and standard deviation of each channel, in [0, 1] pixel units. */
export interface ChannelStats {
  /** Per-channel mean. */
  mean: number[];
  /** Per-channel (population) standard deviation. */
  std: number[];
}

/**
 * Each channel's mean and standard deviation over every image of `d` (pixels scaled to [0, 1]).
 * @example
 * const { mean, std } = channelStats(train); // CIFAR-10: ≈ [0.491, 0.482, 0.447], [0.247, 0.243, 0.262]
 */
export function channelStats(d: ImageDataset): ChannelStats {
  const [c, h, w] = d.shape;
  const plane = h * w;
  const sums = new Float64Array(c);
  const squares = new Float64Array(c);
  const n = d.labels.length;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const at = (i * c + ch) * plane;
      let s = 0;
      let q = 0;
      for (let k = at; k < at + plane; k++) {
        const v = d.images[k];
        s += v;
        q += v * v;
      }
      sums[ch] += s;
      squares[ch] += q;
    }
  }
  const count = n * plane;
  const mean = Array.from(sums, (s) => s / count / 255);
  const std = Array.from(squares, (q, ch) => Math.sqrt(Math.max(0, q / count / 255 ** 2 - mean[ch] ** 2)));
  return { mean, std };
}
