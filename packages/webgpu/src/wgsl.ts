// Pieces of WGSL that every kernel shares: binding declarations, the flat thread index, the
// dispatch grid, and strided offsets computed from shapes in the meta words.
import type { DType } from "@sam/tensor";
import type { GpuHandle } from "./buffers.js";
import { wgslType } from "./buffers.js";

/** Threads per workgroup of the one-thread-per-element kernels. */
export const WORKGROUP = 256;
/** The most workgroups a dispatch may have along one dimension. */
const MAX_GROUPS = 65535;

/** A binding: its variable name and the dtype it stores. */
export type Binding = readonly [name: string, dtype: DType];

/**
 * Declares the bindings in the order the command stream binds them: the inputs (read-only), the
 * output, the meta words, and optionally the index-error flag.
 */
export function bindings(inputs: readonly Binding[], output: Binding, indexFlag = false): string {
  const lines = inputs.map(([name, dtype], i) => `@group(0) @binding(${i}) var<storage, read> ${name}: array<${wgslType(dtype)}>;`);
  const k = inputs.length;
  lines.push(`@group(0) @binding(${k}) var<storage, read_write> ${output[0]}: array<${wgslType(output[1])}>;`);
  lines.push(`@group(0) @binding(${k + 1}) var<storage, read> dims: array<u32>;`);
  if (indexFlag) lines.push(`@group(0) @binding(${k + 2}) var<storage, read_write> indexError: atomic<u32>;`);
  return lines.join("\n");
}

/** The entry point of a one-thread-per-element kernel over `dims[0]` elements; `i` is the element. */
export function perElement(body: string): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * ${WORKGROUP}u;
  if (i >= dims[0]) { return; }
${body}
}`;
}

/** A grid of `count` workgroups, folded into y when x would exceed the limit. */
export function grid(count: number): [number, number] {
  const x = Math.min(count, MAX_GROUPS);
  return [x, Math.ceil(count / x)];
}

/** The grid of a one-thread-per-element kernel over `n` elements. */
export function elementGrid(n: number): [number, number] {
  return grid(Math.ceil(n / WORKGROUP));
}

/** The bits of a float32, as a meta word. */
export function f32Bits(value: number): number {
  return new Uint32Array(new Float32Array([value]).buffer)[0];
}

/** The handle behind a backend tensor. */
export function gpu(t: { readonly handle: object }): GpuHandle {
  return t.handle as GpuHandle;
}

/**
 * WGSL that decomposes flat index `index` over a `rank`-axis shape at `dims[shapeAt…]` and sums
 * the coordinates times the strides at each `dims[strideAt…]` into variables `names`.
 */
export function stridedOffsets(index: string, rank: number, shapeAt: number, strides: readonly [name: string, at: number][]): string {
  const decl = strides.map(([name]) => `  var ${name} = 0u;`).join("\n");
  if (rank === 0) return decl;
  const sums = strides.map(([name, at]) => `    ${name} += c * dims[${at}u + d];`).join("\n");
  return `${decl}
  var rest = ${index};
  for (var e = 0u; e < ${rank}u; e++) {
    let d = ${rank - 1}u - e;
    let c = rest % dims[${shapeAt}u + d];
    rest = rest / dims[${shapeAt}u + d];
${sums}
  }`;
}
