// The thread pool the CPU kernels share; set by cpu({ threads }).
import { ThreadPool } from "./pool.js";

let pool: ThreadPool | null = null;

/** Uses `threads` threads from now on (1: no workers). */
export function useThreads(threads: number): void {
  if ((pool?.threads ?? 1) === threads) return;
  pool = threads > 1 ? new ThreadPool(threads) : null;
}

/**
 * Work below this many floating-point operations runs on the calling thread: handing it to the
 * workers would cost more than it saves. The result is the same either way (shares are computed
 * identically wherever they run).
 */
const MIN_SHARED_FLOPS = 2 ** 21;

/** The pool for a kernel of `flops` operations, or null to run it here. */
export function poolFor(flops: number): ThreadPool | null {
  return flops >= MIN_SHARED_FLOPS ? pool : null;
}

/** The pool, or null when running on one thread. */
export function currentPool(): ThreadPool | null {
  return pool;
}
