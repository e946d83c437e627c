// Parameter: a tensor that a module owns and an optimizer updates in place.
import { check, isFloating, keep, Tensor } from "@sam/tensor";

/**
 * A learnable tensor: requires a gradient, survives every tidy(), and is updated in place
 * (`assign`) so modules and optimizer state keep referring to the same object.
 * @example
 * this.weight = new Parameter(zeros([out, inp]));
 */
export class Parameter extends Tensor {
  /**
   * Takes over `value`'s storage (no copy) and disposes `value`, so that nothing else holds the
   * initial storage once an update replaces it; a kept `value` (keep(), another Parameter) stays
   * its owner's.
   */
  constructor(value: Tensor) {
    check(isFloating(value.dtype), "Parameter", () => `parameters must be floating, got ${value.dtype}`);
    check(!value.disposed, "Parameter", () => `the value was already disposed`);
    super(value.storage.retain(), value.shape, value.dtype);
    this.requiresGrad = true;
    keep(this);
    if (!value.kept) value.dispose();
  }
}
