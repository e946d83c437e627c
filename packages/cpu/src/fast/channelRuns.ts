// The per-channel loops as the fast layer runs them over a thread's share: float32 in WebAssembly
// SIMD (wasm/channelF32.ts) where it can, everything else by the reference loops. They import
// nothing from @sam/tensor at run time, so a worker loads them by relative URL alone.
import type { TypedArray } from "@sam/tensor";
import type { ChannelLayout } from "../geometry.js";
import { channelAffineLoop, channelDotsLoop, channelMomentsLoop, imagesOf, perGroupPlanes, perGroupSums } from "../reference/channelLoops.js";
import { channelAffineF32, channelDotsF32, channelMomentsF32, simdChannelAffine, simdChannelSums } from "../wasm/channelF32.js";

/**
 * Mean and biased variance of channels from…to into out[c] and out[C + c]; with `groups`, of
 * slots from…to, slot g·C + c being group g's channel c (see {@link perGroupSums}).
 */
export function channelMomentsRange(x: TypedArray, layout: ChannelLayout, out: TypedArray, from: number, to: number, groups = 1): void {
  if (groups > 1) return perGroupSums(groups, layout, out, from, to, (g, part, into, c0, c1) => channelMomentsRange(imagesOf(x, g, groups), part, into, c0, c1));
  if (x instanceof Float32Array && simdChannelSums()) return channelMomentsF32(x, ...layout, out as Float32Array, from, to);
  channelMomentsLoop(x, layout, out, from, to);
}

/**
 * Σg and Σg·(x − center[c]) of channels from…to into out[c] and out[C + c]; with `groups` (center
 * [G, C]), of slots from…to, slot g·C + c being group g's channel c (see {@link perGroupSums}).
 */
export function channelDotsRange(g: TypedArray, x: TypedArray, center: TypedArray, layout: ChannelLayout, out: TypedArray, from: number, to: number, groups = 1): void {
  if (groups > 1) {
    const c = layout[1];
    return perGroupSums(groups, layout, out, from, to,
      (k, part, into, c0, c1) => channelDotsRange(imagesOf(g, k, groups), imagesOf(x, k, groups), center.subarray(k * c, (k + 1) * c), part, into, c0, c1));
  }
  if (x instanceof Float32Array && simdChannelSums()) return channelDotsF32(g as Float32Array, x, center as Float32Array, ...layout, out as Float32Array, from, to);
  channelDotsLoop(g, x, center, layout, out, from, to);
}

/**
 * (x − center[c])·scale[c] + shift[c] (+ addend·addendScale[c]), then max(0, ·) if `relu`, over
 * planes from…to. With `groupPlanes` (planes per group of images), the per-channel operands are
 * [G, C] and a plane takes its group's row.
 */
export function channelAffineRange(x: TypedArray, center: TypedArray, scale: TypedArray, shift: TypedArray, addend: TypedArray | null,
  addendScale: TypedArray | null, out: TypedArray, relu: boolean, layout: ChannelLayout, from: number, to: number, groupPlanes = 0): void {
  if (groupPlanes === 0) return affinePlanes(x, center, scale, shift, addend, addendScale, out, relu, layout, from, to);
  perGroupPlanes(groupPlanes, layout[1], from, to, (row, start, end) =>
    affinePlanes(x, row(center), row(scale), row(shift), addend, addendScale && row(addendScale), out, relu, layout, start, end));
}

/** channelAffineRange with [C] operands. */
function affinePlanes(x: TypedArray, center: TypedArray, scale: TypedArray, shift: TypedArray, addend: TypedArray | null,
  addendScale: TypedArray | null, out: TypedArray, relu: boolean, layout: ChannelLayout, from: number, to: number): void {
  const [, c, p] = layout;
  if (x instanceof Float32Array && simdChannelAffine(p)) {
    return channelAffineF32(x, center as Float32Array, scale as Float32Array, shift as Float32Array, addend as Float32Array | null,
      addendScale as Float32Array | null, out as Float32Array, relu, c, p, from, to);
  }
  channelAffineLoop(x, center, scale, shift, addend, addendScale, out, relu, layout, from, to);
}
