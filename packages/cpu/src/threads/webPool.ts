// The CPU backend's threads in browsers: module Web Workers over shared memory. A page's main
// thread may not block (Atomics.wait throws there), so it spins on the shared counter while the
// workers finish their shares. Workers start only after the page's thread has yielded to its event
// loop; until they are all ready, every share runs on the calling thread, with the same results.
import { SamError } from "@sam/tensor";
import { FAILED, FINISHED, newCounter, READY } from "./counter.js";
import type { Pool } from "../fast/pool.js";
import { runShare } from "../fast/shares.js";
import type { Share } from "../fast/tasks.js";

/** How long the calling thread spins for the workers' shares before calling them lost. */
const DEADLINE_MS = 60_000;

/** A fixed set of module Web Workers; `run` takes one task per thread, as the Node pool does. */
export class WebWorkerPool implements Pool {
  private readonly workers: Worker[];
  private readonly counter = newCounter();
  shares = 0;

  constructor(readonly threads: number) {
    this.workers = Array.from({ length: threads - 1 }, () => {
      // written out in full, as bundlers (Vite, webpack, Parcel) recognise a worker to bundle
      const w = new Worker(new URL("./webWorker.js", import.meta.url), { type: "module" });
      // a worker that cannot start leaves every share on the calling thread: say why
      w.onerror = (e) => console.error(`@sam/cpu: a Web Worker (webWorker.js) failed: ${e.message}`);
      w.postMessage({ signal: this.counter.buffer });
      return w;
    });
  }

  /** Whether every worker has started (until then, `run` runs every share here). */
  get ready(): boolean {
    return Atomics.load(this.counter, READY) === this.workers.length;
  }

  /** Resolves once every worker has started; a worker that never does is an error after DEADLINE_MS. */
  async whenReady(): Promise<void> {
    const deadline = performance.now() + DEADLINE_MS;
    while (!this.ready) {
      if (performance.now() > deadline) throw new SamError("cpu", `${this.workers.length} Web Worker(s) did not start within ${DEADLINE_MS / 1000} s (webWorker.js)`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Runs tasks[0] here and the others on the workers; returns when every one has finished. */
  run(tasks: Share[]): void {
    const others = tasks.slice(1);
    if (others.length > this.workers.length) throw new Error(`WebWorkerPool.run: ${tasks.length} tasks for ${this.threads} threads`);
    if (!this.ready) {
      tasks.forEach(runShare);
      return;
    }
    Atomics.store(this.counter, FINISHED, 0);
    others.forEach((t, i) => this.workers[i].postMessage(t));
    this.shares += others.length;
    if (tasks.length > 0) runShare(tasks[0]);
    const deadline = performance.now() + DEADLINE_MS;
    for (let spins = 0; Atomics.load(this.counter, FINISHED) < others.length; spins++) {
      if ((spins & 0xffff) === 0 && performance.now() > deadline) {
        throw new SamError("cpu", `a Web Worker did not finish its share of ${tasks[0].op} within ${DEADLINE_MS / 1000} s`);
      }
    }
    if (Atomics.exchange(this.counter, FAILED, 0) !== 0) throw new SamError("cpu", `a Web Worker failed while running ${tasks[0].op} (see the console)`);
  }
}
