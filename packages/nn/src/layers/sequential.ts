// Sequential: modules applied one after another, named 0, 1, 2, … as in PyTorch.
import type { Tensor } from "@sam/tensor";
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
  /** Applies each module to the previous one's output. */
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, m) => m.forward(h), x);
  }
}
