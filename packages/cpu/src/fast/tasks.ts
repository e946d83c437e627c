// The work a thread can be given, and the entry every worker runs it through: a float32
// convolution (by GEMM or by Winograd) or matrix product over a range of its GEMM's columns, an elementwise op over a range
// of its output, a reduction over a range of its slots, a per-channel op over channels or planes.
// Nothing here imports @sam/tensor at run time, so a browser's module worker loads it by relative
// URL alone.
import type { Conv2dParams, ReduceOp } from "@sam/tensor";
import type { ChannelLayout, Geometry, Placement } from "../geometry.js";
import { reduceRange } from "../reference/reduceLoops.js";
import { view, type SharedArray } from "../threads/shared.js";
import { conv2dBackwardInputF32, conv2dBackwardWeightChunksF32, conv2dBackwardWeightF32, conv2dF32, interleavePhasesF32 } from "../wasm/convF32.js";
import { gemmF32 } from "../wasm/gemmF32.js";
import { conv2dWinograd4x4F32 } from "../wasm/winograd4x4F32.js";
import { conv2dWinogradF32, type WinogradTile } from "../wasm/winogradF32.js";
import { channelAffineRange, channelDotsRange, channelMomentsRange } from "./channelRuns.js";
import { binaryRange, unaryRange, whereRange } from "./elementwiseRuns.js";

export { share, type SharedArray } from "../threads/shared.js";

/** One share of a unary op: output elements from…to. */
export interface UnaryTask {
  op: "unary";
  name: string;
  a: SharedArray;
  out: SharedArray;
  from: number;
  to: number;
}

/** One share of a binary op: output elements from…to. */
export interface BinaryTask {
  op: "binary";
  name: string;
  a: SharedArray;
  b: SharedArray;
  out: SharedArray;
  /** The output's shape and each operand's broadcast strides. */
  shape: number[];
  aStrides: number[];
  bStrides: number[];
  from: number;
  to: number;
}

/** One share of where(cond, a, b): output elements from…to. */
export interface WhereTask {
  op: "where";
  cond: SharedArray;
  a: SharedArray;
  b: SharedArray;
  out: SharedArray;
  /** The output's shape and each operand's broadcast strides. */
  shape: number[];
  strides: [number[], number[], number[]];
  from: number;
  to: number;
}

/** One share of an elementwise op. */
export type ElementwiseTask = UnaryTask | BinaryTask | WhereTask;

/** One share of a reduction: output slots from…to. */
export interface ReduceTask {
  op: "reduce";
  name: ReduceOp;
  a: SharedArray;
  out: SharedArray;
  shape: number[];
  /** The output slot's stride along each input axis (0 along reduced axes). */
  targets: number[];
  from: number;
  to: number;
}

/** One share of channelMoments (b null) or channelDots: channels from…to. */
export interface ChannelSumsTask {
  op: "channelSums";
  /** x for the moments; g for the dots. */
  a: SharedArray;
  /** x for the dots; null for the moments. */
  b: SharedArray | null;
  /** The dots' center, per channel; null for the moments. */
  center: SharedArray | null;
  out: SharedArray;
  layout: ChannelLayout;
  /** Groups of images summed apart (slots from…to are then group·C + channel). */
  groups: number;
  from: number;
  to: number;
}

/** One share of channelAffine: planes (n·C + c) from…to. */
export interface ChannelAffineTask {
  op: "channelAffine";
  x: SharedArray;
  center: SharedArray;
  scale: SharedArray;
  shift: SharedArray;
  addend: SharedArray | null;
  addendScale: SharedArray | null;
  out: SharedArray;
  relu: boolean;
  layout: ChannelLayout;
  /** Planes per group of images where center, scale, shift and addendScale are [G, C] (0: they are [C]). */
  groupPlanes: number;
  from: number;
  to: number;
}


/** One share of a convolution: which primitive, its operands (two inputs, one output) and the columns. */
export interface ConvTask {
  op: "conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight";
  a: SharedArray;
  b: SharedArray;
  out: SharedArray;
  geometry: Geometry;
  params: Conv2dParams;
  from: number;
  to: number;
  /** Where the forward convolution writes its output, when not densely (one phase of an input gradient). */
  placement?: Placement;
}

/** Images from…to of a convolution by Winograd: x, the transformed weights u, the output. */
export interface WinogradTask {
  op: "conv2dWinograd";
  tile: WinogradTile;
  x: SharedArray;
  u: SharedArray;
  out: SharedArray;
  geometry: Geometry;
  from: number;
  to: number;
}

/** Chunks from…to of a weight gradient's batch: chunk c is images c·per…(c+1)·per, its dW written to partials[c·size…]. */
export interface WeightChunksTask {
  op: "conv2dBackwardWeightChunks";
  x: SharedArray;
  dy: SharedArray;
  partials: SharedArray;
  geometry: Geometry;
  params: Conv2dParams;
  per: number;
  from: number;
  to: number;
}

