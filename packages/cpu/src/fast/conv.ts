// 2-D convolution and its two gradient primitives in float32 on the SIMD GEMM (wasm/convF32.ts),
// shared between the threads; anything else goes to the reference kernels.
import type { BackendTensor, Conv2dParams, DType, Kernel, TypedArray } from "@sam/tensor";
import { geometry, type Geometry, type Placement } from "../geometry.js";
import * as reference from "../reference/conv.js";
import { dataOf, ShareableBuffer } from "../storage.js";
import { splitColumns, splitEvenly } from "../threads/split.js";
import { convColumns, weightChunkFloats } from "../wasm/convF32.js";
import { binaryRunF32 } from "../wasm/elementwiseF32.js";
import { BLOCK_COLUMNS_ALIGN, simdAvailable } from "../wasm/gemmF32.js";
import { NR } from "../wasm/gemmKernel.js";
import { IMAGES_TOGETHER, winograd4x4Applies, winograd4x4Weights, winograd4x4WeightsSize } from "../wasm/winograd4x4F32.js";
import { winogradApplies, winogradWeights, winogradWeightsSize, type WinogradTile } from "../wasm/winogradF32.js";
import { weightGradientTile, winogradWeightGradient } from "../wasm/winogradGradient.js";
import { currentPool, poolFor } from "./pool.js";
import { runTask, share, type ConvTask, type InterleaveTask, type WeightChunksTask, type WinogradTask } from "./tasks.js";

/**
 * Runs a float32 convolution over its GEMM's columns, split between the threads at column-block
 * boundaries (at image boundaries for the input gradient, whose neighbouring columns add into the
 * same pixels): every share sums in the order one thread would, and no two write one element, so
 * the result does not depend on the thread count.
 */
function threaded(
  op: ConvTask["op"], a: BackendTensor, b: BackendTensor, out: BackendTensor, g: Geometry, p: Conv2dParams, columns: number,
  align = BLOCK_COLUMNS_ALIGN, placement?: Placement,
): void {
  if (g.n * g.ho * g.wo * g.o * g.rows === 0) {
    if (!placement) dataOf(out).fill(0); // an empty sum: the GEMMs would write nothing (a placed output was zeroed by its caller)
    return;
  }
  const pool = poolFor(2 * g.n * g.ho * g.wo * g.o * g.rows); // the same for all three primitives
  const ranges = splitColumns(columns, currentPool()?.threads ?? 1, align);
  const [sa, sb, so] = [share(dataOf(a), a.dtype), share(dataOf(b), b.dtype), share(dataOf(out), out.dtype)];
  const tasks = ranges.map(([from, to]): ConvTask => ({ op, a: sa, b: sb, out: so, geometry: g, params: p, from, to, placement }));
  if (pool && tasks.length > 1) pool.run(tasks);
  else tasks.forEach(runTask);
}

/** The output tile Winograd takes the input gradient in (the forward pass keeps to F(2×2, 3×3)): F(4×4, 3×3) where its tiles fit, else F(2×2, 3×3), else none. */
function winogradTile(g: Geometry, p: Conv2dParams): WinogradTile | null {
  if (winograd4x4Applies(g, p)) return 4;
  return winogradApplies(g, p) ? 2 : null;
}

/**
 * A float32 convolution by Winograd in tiles of `tile`² outputs: the calling thread transforms the
 * weights once, and threads share out whole images (F(4×4, 3×3): in fours, its vectors' width).
 */
