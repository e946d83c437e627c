// The per-channel primitives in float32 WebAssembly SIMD. channelAffine: (x − center)·scale + shift
// (+ addend·addendScale), then ReLU, plane by plane. A JavaScript loop takes 2–4 ns an element
// here (8 ms for a 128×16×32×32 activation with a residual and ReLU); the module does four lanes
// an instruction, and most of its time is copying the chunks in and out. Each operation rounds to
// float32, so results can differ from the JavaScript loop (which rounds once) in the last bit;
// every plane of a given shape takes the same path, so the split between threads changes nothing.
// channelMoments and channelDots: a channel's values are copied in (several channels at a time
// where planes are whole groups; see Staging) and summed in float64, two lanes at a time (so in another order than the JavaScript loop: the float32 results can differ
// in the last bit); a channel is always summed by one thread.
import { buildModule, Code, I32, V128 } from "./builder.js";

const CHUNK = 16384; // floats of x, of the addend and of the output per call
const X_AT = 0;
const ADDEND_AT = CHUNK * 4;
const OUT_AT = 2 * CHUNK * 4;
const PARAMS_AT = 3 * CHUNK * 4; // center, scale, shift and addendScale of each segment: at most CHUNK / 4 segments
const RESULT_AT = 3 * CHUNK * 4 + (CHUNK / 4) * 16; // the sums' accumulators: two f64x2
const MEAN_AT = RESULT_AT + 32; // the center the squared deviations and the dots are taken about
const DATA_AT = MEAN_AT + 16; // a channel's values (and the gradient's, after them)
const PAGES = Math.ceil(DATA_AT / 65536);

/** The four variants: with or without the addend, with or without ReLU. */
const VARIANTS = [[false, false], [false, true], [true, false], [true, true]] as const;
const variantName = (addend: boolean, relu: boolean) => `affine${addend ? "Add" : ""}${relu ? "Relu" : ""}`;

/** Emits `f(segments, len)`: segment k is `len` floats (a multiple of 4) at k·len, with its parameters at PARAMS_AT + 16k. */
function affineCode(addend: boolean, relu: boolean): Code {
  const c = new Code([I32, I32]);
  const [SEGMENTS, LEN] = [0, 1];
  const [k, i, end, param] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
  const [m, s, t, u] = [c.local(V128), c.local(V128), c.local(V128), c.local(V128)];
  c.i32(0).set(k);
  c.loop(k, 1, SEGMENTS, () => {
    c.get(k).i32(16).mul().set(param);
    c.get(param).loadF32(PARAMS_AT).f32x4Splat().set(m);
    c.get(param).loadF32(PARAMS_AT + 4).f32x4Splat().set(s);
    c.get(param).loadF32(PARAMS_AT + 8).f32x4Splat().set(t);
    if (addend) c.get(param).loadF32(PARAMS_AT + 12).f32x4Splat().set(u);
    c.get(k).get(LEN).mul().i32(4).mul().tee(i).get(LEN).i32(4).mul().add().set(end);
    c.loop(i, 16, end, () => {
      c.get(i); // the store's address
      c.get(i).load(X_AT).get(m).f32x4Sub().get(s).f32x4Mul().get(t).f32x4Add();
      if (addend) c.get(i).load(ADDEND_AT).get(u).f32x4Mul().f32x4Add();
      if (relu) c.zero().f32x4Max(); // keeps NaN, maps −0 to +0, as the JavaScript loop
      c.store(OUT_AT);
    });
  });
  return c;
}

/** Lanes summed side by side: four f64x2 accumulators, so the additions do not wait on one another. */
const ACCUMULATORS = 4;
/** Floats a step of the sums' loops takes: two per accumulator. */
const GROUP = 2 * ACCUMULATORS;

/**
 * Emits a loop over `segments` segments `stride` bytes apart, each `groups` groups of GROUP floats,
 * the first from byte `at` (the parameters at those indices), with `body(k, address)` folding the
 * k-th pair of a group (loaded from `address` plus 8k) into accumulators of its own, carried from
 * segment to segment, so the sum runs in the order of the segments laid end to end; then stores
 * `sets` accumulator sets, each summed over its accumulators in order, at RESULT_AT + 16·set.
 */
