// PyTorch, the anchor of every benchmark: its scripts in bench/anchors run through Python (Debian's
// /usr/bin/python3, or SAM_BENCH_PYTHON) on the CPU, and on CUDA beside the WebGPU rows when
// torch sees a GPU.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Result } from "./report.js";

export const PYTHON = process.env.SAM_BENCH_PYTHON ?? "/usr/bin/python3";

/** The path of an anchor script. */
export function anchorScript(name: string): string {
  return fileURLToPath(new URL(`../anchors/${name}`, import.meta.url));
}

/** Why PyTorch cannot run here, or null when it can. */
export function torchMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found; install Debian's python3-torch (or set SAM_BENCH_PYTHON) to compare`;
  try {
    execFileSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" });
    return null;
  } catch {
    return `${PYTHON} has no torch; install Debian's python3-torch to compare`;
  }
}

/** Whether PyTorch sees a CUDA GPU. */
export function torchHasCuda(): boolean {
  if (torchMissing()) return false;
  return execFileSync(PYTHON, ["-c", "import torch; print(torch.cuda.is_available())"], { encoding: "utf8" }).trim() === "True";
}

/** Runs an anchor script that prints JSON lines, the last describing its setup; returns them, or why it failed. */
export function runAnchor<T>(script: string, args: string[], env: Record<string, string>): { rows: T[]; setup: Record<string, string> } | string {
  try {
    const out = execFileSync(PYTHON, [anchorScript(script), ...args], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = out.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    const setup = lines.pop() as Record<string, string>;
    return { rows: lines as T[], setup };
  } catch (e) {
    return `PyTorch failed (${(e as Error).message.split("\n")[0]})`;
  }
}

/** Adds an anchor's results, or prints why there are none. */
export function addAnchor(results: Result[], anchor: Result[] | string): void {
  if (typeof anchor === "string") console.log(`anchor: ${anchor}`);
  else results.push(...anchor);
}