function winograd(x: BackendTensor, w: TypedArray, out: BackendTensor, g: Geometry, tile: WinogradTile, flipped = false): void {
  const [size, transform, together] = tile === 4 ? [winograd4x4WeightsSize, winograd4x4Weights, IMAGES_TOGETHER] : [winogradWeightsSize, winogradWeights, 1];
  const u = scratch32("winograd", size(g.o, g.c));
  transform(w, g.o, g.c, u, flipped);
  const pool = poolFor(2 * g.n * g.ho * g.wo * g.o * g.rows);
  const [sx, su, so] = [share(dataOf(x), x.dtype), share(u, "float32"), share(dataOf(out), out.dtype)];
  const shares = splitEvenly(Math.ceil(g.n / together), currentPool()?.threads ?? 1);
  const tasks = shares.map(([from, to]): WinogradTask => ({ op: "conv2dWinograd", tile, x: sx, u: su, out: so, geometry: g, from: from * together, to: Math.min(g.n, to * together) }));
  if (pool && tasks.length > 1) pool.run(tasks);
  else tasks.forEach(runTask);
}

/** float32 convolutions run on the SIMD GEMM; float64 stays on the reference kernels. */
function fast(dtype: DType): boolean {
  return dtype === "float32" && simdAvailable();
}

/**
 * y[n, o] = Σ w[o] ⋆ x[n]. The forward pass keeps to F(2×2, 3×3), whose rounding of the ReLU inputs
 * is PyTorch's: F(4×4, 3×3)'s, 4.6 times larger, puts more of them on the wrong side of zero, where
 * the gradient jumps (packages/cpu/README.md; the float32 steps of anchorSteps.test.ts).
 */
export const conv2d: Kernel<"conv2d"> = ([x, w], out, p) => {
  if (!fast(out.dtype)) return reference.conv2d([x, w], out, p);
  const g = geometry(x.shape, w.shape, out.shape, p.groups);
  const tile = winogradApplies(g, p) ? 2 : null;
  if (tile) return winograd(x, dataOf(w), out, g, tile);
  threaded("conv2d", x, w, out, g, p, convColumns(g));
};

/**
 * For stride 1, the input gradient is itself a convolution: of dy, padded by dilation·(k − 1) −
 * padding, with the kernel flipped in space and its input and output channels swapped. Returned
 * (its parameters, and the weights' shape) when that forward convolution reads its input in place
 * (rows of whole panels); else null.
 */
function asForwardConv(w: BackendTensor, out: BackendTensor, p: Conv2dParams): { shape: number[]; p: Conv2dParams } | null {
  const [o, cg, kh, kw] = w.shape;
  const padding: [number, number] = [p.dilation[0] * (kh - 1) - p.padding[0], p.dilation[1] * (kw - 1) - p.padding[1]];
  if (p.stride[0] !== 1 || p.stride[1] !== 1 || padding[0] < 0 || padding[1] < 0 || out.shape[3] % NR !== 0) return null;
  return { shape: [cg * p.groups, o / p.groups, kh, kw], p: { ...p, padding } };
}

/** The weights of {@link asForwardConv}'s convolution: w turned by 180° with input and output channels swapped. */
function flippedWeights(w: BackendTensor, p: Conv2dParams): BackendTensor {
  const [o, cg, kh, kw] = w.shape;
  const og = o / p.groups;
  const src = dataOf(w);
  const flipped = scratch32("flipped", src.length);
  for (let group = 0; group < p.groups; group++) {
    for (let c = 0; c < cg; c++) {
      for (let k = 0; k < og; k++) {
        const from = ((group * og + k) * cg + c) * kh * kw;
        const to = ((group * cg + c) * og + k) * kh * kw;
        for (let t = 0; t < kh * kw; t++) flipped[to + t] = src[from + kh * kw - 1 - t];
      }
    }
  }
  return { handle: { data: flipped }, shape: [cg * p.groups, og, kh, kw], dtype: "float32" };
}

const scratches = new Map<string, Float32Array<ArrayBufferLike>>();

/**
 * `size` floats of shared scratch under `name`, kept between calls: a SharedArrayBuffer made per
 * call is reclaimed late and its garbage collections cost more than the kernel.
 */
