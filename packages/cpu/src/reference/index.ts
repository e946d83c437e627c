// The reference kernel table: every primitive by definition, in any dtype, on one thread, with no
// WebAssembly. It is what the fast layer must agree with, and what the tests compare against
// (`cpu({ kernels: "reference" })`).
import { BINARY_OPS, COMPARE_OPS, familyRows, UNARY_OPS, type KernelTable } from "@sam/tensor";
import { channelAffine, channelDots, channelMoments } from "./channels.js";
import { perImageGroup } from "../imageGroups.js";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "./conv.js";
import { binaryKernel, cast, unaryKernel, where } from "./elementwise.js";
import { gather, scatterAdd } from "./indexing.js";
import { matmul } from "./matmul.js";
import { concat, expand, pad, permute, reshape, slice } from "./movement.js";
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dArgmax } from "./pool.js";
import { pointwise, pointwiseSum } from "./pointwise.js";
import { argReduceKernel, reduceKernel } from "./reduce.js";

/** Every primitive's reference kernel; tsc fails if one is missing. */
export const referenceKernels: KernelTable = {
  ...familyRows(UNARY_OPS, unaryKernel),
  ...familyRows(BINARY_OPS, binaryKernel),
  ...familyRows(COMPARE_OPS, binaryKernel),
  where, cast,
  sum: reduceKernel("sum"), max: reduceKernel("max"), min: reduceKernel("min"),
  argmax: argReduceKernel("argmax"), argmin: argReduceKernel("argmin"),
  reshape, permute, expand, slice, pad, concat,
  matmul,
  conv2d: perImageGroup("conv2d", conv2d),
  conv2dBackwardInput: perImageGroup("conv2dBackwardInput", conv2dBackwardInput),
  conv2dBackwardWeight: perImageGroup("conv2dBackwardWeight", conv2dBackwardWeight),
  maxPool2d, maxPool2dArgmax, avgPool2d, avgPool2dBackward,
  gather, scatterAdd,
  channelMoments, channelDots, channelAffine,
  pointwise, pointwiseSum,
};
