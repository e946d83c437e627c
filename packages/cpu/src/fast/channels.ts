// The per-channel primitives of batch normalisation shared between the threads: channel moments,
// the gradient's two sums and the affine map with its residual add and ReLU. Large ones share
// channels (sums) or planes (affine); each channel's sum is still one loop, so threads change no bit.
import type { Kernel } from "@sam/tensor";
import { layoutOf } from "../geometry.js";
import { dataOf } from "../storage.js";
import { channelAffineRange, channelDotsRange, channelMomentsRange } from "./channelRuns.js";
import { shareOut } from "./pool.js";
import { share } from "./tasks.js";

/** Mean and biased variance of each channel: [2, C] (per group of images: [2, G, C]). */
export const channelMoments: Kernel<"channelMoments"> = ([x], out, { groups = 1 }) => {
  const [a, o, layout] = [dataOf(x), dataOf(out), layoutOf(x)];
  shareOut(a.length, groups * layout[1],
    (from, to) => ({ op: "channelSums", a: share(a, x.dtype), b: null, center: null, out: share(o, out.dtype), layout, groups, from, to }),
    (from, to) => channelMomentsRange(a, layout, o, from, to, groups));
};

/** Σg and Σg·(x − center) of each channel: [2, C] (per group of images, with center [G, C]: [2, G, C]). */
export const channelDots: Kernel<"channelDots"> = ([g, x, center], out) => {
  const [dg, dx, m, o, layout] = [dataOf(g), dataOf(x), dataOf(center), dataOf(out), layoutOf(x)];
  const groups = center.shape.length === 2 ? center.shape[0] : 1;
  shareOut(dx.length, groups * layout[1],
    (from, to) => ({ op: "channelSums", a: share(dg, g.dtype), b: share(dx, x.dtype), center: share(m, center.dtype), out: share(o, out.dtype), layout, groups, from, to }),
    (from, to) => channelDotsRange(dg, dx, m, layout, o, from, to, groups));
};

/**
 * (x − center)·scale + shift (+ addend·addendScale), per channel (and group of images, where the
 * per-channel operands are [G, C]), then ReLU if asked.
 */
export const channelAffine: Kernel<"channelAffine"> = ([x, center, scale, shift, addend, addendScale], out, { relu }) => {
  const [a, m, s, t, o, layout] = [dataOf(x), dataOf(center), dataOf(scale), dataOf(shift), dataOf(out), layoutOf(x)];
  const [r, u] = addend ? [dataOf(addend), dataOf(addendScale)] : [null, null];
  const groupPlanes = scale.shape.length === 2 ? (layout[0] / scale.shape[0]) * layout[1] : 0;
  shareOut(a.length, layout[0] * layout[1],
    (from, to) => ({
      op: "channelAffine", x: share(a, x.dtype), center: share(m, center.dtype), scale: share(s, scale.dtype), shift: share(t, shift.dtype),
      addend: r && share(r, x.dtype), addendScale: u && share(u, x.dtype), out: share(o, out.dtype), relu, layout, groupPlanes, from, to,
    }),
    (from, to) => channelAffineRange(a, m, s, t, r, u, o, relu, layout, from, to, groupPlanes));
};
