// The per-channel primitives batch normalisation is made of: one pass over the activations each,
// where the same arithmetic as elementwise ops and reductions takes several. Axis 1 is the channel.
// Each also runs per group of images (G equal groups of the batch, as m-sharpness's): its
// per-channel operands and results are then [G, C], a row per group.
import { onesLike, zeros, zerosLike } from "./creation.js";
import { dispatch } from "./engine.js";
import type { Tensor } from "./tensor.js";

/**
 * Mean and biased variance (divided by the count) of each channel, over every axis but 1:
 * `[2, C]`, the means in row 0. The same as `mean(x, axes)` and `variance(x, axes, false, 0)`
 * stacked, in one primitive. With `groups`, each group of images' own: `[2, groups, C]`.
 * @example
 * const moments = channelMoments(x); // x [N, C, H, W]: moments [2, C]
 * channelMoments(x, 8); // [2, 8, C]: images 0 … N/8 − 1, then the next N/8, …
 */
export function channelMoments(x: Tensor, groups?: number): Tensor {
  return dispatch("channelMoments", [x], groups === undefined ? {} : { groups });
}

/**
 * Row `i` of a `[k, C]` (or `[k, G, C]`) per-channel result (channelMoments, channelDots, a
 * stacked pointwise) as a `[C]` (or `[G, C]`) tensor.
 * @example
 * const mean = channelRow(channelMoments(x), 0);
 */
export function channelRow(t: Tensor, i: number): Tensor {
  return t.slice([i]).reshape(t.shape.slice(1));
}

/**
 * Σg and Σg·(x − center) of each channel, over every axis but 1: `[2, C]`, Σg in row 0; center is
 * `[C]` (zeros when omitted). Batch norm's backward needs both, about the mean; this reads g and x
 * once, and subtracts the center before the products so that no digits cancel. A center `[G, C]`
 * gives each group of images' own sums, `[2, G, C]`.
 * @example
 * channelDots(g, x, mean); // g and x [N, C, H, W]
 */
export function channelDots(g: Tensor, x: Tensor, center?: Tensor): Tensor {
  return dispatch("channelDots", [g, x, center ?? zeros([x.shape[1]], { dtype: x.dtype, backend: x.backend })], {});
}

/** What {@link channelAffine} subtracts first, and adds and applies after `(x − center)·scale + shift` (each per-channel operand of scale's shape). */
export interface ChannelAffineOptions {
  /** Subtracted from x before scaling, per channel, `[C]` (zeros when omitted): a mean, so that no digits cancel. */
  center?: Tensor;
  /** A tensor of x's shape added to the result, times `addendScale`. */
  addend?: Tensor;
  /** The addend's per-channel factor, `[C]` (ones when omitted). */
  addendScale?: Tensor;
  /** Apply max(0, ·) to the result. */
  relu?: boolean;
}

/**
 * `(x − center[c])·scale[c] + shift[c]` (+ `addend·addendScale[c]`), then ReLU if asked, in one
 * pass: a batch norm (center the mean, scale γ/σ, shift β), the residual add and the activation
 * after it. center, scale, shift and addendScale are `[C]`, or all `[G, C]`: a row for each of G
 * groups of images. Subtracting the center first keeps
 * the digits that folding it into the shift (x·s + (t − m·s)) would cancel when |m| ≫ σ.
 * @example
 * channelAffine(x, weight.div(std), bias, { center: mean, addend: shortcut, relu: true });
 */
export function channelAffine(x: Tensor, scale: Tensor, shift: Tensor, opts: ChannelAffineOptions = {}): Tensor {
  const inputs = [x, opts.center ?? zerosLike(scale), scale, shift];
  if (opts.addend) inputs.push(opts.addend, opts.addendScale ?? onesLike(scale));
  return dispatch("channelAffine", inputs, { relu: opts.relu ?? false });
}
