// Float32 elementwise ops in WebAssembly SIMD: arithmetic, comparisons (to bool) and where. A
// JavaScript loop over typed arrays costs 2–3 ns an element here (one scalar operation,
// conversions and bounds checks each time); the module does four lanes an instruction, so most of
// the time left is copying each chunk of the operands into its memory and the result out, with
// TypedArray.set (a memcpy). The results are those of the JavaScript loops: a float32 +, −, ×, ÷
// or √ computed in float64 and rounded once is the correctly rounded float32 one, comparisons of
// float32 values are the same in either width, and where copies bits.
import { buildModule, Code, I32, V128 } from "./builder.js";

const CHUNK = 16384; // floats of each operand per call: the three chunks (192 KiB) stay in L2
const A_AT = 0;
const B_AT = CHUNK * 4;
const OUT_AT = 2 * CHUNK * 4; // floats, or the bytes of a comparison
const COND_AT = 3 * CHUNK * 4; // where's condition, a byte an element
const PAGES = Math.ceil((3 * CHUNK * 4 + CHUNK) / 65536);

/** Runs shorter than this stay in JavaScript: copying in and out costs more than it saves. */
export const MIN_SIMD_RUN = 256;

/** Binary ops with a SIMD loop. */
export type SimdBinaryOp = "add" | "sub" | "mul" | "div" | "reluMask";
/** Unary ops with a SIMD loop. */
export type SimdUnaryOp = "neg" | "abs" | "sqrt" | "relu";
/** Comparisons with a SIMD loop. */
export type SimdCompareOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge";

const binaryOps: Record<SimdBinaryOp, (c: Code) => Code> = {
  add: (c) => c.f32x4Add(),
  sub: (c) => c.f32x4Sub(),
  mul: (c) => c.f32x4Mul(),
  div: (c) => c.f32x4Div(),
  reluMask: (c) => c.zero().f32x4Gt().and128(), // a's bits where b > 0 (all ones), zeros elsewhere: where(b > 0, a, 0) exactly
};

const compareOps: Record<SimdCompareOp, (c: Code) => Code> = {
  eq: (c) => c.f32x4Eq(),
  ne: (c) => c.f32x4Ne(),
  lt: (c) => c.f32x4Lt(),
  le: (c) => c.f32x4Le(),
  gt: (c) => c.f32x4Gt(),
  ge: (c) => c.f32x4Ge(),
};

// relu keeps NaN (as the JavaScript loop does) and maps −0 to +0: f32x4.max(x, 0) does both
const unaryOps: Record<SimdUnaryOp, (c: Code) => Code> = {
  neg: (c) => c.f32x4Neg(),
  abs: (c) => c.f32x4Abs(),
  sqrt: (c) => c.f32x4Sqrt(),
  relu: (c) => c.zero().f32x4Max(),
};

/** Pushes four floats of operand 0 (A) or 1 (B): from its chunk at the byte offset in local `at`, plus `offset`, or its broadcast float. */
type Operand = (operand: 0 | 1, at: number, offset: number) => void;

/**
 * Emits one loop per combination of the two operands being loaded (strided) or broadcast — the
 * one float at the start of its chunk, for a run along which it does not change — with `loop`
 * emitting the loop given how to push an operand.
 */
function broadcastLoops(c: Code, aStrided: number, bStrided: number, loop: (operand: Operand) => void): void {
  const scalars = [c.local(V128), c.local(V128)];
  c.i32(0).loadF32(A_AT).f32x4Splat().set(scalars[0]);
  c.i32(0).loadF32(B_AT).f32x4Splat().set(scalars[1]);
  const emit = (loadA: boolean, loadB: boolean) => loop((operand, at, offset) => {
    if (operand === 0 ? loadA : loadB) c.get(at).load((operand === 0 ? A_AT : B_AT) + offset);
    else c.get(scalars[operand]);
  });
  c.get(aStrided).ifElse(
    () => c.get(bStrided).ifElse(() => emit(true, true), () => emit(true, false)),
    () => c.get(bStrided).ifElse(() => emit(false, true), () => emit(false, false)),
  );
}

