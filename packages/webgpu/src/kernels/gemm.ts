// One tiled GEMM template for matmul and the three convolution primitives: each supplies how to
// load an element of A (M×K) and B (K×N) and where to store C (M×N) for GEMM batch `z`, so a
// convolution is an implicit GEMM that never materialises its im2col matrix. A GEMM with few
// tiles and a long depth (the convolution weight gradient) splits K across workgroups and sums
// the partial tiles in a second, deterministic pass.
import { broadcastStrides, sizeOf, type BackendTensor, type Conv2dParams, type Kernel } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { bindings, elementGrid, gpu, WORKGROUP } from "../wgsl.js";

/** Tile of C per workgroup (TILE×TILE), depth of each step, and the 16×16 threads that share it. */
const TILE = 64;
const DEPTH = 16;
const MAX_Z = 65535;
/** Workgroups a launch should have to keep a large GPU busy; fewer tiles than half this split K. */
const SPLIT_TARGET = 256;
/** The least depth a split of K gets. */
const SPLIT_MIN_DEPTH = 256;
/** Where an op's own meta words start: dims[0..5] are M, N, K, the launch's first (batch, split),
 * the number of splits of K, and the number of batches. */
export const OP_WORDS = 6;

/** One GEMM-shaped op: its operands, its loaders and its store, all in WGSL over `z` (the batch). */
interface GemmOp {
  inputs: [string, BackendTensor][];
  out: BackendTensor;
  /** Functions naming the op's meta words (dims[OP_WORDS…]); seen by the loaders and the store. */
  names: string;
  /** `loadA(z, row, k)`, `loadB(z, k, col)` (only called inside the matrices) and, optionally,
   * `prepare(z)`, run once per workgroup first (per-batch set-up). */
  loaders: string;
  /** `store(z, row, col, v)`: where C's element goes in `out`. */
  store: string;
  mnk: [number, number, number];
  batches: number;
  meta: number[];
}

/**
 * The GEMM shader around an op's loaders. Each workgroup computes one TILE×TILE tile of C over
 * its split's range of K; with one split it stores C through the op's `store`, with several it
 * writes its partial tile to `out` laid out as [split][batch][M][N], summed by `sumSplitsShader`.
 */
function gemmShader(op: GemmOp, split: boolean): string {
  const store = split ? "" : op.store;
  const prepare = op.loaders.includes("fn prepare(") ? "" : "fn prepare(z: u32) {}";
  const result = split
    ? "out[((split * dims[5] + z) * M + row) * N + col] = acc[r * 4u + c];"
    : "store(z, row, col, acc[r * 4u + c]);";
  return `${bindings(op.inputs.map(([name, t]) => [name, t.dtype]), ["out", op.out.dtype])}
var<workgroup> tileA: array<f32, ${TILE * DEPTH}>;
var<workgroup> tileB: array<f32, ${TILE * DEPTH}>;
${op.names}
${op.loaders}
${prepare}
${store}
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let M = dims[0];
  let N = dims[1];
  let K = dims[2];
  let splits = dims[4];
  let zs = wid.z + dims[3];
  let z = zs / splits;
  let split = zs % splits;
  // each split takes whole steps of K
  let span = ((K + splits - 1u) / splits + ${DEPTH - 1}u) / ${DEPTH}u * ${DEPTH}u;
  let kBegin = min(K, split * span);
  let kEnd = min(K, kBegin + span);
  prepare(z);
  let row0 = wid.y * ${TILE}u;
  let col0 = wid.x * ${TILE}u;
  let thread = lid.y * 16u + lid.x;
  var acc: array<f32, 16>;
  for (var k0 = kBegin; k0 < kEnd; k0 += ${DEPTH}u) {
    for (var l = 0u; l < ${(TILE * DEPTH) / 256}u; l++) {
      let e = thread + l * 256u;
      let ar = e / ${DEPTH}u;
      let ak = e % ${DEPTH}u;
      var a = 0.0;
      if (row0 + ar < M && k0 + ak < kEnd) { a = loadA(z, row0 + ar, k0 + ak); }
      tileA[ak * ${TILE}u + ar] = a;
      let bk = e / ${TILE}u;
      let bc = e % ${TILE}u;
      var b = 0.0;
      if (k0 + bk < kEnd && col0 + bc < N) { b = loadB(z, k0 + bk, col0 + bc); }
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
      if (row < M && col < N) { ${result} }
    }
  }
}`;
}

/** Sums the partial products of the splits in order (so results do not depend on timing) and
 * stores each element of C through the op's `store`. One thread per element of C. */
function sumSplitsShader(op: GemmOp): string {
  return `${bindings([["partial", "float32"]], ["out", op.out.dtype])}
${op.names}
${op.store}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let M = dims[0];
  let N = dims[1];
  let total = dims[5] * M * N;
  let i = gid.x + gid.y * groups.x * ${WORKGROUP}u;
  if (i >= total) { return; }
  var sum = 0.0;
  for (var s = 0u; s < dims[4]; s++) { sum += partial[s * total + i]; }
  store(i / (M * N), (i / N) % M, i % N, sum);
}`;
}

