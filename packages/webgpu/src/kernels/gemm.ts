// One tiled GEMM template for matmul and the three convolution primitives: each supplies how to
// load an element of A (M×K) and B (K×N) and where to store C (M×N) for GEMM batch `z`, so a
// convolution is an implicit GEMM that never materialises its im2col matrix.
import { broadcastStrides, sizeOf, type BackendTensor, type Conv2dParams, type Kernel } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { bindings, gpu } from "../wgsl.js";

/** Tile of C per workgroup (TILE×TILE), depth of each step, and the 16×16 threads that share it. */
const TILE = 64;
const DEPTH = 16;
const MAX_Z = 65535;

/**
 * The GEMM shader around the op's loaders. `dims[0..3]` are M, N, K and the first batch of this
 * launch; the op's own words follow from `dims[4]`. The loaders see `z` (the batch) and are only
 * called inside the matrix; `prepare(z)` runs once per workgroup first (per-batch set-up).
 */
function gemmShader(inputs: [string, BackendTensor][], out: BackendTensor, loaders: string, prepare = "fn prepare(z: u32) {}"): string {
  return `${bindings(inputs.map(([name, t]) => [name, t.dtype]), ["out", out.dtype])}
var<workgroup> tileA: array<f32, ${TILE * DEPTH}>;
var<workgroup> tileB: array<f32, ${TILE * DEPTH}>;
${loaders}
${prepare}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let M = dims[0];
  let N = dims[1];
  let K = dims[2];
  let z = wid.z + dims[3];
  prepare(z);
  let row0 = wid.y * ${TILE}u;
  let col0 = wid.x * ${TILE}u;
  let thread = lid.y * 16u + lid.x;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < K; k0 += ${DEPTH}u) {
    for (var l = 0u; l < ${(TILE * DEPTH) / 256}u; l++) {
      let e = thread + l * 256u;
      let ar = e / ${DEPTH}u;
      let ak = e % ${DEPTH}u;
      var a = 0.0;
      if (row0 + ar < M && k0 + ak < K) { a = loadA(z, row0 + ar, k0 + ak); }
      tileA[ak * ${TILE}u + ar] = a;
      let bk = e / ${TILE}u;
      let bc = e % ${TILE}u;
      var b = 0.0;
      if (k0 + bk < K && col0 + bc < N) { b = loadB(z, k0 + bk, col0 + bc); }
      tileB[bk * ${TILE}u + bc] = b;
    }
    workgroupBarrier();
    for (var k = 0u; k < ${DEPTH}u; k++) {
      let a = vec4f(tileA[k * ${TILE}u + lid.y * 4u], tileA[k * ${TILE}u + lid.y * 4u + 1u],
                    tileA[k * ${TILE}u + lid.y * 4u + 2u], tileA[k * ${TILE}u + lid.y * 4u + 3u]);
      let b = vec4f(tileB[k * ${TILE}u + lid.x * 4u], tileB[k * ${TILE}u + lid.x * 4u + 1u],
                    tileB[k * ${TILE}u + lid.x * 4u + 2u], tileB[k * ${TILE}u + lid.x * 4u + 3u]);
      for (var r = 0u; r < 4u; r++) {
        acc[r * 4u] += a[r] * b.x;
        acc[r * 4u + 1u] += a[r] * b.y;
        acc[r * 4u + 2u] += a[r] * b.z;
        acc[r * 4u + 3u] += a[r] * b.w;
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    for (var c = 0u; c < 4u; c++) {
      let row = row0 + lid.y * 4u + r;
      let col = col0 + lid.x * 4u + c;
      if (row < M && col < N) { store(z, row, col, acc[r * 4u + c]); }
    }
  }
}`;
}

/** Launches the GEMM over `batches` batches (in chunks the grid allows). */
function launch(stream: CommandStream, code: string, buffers: BackendTensor[], mnk: [number, number, number], batches: number, meta: number[]): void {
  const [m, n] = mnk;
  if (m === 0 || n === 0 || batches === 0) return;
  for (let z0 = 0; z0 < batches; z0 += MAX_Z) {
    const z = Math.min(MAX_Z, batches - z0);
    stream.run({ code, buffers: buffers.map(gpu), meta: [...mnk, z0, ...meta], grid: [Math.ceil(n / TILE), Math.ceil(m / TILE), z] });
  }
}

