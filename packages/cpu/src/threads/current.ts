// The thread pool the CPU kernels share; set by cpu({ threads }).
import { ThreadPool } from "./pool.js";

let pool: ThreadPool | null = null;

/** Uses `threads` threads from now on (1: no workers). */
export function useThreads(threads: number): void {
  if ((pool?.threads ?? 1) === threads) return;
  pool = threads > 1 ? new ThreadPool(threads) : null;
}

/** The pool, or null when running on one thread. */
export function currentPool(): ThreadPool | null {
  return pool;
}
