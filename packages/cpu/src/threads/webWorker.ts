// A Web Worker of the CPU backend in browsers: the first message brings the shared counter, each
// later one a share of work. Its modules import only by relative URL (module workers see no
// import map).
import { runPosted, signalReady } from "./counter.js";
import type { Share } from "../fast/tasks.js";

let counter: Int32Array | null = null;
self.onmessage = (event: MessageEvent<{ signal: SharedArrayBuffer } | Share>) => {
  const message = event.data;
  if (counter) return runPosted(counter, message as Share);
  counter = new Int32Array((message as { signal: SharedArrayBuffer }).signal);
  signalReady(counter);
};
