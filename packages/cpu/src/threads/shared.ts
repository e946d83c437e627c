// Typed arrays as they cross to a worker: the buffer (shared where the environment allows), where the array starts in it, dtype and length.
import type { DType, TypedArray } from "@sam/tensor";

/** A typed array as it crosses to a worker: its shared buffer, its byte offset there (a subarray's), dtype and length. */
export interface SharedArray {
  buffer: SharedArrayBuffer;
  offset: number;
  dtype: DType;
  length: number;
}

/** The shared view of a typed array, to post to a worker. */
export function share(data: TypedArray, dtype: DType): SharedArray {
  return { buffer: data.buffer as SharedArrayBuffer, offset: data.byteOffset, dtype, length: data.length };
}

// @sam/tensor's typedArrayFor, restated so that a worker's modules need no import map
const ARRAYS: Record<DType, new (buffer: SharedArrayBuffer, offset: number, length: number) => TypedArray> =
  { float32: Float32Array, float64: Float64Array, int32: Int32Array, bool: Uint8Array };

/** The typed array a shared view stands for. */
export const view = (s: SharedArray): TypedArray => new ARRAYS[s.dtype](s.buffer, s.offset, s.length);
