// Conv2d: 2-D convolution with an optional bias, initialised as PyTorch does.
import { check, conv2d, fmt, type Generator, type Tensor } from "@sam/tensor";
import { defaultBias, fans, kaimingUniform } from "../init.js";
import { currentImageGroups, Module } from "../module.js";
import { Parameter } from "../parameter.js";

/** Options of {@link Conv2d}. */
export interface Conv2dLayerOptions {
  /** Step of the window (default 1). */
  stride?: number | [number, number];
  /** Zeros added on each side (default 0). */
  padding?: number | [number, number];
  /** Spacing of kernel taps (default 1). */
  dilation?: number | [number, number];
  /** Channel groups (default 1). */
  groups?: number;
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /** The random stream for initialisation. */
  generator?: Generator;
  /** float32 unless given. */
  dtype?: "float32" | "float64";
}

/**
 * A 2-D convolution over [N, C, H, W]. Weight [out, in/groups, k, k] and bias start as PyTorch's.
 * @example
 * const conv = new Conv2d(3, 16, 3, { padding: 1, bias: false });
 * conv.forward(randn([8, 3, 32, 32])); // [8, 16, 32, 32]
 */
export class Conv2d extends Module {
  /** [out, in/groups, kH, kW]. */
  weight: Parameter;
  /** [out], or null. */
  bias: Parameter | null;
  private readonly opts: Conv2dLayerOptions;

  constructor(
    /** Input channels. */ readonly inChannels: number,
    /** Output channels. */ readonly outChannels: number,
    kernelSize: number | [number, number],
    opts: Conv2dLayerOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    check(inChannels % groups === 0 && outChannels % groups === 0, "Conv2d", () => `channels ${inChannels} and ${outChannels} must divide by groups ${groups}`);
    const [kh, kw] = typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize;
    const shape = [outChannels, inChannels / groups, kh, kw];
    const init = { generator: opts.generator, dtype: opts.dtype };
    this.weight = new Parameter(kaimingUniform(shape, { ...init, nonlinearity: "leakyRelu", a: Math.sqrt(5) }));
    this.bias = opts.bias === false ? null : new Parameter(defaultBias(outChannels, fans(shape).fanIn, init));
    this.opts = opts;
  }

  /** [N, in, H, W] → [N, out, H', W'] (with a weight and bias per group of images inside {@link Module.withParameters}). */
  forward(x: Tensor): Tensor {
    check(x.rank === 4 && x.shape[1] === this.inChannels, "Conv2d", () => `expected input [N, ${this.inChannels}, H, W], got ${fmt(x.shape)}`);
    const y = conv2d(x, this.weight, this.opts);
    if (!this.bias) return y;
    const groups = currentImageGroups();
    if (groups === null) return y.add(this.bias.reshape([1, -1, 1, 1]));
    const [n, o, h, w] = y.shape;
    return y.reshape([groups, n / groups, o, h, w]).add(this.bias.reshape([groups, 1, o, 1, 1])).reshape([n, o, h, w]);
  }
}
