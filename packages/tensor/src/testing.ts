// Closeness checks for tests, as torch.testing.assert_close: one place that says what "close" means
// and names the element that is not.
import { SamError, fmt } from "./errors.js";
import { Tensor } from "./tensor.js";

/** How close {@link assertClose} requires values to be. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
  /**
   * What rtol is relative to: each expected element (`"element"`, the default, as PyTorch) or the
   * largest expected magnitude (`"largest"`, for sums whose small elements carry the large ones'
   * rounding).
   */
  relativeTo?: "element" | "largest";
  /** Count NaN as equal to NaN (default false). */
  equalNan?: boolean;
  /** Names what is compared, in the error. */
  name?: string;
}

async function valuesOf(x: Tensor | ArrayLike<number>): Promise<ArrayLike<number>> {
  return x instanceof Tensor ? x.data() : x;
}

/**
 * Throws unless every element satisfies |actual − expected| ≤ atol + rtol·|expected| (or rtol times
 * the largest |expected|), with the shapes equal when both are tensors. The error names the first
 * element that is not close, how many are not, and the largest difference.
 * @example
 * await assertClose(model.forward(x), expected, { rtol: 1e-4, atol: 1e-6 });
 */
export async function assertClose(actual: Tensor | ArrayLike<number>, expected: Tensor | ArrayLike<number>, opts: CloseOptions = {}): Promise<void> {
  if (actual instanceof Tensor && expected instanceof Tensor && fmt(actual.shape) !== fmt(expected.shape)) {
    throw new SamError(`assertClose (${opts.name ?? "values"})`, `shapes differ: got ${fmt(actual.shape)}, expected ${fmt(expected.shape)}`);
  }
  assertCloseSync(await valuesOf(actual), await valuesOf(expected), opts);
}

/**
 * {@link assertClose} on values already read (such as `dataSync()`), without waiting.
 * @example
 * assertCloseSync(y.dataSync(), reference.dataSync(), { atol: 1e-5 });
 */
export function assertCloseSync(a: ArrayLike<number>, e: ArrayLike<number>, opts: CloseOptions = {}): void {
  const { rtol = 1e-5, atol = 1e-8, relativeTo = "element", equalNan = false, name = "values" } = opts;
  const what = `assertClose (${name})`;
  if (a.length !== e.length) throw new SamError(what, `got ${a.length} elements, expected ${e.length}`);
  let largest = 0;
  for (let i = 0; i < e.length; i++) largest = Math.max(largest, Math.abs(e[i]));
  let [first, count, worst, worstAt] = [-1, 0, 0, -1];
  for (let i = 0; i < e.length; i++) {
    const [x, y] = [a[i], e[i]];
    const bothNan = Number.isNaN(x) && Number.isNaN(y);
    const bound = atol + rtol * (relativeTo === "largest" ? largest : Math.abs(y));
    const diff = Math.abs(x - y);
    if ((bothNan && equalNan) || diff <= bound || (x === y && !Number.isNaN(x))) continue;
    count++;
    if (first < 0) first = i;
    if (!(diff <= worst)) [worst, worstAt] = [diff, i];
  }
  if (count === 0) return;
  const bound = atol + rtol * (relativeTo === "largest" ? largest : Math.abs(e[first]));
  throw new SamError(what, `element ${first} is ${a[first]} where ${e[first]} was expected (allowed difference ${bound.toPrecision(3)}); `
    + `${count} of ${e.length} elements differ, the largest by ${worst} at element ${worstAt}`);
}
