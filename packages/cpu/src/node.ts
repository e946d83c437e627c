// The CPU backend in Node: worker threads from node:worker_threads, one per core by default.
import { availableParallelism } from "node:os";
import type { Backend } from "@sam/tensor";
import { createCpu, type CpuOptions } from "./backend.js";
import { enableRelaxedSimd } from "./relaxedSimd.js";
import { ThreadPool } from "./threads/pool.js";

enableRelaxedSimd(); // before any kernel compiles, on this thread or a worker

/**
 * Creates the CPU backend. Reads are synchronous underneath, so `dataSync()` works on it.
 * @example
 * import { setBackend, tensor } from "@sam/tensor";
 * import { cpu } from "@sam/cpu";
 * setBackend(cpu());
 * tensor([1, 2, 3]).dataSync(); // Float32Array [1, 2, 3]
 */
export function cpu(opts: CpuOptions = {}): Backend {
  return createCpu(opts.threads ?? availableParallelism(), (threads) => new ThreadPool(threads), opts.kernels);
}
