// A worker thread of the CPU backend: runs the shares of work it is posted, then signals.
import { parentPort, workerData } from "node:worker_threads";
import { runTask, type Task } from "./tasks.js";

const { signal } = workerData as { signal: SharedArrayBuffer };
const counter = new Int32Array(signal);

parentPort!.on("message", (task: Task) => {
  try {
    runTask(task);
  } catch (e) {
    Atomics.store(counter, 2, 1);
    console.error(e);
  } finally {
    Atomics.add(counter, 0, 1);
    Atomics.notify(counter, 0);
  }
});
Atomics.add(counter, 1, 1); // ready
Atomics.notify(counter, 1);
