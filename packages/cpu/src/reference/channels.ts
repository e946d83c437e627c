// The per-channel primitives of batch normalisation by definition, on one thread; per group of
// images where the operands say so (each group's images summed or mapped by the same loops on
// its own, so a group's result is the one its images alone give).
import type { Kernel } from "@sam/tensor";
import { layoutOf } from "../geometry.js";
import { dataOf } from "../storage.js";
import { channelAffineLoop, channelDotsLoop, channelMomentsLoop, imagesOf, perGroupPlanes, perGroupSums } from "./channelLoops.js";

/** Mean and biased variance of each channel: [2, C]; with `groups`, of each group's: [2, G, C]. */
export const channelMoments: Kernel<"channelMoments"> = ([x], out, { groups = 1 }) => {
  const layout = layoutOf(x);
  const a = dataOf(x);
  perGroupSums(groups, layout, dataOf(out), 0, groups * layout[1], (g, part, into, c0, c1) => channelMomentsLoop(imagesOf(a, g, groups), part, into, c0, c1));
};

/** Σg and Σg·(x − center) of each channel: [2, C]; with a [G, C] center, of each group's: [2, G, C]. */
export const channelDots: Kernel<"channelDots"> = ([g, x, center], out) => {
  const layout = layoutOf(x);
  const groups = center.shape.length === 2 ? center.shape[0] : 1;
  const [dy, a, m, c] = [dataOf(g), dataOf(x), dataOf(center), layout[1]];
  perGroupSums(groups, layout, dataOf(out), 0, groups * c,
    (k, part, into, c0, c1) => channelDotsLoop(imagesOf(dy, k, groups), imagesOf(a, k, groups), m.subarray(k * c, (k + 1) * c), part, into, c0, c1));
};

/**
 * (x − center)·scale + shift (+ addend·addendScale), per channel, then ReLU if asked; with [G, C]
 * per-channel operands, each group of images takes its row.
 */
export const channelAffine: Kernel<"channelAffine"> = ([x, center, scale, shift, addend, addendScale], out, { relu }) => {
  const layout = layoutOf(x);
  const groups = scale.shape.length === 2 ? scale.shape[0] : 1;
  const [m, s, t, u] = [dataOf(center), dataOf(scale), dataOf(shift), addendScale ? dataOf(addendScale) : null];
  perGroupPlanes((layout[0] / groups) * layout[1], layout[1], 0, layout[0] * layout[1], (row, from, to) =>
    channelAffineLoop(dataOf(x), row(m), row(s), row(t), addend ? dataOf(addend) : null, u && row(u), dataOf(out), relu, layout, from, to));
};
