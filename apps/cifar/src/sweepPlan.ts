// What a sweep trains: its settings (sweep.json) and the runs they expand to.
import { parseVariant, type Config, type Grid, type HessianSettings } from "./config.js";

/** sweep.json: what a sweep trains, so `--resume` can continue it. */
export interface SweepPlan {
  config: Config;
  grid: Grid;
  hessian?: HessianSettings;
}

/** One run of a sweep: its folder name, the configuration it belongs to, and its settings. */
export interface Cell {
  name: string;
  /** The configuration without the seed: the cells of one group differ only in their seed. */
  group: string;
  /** The optimizer as the sweep lists it (with +swa or +mixup). */
  variant: string;
  config: Config;
}

const perturbs = (o: Config["optimizer"]) => o === "sam" || o === "asam";

/**
 * The runs of a grid, in the order they are trained: seed by seed, so that an interrupted sweep
 * has whole seeds of every configuration to compare. ρ and m apply to SAM and ASAM only, so SGD and
 * Adam are trained once per seed and noise level. Names carry the settings that vary.
 */
export function sweepCells(base: Config, grid: Grid): Cell[] {
  const out: Cell[] = [];
  const variants = grid.optimizers.map((v) => ({ name: v, ...parseVariant(v) }));
  // once a variant asks for weight averaging (or Mixup), only the variants that ask get it
  const [someSwa, someMixup] = [variants.some((v) => v.swa), variants.some((v) => v.mixup)];
  for (const seed of grid.seeds) {
    for (const labelNoise of grid.labelNoise) {
      for (const variant of variants) {
        const { optimizer } = variant;
        const swaStart = someSwa && !variant.swa ? undefined : base.swaStart;
        const mixup = someMixup && !variant.mixup ? 0 : base.mixup;
        const [rhos, ms] = perturbs(optimizer) ? [grid.rho, grid.m] : [[base.rho], [base.m]];
        for (const rho of rhos) {
          for (const m of ms) {
            const parts: string[] = [variant.name];
            if (perturbs(optimizer) && grid.rho.length > 1) parts.push(`rho${rho}`);
            if (perturbs(optimizer) && grid.m.length > 1) parts.push(`m${m ?? base.batchSize}`);
            if (grid.labelNoise.length > 1) parts.push(`noise${labelNoise}`);
            const group = parts.join("-");
            out.push({ name: `${group}-seed${seed}`, group, variant: variant.name, config: { ...base, optimizer, rho, m, labelNoise, seed, swaStart, mixup } });
          }
        }
      }
    }
  }
  return out;
}
