// The trainer's own loop, for its peak memory: `pnpm cifar train` on ResNet-20 with SGD for one
// epoch over the first 5,000 CIFAR-10 training images, then the whole test split, beside the same
// loop in PyTorch (bench/anchors/torch_trainer.py) reading the same archive. Each runs in its own
// process; the rows are peak resident memory and training images per second.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { anchorScript, PYTHON, torchMissing } from "./anchor.js";
import type { BenchOptions } from "./options.js";
import { report, type Result } from "./report.js";

const TRAIN_IMAGES = 5000;
const CASE = `resnet20-sgd-${TRAIN_IMAGES}`;

/** The CIFAR-10 binary archive: $SAM_BENCH_CIFAR10, else the trainer's cached download. */
function archive(): string {
  return process.env.SAM_BENCH_CIFAR10 ?? join(process.env.SAM_DATA_DIR ?? join(homedir(), ".cache", "sam", "datasets"), "cifar-10-binary.tar.gz");
}

/** Runs the trainer benchmark and prints its table and JSON lines. */
export async function trainerBench({ threads, gpuOnly }: BenchOptions): Promise<void> {
  if (gpuOnly) return;
  const data = archive();
  if (!existsSync(data)) {
    console.log(`trainer: ${data} not found; run \`pnpm cifar\` once (it downloads the archive) or set SAM_BENCH_CIFAR10 to a copy`);
    return;
  }
  const [memory, speed]: Result[][] = [[], []];
  const add = (system: string, rssBytes: number, imagesPerSec: number) => {
    memory.push({ bench: "trainer-memory", case: CASE, system, threads, value: rssBytes / 2 ** 20, unit: "MiB" });
    speed.push({ bench: "trainer", case: CASE, system, threads, value: imagesPerSec, unit: "img/s" });
  };
  const out = mkdtempSync(join(tmpdir(), "sam-bench-trainer-"));
  try {
    const main = fileURLToPath(new URL("../../apps/cifar/dist/main.js", import.meta.url));
    execFileSync(process.execPath, [main, "train", "--model", "resnet20", "--optimizer", "sgd", "--epochs", "1",
      "--train-subset", String(TRAIN_IMAGES), "--threads", String(threads), "--data", data, "--out", join(out, "run")], { stdio: "ignore" });
    const epoch = JSON.parse(readFileSync(join(out, "run", "metrics.jsonl"), "utf8").trim().split("\n").pop()!) as { peakRssMiB: number; imagesPerSec: number };
    add("@sam/cpu", epoch.peakRssMiB * 2 ** 20, epoch.imagesPerSec);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const why = torchMissing();
  if (why) console.log(`anchor: ${why}`);
  else {
    const line = execFileSync(PYTHON, [anchorScript("torch_trainer.py"), data, String(TRAIN_IMAGES), String(threads)],
      { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" } });
    const t = JSON.parse(line.trim().split("\n").pop()!) as { maxRssBytes: number; trainSeconds: number };
    add("pytorch", t.maxRssBytes, TRAIN_IMAGES / t.trainSeconds);
  }
  const what = `the trainer's loop: ResNet-20, SGD, one epoch of ${TRAIN_IMAGES} CIFAR-10 images, then the test split`;
  report(`${what}: peak resident memory`, memory);
  report(`${what}: training images per second`, speed);
}
