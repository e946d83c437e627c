#!/usr/bin/env node
// `pnpm cifar [train|compare] [flags]`: trains CIFAR models with SGD or SAM and reports the difference.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cpu, fusedMultiplyAdd } from "@sam/cpu";
import { setBackend } from "@sam/tensor";
import { parseCommand, usage, UsageError, type Command, type Config } from "./config.js";
import { loadRunData } from "./datasets.js";
import { renderReport, type RunSummary } from "./report.js";
import { runTraining } from "./train.js";
import { writeFileAtomic } from "@sam/nn";

/** The demonstration's settings: SGD against SAM on a CIFAR-10 subset, about 15 minutes on 2 cores. */
const DEMO: Partial<Config> = { model: "cnn", epochs: 2, trainSubset: 10000, testSubset: 2000, lr: 0.05 };

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}

async function main(argv: string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`cifar: ${e.message}\n\n${usage()}`);
    return 2;
  }
  if (cmd.command === "help") {
    console.log(usage());
    return 0;
  }
  if (cmd.config.device === "webgpu") {
    const { webgpu } = await import("@sam/webgpu"); // Dawn is loaded only for a GPU run
    const gpu = await webgpu();
    console.log(`device: WebGPU on ${gpu.adapter}`);
    setBackend(gpu);
  } else {
    const threads = cmd.config.threads;
    setBackend(cpu({ threads }));
    console.log(`device: CPU on ${threads} thread${threads > 1 ? "s" : ""}, WebAssembly SIMD ${fusedMultiplyAdd() ? "with fused multiply-add" : "(multiply, then add: no relaxed SIMD in this engine)"}`);
  }
  let stop = false;
  process.on("SIGINT", () => {
    if (stop) process.exit(130);
    stop = true;
    console.error("\nsaving after this batch (Ctrl-C again to quit at once)");
  });
  const hooks = { shouldStop: () => stop };

  if (cmd.resume !== undefined) {
    const saved = JSON.parse(await readFile(join(cmd.resume, "config.json"), "utf8")) as Config;
    const config = { ...saved, epochs: cmd.given.has("epochs") ? cmd.config.epochs : saved.epochs };
    const data = await loadRunData(config, { onWarning: (w) => console.error(`warning: ${w}`) });
    const r = await runTraining(config, data, cmd.resume, true, hooks);
    return r.interrupted ? 130 : 0;
  }

  const base = cmd.command === "demo" ? { ...cmd.config, ...Object.fromEntries(Object.entries(DEMO).filter(([k]) => !cmd.given.has(k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)))) } : cmd.config;
  const optimizers = cmd.command === "train" ? [base.optimizer] : cmd.optimizers;
  const out = cmd.out ?? join("runs", `${cmd.command === "train" ? base.optimizer : "compare"}-${stamp()}`);
  console.log(`${cmd.command === "train" ? "training" : `comparing ${optimizers.join(", ")}`}: ${base.model} on ${base.dataset}, ${base.epochs} epochs → ${out}`);
  const data = await loadRunData(base, { onWarning: (w) => console.error(`warning: ${w}`), onProgress: progressPrinter() });
  console.log(`data: ${data.train.labels.length} training and ${data.test.labels.length} test images`);
  const runs: RunSummary[] = [];
  for (const optimizer of optimizers) {
    const config = { ...base, optimizer };
    const dir = cmd.command === "train" ? out : join(out, optimizer);
    if (optimizers.length > 1) console.log(`\n== ${optimizer} ==`);
    const r = await runTraining(config, data, dir, false, hooks);
    runs.push({ name: optimizer, config, metrics: r.metrics });
    if (r.interrupted) return 130;
  }
  if (optimizers.length > 1 || cmd.command !== "train") {
    await writeFileAtomic(join(out, "report.html"), renderReport(`${optimizers.join(" vs ").toUpperCase()} · ${base.model} · ${base.dataset}`, runs));
    await writeFileAtomic(join(out, "comparison.json"), JSON.stringify(runs.map((r) => ({ optimizer: r.name, final: r.metrics[r.metrics.length - 1] })), null, 2) + "\n");
    console.log(`\nfinal test accuracy: ${runs.map((r) => `${r.name} ${((r.metrics[r.metrics.length - 1]?.testAcc ?? 0) * 100).toFixed(2)}%`).join(", ")}`);
    console.log(`report: ${join(out, "report.html")}`);
  }
  return 0;
}

function progressPrinter(): (received: number, total: number) => void {
  let last = 0;
  return (received, total) => {
    if (!process.stderr.isTTY || performance.now() - last < 250) return;
    last = performance.now();
    process.stderr.write(`\rdownloading ${(received / 2 ** 20).toFixed(1)}${total ? ` / ${(total / 2 ** 20).toFixed(1)}` : ""} MiB`);
  };
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  console.error(`cifar: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
