// The pointwise kernel: the program turned into one WGSL expression per operation, its constants
// read from the meta words, so programs that differ only in their constants share a shader.
import { firstWithAxes, parsePointwise, pointwiseParts, sizeOf, type BackendTensor, type Kernel, type PointwiseBinary, type PointwiseUnary } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { wgslType } from "../buffers.js";
import { bindings, elementGrid, f32Bits, gpu, grid, perElement } from "../wgsl.js";
import { sumOver } from "./reduce.js";

const BINARY: Record<PointwiseBinary, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`, sub: (a, b) => `${a} - ${b}`, mul: (a, b) => `${a} * ${b}`, div: (a, b) => `${a} / ${b}`,
  max: (a, b) => `max(${a}, ${b})`, min: (a, b) => `min(${a}, ${b})`,
};
const UNARY: Record<PointwiseUnary, (a: string) => string> = { neg: (a) => `-${a}`, sqrt: (a) => `sqrt(${a})`, abs: (a) => `abs(${a})`, sign: (a) => `sign(${a})` };

/** `program` as WGSL function `name` of the element index: one `let` per operation, the last one returned. */
function valueFn(name: string, program: string, inputs: readonly { shape: readonly number[] }[], scalars: number, type: string): string {
  // every input is bound, so every one is referenced, used or not (a layout derived from the
  // shader leaves out bindings it never touches)
  const lines: string[] = inputs.map((_, k) => `  _ = &x${k};`);
  let temps = 0;
  const stack: string[] = [];
  for (const t of parsePointwise(program, inputs.length, scalars)) {
    // a 0-d input is one value for every element
    if (t.kind === "input") stack.push(inputs[t.index].shape.length === 0 ? `x${t.index}[0]` : `x${t.index}[i]`);
    else if (t.kind === "scalar") stack.push(`bitcast<f32>(dims[${1 + t.index}u])`);
    else {
      const value = t.kind === "unary" ? UNARY[t.op](stack.pop()!) : ((b, a) => BINARY[t.op](a, b))(stack.pop()!, stack.pop()!);
      const name = `t${temps++}`;
      lines.push(`  let ${name} = ${value};`);
      stack.push(name);
    }
  }
  lines.push(`  return ${stack[0]};`);
  return `fn ${name}(i: u32) -> ${type} {\n${lines.join("\n")}\n}`;
}

/** Shaders by what they depend on (the program, which inputs are 0-d, the dtypes): written once, not per launch. */
const shaders = new Map<string, string>();

function shader(kind: "each" | "sum", inputs: readonly BackendTensor[], out: BackendTensor, program: string, scalars: number): string {
  const key = `${kind} ${out.dtype} ${inputs.map((t) => `${t.dtype}${t.shape.length === 0 ? "·" : ""}`).join(",")} ${scalars} ${program}`;
  let code = shaders.get(key);
  if (code === undefined) {
    const t = wgslType(out.dtype);
    const parts = pointwiseParts(program); // a stacked program writes row j of the output from its expression j
    code = `${bindings(inputs.map((x, k) => [`x${k}`, x.dtype] as const), ["out", out.dtype])}
${parts.map((part, j) => valueFn(`value${j}`, part, inputs, scalars, t)).join("\n")}
${kind === "each" ? perElement(parts.map((_, j) => `  out[${j}u * dims[0] + i] = value${j}(i);`).join("\n")) : sumOver("value0(j)")}`;
    shaders.set(key, code);
  }
  return code;
}

export function pointwiseKernel(stream: CommandStream): Kernel<"pointwise"> {
  return (inputs, out, { program, scalars }) => {
    const n = sizeOf(out.shape) / pointwiseParts(program).length; // elements of each row
    if (n === 0) return;
    const code = shader("each", inputs, out, program, scalars.length);
    stream.run({ code, buffers: [...inputs.map(gpu), gpu(out)], meta: [n, ...scalars.map(f32Bits)], grid: elementGrid(n) });
  };
}

/** Σ value(i) as the sum kernel adds (threads striding over the elements, then a tree), so it equals pointwise then sum. */
export function pointwiseSumKernel(stream: CommandStream): Kernel<"pointwiseSum"> {
  return (inputs, out, { program, scalars }) => {
    const n = sizeOf(firstWithAxes(inputs).shape);
    const code = shader("sum", inputs, out, program, scalars.length);
    stream.run({ code, buffers: [...inputs.map(gpu), gpu(out)], meta: [n, ...scalars.map(f32Bits)], grid: grid(1) });
  };
}
