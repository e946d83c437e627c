// The per-channel primitives of batch normalisation: channel moments, the gradient's two sums and
// the affine map with its residual add and ReLU. Large ones share channels (sums) or planes
// (affine) between the threads; each channel's sum is still one loop, so threads change no bit.
import type { BackendTensor, Kernel } from "@sam/tensor";
import { currentPool } from "../threads/current.js";
import { share } from "../threads/shared.js";
import { splitEvenly } from "../threads/split.js";
import type { Task } from "../threads/tasks.js";
import { channelAffineRange, channelDotsRange, channelMomentsRange, type ChannelLayout } from "./channelRanges.js";
import { dataOf } from "./storage.js";

/** Elements below which a per-channel op runs on the calling thread alone. */
const MIN_SHARED_ELEMENTS = 2 ** 18;

function layoutOf(x: BackendTensor): ChannelLayout {
  const [n, c] = x.shape;
  return [n, c, x.shape.slice(2).reduce((a, d) => a * d, 1)];
}

/** Runs `local(0, units)` here, or splits the units between the pool's threads. */
function shared(elements: number, units: number, task: (from: number, to: number) => Task, local: (from: number, to: number) => void): void {
  const pool = elements >= MIN_SHARED_ELEMENTS ? currentPool() : null;
  if (!pool || units < 2) return local(0, units);
  pool.run(splitEvenly(units, pool.threads).map(([from, to]) => task(from, to)));
}

/** Mean and biased variance of each channel: [2, C]. */
export const channelMoments: Kernel<"channelMoments"> = ([x], out) => {
  const [a, o, layout] = [dataOf(x), dataOf(out), layoutOf(x)];
  shared(a.length, layout[1],
    (from, to) => ({ op: "channelSums", a: share(a, x.dtype), b: null, out: share(o, out.dtype), layout, from, to }),
    (from, to) => channelMomentsRange(a, layout, o, from, to));
};

/** Σg and Σg·x of each channel: [2, C]. */
export const channelDots: Kernel<"channelDots"> = ([g, x], out) => {
  const [dg, dx, o, layout] = [dataOf(g), dataOf(x), dataOf(out), layoutOf(x)];
  shared(dx.length, layout[1],
    (from, to) => ({ op: "channelSums", a: share(dg, g.dtype), b: share(dx, x.dtype), out: share(o, out.dtype), layout, from, to }),
    (from, to) => channelDotsRange(dg, dx, layout, o, from, to));
};

/** x·scale + shift (+ addend·addendScale), per channel, then ReLU if asked. */
export const channelAffine: Kernel<"channelAffine"> = ([x, scale, shift, addend, addendScale], out, { relu }) => {
  const [a, s, t, o, layout] = [dataOf(x), dataOf(scale), dataOf(shift), dataOf(out), layoutOf(x)];
  const [r, u] = addend ? [dataOf(addend), dataOf(addendScale)] : [null, null];
  shared(a.length, layout[0] * layout[1],
    (from, to) => ({
      op: "channelAffine", x: share(a, x.dtype), scale: share(s, scale.dtype), shift: share(t, shift.dtype),
      addend: r && share(r, x.dtype), addendScale: u && share(u, x.dtype), out: share(o, out.dtype), relu, layout, from, to,
    }),
    (from, to) => channelAffineRange(a, s, t, r, u, o, relu, layout, from, to));
};