function groupLoop(c: Code, at: number, groups: number, segments: number, stride: number, sets: number,
  body: (acc: (set: number) => number, k: number, i: number) => void): Code {
  const [i, end, segment, start] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
  const accs = Array.from({ length: sets }, () => Array.from({ length: ACCUMULATORS }, () => c.local(V128)));
  c.get(at).set(start);
  c.i32(0).set(segment);
  c.loop(segment, 1, segments, () => {
    c.get(start).tee(i).get(groups).i32(4 * GROUP).mul().add().set(end);
    c.loop(i, 4 * GROUP, end, () => {
      for (let k = 0; k < ACCUMULATORS; k++) body((set) => accs[set][k], k, i);
    });
    c.get(start).get(stride).add().set(start);
  });
  for (let set = 0; set < sets; set++) {
    c.i32(0).get(accs[set][0]);
    for (let k = 1; k < ACCUMULATORS; k++) c.get(accs[set][k]).f64x2Add();
    c.store(RESULT_AT + 16 * set);
  }
  return c;
}

/** Emits `sum(at, groups, segments, stride)`: the f64x2 sum of the segments' groups·GROUP floats each, to RESULT_AT. */
function sumCode(): Code {
  const c = new Code([I32, I32, I32, I32]);
  return groupLoop(c, 0, 1, 2, 3, 1, (acc, k, i) => c.get(acc(0)).get(i).load64Zero(8 * k).f64x2PromoteLow().f64x2Add().set(acc(0)));
}

/** Emits `squares(at, groups, segments, stride)`: the f64x2 sum of (x − mean)² over the segments, the mean at MEAN_AT, to RESULT_AT. */
function squaresCode(): Code {
  const c = new Code([I32, I32, I32, I32]);
  const [mean, d] = [c.local(V128), c.local(V128)];
  c.i32(0).load64Splat(MEAN_AT).set(mean);
  return groupLoop(c, 0, 1, 2, 3, 1, (acc, k, i) => {
    c.get(i).load64Zero(8 * k).f64x2PromoteLow().get(mean).f64x2Sub().tee(d).get(d).f64x2Mul();
    c.get(acc(0)).f64x2Add().set(acc(0));
  });
}

/**
 * Emits `dots(gAt, xAt, groups, segments, stride)`: the f64x2 sums of g and of g·(x − center) over
 * the segments (x's laid out as g's), the center at MEAN_AT, to RESULT_AT and RESULT_AT + 16.
 */
function dotsCode(): Code {
  const c = new Code([I32, I32, I32, I32, I32]);
  const [G_AT, X_AT_, GROUPS, SEGMENTS, STRIDE] = [0, 1, 2, 3, 4];
  const [x, g, center] = [c.local(I32), c.local(V128), c.local(V128)];
  c.get(X_AT_).get(G_AT).sub().set(x); // the x operand's distance from g's
  c.i32(0).load64Splat(MEAN_AT).set(center);
  return groupLoop(c, G_AT, GROUPS, SEGMENTS, STRIDE, 2, (acc, k, i) => {
    c.get(i).load64Zero(8 * k).f64x2PromoteLow().tee(g).get(acc(0)).f64x2Add().set(acc(0));
    c.get(g).get(i).get(x).add().load64Zero(8 * k).f64x2PromoteLow().get(center).f64x2Sub().f64x2Mul().get(acc(1)).f64x2Add().set(acc(1));
  });
}

interface ChannelModule {
  memory: WebAssembly.Memory;
  mem: Float32Array;
  wide: Float64Array;
  run: Record<string, (segments: number, len: number) => void>;
  sum: (at: number, groups: number, segments: number, stride: number) => void;
  squares: (at: number, groups: number, segments: number, stride: number) => void;
  dots: (gAt: number, xAt: number, groups: number, segments: number, stride: number) => void;
}

