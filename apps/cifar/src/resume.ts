// A saved run's settings for --resume and for hessian --run: the few that may change taken from
// the command line, every other flag checked against what the run was trained with.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { SamError } from "@sam/tensor";
import { readJson, readRunPosition } from "./checkpoint.js";
import { UsageError, type Command, type Config } from "./config.js";
import type { SweepPlan } from "./sweepPlan.js";

/** Flags that say what the Hessian computes, not how the run was trained. */
const HESSIAN_FLAGS = new Set(["hessian", "run", "examples", "k", "iterations", "probes", "density-runs"]);
/** Flags that say only how this process computes (any value continues any run). */
const HOW_FLAGS = new Set(["help", "retain-graphs"]);

/** A saved configuration with the settings added since it was saved, at the values it was trained with. */
const withNewSettings = (saved: Config): Config => ({ ...saved, mixup: saved.mixup ?? 0, swaLr: saved.swaLr ?? 0.05 });

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A UsageError for a run folder that cannot be used, saying why. */
function notARun(dir: string, flag: string): UsageError {
  const runs = readdirSync(dir).filter((n) => existsSync(join(dir, n, "config.json")));
  if (runs.length > 0) return new UsageError(`${flag} ${dir}: a comparison; name one of its runs, e.g. ${flag} ${join(dir, runs[0])}`);
  return new UsageError(`${flag} ${dir}: no config.json there; not a run folder`);
}

/**
 * The saved run in `dir` with the settings in `mayChange` taken from the command line; any other
 * training flag that differs from the saved run is a UsageError naming both values.
 */
