// The per-channel primitives by definition, over a range of channels or planes: loops that run on
// one thread, or on a worker for its share. Data is [N, C, P] (P the product of the axes after the
// channel). They import nothing from @sam/tensor at run time, so a worker loads them by relative
// URL alone.
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