function scratch32(name: string, size: number): Float32Array {
  let buffer = scratches.get(name);
  if (!buffer || buffer.length < size) scratches.set(name, (buffer = new Float32Array(new ShareableBuffer(size * 4))));
  return buffer.subarray(0, size);
}

/** The taps of one kernel axis that reach input phase φ (of stride s), as a stride-1 correlation of dy. */
interface PhaseTaps {
  /** The taps k, in the order the correlation reads them (dy offsets ascending). */
  taps: number[];
  /** Zeros before dy: minus the first tap's offset. */
  padding: number;
  /** The spacing of the taps' offsets. */
  dilation: number;
}

/**
 * Input pixel i = s·a + φ receives dy[a + (φ + pad − k·dil) / s] from tap k wherever that is a
 * whole number: those taps, ordered by offset, form a correlation of stride 1 (null: none do).
 */
function phaseTaps(phase: number, kernel: number, stride: number, padding: number, dilation: number): PhaseTaps | null {
  const taps: number[] = [];
  for (let k = kernel - 1; k >= 0; k--) if ((phase + padding - k * dilation) % stride === 0) taps.push(k);
  if (taps.length === 0) return null;
  const offset = (k: number) => (phase + padding - k * dilation) / stride;
  return { taps, padding: -offset(taps[0]), dilation: taps.length > 1 ? offset(taps[1]) - offset(taps[0]) : 1 };
}


/**
 * For a stride above 1, the input gradient splits by the input pixel's phase (i mod s along each
 * axis): each phase is a stride-1 convolution of dy with the taps that reach it, flipped and with
 * input and output channels swapped, whose output is written straight into its places in dx.
 * Each runs in place on the forward kernel (false where one cannot), instead of a GEMM whose
 * columns are scattered back pixel by pixel.
 */
function byPhases(dy: BackendTensor, w: BackendTensor, out: BackendTensor, p: Conv2dParams): boolean {
  const [n, c, h, wd] = out.shape;
  const [o, cg, kh, kw] = w.shape;
  const [sy, sx] = p.stride;
  const og = o / p.groups;
  const phasesY = Array.from({ length: sy }, (_, f) => ({ f, size: Math.ceil((h - f) / sy), t: phaseTaps(f, kh, sy, p.padding[0], p.dilation[0]) }));
  const phasesX = Array.from({ length: sx }, (_, f) => ({ f, size: Math.ceil((wd - f) / sx), t: phaseTaps(f, kw, sx, p.padding[1], p.dilation[1]) }));
  // each phase must run in place: output rows of whole panels, windows starting at or before dy's
  if (phasesX.some((x) => x.size % NR !== 0) || [...phasesY, ...phasesX].some((a) => a.t !== null && a.t.padding < 0)) return false;
  const dx = dataOf(out);
  // stride 2 with whole phases of whole vectors: each phase into a dense plane, interleaved after
  const interleaved = sy === 2 && sx === 2 && h % 2 === 0 && wd % 8 === 0;
  const phaseFloats = n * c * phasesY[0].size * phasesX[0].size;
  const planes = interleaved ? scratch32("phases", 4 * phaseFloats) : null;
  // phases no tap reaches stay zero
  if (!planes) dx.fill(0);
  for (const py of phasesY) {
    for (const px of phasesX) if (planes && (!py.t || !px.t)) planes.fill(0, (2 * py.f + px.f) * phaseFloats, (2 * py.f + px.f + 1) * phaseFloats);
  }
  const src = dataOf(w);
  for (const py of phasesY) {
    for (const px of phasesX) {
      if (!py.t || !px.t || py.size === 0 || px.size === 0) continue;
      const [ty, tx] = [py.t.taps, px.t.taps];
      const sub = scratch32("flipped", c * og * ty.length * tx.length);
      for (let group = 0; group < p.groups; group++) {
        for (let ci = 0; ci < cg; ci++) {
          for (let k = 0; k < og; k++) {
            const from = ((group * og + k) * cg + ci) * kh * kw;
            const to = ((group * cg + ci) * og + k) * ty.length * tx.length;
            for (let i = 0; i < ty.length; i++) {
              for (let j = 0; j < tx.length; j++) sub[to + i * tx.length + j] = src[from + ty[i] * kw + tx[j]];
            }
          }
        }
      }
      const subW: BackendTensor = { handle: { data: sub }, shape: [c, og, ty.length, tx.length], dtype: "float32" };
      const q: Conv2dParams = { stride: [1, 1], padding: [py.t.padding, px.t.padding], dilation: [py.t.dilation, px.t.dilation], groups: p.groups };
      const g = geometry(dy.shape, subW.shape, [n, c, py.size, px.size], p.groups);
      if (planes) {
        // channel-major ([c, n, hp, wp]): each row of the GEMM's output goes out in one piece
        const phase = planes.subarray((2 * py.f + px.f) * phaseFloats, (2 * py.f + px.f + 1) * phaseFloats);
        const area = py.size * px.size;
        const channelMajor: Placement = { image: area, channel: n * area, row: px.size, column: 1, offset: 0 };
        threaded("conv2d", dy, subW, { handle: { data: phase }, shape: [n, c, py.size, px.size], dtype: "float32" }, g, q, convColumns(g), BLOCK_COLUMNS_ALIGN, channelMajor);
        continue;
      }
      // the phase's output goes straight to dx[…, s·a + φy, s·b + φx]
      const placement: Placement = { image: c * h * wd, channel: h * wd, row: sy * wd, column: sx, offset: py.f * wd + px.f };
      threaded("conv2d", dy, subW, out, g, q, convColumns(g), BLOCK_COLUMNS_ALIGN, placement);
    }
  }
  if (planes) interleave(planes, out, n, c, h / 2, wd / 2);
  return true;
}

