// A small CNN for quick experiments: three conv-BN-ReLU stages, pooling, a linear head.
import type { Generator, Tensor } from "@sam/tensor";
import { BatchNorm2d } from "../layers/batchnorm.js";
import { Conv2d } from "../layers/conv2d.js";
import { Linear } from "../layers/linear.js";
import { Sequential } from "../layers/sequential.js";
import { AdaptiveAvgPool2d, Flatten, MaxPool2d, ReLU } from "../layers/simple.js";
import { Module } from "../module.js";

/** Options of {@link SmallCNN}. */
export interface SmallCNNOptions {
  /** Output classes (default 10). */
  numClasses?: number;
  /** Input channels (default 3; 1 for MNIST-like data). */
  inChannels?: number;
  /** Channels of the three stages (default [32, 64, 128]). */
  widths?: [number, number, number];
  /** The random stream for initialisation. */
  generator?: Generator;
  /** float32 unless given. */
  dtype?: "float32" | "float64";
}

/**
 * conv3×3-BN-ReLU-maxpool ×2, conv3×3-BN-ReLU, global average pooling, linear.
 * @example
 * const model = new SmallCNN({ inChannels: 1, numClasses: 10 });
 * model.forward(randn([8, 1, 28, 28])); // [8, 10]
 */
export class SmallCNN extends Module {
  /** The convolutional stages and the classifier. */
  net: Sequential;

  constructor(o: SmallCNNOptions = {}) {
    super();
    const [a, b, c] = o.widths ?? [32, 64, 128];
    const conv = (i: number, j: number) => new Conv2d(i, j, 3, { padding: 1, bias: false, generator: o.generator, dtype: o.dtype });
    const bn = (n: number) => new BatchNorm2d(n, { dtype: o.dtype });
    this.net = new Sequential(
      conv(o.inChannels ?? 3, a), bn(a), new ReLU(), new MaxPool2d({ kernel: 2 }),
      conv(a, b), bn(b), new ReLU(), new MaxPool2d({ kernel: 2 }),
      conv(b, c), bn(c), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(),
      new Linear(c, o.numClasses ?? 10, { generator: o.generator, dtype: o.dtype }),
    );
  }

  /** [N, C, H, W] → [N, classes]. */
  forward(x: Tensor): Tensor {
    return this.net.forward(x);
  }
}
