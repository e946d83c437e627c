// An image classification data set held as bytes: what every reader returns.
import { check } from "@sam/tensor";

/**
 * Images as unsigned bytes, channel-major ([N, C, H, W] row-major), with int32 class labels.
 * @example
 * const { images, labels, shape } = await loadCifar({ source: "cifar-10-binary.tar.gz", split: "test" });
 */
export interface ImageDataset {
  /** N·C·H·W pixel bytes. */
  images: Uint8Array;
  /** N class indices. */
  labels: Int32Array;
  /** [C, H, W] of one image. */
  shape: [number, number, number];
  /** Class names, by index. */
  classes: string[];
}

/**
 * The number of images in a data set.
 * @example
 * size(train); // 50000
 */
export function size(d: ImageDataset): number {
  return d.labels.length;
}

/**
 * The first `n` images (all when n is undefined or larger), sharing the bytes.
 * @example
 * const small = subset(train, 5000);
 */
export function subset(d: ImageDataset, n?: number): ImageDataset {
  if (n === undefined || n >= d.labels.length) return d;
  check(Number.isInteger(n) && n > 0, "subset", () => `n must be a positive integer, got ${n}`);
  const per = d.shape[0] * d.shape[1] * d.shape[2];
  return { ...d, images: d.images.subarray(0, n * per), labels: d.labels.subarray(0, n) };
}
