// Checkpoints: model, optimizer, scheduler and run position, written into a fresh folder that is
// renamed into place, so a crash at any moment leaves the previous checkpoint or the new one.
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors, type Module } from "@sam/nn";
import type { LRScheduler, Optimizer, OptimizerStateDict, ParamState, WeightAverage } from "@sam/optim";
import { noGrad } from "@sam/autograd";
import { SamError, tidy, type Tensor } from "@sam/tensor";
import type { EpochMetrics } from "./report.js";

/** The per-channel statistics the run's inputs are normalised with (of its training subset). */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** What a run needs besides tensors to continue exactly. */
export interface RunPosition {
  /** Epochs completed. */
  epoch: number;
  /** Batches of the next epoch already trained, when the run stopped in the middle of one. */
  batch?: number;
  /** That epoch's running sums so far, so its metrics come out as in an uninterrupted run. */
  partial?: EpochSums;
}

/** Running sums of a training epoch. */
export interface EpochSums {
  /** Sum of per-image losses. */
  lossSum: number;
  /** Images classified correctly. */
  correct: number;
  /** Images seen. */
  seen: number;
  /** Seconds spent training. */
  seconds: number;
  /** The mean training loss of each step so far. */
  losses: number[];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Saves everything into `dir/checkpoint`, atomically (with the weight average, when the run keeps one). */
export async function saveCheckpoint(dir: string, model: Module, optimizer: Optimizer, scheduler: LRScheduler, position: RunPosition, normalization: Normalization, average?: WeightAverage): Promise<void> {
  const tmp = join(dir, `checkpoint.tmp-${randomBytes(4).toString("hex")}`);
  await mkdir(tmp);
  const opt = optimizer.stateDict();
  const tensors: Record<string, Tensor> = {};
  const numbers: Record<number, Record<string, number>> = {};
  for (const [i, s] of Object.entries(opt.state)) {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === "number") (numbers[Number(i)] ??= {})[k] = v;
      else tensors[`${i}.${k}`] = v;
    }
  }
  await writeFile(join(tmp, "model.safetensors"), await encodeSafetensors(model.stateDict()));
  await writeFile(join(tmp, "optimizer.safetensors"), await encodeSafetensors(tensors));
  let averaged: number | undefined;
  if (average) {
    const a = average.stateDict();
    averaged = a.count;
    await writeFile(join(tmp, "average.safetensors"), await encodeSafetensors(Object.fromEntries(a.averages.map((t, i) => [String(i), t]))));
  }
  await writeFile(join(tmp, "state.json"), JSON.stringify({ position, normalization, scheduler: scheduler.stateDict(), paramGroups: opt.paramGroups, numbers, averaged }, null, 1));
  const current = join(dir, "checkpoint");
  const old = join(dir, `checkpoint.old-${randomBytes(4).toString("hex")}`);
  if (await exists(current)) await rename(current, old);
  await rename(tmp, current);
  await rm(old, { recursive: true, force: true });
}

/** The checkpoint folder to resume from: `checkpoint`, or an old one left by a crash between renames. */
async function checkpointDir(dir: string): Promise<string> {
  const current = join(dir, "checkpoint");
  if (await exists(current)) return current;
  const old = (await readdir(dir).catch(() => [])).filter((n) => n.startsWith("checkpoint.old-"));
  if (old.length > 0) return join(dir, old[0]);
  throw new SamError("resume", `${dir}: no checkpoint to resume from`);
}

/**
 * Parses a JSON file of a run; a missing, damaged or truncated file is an error naming it.
 * @example
 * const config = await readJson<Config>("runs/a/config.json");
 */
