// CPU storage: typed arrays over SharedArrayBuffer (where the environment has it), so worker threads share them.
import { SamError, typedArrayFor, type BackendTensor, type DataHandle, type DType, type TypedArray } from "@sam/tensor";

/** Storage that threads can share where the environment allows it (a browser page must be cross-origin isolated). */
export const ShareableBuffer: new (bytes: number) => ArrayBufferLike = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer : ArrayBuffer;

/** The CPU's handle to a buffer: the typed array itself. */
export interface CpuHandle {
  readonly data: TypedArray;
}

/** A view of `size` elements of `dtype` over `buffer` (which may be larger). */
export function viewOf(dtype: DType, size: number, buffer: ArrayBufferLike): CpuHandle {
  return { data: typedArrayFor(dtype, size, buffer) };
}

/** The typed array behind a handle, checking that it is a CPU handle. */
export function handleData(handle: DataHandle): TypedArray {
  const data = (handle as Partial<CpuHandle>).data;
  if (data === undefined) throw new SamError("cpu", "a tensor from another backend was passed to the CPU backend");
  return data;
}

/** The typed array behind a kernel's input or output. */
export function dataOf(t: BackendTensor): TypedArray {
  return handleData(t.handle);
}
