#!/usr/bin/env node
// `pnpm cifar [train|compare|sweep|hessian|summary] [flags]`: trains CIFAR models with SGD or SAM,
// reports the difference, and measures the sharpness of what they found.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { cpu, fusedMultiplyAdd } from "@sam/cpu";
import { setBackend } from "@sam/tensor";
import { parseCommand, usage, UsageError, type Command, type Config } from "./config.js";
import { loadRunData } from "./datasets.js";
import { DEMO, sweepSpread } from "./demo.js";
import { prepareOutFolder, type OutFolder } from "./outFolder.js";
import { renderReport, type RunSummary } from "./report.js";
import { measuredConfig, resumedConfig, resumedSweep, savedSweep } from "./resume.js";
import { measureHessian } from "./runHessian.js";
import { runSweep, writeSweepSummary } from "./sweep.js";
import { sweepCells, type SweepPlan } from "./sweepPlan.js";
import { runTraining } from "./train.js";
import { writeFileAtomic } from "@sam/nn";

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
}

/** Exit statuses, as --help lists them. */
const EXIT = { done: 0, failed: 1, usage: 2, diverged: 3, interrupted: 130 };

/** Everything that can be checked before any work: the flags, the saved run or the output folder. */
async function plan(argv: string[]): Promise<{ cmd: Command; base: Config; out: string; folder?: OutFolder; sweep?: SweepPlan }> {
  const cmd = parseCommand(argv);
  if (cmd.command === "help") return { cmd, base: cmd.config, out: "" };
  if (cmd.command === "summary") {
    const sweep = await savedSweep(cmd.sweep!, "--sweep");
    return { cmd, base: sweep.config, out: cmd.sweep!, sweep };
  }
  if (cmd.command === "sweep" && cmd.resume !== undefined) {
    const sweep = await resumedSweep(cmd);
    if (cmd.retainGraphs && sweep.hessian === undefined) throw new UsageError(`--retain-graphs: the sweep in ${cmd.resume} measures no Hessians`);
    return { cmd, base: sweep.config, out: cmd.resume, sweep };
  }
  if (cmd.command === "sweep") {
    const out = cmd.out ?? join("runs", `sweep-${stamp()}`);
    return { cmd, base: cmd.config, out, folder: prepareOutFolder(out, cmd.overwrite), sweep: { config: cmd.config, grid: cmd.grid!, hessian: cmd.hessian } };
  }
  if (cmd.resume !== undefined) return { cmd, base: await resumedConfig(cmd), out: cmd.resume };
  if (cmd.command === "hessian") {
    const base = await measuredConfig(cmd);
    // the random vectors as the run's own --hessian would draw them, unless --seed says otherwise
    const hessian = { ...cmd.hessian!, seed: cmd.given.has("seed") ? cmd.hessian!.seed : base.seed };
    return { cmd: { ...cmd, hessian }, base, out: cmd.run! };
  }
  const demo = Object.entries(DEMO).filter(([k]) => !cmd.given.has(k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)));
  const base = cmd.command === "demo" ? { ...cmd.config, ...Object.fromEntries(demo) } : cmd.config;
  const out = cmd.out ?? join("runs", `${cmd.command === "train" ? base.optimizer : "compare"}-${stamp()}`);
  return { cmd, base, out, folder: prepareOutFolder(out, cmd.overwrite) };
}

/** Sets the backend the run asks for, saying which. */
async function useDevice(base: Config): Promise<void> {
  if (base.device === "webgpu") {
    const { webgpu } = await import("@sam/webgpu"); // Dawn is loaded only for a GPU run
    const gpu = await webgpu();
    console.log(`device: WebGPU on ${gpu.adapter}`);
    setBackend(gpu);
    return;
  }
  const threads = base.threads;
  if (threads > availableParallelism()) {
    console.error(`warning: --threads ${threads} is more than the ${availableParallelism()} this machine has; the threads will take turns and run slower than ${availableParallelism()}`);
  }
  setBackend(cpu({ threads }));
  console.log(`device: CPU on ${threads} thread${threads > 1 ? "s" : ""}, WebAssembly SIMD ${fusedMultiplyAdd() ? "with fused multiply-add" : "(multiply, then add: no relaxed SIMD in this engine)"}`);
}

