// --resume: the saved run's settings, with the few that may change on resume taken from the
// command line, and every other flag checked against what the run was trained with.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { SamError } from "@sam/tensor";
import { readJson, readRunPosition } from "./checkpoint.js";
import { UsageError, type Command, type Config } from "./config.js";

/** Settings that may differ from the saved run's: where and how fast it runs, and how long. */
const MAY_CHANGE = new Set<keyof Config>(["epochs", "threads", "device", "data"]);

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A UsageError for a run folder that cannot be resumed, saying why. */
function notARun(dir: string): UsageError {
  const runs = readdirSync(dir).filter((n) => existsSync(join(dir, n, "config.json")));
  if (runs.length > 0) return new UsageError(`--resume ${dir}: a comparison; resume each of its runs, e.g. --resume ${join(dir, runs[0])}`);
  return new UsageError(`--resume ${dir}: no config.json there; not a run folder`);
}

/**
 * The configuration to continue the run in `cmd.resume` with. A flag that contradicts the saved
 * run is a UsageError naming both values; `--epochs` (not below the epochs done), `--threads`,
 * `--device` and `--data` are taken and recorded.
 */
export async function resumedConfig(cmd: Command): Promise<Config> {
  const dir = cmd.resume!;
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--resume ${dir}: no such folder`);
  if (!existsSync(join(dir, "config.json"))) throw notARun(dir);
  let saved: Config;
  let done: number;
  try {
    saved = await readJson<Config>(join(dir, "config.json"));
    done = (await readRunPosition(dir)).epoch;
  } catch (e) {
    if (e instanceof SamError) throw new UsageError(e.message.replace(/^resume: /, `--resume ${dir}: `));
    throw e;
  }
  const config: Config = { ...saved };
  for (const flag of cmd.given) {
    if (flag === "resume" || flag === "help" || flag === "h") continue;
    if (flag === "out" || flag === "optimizers" || flag === "overwrite") {
      throw new UsageError(`--${flag}: not for --resume, which continues the run in ${dir}`);
    }
    const key = camel(flag) as keyof Config;
    const [given, before] = [cmd.config[key], saved[key]];
    if (MAY_CHANGE.has(key)) {
      (config as unknown as Record<string, unknown>)[key] = given;
    } else if (JSON.stringify(given) !== JSON.stringify(before)) {
      throw new UsageError(`--${flag} ${String(given)} contradicts the run in ${dir}, trained with --${flag} ${String(before)}; `
        + `on --resume only --epochs, --threads, --device and --data may change (start a new run for the rest)`);
    }
  }
  if (config.epochs < done) {
    throw new UsageError(`--epochs ${config.epochs}: the run in ${dir} has done ${done} epochs already; give a total of at least ${done}`);
  }
  return config;
}
