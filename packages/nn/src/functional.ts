// Composite functions for networks: softmax, losses, batch normalisation and dropout, from primitives
// (batch normalisation in training with its gradient in closed form).
import { customVjp, noGrad } from "@sam/autograd";
import { channelAffine, channelDots, channelMoments, channelRow, check, fmt, Generator, defaultGenerator, pointwise, pointwiseStack, rand, reluMask, tensor, zerosLike, type PointwiseExpr, type Tensor } from "@sam/tensor";

/** How a loss combines its per-example values. */
export type Reduction = "mean" | "sum" | "none";

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === "mean" ? loss.mean() : reduction === "sum" ? loss.sum() : loss;
}

/**
 * log(softmax(x)) along `axis`, computed stably by subtracting the (constant) maximum first.
 * @example
 * logSoftmax(logits, 1);
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = x.sub(x.max(axis, true).detach());
  return shifted.sub(shifted.exp().sum(axis, true).log());
}

/**
 * softmax(x) along `axis`.
 * @example
 * softmax(logits, 1).sum(1); // ones
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  const e = x.sub(x.max(axis, true).detach()).exp();
  return e.div(e.sum(axis, true));
}

function checkTargets(fn: string, input: Tensor, target: Tensor): void {
  check(input.rank === 2, fn, () => `input must be [N, classes], got ${fmt(input.shape)}`);
  check(target.dtype === "int32", fn, () => `target must hold int32 class indices, got ${target.dtype}`);
  check(target.rank === 1 && target.shape[0] === input.shape[0], fn, () => `target ${fmt(target.shape)} must be [${input.shape[0]}]`);
}

/**
 * Negative log-likelihood of class indices under log-probabilities [N, C] (as `F.nll_loss`).
 * @example
 * nllLoss(logSoftmax(logits, 1), labels);
 */
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  checkTargets("nllLoss", logProbs, target);
  return reduce(logProbs.gather(1, target.unsqueeze(1)).squeeze(1).neg(), reduction);
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Mix the one-hot target with the uniform distribution: q = (1 − s)·onehot + s/C (default 0). */
  labelSmoothing?: number;
  /** How per-example losses are combined (default mean). */
  reduction?: Reduction;
}

/**
 * Cross-entropy of logits [N, C] against int32 class indices, with optional label smoothing
 * (as `F.cross_entropy`).
 * @example
 * crossEntropy(model.forward(x), labels, { labelSmoothing: 0.1 });
 */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkTargets("crossEntropy", logits, target);
  const s = opts.labelSmoothing ?? 0;
  check(s >= 0 && s <= 1, "crossEntropy", () => `labelSmoothing must be in [0, 1], got ${s}`);
  const logProbs = logSoftmax(logits, 1);
  let loss = logProbs.gather(1, target.unsqueeze(1)).squeeze(1).neg();
  if (s > 0) loss = loss.mul(1 - s).add(logProbs.mean(1).neg().mul(s));
  return reduce(loss, opts.reduction ?? "mean");
}

/**
 * Mean squared error (as `F.mse_loss`).
 * @example
 * mseLoss(prediction, target);
 */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  check(input.shape.length === target.shape.length && input.shape.every((d, i) => d === target.shape[i]), "mseLoss",
    () => `input ${fmt(input.shape)} and target ${fmt(target.shape)} differ`);
  return reduce(input.sub(target).square(), reduction);
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1/(1−p) (inverted dropout).
 * @example
 * dropout(x, 0.3, new Generator(0));
 */
export function dropout(x: Tensor, p: number, generator: Generator = defaultGenerator): Tensor {
  check(p >= 0 && p < 1, "dropout", () => `p must be in [0, 1), got ${p}`);
  if (p === 0) return x;
  const keepMask = rand([...x.shape], { generator, dtype: x.dtype === "float64" ? "float64" : "float32", backend: x.backend }).ge(p);
  return x.mul(keepMask.cast(x.dtype)).div(1 - p);
}

/** What a batch norm adds and applies after normalising, in the same pass (a residual block's tail). */
export interface BatchNormThen {
  /** A tensor of the input's shape added to the result (the residual). */
  addend?: Tensor;
  /** Apply ReLU to the result (after the addend). */
  relu?: boolean;
}

/** σ = √(variance + eps), written out in each per-channel pass that needs it. */
const sigma = (variance: PointwiseExpr, eps: number) => variance.add(eps).sqrt();

/**
 * x̂·weight + bias as one per-channel map of x about the mean: (x − mean)·scale + shift, with
 * scale = weight/σ (one pass over the channels) and shift = bias.
 */
function foldedAffine(variance: Tensor, eps: number, weight: Tensor | null, bias: Tensor | null): [scale: Tensor, shift: Tensor] {
  const scale = weight ? pointwise([weight, variance], (w, v) => w.div(sigma(v, eps))) : pointwise([variance], (v) => sigma(v, eps).rdiv(1));
  return [scale, bias ?? zerosLike(variance)];
}

/**
 * Normalises over every axis but the channel axis (1) with the given statistics, then scales and
 * shifts, all folded into one per-channel affine map; `then` adds a residual and applies ReLU in
 * the same pass.
 * @example
 * batchNorm(x, mean, variance, weight, bias, 1e-5);
 */
export function batchNorm(x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number, then: BatchNormThen = {}): Tensor {
  const [scale, shift] = foldedAffine(variance, eps, weight, bias);
  return channelAffine(x, scale, shift, { center: mean, addend: then.addend, relu: then.relu });
}

/**
 * Running statistics updated with each group's mean and variance ([G, C]) in turn, as G batches
 * would update them: r ← (1 − m)^G·r + Σ_g m(1 − m)^(G−1−g)·stat_g, the G updates unrolled into one
 * weighted sum (the same values, rounded in another order).
 */
