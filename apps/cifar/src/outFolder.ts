// The output folder of a new run, made ready before any work: never another run's folder (unless
// --overwrite says so), never a folder of other files, and known to be writable.
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "./config.js";

/** Files that make a folder a run's (or a comparison's, whose runs are in subfolders). */
const RUN_FILES = ["config.json", "metrics.jsonl", "checkpoint", "report.html", "comparison.json"];

function isRun(dir: string): boolean {
  const names = readdirSync(dir);
  return names.some((n) => RUN_FILES.includes(n) || n.startsWith("checkpoint."))
    || names.some((n) => statSync(join(dir, n), { throwIfNoEntry: false })?.isDirectory() && existsSync(join(dir, n, "config.json")));
}

/**
 * Creates `dir` one level at a time: Node's recursive mkdir never returns under /proc, and a
 * level at a time says which one failed.
 */
function makeFolders(dir: string): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      removeEmpty(missing);
      throw new UsageError(`--out ${dir}: cannot create ${d} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  return missing;
}

/** Removes the folders `made` (outermost first) that are still empty, innermost first. */
function removeEmpty(made: string[]): void {
  for (const d of [...made].reverse()) {
    if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
  }
}

/** A prepared output folder; `abandon()` removes the folders this run created while they are empty. */
export interface OutFolder {
  abandon: () => void;
}

/**
 * Makes `dir` ready for a new run, or throws a UsageError that says what to do: a folder holding
 * a run is refused unless `overwrite`, which empties it first; a folder holding anything else is
 * always refused; a place that cannot be written is refused before the data is loaded.
 */
export function prepareOutFolder(dir: string, overwrite: boolean): OutFolder {
  let info;
  try {
    info = statSync(dir, { throwIfNoEntry: false });
  } catch (e) {
    throw new UsageError(`--out ${dir}: cannot be used (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (info && !info.isDirectory()) throw new UsageError(`--out ${dir}: is a file, not a folder`);
  if (info && readdirSync(dir).length > 0) {
    if (!isRun(dir)) throw new UsageError(`--out ${dir}: the folder holds files that are not a run's; choose a new or empty folder`);
    if (!overwrite) {
      throw new UsageError(`--out ${dir}: the folder holds a run already; continue it with --resume ${dir}, `
        + `choose another --out, or add --overwrite to replace it`);
    }
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  }
  const made = makeFolders(dir);
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (e) {
    removeEmpty(made);
    throw new UsageError(`--out ${dir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { abandon: () => removeEmpty(made) };
}
