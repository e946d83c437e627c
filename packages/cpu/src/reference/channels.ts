// The per-channel primitives of batch normalisation by definition, on one thread.
import type { Kernel } from "@sam/tensor";
import { layoutOf } from "../geometry.js";
import { dataOf } from "../storage.js";
import { channelAffineLoop, channelDotsLoop, channelMomentsLoop } from "./channelLoops.js";

/** Mean and biased variance of each channel: [2, C]. */
export const channelMoments: Kernel<"channelMoments"> = ([x], out) => {
  const layout = layoutOf(x);
  channelMomentsLoop(dataOf(x), layout, dataOf(out), 0, layout[1]);
};

/** Σg and Σg·(x − center) of each channel: [2, C]. */
export const channelDots: Kernel<"channelDots"> = ([g, x, center], out) => {
  const layout = layoutOf(x);
  channelDotsLoop(dataOf(g), dataOf(x), dataOf(center), layout, dataOf(out), 0, layout[1]);
};

/** (x − center)·scale + shift (+ addend·addendScale), per channel, then ReLU if asked. */
export const channelAffine: Kernel<"channelAffine"> = ([x, center, scale, shift, addend, addendScale], out, { relu }) => {
  const layout = layoutOf(x);
  channelAffineLoop(dataOf(x), dataOf(center), dataOf(scale), dataOf(shift), addend ? dataOf(addend) : null, addendScale ? dataOf(addendScale) : null,
    dataOf(out), relu, layout, 0, layout[0] * layout[1]);
};