/** How many splits of K a launch of `tiles` workgroups over depth `k` takes. */
function splitsFor(tiles: number, k: number): number {
  if (tiles * 2 > SPLIT_TARGET) return 1;
  return Math.max(1, Math.min(Math.ceil(SPLIT_TARGET / tiles), Math.floor(k / SPLIT_MIN_DEPTH)));
}

/** Launches an op's GEMM over all its batches (in chunks the grid allows), splitting K when the
 * tiles alone would leave most of the GPU idle. */
function launch(stream: CommandStream, op: GemmOp): void {
  const [m, n, k] = op.mnk;
  if (m === 0 || n === 0 || op.batches === 0) return;
  const tiles: [number, number] = [Math.ceil(n / TILE), Math.ceil(m / TILE)];
  const splits = splitsFor(tiles[0] * tiles[1] * op.batches, k);
  const words = (first: number) => [m, n, k, first, splits, op.batches, ...op.meta];
  const buffers = [...op.inputs.map(([, t]) => gpu(t)), gpu(op.out)];
  if (splits === 1) {
    const code = gemmShader(op, false);
    for (let z0 = 0; z0 < op.batches; z0 += MAX_Z) {
      stream.run({ code, buffers, meta: words(z0), grid: [...tiles, Math.min(MAX_Z, op.batches - z0)] });
    }
    return;
  }
  const partial = stream.scratch(splits * op.batches * m * n);
  const code = gemmShader(op, true);
  const all = splits * op.batches;
  for (let z0 = 0; z0 < all; z0 += MAX_Z) {
    stream.run({ code, buffers: [...buffers.slice(0, -1), partial], meta: words(z0), grid: [...tiles, Math.min(MAX_Z, all - z0)] });
  }
  stream.run({ code: sumSplitsShader(op), buffers: [partial, gpu(op.out)], meta: words(0), grid: elementGrid(op.batches * m * n) });
}

/** Batched matrix product with broadcast batch axes. */
export function matmulKernel(stream: CommandStream): Kernel<"matmul"> {
  return ([a, b], out) => {
    const r = out.shape.length - 2;
    const batch = out.shape.slice(0, r);
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.shape.length - 1];
    // op words: batch shape, A's batch strides (in matrices), B's batch strides
    const sa = broadcastStrides(a.shape.slice(0, -2), batch);
    const sb = broadcastStrides(b.shape.slice(0, -2), batch);
    const offsets = r === 0 ? "" : `
  var rest = z;
  for (var e = 0u; e < ${r}u; e++) {
    let d = ${r - 1}u - e;
    let c = rest % dims[${OP_WORDS}u + d];
    rest = rest / dims[${OP_WORDS}u + d];
    oa += c * dims[${OP_WORDS + r}u + d];
    ob += c * dims[${OP_WORDS + 2 * r}u + d];
  }`;
    // the batch's matrices of A and B (broadcast), found once per workgroup
    const loaders = `
var<private> matrixA: u32;
var<private> matrixB: u32;
fn prepare(z: u32) {
  var oa = 0u;
  var ob = 0u;${offsets}
  matrixA = oa;
  matrixB = ob;
}
fn loadA(z: u32, row: u32, k: u32) -> f32 { return a[(matrixA * dims[0] + row) * dims[2] + k]; }
fn loadB(z: u32, k: u32, col: u32) -> f32 { return b[(matrixB * dims[2] + k) * dims[1] + col]; }`;
    const store = `fn store(z: u32, row: u32, col: u32, v: f32) { out[(z * dims[0] + row) * dims[1] + col] = v; }`;
    launch(stream, { inputs: [["a", a], ["b", b]], out, names: "", loaders, store, mnk: [m, n, k], batches: sizeOf(batch), meta: [...batch, ...sa, ...sb] });
  };
}

/**
 * Convolution geometry as op words and WGSL functions that name them. The GEMM's batch z runs
 * over the weight's groups of images (one, unless it is [G, O, C/groups, kH, kW]) times the
 * channel groups: `imageGroup(z)` and `channelGroup(z)`, with NI images in each group of images.
 */
