// Elementwise kernels from one template, fed by a table of WGSL expressions in `a` (and `b`):
// unary ops, binary ops and comparisons with broadcasting, where, and cast.
import {
  broadcastStrides, sizeOf, type BackendTensor, type BinaryOp, type CompareOp, type DType, type Kernel, type UnaryOp,
} from "@sam/tensor";
import { wgslType } from "../buffers.js";
import type { CommandStream } from "../stream.js";
import { bindings, elementGrid, gpu, perElement, stridedOffsets } from "../wgsl.js";

const FLOAT_UNARY: Record<UnaryOp, string> = {
  neg: "-a",
  abs: "abs(a)",
  sign: "sign(a)",
  exp: "exp(a)",
  log: "log(a)",
  sqrt: "sqrt(a)",
  sin: "sin(a)",
  cos: "cos(a)",
  // tanh(±10) is ±1 in float32; clamping keeps exp-based implementations from overflowing.
  tanh: "tanh(clamp(a, -10.0, 10.0))",
  sigmoid: "1.0 / (1.0 + exp(-a))",
  relu: "select(a, 0.0, a <= 0.0)",
};

const INT_UNARY: Partial<Record<UnaryOp, string>> = { neg: "-a", abs: "abs(a)", sign: "sign(a)", relu: "max(a, 0)" };

const BINARY: Record<BinaryOp, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "power(a, b)",
  maximum: "max(a, b)",
  minimum: "min(a, b)",
  reluMask: "select(0.0, a, b > 0.0)",
};

const COMPARE: Record<CompareOp, string> = { eq: "a == b", ne: "a != b", lt: "a < b", le: "a <= b", gt: "a > b", ge: "a >= b" };

/**
 * WGSL's pow is exp2(b·log2 a), undefined for a ≤ 0; this one follows Math.pow on the sign, and is
 * exact for the common small integer powers. Infinity and NaN come from arithmetic at run time
 * (WGSL constant expressions must be finite).
 */
const POWER = `
fn power(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (b == 1.0) { return a; }
  if (b == 2.0) { return a * a; }
  if (a == 0.0) { return select(0.0, 1.0 / a, b < 0.0); }
  let m = exp2(b * log2(abs(a)));
  if (a > 0.0) { return m; }
  if (floor(b) != b) { return (a - a) / (a - a); }
  return select(m, -m, abs(b) % 2.0 == 1.0);
}`;

/** A kernel applying unary op `op` to every element. */
export function unaryKernel(stream: CommandStream, op: UnaryOp): Kernel<UnaryOp> {
  return ([x], out) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const expr = x.dtype === "float32" ? FLOAT_UNARY[op] : INT_UNARY[op];
    const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
${perElement(`  let a = x[i];\n  out[i] = ${expr};`)}`;
    stream.run({ code, buffers: [gpu(x), gpu(out)], meta: [n], grid: elementGrid(n) });
  };
}

/**
 * A kernel computing `expr` of several inputs broadcast to the output: input k is read at its own
 * strided offset, named `a`, `b`, `c` in `expr`.
 */
function broadcastKernel(stream: CommandStream, inputs: readonly BackendTensor[], out: BackendTensor, expr: string, helpers = ""): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const rank = out.shape.length;
  const names = ["a", "b", "c"].slice(0, inputs.length);
  const strides = inputs.map((t) => broadcastStrides(t.shape, out.shape));
  const meta = [n, ...out.shape, ...strides.flat()];
  const offsets = stridedOffsets("i", rank, 1, names.map((name, k) => [`o${name}`, 1 + rank * (k + 1)]));
  const loads = names.map((name) => `  let ${name} = in${name}[o${name}];`).join("\n");
  const code = `${bindings(names.map((name, k) => [`in${name}`, inputs[k].dtype]), ["out", out.dtype])}
${helpers}
${perElement(`${offsets}\n${loads}\n  out[i] = ${expr};`)}`;
  stream.run({ code, buffers: [...inputs.map(gpu), gpu(out)], meta, grid: elementGrid(n) });
}

/** A kernel applying binary op `op` to every pair of broadcast elements. */
export function binaryKernel(stream: CommandStream, op: BinaryOp): Kernel<BinaryOp> {
  return (inputs, out) => broadcastKernel(stream, inputs, out, BINARY[op], op === "pow" ? POWER : "");
}

/** A kernel comparing every pair of broadcast elements; the result is 0 or 1. */
export function compareKernel(stream: CommandStream, op: CompareOp): Kernel<CompareOp> {
  return (inputs, out) => broadcastKernel(stream, inputs, out, `select(0u, 1u, ${COMPARE[op]})`);
}

/** where(cond, a, b), all three broadcast to the output. */
export function whereKernel(stream: CommandStream): Kernel<"where"> {
  return (inputs, out) => broadcastKernel(stream, inputs, out, "select(c, b, a != 0u)");
}

/** The WGSL conversion of a value `a` of dtype `from` to dtype `to` (bool is `a ≠ 0`). */
function conversion(from: DType, to: DType): string {
  if (from === to) return "a";
  if (to === "bool") return `select(0u, 1u, a != ${wgslType(from)}(0))`;
  return `${wgslType(to)}(a)`;
}

/** Converts between dtypes: float to int32 truncates toward zero. */
export function castKernel(stream: CommandStream): Kernel<"cast"> {
  return ([x], out) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
${perElement(`  let a = x[i];\n  out[i] = ${conversion(x.dtype, out.dtype)};`)}`;
    stream.run({ code, buffers: [gpu(x), gpu(out)], meta: [n], grid: elementGrid(n) });
  };
}
