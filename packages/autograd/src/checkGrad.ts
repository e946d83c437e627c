// Gradient checking: autograd against central finite differences, in float64.
import { check, Generator, randn, tidy, tensor, type Tensor } from "@sam/tensor";
import { vjp } from "./transforms.js";

/** Tolerances and the seed of the random projection. */
export interface CheckGradOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Seed of the random cotangent that projects a tensor output to a scalar (default 0). */
  seed?: number;
}

/** The outcome of a gradient check. */
export interface CheckGradResult {
  /** Whether every element agreed within `atol + rtol·|numeric|`. */
  ok: boolean;
  /** The largest |analytic − numeric| over all elements. */
  maxAbsError: number;
  /** Where the largest violation of the tolerance was. */
  worst: GradMismatch | null;
}

/** One element's two gradients. */
export interface GradMismatch {
  /** Which input. */
  input: number;
  /** The flat index within it. */
  index: number;
  /** The gradient from the tape. */
  analytic: number;
  /** The central finite difference. */
  numeric: number;
}

/**
 * Compares the autograd gradient of `f` at `inputs` with central finite differences of
 * L = Σ f(inputs)·v for a random v. Inputs must be float64.
 * @example
 * const r = await checkGrad((x) => x.tanh(), [randn([3], { dtype: "float64" })]);
 * r.ok; // true
 */
export async function checkGrad(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: CheckGradOptions = {}): Promise<CheckGradResult> {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-5, seed = 0 } = opts;
  for (const x of inputs) check(x.dtype === "float64", "checkGrad", () => `inputs must be float64, got ${x.dtype}`);
  const values = await Promise.all(inputs.map((x) => x.data()));
  const shapes = inputs.map((x) => [...x.shape]);
  const leaves = () => values.map((v, i) => tensor(v, { shape: shapes[i], dtype: "float64" }));

  const outShape = tidy(() => [...f(...leaves()).shape]);
  const v = randn(outShape, { dtype: "float64", generator: new Generator(seed) });
  const loss = (xs: Tensor[]) => f(...xs).mul(v).sum();
  const evaluate = async (xs: Tensor[]) => {
    const l = tidy(() => loss(xs));
    const value = await l.item();
    l.dispose();
    xs.forEach((x) => x.dispose());
    return value;
  };

  const analytic = await Promise.all(
    tidy(() => {
      const { value, vjp: pull } = vjp((...xs) => f(...xs), ...leaves());
      return pull(v.reshape(value.shape));
    }).map(async (g) => {
      const d = await g.data();
      g.dispose();
      return d;
    }),
  );

  let maxAbsError = 0;
  let worst: CheckGradResult["worst"] = null;
  let worstExcess = -Infinity;
  for (let input = 0; input < values.length; input++) {
    for (let index = 0; index < values[input].length; index++) {
      const shifted = async (delta: number) => {
        const xs = leaves();
        const data = Float64Array.from(values[input]);
        data[index] += delta;
        xs[input].dispose();
        xs[input] = tensor(data, { shape: shapes[input], dtype: "float64" });
        return evaluate(xs);
      };
      const numeric = ((await shifted(eps)) - (await shifted(-eps))) / (2 * eps);
      const a = analytic[input][index];
      const err = Math.abs(a - numeric);
      maxAbsError = Math.max(maxAbsError, Number.isNaN(err) ? Infinity : err);
      const excess = Number.isNaN(err) ? Infinity : err - (atol + rtol * Math.abs(numeric));
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = { input, index, analytic: a, numeric };
      }
    }
  }
  v.dispose();
  return { ok: worstExcess <= 0, maxAbsError, worst };
}
