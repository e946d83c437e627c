// The page: starts the training worker, plots the loss of every step as it arrives, and says where
// it trains (and why, when it fell back from WebGPU to the CPU). The address may ask for a device
// (`?device=webgpu|cpu`, default auto), `&threads=N`, a scale (`&batch=B&size=S`, default 16
// images of 8×8 pixels), and that the results be posted back to the server (`&report=/path`).
import type { TrainRequest, WorkerMessage } from "./messages.js";

const STEPS = 12;
const params = new URLSearchParams(location.search);
const status = document.getElementById("status")!;
const notice = document.getElementById("notice")!;
const log = document.getElementById("log")!;
const plot = document.getElementById("plot")!;

function draw(losses: number[]): void {
  const top = Math.max(...losses);
  const points = losses.map((l, i) => `${(i / Math.max(1, STEPS - 1)) * 400},${140 - (l / top) * 130}`).join(" ");
  plot.innerHTML = `<polyline fill="none" stroke="#06c" stroke-width="2" points="${points}"/>`;
}

async function report(body: unknown): Promise<void> {
  const to = params.get("report");
  if (to) await fetch(to, { method: "POST", body: JSON.stringify(body) });
}

// The page's own thread stays free while the worker trains: the longest gap between its ticks says so.
let [lastTick, longestGap] = [performance.now(), 0];
const ticker = setInterval(() => {
  const now = performance.now();
  longestGap = Math.max(longestGap, now - lastTick);
  lastTick = now;
}, 20);

const device = (params.get("device") ?? "auto") as TrainRequest["device"];
const threads = params.has("threads") ? Number(params.get("threads")) : undefined;
const request: TrainRequest = { device, threads, steps: STEPS, batch: Number(params.get("batch") ?? 16), size: Number(params.get("size") ?? 8) };
const worker = new Worker(new URL("./trainer.worker.ts", import.meta.url), { type: "module" });
const losses: number[] = [];
let on = "";
let fellBack: string | undefined;

worker.onmessage = async ({ data: m }: MessageEvent<WorkerMessage>) => {
  if (m.kind === "device") {
    ({ on, fellBack } = m);
    status.textContent = `training on ${on}`;
    if (fellBack) notice.textContent = `WebGPU is not available here (${fellBack}), so this page trains on the CPU instead: ${on}. It is slower; a browser with WebGPU (Chrome or Edge) trains on the GPU.`;
  } else if (m.kind === "loss") {
    losses.push(m.loss);
    log.textContent += `step ${losses.length}: loss ${m.loss.toFixed(4)}\n`;
    draw(losses);
  } else if (m.kind === "done") {
    clearInterval(ticker);
    status.textContent = `done: loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)} on ${on}`;
    await report({ device: on, fellBack, losses, workerShares: m.workerShares, longestGapMs: longestGap });
  } else {
    clearInterval(ticker);
    status.textContent = m.message;
    status.className = "error";
    await report({ error: m.message });
  }
};
worker.onerror = async (e) => {
  status.textContent = `the training worker failed: ${e.message}`;
  status.className = "error";
  await report({ error: `the training worker failed: ${e.message}` });
};
worker.postMessage(request);
