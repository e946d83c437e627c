// Running-statistics control: evaluate a model in training mode without moving its BN statistics.
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
