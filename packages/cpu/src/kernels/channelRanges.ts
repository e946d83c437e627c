// The loops of the per-channel primitives over a range of channels or planes: what a thread runs
// for its share. Data is [N, C, P] (P the product of the axes after the channel). They import
// nothing from @sam/tensor at run time, so a worker loads them by relative URL alone.
import type { TypedArray } from "@sam/tensor";
import type { SharedArray } from "../threads/shared.js";
import { channelAffineF32, channelDotsF32, channelMomentsF32, simdChannelAffine, simdChannelSums } from "../wasm/channelF32.js";

/** [N, C, P]: images, channels and values per plane. */
export type ChannelLayout = [number, number, number];

/** One share of channelMoments (b null) or channelDots: channels from…to. */
export interface ChannelSumsTask {
  op: "channelSums";
  /** x for the moments; g for the dots. */
  a: SharedArray;
  /** x for the dots; null for the moments. */
  b: SharedArray | null;
  out: SharedArray;
  layout: ChannelLayout;
  from: number;
  to: number;
}

/** One share of channelAffine: planes (n·C + c) from…to. */
export interface ChannelAffineTask {
  op: "channelAffine";
  x: SharedArray;
  scale: SharedArray;
  shift: SharedArray;
  addend: SharedArray | null;
  addendScale: SharedArray | null;
  out: SharedArray;
  relu: boolean;
  layout: ChannelLayout;
  from: number;
  to: number;
}

/**
 * Mean and biased variance of channels from…to into out[c] and out[C + c]: the mean first, then
 * the squared deviations from it (two passes, as the composite does, so no cancellation), summed
 * in float64 in the order n, then p, whatever the share (float32 in WebAssembly SIMD, two lanes).
 */
export function channelMomentsRange(x: TypedArray, [n, c, p]: ChannelLayout, out: TypedArray, from: number, to: number): void {
  if (x instanceof Float32Array && simdChannelSums()) return channelMomentsF32(x, n, c, p, out as Float32Array, from, to);
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

/** Σg and Σg·x of channels from…to into out[c] and out[C + c], in float64, in a fixed order (float32 in WebAssembly SIMD, two lanes). */
export function channelDotsRange(g: TypedArray, x: TypedArray, [n, c, p]: ChannelLayout, out: TypedArray, from: number, to: number): void {
  if (x instanceof Float32Array && simdChannelSums()) return channelDotsF32(g as Float32Array, x, n, c, p, out as Float32Array, from, to);
  for (let ch = from; ch < to; ch++) {
    let s = 0;
    let d = 0;
    for (let i = 0; i < n; i++) {
      const at = (i * c + ch) * p;
      for (let j = 0; j < p; j++) {
        const v = g[at + j];
        s += v;
        d += v * x[at + j];
      }
    }
    out[ch] = s;
    out[c + ch] = d;
  }
}

/**
 * x·scale[c] + shift[c] (+ addend·addendScale[c]), then max(0, ·) if `relu`, over planes from…to.
 * Float32 planes go through WebAssembly SIMD where their length allows; elsewhere the arithmetic
 * is in float64, rounded once on the store.
 */
export function channelAffineRange(x: TypedArray, scale: TypedArray, shift: TypedArray, addend: TypedArray | null, addendScale: TypedArray | null,
  out: TypedArray, relu: boolean, [, c, p]: ChannelLayout, from: number, to: number): void {
  if (x instanceof Float32Array && simdChannelAffine(p)) {
    return channelAffineF32(x, scale as Float32Array, shift as Float32Array, addend as Float32Array | null, addendScale as Float32Array | null,
      out as Float32Array, relu, c, p, from, to);
  }
  for (let plane = from; plane < to; plane++) {
    const ch = plane % c;
    const [s, t, at] = [scale[ch], shift[ch], plane * p];
    if (addend && addendScale) {
      const u = addendScale[ch];
      if (relu) for (let j = at; j < at + p; j++) { const v = x[j] * s + t + addend[j] * u; out[j] = Math.max(v, 0); }
      else for (let j = at; j < at + p; j++) out[j] = x[j] * s + t + addend[j] * u;
    } else if (relu) {
      for (let j = at; j < at + p; j++) { const v = x[j] * s + t; out[j] = Math.max(v, 0); }
    } else {
      for (let j = at; j < at + p; j++) out[j] = x[j] * s + t;
    }
  }
}
