// Layers without parameters: activations, pooling, flattening, dropout, identity.
import { avgPool2d, check, defaultGenerator, fmt, maxPool2d, type Generator, type Pool2dOptions, type Tensor } from "@sam/tensor";
import { dropout } from "../functional.js";
import { Module } from "../module.js";

/**
 * max(x, 0).
 * @example
 * new ReLU().forward(x);
 */
export class ReLU extends Module {
  /** Applies ReLU. */
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/**
 * Returns its input unchanged, for a block that has nothing to do (an identity shortcut).
 * @example
 * const shortcut = stride === 1 ? new Identity() : projection;
 */
export class Identity extends Module {
  /** Returns x. */
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * 2-D max pooling.
 * @example
 * new MaxPool2d({ kernel: 2 }).forward(x);
 */
export class MaxPool2d extends Module {
  constructor(
    /** Window geometry. */
    readonly opts: Pool2dOptions,
  ) {
    super();
  }
  /** Pools x [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.opts);
  }
}

/**
 * 2-D average pooling (padding counted as zeros, as PyTorch's default).
 * @example
 * new AvgPool2d({ kernel: 8 }).forward(x);
 */
export class AvgPool2d extends Module {
  constructor(
    /** Window geometry. */
    readonly opts: Pool2dOptions,
  ) {
    super();
  }
  /** Pools x [N, C, H, W]. */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.opts);
  }
}

/**
 * Average pooling to a fixed output size; the input size must be a multiple of it (1×1, the
 * global average, always works).
 * @example
 * new AdaptiveAvgPool2d(1).forward(randn([8, 64, 8, 8])); // [8, 64, 1, 1]
 */
export class AdaptiveAvgPool2d extends Module {
  private readonly size: [number, number];
  constructor(outputSize: number | [number, number]) {
    super();
    this.size = typeof outputSize === "number" ? [outputSize, outputSize] : outputSize;
  }
  /** Pools x [N, C, H, W] to [N, C, outH, outW]. */
  forward(x: Tensor): Tensor {
    check(x.rank === 4, "AdaptiveAvgPool2d", () => `expected [N, C, H, W], got ${fmt(x.shape)}`);
    const [oh, ow] = this.size;
    const [h, w] = x.shape.slice(2);
    if (oh === 1 && ow === 1) return x.mean([2, 3], true);
    check(h % oh === 0 && w % ow === 0, "AdaptiveAvgPool2d", () => `input ${h}×${w} is not a multiple of output ${oh}×${ow}`);
    return avgPool2d(x, { kernel: [h / oh, w / ow] });
  }
}

/**
 * Flattens axes `start` … `end` (default: all but the batch axis).
 * @example
 * new Flatten().forward(randn([8, 64, 1, 1])); // [8, 64]
 */
export class Flatten extends Module {
  constructor(
    /** First flattened axis. */
    readonly start = 1,
    /** Last flattened axis. */
    readonly end = -1,
  ) {
    super();
  }
  /** Flattens x. */
  forward(x: Tensor): Tensor {
    return x.flatten(this.start, this.end);
  }
}

/**
 * Inverted dropout in training, the identity in evaluation; seeded by its generator.
 * @example
 * new Dropout(0.3, new Generator(1));
 */
export class Dropout extends Module {
  constructor(
    /** Drop probability. */
    readonly p: number,
    /** Stream of the masks. */
    readonly generator: Generator = defaultGenerator,
  ) {
    super();
    check(p >= 0 && p < 1, "Dropout", () => `p must be in [0, 1), got ${p}`);
  }
  /** Drops elements of x while training. */
  forward(x: Tensor): Tensor {
    return this.training ? dropout(x, this.p, this.generator) : x;
  }
}