/** dx from its four stride-2 phases (see {@link interleavePhasesF32}), the threads sharing out whole channels. */
function interleave(planes: Float32Array, dx: BackendTensor, n: number, c: number, hp: number, wp: number): void {
  const pool = currentPool();
  const [sp, so] = [share(planes, "float32"), share(dataOf(dx), dx.dtype)];
  const tasks = splitEvenly(c, pool?.threads ?? 1).map(([from, to]): InterleaveTask => ({ op: "interleavePhases", planes: sp, out: so, n, c, hp, wp, from, to }));
  if (pool && tasks.length > 1) pool.run(tasks);
  else tasks.forEach(runTask);
}

/** dx: as a forward convolution of the flipped weights (stride 1), by phases (strided), else col2im as the tiles come. */
export const conv2dBackwardInput: Kernel<"conv2dBackwardInput"> = ([dy, w], out, p) => {
  if (!fast(out.dtype)) return reference.conv2dBackwardInput([dy, w], out, p);
  const g = geometry(out.shape, w.shape, dy.shape, p.groups);
  const forward = asForwardConv(w, out, p);
  if (forward) {
    const fg = geometry(dy.shape, forward.shape, out.shape, p.groups);
    // Winograd's weight transform reads w turned and swapped in place (groups are never Winograd's)
    const tile = winogradTile(fg, forward.p);
    if (tile) return winograd(dy, dataOf(w), out, fg, tile, true);
    return threaded("conv2d", dy, flippedWeights(w, p), out, fg, forward.p, g.n * g.h * g.w);
  }
  if ((p.stride[0] > 1 || p.stride[1] > 1) && byPhases(dy, w, out, p)) return;
  threaded("conv2dBackwardInput", dy, w, out, g, p, convColumns(g), g.ho * g.wo);
};

