// The per-channel primitives of batch normalisation. The sums take one workgroup per channel (per
// group of images, where they are asked per group), whose threads stride over its N·P values and
// combine in workgroup memory in a fixed order (so a result never depends on timing); the affine
// map is one thread per element.
import { sizeOf, type BackendTensor, type Kernel } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { bindings, elementGrid, gpu, grid, perElement } from "../wgsl.js";

const THREADS = 256;

/** meta: C, images per group, P (values per plane), groups of images. */
function layoutMeta(x: BackendTensor, groups: number): number[] {
  return [x.shape[1], x.shape[0] / groups, sizeOf(x.shape.slice(2)), groups];
}

/** WGSL: thread `lid.x`'s partial sums `names` over channel `ch`'s values (`v` the value's offset), combined into partials. */
function channelLoop(names: readonly string[], body: string): string {
  const combine = names.map((n) => `      ${n}Part[lid.x] = ${n}Part[lid.x] + ${n}Part[lid.x + step];`).join("\n");
  return `${names.map((n) => `  var ${n} = 0.0;`).join("\n")}
  for (var j = lid.x; j < count; j += ${THREADS}u) {
    let v = ((group * dims[1] + j / dims[2]) * dims[0] + ch) * dims[2] + j % dims[2];
${body}
  }
${names.map((n) => `  ${n}Part[lid.x] = ${n};`).join("\n")}
  workgroupBarrier();
  for (var step = ${THREADS / 2}u; step > 0u; step = step / 2u) {
    if (lid.x < step) {
${combine}
    }
    workgroupBarrier();
  }`;
}

function perChannel(parts: readonly string[], body: string): string {
  return `${parts.map((n) => `var<workgroup> ${n}Part: array<f32, ${THREADS}>;`).join("\n")}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  // slot: the group of images' channel, whose sums go to out[slot] and out[G·C + slot]
  let slot = wid.x + wid.y * groups.x;
  if (slot >= dims[0] * dims[3]) { return; }
  let ch = slot % dims[0];
  let group = slot / dims[0];
  let count = dims[1] * dims[2];
${body}
}`;
}

/** Mean and biased variance of each channel: the mean first, then the squared deviations from it. */
export function channelMomentsKernel(stream: CommandStream): Kernel<"channelMoments"> {
  return ([x], out, { groups = 1 }) => {
    const c = x.shape[1];
    if (c === 0) return;
    const code = `${bindings([["x", x.dtype]], ["out", out.dtype])}
${perChannel(["s", "q"], `${channelLoop(["s"], "    s += x[v];")}
  let mean = sPart[0] / f32(count);
${channelLoop(["q"], "    let d = x[v] - mean;\n    q += d * d;")}
  if (lid.x == 0u) {
    out[slot] = mean;
    out[dims[0] * dims[3] + slot] = qPart[0] / f32(count);
  }`)}`;
    stream.run({ code, buffers: [gpu(x), gpu(out)], meta: layoutMeta(x, groups), grid: grid(groups * c) });
  };
}

/** Σg and Σg·(x − center) of each channel. */
export function channelDotsKernel(stream: CommandStream): Kernel<"channelDots"> {
  return ([g, x, center], out) => {
    const c = x.shape[1];
    if (c === 0) return;
    const groups = center.shape.length === 2 ? center.shape[0] : 1;
    const code = `${bindings([["g", g.dtype], ["x", x.dtype], ["center", center.dtype]], ["out", out.dtype])}
${perChannel(["s", "d"], `  let m = center[slot];
${channelLoop(["s", "d"], "    s += g[v];\n    d += g[v] * (x[v] - m);")}
  if (lid.x == 0u) {
    out[slot] = sPart[0];
    out[dims[0] * dims[3] + slot] = dPart[0];
  }`)}`;
    stream.run({ code, buffers: [gpu(g), gpu(x), gpu(center), gpu(out)], meta: layoutMeta(x, groups), grid: grid(groups * c) });
  };
}

/** (x − center)·scale + shift (+ addend·addendScale), per channel (and group of images), then ReLU if asked: one thread an element. */
export function channelAffineKernel(stream: CommandStream): Kernel<"channelAffine"> {
  return ([x, center, scale, shift, addend, addendScale], out, { relu }) => {
    const n = sizeOf(out.shape);
    if (n === 0) return;
    const inputs = [x, center, scale, shift, ...(addend ? [addend, addendScale] : [])];
    const names = ["x", "center", "scale", "shift", "addend", "addendScale"];
    const sum = `(x[i] - center[k]) * scale[k] + shift[k]${addend ? " + addend[i] * addendScale[k]" : ""}`;
    // max(v, 0) would turn NaN into 0 on some GPUs; the select keeps it, as on the CPU
    const code = `${bindings(inputs.map((t, k) => [names[k], t.dtype] as const), ["out", out.dtype])}
${perElement(`  let ch = (i / dims[2]) % dims[1];
  let k = (i / (dims[1] * dims[2] * dims[3])) * dims[1] + ch;
  let v = ${sum};
  out[i] = ${relu ? "select(v, 0.0, v < 0.0)" : "v"};`)}`;
    // dims[3]: images per group (the per-channel operands' row k is group i / (C·P·that))
    const images = x.shape[0] / (scale.shape.length === 2 ? scale.shape[0] : 1);
    stream.run({ code, buffers: [...inputs.map(gpu), gpu(out)], meta: [n, x.shape[1], sizeOf(x.shape.slice(2)), images], grid: elementGrid(n) });
  };
}
