// Checkpoints: model, optimizer, scheduler and run position, written into a fresh folder that is
// renamed into place, so a crash at any moment leaves the previous checkpoint or the new one.
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { decodeSafetensors, encodeSafetensors, type Module } from "@sam/nn";
import type { LRScheduler, Optimizer, OptimizerStateDict, ParamState } from "@sam/optim";
import { SamError, type Tensor } from "@sam/tensor";

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
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Saves everything into `dir/checkpoint`, atomically. */
export async function saveCheckpoint(dir: string, model: Module, optimizer: Optimizer, scheduler: LRScheduler, position: RunPosition): Promise<void> {
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
  await writeFile(join(tmp, "state.json"), JSON.stringify({ position, scheduler: scheduler.stateDict(), paramGroups: opt.paramGroups, numbers }, null, 1));
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

/** Restores model, optimizer and scheduler from `dir`, returning where the run was. */
export async function loadCheckpoint(dir: string, model: Module, optimizer: Optimizer, scheduler: LRScheduler): Promise<RunPosition> {
  const from = await checkpointDir(dir);
  const read = async (name: string) => new Uint8Array(await readFile(join(from, name)));
  model.loadStateDict(decodeSafetensors(await read("model.safetensors"), join(from, "model.safetensors")));
  const saved = JSON.parse(new TextDecoder().decode(await read("state.json"))) as {
    position: RunPosition; scheduler: ReturnType<LRScheduler["stateDict"]>; paramGroups: OptimizerStateDict["paramGroups"]; numbers: Record<number, Record<string, number>>;
  };
  const state: Record<number, ParamState> = {};
  for (const [key, t] of Object.entries(decodeSafetensors(await read("optimizer.safetensors"), join(from, "optimizer.safetensors")))) {
    const [i, name] = [Number(key.slice(0, key.indexOf("."))), key.slice(key.indexOf(".") + 1)];
    (state[i] ??= {})[name] = t;
  }
  for (const [i, s] of Object.entries(saved.numbers)) Object.assign((state[Number(i)] ??= {}), s);
  optimizer.loadStateDict({ state, paramGroups: saved.paramGroups });
  scheduler.loadStateDict(saved.scheduler);
  return saved.position;
}
