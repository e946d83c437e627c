// Function transformations in the style of JAX: grad, valueAndGrad, vjp and Hessian-vector products.
import { check, fmt, type Tensor } from "@sam/tensor";
import { gradients } from "./backward.js";
import { isGradEnabled } from "./tape.js";

/** How many transformed functions are being evaluated around the current code. */
let depth = 0;

/** Whether an enclosing transformation is recording, so this one must record its backward pass. */
function outerRecording(): boolean {
  return depth > 0 && isGradEnabled();
}

/** Evaluates a transformed function, marking that a transformation encloses it. */
function traced<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

/**
 * A fresh input for differentiation: connected to `x` when an enclosing transformation records
 * (so gradients of gradients flow back to `x`), otherwise a new leaf sharing `x`'s storage.
 */
function enter(x: Tensor, record: boolean): Tensor {
  return record && x.requiresGrad ? x.reshape(x.shape) : x.detach().requiresGrad_(true);
}

/** Options of the transformations. */
export interface TransformOptions {
  /** Record the backward pass even at top level, so that the result can be differentiated (default: only when nested). */
  createGraph?: boolean;
}

function scalar(fn: string, y: Tensor): void {
  check(y.size === 1, fn, () => `the function must return a scalar, got shape ${fmt(y.shape)}`);
}

/**
 * The value of scalar `f` at `x` and its gradient with respect to `x` (the first argument).
 * @example
 * const [value, dx] = valueAndGrad((x) => x.square().sum())(tensor([1, 2]));
 */
export function valueAndGrad<A extends Tensor[]>(
  f: (x: Tensor, ...rest: A) => Tensor, opts: TransformOptions = {},
): (x: Tensor, ...rest: A) => [Tensor, Tensor] {
  return (x, ...rest) => {
    const record = (opts.createGraph ?? false) || outerRecording();
    const xin = enter(x, record);
    const y = traced(() => f(xin, ...rest));
    scalar("grad", y);
    const [dx] = gradients([y], [xin], { createGraph: record });
    return [y, dx];
  };
}

/**
 * The gradient of scalar `f` with respect to its first argument, as a function (like `jax.grad`).
 * Composes: `grad(grad(f))` is the second derivative. At top level the result is a plain tensor;
 * pass `{ createGraph: true }` to keep it differentiable (for `backward` through a gradient).
 * @example
 * const d2 = grad((x) => grad((y) => y.pow(3).sum())(x).sum());
 * await d2(tensor([2])).data(); // [12]
 */
export function grad<A extends Tensor[]>(f: (x: Tensor, ...rest: A) => Tensor, opts: TransformOptions = {}): (x: Tensor, ...rest: A) => Tensor {
  const vg = valueAndGrad(f, opts);
  return (x, ...rest) => vg(x, ...rest)[1];
}

/** The result of {@link vjp}: the value and a function pulling a cotangent back to every input. */
export interface VjpResult {
  /** f at the inputs. */
  value: Tensor;
  /** The pullback: a cotangent of `value`'s shape to one gradient per input. */
  vjp: (cotangent: Tensor) => Tensor[];
}

/**
 * Evaluates `f` at `xs` and returns a function computing vᵀ·J for a cotangent v (like `jax.vjp`).
 * The tape lives until the pullback is called, so call it before the enclosing tidy() ends.
 * @example
 * const { value, vjp: pullback } = vjp((a, b) => a.mul(b), x, y);
 * const [dx, dy] = pullback(onesLike(value));
 */
export function vjp(f: (...xs: Tensor[]) => Tensor, ...xs: Tensor[]): VjpResult {
  const record = outerRecording();
  const ins = xs.map((x) => enter(x, record));
  const value = traced(() => f(...ins));
  return {
    value,
    vjp: (cotangent) => gradients([value], ins, { gradOutputs: [cotangent], createGraph: record || outerRecording() }),
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
