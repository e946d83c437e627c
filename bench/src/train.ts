// One ResNet-20 training step at batch 128 on 32×32×3 inputs, SGD and SAM: images per second and
// peak memory of @sam/cpu beside PyTorch, each system in its own process.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gpuRows } from "./gpu.js";
import { report, type Result } from "./report.js";

const BATCH = 128;
const STEPS = 3;
const PYTHON = "/usr/bin/python3";

interface Timing {
  seconds: number[];
  maxRssBytes: number;
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

/**
 * Runs the training-step benchmark; `profile` adds a per-op breakdown of the @sam/cpu steps, and
 * `webgpu` forces WebGPU rows on a software adapter.
 */
export async function trainBench(profile = false, threads = 1, webgpu = false): Promise<void> {
  const worker = fileURLToPath(new URL("./trainWorker.js", import.meta.url));
  const anchor = fileURLToPath(new URL("../anchors/torch_train.py", import.meta.url));
  const results: Result[] = [];
  const memory: string[] = [];
  const torchAvailable = existsSync(PYTHON) && (() => {
    try {
      execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  if (!torchAvailable) console.log("anchor: PyTorch not available; install Debian's python3-torch to compare");
  const gpu = await gpuRows(webgpu);
  for (const optimizer of ["sgd", "sam"]) {
    const add = (system: string, t: Timing) => {
      const t1 = system.startsWith("@sam/webgpu") ? 1 : threads;
      results.push({ bench: "train", case: `resnet20-b${BATCH}-${optimizer}`, system, threads: t1, value: BATCH / median(t.seconds), unit: "img/s" });
      memory.push(`${system} ${optimizer}: peak RSS ${(t.maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
      results.push({ bench: "train-memory", case: `resnet20-b${BATCH}-${optimizer}`, system, threads: t1, value: t.maxRssBytes / 2 ** 20, unit: "MiB" });
    };
    add("@sam/cpu", run(process.execPath, [worker, optimizer, String(STEPS), String(BATCH), String(threads), profile ? "profile" : ""]));
    if (gpu) add(gpu.system, run(process.execPath, [worker, optimizer, String(gpu.software ? 1 : STEPS), String(BATCH), "webgpu"]));
    if (torchAvailable) add("pytorch", run(PYTHON, [anchor, optimizer, String(STEPS), String(BATCH), String(threads)], { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" }));
  }
  console.log(memory.join("\n"));
  report(`ResNet-20 training step, batch ${BATCH}, median of ${STEPS} steps after one warm-up`, results.filter((r) => r.unit === "img/s"),
    torchAvailable ? "pytorch" : undefined);
  for (const r of results.filter((r) => r.unit === "MiB")) console.log(JSON.stringify({ ...r, value: Math.round(r.value) }));
}