/** Batched matrix product with broadcast batch axes. */
export function matmulKernel(stream: CommandStream): Kernel<"matmul"> {
  return ([a, b], out) => {
    const r = out.shape.length - 2;
    const batch = out.shape.slice(0, r);
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.shape.length - 1];
    // meta from 4: batch shape, A's batch strides (in matrices), B's batch strides
    const sa = broadcastStrides(a.shape.slice(0, -2), batch);
    const sb = broadcastStrides(b.shape.slice(0, -2), batch);
    const offsets = r === 0 ? "" : `
  var rest = z;
  for (var e = 0u; e < ${r}u; e++) {
    let d = ${r - 1}u - e;
    let c = rest % dims[4u + d];
    rest = rest / dims[4u + d];
    oa += c * dims[${4 + r}u + d];
    ob += c * dims[${4 + 2 * r}u + d];
  }`;
    // the batch's matrices of A and B (broadcast), found once per workgroup
    const prepare = `
var<private> matrixA: u32;
var<private> matrixB: u32;
fn prepare(z: u32) {
  var oa = 0u;
  var ob = 0u;${offsets}
  matrixA = oa;
  matrixB = ob;
}`;
    const loaders = `
fn loadA(z: u32, row: u32, k: u32) -> f32 { return a[(matrixA * dims[0] + row) * dims[2] + k]; }
fn loadB(z: u32, k: u32, col: u32) -> f32 { return b[(matrixB * dims[2] + k) * dims[1] + col]; }
fn store(z: u32, row: u32, col: u32, v: f32) { out[(z * dims[0] + row) * dims[1] + col] = v; }`;
    const code = gemmShader([["a", a], ["b", b]], out, loaders, prepare);
    launch(stream, code, [a, b, out], [m, n, k], sizeOf(batch), [...batch, ...sa, ...sb]);
  };
}

/** Convolution geometry as meta words (from dims[4]) and WGSL that names them. */
function geometry(x: readonly number[], w: readonly number[], y: readonly number[], p: Conv2dParams): { meta: number[]; names: string } {
  const [, c, h, wd] = x;
  const [o, cg, kh, kw] = w;
  const [, , ho, wo] = y;
  const values: [string, number][] = [
    ["C", c], ["H", h], ["W", wd], ["O", o], ["HO", ho], ["WO", wo], ["KH", kh], ["KW", kw],
    ["SH", p.stride[0]], ["SW", p.stride[1]], ["PH", p.padding[0]], ["PW", p.padding[1]],
    ["DH", p.dilation[0]], ["DW", p.dilation[1]], ["CG", cg], ["OG", o / p.groups],
  ];
  const names = values.map(([name], i) => `fn ${name}() -> u32 { return dims[${4 + i}u]; }`).join("\n");
  return { meta: values.map(([, v]) => v), names };
}

/** WGSL: the input pixel a kernel tap reads, as (row, column, inside). */
const TAP = `
fn tap(oh: u32, ow: u32, i: u32, j: u32) -> vec3i {
  let ih = i32(oh * SH() + i * DH()) - i32(PH());
  let iw = i32(ow * SW() + j * DW()) - i32(PW());
  let inside = ih >= 0 && ih < i32(H()) && iw >= 0 && iw < i32(W());
  return vec3i(ih, iw, select(0, 1, inside));
}
fn image(n: u32, channel: u32, kk: u32, col: u32) -> f32 {
  let i = kk / KW();
  let j = kk % KW();
  let oh = col / WO();
  let ow = col % WO();
  let t = tap(oh, ow, i, j);
  if (t.z == 0) { return 0.0; }
  return x[((n * C() + channel) * H() + u32(t.x)) * W() + u32(t.y)];
}`;

