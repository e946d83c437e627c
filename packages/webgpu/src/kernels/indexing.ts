// Indexing: gather along an axis, and scatter-add gathered per output element (each one sums the
// sources whose index points at it), so results are deterministic without float atomics. An index
// out of range sets the stream's error flag; the next read reports it.
import { sizeOf, stridesOf, type Kernel } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { bindings, elementGrid, gpu, perElement, stridedOffsets } from "../wgsl.js";

/** out[…i…] = x[…index[…i…]…] along the axis. */
export function gatherKernel(stream: CommandStream): Kernel<"gather"> {
  return ([x, index], out, { axis }) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const r = out.shape.length;
    const xs = stridesOf(x.shape);
    // meta: n, axis size, axis stride, index shape, x strides with the axis zeroed
    const meta = [n, x.shape[axis], xs[axis], ...out.shape, ...xs.map((s, i) => (i === axis ? 0 : s))];
    const code = `${bindings([["x", x.dtype], ["index", "int32"]], ["out", out.dtype], true)}
${perElement(`${stridedOffsets("i", r, 3, [["at", 3 + r]])}
  let k = index[i];
  if (k < 0 || u32(k) >= dims[1]) {
    atomicMax(&indexError, 1u);
    out[i] = ${out.dtype === "float32" ? "0.0" : "0"};
    return;
  }
  out[i] = x[at + u32(k) * dims[2]];`)}`;
    stream.run({ code, buffers: [gpu(x), gpu(index), gpu(out)], meta, grid: elementGrid(n), checksIndices: true });
  };
}

/** out = target; out[…index[…i…]…] += src[…i…] along the axis. */
export function scatterAddKernel(stream: CommandStream): Kernel<"scatterAdd"> {
  return ([target, index, src], out, { axis }) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const r = out.shape.length;
    const is = stridesOf(index.shape);
    // meta: n, axis size, index axis length, index axis stride, out shape, index shape, index strides (axis zeroed)
    const meta = [n, target.shape[axis], index.shape[axis], is[axis] ?? 0, ...out.shape, ...index.shape, ...is.map((s, i) => (i === axis ? 0 : s))];
    const code = `${bindings([["into", target.dtype], ["index", "int32"], ["src", src.dtype]], ["out", out.dtype], true)}
${perElement(`  var v = into[i];
  var rest = i;
  var at = 0u;
  var covered = true;
  var mine = 0u;
  for (var e = 0u; e < ${r}u; e++) {
    let d = ${r}u - 1u - e;
    let c = rest % dims[4u + d];
    rest = rest / dims[4u + d];
    if (d == ${axis}u) { mine = c; }
    else if (c >= dims[${4 + r}u + d]) { covered = false; }
    else { at += c * dims[${4 + 2 * r}u + d]; }
  }
  if (covered) {
    for (var j = 0u; j < dims[2]; j++) {
      let k = index[at + j * dims[3]];
      if (k < 0 || u32(k) >= dims[1]) { atomicMax(&indexError, 2u); }
      else if (u32(k) == mine) { v += src[at + j * dims[3]]; }
    }
  }
  out[i] = v;`)}`;
    stream.run({ code, buffers: [gpu(target), gpu(index), gpu(src), gpu(out)], meta, grid: elementGrid(n), checksIndices: true });
  };
}
