// The CPU kernel table: one reference kernel for every primitive.
import type { KernelTable } from "@sam/tensor";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "./conv.js";
import { binaryFns, binaryKernel, cast, unaryFns, unaryKernel, where } from "./elementwise.js";
import { gather, scatterAdd } from "./indexing.js";
import { matmul } from "./matmul.js";
import { concat, expand, pad, permute, reshape, slice } from "./movement.js";
import { avgPool2d, avgPool2dBackward, maxPool2d, maxPool2dArgmax } from "./pool.js";
import { argReduceKernel, reduceKernel } from "./reduce.js";

/** Every primitive's CPU kernel; tsc fails if one is missing. */
export const kernels: KernelTable = {
  neg: unaryKernel(unaryFns.neg), abs: unaryKernel(unaryFns.abs), sign: unaryKernel(unaryFns.sign),
  exp: unaryKernel(unaryFns.exp), log: unaryKernel(unaryFns.log), sqrt: unaryKernel(unaryFns.sqrt),
  sin: unaryKernel(unaryFns.sin), cos: unaryKernel(unaryFns.cos), tanh: unaryKernel(unaryFns.tanh),
  sigmoid: unaryKernel(unaryFns.sigmoid), relu: unaryKernel(unaryFns.relu),
  add: binaryKernel(binaryFns.add), sub: binaryKernel(binaryFns.sub), mul: binaryKernel(binaryFns.mul),
  div: binaryKernel(binaryFns.div), pow: binaryKernel(binaryFns.pow),
  maximum: binaryKernel(binaryFns.maximum), minimum: binaryKernel(binaryFns.minimum),
  eq: binaryKernel(binaryFns.eq), ne: binaryKernel(binaryFns.ne), lt: binaryKernel(binaryFns.lt),
  le: binaryKernel(binaryFns.le), gt: binaryKernel(binaryFns.gt), ge: binaryKernel(binaryFns.ge),
  where, cast,
  sum: reduceKernel("sum"), max: reduceKernel("max"), min: reduceKernel("min"),
  argmax: argReduceKernel("argmax"), argmin: argReduceKernel("argmin"),
  reshape, permute, expand, slice, pad, concat,
  matmul, conv2d, conv2dBackwardInput, conv2dBackwardWeight,
  maxPool2d, maxPool2dArgmax, avgPool2d, avgPool2dBackward,
  gather, scatterAdd,
};