export async function readJson<T>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new SamError("resume", `${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new SamError("resume", `${path}: damaged or truncated (${(e as Error).message}); the run cannot be resumed from it`);
  }
}

/** state.json: the position, the scheduler, the optimizer's groups and its numeric state. */
interface SavedState {
  position: RunPosition; normalization?: Normalization; scheduler: ReturnType<LRScheduler["stateDict"]>; paramGroups: OptimizerStateDict["paramGroups"]; numbers: Record<number, Record<string, number>>;
  /** Snapshots in the weight average (runs with --swa-start). */
  averaged?: number;
}

/** A run's metrics.jsonl, one line per epoch (none when the run has not written it). */
export async function readMetrics(dir: string): Promise<EpochMetrics[]> {
  const text = await readFile(join(dir, "metrics.jsonl"), "utf8").catch(() => "");
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as EpochMetrics);
}

/** Where the run saved in `dir` stands, read from its checkpoint without loading any tensor. */
export async function readRunPosition(dir: string): Promise<RunPosition> {
  return (await readJson<SavedState>(join(await checkpointDir(dir), "state.json"))).position;
}

/**
 * Loads the model of the run's last complete checkpoint (never a half-written one) and the
 * normalisation it was trained with (absent in checkpoints from before it was recorded).
 */
export async function loadModel(dir: string, model: Module): Promise<{ normalization?: Normalization; position: RunPosition }> {
  const saved = await restoreModel(await checkpointDir(dir), model);
  return { normalization: saved.normalization, position: saved.position };
}

/** Loads the checkpoint folder `from`'s weights into `model`, refusing non-finite ones, and reads its state.json. */
async function restoreModel(from: string, model: Module): Promise<SavedState> {
  const file = join(from, "model.safetensors");
  const weights = decodeSafetensors(new Uint8Array(await readFile(file)), file);
  const bad = await nonFinite(weights);
  if (bad.length > 0) throw new SamError("resume", `${file}: ${describeNonFinite(bad)}; the run diverged and cannot be resumed from this checkpoint`);
  model.loadStateDict(weights);
  return readJson<SavedState>(join(from, "state.json"));
}

/** "a, b, c and 4 more hold NaN or infinite values", for the tensors {@link nonFinite} named. */
export function describeNonFinite(names: readonly string[]): string {
  return `${names.slice(0, 3).join(", ")}${names.length > 3 ? ` and ${names.length - 3} more` : ""} hold NaN or infinite values`;
}

/** The names of the tensors in `tensors` that hold a NaN or an infinity. */
export async function nonFinite(tensors: Record<string, Tensor>): Promise<string[]> {
  const bad: string[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    if (!t.dtype.startsWith("float")) continue;
    const probe = tidy(() => noGrad(() => t.mul(0).sum())); // x·0 is 0 for finite x, NaN for NaN and ±∞
    const value = await probe.item();
    probe.dispose();
    if (!Number.isFinite(value)) bad.push(name);
  }
  return bad;
}

/** Restores model, optimizer, scheduler (and the weight average) from `dir`, returning where the run was. */
export async function loadCheckpoint(dir: string, model: Module, optimizer: Optimizer, scheduler: LRScheduler, average?: WeightAverage): Promise<RunPosition> {
  const from = await checkpointDir(dir);
  const saved = await restoreModel(from, model);
  const file = join(from, "optimizer.safetensors");
  const state: Record<number, ParamState> = {};
  for (const [key, t] of Object.entries(decodeSafetensors(new Uint8Array(await readFile(file)), file))) {
    const [i, name] = [Number(key.slice(0, key.indexOf("."))), key.slice(key.indexOf(".") + 1)];
    (state[i] ??= {})[name] = t;
  }
  for (const [i, s] of Object.entries(saved.numbers)) Object.assign((state[Number(i)] ??= {}), s);
  optimizer.loadStateDict({ state, paramGroups: saved.paramGroups });
  scheduler.loadStateDict(saved.scheduler);
  if (average && saved.averaged) {
    const path = join(from, "average.safetensors");
    const tensors = decodeSafetensors(new Uint8Array(await readFile(path)), path);
    average.loadStateDict({ count: saved.averaged, averages: Object.keys(tensors).map((_, i) => tensors[String(i)]) });
  }
  return saved.position;
}
