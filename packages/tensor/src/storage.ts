// Reference-counted storage: a backend buffer shared by every tensor that views it.
import type { Backend, DataHandle } from "./backend.js";
import { bytesPerElement, type DType } from "./dtype.js";
import { check } from "./errors.js";

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

/**
 * Where a view may start: a multiple of this many elements, so that a GPU can bind it (WebGPU
 * binds storage at offsets that are multiples of 256 bytes).
 */
export const VIEW_ALIGNMENT = 64;

/**
 * One backend buffer, or a view of consecutive elements of another storage, and the number of
 * tensors that hold it. A view keeps its parent alive; views and the storages they view are
 * `pinned`: a tensor holding one is written in place (see `Tensor.assign`), so every view sees it.
 */
export class Storage {
  /** The backend that owns the buffer. */
  readonly backend: Backend;
  /** The backend's handle to it. */
  readonly handle: DataHandle;
  /** Its element type. */
  readonly dtype: DType;
  /** Its length in elements. */
  readonly size: number;
  /** The storage this one is a view of, or null for a buffer of its own. */
  readonly parent: Storage | null;
  private refs = 1;
  private viewed = false;

  /** Allocates `size` elements of `dtype` on `backend`, held once; or, given `parent`, views `size` of its elements from `offset`. */
  constructor(backend: Backend, dtype: DType, size: number, parent?: { storage: Storage; offset: number }) {
    this.backend = backend;
    this.dtype = dtype;
    this.size = size;
    this.parent = parent?.storage ?? null;
    if (parent) {
      const { storage, offset } = parent;
      check(storage.dtype === dtype && Number.isInteger(offset) && offset >= 0 && offset + size <= storage.size, "Storage",
        () => `a view of ${size} ${dtype} elements from ${offset} does not fit a storage of ${storage.size} ${storage.dtype}`);
      check(offset % VIEW_ALIGNMENT === 0, "Storage", () => `a view must start at a multiple of ${VIEW_ALIGNMENT} elements, got ${offset}`);
      this.handle = backend.view(storage.handle, offset, size);
      storage.retain().viewed = true;
      return;
    }
    this.handle = backend.alloc(dtype, size);
    live.buffers++;
    live.bytes += size * bytesPerElement(dtype);
  }

  /** Whether writes to a tensor holding this storage must go into it, not replace it: it is a view or has views. */
  get pinned(): boolean {
    return this.viewed || this.parent !== null;
  }

  /** Adds a holder. */
  retain(): this {
    this.refs++;
    return this;
  }

  /** Drops a holder; the last one frees the buffer. */
  release(): void {
    if (--this.refs > 0) return;
    if (this.parent) return this.parent.release();
    this.backend.free(this.handle);
    live.buffers--;
    live.bytes -= this.size * bytesPerElement(this.dtype);
  }
}
