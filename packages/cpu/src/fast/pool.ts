// The thread pool the fast kernels share; set when a CPU backend is created. This module imports no
// worker implementation, so the kernels load anywhere (Node's worker_threads live in threads/).
import { splitEvenly } from "../threads/split.js";
import type { Share, Task } from "./tasks.js";

/** Threads that run one task each, the first on the calling thread, and return when all are done. */
export interface Pool {
  /** The calling thread and the workers. */
  readonly threads: number;
  /** Shares of work the workers have run so far. */
  readonly shares: number;
  /** Runs tasks[0] here and the others on the workers. */
  run(tasks: Share[]): void;
  /** Resolves once every worker has started, where they start in the background (a browser's). */
  whenReady?(): Promise<void>;
}

let pool: Pool | null = null;

/** Uses `next` from now on (null: the calling thread alone). */
export function setPool(next: Pool | null): void {
  pool = next;
}

/**
 * Work below this many floating-point operations runs on the calling thread: handing it to the
 * workers would cost more than it saves. The result is the same either way (shares are computed
 * identically wherever they run).
 */
const MIN_SHARED_FLOPS = 2 ** 21;

/** The pool for a kernel of `flops` operations, or null to run it here. */
export function poolFor(flops: number): Pool | null {
  return flops >= MIN_SHARED_FLOPS ? pool : null;
}

/** The pool, or null when running on one thread. */
export function currentPool(): Pool | null {
  return pool;
}

/** Elements of an elementwise or per-channel op below which it runs on the calling thread alone. */
const MIN_SHARED_ELEMENTS = 2 ** 18;

/**
 * Runs `local(0, units)` here, or, for an op over at least MIN_SHARED_ELEMENTS elements, splits
 * its units (elements, channels, planes) evenly between the pool's threads as `task(from, to)`.
 */
export function shareOut(elements: number, units: number, task: (from: number, to: number) => Task, local: (from: number, to: number) => void): void {
  const shared = elements >= MIN_SHARED_ELEMENTS ? pool : null;
  if (!shared || units < 2) return local(0, units);
  shared.run(splitEvenly(units, shared.threads).map(([from, to]) => task(from, to)));
}

/**
 * Resolves once the CPU backend's worker threads have all started: at once in Node (its pool
 * waits for them itself) and on one thread. In a browser, workers start only after the page
 * yields to its event loop, and until then every share runs on the page's thread; await this
 * before a loop that should use them from its first step.
 * @example
 * setBackend(cpu({ threads: 4 }));
 * await workersReady();
 */
export async function workersReady(): Promise<void> {
  await pool?.whenReady?.();
}

/**
 * Shares of work the CPU backend's worker threads have run so far: 0 on one thread, and in a
 * browser until its Web Workers have started.
 * @example
 * setBackend(cpu({ threads: 2 }));
 * randn([512, 512]).matmul(randn([512, 512]));
 * workerShares(); // 1: the worker computed half of the product
 */
export function workerShares(): number {
  return pool?.shares ?? 0;
}
