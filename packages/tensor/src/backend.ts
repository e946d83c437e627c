// The narrow interface every backend implements: storage in, storage out, one primitive at a time.
import type { DType, TypedArray } from "./dtype.js";
import type { OpName, OpParams } from "./primitives.js";
import type { Shape } from "./shape.js";

/** A backend's handle to one buffer of storage; opaque to everything but that backend. */
export type DataHandle = object;

/** What a kernel sees of a tensor: its storage handle, shape and dtype (always contiguous, row-major). */
export interface BackendTensor {
  /** The backend's storage. */
  readonly handle: DataHandle;
  /** The shape, row-major. */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
}

/** A kernel: computes one primitive from its inputs into a freshly allocated output, writing every element. */
export type Kernel<K extends OpName> = (inputs: readonly BackendTensor[], out: BackendTensor, params: OpParams[K]) => void;

/** A table with a kernel for every primitive; a missing kernel is a compile error. */
export type KernelTable = { [K in OpName]: Kernel<K> };

/**
 * A place where tensors live and primitives run.
 * @example
 * import { setBackend } from "@sam/tensor";
 * import { cpu } from "@sam/cpu";
 * setBackend(cpu());
 */
export interface Backend {
  /** A short name, such as `"cpu"`. */
  readonly name: string;
  /**
   * Allocates storage for `size` elements of `dtype`. Its contents are unspecified until written:
   * every kernel writes each element of its output, and creation writes its values.
   */
  alloc(dtype: DType, size: number): DataHandle;
  /** Copies `data` into the storage (same dtype and length). */
  write(handle: DataHandle, data: TypedArray): void;
  /** Copies the storage out; the only place a backend may make the caller wait. */
  read(handle: DataHandle): Promise<TypedArray>;
  /** Copies the storage out synchronously, where the backend can (the CPU can, a GPU cannot). */
  readSync?(handle: DataHandle): TypedArray;
  /** Releases the storage. */
  free(handle: DataHandle): void;
  /**
   * A handle to `size` consecutive elements of `handle`'s storage from element `offset`, sharing
   * its memory (never freed itself: the storage it views is). Kernels read it as any other input.
   */
  view(handle: DataHandle, offset: number, size: number): DataHandle;
  /** Copies all of `source` into `target` (same dtype and length), in order with the kernels run before. */
  copy(source: DataHandle, target: DataHandle): void;
  /**
   * A training step ended (optimizers call this after their update). A backend that records its
   * work submits it here, and compares the next step with this one (the WebGPU backend replays a
   * repeated step's commands). Optional.
   */
  endStep?(): void;
  /** Runs one primitive, writing into `out`. */
  run<K extends OpName>(op: K, inputs: readonly BackendTensor[], out: BackendTensor, params: OpParams[K]): void;
}
