// summary.json of a sweep: for each configuration, the final figures of every finished seed, their
// mean ± sd, and the difference from the baseline configuration paired by seed.
import type { Config } from "./config.js";
import type { Divergence, EpochMetrics, HessianSummary } from "./report.js";
import { estimate, type Estimate } from "./stats.js";
import type { Cell, SweepPlan } from "./sweepPlan.js";

/** A cell as trained so far. */
export interface CellResult {
  cell: Cell;
  metrics: EpochMetrics[];
  diverged?: Divergence;
  hessian?: HessianSummary;
}

/** The figures of a finished run that a sweep compares. */
export const FIGURES = ["testAcc", "testLoss", "trainAcc", "trainLoss", "lambdaMax", "ratio"] as const;
export type Figure = (typeof FIGURES)[number];

/** One configuration over its seeds. */
export interface GroupSummary {
  group: string;
  optimizer: Config["optimizer"];
  /** The optimizer as the sweep lists it (with +swa or +mixup). */
  variant: string;
  /** ρ and m of SAM and ASAM (m undefined: the whole batch). */
  rho?: number;
  m?: number;
  labelNoise: number;
  /** Seeds whose runs finished every epoch. */
  seeds: number[];
  /** Seeds not finished yet. */
  pending: number[];
  /** Seeds whose runs diverged. */
  diverged: number[];
  /** The final figures of each finished seed (λmax and the ratio where measured). */
  perSeed: Record<number, Partial<Record<Figure, number>>>;
  /** Mean, sd and 95% interval of each figure over the finished seeds. */
  estimates: Partial<Record<Figure, Estimate>>;
}

/** A configuration minus its baseline, seed by seed (same seed: same initialisation, data order and noise). */
export interface Difference {
  group: string;
  baseline: string;
  figure: Figure;
  seeds: number[];
  values: number[];
  estimate: Estimate;
}

export interface SweepSummary {
  /** Epochs each run trains. */
  epochs: number;
  groups: GroupSummary[];
  differences: Difference[];
}

function finals(r: CellResult): Partial<Record<Figure, number>> {
  const last = r.metrics[r.metrics.length - 1];
  // with weight averaging the run's model is the averaged one
  const out: Partial<Record<Figure, number>> = { testAcc: last.swaTestAcc ?? last.testAcc, testLoss: last.swaTestLoss ?? last.testLoss, trainAcc: last.trainAcc, trainLoss: last.trainLoss };
  if (r.hessian) Object.assign(out, { lambdaMax: r.hessian.lambdaMax, ratio: r.hessian.ratio });
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
      g.perSeed[c.seed] = finals(r);
    }
  }
  const valuesOf = (g: GroupSummary, f: Figure, seeds = g.seeds) => seeds.map((s) => g.perSeed[s]?.[f]).filter((v): v is number => v !== undefined);
  for (const g of groups) {
    for (const f of FIGURES) {
      const values = valuesOf(g, f);
      if (values.length > 0) g.estimates[f] = estimate(values);
    }
  }
  const differences: Difference[] = [];
  for (const g of groups) {
    const b = baselineOf(g, groups, plan);
    if (!b) continue;
    for (const f of FIGURES) {
      const seeds = g.seeds.filter((s) => g.perSeed[s][f] !== undefined && b.perSeed[s]?.[f] !== undefined);
      if (seeds.length === 0) continue;
      const values = seeds.map((s) => g.perSeed[s][f]! - b.perSeed[s][f]!);
      differences.push({ group: g.group, baseline: b.group, figure: f, seeds, values, estimate: estimate(values) });
    }
  }
  return { epochs: plan.config.epochs, groups, differences };
}
