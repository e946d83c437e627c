// Scopes: tidy() frees every tensor made inside it that it does not return; keep() exempts one.
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
