// Reductions: one workgroup per output element; its threads stride over the reduced elements and
// combine their partial results in workgroup memory.
import { sizeOf, stridesOf, type ArgReduceOp, type BackendTensor, type Kernel, type ReduceOp } from "@sam/tensor";
import { wgslType } from "../buffers.js";
import type { CommandStream } from "../stream.js";
import { bindings, gpu, grid, stridedOffsets } from "../wgsl.js";

const THREADS = 64;

function entry(body: string): string {
  return `@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let o = wid.x + wid.y * groups.x;
  if (o >= dims[0]) { return; }
${body}
}`;
}

/** Meta words and WGSL helpers splitting `x` into kept axes (one workgroup each) and reduced axes. */
function offsetFn(x: BackendTensor, axes: readonly number[]): { meta: number[]; nOut: number; code: string } {
  const strides = stridesOf(x.shape);
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const k = kept.length;
  const r = axes.length;
  const meta = [
    sizeOf(kept.map((i) => x.shape[i])), sizeOf(axes.map((i) => x.shape[i])),
    ...kept.map((i) => x.shape[i]), ...kept.map((i) => strides[i]),
    ...axes.map((i) => x.shape[i]), ...axes.map((i) => strides[i]),
  ];
  const code = `
fn baseOffset(o: u32) -> u32 {
${stridedOffsets("o", k, 2, [["base", 2 + k]])}
  return base;
}
fn reducedOffset(j: u32) -> u32 {
${stridedOffsets("j", r, 2 + 2 * k, [["at", 2 + 2 * k + r]])}
  return at;
}`;
  return { meta, nOut: meta[0], code };
}

/** Where each thread's partial result starts: max and min start from the first reduced element
 * (never empty for them), which needs no infinity constant (WGSL's constants must be finite). */
const START = { sum: (t: string) => `${t}(0)`, max: () => "x[base]", min: () => "x[base]" } as const;

const COMBINE = { sum: "p + q", max: "max(p, q)", min: "min(p, q)" } as const;

/**
 * The lines folding `load(j)` for j in [0, count) into `partial[0]`: each of the workgroup's
 * threads strides over the elements, then the threads' results meet in a tree.
 */
function foldLines(t: string, start: string, combine: (p: string, q: string) => string, load: string, count: string): string {
  return `  var acc: ${t} = ${start};
  for (var j = lid.x; j < ${count}; j += ${THREADS}u) {
    acc = ${combine("acc", load)};
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var step = ${THREADS / 2}u; step > 0u; step = step / 2u) {
    if (lid.x < step) { partial[lid.x] = ${combine("partial[lid.x]", "partial[lid.x + step]")}; }
    workgroupBarrier();
  }`;
}

/** A one-workgroup shader summing `load` (an f32 expression of j) for j below dims[0] into out[0], in the order the sum kernel adds. */
export function sumOver(load: string): string {
  return `var<workgroup> partial: array<f32, ${THREADS}>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_id) lid: vec3u) {
${foldLines("f32", "f32(0)", (p, q) => `${p} + ${q}`, load, "dims[0]")}
  if (lid.x == 0u) { out[0] = partial[0]; }
}`;
}

/** A kernel reducing over `params.axes` with `op`. */
export function reduceKernel(stream: CommandStream, op: ReduceOp): Kernel<ReduceOp> {
  return ([x], out, { axes }) => {
    const { meta, nOut, code: helpers } = offsetFn(x, axes);
    if (nOut === 0) return;
    const t = wgslType(x.dtype) as "f32" | "i32";
    const combine = (p: string, q: string) => COMBINE[op].replace("p", p).replace("q", q);
    const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
var<workgroup> partial: array<${t}, ${THREADS}>;
${helpers}
${entry(`  let base = baseOffset(o);
${foldLines(t, START[op](t), combine, "x[base + reducedOffset(j)]", "dims[1]")}
  if (lid.x == 0u) { out[o] = partial[0]; }`)}`;
    stream.run({ code, buffers: [gpu(x), gpu(out)], meta, grid: grid(nOut) });
  };
}

/** A kernel giving the index of the first extreme value along `params.axis`. */
export function argReduceKernel(stream: CommandStream, op: ArgReduceOp): Kernel<ArgReduceOp> {
  return ([x], out, { axis }) => {
    const { meta, nOut, code: helpers } = offsetFn(x, [axis]);
    if (nOut === 0) return;
    const t = wgslType(x.dtype) as "f32" | "i32";
    const better = op === "argmax" ? ">" : "<";
    // (value, index) pairs: the better value wins, ties go to the smaller index.
    const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
var<workgroup> values: array<${t}, ${THREADS}>;
var<workgroup> indices: array<u32, ${THREADS}>;
${helpers}
${entry(`  let base = baseOffset(o);
  var best: ${t} = x[base];
  var at = 0xffffffffu;
  for (var j = lid.x; j < dims[1]; j += ${THREADS}u) {
    let v = x[base + reducedOffset(j)];
    if (at == 0xffffffffu || v ${better} best) { best = v; at = j; }
  }
  values[lid.x] = best;
  indices[lid.x] = at;
  workgroupBarrier();
  for (var step = ${THREADS / 2}u; step > 0u; step = step / 2u) {
    if (lid.x < step) {
      let v = values[lid.x + step];
      let k = indices[lid.x + step];
      let mine = indices[lid.x];
      if (k != 0xffffffffu && (mine == 0xffffffffu || v ${better} values[lid.x] || (v == values[lid.x] && k < mine))) {
        values[lid.x] = v;
        indices[lid.x] = k;
      }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[o] = i32(indices[0]); }`)}`;
    stream.run({ code, buffers: [gpu(x), gpu(out)], meta, grid: grid(nOut) });
  };
}
