// summary.json of a sweep: for each configuration, the final figures of every finished seed, their
// mean ± sd, the difference from the baseline configuration paired by seed, and, where the same
// runs were trained in PyTorch, @sam against PyTorch.
import type { Config } from "./config.js";
import type { Divergence, EpochMetrics, HessianSummary } from "./report.js";
import { estimate, sampleSd, welch, type Estimate } from "./stats.js";
import type { Cell, SweepPlan } from "./sweepPlan.js";

/** A cell as trained so far. */
export interface CellResult {
  cell: Cell;
  metrics: EpochMetrics[];
  diverged?: Divergence;
  hessian?: HessianSummary;
  /** The same run trained in PyTorch (bench/anchors/torch_sweep.py), as far as it got. */
  pytorch?: EpochMetrics[];
  /** The Hessian of PyTorch's final model (bench/anchors/torch_hessian.py), where measured. */
  pytorchHessian?: HessianSummary;
  /** @sam's final model evaluated by PyTorch (bench/anchors/torch_evaluate.py), while the model file is the one evaluated. */
  pytorchEvaluation?: SamModelEvaluation;
  /** The Hessian of @sam's final model measured by PyTorch (torch_hessian.py --of-sam), while the model file is the one measured. */
  samModelHessian?: HessianSummary;
}

/** Which of @sam's model files a PyTorch measurement is of. */
export interface ModelFile {
  /** The model file, relative to the run's folder, and its SHA-256 when measured. */
  model: string;
  sha256: string;
}

/** sam-model-evaluation.json: @sam's final model, its weights loaded into PyTorch and tested there. */
export interface SamModelEvaluation extends ModelFile {
  /** PyTorch's test loss and accuracy of the model. */
  testLoss: number;
  testAcc: number;
  /** For an averaged model: batch norm's statistics recomputed by PyTorch, how far from @sam's, and the model tested again. */
  batchNorm?: { maxDifference: number; testLoss: number; testAcc: number };
}

/** The figures of a finished run that a sweep compares. */
export const FIGURES = ["testAcc", "testLoss", "trainAcc", "trainLoss", "lambdaMax", "ratio", "trace"] as const;
export type Figure = (typeof FIGURES)[number];

/** One configuration's finished seeds on one system. */
export interface Seeds {
  /** Seeds whose runs finished every epoch. */
  seeds: number[];
  /** The final figures of each finished seed (λmax, the ratio and the trace where measured). */
  perSeed: Record<number, Partial<Record<Figure, number>>>;
  /** Mean, sd and 95% interval of each figure over the finished seeds. */
  estimates: Partial<Record<Figure, Estimate>>;
}

/** One configuration over its seeds. */
export interface GroupSummary extends Seeds {
  group: string;
  optimizer: Config["optimizer"];
  /** The optimizer as the sweep lists it (with +swa or +mixup). */
  variant: string;
  /** ρ and m of SAM and ASAM (m undefined: the whole batch). */
  rho?: number;
  m?: number;
  labelNoise: number;
  /** Seeds not finished yet. */
  pending: number[];
  /** Seeds whose runs diverged. */
  diverged: number[];
  /** The same configuration's runs in PyTorch that finished. */
  pytorch?: Seeds;
}

/** A configuration minus its baseline, seed by seed (same seed: same initialisation, data order and noise). */
export interface Difference {
  /** Whose runs: @sam's, or the same configurations trained in PyTorch. */
  system: "@sam" | "pytorch";
  group: string;
  baseline: string;
  figure: Figure;
  seeds: number[];
  values: number[];
  estimate: Estimate;
}

/** A configuration's figure on @sam against PyTorch (unpaired: PyTorch draws its own initialisation and order). */
export interface AgainstPytorch {
  group: string;
  figure: Figure;
  /** @sam's mean minus PyTorch's. */
  difference: number;
  /** The larger of the two systems' sample sds over their seeds. */
  sd: number;
  /** |difference| ≤ sd: the systems agree within the seeds' spread. */
  withinOneSd: boolean;
  /** Welch's 95% interval for the difference. */
  ci95?: [number, number];
}

export interface SweepSummary {
  /** Epochs each run trains. */
  epochs: number;
  groups: GroupSummary[];
  differences: Difference[];
  againstPytorch: AgainstPytorch[];
}

/** The figures @sam and PyTorch are compared on (the Hessian's where both sides measured them). */
const COMPARED: Figure[] = ["testAcc", "testLoss", "trainAcc", "lambdaMax", "ratio", "trace"];