function updateRunning({ mean: runningMean, variance: runningVar, momentum: m }: RunningStats, mean: Tensor, variance: Tensor, count: number): void {
  const groups = mean.shape[0];
  noGrad(() => {
    const weights = tensor(Array.from({ length: groups }, (_, g) => m * (1 - m) ** (groups - 1 - g)), { shape: [groups, 1], dtype: mean.dtype, backend: mean.backend });
    const decay = (1 - m) ** groups;
    runningMean.assign(runningMean.mul(decay).add(mean.mul(weights).sum(0)));
    runningVar.assign(runningVar.mul(decay).add(variance.mul(weights).sum(0).mul(count / (count - 1))));
  });
}

/** Running statistics that {@link batchNormTraining} updates in place, as PyTorch's `F.batch_norm` does in training. */
export interface RunningStats {
  /** The running mean of each channel: (1 − momentum)·mean + momentum·(the batch's mean). */
  mean: Tensor;
  /** The running variance: the same with the batch's unbiased variance. */
  variance: Tensor;
  /** The weight of the batch's statistics. */
  momentum: number;
}

/** What {@link batchNormTraining} returns. */
export interface BatchNormResult {
  /** The normalised, scaled and shifted input (with `then` applied). */
  y: Tensor;
  /** The batch mean of each channel. */
  mean: Tensor;
  /** The batch's biased variance of each channel (divided by N). */
  variance: Tensor;
}

/**
 * Batch normalisation with the batch's own statistics, as in training: normalises over every
 * axis but the channel axis (1), then scales and shifts, and applies `then` (a residual and ReLU).
 * Returns the output with the batch's mean and biased variance per channel (for running
 * statistics). Recorded as one node whose gradient is the closed form — with g the gradient after
 * the ReLU's zeros, x̂ the normalised input, σ = √(variance + eps) and N values per channel:
 * dβ = Σg, dγ = Σg·x̂, dx = γ/σ · (g − dβ/N − x̂·dγ/N), and the residual's gradient g. Forward and
 * backward are two passes over the activations each (channelMoments and channelAffine;
 * channelDots and channelAffine), plus the ReLU's mask; the per-channel coefficients between them
 * are one stacked `pointwise` pass each way. Given `running`, its statistics are updated in place
 * in the forward's per-channel pass.
 *
 * With `groups`, each of that many equal groups of the batch is normalised with its own statistics,
 * and weight and bias are [groups, C], a row per group (mean and variance are returned [groups, C]):
 * as that many calls on the groups would, one after another, running statistics included.
 * @example
 * const { y, mean, variance } = batchNormTraining(x, weight, bias, 1e-5);
 */
export function batchNormTraining(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number, then: BatchNormThen = {},
  running?: RunningStats, groups?: number): BatchNormResult {
  const count = x.size / x.shape[1] / (groups ?? 1);
  const { addend, relu = false } = then;
  let mean!: Tensor, variance!: Tensor;
  const inputs = [x, weight, bias, addend ?? null];
  const y: Tensor = customVjp("batchNorm", inputs.filter((t): t is Tensor => t !== null), () => {
    const moments = channelMoments(x, groups);
    [mean, variance] = [channelRow(moments, 0), channelRow(moments, 1)];
    if (groups !== undefined && running) updateRunning(running, mean, variance, count);
    if (!running || groups !== undefined) {
      const [scale, shift] = foldedAffine(variance, eps, weight, bias);
      return channelAffine(x, scale, shift, { center: mean, addend, relu });
    }
    // the folded scale and both running statistics in one pass (each rounding as its own pass would)
    const { mean: runningMean, variance: runningVar, momentum: m } = running;
    const rows = noGrad(() => pointwiseStack([variance, weight ?? variance, mean, runningMean, runningVar], (v, w, mu, rm, rv) => [
      weight ? w.div(sigma(v, eps)) : sigma(v, eps).rdiv(1),
      rm.mul(1 - m).add(mu.mul(m)),
      rv.mul(1 - m).add(v.mul((m * count) / (count - 1))),
    ]));
    noGrad(() => {
      runningMean.assign(channelRow(rows, 1));
      runningVar.assign(channelRow(rows, 2));
    });
    return channelAffine(x, channelRow(rows, 0), bias ?? zerosLike(variance), { center: mean, addend, relu });
  }, (g) => {
    const passed = relu ? reluMask(g, y) : g;
    const dots = channelDots(passed, x, mean);
    const dBias = channelRow(dots, 0);
    const invStd = (v: PointwiseExpr) => sigma(v, eps).rdiv(1);
    // dγ = Σg·x̂ = Σg·(x − mean)/σ, and dx = a·g + b·(x − mean) + c with a = γ/σ,
    // b = −a·dγ/(σN), c = −a·dβ/N: the four per-channel coefficients in one pass
    const aOf = (w: PointwiseExpr, v: PointwiseExpr) => (weight ? w.mul(invStd(v)) : invStd(v));
    const coefficients = pointwiseStack([channelRow(dots, 1), variance, weight ?? variance, dBias], (s, v, w, db) => {
      const dw = s.mul(invStd(v));
      return [dw, aOf(w, v), aOf(w, v).mul(invStd(v)).mul(dw).div(-count), aOf(w, v).mul(db).div(-count)];
    });
    const [dWeight, a, b, c] = [0, 1, 2, 3].map((j) => channelRow(coefficients, j));
    const dx = x.requiresGrad ? channelAffine(x, b, c, { center: mean, addend: passed, addendScale: a }) : null;
    const grads = [dx, weight && dWeight, bias && dBias, addend ? passed : null];
    return grads.filter((_, i) => inputs[i] !== null);
  });
  return { y, mean, variance };
}
