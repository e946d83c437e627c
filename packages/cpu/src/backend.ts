// The CPU backend: shared typed-array storage and the reference kernel table.
import { availableParallelism } from "node:os";
import { bytesPerElement, check, type Backend, type DataHandle, type DType, type TypedArray } from "@sam/tensor";
import { useThreads } from "./threads/current.js";
import { kernels } from "./kernels/index.js";
import { handleData, viewOf } from "./kernels/storage.js";

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
}

/**
 * Creates the CPU backend. Reads are synchronous underneath, so `dataSync()` works on it.
 * @example
 * import { setBackend, tensor } from "@sam/tensor";
 * import { cpu } from "@sam/cpu";
 * setBackend(cpu());
 * tensor([1, 2, 3]).dataSync(); // Float32Array [1, 2, 3]
 */
export function cpu(opts: CpuOptions = {}): Backend {
  const threads = opts.threads ?? availableParallelism();
  check(Number.isInteger(threads) && threads >= 1, "cpu", () => `threads must be a positive integer, got ${threads}`);
  useThreads(threads);
  const pool = new Map<number, SharedArrayBuffer[]>(); // free buffers by size class
  let pooled = 0;
  return {
    name: "cpu",
    alloc(dtype: DType, size: number) {
      const bytes = sizeClass(size * bytesPerElement(dtype));
      const reused = pool.get(bytes)?.pop();
      if (!reused) return viewOf(dtype, size, new SharedArrayBuffer(bytes));
      pooled -= bytes;
      const handle = viewOf(dtype, size, reused);
      handle.data.fill(0);
      return handle;
    },
    write(handle: DataHandle, data: TypedArray) {
      handleData(handle).set(data);
    },
    read: async (handle: DataHandle) => handleData(handle).slice(),
    readSync: (handle: DataHandle) => handleData(handle).slice(),
    free(handle: DataHandle) {
      const buffer = handleData(handle).buffer as SharedArrayBuffer;
      if (pooled + buffer.byteLength > POOL_BYTES) return;
      const list = pool.get(buffer.byteLength) ?? [];
      list.push(buffer);
      pool.set(buffer.byteLength, list);
      pooled += buffer.byteLength;
    },
    run(op, inputs, out, params) {
      kernels[op](inputs, out, params);
    },
  };
}
