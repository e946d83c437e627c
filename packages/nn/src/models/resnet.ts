// ResNet-20/32/56 for CIFAR (He et al., 2016, §4.2): three stages of 16, 32 and 64 channels.
import { check, pad, type Generator, type Tensor } from "@sam/tensor";
import { initialize, kaimingNormal } from "../init.js";
import { BatchNorm2d } from "../layers/batchnorm.js";
import { Conv2d } from "../layers/conv2d.js";
import { Linear } from "../layers/linear.js";
import { Sequential } from "../layers/sequential.js";
import { Module } from "../module.js";

/**
 * How a block's shortcut changes shape. "A": subsample by 2 and pad the new channels with zeros
 * (no parameters; the paper's CIFAR choice). "B": a 1×1 convolution with batch norm.
 */
export type Shortcut = "A" | "B";

/** Options of {@link ResNet}. */
export interface ResNetOptions {
  /** Output classes (default 10). */
  numClasses?: number;
  /** Shortcut type where the shape changes (default "A"). */
  shortcut?: Shortcut;
  /** Input channels (default 3). */
  inChannels?: number;
  /** The random stream for initialisation. */
  generator?: Generator;
  /** float32 unless given. */
  dtype?: "float32" | "float64";
}

/** Option A's shortcut: x[:, :, ::2, ::2] with zero channels added on both sides. */
class SubsampleAndPad extends Module {
  constructor(readonly extra: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    const half = this.extra / 2;
    return pad(x.slice([null, null, [0, null, 2], [0, null, 2]]), [[0, 0], [half, half]]);
  }
}

/** Two 3×3 convolutions with batch norm, plus the shortcut. */
export class BasicBlock extends Module {
  /** First 3×3 convolution (carries the stride). */
  conv1: Conv2d;
  /** Its batch norm. */
  bn1: BatchNorm2d;
  /** Second 3×3 convolution. */
  conv2: Conv2d;
  /** Its batch norm. */
  bn2: BatchNorm2d;
  /** The shortcut, or null for the identity. */
  shortcut: Module | null;

  constructor(inPlanes: number, planes: number, stride: number, kind: Shortcut, o: ResNetOptions) {
    super();
    const c = { bias: false, generator: o.generator, dtype: o.dtype };
    this.conv1 = new Conv2d(inPlanes, planes, 3, { ...c, stride, padding: 1 });
    this.bn1 = new BatchNorm2d(planes, { dtype: o.dtype });
    this.conv2 = new Conv2d(planes, planes, 3, { ...c, padding: 1 });
    this.bn2 = new BatchNorm2d(planes, { dtype: o.dtype });
    const same = stride === 1 && inPlanes === planes;
    this.shortcut = same ? null
      : kind === "A" ? new SubsampleAndPad(planes - inPlanes)
      : new Sequential(new Conv2d(inPlanes, planes, 1, { ...c, stride }), new BatchNorm2d(planes, { dtype: o.dtype }));
  }

  /** relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x). */
  forward(x: Tensor): Tensor {
    const h = this.conv2.forward(this.bn1.forward(this.conv1.forward(x), { relu: true }));
    return this.bn2.forward(h, { addend: this.shortcut ? this.shortcut.forward(x) : x, relu: true });
  }
}

/**
 * The CIFAR ResNet of depth 6n+2 (20, 32, 44, 56, 110): a 3×3 stem, three stages of n basic
 * blocks at 16, 32 and 64 channels (stride 2 entering the second and third), global average
 * pooling and a linear classifier. Convolutions start Kaiming-normal (fan-out), as torchvision's.
 * @example
 * const model = new ResNet(20, { numClasses: 10 });
 * model.forward(randn([8, 3, 32, 32])); // [8, 10]
 */
export class ResNet extends Module {
  /** Stem convolution. */
  conv1: Conv2d;
  /** Stem batch norm. */
  bn1: BatchNorm2d;
  /** Stage 1 (16 channels). */
  layer1: Sequential;
  /** Stage 2 (32 channels). */
  layer2: Sequential;
  /** Stage 3 (64 channels). */
  layer3: Sequential;
  /** The classifier. */
  fc: Linear;

  constructor(depth: number, o: ResNetOptions = {}) {
    super();
    check((depth - 2) % 6 === 0 && depth >= 8, "ResNet", () => `depth must be 6n+2 (20, 32, 44, 56, 110), got ${depth}`);
    const n = (depth - 2) / 6;
    const kind = o.shortcut ?? "A";
    this.conv1 = new Conv2d(o.inChannels ?? 3, 16, 3, { padding: 1, bias: false, generator: o.generator, dtype: o.dtype });
    this.bn1 = new BatchNorm2d(16, { dtype: o.dtype });
    const stage = (inPlanes: number, planes: number, stride: number) =>
      new Sequential(...Array.from({ length: n }, (_, i) => new BasicBlock(i === 0 ? inPlanes : planes, planes, i === 0 ? stride : 1, kind, o)));
    this.layer1 = stage(16, 16, 1);
    this.layer2 = stage(16, 32, 2);
    this.layer3 = stage(32, 64, 2);
    this.fc = new Linear(64, o.numClasses ?? 10, { generator: o.generator, dtype: o.dtype });
    for (const m of this.modules()) {
      if (m instanceof Conv2d) initialize(m.weight, (shape) => kaimingNormal(shape, { mode: "fanOut", generator: o.generator, dtype: o.dtype }));
    }
  }

  /** [N, 3, 32, 32] → [N, classes]. */
  forward(x: Tensor): Tensor {
    let h = this.bn1.forward(this.conv1.forward(x), { relu: true });
    h = this.layer3.forward(this.layer2.forward(this.layer1.forward(h)));
    return this.fc.forward(h.mean([2, 3]));
  }
}
