// What a sweep trains: its settings (sweep.json) and the runs they expand to.
import type { Config, Grid, HessianSettings } from "./config.js";

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
  for (const seed of grid.seeds) {
    for (const labelNoise of grid.labelNoise) {
      for (const optimizer of grid.optimizers) {
        const [rhos, ms] = perturbs(optimizer) ? [grid.rho, grid.m] : [[base.rho], [base.m]];
        for (const rho of rhos) {
          for (const m of ms) {
            const parts: string[] = [optimizer];
            if (perturbs(optimizer) && grid.rho.length > 1) parts.push(`rho${rho}`);
            if (perturbs(optimizer) && grid.m.length > 1) parts.push(`m${m ?? base.batchSize}`);
            if (grid.labelNoise.length > 1) parts.push(`noise${labelNoise}`);
            const group = parts.join("-");
            out.push({ name: `${group}-seed${seed}`, group, config: { ...base, optimizer, rho, m, labelNoise, seed } });
          }
        }
      }
    }
  }
  return out;
}