let module: ChannelModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
function ready(): ChannelModule | null {
  if (module !== undefined) return module;
  module = null;
  if (typeof WebAssembly === "undefined") return module;
  const bytes = buildModule([
    ...VARIANTS.map(([a, r]) => ({ name: variantName(a, r), code: affineCode(a, r) })),
    { name: "sum", code: sumCode() }, { name: "squares", code: squaresCode() }, { name: "dots", code: dotsCode() },
  ]);
  if (!WebAssembly.validate(bytes)) return module;
  const memory = new WebAssembly.Memory({ initial: PAGES });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const f = ex as unknown as Pick<ChannelModule, "sum" | "squares" | "dots">;
  module = {
    memory, mem: new Float32Array(memory.buffer), wide: new Float64Array(memory.buffer),
    run: ex as unknown as ChannelModule["run"], sum: f.sum, squares: f.squares, dots: f.dots,
  };
  return module;
}

/** Grows the memory to hold `floats` floats from DATA_AT (views are remade after growing). */
function reserve(m: ChannelModule, floats: number): void {
  const missing = DATA_AT + floats * 4 - m.memory.buffer.byteLength;
  if (missing <= 0) return;
  m.memory.grow(Math.ceil(missing / 65536));
  m.mem = new Float32Array(m.memory.buffer);
  m.wide = new Float64Array(m.memory.buffer);
}

/** Whether float32 channel sums go through the module here. */
export function simdChannelSums(): boolean {
  return ready() !== null;
}

/** Floats of channels staged at once where they go in blocks: the sums' passes over them stay in L2. */
const BLOCK_FLOATS = 65536;

/**
 * How channels of [n, c, p] data are staged: where a plane is whole groups (p a multiple of
 * GROUP), `block` channels at a time, each image's run of them in one copy, and a channel is
 * summed as its n planes `block`·p floats apart, in the order of the planes laid end to end (so the
 * same sums as one channel staged whole); else one channel at a time, its planes end to end. A
 * small batch of small planes (16 images of 8×8) took a copy of 256 bytes per image and channel.
 */
interface Staging {
  block: number;
  segmented: boolean;
}

function staging(n: number, p: number): Staging {
  const segmented = p > 0 && p % GROUP === 0;
  return { block: segmented ? Math.max(1, Math.floor(BLOCK_FLOATS / Math.max(1, n * p))) : 1, segmented };
}

/** Copies channels ch…ch+count of [n, c, p] data into the module's memory from float index `at`: image by image, [n, count, p]. */
function stageChannels(m: ChannelModule, x: Float32Array, n: number, c: number, p: number, ch: number, count: number, at: number): void {
  for (let i = 0; i < n; i++) m.mem.set(x.subarray((i * c + ch) * p, (i * c + ch + count) * p), at + i * count * p);
}

/** Where channel j of a staged block of `count` starts (bytes), and its groups, segments and the segments' stride in bytes. */
function layoutOf(st: Staging, at: number, j: number, count: number, n: number, p: number): [number, number, number, number] {
  return st.segmented ? [(at + j * p) * 4, p / GROUP, n, count * p * 4] : [at * 4, Math.floor((n * p) / GROUP), 1, 0];
}

/** The two lanes of accumulator `k` (at RESULT_AT + 16k) added. */
function lanes(m: ChannelModule, k: number): number {
  return m.wide[RESULT_AT / 8 + 2 * k] + m.wide[RESULT_AT / 8 + 2 * k + 1];
}

/** Mean and biased variance of channels from…to of [n, c, p] float32 data into out[ch] and out[c + ch]; {@link simdChannelSums} must hold. */
export function channelMomentsF32(x: Float32Array, n: number, c: number, p: number, out: Float32Array, from: number, to: number): void {
  const m = ready()!;
  const count = n * p;
  const groups = Math.floor(count / GROUP);
  const tail = groups * GROUP; // the last few floats are added here, in order (none where segmented)
  const st = staging(n, p);
  reserve(m, st.block * count);
  const at = DATA_AT / 4;
  for (let ch0 = from; ch0 < to; ch0 += st.block) {
    const chs = Math.min(st.block, to - ch0);
    stageChannels(m, x, n, c, p, ch0, chs, at); // one channel where not segmented (a block of one)
    for (let j = 0; j < chs; j++) {
      const ch = ch0 + j;
      const [first, groupsEach, segments, stride] = layoutOf(st, at, j, chs, n, p);
      let s = 0;
      if (groups > 0) {
        m.sum(first, groupsEach, segments, stride);
        s = lanes(m, 0);
      }
      for (let i = tail; i < count; i++) s += m.mem[at + i];
      const mean = s / count;
      let q = 0;
      if (groups > 0) {
        m.wide[MEAN_AT / 8] = mean;
        m.squares(first, groupsEach, segments, stride);
        q = lanes(m, 0);
      }
      for (let i = tail; i < count; i++) q += (m.mem[at + i] - mean) ** 2;
      out[ch] = mean;
      out[c + ch] = q / count;
    }
  }
}

