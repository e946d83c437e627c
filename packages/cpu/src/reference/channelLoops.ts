// The per-channel primitives by definition, over a range of channels or planes: loops that run on
// one thread, or on a worker for its share. Data is [N, C, P] (P the product of the axes after the
// channel). Per group of images (the batch split into G equal groups), the per-channel operands
// are [G, C] rows and the sums [2, G, C]. They import nothing from @sam/tensor at run time, so a
// worker loads them by relative URL alone.
import type { TypedArray } from "@sam/tensor";
import type { ChannelLayout } from "../geometry.js";

/**
 * Mean and biased variance of channels from…to into out[c] and out[C + c]: the mean first, then
 * the squared deviations from it (two passes, as the composite does, so no cancellation), summed
 * in float64 in the order n, then p, whatever the share.
 */
export function channelMomentsLoop(x: TypedArray, [n, c, p]: ChannelLayout, out: TypedArray, from: number, to: number): void {
  const count = n * p;
  for (let ch = from; ch < to; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const at = (i * c + ch) * p;
      for (let j = 0; j < p; j++) s += x[at + j];
    }
    const mean = s / count;
    let q = 0;
    for (let i = 0; i < n; i++) {
      const at = (i * c + ch) * p;
      for (let j = 0; j < p; j++) {
        const d = x[at + j] - mean;
        q += d * d;
      }
    }
    out[ch] = mean;
    out[c + ch] = q / count;
  }
}

/** Σg and Σg·(x − center[c]) of channels from…to into out[c] and out[C + c], in float64, in a fixed order. */
export function channelDotsLoop(g: TypedArray, x: TypedArray, center: TypedArray, [n, c, p]: ChannelLayout, out: TypedArray, from: number, to: number): void {
  for (let ch = from; ch < to; ch++) {
    const m = center[ch];
    let s = 0;
    let d = 0;
    for (let i = 0; i < n; i++) {
      const at = (i * c + ch) * p;
      for (let j = 0; j < p; j++) {
        const v = g[at + j];
        s += v;
        d += v * (x[at + j] - m);
      }
    }
    out[ch] = s;
    out[c + ch] = d;
  }
}

/**
 * (x − center[c])·scale[c] + shift[c] (+ addend·addendScale[c]), then max(0, ·) if `relu`, over
 * planes from…to. The arithmetic is in float64, rounded once on the store.
 */
export function channelAffineLoop(x: TypedArray, center: TypedArray, scale: TypedArray, shift: TypedArray, addend: TypedArray | null,
  addendScale: TypedArray | null, out: TypedArray, relu: boolean, [, c, p]: ChannelLayout, from: number, to: number): void {
  for (let plane = from; plane < to; plane++) {
    const ch = plane % c;
    const [m, s, t, at] = [center[ch], scale[ch], shift[ch], plane * p];
    if (addend && addendScale) {
      const u = addendScale[ch];
      if (relu) for (let j = at; j < at + p; j++) { const v = (x[j] - m) * s + t + addend[j] * u; out[j] = Math.max(v, 0); }
      else for (let j = at; j < at + p; j++) out[j] = (x[j] - m) * s + t + addend[j] * u;
    } else if (relu) {
      for (let j = at; j < at + p; j++) { const v = (x[j] - m) * s + t; out[j] = Math.max(v, 0); }
    } else {
      for (let j = at; j < at + p; j++) out[j] = (x[j] - m) * s + t;
    }
  }
}

/** Group g's images of `groups` equal groups of an [N, …] array. */
export const imagesOf = (x: TypedArray, g: number, groups: number): TypedArray => x.subarray((g * x.length) / groups, ((g + 1) * x.length) / groups);

/**
 * Two sums per channel over `groups` groups of images, for slots from…to (slot g·C + c: group g's
 * channel c): each group's run of slots is summed by `sums` over its own images (layout
 * [N/G, C, P]) into a [2, C] scratch, whose rows go to out[g·C + c] and out[(G + g)·C + c].
 */
export function perGroupSums(groups: number, [n, c, p]: ChannelLayout, out: TypedArray, from: number, to: number,
  sums: (g: number, part: ChannelLayout, into: TypedArray, c0: number, c1: number) => void): void {
  const into = new (out.constructor as new (length: number) => TypedArray)(2 * c);
  for (let start = from; start < to;) {
    const g = Math.floor(start / c);
    const [c0, c1] = [start - g * c, Math.min(to - g * c, c)];
    sums(g, [n / groups, c, p], into, c0, c1);
    out.set(into.subarray(c0, c1), g * c + c0);
    out.set(into.subarray(c + c0, c + c1), (groups + g) * c + c0);
    start = g * c + c1;
  }
}

/**
 * Planes from…to split at group boundaries (`groupPlanes` planes a group, a multiple of C, so plane
 * q's channel is still q mod C): `run` gets each piece with its group's row of a [G, C] operand.
 */
export function perGroupPlanes(groupPlanes: number, c: number, from: number, to: number,
  run: (row: (v: TypedArray) => TypedArray, from: number, to: number) => void): void {
  for (let start = from; start < to;) {
    const g = Math.floor(start / groupPlanes);
    const end = Math.min(to, (g + 1) * groupPlanes);
    run((v) => v.subarray(g * c, (g + 1) * c), start, end);
    start = end;
  }
}
