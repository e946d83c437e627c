// Movement kernels: every output element reads one strided input offset (permute, expand, slice),
// or is padding (pad); concat writes each input into its strided region of the output.
import { broadcastStrides, sizeOf, stridesOf, type BackendTensor, type Kernel } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { bindings, elementGrid, f32Bits, gpu, perElement, stridedOffsets } from "../wgsl.js";

/** out[i] = x[base + Σ coordᵢ·strides]: the strided view of `x` with the output's shape. */
function stridedCopy(stream: CommandStream, x: BackendTensor, out: BackendTensor, base: number, strides: readonly number[]): void {
  const n = sizeOf(out.shape);
  if (n === 0) return;
  const rank = out.shape.length;
  const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
${perElement(`${stridedOffsets("i", rank, 2, [["at", 2 + rank]])}\n  out[i] = x[dims[1] + at];`)}`;
  stream.run({ code, buffers: [gpu(x), gpu(out)], meta: [n, base, ...out.shape, ...strides], grid: elementGrid(n) });
}

/** Output axis i is input axis perm[i]. */
export function permuteKernel(stream: CommandStream): Kernel<"permute"> {
  return ([x], out, { perm }) => {
    const s = stridesOf(x.shape);
    stridedCopy(stream, x, out, 0, perm.map((p) => s[p]));
  };
}

/** Broadcasts size-1 (and missing leading) axes. */
export function expandKernel(stream: CommandStream): Kernel<"expand"> {
  return ([x], out) => stridedCopy(stream, x, out, 0, broadcastStrides(x.shape, out.shape));
}

/**
 * Whether elements `base` + Σ iₐ·strides[a] over an index space of `shape` are one run of
 * consecutive elements in row-major order (axes of size 1 do not count).
 */
function contiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    if (shape[a] === 1) continue;
    if (strides[a] !== expected) return false;
    expected *= shape[a];
  }
  return true;
}

/** Elements starts + k·steps along each axis: one buffer copy where they are consecutive (a row of a matrix), else a kernel. */
export function sliceKernel(stream: CommandStream): Kernel<"slice"> {
  return ([x], out, { starts, steps }) => {
    const s = stridesOf(x.shape);
    const base = starts.reduce((acc, v, i) => acc + v * s[i], 0);
    const strides = s.map((v, i) => v * steps[i]);
    if (contiguous(out.shape, strides)) return stream.copy(gpu(x), base, gpu(out), sizeOf(out.shape));
    stridedCopy(stream, x, out, base, strides);
  };
}

/** The reshape primitive never reaches a backend (the engine shares storage); a copy is its meaning. */
export function reshapeKernel(stream: CommandStream): Kernel<"reshape"> {
  return ([x], out) => stridedCopy(stream, x, out, 0, stridesOf(out.shape));
}

/** Constant padding before, after and between the elements of each axis. */
export function padKernel(stream: CommandStream): Kernel<"pad"> {
  return ([x], out, { before, interior, value }) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const r = out.shape.length;
    const fill = x.dtype === "float32" ? f32Bits(value) : value >>> 0;
    const fillExpr = x.dtype === "float32" ? "bitcast<f32>(dims[1])" : x.dtype === "int32" ? "bitcast<i32>(dims[1])" : "dims[1]";
    // meta: n, fill, out shape, before, interior + 1, input shape, input strides
    const meta = [n, fill, ...out.shape, ...before, ...interior.map((v) => v + 1), ...x.shape, ...stridesOf(x.shape)];
    const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
${perElement(`  var rest = i;
  var at = 0u;
  var inside = true;
  for (var e = 0u; e < ${r}u; e++) {
    let d = ${r}u - 1u - e;
    let c = i32(rest % dims[2u + d]);
    rest = rest / dims[2u + d];
    let t = c - i32(dims[${2 + r}u + d]);
    let step = i32(dims[${2 + 2 * r}u + d]);
    if (t < 0 || t % step != 0 || t / step >= i32(dims[${2 + 3 * r}u + d])) { inside = false; }
    else { at += u32(t / step) * dims[${2 + 4 * r}u + d]; }
  }
  out[i] = select(${fillExpr}, x[at], inside);`)}`;
    stream.run({ code, buffers: [gpu(x), gpu(out)], meta, grid: elementGrid(n) });
  };
}

/** Joins the inputs along an axis: each input is written into its region of the output. */
export function concatKernel(stream: CommandStream): Kernel<"concat"> {
  return (inputs, out, { axis }) => {
    const os = stridesOf(out.shape);
    let offset = 0;
    for (const x of inputs) {
      const n = sizeOf(x.shape);
      const rank = x.shape.length;
      if (n > 0) {
        const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
${perElement(`${stridedOffsets("i", rank, 2, [["at", 2 + rank]])}\n  out[dims[1] + at] = x[i];`)}`;
        stream.run({ code, buffers: [gpu(x), gpu(out)], meta: [n, offset * os[axis], ...x.shape, ...os], grid: elementGrid(n) });
      }
      offset += x.shape[axis];
    }
  };
}
