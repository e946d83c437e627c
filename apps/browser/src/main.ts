// The page: trains a small CNN with SAM on WebGPU (or on the CPU backend with `?device=cpu`), plots
// the loss after every step and, when the address asks for it (`?report=/path`), posts the losses
// back to the server that served it.
import { cpu } from "@sam/cpu";
import { setBackend, type Backend } from "@sam/tensor";
import { webgpu } from "@sam/webgpu";
import { trainSteps } from "./training.js";

const STEPS = 12;
const status = document.getElementById("status")!;
const log = document.getElementById("log")!;
const plot = document.getElementById("plot")!;

function draw(losses: number[]): void {
  const top = Math.max(...losses);
  const points = losses.map((l, i) => `${(i / Math.max(1, STEPS - 1)) * 400},${140 - (l / top) * 130}`).join(" ");
  plot.innerHTML = `<polyline fill="none" stroke="#06c" stroke-width="2" points="${points}"/>`;
}

async function report(body: unknown): Promise<void> {
  const to = new URLSearchParams(location.search).get("report");
  if (to) await fetch(to, { method: "POST", body: JSON.stringify(body) });
}

/** The backend the address asks for, and what to call it. */
async function backend(): Promise<{ backend: Backend; on: string }> {
  if (new URLSearchParams(location.search).get("device") === "cpu") return { backend: cpu(), on: "the CPU (WebAssembly)" };
  const gpu = await webgpu();
  return { backend: gpu, on: gpu.adapter };
}

async function main(): Promise<void> {
  const { backend: chosen, on } = await backend();
  setBackend(chosen);
  status.textContent = `training on ${on}`;
  const losses: number[] = [];
  for await (const loss of trainSteps(STEPS)) {
    losses.push(loss);
    log.textContent += `step ${losses.length}: loss ${loss.toFixed(4)}\n`;
    draw(losses);
  }
  status.textContent = `done: loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)} on ${on}`;
  await report({ device: on, losses });
}

main().catch(async (e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  status.textContent = message;
  status.className = "error";
  await report({ error: message });
});
