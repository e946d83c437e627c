// Convolutions whose weight holds one kernel per group of images, [G, O, C/groups, kH, kW]: each
// group's images run through the plain kernel with its own kernel, on views of the tensors, so a
// group's result is the one a convolution of those images alone gives.
import type { BackendTensor, Kernel, OpParams } from "@sam/tensor";
import { dataOf } from "./storage.js";

/** The three convolution primitives. */
export type ConvOp = "conv2d" | "conv2dBackwardInput" | "conv2dBackwardWeight";

/** The weight's shape: [G, O, C/groups, kH, kW] with a kernel per group of images, else [O, C/groups, kH, kW]. */
export function weightShapeOf<K extends ConvOp>(op: K, inputs: readonly BackendTensor[], params: OpParams[K]): readonly number[] {
  return op === "conv2dBackwardWeight" ? (params as OpParams["conv2dBackwardWeight"]).weightShape : inputs[1].shape;
}

/** Part `g` of `count` equal parts of t along its first axis (images, or the weight's groups), with `shape`. */
function part(t: BackendTensor, g: number, count: number, shape: readonly number[]): BackendTensor {
  const data = dataOf(t);
  const size = data.length / count;
  return { handle: { data: data.subarray(g * size, (g + 1) * size) }, shape, dtype: t.dtype };
}

/** An activation's shape for one of `count` groups of its images. */
const groupShape = (shape: readonly number[], count: number) => [shape[0] / count, ...shape.slice(1)];

/** The images of group `g` of `count` equal groups of an activation [N, …], as a view. */
function imagesOf(t: BackendTensor, g: number, count: number): BackendTensor {
  return part(t, g, count, groupShape(t.shape, count));
}

/** Row `g` of t [G, …], as a view. */
function rowOf(t: BackendTensor, g: number): BackendTensor {
  return part(t, g, t.shape[0], t.shape.slice(1));
}

/** Runs `kernel` on group `g` of `groups` alone: its images, its kernel, its part of the output. */
export function runImageGroup<K extends ConvOp>(op: K, kernel: Kernel<K>, inputs: readonly BackendTensor[], out: BackendTensor, params: OpParams[K], g: number, groups: number): void {
  if (op === "conv2dBackwardWeight") {
    const [x, dy] = inputs;
    const p = { ...params, weightShape: weightShapeOf(op, inputs, params).slice(1) } as OpParams[K];
    return kernel([imagesOf(x, g, groups), imagesOf(dy, g, groups)], rowOf(out, g), p);
  }
  const [a, w] = inputs;
  const p = op === "conv2dBackwardInput"
    ? { ...params, inputShape: groupShape((params as OpParams["conv2dBackwardInput"]).inputShape, groups) } as OpParams[K]
    : params;
  kernel([imagesOf(a, g, groups), rowOf(w, g)], imagesOf(out, g, groups), p);
}

/** `kernel`, run once per group of images (one after another) where the weight has a kernel per group. */
export function perImageGroup<K extends ConvOp>(op: K, kernel: Kernel<K>): Kernel<K> {
  return (inputs, out, params) => {
    const weightShape = weightShapeOf(op, inputs, params);
    if (weightShape.length === 4) return kernel(inputs, out, params);
    for (let g = 0; g < weightShape[0]; g++) runImageGroup(op, kernel, inputs, out, params, g, weightShape[0]);
  };
}
