// tanh as a layer, for the tests' MLPs: it keeps their loss smooth, so finite differences of the
// gradient are meaningful and PyTorch's model is the same function.
import { Module } from "@sam/nn";
import type { Tensor } from "@sam/tensor";

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}
