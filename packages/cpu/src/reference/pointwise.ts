// The pointwise kernel by definition: the program evaluated operation by operation over whole
// arrays of the output's dtype, so every intermediate rounds as the separate tensor op would.
import { parsePointwise, type Kernel, type PointwiseBinary, type PointwiseUnary } from "@sam/tensor";
import { dataOf } from "../storage.js";

type Values = Float32Array | Float64Array;
type Operand = Values | number;

const BINARY: Record<PointwiseBinary, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, max: Math.max, min: Math.min,
};
const UNARY: Record<PointwiseUnary, (a: number) => number> = { neg: (a) => -a, sqrt: Math.sqrt, abs: Math.abs };

/** `program` over the inputs, into the output. */
export const pointwise: Kernel<"pointwise"> = (inputs, out, { program, scalars }) => {
  const o = dataOf(out) as Values;
  const n = o.length;
  if (n === 0) return;
  const fresh = (): Values => (o instanceof Float32Array ? new Float32Array(n) : new Float64Array(n));
  // a constant rounds to the dtype first, as a number operand of a tensor op does
  const round = o instanceof Float32Array ? Math.fround : (v: number) => v;
  const stack: Operand[] = [];
  for (const t of parsePointwise(program, inputs.length, scalars.length)) {
    // a 0-d input is one value for every element
    if (t.kind === "input") stack.push(inputs[t.index].shape.length === 0 ? (dataOf(inputs[t.index]) as Values)[0] : dataOf(inputs[t.index]) as Values);
    else if (t.kind === "scalar") stack.push(round(scalars[t.index]));
    else if (t.kind === "unary") {
      const a = stack.pop()!;
      const f = UNARY[t.op];
      if (typeof a === "number") stack.push(round(f(a)));
      else {
        const r = fresh();
        for (let i = 0; i < n; i++) r[i] = f(a[i]);
        stack.push(r);
      }
    } else {
      const b = stack.pop()!;
      const a = stack.pop()!;
      const f = BINARY[t.op];
      if (typeof a === "number" && typeof b === "number") {
        stack.push(round(f(a, b)));
        continue;
      }
      const r = fresh();
      if (typeof a === "number") for (let i = 0; i < n; i++) r[i] = f(a, (b as Values)[i]);
      else if (typeof b === "number") for (let i = 0; i < n; i++) r[i] = f(a[i], b);
      else for (let i = 0; i < n; i++) r[i] = f(a[i], b[i]);
      stack.push(r);
    }
  }
  const result = stack[0];
  if (typeof result === "number") o.fill(result);
  else o.set(result);
};
