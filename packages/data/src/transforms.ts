// Augmentations and normalisation of a batch of float images [B, C, H, W], in place and seeded.
import { check, type Generator } from "@sam/tensor";

/** An in-place transformation of `count` images of `shape` laid out one after another in `batch`. */
export type Transform = (batch: Float32Array, count: number, shape: readonly [number, number, number], g: Generator) => void;

/**
 * Pads each image by `padding` zeros on every side and takes a random crop of the original size
 * (the standard CIFAR augmentation with padding 4).
 * @example
 * const t = randomCrop(4);
 */
export function randomCrop(padding: number): Transform {
  check(Number.isInteger(padding) && padding >= 0, "randomCrop", () => `padding must be a non-negative integer, got ${padding}`);
  return (batch, count, [c, h, w], g) => {
    const plane = h * w;
    const copy = new Float32Array(c * plane);
    for (let n = 0; n < count; n++) {
      const dy = Math.floor(g.nextFloat64() * (2 * padding + 1)) - padding;
      const dx = Math.floor(g.nextFloat64() * (2 * padding + 1)) - padding;
      const image = batch.subarray(n * c * plane, (n + 1) * c * plane);
      copy.set(image);
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < h; y++) {
          const sy = y + dy;
          for (let x = 0; x < w; x++) {
            const sx = x + dx;
            image[ch * plane + y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? copy[ch * plane + sy * w + sx] : 0;
          }
        }
      }
    }
  };
}

/**
 * Mirrors each image left–right with probability ½.
 * @example
 * const t = horizontalFlip();
 */
export function horizontalFlip(): Transform {
  return (batch, count, [c, h, w], g) => {
    for (let n = 0; n < count; n++) {
      if (g.nextFloat64() >= 0.5) continue;
      for (let row = 0; row < c * h; row++) batch.subarray((n * c * h + row) * w, (n * c * h + row + 1) * w).reverse();
    }
  };
}

/**
 * Cutout (DeVries & Taylor, 2017): zeroes a `size`×`size` square centred anywhere in the image
 * (clipped at the borders), in every channel.
 * @example
 * const t = cutout(16);
 */
export function cutout(size: number): Transform {
  check(Number.isInteger(size) && size > 0, "cutout", () => `size must be a positive integer, got ${size}`);
  return (batch, count, [c, h, w], g) => {
    for (let n = 0; n < count; n++) {
      const cy = Math.floor(g.nextFloat64() * h);
      const cx = Math.floor(g.nextFloat64() * w);
      const [y0, y1] = [Math.max(0, cy - Math.floor(size / 2)), Math.min(h, cy - Math.floor(size / 2) + size)];
      const [x0, x1] = [Math.max(0, cx - Math.floor(size / 2)), Math.min(w, cx - Math.floor(size / 2) + size)];
      for (let ch = 0; ch < c; ch++) {
        for (let y = y0; y < y1; y++) batch.fill(0, ((n * c + ch) * h + y) * w + x0, ((n * c + ch) * h + y) * w + x1);
      }
    }
  };
}

/**
 * Subtracts each channel's mean and divides by its standard deviation.
 * @example
 * const t = normalize([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]);
 */
export function normalize(mean: readonly number[], std: readonly number[]): Transform {
  check(std.every((s) => s > 0), "normalize", () => `standard deviations must be positive, got ${JSON.stringify(std)}`);
  return (batch, count, [c, h, w]) => {
    check(mean.length === c && std.length === c, "normalize", () => `needs ${c} means and deviations, got ${mean.length} and ${std.length}`);
    const plane = h * w;
    for (let n = 0; n < count; n++) {
      for (let ch = 0; ch < c; ch++) {
        const at = (n * c + ch) * plane;
        for (let i = at; i < at + plane; i++) batch[i] = (batch[i] - mean[ch]) / std[ch];
      }
    }
  };
}

/**
 * Applies transforms in order.
 * @example
 * const train = compose(randomCrop(4), horizontalFlip(), normalize(mean, std));
 */
export function compose(...transforms: Transform[]): Transform {
  return (batch, count, shape, g) => transforms.forEach((t) => t(batch, count, shape, g));
}
