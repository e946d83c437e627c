// Scopes: tidy() frees every tensor made inside it that it does not return; keep() exempts one;
// hold() keeps all of them, results and intermediates alike, until its owner frees them together.
import { SamError } from "./errors.js";
import { Tensor } from "./tensor.js";

const scopes: Set<Tensor>[] = [];

/** A value tidy() can return: tensors, possibly inside arrays and plain objects. */
export type TensorContainer = Tensor | number | string | boolean | null | undefined | void | readonly TensorContainer[] | { [key: string]: TensorContainer };

/** Registers a new tensor with the innermost scope. */
export function track(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

function collect(value: unknown, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, into);
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into);
  }
}

/**
 * Runs `fn` and frees every tensor created inside it, except those it returns and those passed to
 * {@link keep}. Returned tensors belong to the enclosing scope. `fn` must be synchronous: a scope
 * cannot span an `await`.
 * @example
 * const loss = tidy(() => model(x).sub(y).square().mean());
 */
export function tidy<T extends TensorContainer>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new SamError("tidy", "the function returned a Promise; a scope cannot span an await");
    }
    return result;
  } finally {
    scopes.pop();
    const survivors = new Set<Tensor>();
    collect(result, survivors);
    for (const t of scope) {
      if (survivors.has(t)) track(t);
      else if (!t.kept) t.dispose();
    }
  }
}

/** Tensors made by {@link hold}, kept together until {@link Held.dispose}. */
export interface Held<T> {
  /** What the function returned. */
  readonly value: T;
  /** Frees every tensor the function made (except those passed to keep()); later calls do nothing. */
  dispose(): void;
}

/**
 * Runs `fn` and keeps every tensor created inside it — its result and everything the result was
 * computed from, such as a gradient graph's saved activations — out of every enclosing scope,
 * until `dispose()` frees them together. `fn` must be synchronous.
 * @example
 * const graph = hold(() => gradients([loss(model.forward(x))], params, { createGraph: true }));
 * // … differentiate graph.value as often as needed …
 * graph.dispose();
 */
export function hold<T extends TensorContainer>(fn: () => T): Held<T> {
  const scope = new Set<Tensor>();
  const free = () => {
    for (const t of scope) if (!t.kept) t.dispose();
    scope.clear();
  };
  scopes.push(scope);
  let value: T;
  try {
    value = fn();
  } catch (e) {
    free();
    throw e;
  } finally {
    scopes.pop();
  }
  if (value instanceof Promise) {
    free();
    throw new SamError("hold", "the function returned a Promise; a scope cannot span an await");
  }
  return { value, dispose: free };
}

/**
 * Exempts a tensor from every enclosing and future tidy(): it lives until disposed.
 * @example
 * const w = tidy(() => keep(randn([3, 3])));
 */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

/**
 * Frees tensors now (anything tidy() could return).
 * @example
 * dispose([a, b]);
 */
export function dispose(value: TensorContainer): void {
  const found = new Set<Tensor>();
  collect(value, found);
  for (const t of found) t.dispose();
}
