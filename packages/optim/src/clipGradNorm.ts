// Gradient clipping by the global norm, without reading values back (so it never waits on a GPU).
import { noGrad } from "@sam/autograd";
import { check, tidy, zeros, type Tensor } from "@sam/tensor";

/**
 * Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), the norm taken over all of them
 * together (as `torch.nn.utils.clip_grad_norm_`). Returns the norm before clipping, a scalar tensor.
 * @example
 * const norm = clipGradNorm(model.parameters(), 5);
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor {
  check(maxNorm > 0, "clipGradNorm", () => `maxNorm must be positive, got ${maxNorm}`);
  const withGrad = params.filter((p) => p.grad !== null);
  return tidy(() => noGrad(() => {
    if (withGrad.length === 0) return zeros([]);
    const norm = withGrad.map((p) => p.grad!.square().sum()).reduce((a, b) => a.add(b)).sqrt();
    const factor = norm.add(1e-6).pow(-1).mul(maxNorm).minimum(1);
    for (const p of withGrad) p.grad!.assign(p.grad!.mul(factor));
    return norm;
  }));
}
