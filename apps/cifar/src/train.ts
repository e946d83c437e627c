// One training run: data, model, optimizer and schedule from a Config; an epoch loop that writes
// metrics, a checkpoint and the report after every epoch, and resumes exactly from a checkpoint.
import { appendFile, cp, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { backward, noGrad } from "@sam/autograd";
import { channelStats, compose, cutout, DataLoader, horizontalFlip, mixup, normalize, randomCrop, type ImageDataset, type Transform } from "@sam/data";
import { crossEntropy, saveSafetensors, updateBatchNorm, withoutRunningStats, writeFileAtomic, type Module } from "@sam/nn";
import { Adam, CosineAnnealingLR, MultiStepLR, SAM, SGD, SWALR, WeightAverage, type LRScheduler, type Optimizer } from "@sam/optim";
import { Generator, keep, tidy, type Tensor } from "@sam/tensor";
import type { Config } from "./config.js";
import { describeNonFinite, loadCheckpoint, nonFinite, saveCheckpoint, type EpochSums, type Normalization } from "./checkpoint.js";
import type { RunData } from "./datasets.js";
import { makeModel } from "./models.js";
import { formatTime, Progress } from "./progress.js";
import { renderReport, type Divergence, type EpochMetrics } from "./report.js";

/** Hooks for the caller: messages, and a flag that stops the run at the next batch. */
export interface RunHooks {
  log?: (line: string) => void;
  shouldStop?: () => boolean;
  /** Aborted to stop what cannot wait for the end of a batch (a Hessian measurement). */
  signal?: AbortSignal;
  /**
   * After this epoch, a copy of the checkpoint and the metrics so far in `branch-<epoch>`: where a
   * run that is the same until then (one with weight averaging from that epoch) can start.
   */
  branchAt?: number;
  /** Hold each batch's gradient graph between a Hessian measurement's products (see modelHessian's retainGraphs). */
  retainGraphs?: boolean;
}

/** The folder `out` keeps its state after `epoch` in (see {@link RunHooks.branchAt}). */
export const branchFolder = (out: string, epoch: number): string => join(out, `branch-${epoch}`);

/** Copies the run's checkpoint and metrics into its branch folder, whole or not at all. */
async function keepBranch(out: string, epoch: number): Promise<void> {
  const to = branchFolder(out, epoch);
  const partial = `${to}.partial`;
  await rm(partial, { recursive: true, force: true });
  await cp(join(out, "checkpoint"), join(partial, "checkpoint"), { recursive: true });
  await cp(join(out, "metrics.jsonl"), join(partial, "metrics.jsonl"));
  await rm(to, { recursive: true, force: true });
  await rename(partial, to);
}

/** How a run ended. */
export interface RunResult {
  metrics: EpochMetrics[];
  interrupted: boolean;
  /** Where the run diverged, when it did; its last checkpoint is then the last finite one. */
  diverged?: Divergence;
}

/** Sees the logits of each first forward pass with their labels (for the training accuracy). */
export type OnLogits = (logits: Tensor, labels: Tensor) => void;

/** What a batch is trained towards: its labels, or with Mixup, two labels weighted λ and 1 − λ. */
export interface Targets {
  y: Tensor;
  yB?: Tensor;
  lambda: number;
}

/** The loss towards the targets (each example's with reduction "none"), and the labels the accuracy is counted against (the heavier ones). */
function mixedLoss(z: Tensor, t: Targets, smoothing: { labelSmoothing: number; reduction?: "none" }): Tensor {
  if (!t.yB) return crossEntropy(z, t.y, smoothing);
  return crossEntropy(z, t.y, smoothing).mul(t.lambda).add(crossEntropy(z, t.yB, smoothing).mul(1 - t.lambda));
}
const counted = (t: Targets): Tensor => (t.yB && t.lambda < 0.5 ? t.yB : t.y);

/** The run's optimizer and its training step on a batch (the targets, with Mixup's partner and λ; the first pass's logits handed to `onLogits`). */
export function makeOptimizer(config: Config, model: Module): { optimizer: Optimizer; step: (x: Tensor, t: Targets, onLogits: OnLogits) => Tensor } {
  const params = model.parameters();
  const smoothing = { labelSmoothing: config.labelSmoothing };
  if (config.optimizer === "sam" || config.optimizer === "asam") {
    const sam = new SAM(params, SGD, {
      rho: config.rho, adaptive: config.optimizer === "asam", lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay,
    }, { m: config.m, groupsAsBatch: true, secondPass: (run) => withoutRunningStats(model, run) });
    return {
      optimizer: sam,
      step: (x, t, onLogits) => sam.step(({ first, groups, weights }) => {
        const loss = () => {
          const z = model.forward(x);
          if (first) onLogits(z, counted(t));
          // m-sharpness: every group at once, each with its own weights, and each group's mean loss
          return groups ? mixedLoss(z, t, { ...smoothing, reduction: "none" }).reshape([groups, -1]).mean(1) : mixedLoss(z, t, smoothing);
        };
        return groups ? model.withParameters(weights!, loss) : loss();
      }, x.shape[0]),
    };
  }
  const optimizer = config.optimizer === "adam"
    ? new Adam(params, { lr: config.lr, weightDecay: config.weightDecay })
    : new SGD(params, { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
  return {
    optimizer,
    step: (x, t, onLogits) => {
      optimizer.zeroGrad();
      const loss = tidy(() => {
        const z = model.forward(x);
        onLogits(z, counted(t));
        const l = mixedLoss(z, t, smoothing);
        backward(l);
        return l.detach();
      });
      optimizer.step();
      return loss;
    },
  };
}

/** Epochs over which weight averaging anneals the learning rate to --swa-lr. */
const SWA_ANNEAL_EPOCHS = 5;

/** The learning rate's schedule, stepped once an epoch: the configured one, and with weight averaging SWALR over it. */
export function makeSchedule(config: Config, optimizer: Optimizer): LRScheduler {
  const at = [0.3, 0.6, 0.8].map((f) => Math.max(1, Math.round(f * config.epochs)));
  const base = config.schedule === "cosine" ? new CosineAnnealingLR(optimizer, config.epochs)
    : new MultiStepLR(optimizer, at.filter((m, i) => i === 0 || m > at[i - 1]), 0.2);
  if (config.swaStart === undefined) return base;
  return new SWALR(optimizer, config.swaLr, { start: config.swaStart, annealEpochs: SWA_ANNEAL_EPOCHS, before: (e, _, i) => base.lrAt(e, i) });
}

/** The training images in order, normalised as for testing: the batches batch norm's statistics are recomputed over. */
function* plainBatches(data: ImageDataset, batchSize: number, transform: Transform): IterableIterator<Tensor> {
  for (const { x, y } of new DataLoader(data, { batchSize, shuffle: false, transform }).epochBatches()) {
    yield x;
    x.dispose();
    y.dispose();
  }
}

/**
 * The averaged model's test figures: its weights written into the model, batch norm's statistics
 * recomputed over the training images, evaluated, and saved as swa-model.safetensors; the model
 * gets its own weights back afterwards.
 */
async function evaluateAverage(model: Module, average: WeightAverage, data: RunData, batchSize: number, transform: Transform, out: string): Promise<{ loss: number; acc: number }> {
  const own = Object.entries(model.stateDict()).map(([k, t]): [string, Tensor] => [k, keep(t.copy())]);
  try {
    average.copyTo();
    updateBatchNorm(model, plainBatches(data.train, batchSize, transform));
    const result = await evaluate(model, data.test, transform);
    await saveSafetensors(join(out, "swa-model.safetensors"), model.stateDict());
    return result;
  } finally {
    model.loadStateDict(Object.fromEntries(own));
    for (const [, t] of own) t.dispose();
  }
}

/** The run's transforms: the training batches' (crop and flip as configured, then normalisation by the training set's statistics) and the test batches'. */
export function augmentation(config: Config, train: ImageDataset): { train: Transform; test: Transform; normalization: Normalization } {
  const { mean, std } = channelStats(train);
  const norm = normalize(mean, std);
  const spatial = config.augment === "none" ? [] : [randomCrop(train.shape[1] >= 32 ? 4 : 2), horizontalFlip()];
  const extra = config.augment === "cutout" ? [cutout(train.shape[1] >= 32 ? 16 : 8)] : [];
  return { train: compose(...spatial, ...extra, norm), test: norm, normalization: { mean: [...mean], std: [...std] } };
}

/** How many rows of `logits` pick their label. */
function countCorrect(logits: Tensor, labels: Tensor): Tensor {
  return noGrad(() => logits.argmax(1).eq(labels).cast("int32").sum());
}

/** Reads a scalar tensor (waiting for the device) and frees it. */
async function take(t: Tensor): Promise<number> {
  const v = await t.item();
  t.dispose();
  return v;
}

/** Loss and accuracy on a data set, in evaluation mode, without recording. */
async function evaluate(model: Module, data: ImageDataset, transform: Transform): Promise<{ loss: number; acc: number }> {
  model.eval();
  const loader = new DataLoader(data, { batchSize: 500, shuffle: false, transform });
  let [loss, correct] = [0, 0];
  for (const { x, y } of loader.epochBatches()) {
    const [l, c] = tidy(() => noGrad(() => {
      const z = model.forward(x);
      return [crossEntropy(z, y, { reduction: "sum" }), countCorrect(z, y)];
    }));
    loss += await take(l);
    correct += await take(c);
    x.dispose();
    y.dispose();
  }
  model.train();
  return { loss: loss / data.labels.length, acc: correct / data.labels.length };
}

/**
 * Trains `config` into `out` (created if needed). With `resume`, continues the run saved there
 * up to `config.epochs`, appending to its outputs; on the CPU the result is the same as a run
 * never interrupted.
 */
export async function runTraining(config: Config, data: RunData, out: string, resume: boolean, hooks: RunHooks = {}): Promise<RunResult> {
  const log = hooks.log ?? ((line: string) => console.log(line));
  await mkdir(out, { recursive: true });
  const model = makeModel(config.model, data.train.classes.length, data.train.shape[0], new Generator(config.seed));
  const { optimizer, step } = makeOptimizer(config, model);
  const schedule = makeSchedule(config, optimizer);
  const average = config.swaStart === undefined ? undefined : new WeightAverage(model.parameters());
  const transforms = augmentation(config, data.train);
  const loader = new DataLoader(data.train, { batchSize: config.batchSize, seed: config.seed, transform: transforms.train, dropLast: data.train.labels.length >= config.batchSize });
  const metricsPath = join(out, "metrics.jsonl");
  let metrics: EpochMetrics[] = [];
  let partial: EpochSums | undefined;
  if (resume) {
    const position = await loadCheckpoint(out, model, optimizer, schedule, average);
    loader.loadState({ epoch: position.epoch, batch: position.batch ?? 0 });
    partial = position.partial;
    // lines past the checkpoint's epoch (one may be cut short by a crash) are dropped unread
    metrics = (await readFile(metricsPath, "utf8")).split("\n").filter(Boolean).slice(0, position.epoch).map((l) => JSON.parse(l) as EpochMetrics);
    await writeFile(metricsPath, metrics.map((m) => JSON.stringify(m) + "\n").join(""));
    const where = position.batch ? `batch ${position.batch} of epoch ${position.epoch + 1}` : `epoch ${position.epoch}`;
    log(`resuming ${out} after ${where} of ${config.epochs}`);
  } else {
    await writeFile(metricsPath, "");
  }
  await writeFileAtomic(join(out, "config.json"), JSON.stringify(config, null, 2) + "\n");
  const writeReport = (diverged?: Divergence) => writeFileAtomic(join(out, "report.html"),
    renderReport(`${config.optimizer.toUpperCase()} · ${config.model} · ${config.dataset}`, [{ name: config.optimizer, config, metrics, data: data.provenance, diverged }]));
  /** Ends a diverged run: no checkpoint of the non-finite weights, the report marks it. */
  const diverge = async (d: Divergence): Promise<RunResult> => {
    await writeReport(d);
    const kept = metrics.length > 0 || resume ? "its last checkpoint, from before, is kept" : "no checkpoint was written";
    console.error(`cifar: ${out}: training diverged at epoch ${d.epoch}, step ${d.step}: ${d.what}; ${kept}. `
      + `Start a new run with a smaller --lr (this one: ${config.lr})${config.optimizer === "sam" || config.optimizer === "asam" ? ` or --rho (${config.rho})` : ""}, or a larger --batch-size`);
    return { metrics, interrupted: false, diverged: d };
  };

  for (let epoch = loader.epoch + 1; epoch <= config.epochs; epoch++) {
    const sums: EpochSums = partial ? { ...partial, losses: partial.losses ?? [] } : { lossSum: 0, correct: 0, seen: 0, seconds: 0, losses: [] };
    partial = undefined;
    const start = performance.now() - sums.seconds * 1000;
    const lr = optimizer.paramGroups[0].lr as number;
    const progress = new Progress(`epoch ${epoch}/${config.epochs}`, loader.length);
    let batches = loader.batch;
    for (const { x, y } of loader.epochBatches()) {
      // the correct answers of the first pass's logits
      const right: Tensor[] = [];
      // Mixup's draws depend only on (seed, epoch, batch), as the augmentation's do, so a resumed run mixes the same
      const mixed = config.mixup > 0 ? mixup(x, y, config.mixup, new Generator(config.seed * 1_000_003 + epoch * 10_007 + batches)) : undefined;
      const loss = step(mixed?.x ?? x, { y, yB: mixed?.yB, lambda: mixed?.lambda ?? 1 }, (z, labels) => {
        right.push(keep(countCorrect(z, labels)));
      });
      mixed?.x.dispose();
      mixed?.yB.dispose();
      const value = await take(loss);
      for (const r of right) sums.correct += await take(r);
      if (!Number.isFinite(value)) {
        x.dispose();
        y.dispose();
        progress.done();
        return diverge({ epoch, step: batches + 1, what: `the training loss is ${value}` });
      }
      sums.lossSum += value * y.size;
      sums.losses.push(value);
      sums.seen += y.size;
      x.dispose();
      y.dispose();
      progress.update(++batches, sums.seen);
      await new Promise((resolve) => setImmediate(resolve)); // lets Ctrl-C through
      if (hooks.shouldStop?.() && batches < loader.length) {
        progress.done();
        const bad = await nonFinite(model.stateDict());
        if (bad.length > 0) return diverge({ epoch, step: batches, what: describeNonFinite(bad) });
        sums.seconds = (performance.now() - start) / 1000;
        await saveCheckpoint(out, model, optimizer, schedule, { epoch: epoch - 1, batch: batches, partial: sums }, transforms.normalization, average);
        log(`interrupted: saved after batch ${batches} of epoch ${epoch}; continue with --resume ${out}`);
        return { metrics, interrupted: true };
      }
    }
    progress.done();
    const { lossSum, correct, seen } = sums;
    const trainSeconds = (performance.now() - start) / 1000;
    if (average && epoch > config.swaStart!) average.update();
    const test = await evaluate(model, data.test, transforms.test);
    const bad = await nonFinite(model.stateDict());
    if (bad.length > 0 || !Number.isFinite(test.loss)) {
      const what = bad.length > 0 ? describeNonFinite(bad) : `the test loss is ${test.loss}`;
      return diverge({ epoch, step: batches, what });
    }
    const m: EpochMetrics = {
      epoch, trainLoss: lossSum / seen, trainAcc: correct / seen, testLoss: test.loss, testAcc: test.acc, lr,
      seconds: (performance.now() - start) / 1000, imagesPerSec: seen / trainSeconds, stepLosses: sums.losses,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    if (average && epoch === config.epochs) {
      const swa = await evaluateAverage(model, average, data, config.batchSize, transforms.test, out);
      Object.assign(m, { swaTestLoss: swa.loss, swaTestAcc: swa.acc, swaEpochs: average.count });
      m.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    }
    metrics.push(m);
    schedule.step();
    // The metrics line first, then the checkpoint: a crash between the two resumes from the older
    // checkpoint, which drops the newer lines and runs the epoch again; the other order would lose
    // this epoch's line.
    await appendFile(metricsPath, JSON.stringify(m) + "\n");
    await writeReport();
    await saveCheckpoint(out, model, optimizer, schedule, { epoch }, transforms.normalization, average);
    if (hooks.branchAt === epoch) await keepBranch(out, epoch);
    log(`epoch ${epoch}/${config.epochs}  train loss ${m.trainLoss.toFixed(4)} acc ${(m.trainAcc * 100).toFixed(2)}%  `
      + `test loss ${m.testLoss.toFixed(4)} acc ${(m.testAcc * 100).toFixed(2)}%  lr ${lr.toFixed(4)}  ${m.imagesPerSec.toFixed(1)} img/s  ${formatTime(m.seconds)}  peak ${m.peakRssMiB} MiB`
      + (m.swaTestAcc !== undefined ? `\n  averaged weights (${m.swaEpochs} epochs): test loss ${m.swaTestLoss!.toFixed(4)} acc ${(m.swaTestAcc * 100).toFixed(2)}% → ${join(out, "swa-model.safetensors")}` : ""));
    if (hooks.shouldStop?.() && epoch < config.epochs) {
      log(`interrupted: stopped after epoch ${epoch}; continue with --resume ${out}`);
      return { metrics, interrupted: true };
    }
  }
  return { metrics, interrupted: false };
}
