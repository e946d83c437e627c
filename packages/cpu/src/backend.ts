// The CPU backend: shared typed-array storage, and the reference kernel table with the fast
// layer's entries over it (or the reference table alone).
import { bytesPerElement, check, SamError, typedArrayFor, type Backend, type DataHandle, type DType, type KernelTable, type TypedArray } from "@sam/tensor";
import { fastKernels } from "./fast/index.js";
import { currentPool, setPool, type Pool } from "./fast/pool.js";
import { referenceKernels } from "./reference/index.js";
import { ShareableBuffer, type CpuHandle } from "./storage.js";

/** A view of `size` elements of `dtype` over `buffer` (which may be larger). */
function viewOf(dtype: DType, size: number, buffer: ArrayBufferLike): CpuHandle {
  return { data: typedArrayFor(dtype, size, buffer) };
}

/** The typed array behind a handle given to the backend, checking that it is a CPU handle. */
function handleData(handle: DataHandle): TypedArray {
  const data = (handle as Partial<CpuHandle>).data;
  if (data === undefined) throw new SamError("cpu", "a tensor from another backend was passed to the CPU backend");
  return data;
}

/** The reference table with the fast layer's entries in place of their references. */
const fast: KernelTable = { ...referenceKernels, ...fastKernels } as KernelTable;

/**
 * Freed buffers are kept for reuse, like a caching allocator, and not left to the garbage
 * collector: V8 reclaims a dropped SharedArrayBuffer late (a loop dropping 64 MiB buffers grows
 * past 3 GiB), while a training step frees and reallocates the same sizes every time. Buffers are
 * pooled by size class (steps of 1/8 of a power of two), so a class wastes at most 12.5%. Beyond
 * this many pooled bytes, freed buffers are dropped.
 */
const POOL_BYTES = 16 * 2 ** 30;

/** The size class of a buffer of `bytes` bytes. */
function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const step = 2 ** Math.floor(Math.log2(bytes)) / 8;
  return Math.ceil(bytes / step) * step;
}

/** Options of the CPU backend. */
export interface CpuOptions {
  /**
   * Threads for the heavy float32 kernels (matmul and the convolutions): the calling thread and
   * threads − 1 workers over the same shared storage. Results are the same for any count.
   * Default: the number of cores.
   */
  threads?: number;
  /**
   * `"fast"` (the default): float32 in WebAssembly SIMD and large work shared between the threads.
   * `"reference"`: every primitive by its plain definition, on the calling thread (`threads` is
   * not used) — slow, and what the fast kernels are tested against.
   */
  kernels?: "fast" | "reference";
}

/**
 * Creates the CPU backend on `threads` threads; `startPool` starts the workers (null where the
 * environment has none, and then only one thread is allowed).
 */
export function createCpu(threads: number, startPool: ((threads: number) => Pool) | null, which: CpuOptions["kernels"] = "fast"): Backend {
  check(which === "fast" || which === "reference", "cpu", () => `kernels must be "fast" or "reference", got ${JSON.stringify(which)}`);
  const kernels = which === "reference" ? referenceKernels : fast;
  if (which === "fast") {
    check(Number.isInteger(threads) && threads >= 1, "cpu", () => `threads must be a positive integer, got ${threads}`);
    check(threads === 1 || startPool !== null, "cpu", () => `${threads} threads need worker threads, which this environment does not offer; use threads: 1`);
    if ((currentPool()?.threads ?? 1) !== threads) setPool(threads > 1 ? startPool!(threads) : null);
  }
  const pool = new Map<number, ArrayBufferLike[]>(); // free buffers by size class
  let pooled = 0;
  return {
    name: which === "reference" ? "cpu-reference" : "cpu",
    alloc(dtype: DType, size: number) {
      const bytes = sizeClass(size * bytesPerElement(dtype));
      const reused = pool.get(bytes)?.pop();
      if (!reused) return viewOf(dtype, size, new ShareableBuffer(bytes));
      pooled -= bytes;
      return viewOf(dtype, size, reused); // not cleared: the kernel or the creator writes every element
    },
    write(handle: DataHandle, data: TypedArray) {
      handleData(handle).set(data);
    },
    read: async (handle: DataHandle) => handleData(handle).slice(),
    readSync: (handle: DataHandle) => handleData(handle).slice(),
    free(handle: DataHandle) {
      const buffer = handleData(handle).buffer;
      if (pooled + buffer.byteLength > POOL_BYTES) return;
      const list = pool.get(buffer.byteLength) ?? [];
      list.push(buffer);
      pool.set(buffer.byteLength, list);
      pooled += buffer.byteLength;
    },
    view: (handle: DataHandle, offset: number, size: number) => ({ data: handleData(handle).subarray(offset, offset + size) }),
    copy(source: DataHandle, target: DataHandle) {
      handleData(target).set(handleData(source));
    },
    run(op, inputs, out, params) {
      kernels[op](inputs, out, params);
    },
  };
}