async function main(argv: string[]): Promise<number> {
  let planned: Awaited<ReturnType<typeof plan>>;
  try {
    planned = await plan(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`cifar: ${e.message}\n\nrun pnpm cifar --help for every flag`);
    return EXIT.usage;
  }
  const { cmd, base, out, folder, sweep } = planned;
  if (cmd.command === "help") {
    console.log(usage());
    return EXIT.done;
  }
  if (cmd.command === "summary") {
    process.stdout.write(await writeSweepSummary(out, sweep!));
    return EXIT.done;
  }
  try {
    await useDevice(base);
  } catch (e) {
    folder?.abandon();
    throw e;
  }
  const onWarning = (w: string) => console.error(`warning: ${w}`);
  const log = (line: string) => console.log(line);
  // measuring changes nothing, so Ctrl-C simply stops it
  if (cmd.command === "hessian") {
    await measureHessian(out, base, await loadRunData(base, { onWarning }), cmd.hessian!, { log, retainGraphs: cmd.retainGraphs });
    return EXIT.done;
  }
  // Ctrl-C, or SIGTERM from a job scheduler or a shutdown: save after this batch (a Hessian
  // measurement stops within its product, writing nothing), then stop
  let stop = false;
  const aborts = new AbortController();
  const interrupt = (signal: NodeJS.Signals) => {
    if (stop) process.exit(EXIT.interrupted);
    stop = true;
    aborts.abort();
    console.error(`\n${signal}: saving after this batch (${signal === "SIGINT" ? "Ctrl-C" : signal} again to quit at once)`);
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  const hooks = { shouldStop: () => stop, signal: aborts.signal, retainGraphs: cmd.retainGraphs, log };

  if (sweep) {
    const runs = sweepCells(sweep.config, sweep.grid).length;
    console.log(`sweep: ${runs} runs of ${base.model} on ${base.dataset}, ${base.epochs} epoch${base.epochs === 1 ? "" : "s"} each → ${out}`);
    try {
      // the data is checked (and fetched) once before the first run
      const data = await loadRunData(base, { onWarning, onProgress: progressPrinter() });
      console.log(`data: ${data.train.labels.length} training and ${data.test.labels.length} test images from ${data.provenance}`);
    } catch (e) {
      folder?.abandon();
      throw e;
    }
    const r = await runSweep(out, sweep, hooks);
    if (r.interrupted) console.log(`sweep interrupted; continue it with pnpm cifar sweep --resume ${out}`);
    console.log(`\nsummary: ${join(out, "summary.json")}\nreport: ${join(out, "report.html")}`);
    return r.interrupted ? EXIT.interrupted : r.diverged ? EXIT.diverged : EXIT.done;
  }

  if (cmd.resume !== undefined) {
    const data = await loadRunData(base, { onWarning });
    const r = await runTraining(base, data, cmd.resume, true, hooks);
    const measured = cmd.hessian && !r.diverged && !r.interrupted ? await measureHessian(cmd.resume, base, data, cmd.hessian, hooks) : undefined;
    return r.diverged ? EXIT.diverged : r.interrupted || measured === null ? EXIT.interrupted : EXIT.done;
  }

  const optimizers = cmd.command === "train" ? [base.optimizer] : cmd.optimizers;
  console.log(`${cmd.command === "train" ? "training" : `comparing ${optimizers.join(", ")}`}: ${base.model} on ${base.dataset}, ${base.epochs} epoch${base.epochs === 1 ? "" : "s"} → ${out}`);
  let data;
  try {
    data = await loadRunData(base, { onWarning, onProgress: progressPrinter() });
  } catch (e) {
    folder?.abandon();
    throw e;
  }
  console.log(`data: ${data.train.labels.length} training and ${data.test.labels.length} test images from ${data.provenance}`);
  const runs: RunSummary[] = [];
  let diverged = false;
  for (const optimizer of optimizers) {
    const config = { ...base, optimizer };
    const dir = cmd.command === "train" ? out : join(out, optimizer);
    if (optimizers.length > 1) console.log(`\n== ${optimizer} ==`);
    const r = await runTraining(config, data, dir, false, hooks);
    if (r.interrupted) return EXIT.interrupted;
    const hessian = cmd.hessian && !r.diverged ? await measureHessian(dir, config, data, cmd.hessian, hooks) : undefined;
    if (hessian === null) return EXIT.interrupted;
    runs.push({ name: optimizer, config, metrics: r.metrics, data: data.provenance, diverged: r.diverged, hessian });
    diverged ||= r.diverged !== undefined;
  }
  if (optimizers.length > 1 || cmd.command !== "train") {
    await writeFileAtomic(join(out, "report.html"), renderReport(`${optimizers.join(" vs ").toUpperCase()} · ${base.model} · ${base.dataset}`, runs));
    const hessian = (r: RunSummary) => r.hessian && { lambdaMax: r.hessian.lambdaMax, ratio: r.hessian.ratio, trace: r.hessian.trace, eigenvalues: r.hessian.eigenvalues };
    await writeFileAtomic(join(out, "comparison.json"), JSON.stringify(runs.map((r) => ({ optimizer: r.name, final: r.metrics[r.metrics.length - 1], diverged: r.diverged, hessian: hessian(r) })), null, 2) + "\n");
    console.log(`\nfinal test accuracy: ${runs.map((r) => `${r.name} ${r.diverged ? "diverged" : `${((r.metrics[r.metrics.length - 1]?.testAcc ?? 0) * 100).toFixed(2)}%`}`).join(", ")}`);
    console.log(`report: ${join(out, "report.html")}`);
    if (cmd.command === "demo") for (const line of (await sweepSpread(base)) ?? []) console.log(line);
  }
  return diverged ? EXIT.diverged : EXIT.done;
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
  process.exit(EXIT.failed);
});
