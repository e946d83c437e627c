// The fast layer: the entries of the reference table it overrides, with float32 in WebAssembly
// SIMD and large work shared between the threads. Each falls back to its reference kernel where
// it does not apply (another dtype, no SIMD), and agrees with it (bit for bit on any thread count
// for the elementwise ops and sums; within float32 rounding where the SIMD kernels round per
// operation or sum in another order).
import { BINARY_OPS, COMPARE_OPS, familyRows, UNARY_OPS, type KernelTable } from "@sam/tensor";
import { channelAffine, channelDots, channelMoments } from "./channels.js";
import { sharedImageGroups } from "./imageGroups.js";
import { binaryKernel, unaryKernel, where } from "./elementwise.js";
import { matmul } from "./matmul.js";
import { pad, slice } from "./movement.js";
import { pointwise } from "./pointwise.js";
import { reduceKernel } from "./reduce.js";

/** The kernels the fast layer overrides. */
export const fastKernels: Partial<KernelTable> = {
  ...familyRows(UNARY_OPS, unaryKernel),
  ...familyRows(BINARY_OPS, binaryKernel),
  ...familyRows(COMPARE_OPS, binaryKernel),
  where,
  sum: reduceKernel("sum"), max: reduceKernel("max"), min: reduceKernel("min"),
  matmul,
  conv2d: sharedImageGroups("conv2d"),
  conv2dBackwardInput: sharedImageGroups("conv2dBackwardInput"),
  conv2dBackwardWeight: sharedImageGroups("conv2dBackwardWeight"),
  pad, slice, pointwise,
  channelMoments, channelDots, channelAffine,
};
