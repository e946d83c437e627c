// The CPU backend's threads: workers over the same shared storage, each running a share of a
// kernel while the calling thread runs its own, then waiting for all (the only synchronisation).
import { Worker } from "node:worker_threads";
import { SamError } from "@sam/tensor";
import { FAILED, FINISHED, newCounter, READY } from "./counter.js";
import type { Pool } from "../fast/pool.js";
import { runShare } from "../fast/shares.js";
import type { Share } from "../fast/tasks.js";

// The compiled worker; run from TypeScript sources (the tests), this module finds it in dist/.
const WORKER = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/threads/worker.js", import.meta.url)
  : new URL("./worker.js", import.meta.url);

/**
 * A fixed set of worker threads. `run` splits nothing itself: it takes one task per thread,
 * runs the first here and the rest on the workers, and returns when all are done.
 */
export class ThreadPool implements Pool {
  private readonly workers: Worker[];
  private readonly counter = newCounter();
  shares = 0;

  constructor(readonly threads: number) {
    this.workers = Array.from({ length: threads - 1 }, () => {
      const w = new Worker(WORKER, { workerData: { signal: this.counter.buffer } });
      w.unref(); // a pool never keeps the process alive
      return w;
    });
  }

  /** Runs tasks[0] here and the others on the workers; returns when every one has finished. */
  run(tasks: Share[]): void {
    const others = tasks.slice(1);
    if (others.length > this.workers.length) throw new Error(`ThreadPool.run: ${tasks.length} tasks for ${this.threads} threads`);
    const deadline = Date.now() + 30_000;
    while (Atomics.load(this.counter, READY) < this.workers.length) {
      // this thread blocks here, so a worker that cannot start shows only as time running out
      if (Date.now() > deadline) throw new SamError("cpu", `${this.workers.length} worker thread(s) did not start within 30 s (${WORKER.href})`);
      Atomics.wait(this.counter, READY, Atomics.load(this.counter, READY), 100);
    }
    Atomics.store(this.counter, FINISHED, 0);
    others.forEach((t, i) => this.workers[i].postMessage(t));
    this.shares += others.length;
    if (tasks.length > 0) runShare(tasks[0]);
    for (let done = Atomics.load(this.counter, FINISHED); done < others.length; done = Atomics.load(this.counter, FINISHED)) {
      Atomics.wait(this.counter, FINISHED, done, 1000);
    }
    if (Atomics.exchange(this.counter, FAILED, 0) !== 0) throw new SamError("cpu", `a worker thread failed while running ${tasks[0].op}`);
  }
}
