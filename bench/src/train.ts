// One ResNet-20 training step at batch 128 on 32×32×3 inputs, SGD and SAM: images per second and
// peak memory of @sam/cpu beside PyTorch on the CPU, and of @sam/webgpu beside PyTorch on CUDA
// (with the peak GPU memory tensors held, as torch.cuda.max_memory_allocated), each system in its
// own process.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { anchorScript, PYTHON, torchMissing } from "./anchor.js";
import { gpuRows } from "./gpu.js";
import type { BenchOptions } from "./options.js";
import { report, TORCH_CUDA, type Result } from "./report.js";

const BATCH = 128;
const STEPS = 7;
const GPU_STEPS = 10;

interface Timing {
  seconds: number[];
  maxRssBytes: number;
  /** On a GPU: the most bytes tensors held during the timed steps. */
  gpuPeakBytes?: number;
  device?: string;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function run(command: string, args: string[], env: Record<string, string> = {}): Timing {
  const out = execFileSync(command, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  const lines = out.trim().split("\n");
  if (lines.length > 1) console.log(lines.slice(0, -1).join("\n"));
  return JSON.parse(lines[lines.length - 1]) as Timing;
}

/** Runs the training-step benchmark and prints its table and JSON lines. */
export async function trainBench({ profile, threads, webgpu, gpuOnly }: BenchOptions): Promise<void> {
  const worker = fileURLToPath(new URL("./trainWorker.js", import.meta.url));
  const results: Result[] = [];
  const memory: string[] = [];
  const why = gpuOnly ? null : torchMissing();
  if (why) console.log(`anchor: ${why}`);
  const gpu = await gpuRows(webgpu);
  const torch = (optimizer: string, steps: number, device: "cpu" | "cuda") => {
    const t = run(PYTHON, [anchorScript("torch_train.py"), optimizer, String(steps), String(BATCH), String(threads), device],
      { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" });
    if (optimizer === "sgd") console.log(`anchor: PyTorch on ${t.device}`);
    return t;
  };
  // m-sharpness (groups of 16 and 32 of the 128, each with its own ε), on the CPU only
  for (const optimizer of ["sgd", "sam", ...(gpuOnly ? [] : ["sam-m16", "sam-m32"])]) {
    const add = (system: string, t: Timing, onGpu: boolean) => {
      const t1 = onGpu ? 1 : threads;
      results.push({ bench: "train", case: `resnet20-b${BATCH}-${optimizer}`, system, threads: t1, value: BATCH / median(t.seconds), unit: "img/s" });
      memory.push(`${system} ${optimizer}: peak RSS ${(t.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
      results.push({ bench: "train-memory", case: `resnet20-b${BATCH}-${optimizer}`, system, threads: t1, value: t.maxRssBytes / 2 ** 20, unit: "MiB" });
      if (t.gpuPeakBytes !== undefined) {
        memory.push(`${system} ${optimizer}: peak GPU memory held by tensors ${(t.gpuPeakBytes / 2 ** 20).toFixed(0)} MiB`);
        results.push({ bench: "train-gpu-memory", case: `resnet20-b${BATCH}-${optimizer}`, system, threads: t1, value: t.gpuPeakBytes / 2 ** 20, unit: "MiB" });
      }
    };
    if (!gpuOnly) add("@sam/cpu", run(process.execPath, [worker, optimizer, String(STEPS), String(BATCH), String(threads), profile ? "profile" : ""]), false);
    if (gpu && !optimizer.includes("-m")) {
      const steps = gpu.software ? 1 : GPU_STEPS;
      add(gpu.system, run(process.execPath, [worker, optimizer, String(steps), String(BATCH), "webgpu"]), true);
      if (gpu.cuda) add(TORCH_CUDA, torch(optimizer, steps, "cuda"), true);
    }
    if (!gpuOnly && !why) add("pytorch", torch(optimizer, STEPS, "cpu"), false);
  }
  console.log(memory.join("\n"));
  report(`ResNet-20 training step, batch ${BATCH}, median of ${STEPS} steps (GPU: ${GPU_STEPS}) after two seconds of warm-up steps`, results.filter((r) => r.unit === "img/s"));
  for (const r of results.filter((r) => r.unit === "MiB")) console.log(JSON.stringify({ ...r, value: Math.round(r.value) }));
}
