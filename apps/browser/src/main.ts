// The page: trains a small CNN with SAM on WebGPU (or on the CPU backend with `?device=cpu`, on
// `&threads=N` threads), plots the loss after every step and, when the address asks for it
// (`?report=/path`), posts the losses back to the server that served it. `&batch=B&size=S` scales
// the task (16 images of 8×8 pixels by default).
import { cpu, workerShares, workersReady } from "@sam/cpu";
import { setBackend, type Backend } from "@sam/tensor";
import { webgpu } from "@sam/webgpu";
import { trainSteps } from "./training.js";

const STEPS = 12;
const params = new URLSearchParams(location.search);
const status = document.getElementById("status")!;
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

/** The backend the address asks for, and what to call it. */
async function backend(): Promise<{ backend: Backend; on: string }> {
  if (params.get("device") === "cpu") {
    const threads = Number(params.get("threads") ?? 1);
    return { backend: cpu({ threads }), on: `the CPU (WebAssembly) on ${threads} thread${threads > 1 ? "s" : ""}` };
  }
  const gpu = await webgpu();
  return { backend: gpu, on: gpu.adapter };
}

async function main(): Promise<void> {
  const { backend: chosen, on } = await backend();
  setBackend(chosen);
  await workersReady(); // the CPU's Web Workers share the work from the first step
  status.textContent = `training on ${on}`;
  const losses: number[] = [];
  const scale = { batch: Number(params.get("batch") ?? 16), size: Number(params.get("size") ?? 8) };
  for await (const loss of trainSteps(STEPS, scale)) {
    losses.push(loss);
    log.textContent += `step ${losses.length}: loss ${loss.toFixed(4)}\n`;
    draw(losses);
    // yield to the event loop, so that the plot is redrawn
    await new Promise((resolve) => setTimeout(resolve));
  }
  status.textContent = `done: loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)} on ${on}`;
  await report({ device: on, losses, workerShares: workerShares() });
}

main().catch(async (e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  status.textContent = message;
  status.className = "error";
  await report({ error: message });
});
