// Functions with a gradient of their own: one node on the tape instead of one per op inside.
import { check, type Tensor } from "@sam/tensor";
import { isGradEnabled, nodeOf, recordCustom } from "./tape.js";

/**
 * Computes `forward()` and records its result as one node of the tape, whose gradient is
 * `backward(g)`: one entry per input, in order (null where none flows), given the output's
 * gradient `g`. Use it where a closed form is cheaper than differentiating the ops one by one
 * (as `torch.autograd.Function` or `jax.custom_vjp`). `backward` is written with tensor ops, so
 * with `createGraph` it is recorded too; tensors it uses that `forward` computed from the inputs
 * keep their own history, so higher-order gradients stay right. Those tensors must still be
 * alive when the gradient is taken (run backward inside the same `tidy`).
 * @example
 * // y = x³, with its gradient 3x²·g given directly
 * const y = customVjp("cube", [x], () => x.mul(x).mul(x), (g) => [g.mul(x.mul(x)).mul(3)]);
 */
export function customVjp(name: string, inputs: readonly Tensor[], forward: () => Tensor, backward: (g: Tensor) => readonly (Tensor | null)[]): Tensor {
  const output = forward();
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return output;
  check(!inputs.includes(output) && (nodeOf(output) !== undefined || !output.requiresGrad), "customVjp",
    () => `${name}: forward must return a tensor it computed, not an input or a leaf`);
  recordCustom({ op: "custom", name, inputs: [...inputs], output, backward });
  return output;
}