function finals(metrics: EpochMetrics[], hessian?: HessianSummary): Partial<Record<Figure, number>> {
  const last = metrics[metrics.length - 1];
  // with weight averaging the run's model is the averaged one
  const out: Partial<Record<Figure, number>> = { testAcc: last.swaTestAcc ?? last.testAcc, testLoss: last.swaTestLoss ?? last.testLoss, trainAcc: last.trainAcc, trainLoss: last.trainLoss };
  if (hessian) Object.assign(out, { lambdaMax: hessian.lambdaMax, ratio: hessian.ratio, trace: hessian.trace });
  return out;
}

/**
 * The baseline of a group: the first optimizer's group at the same label noise (and, when that
 * optimizer is SAM or ASAM, at the first ρ and m).
 */
function baselineOf(g: GroupSummary, groups: GroupSummary[], plan: SweepPlan): GroupSummary | undefined {
  const [first] = plan.grid.optimizers;
  const b = groups.find((o) => o.variant === first && o.labelNoise === g.labelNoise
    && (o.rho === undefined || (o.rho === plan.grid.rho[0] && o.m === plan.grid.m[0])));
  return b === g ? undefined : b;
}

/** The summary of the cells trained so far (only runs that finished every epoch count). */
export function summarizeSweep(plan: SweepPlan, results: CellResult[]): SweepSummary {
  const groups: GroupSummary[] = [];
  for (const r of results) {
    const c = r.cell.config;
    let g = groups.find((o) => o.group === r.cell.group);
    if (!g) {
      const perturbs = c.optimizer === "sam" || c.optimizer === "asam";
      g = { group: r.cell.group, optimizer: c.optimizer, variant: r.cell.variant, rho: perturbs ? c.rho : undefined, m: perturbs ? c.m : undefined, labelNoise: c.labelNoise, seeds: [], pending: [], diverged: [], perSeed: {}, estimates: {} };
      groups.push(g);
    }
    if (r.diverged) g.diverged.push(c.seed);
    else if (r.metrics.length < c.epochs) g.pending.push(c.seed);
    else {
      g.seeds.push(c.seed);
      g.perSeed[c.seed] = finals(r.metrics, r.hessian);
    }
    if (r.pytorch && r.pytorch.length >= c.epochs) {
      g.pytorch ??= { seeds: [], perSeed: {}, estimates: {} };
      g.pytorch.seeds.push(c.seed);
      g.pytorch.perSeed[c.seed] = finals(r.pytorch, r.pytorchHessian);
    }
  }
  const valuesOf = (g: Seeds, f: Figure) => g.seeds.map((s) => g.perSeed[s]?.[f]).filter((v): v is number => v !== undefined);
  for (const side of groups.flatMap((g) => (g.pytorch ? [g, g.pytorch] : [g]))) {
    for (const f of FIGURES) {
      const values = valuesOf(side, f);
      if (values.length > 0) side.estimates[f] = estimate(values);
    }
  }
  const differences: Difference[] = [];
  for (const system of ["@sam", "pytorch"] as const) {
    for (const g of groups) {
      const b = baselineOf(g, groups, plan);
      const [x, y] = system === "@sam" ? [g, b] : [g.pytorch, b?.pytorch];
      if (!x || !y || !b) continue;
      for (const f of FIGURES) {
        const seeds = x.seeds.filter((s) => x.perSeed[s][f] !== undefined && y.perSeed[s]?.[f] !== undefined);
        if (seeds.length === 0) continue;
        const values = seeds.map((s) => x.perSeed[s][f]! - y.perSeed[s][f]!);
        differences.push({ system, group: g.group, baseline: b.group, figure: f, seeds, values, estimate: estimate(values) });
      }
    }
  }
  const againstPytorch: AgainstPytorch[] = [];
  for (const g of groups) {
    if (!g.pytorch || g.seeds.length === 0) continue;
    for (const f of COMPARED) {
      const [ours, theirs] = [valuesOf(g, f), valuesOf(g.pytorch, f)];
      if (ours.length === 0 || theirs.length === 0) continue;
      const sd = Math.max(sampleSd(ours), sampleSd(theirs));
      const { difference, ci95 } = welch(ours, theirs);
      againstPytorch.push({ group: g.group, figure: f, difference, sd, withinOneSd: Math.abs(difference) <= sd, ci95 });
    }
  }
  return { epochs: plan.config.epochs, groups, differences, againstPytorch };
}