/**
 * Emits `op(vectors, aStrided, bStrided)`: out = a ∘ b over `vectors` groups of four floats (at
 * least one), from the chunks at A_AT, B_AT (each strided or broadcast) to OUT_AT.
 */
function binaryCode(op: SimdBinaryOp): Code {
  const c = new Code([I32, I32, I32]);
  const [VECTORS, A_STRIDED, B_STRIDED] = [0, 1, 2];
  const [i, end] = [c.local(I32), c.local(I32)];
  c.get(VECTORS).i32(16).mul().set(end);
  broadcastLoops(c, A_STRIDED, B_STRIDED, (operand) => {
    c.i32(0).set(i);
    c.loop(i, 16, end, () => {
      c.get(i);
      operand(0, i, 0);
      operand(1, i, 0);
      binaryOps[op](c).store(OUT_AT);
    });
  });
  return c;
}

/**
 * Emits `op(groups, aStrided, bStrided)`: byte e from OUT_AT = a[e] op b[e] as 0 or 1, over
 * `groups` groups of sixteen floats (at least one); operands as in {@link binaryCode}.
 */
function compareCode(op: SimdCompareOp): Code {
  const c = new Code([I32, I32, I32]);
  const [GROUPS, A_STRIDED, B_STRIDED] = [0, 1, 2];
  const [g, at] = [c.local(I32), c.local(I32)];
  broadcastLoops(c, A_STRIDED, B_STRIDED, (operand) => {
    c.i32(0).set(g);
    c.loop(g, 1, GROUPS, () => {
      c.get(g).i32(64).mul().set(at);
      c.get(g).i32(16).mul(); // where the sixteen bytes go
      for (let q = 0; q < 4; q++) {
        operand(0, at, 16 * q);
        operand(1, at, 16 * q);
        compareOps[op](c); // four lanes of all ones or zeros
        if (q % 2 === 1) c.i16x8Narrow(); // eight lanes of −1 or 0
      }
      c.i8x16Narrow().bytesConst(new Array(16).fill(1)).and128().store(OUT_AT);
    });
  });
  return c;
}

/**
 * Emits `where(groups, aStrided, bStrided)`: out[e] = cond[e] ≠ 0 ? a[e] : b[e] over `groups`
 * groups of eight floats (at least one), the condition a byte an element at COND_AT; operands as
 * in {@link binaryCode}.
 */
function whereCode(): Code {
  const c = new Code([I32, I32, I32]);
  const [GROUPS, A_STRIDED, B_STRIDED] = [0, 1, 2];
  const [g, at] = [c.local(I32), c.local(I32)];
  const cond = c.local(V128);
  broadcastLoops(c, A_STRIDED, B_STRIDED, (operand) => {
    c.i32(0).set(g);
    c.loop(g, 1, GROUPS, () => {
      c.get(g).i32(8).mul().load8x8(COND_AT).set(cond);
      c.get(g).i32(32).mul().set(at);
      for (let half = 0; half < 2; half++) {
        c.get(at);
        operand(0, at, 16 * half);
        operand(1, at, 16 * half);
        c.get(cond);
        if (half === 0) c.i32x4ExtendLow();
        else c.i32x4ExtendHigh();
        c.zero().i32x4Ne().bitselect().store(OUT_AT + 16 * half);
      }
    });
  });
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
  bytes: Uint8Array;
  binary: Record<SimdBinaryOp, (vectors: number, aStrided: number, bStrided: number) => void>;
  compare: Record<SimdCompareOp, (groups: number, aStrided: number, bStrided: number) => void>;
  where: (groups: number, aStrided: number, bStrided: number) => void;
  unary: Record<SimdUnaryOp, (vectors: number) => void>;
}

