// channelAffine in float32 WebAssembly SIMD: x·scale + shift (+ addend·addendScale), then ReLU,
// plane by plane. A JavaScript loop takes 2–4 ns an element here (8 ms for a 128×16×32×32
// activation with a residual and ReLU); the module does four lanes an instruction, and most of
// its time is copying the chunks in and out. Each operation rounds to float32, so results can
// differ from the JavaScript loop (which rounds once) in the last bit; every plane of a given
// shape takes the same path, so the split between threads changes nothing.
import { buildModule, Code, I32, V128 } from "./builder.js";

const CHUNK = 16384; // floats of x, of the addend and of the output per call
const X_AT = 0;
const ADDEND_AT = CHUNK * 4;
const OUT_AT = 2 * CHUNK * 4;
const PARAMS_AT = 3 * CHUNK * 4; // scale, shift and addendScale of each segment: at most CHUNK / 4 segments
const PAGES = Math.ceil((3 * CHUNK * 4 + (CHUNK / 4) * 12) / 65536);

/** The four variants: with or without the addend, with or without ReLU. */
const VARIANTS = [[false, false], [false, true], [true, false], [true, true]] as const;
const variantName = (addend: boolean, relu: boolean) => `affine${addend ? "Add" : ""}${relu ? "Relu" : ""}`;

/** Emits `f(segments, len)`: segment k is `len` floats (a multiple of 4) at k·len, with its parameters at PARAMS_AT + 12k. */
function affineCode(addend: boolean, relu: boolean): Code {
  const c = new Code([I32, I32]);
  const [SEGMENTS, LEN] = [0, 1];
  const [k, i, end, param] = [c.local(I32), c.local(I32), c.local(I32), c.local(I32)];
  const [s, t, u] = [c.local(V128), c.local(V128), c.local(V128)];
  c.i32(0).set(k);
  c.loop(k, 1, SEGMENTS, () => {
    c.get(k).i32(12).mul().set(param);
    c.get(param).loadF32(PARAMS_AT).f32x4Splat().set(s);
    c.get(param).loadF32(PARAMS_AT + 4).f32x4Splat().set(t);
    if (addend) c.get(param).loadF32(PARAMS_AT + 8).f32x4Splat().set(u);
    c.get(k).get(LEN).mul().i32(4).mul().tee(i).get(LEN).i32(4).mul().add().set(end);
    c.loop(i, 16, end, () => {
      c.get(i); // the store's address
      c.get(i).load(X_AT).get(s).f32x4Mul().get(t).f32x4Add();
      if (addend) c.get(i).load(ADDEND_AT).get(u).f32x4Mul().f32x4Add();
      if (relu) c.zero().f32x4Max(); // keeps NaN, maps −0 to +0, as the JavaScript loop
      c.store(OUT_AT);
    });
  });
  return c;
}

interface ChannelModule {
  mem: Float32Array;
  run: Record<string, (segments: number, len: number) => void>;
}

let module: ChannelModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
function ready(): ChannelModule | null {
  if (module !== undefined) return module;
  module = null;
  if (typeof WebAssembly === "undefined") return module;
  const bytes = buildModule(VARIANTS.map(([a, r]) => ({ name: variantName(a, r), code: affineCode(a, r) })));
  if (!WebAssembly.validate(bytes)) return module;
  const memory = new WebAssembly.Memory({ initial: PAGES });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  module = { mem: new Float32Array(memory.buffer), run: ex as unknown as ChannelModule["run"] };
  return module;
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
 * out = x·scale[c] + shift[c] (+ addend·addendScale[c]), then max(0, ·) if `relu`, over planes
 * from…to of [n, c, p] float32 data, many segments a call; {@link simdChannelAffine} must hold.
 */
export function channelAffineF32(x: Float32Array, scale: Float32Array, shift: Float32Array, addend: Float32Array | null, addendScale: Float32Array | null,
  out: Float32Array, relu: boolean, c: number, p: number, from: number, to: number): void {
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
      const base = PARAMS_AT / 4 + 3 * e;
      m.mem[base] = scale[ch];
      m.mem[base + 1] = shift[ch];
      if (addendScale) m.mem[base + 2] = addendScale[ch];
    }
    m.mem.set(x.subarray(at, at + k * len), X_AT / 4);
    if (addend) m.mem.set(addend.subarray(at, at + k * len), ADDEND_AT / 4);
    run(k, len);
    out.set(m.mem.subarray(OUT_AT / 4, OUT_AT / 4 + k * len), at);
  }
}
