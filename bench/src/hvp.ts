// One Hessian-vector product of ResNet-20's loss over a batch of 128 (double backward, batch norm
// in evaluation mode): milliseconds and peak memory of @sam/cpu beside PyTorch on the same threads,
// each system in its own process.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { anchorScript, PYTHON, torchMissing } from "./anchor.js";
import type { BenchOptions } from "./options.js";
import { report, type Result } from "./report.js";

const BATCH = 128;
const STEPS = 5;

/** The median of a system's times in milliseconds and its peak RSS in MiB, from the JSON line its process prints last. */
function measure(command: string, args: string[], env: Record<string, string> = {}): { ms: number; mib: number; device?: string } {
  const out = execFileSync(command, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 24 }).trim().split("\n");
  const t = JSON.parse(out[out.length - 1]) as { seconds: number[]; maxRssBytes: number; device?: string };
  const sorted = [...t.seconds].sort((a, b) => a - b);
  return { ms: sorted[Math.floor(sorted.length / 2)] * 1e3, mib: t.maxRssBytes / 2 ** 20, device: t.device };
}

/** Runs the Hessian-vector product benchmark and prints its table and JSON lines. */
export async function hvpBench({ threads, gpuOnly }: BenchOptions): Promise<void> {
  if (gpuOnly) return; // a CPU benchmark
  const results: Result[] = [];
  const memory: Result[] = [];
  const add = (system: string, m: { ms: number; mib: number }) => {
    results.push({ bench: "hvp", case: `resnet20-b${BATCH}`, system, threads, value: m.ms, unit: "ms" });
    memory.push({ bench: "hvp-memory", case: `resnet20-b${BATCH}`, system, threads, value: m.mib, unit: "MiB" });
  };
  const worker = fileURLToPath(new URL("./hvpWorker.js", import.meta.url));
  add("@sam/cpu", measure(process.execPath, [worker, String(STEPS), String(BATCH), String(threads)]));
  const why = torchMissing();
  if (why) {
    console.log(`anchor: ${why}`);
  } else {
    const torch = measure(PYTHON, [anchorScript("torch_hvp.py"), String(STEPS), String(BATCH), String(threads)], { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" });
    console.log(`anchor: PyTorch on ${torch.device}`);
    add("pytorch", torch);
  }
  console.log(memory.map((m) => `${m.system}: peak RSS ${m.value.toFixed(0)} MiB`).join("\n"));
  report(`Hessian-vector product of ResNet-20's loss, batch ${BATCH}, median of ${STEPS} after one warm-up (lower is better)`, results);
  for (const m of memory) console.log(JSON.stringify({ ...m, value: Math.round(m.value) }));
}