let module: ElementwiseModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
function ready(): ElementwiseModule | null {
  if (module !== undefined) return module;
  module = null;
  if (typeof WebAssembly === "undefined") return module;
  const names = <K extends string>(r: Record<K, unknown>) => Object.keys(r) as K[];
  const bytes = buildModule([
    ...names(binaryOps).map((op) => ({ name: op, code: binaryCode(op) })),
    ...names(compareOps).map((op) => ({ name: op, code: compareCode(op) })),
    ...names(unaryOps).map((op) => ({ name: op, code: unaryCode(op) })),
    { name: "where", code: whereCode() },
  ]);
  if (!WebAssembly.validate(bytes)) return module;
  const memory = new WebAssembly.Memory({ initial: PAGES });
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  const pick = <K extends string, F>(keys: K[]) => Object.fromEntries(keys.map((op) => [op, ex[op]])) as unknown as Record<K, F>;
  module = {
    mem: new Float32Array(memory.buffer), // the memory never grows, so these views stay valid
    bytes: new Uint8Array(memory.buffer),
    binary: pick(names(binaryOps)),
    compare: pick(names(compareOps)),
    where: ex.where as ElementwiseModule["where"],
    unary: pick(names(unaryOps)),
  };
  return module;
}

/** Whether binary `op` has a SIMD loop here. */
export function simdBinary(op: string): op is SimdBinaryOp {
  return op in binaryOps && ready() !== null;
}

/** Whether comparison `op` has a SIMD loop here. */
export function simdCompare(op: string): op is SimdCompareOp {
  return op in compareOps && ready() !== null;
}

/** Whether unary `op` has a SIMD loop here. */
export function simdUnary(op: string): op is SimdUnaryOp {
  return op in unaryOps && ready() !== null;
}

/** Whether where has a SIMD loop here. */
export function simdWhere(): boolean {
  return ready() !== null;
}

/**
 * Copies the operands' chunk j…j+len in (an operand with stride 0 is the one float written at the
 * start of its chunk before the first chunk), for a run starting at ia and ib.
 */
function copyIn(m: ElementwiseModule, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, j: number, len: number): void {
  if (sa !== 0) m.mem.set(a.subarray(ia + j, ia + j + len), A_AT / 4);
  if (sb !== 0) m.mem.set(b.subarray(ib + j, ib + j + len), B_AT / 4);
}

/** Writes the broadcast floats of operands with stride 0. */
function broadcastIn(m: ElementwiseModule, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number): void {
  if (sa === 0) m.mem[A_AT / 4] = a[ia];
  if (sb === 0) m.mem[B_AT / 4] = b[ib];
}

/**
 * o[at + j] = a[ia + j·sa] ∘ b[ib + j·sb] for j < n, with sa and sb each 0 or 1 (an operand
 * broadcast along the run, or not), chunk by chunk through the module's memory.
 */
export function binaryRunF32(op: SimdBinaryOp, o: Float32Array, at: number, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, n: number): void {
  const m = ready()!;
  broadcastIn(m, a, ia, sa, b, ib, sb);
  for (let j = 0; j < n; j += CHUNK) {
    const len = Math.min(CHUNK, n - j);
    copyIn(m, a, ia, sa, b, ib, sb, j, len);
    m.binary[op](Math.ceil(len / 4), sa, sb); // lanes past len compute on stale floats, never copied out
    o.set(m.mem.subarray(OUT_AT / 4, OUT_AT / 4 + len), at + j);
  }
}

/** Start of run r of an operand: its table's entry, or r itself where there is none. */
const runStart = (starts: Int32Array | null, r: number) => (starts ? starts[r] : r);

/** Copies runs q…q+k of an operand into its chunk from `at`: adjacent runs in one piece, a broadcast float filled run by run. */
function stageRuns(mem: Float32Array, at: number, x: Float32Array, starts: Int32Array | null, step: number, q: number, k: number, inner: number): void {
  if (step !== 0) {
    const from = runStart(starts, q);
    mem.set(x.subarray(from, from + k * inner), at);
  } else {
    for (let r = 0; r < k; r++) mem.fill(x[runStart(starts, q + r)], at + r * inner, at + (r + 1) * inner);
  }
}

