// A small training run used by the suite: a CNN with batch norm, trained with SAM around SGD with
// momentum on a fixed batch, through autograd, nn and optim unchanged on whichever backend is set.
import { fromValues, manualSeed, tidy, type Tensor } from "@sam/tensor";
import { BatchNorm2d, Conv2d, crossEntropy, Flatten, Linear, MaxPool2d, ReLU, Sequential, withoutRunningStats } from "@sam/nn";
import { SAM, SGD, type SAMContext } from "@sam/optim";

const BATCH = 8;

/** Deterministic values in [−1, 1) from a seed. */
function values(count: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** Parameters and buffers by name, as plain numbers. */
export type PlainState = Record<string, { values: number[]; shape: number[] }>;

/** m-sharpness: groups of m examples, one after another or (asBatch) as one batch. */
export interface Sharpness {
  m: number;
  asBatch: boolean;
}

/**
 * A SAM training loop on the current backend, starting from `initial` when given (so runs on two
 * backends start from the same weights); `step()` runs one step and returns its loss tensor.
 */
export function samTraining(dtype: "float32" | "float64", initial?: PlainState, sharpness?: Sharpness) {
  manualSeed(0);
  const opts = { dtype };
  const model = new Sequential(
    new Conv2d(3, 6, 3, { padding: 1, ...opts }), new BatchNorm2d(6, opts), new ReLU(), new MaxPool2d({ kernel: 2 }),
    new Flatten(), new Linear(6 * 4 * 4, 4, opts),
  );
  if (initial) {
    const state = model.stateDict();
    model.loadStateDict(Object.fromEntries(Object.entries(initial).map(([k, v]) => [k, fromValues(v.values, v.shape, state[k].dtype)])));
  }
  const x = fromValues(values(BATCH * 3 * 8 * 8, 1), [BATCH, 3, 8, 8], dtype);
  const y = fromValues(Array.from({ length: BATCH }, (_, i) => i % 4), [BATCH], "int32");
  const sam = new SAM(model.parameters(), SGD, { rho: 0.05, lr: 0.1, momentum: 0.9, weightDecay: 5e-4 },
    { m: sharpness?.m, groupsAsBatch: sharpness?.asBatch, secondPass: (run) => withoutRunningStats(model, run) });
  const loss = ({ rows, groups, weights }: SAMContext): Tensor => {
    if (groups) return model.withParameters(weights!, () => crossEntropy(model.forward(x), y, { reduction: "none" }).reshape([groups, -1]).mean(1));
    return rows ? crossEntropy(model.forward(x.slice([rows])), y.slice([rows])) : crossEntropy(model.forward(x), y);
  };
  return {
    model,
    step: (): Tensor => tidy(() => sam.step(loss, BATCH)),
  };
}
