// Reference-counted storage: a backend buffer shared by every tensor that views it.
import type { Backend, DataHandle } from "./backend.js";
import { bytesPerElement, type DType } from "./dtype.js";

const live = { buffers: 0, bytes: 0 };

/** How much backend storage is alive, over all backends. */
export interface MemoryInfo {
  /** Buffers allocated and not yet freed. */
  buffers: number;
  /** Bytes held by those buffers. */
  bytes: number;
}

/**
 * The live storage count: use it to check that a loop does not leak.
 * @example
 * const before = memory().buffers;
 * tidy(() => model(x));
 * memory().buffers === before; // true
 */
export function memory(): MemoryInfo {
  return { ...live };
}

/** One backend buffer and the number of tensors that hold it. */
export class Storage {
  /** The backend that owns the buffer. */
  readonly backend: Backend;
  /** The backend's handle to it. */
  readonly handle: DataHandle;
  /** Its element type. */
  readonly dtype: DType;
  /** Its length in elements. */
  readonly size: number;
  private refs = 1;

  /** Allocates `size` elements of `dtype` on `backend`, held once. */
  constructor(backend: Backend, dtype: DType, size: number) {
    this.backend = backend;
    this.dtype = dtype;
    this.size = size;
    this.handle = backend.alloc(dtype, size);
    live.buffers++;
    live.bytes += size * bytesPerElement(dtype);
  }

  /** Adds a holder. */
  retain(): this {
    this.refs++;
    return this;
  }

  /** Drops a holder; the last one frees the buffer. */
  release(): void {
    if (--this.refs > 0) return;
    this.backend.free(this.handle);
    live.buffers--;
    live.bytes -= this.size * bytesPerElement(this.dtype);
  }
}
