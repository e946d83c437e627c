// Running-statistics control: evaluate a model in training mode without moving its BN statistics,
// or recompute the statistics for weights that were never trained as they are (averaged ones).
import { noGrad } from "@sam/autograd";
import { ones, tidy, zeros, type Tensor } from "@sam/tensor";
import { BatchNorm } from "./layers/batchnorm.js";
import type { Module } from "./module.js";

/**
 * Runs `fn` with every batch-norm layer of `model` normalising by batch statistics but leaving its
 * running statistics untouched: SAM's second (perturbed) pass must not count as another batch.
 * @example
 * const sam = new SAM(model.parameters(), SGD, { rho: 0.05, lr: 0.1 }, { secondPass: (run) => withoutRunningStats(model, run) });
 */
export function withoutRunningStats<T>(model: Module, fn: () => T): T {
  const layers = model.modules().filter((m): m is BatchNorm => m instanceof BatchNorm);
  const before = layers.map((m) => m.updateRunningStats);
  layers.forEach((m) => (m.updateRunningStats = false));
  try {
    return fn();
  } finally {
    layers.forEach((m, i) => (m.updateRunningStats = before[i]));
  }
}

/**
 * Recomputes every batch-norm layer's running statistics over `batches`, as
 * `torch.optim.swa_utils.update_bn` does after weight averaging: the statistics are reset, then
 * each batch's forward pass (in training mode, without recording) adds to their plain mean over
 * the batches. The model's mode and the layers' momenta are restored afterwards.
 * @example
 * swa.copyTo();
 * updateBatchNorm(model, trainingInputs);
 */
export function updateBatchNorm(model: Module, batches: Iterable<Tensor>): void {
  const layers = model.modules().filter((m): m is BatchNorm => m instanceof BatchNorm);
  if (layers.length === 0) return;
  const momenta = layers.map((m) => m.momentum);
  const training = model.training;
  // within a scope, so the zeros and ones copied into the buffers are freed
  tidy(() => noGrad(() => {
    for (const m of layers) {
      m.runningMean.assign(zeros([...m.runningMean.shape], { dtype: m.runningMean.dtype }));
      m.runningVar.assign(ones([...m.runningVar.shape], { dtype: m.runningVar.dtype }));
      m.numBatchesTracked.assign(zeros([], { dtype: "int32" }));
    }
  }));
  model.train();
  try {
    let k = 0;
    for (const x of batches) {
      // the k-th batch enters with weight 1/k: a plain mean over the batches
      k++;
      for (const m of layers) m.momentum = 1 / k;
      tidy(() => void noGrad(() => model.forward(x))); // returns nothing, so the output is freed
    }
  } finally {
    layers.forEach((m, i) => (m.momentum = momenta[i]));
    if (!training) model.eval();
  }
}
