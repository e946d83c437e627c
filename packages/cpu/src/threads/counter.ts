// The counter a pool shares with its workers, and what a worker does with a posted share of work.
import { runShare } from "../fast/shares.js";
import type { Share } from "../fast/tasks.js";

/** Slots of the shared Int32Array: shares finished, workers ready, and whether a share failed. */
export const FINISHED = 0;
export const READY = 1;
export const FAILED = 2;

/** A fresh counter over shared memory. */
export function newCounter(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(12));
}

/** A worker has started and waits for work. */
export function signalReady(counter: Int32Array): void {
  Atomics.add(counter, READY, 1);
  Atomics.notify(counter, READY);
}

/** Runs a share posted to a worker, then counts it finished (and failed if it threw). */
export function runPosted(counter: Int32Array, task: Share): void {
  try {
    runShare(task);
  } catch (e) {
    Atomics.store(counter, FAILED, 1);
    console.error(e);
  } finally {
    Atomics.add(counter, FINISHED, 1);
    Atomics.notify(counter, FINISHED);
  }
}
