// Weight initialisation: Kaiming (He) and Xavier (Glorot), with PyTorch's fan and gain conventions.
import { check, fmt, rand, randn, tidy, type Generator, type Tensor } from "@sam/tensor";

/** Which fan a Kaiming initialisation preserves the variance of. */
export type FanMode = "fanIn" | "fanOut";

/** Options shared by the initialisers. */
export interface InitOptions {
  /** The random stream (the default generator when omitted). */
  generator?: Generator;
  /** float32 unless given. */
  dtype?: "float32" | "float64";
}

/** How many inputs and outputs feed each weight. */
export interface Fans {
  /** Inputs per output unit: in·kH·kW. */
  fanIn: number;
  /** Outputs per input unit: out·kH·kW. */
  fanOut: number;
}

/**
 * Fan-in and fan-out of a weight shape: [out, in] for linear, [out, in/groups, kH, kW] for conv.
 * @example
 * fans([64, 16, 3, 3]); // { fanIn: 144, fanOut: 576 }
 */
export function fans(shape: readonly number[]): Fans {
  check(shape.length >= 2, "fans", () => `needs a weight of rank ≥ 2, got ${fmt(shape)}`);
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * The gain PyTorch recommends for a nonlinearity: √2 for ReLU, √(2/(1+a²)) for leaky ReLU with slope a, 1 for linear.
 * @example
 * gain("relu"); // 1.414…
 */
export function gain(nonlinearity: "linear" | "relu" | "leakyRelu" | "tanh", a = 0): number {
  if (nonlinearity === "relu") return Math.SQRT2;
  if (nonlinearity === "leakyRelu") return Math.sqrt(2 / (1 + a * a));
  if (nonlinearity === "tanh") return 5 / 3;
  return 1;
}

/** Options of the Kaiming initialisers. */
export interface KaimingOptions extends InitOptions {
  /** Preserve the variance of the forward pass (fanIn, default) or the backward pass (fanOut). */
  mode?: FanMode;
  /** The nonlinearity that follows (default relu). */
  nonlinearity?: "relu" | "leakyRelu" | "linear";
  /** Negative slope of leaky ReLU. */
  a?: number;
}

function kaimingStd(shape: readonly number[], o: KaimingOptions): number {
  const f = fans(shape);
  return gain(o.nonlinearity ?? "relu", o.a ?? 0) / Math.sqrt(o.mode === "fanOut" ? f.fanOut : f.fanIn);
}

/**
 * N(0, std²) with std = gain/√fan (He et al. 2015).
 * @example
 * kaimingNormal([64, 16, 3, 3], { mode: "fanOut" });
 */
export function kaimingNormal(shape: number[], o: KaimingOptions = {}): Tensor {
  return randn(shape, { std: kaimingStd(shape, o), generator: o.generator, dtype: o.dtype });
}

/**
 * U(−b, b) with b = gain·√(3/fan); with `a = √5` and leaky ReLU this is PyTorch's default for Linear and Conv2d weights.
 * @example
 * kaimingUniform([10, 64], { nonlinearity: "leakyRelu", a: Math.sqrt(5) });
 */
export function kaimingUniform(shape: number[], o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(shape, o);
  return rand(shape, { low: -bound, high: bound, generator: o.generator, dtype: o.dtype });
}

/**
 * U(−b, b) with b = gain·√(6/(fanIn + fanOut)) (Glorot & Bengio 2010).
 * @example
 * xavierUniform([256, 128]);
 */
export function xavierUniform(shape: number[], o: InitOptions & { gain?: number } = {}): Tensor {
  const f = fans(shape);
  const bound = (o.gain ?? 1) * Math.sqrt(6 / (f.fanIn + f.fanOut));
  return rand(shape, { low: -bound, high: bound, generator: o.generator, dtype: o.dtype });
}

/**
 * N(0, std²) with std = gain·√(2/(fanIn + fanOut)).
 * @example
 * xavierNormal([256, 128]);
 */
export function xavierNormal(shape: number[], o: InitOptions & { gain?: number } = {}): Tensor {
  const f = fans(shape);
  return randn(shape, { std: (o.gain ?? 1) * Math.sqrt(2 / (f.fanIn + f.fanOut)), generator: o.generator, dtype: o.dtype });
}

/**
 * PyTorch's default bias for a layer with this fan-in: U(−1/√fanIn, 1/√fanIn).
 * @example
 * defaultBias(64, 144);
 */
export function defaultBias(size: number, fanIn: number, o: InitOptions = {}): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return rand([size], { low: -bound, high: bound, generator: o.generator, dtype: o.dtype });
}

/**
 * Overwrites a parameter's values in place with freshly initialised ones (its identity is kept).
 * @example
 * initialize(conv.weight, (shape) => kaimingNormal(shape, { mode: "fanOut" }));
 */
export function initialize(p: Tensor, make: (shape: number[]) => Tensor): void {
  tidy(() => {
    p.assign(make([...p.shape]));
  });
}
