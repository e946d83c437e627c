// Learning-rate schedules as closed forms of the epoch (or step) count, shaped like torch.optim.lr_scheduler.
import { check } from "@sam/tensor";

/** What a scheduler changes: anything with parameter groups holding `lr` (every Optimizer, SAM included). */
export interface HasParamGroups {
  /** Groups whose `lr` the schedule sets. */
  paramGroups: Record<string, unknown>[];
}

/** A scheduler's snapshot. */
export interface SchedulerStateDict {
  /** How many times step() has run. */
  lastEpoch: number;
  /** Each group's learning rate before scheduling. */
  baseLrs: number[];
}

/** A schedule: the learning rate of group `i` after `epoch` steps, from its base rate. */
export type Schedule = (epoch: number, baseLr: number, i: number) => number;

/**
 * A scheduler: `step()` advances the count and sets every group's lr to `schedule(count, base lr)`.
 * Under SAM the groups are shared with the base optimizer, so a schedule works the same.
 * @example
 * const constant = new LRScheduler(opt, (_, base) => base);
 */
export class LRScheduler {
  /** Each group's learning rate when the scheduler was made. */
  baseLrs: number[];
  /** How many times step() has run. */
  lastEpoch = 0;

  /** Records the groups' current learning rates as the base ones and applies step 0. */
  constructor(
    /** The optimizer whose groups the schedule sets. */
    readonly optimizer: HasParamGroups,
    private readonly schedule: Schedule,
  ) {
    this.baseLrs = optimizer.paramGroups.map((g, i) => {
      check(typeof g.lr === "number", this.constructor.name, () => `group ${i} has no numeric lr`);
      return g.lr as number;
    });
    this.apply();
  }

  /** The learning rate of group `i` after `epoch` steps. */
  lrAt(epoch: number, i: number): number {
    return this.schedule(epoch, this.baseLrs[i], i);
  }

  private apply(): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = this.lrAt(this.lastEpoch, i)));
  }

  /** Advances one epoch (or step) and sets the learning rates. */
  step(): void {
    this.lastEpoch++;
    this.apply();
  }

  /** The learning rates now in effect. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr as number);
  }

  /** The count and base rates, to resume exactly. */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restores a snapshot and sets the learning rates it implies. */
  loadStateDict(s: SchedulerStateDict): void {
    check(s.baseLrs.length === this.baseLrs.length, `${this.constructor.name}.loadStateDict`,
      () => `the snapshot has ${s.baseLrs.length} groups, the optimizer ${this.baseLrs.length}`);
    this.lastEpoch = s.lastEpoch;
    this.baseLrs = [...s.baseLrs];
    this.apply();
  }
}

/**
 * Multiplies the lr by `gamma` every `stepSize` epochs: base·γ^⌊epoch/stepSize⌋.
 * @example
 * const schedule = new StepLR(opt, 30, 0.1);
 */
export class StepLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, stepSize: number, gamma = 0.1) {
    check(Number.isInteger(stepSize) && stepSize > 0, "StepLR", () => `stepSize must be a positive integer, got ${stepSize}`);
    super(optimizer, (epoch, base) => base * gamma ** Math.floor(epoch / stepSize));
  }
}

/**
 * Multiplies the lr by `gamma` at each milestone epoch.
 * @example
 * const schedule = new MultiStepLR(opt, [60, 120, 160], 0.2);
 */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, milestones: number[], gamma = 0.1) {
    check(milestones.every((m, i) => Number.isInteger(m) && m > 0 && (i === 0 || m > milestones[i - 1])), "MultiStepLR",
      () => `milestones must be increasing positive integers, got ${JSON.stringify(milestones)}`);
    super(optimizer, (epoch, base) => base * gamma ** milestones.filter((m) => m <= epoch).length);
  }
}

/**
 * Cosine annealing from the base lr to `etaMin` over `tMax` epochs, then held:
 * η_min + (base − η_min)·(1 + cos(π·t/T))/2.
 * @example
 * const schedule = new CosineAnnealingLR(opt, 200);
 */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: HasParamGroups, tMax: number, etaMin = 0) {
    check(tMax > 0, "CosineAnnealingLR", () => `tMax must be positive, got ${tMax}`);
    super(optimizer, (epoch, base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * Math.min(epoch, tMax)) / tMax))) / 2);
  }
}

/** Options of {@link LinearWarmup}. */
export interface LinearWarmupOptions {
  /** Factor of the base lr at step 0 (default 1/3). */
  startFactor?: number;
  /** Factor at the end of the warm-up (default 1). */
  endFactor?: number;
  /** The schedule that takes over after the warm-up, counted from its end. */
  after?: (optimizer: HasParamGroups) => LRScheduler;
}

/**
 * Linear warm-up: scales the lr from `startFactor` to `endFactor` over `totalIters` steps, then
 * hands over to `after` (or holds the end factor).
 * @example
 * const schedule = new LinearWarmup(opt, 5, { startFactor: 0.1, after: (o) => new CosineAnnealingLR(o, 195) });
 */
export class LinearWarmup extends LRScheduler {
  constructor(optimizer: HasParamGroups, totalIters: number, opts: LinearWarmupOptions = {}) {
    check(Number.isInteger(totalIters) && totalIters > 0, "LinearWarmup", () => `totalIters must be a positive integer, got ${totalIters}`);
    const start = opts.startFactor ?? 1 / 3;
    const end = opts.endFactor ?? 1;
    check(start > 0 && start <= 1, "LinearWarmup", () => `startFactor must be in (0, 1], got ${start}`);
    // the follower schedules copies of the groups, so it sees the base rates, not the warmed-up ones
    const next = opts.after?.({ paramGroups: optimizer.paramGroups.map((g) => ({ lr: g.lr })) }) ?? null;
    super(optimizer, (epoch, base, i) =>
      epoch >= totalIters && next !== null
        ? next.lrAt(epoch - totalIters, i)
        : base * (start + ((end - start) * Math.min(epoch, totalIters)) / totalIters));
  }
}
