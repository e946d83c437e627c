// Stochastic weight averaging (Izmailov et al., 2018): the running mean of the weights along the
// trajectory, taken once per epoch from a start epoch, and the learning rate it is taken under.
import { noGrad } from "@sam/autograd";
import { check, keep, tidy, type Tensor } from "@sam/tensor";
import { LRScheduler, type HasParamGroups, type Schedule } from "./schedulers.js";

/** What a checkpoint keeps of an average. */
export interface WeightAverageState {
  /** Snapshots averaged so far. */
  count: number;
  /** The averages, one per parameter, in order. */
  averages: Tensor[];
}

/**
 * The running mean of a list of parameters, as `torch.optim.swa_utils.AveragedModel` keeps it:
 * `update()` adds the parameters' present values; `copyTo()` writes the mean into them. Batch-norm
 * statistics are not averaged: recompute them for the averaged weights (`updateBatchNorm` in
 * `@sam/nn`).
 * @example
 * const swa = new WeightAverage(model.parameters());
 * // at the end of each epoch from the start epoch on
 * swa.update();
 * // at the end of training
 * swa.copyTo();
 * updateBatchNorm(model, batches);
 */
export class WeightAverage {
  private averages: Tensor[] | null = null;
  /** Snapshots averaged so far. */
  count = 0;

  constructor(
    /** The parameters averaged, in order. */
    readonly params: readonly Tensor[],
  ) {
    check(params.length > 0, "WeightAverage", () => "needs at least one parameter");
  }

  /** Adds the parameters' present values to the mean: a ← a + (p − a)/(n + 1). */
  update(): void {
    if (this.averages === null) {
      this.averages = this.params.map((p) => keep(p.copy()));
    } else {
      const n = this.count;
      tidy(() => noGrad(() => this.averages!.forEach((a, i) => a.assign(a.add(this.params[i].detach().sub(a).div(n + 1))))));
    }
    this.count++;
  }

  /** Writes the mean into the parameters. */
  copyTo(): void {
    check(this.averages !== null, "WeightAverage.copyTo", () => "nothing averaged yet: call update() first");
    tidy(() => noGrad(() => this.params.forEach((p, i) => p.assign(this.averages![i].detach()))));
  }

  /** The count and the averages (the tensors themselves: save them before the next update). */
  stateDict(): WeightAverageState {
    return { count: this.count, averages: this.averages ?? [] };
  }

  /** Restores `stateDict()`'s output. */
  loadStateDict(s: WeightAverageState): void {
    check(s.count === 0 ? s.averages.length === 0 : s.averages.length === this.params.length, "WeightAverage.loadStateDict",
      () => `the snapshot holds ${s.averages.length} averages for ${this.params.length} parameters (count ${s.count})`);
    s.averages.forEach((a, i) => check(a.shape.join() === this.params[i].shape.join(), "WeightAverage.loadStateDict",
      () => `average ${i} has shape [${a.shape}], its parameter [${this.params[i].shape}]`));
    this.averages?.forEach((a) => a.dispose());
    this.averages = s.count === 0 ? null : s.averages.map((a) => keep(a.detach()));
    this.count = s.count;
  }
}

/** Options of {@link SWALR}. */
export interface SWALROptions {
  /** The epoch the annealing starts at (default 0). */
  start?: number;
  /** Epochs from the present rate to `swaLr` (default 10; 0 jumps at once). */
  annealEpochs?: number;
  /** The schedule before `start` (default: the base rate). */
  before?: Schedule;
}

/**
 * The learning rate for weight averaging, as `torch.optim.swa_utils.SWALR`: from epoch `start` it
 * anneals along a half cosine from the rate the schedule had there to `swaLr` over `annealEpochs`,
 * then stays at `swaLr`.
 * @example
 * const cosine = new CosineAnnealingLR(sgd, 100);
 * const schedule = new SWALR(sgd, 0.05, { start: 75, annealEpochs: 5, before: (e, _, i) => cosine.lrAt(e, i) });
 */
export class SWALR extends LRScheduler {
  constructor(optimizer: HasParamGroups, swaLr: number, o: SWALROptions = {}) {
    const { start = 0, annealEpochs = 10 } = o;
    check(swaLr >= 0 && Number.isFinite(swaLr), "SWALR", () => `swaLr must be a finite number ≥ 0, got ${swaLr}`);
    check(Number.isInteger(start) && start >= 0, "SWALR", () => `start must be an integer ≥ 0, got ${start}`);
    check(Number.isInteger(annealEpochs) && annealEpochs >= 0, "SWALR", () => `annealEpochs must be an integer ≥ 0, got ${annealEpochs}`);
    const before: Schedule = o.before ?? ((_, base) => base);
    super(optimizer, (epoch, base, i) => {
      if (epoch < start) return before(epoch, base, i);
      const from = before(start, base, i);
      const t = annealEpochs === 0 ? 1 : Math.min(1, (epoch - start) / annealEpochs);
      return swaLr + ((from - swaLr) * (1 + Math.cos(Math.PI * t))) / 2;
    });
  }
}
