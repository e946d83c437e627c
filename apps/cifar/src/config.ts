// The trainer's settings: every flag, its default, its check, and its line in --help.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";

/** Everything a run depends on; written to config.json so a run can be resumed. */
export interface Config {
  dataset: "cifar10" | "cifar100" | "fashion-mnist";
  data?: string;
  model: "resnet20" | "resnet56" | "wrn16-8" | "wrn28-10" | "cnn";
  optimizer: "sgd" | "adam" | "sam" | "asam";
  rho: number;
  m?: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: "cosine" | "step";
  epochs: number;
  batchSize: number;
  labelSmoothing: number;
  augment: "none" | "basic" | "cutout";
  labelNoise: number;
  /** Mixup's α; 0 trains on the batches as they are. */
  mixup: number;
  /** Weight averaging: the epochs trained before the average starts (undefined: none). */
  swaStart?: number;
  /** The learning rate the averaging phase anneals to and holds. */
  swaLr: number;
  trainSubset?: number;
  testSubset?: number;
  device: "cpu" | "webgpu";
  threads: number;
  seed: number;
}

/** A bad command line: the message says which flag and why; the process exits with status 2. */
export class UsageError extends Error {}

/** Flags, their help lines and defaults, in the order --help lists them. */
export const FLAGS = {
  dataset: { type: "string", default: "cifar10", help: "cifar10 | cifar100 | fashion-mnist" },
  data: { type: "string", help: "a local archive or folder instead of the cached or downloaded one" },
  model: { type: "string", default: "resnet20", help: "resnet20 | resnet56 | wrn16-8 | wrn28-10 | cnn" },
  optimizer: { type: "string", default: "sgd", help: "sgd | adam | sam | asam (SAM and ASAM wrap SGD)" },
  rho: { type: "string", default: "0.05", help: "SAM's neighbourhood radius (ASAM: try 0.5–2); sweep: a list" },
  m: { type: "string", help: "m-sharpness group size; must divide --batch-size (default: the batch); sweep: a list" },
  lr: { type: "string", default: "0.1", help: "peak learning rate (Adam: try 0.001)" },
  momentum: { type: "string", default: "0.9", help: "SGD momentum" },
  "weight-decay": { type: "string", default: "5e-4", help: "L2 weight decay" },
  schedule: { type: "string", default: "cosine", help: "cosine | step (×0.2 at 30%, 60%, 80% of the epochs)" },
  epochs: { type: "string", default: "10", help: "epochs in total (with --resume: the total to reach)" },
  "batch-size": { type: "string", default: "128", help: "images per step" },
  "label-smoothing": { type: "string", default: "0", help: "cross-entropy label smoothing in [0, 1)" },
  augment: { type: "string", default: "basic", help: "none | basic (crop + flip) | cutout (basic + Cutout 16)" },
  "label-noise": { type: "string", default: "0", help: "fraction of training labels replaced at random; sweep: a list" },
  mixup: { type: "string", default: "0", help: "Mixup's α: each batch mixed with a shuffled copy by λ ~ Beta(α, α) (try 0.2–1; 0: off)" },
  "swa-start": { type: "string", help: "stochastic weight averaging: average the weights at the end of every epoch after the first N, and report the averaged model" },
  "swa-lr": { type: "string", default: "0.05", help: "with --swa-start: the learning rate annealed to over 5 epochs and held while averaging" },
  "train-subset": { type: "string", help: "use only the first N training images" },
  "test-subset": { type: "string", help: "use only the first N test images" },
  device: { type: "string", default: "cpu", help: "cpu | webgpu" },
  threads: { type: "string", default: String(availableParallelism()), help: "CPU threads (the convolutions are split between them)" },
  seed: { type: "string", default: "0", help: "seed of initialisation, data order and augmentation" },
  out: { type: "string", help: "output folder, new or empty (default runs/<optimizer>-<time>)" },
  overwrite: { type: "boolean", help: "replace the run already in --out" },
  resume: { type: "string", help: "continue the run saved in this folder up to --epochs" },
  optimizers: { type: "string", default: "sgd,sam", help: "compare, sweep: the optimizers to train, comma-separated; sweep: also with +swa or +mixup (sgd+swa, sam+swa+mixup), which take --swa-start and --mixup" },
  seeds: { type: "string", default: "0,1,2", help: "sweep: the seeds each configuration is trained with, comma-separated" },
  hessian: { type: "boolean", help: "train, compare, sweep: the loss Hessian of each run at the end, as the hessian command does" },
  run: { type: "string", help: "hessian: the run folder whose last checkpoint is measured" },
  sweep: { type: "string", help: "summary: the sweep's folder" },
  examples: { type: "string", default: "1000", help: "hessian: the first N images of the run's training subset" },
  k: { type: "string", default: "5", help: "hessian: top eigenvalues to compute (λmax/λk is the sharpness ratio)" },
  iterations: { type: "string", default: "20", help: "hessian: Lanczos steps for the eigenvalues and for each density run" },
  probes: { type: "string", default: "10", help: "hessian: Rademacher probes for the trace" },
  "density-runs": { type: "string", default: "1", help: "hessian: stochastic Lanczos quadrature runs for the density (the first is the eigenvalues' own)" },
  "retain-graphs": { type: "boolean", help: "hessian (also with --hessian, and sweep --resume): hold each batch's gradient graph between Hessian-vector products: the same figures, about a third faster, about 0.6 GiB more a batch of 128 for ResNet-20" },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const;

/** The --help text. */
export function usage(): string {
  const lines = Object.entries(FLAGS).map(([name, f]) => {
    const left = `  --${name}${f.type === "string" ? " VALUE" : ""}`;
    const def = "default" in f ? ` (default ${f.default})` : "";
    return `${left.padEnd(30)}${f.help}${def}`;
  });
  return [
    "usage: pnpm cifar [train|compare|sweep|hessian|summary] [flags]",
    "",
    "  train     train one model with one optimizer",
    "  compare   train the --optimizers on the same seed and data, and write one report",
    "  sweep     train every combination of --optimizers, --seeds and the lists given for --rho, --m and",
    "            --label-noise, one after another (--resume DIR continues an interrupted sweep, or with --seeds",
    "            adds seeds to it), and",
    "            report each configuration's mean ± sd over the seeds and its difference from the first optimizer",
    "  hessian   the loss Hessian of a saved run (--run DIR): top eigenvalues, trace and spectral density",
    "            into DIR/hessian.json and its report; --seed seeds the random vectors (by default the run's",
    "            seed, as its own --hessian draws them)",
    "  summary   the tables of a sweep (--sweep DIR) as they stand: writes its summary.json, report.html and",
    "            summary.md (Markdown, printed too) from its finished runs and PyTorch's; trains nothing",
    "  (none)    the demonstration: SGD against SAM, ResNet-20 on 2,000 CIFAR-10 images with 40% noisy labels (about 12 minutes on 2 cores)",
    "",
    ...lines,
    "",
    "exit status: 0 done, 1 failed, 2 bad command line, 3 training diverged, 130 interrupted (resume with --resume)",
  ].join("\n");
}

function choice<T extends string>(flag: string, value: string, options: readonly T[]): T {
  if (!(options as readonly string[]).includes(value)) throw new UsageError(`--${flag}: unknown value "${value}"; expected ${options.join(", ")}`);
  return value as T;
}

function number(flag: string, value: string | undefined, o: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number {
  const v = Number(value);
  const bad = value === undefined || value.trim() === "" || !Number.isFinite(v) || (o.integer && !Number.isInteger(v))
    || (o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max) || (o.above !== undefined && v <= o.above);
  if (bad) {
    const range = [o.integer ? "an integer" : "a number", o.min !== undefined ? `≥ ${o.min}` : "", o.above !== undefined ? `> ${o.above}` : "", o.max !== undefined ? `≤ ${o.max}` : ""].filter(Boolean).join(" ");
    throw new UsageError(`--${flag}: expected ${range}, got "${value}"`);
  }
  return v;
}

/** What `hessian` (or `--hessian`) computes. */
export interface HessianSettings {
  /** The first N images of the run's training subset. */
  examples: number;
  /** Top eigenvalues. */
  k: number;
  /** Lanczos steps, for the eigenvalues and for each density run. */
  iterations: number;
  /** Rademacher probes for the trace. */
  probes: number;
  /** Quadrature runs for the density. */
  densityRuns: number;
  /** Seed of the random vectors. */
  seed: number;
}

/**
 * An optimizer as a sweep lists it: its name, optionally with weight averaging and Mixup
 * (`sgd+swa`, `sam+mixup`, `sam+swa+mixup`), which take `--swa-start` and `--mixup`'s values.
 */
export type Variant = string;

/** The optimizer and the additions of a variant; throws a UsageError for an unknown one. */
export function parseVariant(variant: Variant): { optimizer: Config["optimizer"]; swa: boolean; mixup: boolean } {
  const [name, ...additions] = variant.split("+");
  const optimizer = choice("optimizers", name, ["sgd", "adam", "sam", "asam"] as const);
  for (const a of additions) {
    if (a !== "swa" && a !== "mixup") throw new UsageError(`--optimizers: unknown addition "+${a}" in ${variant}; expected +swa or +mixup`);
  }
  return { optimizer, swa: additions.includes("swa"), mixup: additions.includes("mixup") };
}

/** The settings a sweep trains every combination of (one value each in `Command.config`). */
export interface Grid {
  /** Optimizers, each possibly with +swa or +mixup. */
  optimizers: Variant[];
  seeds: number[];
  rho: number[];
  /** Group sizes; undefined is the whole batch. */
  m: (number | undefined)[];
  labelNoise: number[];
}

/** The parsed command line: the command, the run's configuration and the output options. */
export interface Command {
  command: "train" | "compare" | "sweep" | "demo" | "hessian" | "summary" | "help";
  config: Config;
  out?: string;
  resume?: string;
  optimizers: Config["optimizer"][];
  /** Replace a run already in `out`. */
  overwrite: boolean;
  /** The run folder of `hessian`. */
  run?: string;
  /** The sweep folder of `summary`. */
  sweep?: string;
  /** What to compute for `hessian`, or after training with `--hessian` (else undefined). */
  hessian?: HessianSettings;
  /** Hold each batch's gradient graph between a Hessian measurement's products (how, not what: a resumed sweep takes it too). */
  retainGraphs: boolean;
  /** Flags given explicitly (a resumed run takes the rest from its config.json). */
  given: Set<string>;
  /** What `sweep` trains (its first values are also in `config`). */
  grid?: Grid;
}

/** Parses and checks the command line; throws UsageError before any work starts. */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS as never, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const positional = parsed.positionals;
  if (positional.length > 1) throw new UsageError(`unexpected arguments: ${positional.slice(1).join(" ")}`);
  const command = v.help ? "help" : positional.length === 0 ? "demo" : choice("command", positional[0], ["train", "compare", "sweep", "hessian", "summary"] as const);
  // parseArgs fills in defaults, so what was given is read off the arguments themselves
  const given = new Set(argv.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split("=")[0]));
  const s = (k: string) => (v[k] as string | undefined) ?? ((FLAGS as Record<string, { default?: string }>)[k].default);
  /** The values of a flag that takes a list in a sweep (its first value stands in `config`). */
  const list = <T>(flag: string, parse: (value: string) => T): T[] => {
    const items = s(flag) === undefined ? [undefined] : s(flag)!.split(",");
    if (items.length > 1 && command !== "sweep") throw new UsageError(`--${flag}: a list of values is for the sweep command only; give one value`);
    const values = items.map((i) => parse(i as string));
    const twice = values.find((x, i) => values.indexOf(x) !== i);
    if (twice !== undefined) throw new UsageError(`--${flag}: ${String(twice)} is listed twice`);
    return values;
  };
  if (command === "summary") {
    const other = [...given].find((f) => f !== "sweep");
    if (other) throw new UsageError(`--${other}: the summary command takes only --sweep DIR`);
    if (s("sweep") === undefined) throw new UsageError("summary: --sweep DIR is required (the sweep's folder)");
  } else if (given.has("sweep")) throw new UsageError("--sweep: only for the summary command (sweep --resume DIR continues a sweep)");
  if (command !== "sweep" && given.has("seeds")) throw new UsageError("--seeds: only for the sweep command (train and compare take one --seed)");
  if (command === "sweep" && given.has("seed")) throw new UsageError("--seed: a sweep takes --seeds, a comma-separated list");
  const grid: Grid = {
    optimizers: [],
    seeds: command === "sweep" ? list("seeds", (x) => number("seeds", x, { integer: true, min: 0 })) : [],
    rho: list("rho", (x) => number("rho", x, { min: 0 })),
    m: list("m", (x) => (x === undefined ? undefined : number("m", x, { integer: true, min: 1 }))),
    labelNoise: list("label-noise", (x) => number("label-noise", x, { min: 0, max: 1 })),
  };
  const config: Config = {
    dataset: choice("dataset", s("dataset")!, ["cifar10", "cifar100", "fashion-mnist"] as const),
    data: s("data"),
    model: choice("model", s("model")!, ["resnet20", "resnet56", "wrn16-8", "wrn28-10", "cnn"] as const),
    optimizer: choice("optimizer", s("optimizer")!, ["sgd", "adam", "sam", "asam"] as const),
    rho: grid.rho[0],
    m: grid.m[0],
    lr: number("lr", s("lr"), { above: 0 }),
    momentum: number("momentum", s("momentum"), { min: 0, max: 1 }),
    weightDecay: number("weight-decay", s("weight-decay"), { min: 0 }),
    schedule: choice("schedule", s("schedule")!, ["cosine", "step"] as const),
    epochs: number("epochs", s("epochs"), { integer: true, min: 1 }),
    batchSize: number("batch-size", s("batch-size"), { integer: true, min: 1 }),
    labelSmoothing: number("label-smoothing", s("label-smoothing"), { min: 0, max: 0.999 }),
    augment: choice("augment", s("augment")!, ["none", "basic", "cutout"] as const),
    labelNoise: grid.labelNoise[0],
    mixup: number("mixup", s("mixup"), { min: 0 }),
    swaStart: s("swa-start") === undefined ? undefined : number("swa-start", s("swa-start"), { integer: true, min: 0 }),
    swaLr: number("swa-lr", s("swa-lr"), { above: 0 }),
    trainSubset: s("train-subset") === undefined ? undefined : number("train-subset", s("train-subset"), { integer: true, min: 1 }),
    testSubset: s("test-subset") === undefined ? undefined : number("test-subset", s("test-subset"), { integer: true, min: 1 }),
    device: choice("device", s("device")!, ["cpu", "webgpu"] as const),
    threads: number("threads", s("threads"), { integer: true, min: 1 }),
    seed: command === "sweep" ? grid.seeds[0] : number("seed", s("seed"), { integer: true, min: 0 }),
  };
  if (config.swaStart !== undefined && config.swaStart >= config.epochs) {
    throw new UsageError(`--swa-start: ${config.swaStart} leaves no epoch to average (--epochs ${config.epochs}); give fewer than --epochs`);
  }
  for (const m of grid.m) {
    if (m !== undefined && config.batchSize % m !== 0) throw new UsageError(`--m: ${m} does not divide --batch-size ${config.batchSize}`);
    // a subset smaller than a batch is trained as one short batch, which m must divide too
    if (m !== undefined && config.trainSubset !== undefined && config.trainSubset < config.batchSize && config.trainSubset % m !== 0) {
      throw new UsageError(`--m: ${m} does not divide --train-subset ${config.trainSubset}, which is smaller than --batch-size ${config.batchSize} and so is the one batch`);
    }
  }
  const variants = s("optimizers")!.split(",").map((o) => o.trim());
  const twice = variants.find((o, i) => variants.indexOf(o) !== i);
  if (twice) throw new UsageError(`--optimizers: ${twice} is listed twice; each optimizer's run has one folder (compare seeds with sweep --seeds)`);
  const listed = variants.map(parseVariant);
  const withAdditions = variants.find((v) => v.includes("+"));
  if (withAdditions && command !== "sweep") throw new UsageError(`--optimizers: ${withAdditions}: +swa and +mixup are for the sweep command (train and compare take --swa-start and --mixup)`);
  if (listed.some((p) => p.swa) && config.swaStart === undefined) throw new UsageError(`--optimizers: ${variants.find((v) => v.includes("+swa"))} needs --swa-start (the epochs before averaging starts)`);
  if (listed.some((p) => p.mixup) && !(config.mixup > 0)) throw new UsageError(`--optimizers: ${variants.find((v) => v.includes("+mixup"))} needs --mixup α > 0`);
  const optimizers = listed.map((p) => p.optimizer);
  grid.optimizers = variants;
  const settings: HessianSettings = {
    examples: number("examples", s("examples"), { integer: true, min: 1 }),
    k: number("k", s("k"), { integer: true, min: 1 }),
    iterations: number("iterations", s("iterations"), { integer: true, min: 1 }),
    probes: number("probes", s("probes"), { integer: true, min: 2 }),
    densityRuns: number("density-runs", s("density-runs"), { integer: true, min: 1 }),
    seed: config.seed,
  };
  if (settings.iterations < settings.k) throw new UsageError(`--iterations: ${settings.iterations} is fewer than --k ${settings.k}; Lanczos needs at least k steps`);
  if (command === "hessian" && s("run") === undefined) throw new UsageError("hessian: --run DIR is required (the run folder to measure)");
  const only = ["run", "examples", "k", "iterations", "probes", "density-runs"].filter((f) => given.has(f));
  if (command !== "hessian" && v.hessian !== true && only.length > 0) throw new UsageError(`--${only[0]}: only for the hessian command, or with --hessian`);
  if (command === "hessian" && v.hessian === true) throw new UsageError("--hessian: the hessian command computes it already");
  if (v.run !== undefined && command !== "hessian") throw new UsageError("--run: only for the hessian command (use --out or --resume to name a run folder)");
  const hessian = command === "hessian" || v.hessian === true ? settings : undefined;
  const retainGraphs = v["retain-graphs"] === true;
  if (retainGraphs && hessian === undefined && !(command === "sweep" && s("resume") !== undefined)) {
    throw new UsageError("--retain-graphs: only for the hessian command, with --hessian, or to continue a sweep (sweep --resume) that measures Hessians");
  }
  return { command, config, out: s("out"), resume: s("resume"), optimizers, overwrite: v.overwrite === true, run: s("run"), sweep: s("sweep"), hessian, retainGraphs, given, grid: command === "sweep" ? grid : undefined };
}
