// The pointwise kernel as one loop: each expression compiled once into a JavaScript function that
// computes every element in a single pass, rounding each operation's result to the output's dtype
// (Math.fround for float32) as the reference's operation-by-operation passes do. An f32 operation
// computed in float64 and rounded once equals the float32 operation (float64 carries more than
// twice float32's precision), so the results are the reference's bit for bit, without its
// intermediate arrays. Where the engine refuses to compile code (a page's content security policy),
// the reference runs.
import { parsePointwise, pointwiseParts, type BackendTensor, type Kernel, type PointwiseBinary, type PointwiseUnary, type TypedArray } from "@sam/tensor";
import * as reference from "../reference/pointwise.js";
import { dataOf } from "../storage.js";

/** A compiled expression: the inputs' arrays (a 0-d input's single value read from its array), the rounded constants, the output. */
type Compiled = (inputs: TypedArray[], constants: number[], out: TypedArray) => void;

const BINARY: Record<PointwiseBinary, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`, sub: (a, b) => `${a} - ${b}`, mul: (a, b) => `${a} * ${b}`, div: (a, b) => `${a} / ${b}`,
  max: (a, b) => `Math.max(${a}, ${b})`, min: (a, b) => `Math.min(${a}, ${b})`,
};
const UNARY: Record<PointwiseUnary, (a: string) => string> = {
  neg: (a) => `-${a}`, sqrt: (a) => `Math.sqrt(${a})`, abs: (a) => `Math.abs(${a})`, sign: (a) => `Math.sign(${a})`,
};

/** Compiled expressions by dtype, which inputs are 0-d, and program; null where compiling is refused. */
const compiled = new Map<string, Compiled | null>();

function compile(program: string, scalars: number, wholeInputs: boolean[], float32: boolean): Compiled | null {
  const key = `${float32 ? "f32" : "f64"} ${wholeInputs.map((w) => (w ? 1 : 0)).join("")} ${program}`;
  if (compiled.has(key)) return compiled.get(key)!;
  const round = (e: string) => (float32 ? `F(${e})` : `(${e})`);
  const stack: string[] = [];
  for (const t of parsePointwise(program, wholeInputs.length, scalars)) {
    if (t.kind === "input") stack.push(wholeInputs[t.index] ? `x${t.index}[i]` : `v${t.index}`);
    else if (t.kind === "scalar") stack.push(`c${t.index}`);
    else if (t.kind === "unary") stack.push(round(UNARY[t.op](stack.pop()!)));
    else {
      const b = stack.pop()!;
      stack.push(round(BINARY[t.op](stack.pop()!, b)));
    }
  }
  const reads = wholeInputs.map((whole, k) => (whole ? `const x${k} = xs[${k}];` : `const v${k} = xs[${k}][0];`)).join(" ");
  const constants = Array.from({ length: scalars }, (_, k) => `const c${k} = cs[${k}];`).join(" ");
  const body = `const F = Math.fround; ${reads} ${constants} const n = o.length; for (let i = 0; i < n; i++) o[i] = ${stack[0]};`;
  let fn: Compiled | null;
  try {
    fn = new Function("xs", "cs", "o", body) as Compiled;
  } catch {
    fn = null;
  }
  compiled.set(key, fn);
  return fn;
}

/** `program` over the inputs, into the output: each expression of a stacked program into its row. */
export const pointwise: Kernel<"pointwise"> = (inputs, out, params) => {
  const o = dataOf(out);
  const float32 = o instanceof Float32Array;
  if (!float32 && !(o instanceof Float64Array)) return reference.pointwise(inputs, out, params);
  const parts = pointwiseParts(params.program);
  const whole = inputs.map((x: BackendTensor) => x.shape.length > 0);
  const fns = parts.map((part) => compile(part, params.scalars.length, whole, float32));
  if (fns.some((f) => f === null)) return reference.pointwise(inputs, out, params);
  // a constant rounds to the dtype first, as a number operand of a tensor op does
  const constants = params.scalars.map((c) => (float32 ? Math.fround(c) : c));
  const arrays = inputs.map((x) => dataOf(x));
  const n = o.length / parts.length;
  fns.forEach((f, j) => f!(arrays, constants, o.subarray(j * n, (j + 1) * n)));
};
