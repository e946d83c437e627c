// The CPU kernel table: one reference kernel for every primitive.
import type { KernelTable } from "@sam/tensor";
import { channelAffine, channelDots, channelMoments } from "./channels.js";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "./conv.js";
import { binaryKernel, cast, unaryKernel, where } from "./elementwise.js";
import { gather, scatterAdd } from "./indexing.js";
import { matmul } from "./matmul.js";
import { concat, expand, pad, permute, reshape, slice } from "./movement.js";
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dArgmax } from "./pool.js";
import { argReduceKernel, reduceKernel } from "./reduce.js";

/** Every primitive's CPU kernel; tsc fails if one is missing. */
export const kernels: KernelTable = {
  neg: unaryKernel("neg"), abs: unaryKernel("abs"), sign: unaryKernel("sign"),
  exp: unaryKernel("exp"), log: unaryKernel("log"), sqrt: unaryKernel("sqrt"),
  sin: unaryKernel("sin"), cos: unaryKernel("cos"), tanh: unaryKernel("tanh"),
  sigmoid: unaryKernel("sigmoid"), relu: unaryKernel("relu"),
  add: binaryKernel("add"), sub: binaryKernel("sub"), mul: binaryKernel("mul"),
  div: binaryKernel("div"), pow: binaryKernel("pow"),
  maximum: binaryKernel("maximum"), minimum: binaryKernel("minimum"),
  eq: binaryKernel("eq"), ne: binaryKernel("ne"), lt: binaryKernel("lt"),
  le: binaryKernel("le"), gt: binaryKernel("gt"), ge: binaryKernel("ge"),
  where, cast,
  sum: reduceKernel("sum"), max: reduceKernel("max"), min: reduceKernel("min"),
  argmax: argReduceKernel("argmax"), argmin: argReduceKernel("argmin"),
  reshape, permute, expand, slice, pad, concat,
  matmul, conv2d, conv2dBackwardInput, conv2dBackwardWeight,
  maxPool2d, maxPool2dArgmax, avgPool2d, avgPool2dBackward,
  gather, scatterAdd,
  channelMoments, channelDots, channelAffine,
};
