// Wide residual networks WRN-d-k (Zagoruyko & Komodakis, 2016): pre-activation blocks, widths 16k, 32k, 64k.
import { check, type Generator, type Tensor } from "@sam/tensor";
import { initialize, kaimingNormal } from "../init.js";
import { BatchNorm2d } from "../layers/batchnorm.js";
import { Conv2d } from "../layers/conv2d.js";
import { Linear } from "../layers/linear.js";
import { Sequential } from "../layers/sequential.js";
import { Dropout } from "../layers/simple.js";
import { Module } from "../module.js";

/** Options of {@link WideResNet}. */
export interface WideResNetOptions {
  /** Output classes (default 10). */
  numClasses?: number;
  /** Dropout between the two convolutions of each block (default 0). */
  dropRate?: number;
  /** Input channels (default 3). */
  inChannels?: number;
  /** The random stream for initialisation and dropout. */
  generator?: Generator;
  /** float32 unless given. */
  dtype?: "float32" | "float64";
}

/** BN-ReLU-conv, BN-ReLU-(dropout)-conv, plus a 1×1 projection when the shape changes. */
export class WideBlock extends Module {
  /** Batch norm before the first convolution. */
  bn1: BatchNorm2d;
  /** First 3×3 convolution (carries the stride). */
  conv1: Conv2d;
  /** Batch norm before the second convolution. */
  bn2: BatchNorm2d;
  /** Second 3×3 convolution. */
  conv2: Conv2d;
  /** Dropout between them, or null. */
  dropout: Dropout | null;
  /** 1×1 projection of the shortcut, or null for the identity. */
  convShortcut: Conv2d | null;

  constructor(inPlanes: number, planes: number, stride: number, o: WideResNetOptions) {
    super();
    const c = { bias: false, generator: o.generator, dtype: o.dtype };
    this.bn1 = new BatchNorm2d(inPlanes, { dtype: o.dtype });
    this.conv1 = new Conv2d(inPlanes, planes, 3, { ...c, stride, padding: 1 });
    this.bn2 = new BatchNorm2d(planes, { dtype: o.dtype });
    this.conv2 = new Conv2d(planes, planes, 3, { ...c, padding: 1 });
    this.dropout = (o.dropRate ?? 0) > 0 ? new Dropout(o.dropRate!, o.generator) : null;
    this.convShortcut = inPlanes === planes && stride === 1 ? null : new Conv2d(inPlanes, planes, 1, { ...c, stride });
  }

  /** The block; the shortcut branches after the first pre-activation when it projects. */
  forward(x: Tensor): Tensor {
    const a = this.bn1.forward(x, { relu: true });
    let h = this.conv1.forward(a);
    h = this.bn2.forward(h, { relu: true });
    if (this.dropout) h = this.dropout.forward(h);
    h = this.conv2.forward(h);
    return h.add(this.convShortcut ? this.convShortcut.forward(a) : x);
  }
}

/**
 * WRN-depth-width: a 3×3 stem, three stages of (depth−4)/6 wide blocks at 16·k, 32·k and 64·k
 * channels, a final BN-ReLU, global average pooling and a linear classifier. WRN-16-8 and
 * WRN-28-10 are the SAM paper's CIFAR models.
 * @example
 * const model = new WideResNet(16, 8, { numClasses: 10 });
 */
export class WideResNet extends Module {
  /** Stem convolution. */
  conv1: Conv2d;
  /** Stage 1. */
  block1: Sequential;
  /** Stage 2. */
  block2: Sequential;
  /** Stage 3. */
  block3: Sequential;
  /** Final batch norm. */
  bn1: BatchNorm2d;
  /** The classifier. */
  fc: Linear;

  constructor(depth: number, width: number, o: WideResNetOptions = {}) {
    super();
    check((depth - 4) % 6 === 0 && depth >= 10, "WideResNet", () => `depth must be 6n+4 (10, 16, 22, 28, 40), got ${depth}`);
    check(Number.isInteger(width) && width >= 1, "WideResNet", () => `width must be a positive integer, got ${width}`);
    const n = (depth - 4) / 6;
    const widths = [16, 16 * width, 32 * width, 64 * width];
    this.conv1 = new Conv2d(o.inChannels ?? 3, widths[0], 3, { padding: 1, bias: false, generator: o.generator, dtype: o.dtype });
    const stage = (inPlanes: number, planes: number, stride: number) =>
      new Sequential(...Array.from({ length: n }, (_, i) => new WideBlock(i === 0 ? inPlanes : planes, planes, i === 0 ? stride : 1, o)));
    this.block1 = stage(widths[0], widths[1], 1);
    this.block2 = stage(widths[1], widths[2], 2);
    this.block3 = stage(widths[2], widths[3], 2);
    this.bn1 = new BatchNorm2d(widths[3], { dtype: o.dtype });
    this.fc = new Linear(widths[3], o.numClasses ?? 10, { generator: o.generator, dtype: o.dtype });
    for (const m of this.modules()) {
      if (m instanceof Conv2d) initialize(m.weight, (shape) => kaimingNormal(shape, { mode: "fanOut", generator: o.generator, dtype: o.dtype }));
    }
  }

  /** [N, 3, 32, 32] → [N, classes]. */
  forward(x: Tensor): Tensor {
    let h = this.conv1.forward(x);
    h = this.block3.forward(this.block2.forward(this.block1.forward(h)));
    return this.fc.forward(this.bn1.forward(h, { relu: true }).mean([2, 3]));
  }
}
