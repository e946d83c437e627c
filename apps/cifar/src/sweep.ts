// A sweep: every combination of optimizers, seeds, ρ, m and label noise trained one after another,
// each in its own run folder, so an interrupted sweep continues where it stopped; then one summary.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@sam/nn";
import { readJson, readMetrics, readRunPosition } from "./checkpoint.js";
import { loadRunData } from "./datasets.js";
import type { Divergence, HessianSummary } from "./report.js";
import { measureHessian } from "./runHessian.js";
import { sweepCells, type Cell, type SweepPlan } from "./sweepPlan.js";
import { summarizeSweep, type CellResult, type ModelFile, type SamModelEvaluation } from "./sweepSummary.js";
import { renderSweepReport } from "./sweepReport.js";
import { renderSweepMarkdown } from "./sweepMarkdown.js";
import { branchFolder, runTraining, type RunHooks } from "./train.js";

/** How a sweep ended. */
export interface SweepResult {
  interrupted: boolean;
  diverged: boolean;
}

/** What a cell's folder holds so far. */
async function cellState(dir: string, epochs: number): Promise<"new" | "partial" | "done" | "diverged"> {
  if (existsSync(join(dir, "diverged.json"))) return "diverged";
  // a run stopped before its first checkpoint starts again
  if (!existsSync(join(dir, "checkpoint"))) return "new";
  return (await readRunPosition(dir)).epoch >= epochs ? "done" : "partial";
}

/** A config's settings in one order, for comparing two. */
const settings = (c: object): string => JSON.stringify(Object.entries(c).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * The cell a weight-averaging cell trains the same as until --swa-start: the one with its settings
 * but no averaging (its learning rate, draws and weights are the same until then), or undefined.
 */
function baseOf(cell: Cell, cells: Cell[]): Cell | undefined {
  const start = cell.config.swaStart;
  if (start === undefined) return undefined;
  const without = settings({ ...cell.config, swaStart: undefined, swaLr: undefined });
  return cells.find((b) => b.config.swaStart === undefined && settings({ ...b.config, swaLr: undefined }) === without);
}

/**
 * Trains the cells of `plan` that are not done into `dir`, measures their Hessians when asked,
 * and writes the summary ({@link writeSweepSummary}) from every finished cell (also when interrupted).
 */
export async function runSweep(dir: string, plan: SweepPlan, hooks: RunHooks = {}): Promise<SweepResult> {
  const log = hooks.log ?? ((line: string) => console.log(line));
  const cells = sweepCells(plan.config, plan.grid);
  // the runs are listed so that the PyTorch side (bench/anchors/torch_sweep.py) trains the same ones
  const runs = cells.map(({ name, group, config }) => ({ name, group, config }));
  await writeFileAtomic(join(dir, "sweep.json"), JSON.stringify({ ...plan, runs }, null, 2) + "\n");
  let interrupted = false;
  let diverged = false;
  for (const [i, cell] of cells.entries()) {
    const cellDir = join(dir, cell.name);
    const hessianPath = join(cellDir, "hessian.json");
    let state = await cellState(cellDir, cell.config.epochs);
    // a weight-averaging cell starts from its base cell's state at --swa-start, which is where it would be
    const base = baseOf(cell, cells);
    const branch = base && branchFolder(join(dir, base.name), cell.config.swaStart!);
    if (state === "new" && branch && existsSync(branch) && !interrupted) {
      await mkdir(cellDir, { recursive: true });
      await cp(branch, cellDir, { recursive: true });
      log(`${cell.name}: epochs 1–${cell.config.swaStart} are ${base!.name}'s (the same run until averaging starts)`);
      state = "partial";
    }
    // a cell that a weight-averaging cell starts from keeps its state at --swa-start
    const branchAt = cells.find((c) => baseOf(c, cells) === cell)?.config.swaStart;
    let divergence = state === "diverged";
    const measure = plan.hessian !== undefined && !existsSync(hessianPath);
    if (!interrupted && state !== "diverged" && (state !== "done" || measure)) {
      log(`\n== ${cell.name} (${i + 1} of ${cells.length}${state === "partial" ? ", continued" : ""}) ==`);
      const data = await loadRunData(cell.config);
      if (state !== "done") {
        const r = await runTraining(cell.config, data, cellDir, state === "partial", { ...hooks, branchAt });
        interrupted = r.interrupted;
        if (r.diverged) {
          divergence = true;
          await writeFileAtomic(join(cellDir, "diverged.json"), JSON.stringify(r.diverged) + "\n");
        }
      }
      if (measure && !interrupted && !divergence) {
        interrupted = (await measureHessian(cellDir, cell.config, data, { ...plan.hessian!, seed: cell.config.seed }, { ...hooks, log })) === null;
      }
    }
    diverged ||= divergence;
  }
  // read after the loop, so that PyTorch runs which finished meanwhile are in the summary too
  await writeSweepSummary(dir, plan);
  return { interrupted, diverged };
}

/**
 * Writes `summary.json`, `report.html` and `summary.md` of the sweep in `dir` from what its folders
 * hold now (every finished cell, and the PyTorch runs of the same cells in `dir/pytorch/`); trains
 * nothing. Returns the Markdown.
 */
export async function writeSweepSummary(dir: string, plan: SweepPlan): Promise<string> {
  const results = await Promise.all(sweepCells(plan.config, plan.grid).map((cell) => readCellResult(dir, cell)));
  const summary = summarizeSweep(plan, results);
  const markdown = renderSweepMarkdown(plan, summary, results);
  await writeFileAtomic(join(dir, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  await writeFileAtomic(join(dir, "report.html"), renderSweepReport(plan, summary, results));
  await writeFileAtomic(join(dir, "summary.md"), markdown);
  return markdown;
}

/**
 * What `dir` holds of one cell: its metrics, Hessian or divergence, those of the PyTorch run of the
 * same cell, and PyTorch's evaluation of the cell's final model.
 */
async function readCellResult(dir: string, cell: Cell): Promise<CellResult> {
  const hessianPath = join(dir, cell.name, "hessian.json");
  const divergedPath = join(dir, cell.name, "diverged.json");
  const pytorchDir = join(dir, "pytorch", cell.name);
  const pytorchHessianPath = join(pytorchDir, "hessian.json");
  const pytorch = await readMetrics(pytorchDir);
  /** A PyTorch measurement of @sam's model, while the model file is the one measured (not since continued or trained again). */
  const ofCurrentModel = async <T extends ModelFile>(file: string): Promise<T | undefined> => {
    const path = join(pytorchDir, file);
    if (!existsSync(path)) return undefined;
    const measured = await readJson<T>(path);
    const model = await readFile(join(dir, cell.name, measured.model)).catch(() => undefined);
    return model && createHash("sha256").update(model).digest("hex") === measured.sha256 ? measured : undefined;
  };
  return {
    cell,
    metrics: await readMetrics(join(dir, cell.name)),
    diverged: existsSync(divergedPath) ? await readJson<Divergence>(divergedPath) : undefined,
    hessian: existsSync(hessianPath) ? await readJson<HessianSummary>(hessianPath) : undefined,
    pytorch: pytorch.length > 0 ? pytorch : undefined,
    pytorchHessian: existsSync(pytorchHessianPath) ? await readJson<HessianSummary>(pytorchHessianPath) : undefined,
    pytorchEvaluation: await ofCurrentModel<SamModelEvaluation>("sam-model-evaluation.json"),
    samModelHessian: await ofCurrentModel<HessianSummary & ModelFile>("sam-model-hessian.json"),
  };
}
