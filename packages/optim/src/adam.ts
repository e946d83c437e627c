// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), with PyTorch's update formulas.
import { check, type Tensor } from "@sam/tensor";
import { Optimizer, type ParamGroup, type ParamState, type ParamsInput } from "./optimizer.js";

/** Adam's hyperparameters. */
export type AdamOptions = {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay of the first moment (default 0.9). */
  beta1: number;
  /** Decay of the second moment (default 0.999). */
  beta2: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Weight decay: an L2 term in Adam, decoupled in AdamW (default 0 for Adam, 0.01 for AdamW). */
  weightDecay: number;
};

function checked(name: string, o: AdamOptions): AdamOptions {
  check(o.lr >= 0 && Number.isFinite(o.lr), name, () => `lr must be a finite number ≥ 0, got ${o.lr}`);
  check(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1, name, () => `betas must be in [0, 1), got ${o.beta1} and ${o.beta2}`);
  check(o.eps >= 0 && o.weightDecay >= 0 && Number.isFinite(o.eps) && Number.isFinite(o.weightDecay), name,
    () => `eps and weightDecay must be finite numbers ≥ 0, got ${o.eps} and ${o.weightDecay}`);
  return o;
}

/** The shared moment update: returns the step m̂/(√v̂ + ε)·lr of PyTorch's formulation. */
function adamStep(grad: Tensor, g: ParamGroup<AdamOptions>, state: ParamState,
  setState: (s: ParamState, k: string, v: Tensor) => Tensor): Tensor {
  const step = ((state.step as number | undefined) ?? 0) + 1;
  state.step = step;
  const m0 = state.expAvg as Tensor | undefined;
  const v0 = state.expAvgSq as Tensor | undefined;
  const m = setState(state, "expAvg", m0 ? m0.mul(g.beta1).add(grad.mul(1 - g.beta1)) : grad.mul(1 - g.beta1));
  const v = setState(state, "expAvgSq", v0 ? v0.mul(g.beta2).add(grad.square().mul(1 - g.beta2)) : grad.square().mul(1 - g.beta2));
  const bc1 = 1 - g.beta1 ** step;
  const bc2 = 1 - g.beta2 ** step;
  return m.div(v.sqrt().div(Math.sqrt(bc2)).add(g.eps)).mul(g.lr / bc1);
}

/**
 * Adam: m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², w = w − (η/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε); weight
 * decay adds λw to g.
 * @example
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, checked("Adam", { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...opts }));
  }

  /** One Adam update of every parameter with a gradient. */
  step(): void {
    this.updateEach((p, grad, g, state) => {
      const gg = g.weightDecay !== 0 ? grad.add(p.mul(g.weightDecay)) : grad;
      p.assign(p.sub(adamStep(gg, g, state, (s, k, v) => this.setState(s, k, v))));
    });
  }
}

/**
 * AdamW: Adam with decoupled weight decay, w = w·(1 − ηλ) before the Adam step.
 * @example
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, checked("AdamW", { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, ...opts }));
  }

  /** One AdamW update of every parameter with a gradient. */
  step(): void {
    this.updateEach((p, grad, g, state) => {
      const decayed = g.weightDecay !== 0 ? p.mul(1 - g.lr * g.weightDecay) : p;
      p.assign(decayed.sub(adamStep(grad, g, state, (s, k, v) => this.setState(s, k, v))));
    });
  }
}
