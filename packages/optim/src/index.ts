// @sam/optim: optimizers, SAM, learning-rate schedulers and gradient clipping.
export {
  Optimizer, type Hyper, type ParamGroup, type ParamsInput, type ParamState, type OptimizerStateDict, type GroupParams,
  type GroupSpec, type GroupIndices,
} from "./optimizer.js";
export { FlatParameters, type FlatBuffer } from "./flatParameters.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Adam, AdamW, type AdamOptions } from "./adam.js";
export { SAM, type SAMHyper, type SAMOptions, type SAMContext, type SAMClosure, type OptimizerClass } from "./sam.js";
export {
  LRScheduler, StepLR, MultiStepLR, CosineAnnealingLR, LinearWarmup, type HasParamGroups, type SchedulerStateDict,
  type Schedule, type LinearWarmupOptions,
} from "./schedulers.js";
export { clipGradNorm } from "./clipGradNorm.js";
export { WeightAverage, SWALR, type WeightAverageState, type SWALROptions } from "./swa.js";