function geometry(x: readonly number[], weight: readonly number[], y: readonly number[], p: Conv2dParams): { meta: number[]; names: string; images: number; batches: number } {
  const [n, c, h, wd] = x;
  const [o, cg, kh, kw] = weight.slice(-4);
  const [, , ho, wo] = y;
  const imageGroups = weight.length === 5 ? weight[0] : 1;
  const values: [string, number][] = [
    ["C", c], ["H", h], ["W", wd], ["O", o], ["HO", ho], ["WO", wo], ["KH", kh], ["KW", kw],
    ["SH", p.stride[0]], ["SW", p.stride[1]], ["PH", p.padding[0]], ["PW", p.padding[1]],
    ["DH", p.dilation[0]], ["DW", p.dilation[1]], ["CG", cg], ["OG", o / p.groups], ["NI", n / imageGroups], ["GROUPS", p.groups],
  ];
  const names = [
    ...values.map(([name], i) => `fn ${name}() -> u32 { return dims[${OP_WORDS + i}u]; }`),
    "fn imageGroup(z: u32) -> u32 { return z / GROUPS(); }",
    "fn channelGroup(z: u32) -> u32 { return z % GROUPS(); }",
  ].join("\n");
  return { meta: values.map(([, v]) => v), names, images: n / imageGroups, batches: imageGroups * p.groups };
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
    const { meta, names, images, batches } = geometry(x.shape, w.shape, out.shape, p);
    // z's kernels follow one another in w, whether it holds one group of images or several
    const loaders = `${TAP}
fn loadA(z: u32, row: u32, k: u32) -> f32 { return w[(z * OG() + row) * dims[2] + k]; }
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  let taps = KH() * KW();
  let plane = HO() * WO();
  return image(imageGroup(z) * NI() + col / plane, channelGroup(z) * CG() + k / taps, k % taps, col % plane);
}`;
    const store = `fn store(z: u32, row: u32, col: u32, v: f32) {
  let plane = HO() * WO();
  out[((imageGroup(z) * NI() + col / plane) * O() + channelGroup(z) * OG() + row) * plane + col % plane] = v;
}`;
    const [o, cg, kh, kw] = w.shape.slice(-4);
    launch(stream, { inputs: [["x", x], ["w", w]], out, names, loaders, store, mnk: [o / p.groups, images * out.shape[2] * out.shape[3], cg * kh * kw], batches, meta });
  };
}

/** The input gradient as GEMM per group: Wᵀ times the output gradient gathered back to each pixel. */
export function conv2dBackwardInputKernel(stream: CommandStream): Kernel<"conv2dBackwardInput"> {
  return ([dy, w], out, p) => {
    const { meta, names, images, batches } = geometry(p.inputShape, w.shape, dy.shape, p);
    const loaders = `
fn loadA(z: u32, row: u32, k: u32) -> f32 {
  let taps = KH() * KW();
  return w[((z * OG() + k / taps) * CG() + row) * taps + k % taps];
}
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  let taps = KH() * KW();
  let o = k / taps;
  let i = (k % taps) / KW();
  let j = k % KW();
  let n = imageGroup(z) * NI() + col / (H() * W());
  let ih = (col / W()) % H();
  let iw = col % W();
  let th = i32(ih + PH()) - i32(i * DH());
  let tw = i32(iw + PW()) - i32(j * DW());
  if (th < 0 || tw < 0 || th % i32(SH()) != 0 || tw % i32(SW()) != 0) { return 0.0; }
  let oh = u32(th) / SH();
  let ow = u32(tw) / SW();
  if (oh >= HO() || ow >= WO()) { return 0.0; }
  return dy[((n * O() + channelGroup(z) * OG() + o) * HO() + oh) * WO() + ow];
}`;
    const store = `fn store(z: u32, row: u32, col: u32, v: f32) {
  let plane = H() * W();
  out[((imageGroup(z) * NI() + col / plane) * C() + channelGroup(z) * CG() + row) * plane + col % plane] = v;
}`;
    const [o, cg, kh, kw] = w.shape.slice(-4);
    const [, , h, wd] = p.inputShape;
    launch(stream, { inputs: [["dy", dy], ["w", w]], out, names, loaders, store, mnk: [cg, images * h * wd, (o / p.groups) * kh * kw], batches, meta });
  };
}

/** The weight gradient as GEMM per group: the output gradient times the transposed im2col of x.
 * Its depth is every output pixel of the batch and its tiles few, so it is the GEMM that splits K. */
export function conv2dBackwardWeightKernel(stream: CommandStream): Kernel<"conv2dBackwardWeight"> {
  return ([x, dy], out, p) => {
    const { meta, names, images, batches } = geometry(x.shape, p.weightShape, dy.shape, p);
    const loaders = `${TAP}
fn loadA(z: u32, row: u32, k: u32) -> f32 {
  let plane = HO() * WO();
  return dy[((imageGroup(z) * NI() + k / plane) * O() + channelGroup(z) * OG() + row) * plane + k % plane];
}
fn loadB(z: u32, k: u32, col: u32) -> f32 {
  let taps = KH() * KW();
  let plane = HO() * WO();
  return image(imageGroup(z) * NI() + k / plane, channelGroup(z) * CG() + col / taps, col % taps, k % plane);
}`;
    const store = `fn store(z: u32, row: u32, col: u32, v: f32) { out[(z * OG() + row) * dims[1] + col] = v; }`;
    const [o, cg, kh, kw] = p.weightShape.slice(-4);
    launch(stream, { inputs: [["x", x], ["dy", dy]], out, names, loaders, store, mnk: [o / p.groups, cg * kh * kw, images * dy.shape[2] * dy.shape[3]], batches, meta });
  };
}
