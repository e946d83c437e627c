// Function transformations in the style of JAX: grad, valueAndGrad, vjp and Hessian-vector products.
import { check, fmt, type Tensor } from "@sam/tensor";
import { gradients } from "./backward.js";
import { isGradEnabled } from "./tape.js";

/**
 * A fresh input for differentiation: connected to `x` when an outer computation is being recorded
 * (so gradients of gradients flow back to `x`), otherwise a new leaf sharing `x`'s storage.
 */
function enter(x: Tensor): Tensor {
  return x.requiresGrad && isGradEnabled() ? x.reshape(x.shape) : x.detach().requiresGrad_(true);
}

/** Whether an outer computation needs this one's backward pass recorded. */
function nested(xs: readonly Tensor[]): boolean {
  return isGradEnabled() && xs.some((x) => x.requiresGrad);
}

function scalar(fn: string, y: Tensor): void {
  check(y.size === 1, fn, () => `the function must return a scalar, got shape ${fmt(y.shape)}`);
}

/**
 * The value of scalar `f` at `x` and its gradient with respect to `x` (the first argument).
 * @example
 * const [value, dx] = valueAndGrad((x) => x.square().sum())(tensor([1, 2]));
 */
export function valueAndGrad<A extends Tensor[]>(f: (x: Tensor, ...rest: A) => Tensor): (x: Tensor, ...rest: A) => [Tensor, Tensor] {
  return (x, ...rest) => {
    const xin = enter(x);
    const y = f(xin, ...rest);
    scalar("grad", y);
    const [dx] = gradients([y], [xin], { createGraph: nested([x]) });
    return [y, dx];
  };
}

/**
 * The gradient of scalar `f` with respect to its first argument, as a function (like `jax.grad`).
 * Composes: `grad(grad(f))` is the second derivative.
 * @example
 * const d2 = grad((x) => grad((y) => y.pow(3).sum())(x).sum());
 * await d2(tensor([2])).data(); // [12]
 */
export function grad<A extends Tensor[]>(f: (x: Tensor, ...rest: A) => Tensor): (x: Tensor, ...rest: A) => Tensor {
  const vg = valueAndGrad(f);
  return (x, ...rest) => vg(x, ...rest)[1];
}

/** The result of {@link vjp}: the value and a function pulling a cotangent back to every input. */
export interface VjpResult {
  value: Tensor;
  vjp: (cotangent: Tensor) => Tensor[];
}

/**
 * Evaluates `f` at `xs` and returns a function computing vᵀ·J for a cotangent v (like `jax.vjp`).
 * @example
 * const { value, vjp: pullback } = vjp((a, b) => a.mul(b), x, y);
 * const [dx, dy] = pullback(onesLike(value));
 */
export function vjp(f: (...xs: Tensor[]) => Tensor, ...xs: Tensor[]): VjpResult {
  const ins = xs.map(enter);
  const value = f(...ins);
  const createGraph = nested(xs);
  return {
    value,
    vjp: (cotangent) => gradients([value], ins, { gradOutputs: [cotangent], createGraph: createGraph || nested([cotangent]) }),
  };
}

/**
 * The Hessian of scalar `f` at `x` times `v`, by differentiating ⟨∇f(x), v⟩ (double backward).
 * @example
 * hvp((x) => x.pow(3).sum(), tensor([1, 2]), tensor([1, 0])); // [6, 0]
 */
export function hvp(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  check(v.shape.length === x.shape.length && v.shape.every((d, i) => d === x.shape[i]), "hvp",
    () => `v ${fmt(v.shape)} must have the shape of x ${fmt(x.shape)}`);
  return grad((y: Tensor) => grad(f)(y).mul(v).sum())(x);
}