async function savedConfig(cmd: Command, dir: string, flag: string, mayChange: readonly (keyof Config)[]): Promise<{ config: Config; done: number }> {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${flag} ${dir}: no such folder`);
  if (!existsSync(join(dir, "config.json"))) throw notARun(dir, flag);
  let saved: Config;
  let done: number;
  try {
    saved = await readJson<Config>(join(dir, "config.json"));
    done = (await readRunPosition(dir)).epoch;
  } catch (e) {
    if (e instanceof SamError) throw new UsageError(e.message.replace(/^resume: /, `${flag} ${dir}: `));
    throw e;
  }
  const config = withNewSettings(saved);
  for (const given of cmd.given) {
    if (given === flag.slice(2) || HOW_FLAGS.has(given) || HESSIAN_FLAGS.has(given) || (given === "seed" && flag === "--run")) continue;
    if (given === "out" || given === "optimizers" || given === "overwrite") {
      throw new UsageError(`--${given}: not for ${flag}, which uses the run in ${dir}`);
    }
    const key = camel(given) as keyof Config;
    const [now, before] = [cmd.config[key], config[key]];
    if (mayChange.includes(key)) {
      (config as unknown as Record<string, unknown>)[key] = now;
    } else if (JSON.stringify(now) !== JSON.stringify(before)) {
      throw new UsageError(`--${given} ${String(now)} contradicts the run in ${dir}, trained with --${given} ${String(before)}; `
        + `with ${flag} only ${mayChange.map((k) => `--${k}`).join(", ")} may change (start a new run for the rest)`);
    }
  }
  return { config, done };
}

/**
 * The configuration to continue the run in `cmd.resume` with: `--epochs` (not below the epochs
 * done), `--threads`, `--device` and `--data` are taken and recorded; any other flag that
 * contradicts the saved run is a UsageError naming both values.
 */
export async function resumedConfig(cmd: Command): Promise<Config> {
  const dir = cmd.resume!;
  const { config, done } = await savedConfig(cmd, dir, "--resume", ["epochs", "threads", "device", "data"]);
  if (config.epochs < done) {
    throw new UsageError(`--epochs ${config.epochs}: the run in ${dir} has done ${done} epochs already; give a total of at least ${done}`);
  }
  return config;
}

/** The configuration of the run `hessian --run DIR` measures; only where it runs may differ. */
export async function measuredConfig(cmd: Command): Promise<Config> {
  return (await savedConfig(cmd, cmd.run!, "--run", ["threads", "device", "data"])).config;
}

/** The sweep's own flags, and where their values stand in a saved plan. */
const GRID_FLAGS: Record<string, (p: SweepPlan) => unknown> = {
  optimizers: (p) => p.grid.optimizers, seeds: (p) => p.grid.seeds, rho: (p) => p.grid.rho, m: (p) => p.grid.m, "label-noise": (p) => p.grid.labelNoise,
};

/**
 * The plan to continue the sweep in `cmd.resume` with: as `--resume` of a run, `--epochs`,
 * `--threads`, `--device` and `--data` may change (and the Hessian settings, or `--hessian`
 * added), and `--seeds` may list more seeds than the sweep has (every one it has among them); any
 * other flag that contradicts the saved sweep is a UsageError naming both values.
 */
export async function resumedSweep(cmd: Command): Promise<SweepPlan> {
  const dir = cmd.resume!;
  const saved = await savedSweep(dir, "--resume");
  const mayChange: (keyof Config)[] = ["epochs", "threads", "device", "data"];
  const config = { ...saved.config };
  const asGiven = cmd.grid!;
  const now: SweepPlan = { config: cmd.config, grid: asGiven };
  let seeds = saved.grid.seeds;
  for (const given of cmd.given) {
    if (given === "resume" || HOW_FLAGS.has(given) || HESSIAN_FLAGS.has(given)) continue;
    if (given === "out" || given === "overwrite") throw new UsageError(`--${given}: not for --resume, which uses the sweep in ${dir}`);
    const key = camel(given) as keyof Config;
    const [a, b] = GRID_FLAGS[given] ? [GRID_FLAGS[given](now), GRID_FLAGS[given](saved)] : [cmd.config[key], saved.config[key]];
    if (given === "seeds" && saved.grid.seeds.every((s) => asGiven.seeds.includes(s))) {
      // more seeds of the same grid: the runs done keep their names, the new seeds train after them
      seeds = [...saved.grid.seeds, ...asGiven.seeds.filter((s) => !saved.grid.seeds.includes(s))];
    } else if (mayChange.includes(key)) {
      (config as unknown as Record<string, unknown>)[key] = a;
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      const list = (v: unknown) => (Array.isArray(v) ? v.map((x) => x ?? "the batch").join(",") : String(v));
      throw new UsageError(`--${given} ${list(a)} contradicts the sweep in ${dir}, started with --${given} ${list(b)}; `
        + `with --resume only ${mayChange.map((k) => `--${k}`).join(", ")} may change, and --seeds may add seeds (start a new sweep for the rest)`);
    }
  }
  if (config.epochs < saved.config.epochs) {
    throw new UsageError(`--epochs ${config.epochs}: the sweep in ${dir} trains ${saved.config.epochs} epochs; give at least that many`);
  }
  const hessianGiven = [...cmd.given].some((g) => HESSIAN_FLAGS.has(g));
  return { config, grid: { ...saved.grid, seeds }, hessian: hessianGiven ? cmd.hessian : saved.hessian };
}

/** The plan saved in the sweep folder `dir` (named by `flag` in a UsageError when it is not one). */
export async function savedSweep(dir: string, flag: string): Promise<SweepPlan> {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`${flag} ${dir}: no such folder`);
  if (!existsSync(join(dir, "sweep.json"))) throw new UsageError(`${flag} ${dir}: no sweep.json there; not a sweep's folder (a single run continues with pnpm cifar train --resume)`);
  const saved = await readJson<SweepPlan>(join(dir, "sweep.json"));
  // JSON keeps "the whole batch" as null
  return { ...saved, config: withNewSettings(saved.config), grid: { ...saved.grid, m: saved.grid.m.map((m) => m ?? undefined) } };
}