/** conv2d as GEMM per group: W (OG × CG·KH·KW) times the implicit im2col of x. */
export function conv2dKernel(stream: CommandStream): Kernel<"conv2d"> {
  return ([x, w], out, p) => {
    const { meta, names } = geometry(x.shape, w.shape, out.shape, p);
    const loaders = `${names}${TAP}
fn loadA(z: u32, row: u32, k: u32) -> f32 { return w[(z * OG() + row) * dims[2] + k]; }
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  let taps = KH() * KW();
  let plane = HO() * WO();
  return image(col / plane, z * CG() + k / taps, k % taps, col % plane);
}
fn store(z: u32, row: u32, col: u32, v: f32) {
  let plane = HO() * WO();
  out[((col / plane) * O() + z * OG() + row) * plane + col % plane] = v;
}`;
    const [o, cg, kh, kw] = w.shape;
    const n = x.shape[0] * out.shape[2] * out.shape[3];
    launch(stream, gemmShader([["x", x], ["w", w]], out, loaders), [x, w, out], [o / p.groups, n, cg * kh * kw], p.groups, meta);
  };
}

/** The input gradient as GEMM per group: Wᵀ times the output gradient gathered back to each pixel. */
export function conv2dBackwardInputKernel(stream: CommandStream): Kernel<"conv2dBackwardInput"> {
  return ([dy, w], out, p) => {
    const { meta, names } = geometry(p.inputShape, w.shape, dy.shape, p);
    const loaders = `${names}
fn loadA(z: u32, row: u32, k: u32) -> f32 {
  let taps = KH() * KW();
  return w[((z * OG() + k / taps) * CG() + row) * taps + k % taps];
}
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  let taps = KH() * KW();
  let o = k / taps;
  let i = (k % taps) / KW();
  let j = k % KW();
  let n = col / (H() * W());
  let ih = (col / W()) % H();
  let iw = col % W();
  let th = i32(ih + PH()) - i32(i * DH());
  let tw = i32(iw + PW()) - i32(j * DW());
  if (th < 0 || tw < 0 || th % i32(SH()) != 0 || tw % i32(SW()) != 0) { return 0.0; }
  let oh = u32(th) / SH();
  let ow = u32(tw) / SW();
  if (oh >= HO() || ow >= WO()) { return 0.0; }
  return dy[((n * O() + z * OG() + o) * HO() + oh) * WO() + ow];
}
fn store(z: u32, row: u32, col: u32, v: f32) {
  let plane = H() * W();
  out[((col / plane) * C() + z * CG() + row) * plane + col % plane] = v;
}`;
    const [o, cg, kh, kw] = w.shape;
    const [nb, , h, wd] = p.inputShape;
    launch(stream, gemmShader([["dy", dy], ["w", w]], out, loaders), [dy, w, out], [cg, nb * h * wd, (o / p.groups) * kh * kw], p.groups, meta);
  };
}

/** The weight gradient as GEMM per group: the output gradient times the transposed im2col of x. */
export function conv2dBackwardWeightKernel(stream: CommandStream): Kernel<"conv2dBackwardWeight"> {
  return ([x, dy], out, p) => {
    const { meta, names } = geometry(x.shape, p.weightShape, dy.shape, p);
    const loaders = `${names}${TAP}
fn loadA(z: u32, row: u32, k: u32) -> f32 {
  let plane = HO() * WO();
  return dy[((k / plane) * O() + z * OG() + row) * plane + k % plane];
}
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  let taps = KH() * KW();
  let plane = HO() * WO();
  return image(k / plane, z * CG() + col / taps, col % taps, k % plane);
}
fn store(z: u32, row: u32, col: u32, v: f32) { out[(z * OG() + row) * dims[1] + col] = v; }`;
    const [o, cg, kh, kw] = p.weightShape;
    const k = x.shape[0] * dy.shape[2] * dy.shape[3];
    launch(stream, gemmShader([["x", x], ["dy", dy]], out, loaders), [x, dy, out], [o / p.groups, cg * kh * kw, k], p.groups, meta);
  };
}

