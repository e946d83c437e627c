// The fast convolutions with a kernel per group of images: threads take whole groups, each running
// its groups' convolutions on its own. One hand-off for the call instead of one per group, and no
// thread waits on another inside a group; a group's result is the same wherever it runs.
import type { BackendTensor, Kernel, OpParams } from "@sam/tensor";
import { perImageGroup, runImageGroup, weightShapeOf, type ConvOp } from "../imageGroups.js";
import { dataOf } from "../storage.js";
import { view } from "../threads/shared.js";
import { splitEvenly } from "../threads/split.js";
import { simdAvailable } from "../wasm/gemmF32.js";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "./conv.js";
import { currentPool, poolFor, setPool } from "./pool.js";
import { share, type ImageGroupsTask, type SharedTensor } from "./tasks.js";

const KERNELS: { [K in ConvOp]: Kernel<K> } = { conv2d, conv2dBackwardInput, conv2dBackwardWeight };

/** The call's multiply-adds, twice: 2 · output pixels · output channels · (C/groups)·kH·kW. */
function flopsOf<K extends ConvOp>(op: K, inputs: readonly BackendTensor[], out: BackendTensor, weightShape: readonly number[]): number {
  const y = op === "conv2d" ? out.shape : op === "conv2dBackwardInput" ? inputs[0].shape : inputs[1].shape;
  return 2 * y.reduce((a, d) => a * d, 1) * weightShape.slice(-3).reduce((a, d) => a * d, 1);
}

/**
 * `op`'s fast kernel, where the weight has a kernel per group of images: whole groups shared
 * between the threads when they split evenly (or are at least twice as many), else one group
 * after another, each using every thread.
 */
export function sharedImageGroups<K extends ConvOp>(op: K): Kernel<K> {
  const kernel = KERNELS[op] as Kernel<K>;
  const oneByOne = perImageGroup(op, kernel);
  return (inputs, out, params) => {
    const weightShape = weightShapeOf(op, inputs, params);
    const groups = weightShape.length === 5 ? weightShape[0] : 0;
    const pool = groups > 0 && out.dtype === "float32" && simdAvailable() ? poolFor(flopsOf(op, inputs, out, weightShape)) : null;
    if (!pool || (groups % pool.threads !== 0 && groups < 2 * pool.threads)) return oneByOne(inputs, out, params);
    const shared = (t: BackendTensor): SharedTensor => ({ data: share(dataOf(t), t.dtype), shape: [...t.shape] });
    const [sa, sb, so] = [shared(inputs[0]), shared(inputs[1]), shared(out)];
    pool.run(splitEvenly(groups, pool.threads).map(([from, to]): ImageGroupsTask => ({
      op: "convImageGroups", conv: op, inputs: [sa, sb], out: so, params: params as ImageGroupsTask["params"], groups, from, to,
    })));
  };
}

/** Runs groups from…to of a shared convolution on this thread alone. */
export function runImageGroups(t: ImageGroupsTask): void {
  const tensor = (s: SharedTensor): BackendTensor => ({ handle: { data: view(s.data) }, shape: s.shape, dtype: s.data.dtype });
  const inputs = t.inputs.map(tensor);
  const out = tensor(t.out);
  // the calling thread's share must not hand work to the workers, which are running theirs
  const pool = currentPool();
  setPool(null);
  try {
    for (let g = t.from; g < t.to; g++) runImageGroup(t.conv, KERNELS[t.conv] as Kernel<ConvOp>, inputs, out, t.params as OpParams[ConvOp], g, t.groups);
  } finally {
    setPool(pool);
  }
}
