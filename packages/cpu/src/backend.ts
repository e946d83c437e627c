// The CPU backend: shared typed-array storage and the reference kernel table.
import type { Backend, DataHandle, DType, TypedArray } from "@sam/tensor";
import { kernels } from "./kernels/index.js";
import { allocShared, handleData } from "./kernels/storage.js";

/**
 * Creates the CPU backend. Reads are synchronous underneath, so `dataSync()` works on it.
 * @example
 * import { setBackend, tensor } from "@sam/tensor";
 * import { cpu } from "@sam/cpu";
 * setBackend(cpu());
 * tensor([1, 2, 3]).dataSync(); // Float32Array [1, 2, 3]
 */
export function cpu(): Backend {
  return {
    name: "cpu",
    alloc: (dtype: DType, size: number) => allocShared(dtype, size),
    write(handle: DataHandle, data: TypedArray) {
      handleData(handle).set(data);
    },
    read: async (handle: DataHandle) => handleData(handle).slice(),
    readSync: (handle: DataHandle) => handleData(handle).slice(),
    free() {
      // the garbage collector reclaims the SharedArrayBuffer once no tensor refers to it
    },
    run(op, inputs, out, params) {
      kernels[op](inputs, out, params);
    },
  };
}
