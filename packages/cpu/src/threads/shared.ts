// Typed arrays as they cross to a worker: the buffer (shared where the environment allows), dtype and length.
import { typedArrayFor, type DType, type TypedArray } from "@sam/tensor";

/** A typed array as it crosses to a worker: its shared buffer, dtype and length. */
export interface SharedArray {
  buffer: SharedArrayBuffer;
  dtype: DType;
  length: number;
}

/** The shared view of a typed array, to post to a worker. */
export function share(data: TypedArray, dtype: DType): SharedArray {
  return { buffer: data.buffer as SharedArrayBuffer, dtype, length: data.length };
}

/** The typed array a shared view stands for. */
export const view = (s: SharedArray): TypedArray => typedArrayFor(s.dtype, s.length, s.buffer);