/** Σg and Σg·(x − center[ch]) of channels from…to into out[ch] and out[c + ch]; {@link simdChannelSums} must hold. */
export function channelDotsF32(g: Float32Array, x: Float32Array, center: Float32Array, n: number, c: number, p: number, out: Float32Array, from: number, to: number): void {
  const m = ready()!;
  const count = n * p;
  const groups = Math.floor(count / GROUP);
  const tail = groups * GROUP;
  const st = staging(n, p);
  const stride = Math.ceil((st.block * count) / 2) * 2; // x's copy starts on an 8-byte boundary
  reserve(m, 2 * stride);
  const [gAt, xAt] = [DATA_AT / 4, DATA_AT / 4 + stride];
  for (let ch0 = from; ch0 < to; ch0 += st.block) {
    const chs = Math.min(st.block, to - ch0);
    stageChannels(m, g, n, c, p, ch0, chs, gAt);
    stageChannels(m, x, n, c, p, ch0, chs, xAt);
    for (let j = 0; j < chs; j++) {
      const ch = ch0 + j;
      const [first, groupsEach, segments, between] = layoutOf(st, gAt, j, chs, n, p);
      const mean = center[ch];
      let [s, d] = [0, 0];
      if (groups > 0) {
        m.wide[MEAN_AT / 8] = mean;
        m.dots(first, first + (xAt - gAt) * 4, groupsEach, segments, between);
        [s, d] = [lanes(m, 0), lanes(m, 1)];
      }
      for (let i = tail; i < count; i++) {
        s += m.mem[gAt + i];
        d += m.mem[gAt + i] * (m.mem[xAt + i] - mean);
      }
      out[ch] = s;
      out[c + ch] = d;
    }
  }
}

/** The segment length for planes of `p` floats: the plane, or an equal part of it within a chunk; 0 where none is a multiple of 4. */
function segmentLength(p: number): number {
  for (let parts = Math.ceil(p / CHUNK); parts <= p / 4; parts++) {
    if (p % parts === 0 && (p / parts) % 4 === 0) return p / parts;
  }
  return 0;
}

/** Whether planes of `p` floats go through the module. */
export function simdChannelAffine(p: number): boolean {
  return segmentLength(p) > 0 && ready() !== null;
}

/**
 * out = (x − center[c])·scale[c] + shift[c] (+ addend·addendScale[c]), then max(0, ·) if `relu`, over planes
 * from…to of [n, c, p] float32 data, many segments a call; {@link simdChannelAffine} must hold.
 */
export function channelAffineF32(x: Float32Array, center: Float32Array, scale: Float32Array, shift: Float32Array, addend: Float32Array | null,
  addendScale: Float32Array | null, out: Float32Array, relu: boolean, c: number, p: number, from: number, to: number): void {
  const m = ready()!;
  const len = segmentLength(p);
  const run = m.run[variantName(addend !== null, relu)];
  const total = ((to - from) * p) / len; // segments in the range
  const perCall = Math.floor(CHUNK / len);
  for (let q = 0; q < total; q += perCall) {
    const k = Math.min(perCall, total - q);
    const at = from * p + q * len; // first float of this call
    for (let e = 0; e < k; e++) {
      const ch = Math.floor((at + e * len) / p) % c;
      const base = PARAMS_AT / 4 + 4 * e;
      m.mem[base] = center[ch];
      m.mem[base + 1] = scale[ch];
      m.mem[base + 2] = shift[ch];
      if (addendScale) m.mem[base + 3] = addendScale[ch];
    }
    m.mem.set(x.subarray(at, at + k * len), X_AT / 4);
    if (addend) m.mem.set(addend.subarray(at, at + k * len), ADDEND_AT / 4);
    run(k, len);
    out.set(m.mem.subarray(OUT_AT / 4, OUT_AT / 4 + k * len), at);
  }
}
