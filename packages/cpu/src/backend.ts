// The CPU backend: shared typed-array storage and the reference kernel table.
import { bytesPerElement, type Backend, type DataHandle, type DType, type TypedArray } from "@sam/tensor";
import { kernels } from "./kernels/index.js";
import { allocShared, handleData, type CpuHandle } from "./kernels/storage.js";

/**
 * Bytes of freed buffers kept for reuse, like a caching allocator: a training step frees and
 * reallocates the same sizes, and a buffer left to the garbage collector is returned late.
 */
const POOL_BYTES = 2048 * 2 ** 20;

/**
 * Creates the CPU backend. Reads are synchronous underneath, so `dataSync()` works on it.
 * @example
 * import { setBackend, tensor } from "@sam/tensor";
 * import { cpu } from "@sam/cpu";
 * setBackend(cpu());
 * tensor([1, 2, 3]).dataSync(); // Float32Array [1, 2, 3]
 */
export function cpu(): Backend {
  // freed buffers by dtype and length; reused zero-filled instead of waiting for the collector
  const pool = new Map<string, CpuHandle[]>();
  let pooled = 0;
  return {
    name: "cpu",
    alloc(dtype: DType, size: number) {
      const reused = pool.get(`${dtype}:${size}`)?.pop();
      if (!reused) return allocShared(dtype, size);
      pooled -= size * bytesPerElement(dtype);
      reused.data.fill(0);
      return reused;
    },
    write(handle: DataHandle, data: TypedArray) {
      handleData(handle).set(data);
    },
    read: async (handle: DataHandle) => handleData(handle).slice(),
    readSync: (handle: DataHandle) => handleData(handle).slice(),
    free(handle: DataHandle) {
      const data = handleData(handle);
      if (data.length === 0 || pooled + data.byteLength > POOL_BYTES) return; // left to the collector
      const dtype: DType = data instanceof Float32Array ? "float32" : data instanceof Float64Array ? "float64" : data instanceof Int32Array ? "int32" : "bool";
      const key = `${dtype}:${data.length}`;
      const list = pool.get(key) ?? [];
      list.push(handle as CpuHandle);
      pool.set(key, list);
      pooled += data.byteLength;
    },
    run(op, inputs, out, params) {
      kernels[op](inputs, out, params);
    },
  };
}