/**
 * Whole runs r0…r1 of `inner` elements each, many a call (runs of a few hundred elements, one a
 * call, cost more in calls than in arithmetic): output run r is o[r·inner…], operand runs start
 * at their `starts` (see broadcastRuns). An operand that advances along its runs (step 1) must
 * have them adjacent, start(r + 1) = start(r) + inner ({@link runsAdjacent}); one that does not
 * (step 0) is written out run by run.
 */
export function binaryRunsF32(op: SimdBinaryOp, o: Float32Array, a: Float32Array, aStarts: Int32Array | null, sa: number,
  b: Float32Array, bStarts: Int32Array | null, sb: number, inner: number, r0: number, r1: number): void {
  const m = ready()!;
  const per = Math.floor(CHUNK / inner);
  for (let q = r0; q < r1; q += per) {
    const k = Math.min(per, r1 - q);
    stageRuns(m.mem, A_AT / 4, a, aStarts, sa, q, k, inner);
    stageRuns(m.mem, B_AT / 4, b, bStarts, sb, q, k, inner);
    m.binary[op](Math.ceil((k * inner) / 4), 1, 1);
    o.set(m.mem.subarray(OUT_AT / 4, OUT_AT / 4 + k * inner), q * inner);
  }
}

/** Whether runs r0…r1 of an operand that advances along them follow one another in memory (always, for one that does not). */
export function runsAdjacent(starts: Int32Array | null, step: number, inner: number, r0: number, r1: number): boolean {
  if (step === 0) return true;
  for (let r = r0 + 1; r < r1; r++) if (runStart(starts, r) !== runStart(starts, r - 1) + inner) return false;
  return true;
}

/** Runs at most this long are taken many a call by {@link binaryRunsF32}. */
export const MAX_BATCHED_RUN = CHUNK / 4;

/** o[at + j] = a[ia + j·sa] op b[ib + j·sb] as 0 or 1, for j < n; as {@link binaryRunF32}. */
export function compareRunF32(op: SimdCompareOp, o: Uint8Array, at: number, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, n: number): void {
  const m = ready()!;
  broadcastIn(m, a, ia, sa, b, ib, sb);
  for (let j = 0; j < n; j += CHUNK) {
    const len = Math.min(CHUNK, n - j);
    copyIn(m, a, ia, sa, b, ib, sb, j, len);
    m.compare[op](Math.ceil(len / 16), sa, sb);
    o.set(m.bytes.subarray(OUT_AT, OUT_AT + len), at + j);
  }
}

/** o[at + j] = c[ic + j] ? a[ia + j·sa] : b[ib + j·sb], for j < n; as {@link binaryRunF32}. */
export function whereRunF32(o: Float32Array, at: number, c: Uint8Array, ic: number, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, n: number): void {
  const m = ready()!;
  broadcastIn(m, a, ia, sa, b, ib, sb);
  for (let j = 0; j < n; j += CHUNK) {
    const len = Math.min(CHUNK, n - j);
    copyIn(m, a, ia, sa, b, ib, sb, j, len);
    m.bytes.set(c.subarray(ic + j, ic + j + len), COND_AT);
    m.where(Math.ceil(len / 8), sa, sb);
    o.set(m.mem.subarray(OUT_AT / 4, OUT_AT / 4 + len), at + j);
  }
}

/** o[j] = op(a[j]) for j in from…to, chunk by chunk through the module's memory. */
export function unaryRangeF32(op: SimdUnaryOp, o: Float32Array, a: Float32Array, from: number, to: number): void {
  const m = ready()!;
  for (let j = from; j < to; j += CHUNK) {
    const len = Math.min(CHUNK, to - j);
    m.mem.set(a.subarray(j, j + len), A_AT / 4);
    m.unary[op](Math.ceil(len / 4));
    o.set(m.mem.subarray(OUT_AT / 4, OUT_AT / 4 + len), j);
  }
}
