// The training loop, in a dedicated worker so that the page stays responsive: picks the backend
// (WebGPU when the browser offers an adapter, else the CPU backend, whose own Web Workers take
// shares of the work), trains, and posts each step's loss.
import { cpu, workerShares, workersReady } from "@sam/cpu";
import { setBackend, type Backend } from "@sam/tensor";
import { webgpu } from "@sam/webgpu";
import type { TrainRequest, WorkerMessage } from "./messages.js";
import { trainSteps } from "./training.js";

const post = (m: WorkerMessage) => postMessage(m);

function onCpu(threads: number | undefined): { backend: Backend; on: string } {
  // threads share memory only where the page is cross-origin isolated
  const n = crossOriginIsolated ? threads ?? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  return { backend: cpu({ threads: n }), on: `the CPU (WebAssembly) on ${n} thread${n > 1 ? "s" : ""}` };
}

async function choose(r: TrainRequest): Promise<{ backend: Backend; on: string; fellBack?: string }> {
  if (r.device === "cpu") return onCpu(r.threads);
  try {
    const gpu = await webgpu();
    return { backend: gpu, on: gpu.adapter };
  } catch (e) {
    if (r.device === "webgpu") throw e;
    return { ...onCpu(r.threads), fellBack: (e as Error).message };
  }
}

onmessage = async (event: MessageEvent<TrainRequest>) => {
  try {
    const r = event.data;
    const { backend, on, fellBack } = await choose(r);
    setBackend(backend);
    await workersReady(); // the CPU's Web Workers share the work from the first step
    post({ kind: "device", on, fellBack });
    for await (const loss of trainSteps(r.steps, r)) post({ kind: "loss", loss });
    post({ kind: "done", workerShares: workerShares() });
  } catch (e) {
    post({ kind: "error", message: e instanceof Error ? e.message : String(e) });
  }
};
