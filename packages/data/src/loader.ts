// DataLoader: seeded shuffling, batching, augmentation, and a resumable position.
import { check, fromValues, Generator, type Tensor } from "@sam/tensor";
import type { ImageDataset } from "./dataset.js";
import type { Transform } from "./transforms.js";

/** Options of {@link DataLoader}. */
export interface LoaderOptions {
  /** Images per batch. */
  batchSize: number;
  /** Visit the images in a new random order every epoch (default true). */
  shuffle?: boolean;
  /** Seed of the order and the augmentation (default 0). */
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Applied to each batch of [0, 1] pixels before it becomes a tensor. */
  transform?: Transform;
}

/** One batch: images [B, C, H, W] as float32 and labels [B] as int32. */
export interface Batch {
  /** The images. */
  x: Tensor;
  /** The labels. */
  y: Tensor;
}

/** Where a loader is: the epoch to run next, and how many of its batches were already taken. */
export interface LoaderState {
  /** Epochs completed. */
  epoch: number;
  /** Batches of the current epoch already taken (default 0). */
  batch?: number;
}

/**
 * Batches of a data set. The order of epoch e depends only on (seed, e), and the augmentation of
 * its batch b only on (seed, e, b), so a run resumed at any batch sees exactly the batches an
 * uninterrupted run would.
 * @example
 * const loader = new DataLoader(train, { batchSize: 128, transform: compose(randomCrop(4), horizontalFlip()) });
 * for (const { x, y } of loader.epochBatches()) { … }
 */
export class DataLoader {
  /** Epochs completed. */
  epoch = 0;
  /** Batches of the current epoch already taken. */
  batch = 0;
  private readonly o: Required<Omit<LoaderOptions, "transform">> & { transform?: Transform };

  constructor(
    /** The images and labels. */
    readonly dataset: ImageDataset,
    opts: LoaderOptions,
  ) {
    check(Number.isInteger(opts.batchSize) && opts.batchSize > 0, "DataLoader", () => `batchSize must be a positive integer, got ${opts.batchSize}`);
    this.o = { shuffle: true, seed: 0, dropLast: false, ...opts };
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.labels.length;
    return this.o.dropLast ? Math.floor(n / this.o.batchSize) : Math.ceil(n / this.o.batchSize);
  }

  /** The order of epoch `e`: a seeded Fisher–Yates permutation, or the identity. */
  order(e: number): Int32Array {
    const n = this.dataset.labels.length;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    if (!this.o.shuffle) return order;
    const g = new Generator(this.o.seed * 7919 + e * 2 + 1);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(g.nextFloat64() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    return order;
  }

  /**
   * The remaining batches of the current epoch, in order (all of them unless a state with a batch
   * position was loaded); the epoch counts as done once all were taken. The next batch is
   * prepared while the caller works on the current one: at the caller's first `await` after
   * receiving it (on a GPU, while the step runs there), or else when it asks for the next one.
   */
  *epochBatches(): IterableIterator<Batch> {
    const { images, labels, shape } = this.dataset;
    const per = shape[0] * shape[1] * shape[2];
    const order = this.order(this.epoch);
    // One seed per batch, drawn in order, so that batch b's augmentation needs no earlier batch
    // (and preparing a batch ahead changes nothing).
    const seeds = new Generator(this.o.seed * 7919 + this.epoch * 2 + 2);
    for (let b = 0; b < this.batch; b++) seeds.nextUint32();
    const make = (b: number, seed: number): Batch => {
      const idx = order.subarray(b * this.o.batchSize, Math.min(order.length, (b + 1) * this.o.batchSize));
      const x = new Float32Array(idx.length * per);
      const y = new Int32Array(idx.length);
      idx.forEach((k, i) => {
        for (let p = 0; p < per; p++) x[i * per + p] = images[k * per + p] / 255;
        y[i] = labels[k];
      });
      this.o.transform?.(x, idx.length, shape, new Generator(seed));
      return { x: fromValues(x, [idx.length, ...shape], "float32"), y: fromValues(y, [idx.length], "int32") };
    };
    let ahead: { b: number; batch: Batch | null } | null = null;
    try {
      for (let b = this.batch; b < this.length; b++) {
        const seed = seeds.nextUint32();
        const batch = ahead?.b === b && ahead.batch ? ahead.batch : make(b, seed);
        ahead = null;
        this.batch = b + 1;
        if (b + 1 < this.length) {
          const next = { b: b + 1, batch: null as Batch | null };
          const nextSeed = new Generator(0);
          nextSeed.setState(seeds.getState());
          const upcoming = nextSeed.nextUint32();
          ahead = next;
          queueMicrotask(() => {
            if (ahead === next) next.batch = make(next.b, upcoming);
          });
        }
        yield batch;
      }
    } finally {
      // an abandoned loop frees the batch prepared ahead
      if (ahead?.batch) {
        ahead.batch.x.dispose();
        ahead.batch.y.dispose();
      }
      ahead = null;
    }
    this.epoch++;
    this.batch = 0;
  }

  /** The position, for a checkpoint. */
  state(): LoaderState {
    return { epoch: this.epoch, batch: this.batch };
  }

  /** Continues from a checkpointed position. */
  loadState(s: LoaderState): void {
    check(Number.isInteger(s.epoch) && s.epoch >= 0, "DataLoader.loadState", () => `epoch must be a non-negative integer, got ${s.epoch}`);
    const batch = s.batch ?? 0;
    check(Number.isInteger(batch) && batch >= 0 && batch < Math.max(1, this.length), "DataLoader.loadState",
      () => `batch must be an integer in [0, ${this.length}), got ${batch}`);
    this.epoch = s.epoch;
    this.batch = batch;
  }
}
