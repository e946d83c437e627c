// The shapes kernels of both layers (reference and fast) and their worker tasks agree on: a
// convolution's sizes, and the [N, C, P] view of a per-channel primitive's input.
import type { BackendTensor } from "@sam/tensor";

/** Sizes of one convolution, named as in the formulas. */
export interface Geometry {
  n: number; c: number; h: number; w: number; // input
  o: number; kh: number; kw: number; // weight
  ho: number; wo: number; // output
  cg: number; og: number; // channels per group
  rows: number; // cg·kh·kw: the depth of the GEMM
}

/** The geometry of a convolution of input shape `x` by weight `w` into output `y`. */
export function geometry(x: readonly number[], w: readonly number[], y: readonly number[], groups: number): Geometry {
  const [n, c, h, wd] = x;
  const [o, cg, kh, kw] = w;
  return { n, c, h, w: wd, o, kh, kw, ho: y[2], wo: y[3], cg, og: o / groups, rows: cg * kh * kw };
}

/**
 * Where a convolution's output element (image n, channel o, row oy, column ox) is stored:
 * n·image + o·channel + oy·row + ox·column + offset. Dense for a plain output; strided to write
 * one phase of a larger tensor in place.
 */
export interface Placement {
  image: number;
  channel: number;
  row: number;
  column: number;
  offset: number;
}

/** The dense [N, O, HO, WO] placement of a convolution's output. */
export function densePlacement(g: Geometry): Placement {
  return { image: g.o * g.ho * g.wo, channel: g.ho * g.wo, row: g.wo, column: 1, offset: 0 };
}

/** [N, C, P]: images, channels and values per plane (the product of the axes after the channel). */
export type ChannelLayout = [number, number, number];

/** The [N, C, P] layout of an [N, C, …] tensor. */
export function layoutOf(x: BackendTensor): ChannelLayout {
  const [n, c] = x.shape;
  return [n, c, x.shape.slice(2).reduce((a, d) => a * d, 1)];
}
