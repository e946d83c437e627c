// The WebGPU kernel table: a WGSL kernel for every primitive, recording into one command stream.
import { BINARY_OPS, COMPARE_OPS, familyRows, UNARY_OPS, type KernelTable } from "@sam/tensor";
import type { CommandStream } from "../stream.js";
import { channelAffineKernel, channelDotsKernel, channelMomentsKernel } from "./channels.js";
import { binaryKernel, castKernel, compareKernel, unaryKernel, whereKernel } from "./elementwise.js";
import { conv2dBackwardInputKernel, conv2dBackwardWeightKernel, conv2dKernel, matmulKernel } from "./gemm.js";
import { gatherKernel, scatterAddKernel } from "./indexing.js";
import { concatKernel, expandKernel, padKernel, permuteKernel, reshapeKernel, sliceKernel } from "./movement.js";
import { pointwiseKernel, pointwiseSumKernel } from "./pointwise.js";
import { avgPool2dBackwardKernel, avgPool2dKernel, maxPool2dArgmaxKernel, maxPool2dKernel } from "./pool.js";
import { argReduceKernel, reduceKernel } from "./reduce.js";

/** Every primitive's WebGPU kernel on `stream`; tsc fails if one is missing. */
export function kernels(stream: CommandStream): KernelTable {
  const s = stream;
  return {
    ...familyRows(UNARY_OPS, (op) => unaryKernel(s, op)),
    ...familyRows(BINARY_OPS, (op) => binaryKernel(s, op)),
    ...familyRows(COMPARE_OPS, (op) => compareKernel(s, op)),
    where: whereKernel(s), cast: castKernel(s),
    sum: reduceKernel(s, "sum"), max: reduceKernel(s, "max"), min: reduceKernel(s, "min"),
    argmax: argReduceKernel(s, "argmax"), argmin: argReduceKernel(s, "argmin"),
    reshape: reshapeKernel(s), permute: permuteKernel(s), expand: expandKernel(s),
    slice: sliceKernel(s), pad: padKernel(s), concat: concatKernel(s),
    matmul: matmulKernel(s), conv2d: conv2dKernel(s),
    conv2dBackwardInput: conv2dBackwardInputKernel(s), conv2dBackwardWeight: conv2dBackwardWeightKernel(s),
    maxPool2d: maxPool2dKernel(s), maxPool2dArgmax: maxPool2dArgmaxKernel(s),
    avgPool2d: avgPool2dKernel(s), avgPool2dBackward: avgPool2dBackwardKernel(s),
    gather: gatherKernel(s), scatterAdd: scatterAddKernel(s),
    channelMoments: channelMomentsKernel(s), channelDots: channelDotsKernel(s), channelAffine: channelAffineKernel(s),
    pointwise: pointwiseKernel(s),
    pointwiseSum: pointwiseSumKernel(s),
  };
}
