// Batch normalisation over the channel axis, with running statistics for evaluation.
import { noGrad } from "@sam/autograd";
import { check, fmt, full, ones, zeros, type Tensor } from "@sam/tensor";
import { batchNorm, batchNormTraining, type BatchNormThen } from "../functional.js";
import { currentImageGroups, Module } from "../module.js";
import { Parameter } from "../parameter.js";

/** Options of the batch-norm layers. */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the newest batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Learnable scale and shift (default true). */
  affine?: boolean;
  /** float32 unless given. */
  dtype?: "float32" | "float64";
}

/**
 * Normalises each channel with batch statistics while training and running statistics in
 * evaluation, as PyTorch does (biased variance to normalise, unbiased in the running variance).
 * Set {@link BatchNorm.updateRunningStats} to false to normalise with batch statistics without
 * touching the running ones (SAM's second pass does this).
 */
export abstract class BatchNorm extends Module {
  /** Per-channel scale, or null. */
  weight: Parameter | null;
  /** Per-channel shift, or null. */
  bias: Parameter | null;
  /** Running mean of each channel. */
  runningMean: Tensor;
  /** Running (unbiased) variance of each channel. */
  runningVar: Tensor;
  /** How many training batches have updated the running statistics. */
  numBatchesTracked: Tensor;
  /** Whether a training forward pass updates the running statistics. */
  updateRunningStats = true;
  /** Added to the variance. */
  readonly eps: number;
  /** Weight of the newest batch in the running statistics. */
  momentum: number;

  constructor(
    /** Channels. */
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    const dtype = opts.dtype ?? "float32";
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const affine = opts.affine ?? true;
    this.weight = affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    this.runningMean = this.registerBuffer("running_mean", zeros([numFeatures], { dtype }), "runningMean");
    this.runningVar = this.registerBuffer("running_var", ones([numFeatures], { dtype }), "runningVar");
    this.numBatchesTracked = this.registerBuffer("num_batches_tracked", full([], 0, { dtype: "int32" }), "numBatchesTracked");
  }

  /** The ranks this layer accepts. */
  protected abstract readonly ranks: readonly number[];

  /**
   * Normalises x [N, C, …]; `then` adds a residual and applies ReLU in the same pass, as
   * `relu(bn(x) + addend)` would in three.
   */
  forward(x: Tensor, then: BatchNormThen = {}): Tensor {
    check(this.ranks.includes(x.rank) && x.shape[1] === this.numFeatures, this.constructor.name,
      () => `expected input of rank ${this.ranks.join(" or ")} with ${this.numFeatures} channels, got ${fmt(x.shape)}`);
    if (then.addend) {
      check(then.addend.shape.length === x.shape.length && then.addend.shape.every((d, i) => d === x.shape[i]), this.constructor.name,
        () => `the addend ${fmt(then.addend!.shape)} must have the input's shape ${fmt(x.shape)}`);
    }
    // inside withParameters with a set per group of images: weight and bias are [G, C], and each
    // group is normalised with its own statistics
    const groups = currentImageGroups() ?? undefined;
    if (groups !== undefined) {
      check(x.shape[0] % groups === 0, this.constructor.name, () => `the ${x.shape[0]} images of ${fmt(x.shape)} do not split into ${groups} groups`);
    }
    if (!this.training) {
      const stat = (t: Tensor) => (groups === undefined ? t : t.unsqueeze(0).expand([groups, this.numFeatures]));
      return batchNorm(x, stat(this.runningMean), stat(this.runningVar), this.weight, this.bias, this.eps, then);
    }
    check(x.size / this.numFeatures / (groups ?? 1) > 1, this.constructor.name,
      () => `needs more than one value per channel in training, got ${fmt(x.shape)}${groups === undefined ? "" : ` in ${groups} groups`}`);
    const running = this.updateRunningStats ? { mean: this.runningMean, variance: this.runningVar, momentum: this.momentum } : undefined;
    const { y } = batchNormTraining(x, this.weight, this.bias, this.eps, then, running, groups);
    if (running) noGrad(() => this.numBatchesTracked.assign(this.numBatchesTracked.add(groups ?? 1)));
    return y;
  }
}

/**
 * Batch normalisation of [N, C] or [N, C, L].
 * @example
 * new BatchNorm1d(64).forward(randn([8, 64]));
 */
export class BatchNorm1d extends BatchNorm {
  /** Accepts rank 2 or 3. */
  protected readonly ranks = [2, 3];
}

/**
 * Batch normalisation of [N, C, H, W].
 * @example
 * new BatchNorm2d(16).forward(randn([8, 16, 32, 32]));
 */
export class BatchNorm2d extends BatchNorm {
  /** Accepts rank 4. */
  protected readonly ranks = [4];
}
