// The pointwise kernel by definition: the program evaluated operation by operation over whole
// arrays of the output's dtype, so every intermediate rounds as the separate tensor op would. Each
// operation is its own loop with the arithmetic written inline, and writes over an intermediate
// it consumes where it can, so a long program allocates at most a few arrays.
import { firstWithAxes, parsePointwise, pointwiseParts, typedArrayFor, type BackendTensor, type Kernel, type PointwiseBinary, type PointwiseUnary } from "@sam/tensor";
import { dataOf } from "../storage.js";
import { reduceKernel } from "./reduce.js";

type Values = Float32Array | Float64Array;
/** A stack entry: a constant, an input (read only), or an intermediate (ours to overwrite). */
type Operand = number | { values: Values; own: boolean };

const SCALAR_BINARY: Record<PointwiseBinary, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, max: Math.max, min: Math.min,
};
const SCALAR_UNARY: Record<PointwiseUnary, (a: number) => number> = { neg: (a) => -a, sqrt: Math.sqrt, abs: Math.abs, sign: Math.sign };

function unary(op: PointwiseUnary, a: Values, r: Values): void {
  const n = r.length;
  switch (op) {
    case "neg": for (let i = 0; i < n; i++) r[i] = -a[i]; break;
    case "sqrt": for (let i = 0; i < n; i++) r[i] = Math.sqrt(a[i]); break;
    case "abs": for (let i = 0; i < n; i++) r[i] = Math.abs(a[i]); break;
    case "sign": for (let i = 0; i < n; i++) r[i] = Math.sign(a[i]); break;
  }
}

/** r = a op b over arrays. */
function both(op: PointwiseBinary, a: Values, b: Values, r: Values): void {
  const n = r.length;
  switch (op) {
    case "add": for (let i = 0; i < n; i++) r[i] = a[i] + b[i]; break;
    case "sub": for (let i = 0; i < n; i++) r[i] = a[i] - b[i]; break;
    case "mul": for (let i = 0; i < n; i++) r[i] = a[i] * b[i]; break;
    case "div": for (let i = 0; i < n; i++) r[i] = a[i] / b[i]; break;
    case "max": for (let i = 0; i < n; i++) r[i] = Math.max(a[i], b[i]); break;
    case "min": for (let i = 0; i < n; i++) r[i] = Math.min(a[i], b[i]); break;
  }
}

/** r = a op s, or s op a when `flipped`. */
function withScalar(op: PointwiseBinary, a: Values, s: number, flipped: boolean, r: Values): void {
  const n = r.length;
  switch (op) {
    case "add": for (let i = 0; i < n; i++) r[i] = a[i] + s; break;
    case "mul": for (let i = 0; i < n; i++) r[i] = a[i] * s; break;
    case "max": for (let i = 0; i < n; i++) r[i] = Math.max(a[i], s); break;
    case "min": for (let i = 0; i < n; i++) r[i] = Math.min(a[i], s); break;
    case "sub":
      if (flipped) for (let i = 0; i < n; i++) r[i] = s - a[i];
      else for (let i = 0; i < n; i++) r[i] = a[i] - s;
      break;
    case "div":
      if (flipped) for (let i = 0; i < n; i++) r[i] = s / a[i];
      else for (let i = 0; i < n; i++) r[i] = a[i] / s;
      break;
  }
}

/** `program` over the inputs, into the output: each expression of a stacked program into its row. */
export const pointwise: Kernel<"pointwise"> = (inputs, out, { program, scalars }) => {
  const o = dataOf(out) as Values;
  const parts = pointwiseParts(program);
  const n = o.length / parts.length;
  parts.forEach((part, j) => evaluate(part, inputs, scalars, o.subarray(j * n, (j + 1) * n)));
};

/** One expression over the inputs, into `o`. */
function evaluate(program: string, inputs: readonly BackendTensor[], scalars: readonly number[], o: Values): void {
  const n = o.length;
  if (n === 0) return;
  const fresh = (): Values => (o instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  // a constant rounds to the dtype first, as a number operand of a tensor op does
  const round = o instanceof Float32Array ? Math.fround : (v: number) => v;
  /** Where an operation on a and b writes: over an intermediate it consumes, else a new array. */
  const target = (...xs: Operand[]): Values => {
    for (const x of xs) if (typeof x !== "number" && x.own) return x.values;
    return fresh();
  };
  const stack: Operand[] = [];
  for (const t of parsePointwise(program, inputs.length, scalars.length)) {
    if (t.kind === "input") {
      // a 0-d input is one value for every element
      const v = dataOf(inputs[t.index]) as Values;
      stack.push(inputs[t.index].shape.length === 0 ? v[0] : { values: v, own: false });
    } else if (t.kind === "scalar") {
      stack.push(round(scalars[t.index]));
    } else if (t.kind === "unary") {
      const a = stack.pop()!;
      if (typeof a === "number") {
        stack.push(round(SCALAR_UNARY[t.op](a)));
        continue;
      }
      const r = target(a);
      unary(t.op, a.values, r);
      stack.push({ values: r, own: true });
    } else {
      const b = stack.pop()!;
      const a = stack.pop()!;
      if (typeof a === "number" && typeof b === "number") {
        stack.push(round(SCALAR_BINARY[t.op](a, b)));
        continue;
      }
      const r = target(a, b);
      if (typeof a === "number") withScalar(t.op, (b as { values: Values }).values, a, true, r);
      else if (typeof b === "number") withScalar(t.op, a.values, b, false, r);
      else both(t.op, a.values, b.values, r);
      stack.push({ values: r, own: true });
    }
  }
  const result = stack[0];
  if (typeof result === "number") o.fill(result);
  else o.set(result.values);
}

const sum = reduceKernel("sum");

/** pointwise into a scratch array, then the sum kernel over it: the same summation as the two ops. */
export const pointwiseSum: Kernel<"pointwiseSum"> = (inputs, out, params) => {
  const shape = firstWithAxes(inputs).shape;
  const scratch = { handle: { data: typedArrayFor(out.dtype, shape.reduce((a, b) => a * b, 1)) }, shape, dtype: out.dtype };
  pointwise(inputs, scratch, params);
  sum([scratch], out, { axes: shape.map((_, i) => i), keepDims: false });
};
