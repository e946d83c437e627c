// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), with PyTorch's update formulas.
import { check, pointwise, type PointwiseExpr, type Tensor } from "@sam/tensor";
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

/** The shared moment update, then the weight it gives: w − lr·m̂/(√v̂ + ε) in PyTorch's formulation. */
function adamStep(p: Tensor, grad: Tensor, g: ParamGroup<AdamOptions>, state: ParamState, decoupled: boolean,
  setState: (s: ParamState, k: string, v: Tensor) => Tensor): Tensor {
  const step = ((state.step as number | undefined) ?? 0) + 1;
  state.step = step;
  const { beta1, beta2, eps, lr, weightDecay: wd } = g;
  // Adam's L2 term joins the gradient; AdamW's decay shrinks the weight
  const G = (gr: PointwiseExpr, w: PointwiseExpr) => (!decoupled && wd !== 0 ? gr.add(w.mul(wd)) : gr);
  const m0 = state.expAvg as Tensor | undefined;
  const v0 = state.expAvgSq as Tensor | undefined;
  const m = setState(state, "expAvg", m0 ? pointwise([m0, grad, p], (m, gr, w) => m.mul(beta1).add(G(gr, w).mul(1 - beta1)))
    : pointwise([grad, p], (gr, w) => G(gr, w).mul(1 - beta1)));
  const square = (gr: PointwiseExpr, w: PointwiseExpr) => G(gr, w).mul(G(gr, w));
  const v = setState(state, "expAvgSq", v0 ? pointwise([v0, grad, p], (v, gr, w) => v.mul(beta2).add(square(gr, w).mul(1 - beta2)))
    : pointwise([grad, p], (gr, w) => square(gr, w).mul(1 - beta2)));
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  return pointwise([p, m, v], (w, m, v) => (decoupled && wd !== 0 ? w.mul(1 - lr * wd) : w).sub(m.div(v.sqrt().div(Math.sqrt(bc2)).add(eps)).mul(lr / bc1)));
}

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, checked("Adam", { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, ...opts }));
  }

  /** One Adam update of every parameter with a gradient. */
  step(): void {
    this.updateEach((p, grad, g, state) => {
      p.assign(adamStep(p, grad, g, state, false, (s, k, v) => this.setState(s, k, v)));
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
      p.assign(adamStep(p, grad, g, state, true, (s, k, v) => this.setState(s, k, v)));
    });
  }
}
