// The per-channel primitives batch normalisation is made of: one pass over the activations each,
// where the same arithmetic as elementwise ops and reductions takes several. Axis 1 is the channel.
import { onesLike } from "./creation.js";
import { dispatch } from "./engine.js";
import type { Tensor } from "./tensor.js";

/**
 * Mean and biased variance (divided by the count) of each channel, over every axis but 1:
 * `[2, C]`, the means in row 0. The same as `mean(x, axes)` and `variance(x, axes, false, 0)`
 * stacked, in one primitive.
 * @example
 * const moments = channelMoments(x); // x [N, C, H, W]: moments [2, C]
 */
export function channelMoments(x: Tensor): Tensor {
  return dispatch("channelMoments", [x], {});
}

/**
 * Σg and Σg·x of each channel, over every axis but 1: `[2, C]`, Σg in row 0. Batch norm's
 * backward needs both; this reads g and x once.
 * @example
 * channelDots(g, x); // g and x [N, C, H, W]
 */
export function channelDots(g: Tensor, x: Tensor): Tensor {
  return dispatch("channelDots", [g, x], {});
}

/** What {@link channelAffine} adds and applies after `x·scale + shift`. */
export interface ChannelAffineOptions {
  /** A tensor of x's shape added to the result, times `addendScale`. */
  addend?: Tensor;
  /** The addend's per-channel factor, `[C]` (ones when omitted). */
  addendScale?: Tensor;
  /** Apply max(0, ·) to the result. */
  relu?: boolean;
}

/**
 * `x·scale[c] + shift[c]` (+ `addend·addendScale[c]`), then ReLU if asked, in one pass: a batch
 * norm with its statistics folded into scale and shift, the residual add and the activation after
 * it. scale, shift and addendScale are `[C]`.
 * @example
 * channelAffine(x, scale, shift, { addend: shortcut, relu: true });
 */
export function channelAffine(x: Tensor, scale: Tensor, shift: Tensor, opts: ChannelAffineOptions = {}): Tensor {
  const inputs = [x, scale, shift];
  if (opts.addend) inputs.push(opts.addend, opts.addendScale ?? onesLike(scale));
  return dispatch("channelAffine", inputs, { relu: opts.relu ?? false });
}
