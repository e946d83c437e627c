// The work a thread can be given: a float32 convolution or matrix product over a range of its GEMM's
// columns, or an elementwise op over a range of its output.
import type { Conv2dParams } from "@sam/tensor";
import type { Geometry } from "../kernels/conv.js";
import { conv2dBackwardInputF32, conv2dBackwardWeightChunksF32, conv2dBackwardWeightF32, conv2dF32 } from "../wasm/convF32.js";
import { gemmF32 } from "../wasm/gemmF32.js";
import { binaryRange, unaryRange, whereRange, type ElementwiseTask } from "../kernels/elementwiseRanges.js";
import { reduceRange, type ReduceTask } from "../kernels/reduceRange.js";
import { channelAffineRange, channelDotsRange, channelMomentsRange, type ChannelAffineTask, type ChannelSumsTask } from "../kernels/channelRanges.js";
import { view, type SharedArray } from "./shared.js";

export { share, type SharedArray } from "./shared.js";

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
export type Task = ConvTask | WeightChunksTask | MatmulTask | ElementwiseTask | ReduceTask | ChannelSumsTask | ChannelAffineTask;

/** Runs one share, on whichever thread receives it. */
export function runTask(t: Task): void {
  if (t.op === "reduce") return reduceRange(t.name, view(t.a), t.shape, t.targets, view(t.out), t.from, t.to);
  if (t.op === "channelSums") {
    return t.b ? channelDotsRange(view(t.a), view(t.b), t.layout, view(t.out), t.from, t.to) : channelMomentsRange(view(t.a), t.layout, view(t.out), t.from, t.to);
  }
  if (t.op === "channelAffine") {
    return channelAffineRange(view(t.x), view(t.scale), view(t.shift), t.addend && view(t.addend), t.addendScale && view(t.addendScale),
      view(t.out), t.relu, t.layout, t.from, t.to);
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
  const run = { conv2d: conv2dF32, conv2dBackwardInput: conv2dBackwardInputF32, conv2dBackwardWeight: conv2dBackwardWeightF32 }[t.op];
  run(view(t.a), view(t.b), view(t.out), t.geometry, t.params, t.from, t.to);
}
