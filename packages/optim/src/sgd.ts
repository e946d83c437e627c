// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD.
import { check, type Tensor } from "@sam/tensor";
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

  private update(p: Tensor, grad: Tensor, g: ParamGroup<SGDOptions>, state: ParamState): void {
    let d = g.weightDecay !== 0 ? grad.add(p.mul(g.weightDecay)) : grad;
    if (g.momentum !== 0) {
      const prev = state.momentumBuffer as Tensor | undefined;
      const buf = this.setState(state, "momentumBuffer", prev ? prev.mul(g.momentum).add(d.mul(1 - g.dampening)) : d);
      d = g.nesterov ? d.add(buf.mul(g.momentum)) : buf;
    }
    p.assign(p.sub(d.mul(g.lr)));
  }
}