/** The most chunks the weight gradient's depth (the batch) is cut into. */
const WEIGHT_CHUNKS = 16;
/** The most floats of partial weight gradients held at once: a large layer takes fewer chunks. */
const PARTIAL_FLOATS = 2 ** 22;
/**
 * The least depth (Winograd tiles, or output pixels) a chunk gives its products, unless that would
 * leave fewer than MIN_CHUNKS chunks: every chunk packs its own panels and writes a partial dW,
 * so a small batch (m-sharpness runs groups of 16) cut into one-image chunks of a small plane
 * spends more on that than on its products (32→64 stride 2 at 16 images: 14.3 ms for eight calls
 * in one-image chunks, 7.8 in two chunks of eight, one thread).
 */
const MIN_CHUNK_DEPTH = 512;
/** The fewest chunks a batch of at least that many images is cut into, so that two threads share it. */
const MIN_CHUNKS = 2;
let partials: Float32Array<ArrayBufferLike> = new Float32Array(0);

/**
 * The float32 weight gradient. Its depth runs over every image of the batch, so the batch is cut
 * into chunks that depend on the shapes alone; threads take whole chunks, each chunk's dW is
 * computed from zero into a slot of its own, and the slots are added in chunk order: the same
 * sums whatever the thread count, and no thread repeats another's work. (Sharing dW's rows
 * instead made every thread copy the whole padded input and transpose the whole output gradient,
 * a quarter of the work.) A layer too large for two chunks shares dW's rows.
 */
function weightGradient(x: BackendTensor, dy: BackendTensor, out: BackendTensor, g: Geometry, p: Conv2dParams): void {
  // Winograd's products run over the tiles of whole images: its batch is always cut into chunks
  const tile = weightGradientTile(g, p);
  const byWinograd = tile !== null;
  const size = weightChunkFloats(g, p);
  const depthPerImage = (g.ho * g.wo) / (tile ?? 1) ** 2;
  const byDepth = Math.max(Math.min(MIN_CHUNKS, g.n), Math.ceil(g.n / Math.ceil(MIN_CHUNK_DEPTH / Math.max(1, depthPerImage))));
  const chunks = Math.max(byWinograd ? 1 : 0, Math.min(WEIGHT_CHUNKS, byDepth, Math.floor(PARTIAL_FLOATS / Math.max(1, size))));
  // shares of dW's rows: an element's sum runs over the depth alone, so panel-aligned shares suffice
  if ((chunks < 2 && !byWinograd) || g.n * g.ho * g.wo * size === 0) return threaded("conv2dBackwardWeight", x, dy, out, g, p, g.rows, NR);
  const per = Math.ceil(g.n / chunks);
  const count = Math.ceil(g.n / per);
  if (partials.length < count * size) partials = new Float32Array(new ShareableBuffer(count * size * 4));
  const pool = poolFor(2 * g.n * g.ho * g.wo * g.o * g.rows);
  const [sx, sdy, sp] = [share(dataOf(x), x.dtype), share(dataOf(dy), dy.dtype), share(partials, "float32")];
  const tasks = splitEvenly(count, pool?.threads ?? 1).map(([from, to]): WeightChunksTask => ({
    op: "conv2dBackwardWeightChunks", x: sx, dy: sdy, partials: sp, geometry: g, params: p, per, from, to,
  }));
  if (pool && tasks.length > 1) pool.run(tasks);
  else tasks.forEach(runTask);
  // the slots added into the first, in chunk order
  for (let c = 1; c < count; c++) binaryRunF32("add", partials, 0, partials, 0, 1, partials, c * size, 1, size);
  if (tile) winogradWeightGradient(partials, dataOf(out), g.o, g.c, tile);
  else dataOf(out).set(partials.subarray(0, size));
}

/** dW_g = Σₙ dy[n, g] · im2col(x[n])ᵀ. */
export const conv2dBackwardWeight: Kernel<"conv2dBackwardWeight"> = ([x, dy], out, p) => {
  if (!fast(out.dtype)) return reference.conv2dBackwardWeight([x, dy], out, p);
  weightGradient(x, dy, out, geometry(x.shape, out.shape, dy.shape, p.groups), p);
};
