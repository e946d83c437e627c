// The work a thread can be given: a float32 convolution over a range of its GEMM's columns.
import type { Conv2dParams, DType, TypedArray } from "@sam/tensor";
import { typedArrayFor } from "@sam/tensor";
import type { Geometry } from "../kernels/conv.js";
import { conv2dBackwardInputF32, conv2dBackwardWeightF32, conv2dF32 } from "../wasm/convF32.js";

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

/** The shared view of a typed array, to post to a worker. */
export function share(data: TypedArray, dtype: DType): SharedArray {
  return { buffer: data.buffer as SharedArrayBuffer, dtype, length: data.length };
}

const view = (s: SharedArray): TypedArray => typedArrayFor(s.dtype, s.length, s.buffer);

/** Runs one share, on whichever thread receives it. */
export function runTask(t: ConvTask): void {
  const run = { conv2d: conv2dF32, conv2dBackwardInput: conv2dBackwardInputF32, conv2dBackwardWeight: conv2dBackwardWeightF32 }[t.op];
  run(view(t.a), view(t.b), view(t.out), t.geometry, t.params, t.from, t.to);
}
