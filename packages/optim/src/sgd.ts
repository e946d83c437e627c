// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD.
import { check, pointwise, type PointwiseExpr, type Tensor } from "@sam/tensor";
import { Optimizer, type ParamGroup, type ParamState, type ParamsInput } from "./optimizer.js";

/** SGD's hyperparameters. */
export type SGDOptions = {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false). */
  nesterov: boolean;
};

/**
 * SGD with PyTorch's update: d = g + λw; b = μb + (1−τ)d (b = d on the first step);
 * d = d + μb with Nesterov, else d = b; w = w − η·d.
 * @example
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> & { lr: number }) {
    const o: SGDOptions = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts };
    // an infinite rate or decay would fill the weights with NaN at the first step
    check(o.lr >= 0 && Number.isFinite(o.lr), "SGD", () => `lr must be a finite number ≥ 0, got ${o.lr}`);
    check(o.momentum >= 0 && Number.isFinite(o.momentum), "SGD", () => `momentum must be a finite number ≥ 0, got ${o.momentum}`);
    check(o.weightDecay >= 0 && Number.isFinite(o.weightDecay), "SGD", () => `weightDecay must be a finite number ≥ 0, got ${o.weightDecay}`);
    check(!o.nesterov || (o.momentum > 0 && o.dampening === 0), "SGD", () => `Nesterov momentum needs momentum > 0 and dampening 0`);
    super(params, o);
  }

  /** One SGD update of every parameter with a gradient. */
  step(): void {
    this.updateEach((p, grad, g, state) => this.update(p, grad, g, state));
  }

  /**
   * d = g + λw; buf ← μ·buf + (1 − τ)·d (d at the first step); w ← w − lr·(d + μ·buf if Nesterov,
   * else buf). Each line is one `pointwise` pass, which rounds as the ops written out would.
   */
  private update(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, state: ParamState): void {
    const { weightDecay: wd, momentum: mu, dampening, nesterov, lr } = g;
    const d = (gr: PointwiseExpr, w: PointwiseExpr) => (wd !== 0 ? gr.add(w.mul(wd)) : gr);
    if (mu === 0) {
      p.assign(pointwise([p, grad], (w, gr) => w.sub(d(gr, w).mul(lr))));
      return;
    }
    const prev = state.momentumBuffer as Tensor | undefined;
    const next = prev ? pointwise([prev, grad, p], (b, gr, w) => b.mul(mu).add(d(gr, w).mul(1 - dampening)))
      : wd !== 0 ? pointwise([grad, p], d) : grad;
    const buf = this.setState(state, "momentumBuffer", next);
    p.assign(nesterov ? pointwise([p, grad, buf], (w, gr, b) => w.sub(d(gr, w).add(b.mul(mu)).mul(lr)))
      : pointwise([p, buf], (w, b) => w.sub(b.mul(lr))));
  }
}
