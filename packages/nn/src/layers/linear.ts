// Linear: y = x Wᵀ + b, initialised as PyTorch does.
import { check, fmt, type Generator, type Tensor } from "@sam/tensor";
import { defaultBias, kaimingUniform } from "../init.js";
import { currentImageGroups, Module } from "../module.js";
import { Parameter } from "../parameter.js";

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
  /** The random stream for initialisation. */
  generator?: Generator;
  /** float32 unless given. */
  dtype?: "float32" | "float64";
}

/**
 * A fully connected layer: y = x·Wᵀ + b with W [out, in]. Weight and bias start as PyTorch's:
 * U(−1/√in, 1/√in).
 * @example
 * const fc = new Linear(64, 10);
 * fc.forward(randn([8, 64])); // [8, 10]
 */
export class Linear extends Module {
  /** [outFeatures, inFeatures]. */
  weight: Parameter;
  /** [outFeatures], or null. */
  bias: Parameter | null;

  constructor(
    /** Size of each input row. */ readonly inFeatures: number,
    /** Size of each output row. */ readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    const init = { generator: opts.generator, dtype: opts.dtype };
    this.weight = new Parameter(kaimingUniform([outFeatures, inFeatures], { ...init, nonlinearity: "leakyRelu", a: Math.sqrt(5) }));
    this.bias = opts.bias === false ? null : new Parameter(defaultBias(outFeatures, inFeatures, init));
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    check(x.shape[x.rank - 1] === this.inFeatures, "Linear", () => `expected input [..., ${this.inFeatures}], got ${fmt(x.shape)}`);
    const groups = currentImageGroups();
    if (groups !== null) return this.perGroup(x, groups);
    const y = x.matmul(this.weight.transpose());
    return this.bias ? y.add(this.bias) : y;
  }

  /** x [N, …, in] with a weight [G, out, in] and bias [G, out] per group of N/G rows: one batched product. */
  private perGroup(x: Tensor, groups: number): Tensor {
    const [n, ...rest] = x.shape;
    check(n % groups === 0, "Linear", () => `the ${n} rows of ${fmt(x.shape)} do not split into ${groups} groups`);
    const y = x.reshape([groups, -1, this.inFeatures]).matmul(this.weight.transpose());
    const out = this.bias ? y.add(this.bias.reshape([groups, 1, this.outFeatures])) : y;
    return out.reshape([n, ...rest.slice(0, -1), this.outFeatures]);
  }
}
