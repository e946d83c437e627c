// Mixup (Zhang et al., ICLR 2018): each batch replaced by convex combinations of its examples with
// those of a shuffled copy, λ ~ Beta(α, α); the loss mixes the two labels' losses with the same λ.
import { check, fromValues, Generator, tidy, type Tensor } from "@sam/tensor";

/** A standard normal draw (Box–Muller). */
function normal(g: Generator): number {
  const u = 1 - g.nextFloat64(); // in (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * g.nextFloat64());
}

/** A Gamma(shape, 1) draw: Marsaglia and Tsang's method, boosted for shape < 1. */
function gamma(shape: number, g: Generator): number {
  if (shape < 1) return gamma(shape + 1, g) * (1 - g.nextFloat64()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = normal(g);
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    const u = 1 - g.nextFloat64();
    if (Math.log(u) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * A Beta(α, α) draw, from two Gamma(α) draws.
 * @example
 * sampleBeta(0.2, new Generator(0)); // most draws near 0 or 1
 */
export function sampleBeta(alpha: number, generator: Generator): number {
  check(alpha > 0 && Number.isFinite(alpha), "sampleBeta", () => `alpha must be a finite number > 0, got ${alpha}`);
  const a = gamma(alpha, generator);
  const b = gamma(alpha, generator);
  return a + b === 0 ? 0.5 : a / (a + b);
}

/** A mixed batch: the inputs, both labels of each mixed example, and the weight of the first. */
export interface MixedBatch {
  /** The mixed inputs λ·x + (1 − λ)·x[π]. */
  x: Tensor;
  /** The labels of the first examples (y itself). */
  yA: Tensor;
  /** The labels of their partners, y[π]. */
  yB: Tensor;
  /** The weight λ of the first examples. */
  lambda: number;
}

/**
 * Mixes a batch: x' = λ·x + (1 − λ)·x[π] with λ ~ Beta(α, α) and π a random permutation of the
 * batch, both drawn from `generator`. Train on λ·loss(z, yA) + (1 − λ)·loss(z, yB). Differentiable
 * in `x`; `yA` is `y` itself, and the caller disposes of the mixed `x` and `yB`.
 * @example
 * const { x: mixed, yA, yB, lambda } = mixup(x, y, 0.2, new Generator(seed));
 * const z = model.forward(mixed);
 * const loss = crossEntropy(z, yA).mul(lambda).add(crossEntropy(z, yB).mul(1 - lambda));
 */
export function mixup(x: Tensor, y: Tensor, alpha: number, generator: Generator): MixedBatch {
  check(x.shape.length >= 1 && y.shape.length === 1 && x.shape[0] === y.shape[0], "mixup",
    () => `x must be a batch [N, …] and y its N labels, got x ${JSON.stringify(x.shape)} and y ${JSON.stringify(y.shape)}`);
  const lambda = sampleBeta(alpha, generator);
  const n = y.shape[0];
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(generator.nextFloat64() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const mix = (): Tensor[] => {
    const index = fromValues(order, [n], "int32");
    return [x.mul(lambda).add(x.indexSelect(0, index).mul(1 - lambda)), y.indexSelect(0, index)];
  };
  // a data batch's intermediates are freed here; those of an input being differentiated are kept
  // for the backward pass, and the caller's tidy frees them
  const [mixed, yB] = x.requiresGrad ? mix() : tidy(mix);
  return { x: mixed, yA: y, yB, lambda };
}
