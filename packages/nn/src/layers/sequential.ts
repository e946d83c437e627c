// Sequential: modules applied one after another, named 0, 1, 2, … as in PyTorch.
import { isGradEnabled } from "@sam/autograd";
import { tidy, type Tensor } from "@sam/tensor";
import { Module } from "../module.js";

/**
 * Runs its modules in order.
 * @example
 * const mlp = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 2));
 */
export class Sequential extends Module {
  /** The modules, in order. */
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  /** Children are named by position, so state-dict keys read `0.weight`, `1.bias`, … */
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }
  /**
   * Applies each module to the previous one's output. When no gradient is being recorded (under
   * `noGrad`, as in evaluation), each module's intermediate tensors, and each output once the next
   * module has used it, are freed at once, so a deep model's memory is that of one module at a
   * time rather than of the whole forward pass.
   */
  forward(x: Tensor): Tensor {
    if (isGradEnabled()) return this.layers.reduce((h, m) => m.forward(h), x);
    let h = x;
    for (const m of this.layers) {
      const input = h;
      h = tidy(() => m.forward(input));
      if (input !== x && input !== h) input.dispose();
    }
    return h;
  }
}