/** Channels from…to of a stride-2 input gradient put together from its four phases. */
export interface InterleaveTask {
  op: "interleavePhases";
  planes: SharedArray;
  out: SharedArray;
  n: number;
  c: number;
  hp: number;
  wp: number;
  from: number;
  to: number;
}

/** One share of a batched matrix product: rows rows[0]…rows[1] and columns from…to of every product in the batch. */
export interface MatmulTask {
  op: "matmul";
  a: SharedArray;
  b: SharedArray;
  out: SharedArray;
  m: number;
  n: number;
  k: number;
  rows: [number, number];
  /** Offsets of each batch entry's A and B (C's are i·m·n). */
  aOffsets: number[];
  bOffsets: number[];
  from: number;
  to: number;
}

/** Work a thread can be given. */
export type Task = ConvTask | WinogradTask | WeightChunksTask | InterleaveTask | MatmulTask | ElementwiseTask | ReduceTask | ChannelSumsTask | ChannelAffineTask;

/** A tensor as it crosses to a worker: its shared array and its shape. */
export interface SharedTensor {
  data: SharedArray;
  shape: number[];
}

/** Groups from…to of a convolution whose weight has a kernel per group of images (run by fast/imageGroups.ts). */
export interface ImageGroupsTask {
  op: "convImageGroups";
  conv: "conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight";
  inputs: [SharedTensor, SharedTensor];
  out: SharedTensor;
  params: Conv2dParams & { inputShape?: number[]; weightShape?: number[] };
  groups: number;
  from: number;
  to: number;
}

/** Whatever a thread can be handed: a kernel's range, or whole groups of images. */
export type Share = Task | ImageGroupsTask;

/** Runs one share, on whichever thread receives it. */
export function runTask(t: Task): void {
  if (t.op === "reduce") return reduceRange(t.name, view(t.a), t.shape, t.targets, view(t.out), t.from, t.to);
  if (t.op === "channelSums") {
    return t.b && t.center ? channelDotsRange(view(t.a), view(t.b), view(t.center), t.layout, view(t.out), t.from, t.to, t.groups)
      : channelMomentsRange(view(t.a), t.layout, view(t.out), t.from, t.to, t.groups);
  }
  if (t.op === "channelAffine") {
    return channelAffineRange(view(t.x), view(t.center), view(t.scale), view(t.shift), t.addend && view(t.addend), t.addendScale && view(t.addendScale),
      view(t.out), t.relu, t.layout, t.from, t.to, t.groupPlanes);
  }
  if (t.op === "unary") return unaryRange(t.name, view(t.out), view(t.a), t.from, t.to);
  if (t.op === "where") return whereRange(view(t.out), t.shape, view(t.cond), view(t.a), view(t.b), t.strides, t.from, t.to);
  if (t.op === "binary") return binaryRange(t.name, view(t.out), t.shape, view(t.a), t.aStrides, view(t.b), t.bStrides, t.from, t.to);
  if (t.op === "conv2dBackwardWeightChunks") {
    return conv2dBackwardWeightChunksF32(view(t.x) as Float32Array, view(t.dy) as Float32Array, view(t.partials) as Float32Array, t.geometry, t.params, t.per, t.from, t.to);
  }
  if (t.op === "matmul") {
    const [a, b, c] = [view(t.a), view(t.b), view(t.out)];
    const [r0, r1] = t.rows;
    t.aOffsets.forEach((ao, i) => gemmF32(r1 - r0, t.n, t.k, { data: a, offset: ao + r0 * t.k, rowStride: t.k, colStride: 1 },
      { data: b, offset: t.bOffsets[i], rowStride: t.n, colStride: 1 }, c, i * t.m * t.n + r0 * t.n, t.n, false, t.from, t.to));
    return;
  }
  if (t.op === "interleavePhases") return interleavePhasesF32(view(t.planes) as Float32Array, view(t.out), t.n, t.c, t.hp, t.wp, t.from, t.to);
  if (t.op === "conv2dWinograd") {
    return (t.tile === 4 ? conv2dWinograd4x4F32 : conv2dWinogradF32)(view(t.x), view(t.u) as Float32Array, view(t.out), t.geometry, t.from, t.to);
  }
  if (t.op === "conv2d") return conv2dF32(view(t.a), view(t.b), view(t.out), t.geometry, t.params, t.from, t.to, t.placement ?? null);
  const run = { conv2dBackwardInput: conv2dBackwardInputF32, conv2dBackwardWeight: conv2dBackwardWeightF32 }[t.op];
  run(view(t.a), view(t.b), view(t.out), t.geometry, t.params, t.from, t.to);
}
