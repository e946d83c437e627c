// CPU storage: typed arrays over SharedArrayBuffer (where the environment has it), so worker threads
// share them. Nothing here imports @sam/tensor at run time: the kernels that use it run in workers too.
import type { BackendTensor, TypedArray } from "@sam/tensor";

/** Storage that threads can share where the environment allows it (a browser page must be cross-origin isolated). */
export const ShareableBuffer: new (bytes: number) => ArrayBufferLike = typeof SharedArrayBuffer === "function" ? SharedArrayBuffer : ArrayBuffer;

/** The CPU's handle to a buffer: the typed array itself. */
export interface CpuHandle {
  readonly data: TypedArray;
}

/**
 * The typed array behind a kernel's input or output (the engine runs a kernel only on tensors of
 * its own backend, so every handle here is a CPU handle).
 */
export function dataOf(t: BackendTensor): TypedArray {
  return (t.handle as CpuHandle).data;
}
