// The work a thread can be given: a float32 convolution or matrix product over a range of its GEMM's columns.
import type { Conv2dParams, DType, TypedArray } from "@sam/tensor";
import { typedArrayFor } from "@sam/tensor";
import type { Geometry } from "../kernels/conv.js";
import { conv2dBackwardInputF32, conv2dBackwardWeightF32, conv2dF32 } from "../wasm/convF32.js";
import { gemmF32 } from "../wasm/gemmF32.js";

/** A typed array as it crosses to a worker: its shared buffer, dtype and length. */
export interface SharedArray {
  buffer: SharedArrayBuffer;
  dtype: DType;
  length: number;
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
export type Task = ConvTask | MatmulTask;

/** The shared view of a typed array, to post to a worker. */
export function share(data: TypedArray, dtype: DType): SharedArray {
  return { buffer: data.buffer as SharedArrayBuffer, dtype, length: data.length };
}

const view = (s: SharedArray): TypedArray => typedArrayFor(s.dtype, s.length, s.buffer);

/** Runs one share, on whichever thread receives it. */
export function runTask(t: Task): void {
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
