// Float32 elementwise arithmetic in WebAssembly SIMD. A JavaScript loop over typed arrays costs
// 2–3 ns an element here (one scalar operation, conversions and bounds checks each time); the
// module does four lanes an instruction, so most of the time left is copying each chunk of the
// operands into its memory and the result out, with TypedArray.set (a memcpy). The results are
// those of the JavaScript loops: a float32 +, −, ×, ÷ or √ computed in float64 and rounded once is
// the correctly rounded float32 one.
import { buildModule, Code, I32, V128 } from "./builder.js";

const CHUNK = 16384; // floats of each operand per call: the three chunks (192 KiB) stay in L2
const A_AT = 0;
const B_AT = CHUNK * 4;
const OUT_AT = 2 * CHUNK * 4;
const PAGES = Math.ceil((3 * CHUNK * 4) / 65536);

/** Runs shorter than this stay in JavaScript: copying in and out costs more than it saves. */
export const MIN_SIMD_RUN = 256;

/** Binary ops with a SIMD loop. */
export type SimdBinaryOp = "add" | "sub" | "mul" | "div";
/** Unary ops with a SIMD loop. */
export type SimdUnaryOp = "neg" | "abs" | "sqrt" | "relu";

const binaryOps: Record<SimdBinaryOp, (c: Code) => Code> = {
  add: (c) => c.f32x4Add(),
  sub: (c) => c.f32x4Sub(),
  mul: (c) => c.f32x4Mul(),
  div: (c) => c.f32x4Div(),
};

// relu keeps NaN (as the JavaScript loop does) and maps −0 to +0: f32x4.max(x, 0) does both
const unaryOps: Record<SimdUnaryOp, (c: Code) => Code> = {
  neg: (c) => c.f32x4Neg(),
  abs: (c) => c.f32x4Abs(),
  sqrt: (c) => c.f32x4Sqrt(),
  relu: (c) => c.zero().f32x4Max(),
};

/**
 * Emits `op(vectors, aStrided, bStrided)`: out = a ∘ b over `vectors` groups of four floats (at
 * least one), from the chunks at A_AT, B_AT to OUT_AT; an operand that is not strided is the one
 * float at the start of its chunk, broadcast (a run along which it does not change).
 */
function binaryCode(op: SimdBinaryOp): Code {
  const c = new Code([I32, I32, I32]);
  const [VECTORS, A_STRIDED, B_STRIDED] = [0, 1, 2];
  const [i, end] = [c.local(I32), c.local(I32)];
  const [a, b] = [c.local(V128), c.local(V128)];
  c.i32(0).loadF32(A_AT).f32x4Splat().set(a);
  c.i32(0).loadF32(B_AT).f32x4Splat().set(b);
  c.get(VECTORS).i32(16).mul().set(end);
  const loop = (loadA: boolean, loadB: boolean) => {
    c.i32(0).set(i);
    c.loop(i, 16, end, () => {
      if (loadA) c.get(i).load(A_AT).set(a);
      if (loadB) c.get(i).load(B_AT).set(b);
      c.get(i).get(a).get(b);
      binaryOps[op](c).store(OUT_AT);
    });
  };
  c.get(A_STRIDED).ifElse(
    () => c.get(B_STRIDED).ifElse(() => loop(true, true), () => loop(true, false)),
    () => c.get(B_STRIDED).ifElse(() => loop(false, true), () => loop(false, false)),
  );
  return c;
}

/** Emits `op(vectors)`: out = op(a) over `vectors` groups of four floats (at least one). */
function unaryCode(op: SimdUnaryOp): Code {
  const c = new Code([I32]);
  const [i, end] = [c.local(I32), c.local(I32)];
  c.get(0).i32(16).mul().set(end);
  c.i32(0).set(i);
  c.loop(i, 16, end, () => {
    c.get(i).get(i).load(A_AT);
    unaryOps[op](c).store(OUT_AT);
  });
  return c;
}

interface ElementwiseModule {
  mem: Float32Array;
  binary: Record<SimdBinaryOp, (vectors: number, aStrided: number, bStrided: number) => void>;
  unary: Record<SimdUnaryOp, (vectors: number) => void>;
}

let module: ElementwiseModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
function ready(): ElementwiseModule | null {
  if (module !== undefined) return module;
  module = null;
  if (typeof WebAssembly === "undefined") return module;
  const binaryNames = Object.keys(binaryOps) as SimdBinaryOp[];
  const unaryNames = Object.keys(unaryOps) as SimdUnaryOp[];
  const bytes = buildModule([...binaryNames.map((op) => ({ name: op, code: binaryCode(op) })), ...unaryNames.map((op) => ({ name: op, code: unaryCode(op) }))]);
  if (!WebAssembly.validate(bytes)) return module;
  const memory = new WebAssembly.Memory({ initial: PAGES });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  module = {
    mem: new Float32Array(memory.buffer), // the memory never grows, so this view stays valid
    binary: Object.fromEntries(binaryNames.map((op) => [op, ex[op]])) as unknown as ElementwiseModule["binary"],
    unary: Object.fromEntries(unaryNames.map((op) => [op, ex[op]])) as unknown as ElementwiseModule["unary"],
  };
  return module;
}

/** Whether `op` has a SIMD loop here. */
export function simdBinary(op: string): op is SimdBinaryOp {
  return op in binaryOps && ready() !== null;
}

/** Whether unary `op` has a SIMD loop here. */
export function simdUnary(op: string): op is SimdUnaryOp {
  return op in unaryOps && ready() !== null;
}

/**
 * o[at + j] = a[ia + j·sa] ∘ b[ib + j·sb] for j < n, with sa and sb each 0 or 1 (an operand
 * broadcast along the run, or not), chunk by chunk through the module's memory.
 */
export function binaryRunF32(op: SimdBinaryOp, o: Float32Array, at: number, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, n: number): void {
  const { mem, binary } = ready()!;
  if (sa === 0) mem[A_AT / 4] = a[ia];
  if (sb === 0) mem[B_AT / 4] = b[ib];
  for (let j = 0; j < n; j += CHUNK) {
    const len = Math.min(CHUNK, n - j);
    if (sa !== 0) mem.set(a.subarray(ia + j, ia + j + len), A_AT / 4);
    if (sb !== 0) mem.set(b.subarray(ib + j, ib + j + len), B_AT / 4);
    binary[op](Math.ceil(len / 4), sa, sb); // lanes past len compute on stale floats, never copied out
    o.set(mem.subarray(OUT_AT / 4, OUT_AT / 4 + len), at + j);
  }
}

/** o[j] = op(a[j]) for j in from…to, chunk by chunk through the module's memory. */
export function unaryRangeF32(op: SimdUnaryOp, o: Float32Array, a: Float32Array, from: number, to: number): void {
  const { mem, unary } = ready()!;
  for (let j = from; j < to; j += CHUNK) {
    const len = Math.min(CHUNK, to - j);
    mem.set(a.subarray(j, j + len), A_AT / 4);
    unary[op](Math.ceil(len / 4));
    o.set(mem.subarray(OUT_AT / 4, OUT_AT / 4 + len), j);
  }
}
