// The pointwise kernel: the program turned into one WGSL expression per operation, its constants
// read from the meta words, so programs that differ only in their constants share a shader.
import { parsePointwise, sizeOf, type Kernel, type PointwiseBinary, type PointwiseUnary } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { bindings, elementGrid, f32Bits, gpu, perElement } from "../wgsl.js";

const BINARY: Record<PointwiseBinary, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`, sub: (a, b) => `${a} - ${b}`, mul: (a, b) => `${a} * ${b}`, div: (a, b) => `${a} / ${b}`,
  max: (a, b) => `max(${a}, ${b})`, min: (a, b) => `min(${a}, ${b})`,
};
const UNARY: Record<PointwiseUnary, (a: string) => string> = { neg: (a) => `-${a}`, sqrt: (a) => `sqrt(${a})`, abs: (a) => `abs(${a})`, sign: (a) => `sign(${a})` };

/** The WGSL body of `program`: one `let` per operation, the last one stored. */
function body(program: string, inputs: readonly { shape: readonly number[] }[], scalars: number): string {
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
  lines.push(`  out[i] = ${stack[0]};`);
  return lines.join("\n");
}

export function pointwiseKernel(stream: CommandStream): Kernel<"pointwise"> {
  return (inputs, out, { program, scalars }) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const code = `${bindings(inputs.map((t, k) => [`x${k}`, t.dtype] as const), ["out", out.dtype])}
${perElement(body(program, inputs, scalars.length))}`;
    stream.run({ code, buffers: [...inputs.map(gpu), gpu(out)], meta: [n, ...scalars.map(f32Bits)], grid: elementGrid(n) });
  };
}
