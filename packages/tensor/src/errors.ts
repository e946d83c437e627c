// One error type for every bad input: the message names the function and what was wrong.

/**
 * The error thrown for bad input anywhere in the framework. Its message starts with the name of
 * the function that refused the input.
 * @example
 * try { a.matmul(b); } catch (e) { if (e instanceof SamError) console.log(e.fn, e.message); }
 */
export class SamError extends Error {
  /** The function that refused its input. */
  readonly fn: string;
  constructor(fn: string, message: string) {
    super(`${fn}: ${message}`);
    this.name = "SamError";
    this.fn = fn;
  }
}

/**
 * Throws a {@link SamError} naming `fn` unless `condition` holds.
 * @example
 * check(axis < rank, "sum", () => `axis ${axis} is out of range for rank ${rank}`);
 */
export function check(condition: unknown, fn: string, message: () => string): asserts condition {
  if (!condition) throw new SamError(fn, message());
}

/** Formats a shape the way error messages show it: `[2,3]`. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}
