// A worker thread of the CPU backend in Node: runs the shares of work it is posted, then signals.
import { parentPort, workerData } from "node:worker_threads";
import { runPosted, signalReady } from "./counter.js";
import type { Share } from "../fast/tasks.js";

const counter = new Int32Array((workerData as { signal: SharedArrayBuffer }).signal);
parentPort!.on("message", (task: Share) => runPosted(counter, task));
signalReady(counter);
