// The loops of the elementwise kernels over a range of output elements: what a thread runs for
// its share. They import nothing from @sam/tensor at run time, so a worker loads them by relative
// URL alone (a browser's module workers see no import map).
import type { BinaryOp, CompareOp, TypedArray, UnaryOp } from "@sam/tensor";
import type { SharedArray } from "../threads/shared.js";
import { binaryRunF32, binaryRunsF32, compareRunF32, MAX_BATCHED_RUN, MIN_SIMD_RUN, runsAdjacent, simdBinary, simdCompare, simdUnary, simdWhere, unaryRangeF32, whereRunF32 } from "../wasm/elementwiseF32.js";
import { broadcastRuns } from "./strided.js";

type Fn1 = (x: number) => number;
type Fn2 = (a: number, b: number) => number;

/** The scalar function behind each unary primitive. */
export const unaryFns: Record<UnaryOp, Fn1> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 || x !== x ? x : 0),
};

/** The scalar function behind each binary and comparison primitive. */
export const binaryFns: Record<BinaryOp | CompareOp, Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: Math.max,
  minimum: Math.min,
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};

/** One share of a unary op: output elements from…to. */
export interface UnaryTask {
  op: "unary";
  name: string;
  a: SharedArray;
  out: SharedArray;
  from: number;
  to: number;
}

/** One share of a binary op: output elements from…to. */
export interface BinaryTask {
  op: "binary";
  name: string;
  a: SharedArray;
  b: SharedArray;
  out: SharedArray;
  /** The output's shape and each operand's broadcast strides. */
  shape: number[];
  aStrides: number[];
  bStrides: number[];
  from: number;
  to: number;
}

/** One share of where(cond, a, b): output elements from…to. */
export interface WhereTask {
  op: "where";
  cond: SharedArray;
  a: SharedArray;
  b: SharedArray;
  out: SharedArray;
  /** The output's shape and each operand's broadcast strides. */
  shape: number[];
  strides: [number[], number[], number[]];
  from: number;
  to: number;
}

/** One share of an elementwise op. */
export type ElementwiseTask = UnaryTask | BinaryTask | WhereTask;

type UnaryLoop = (o: TypedArray, a: TypedArray, from: number, to: number) => void;

// The hottest unary ops get a loop each, so the arithmetic compiles inline.
const unaryLoops: Partial<Record<UnaryOp, UnaryLoop>> = {
  neg: (o, a, from, to) => { for (let i = from; i < to; i++) o[i] = -a[i]; },
  relu: (o, a, from, to) => { for (let i = from; i < to; i++) { const v = a[i]; o[i] = v > 0 || v !== v ? v : 0; } },
};
const unaryLoopOf = (op: UnaryOp): UnaryLoop => {
  const f = unaryFns[op];
  return unaryLoops[op] ?? ((o, a, from, to) => { for (let i = from; i < to; i++) o[i] = f(a[i]); });
};
const unaryLoopsByName = Object.fromEntries(Object.keys(unaryFns).map((op) => [op, unaryLoopOf(op as UnaryOp)])) as Record<UnaryOp, UnaryLoop>;

/** Unary op `name` over output elements from…to (a thread's share); float32 in SIMD where it can. */
export function unaryRange(name: string, o: TypedArray, a: TypedArray, from: number, to: number): void {
  if (to - from >= MIN_SIMD_RUN && o instanceof Float32Array && a instanceof Float32Array && simdUnary(name)) return unaryRangeF32(name, o, a, from, to);
  unaryLoopsByName[name as UnaryOp](o, a, from, to);
}

/** One run of a binary op: o[at + j] = a[ia + j·sa] ∘ b[ib + j·sb], with sa and sb each 0 or 1. */
type Run = (o: TypedArray, at: number, a: TypedArray, ia: number, sa: number, b: TypedArray, ib: number, sb: number, n: number) => void;

// The hottest ops get a loop each, so the engine compiles the arithmetic inline instead of calling
// through a shared function value.
const runs: Partial<Record<BinaryOp | CompareOp, Run>> = {
  add: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] + b[ib + j * sb]; },
  sub: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] - b[ib + j * sb]; },
  mul: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] * b[ib + j * sb]; },
  div: (o, at, a, ia, sa, b, ib, sb, n) => { for (let j = 0; j < n; j++) o[at + j] = a[ia + j * sa] / b[ib + j * sb]; },
};

/** The run of a general op, through its scalar function. */
function runOf(f: Fn2): Run {
  return (o, at, a, ia, sa, b, ib, sb, n) => {
    for (let j = 0; j < n; j++) o[at + j] = f(a[ia + j * sa], b[ib + j * sb]);
  };
}

const runsByName = Object.fromEntries(Object.keys(binaryFns).map((op) => [op, runs[op as BinaryOp] ?? runOf(binaryFns[op as BinaryOp])])) as Record<BinaryOp | CompareOp, Run>;

/** The SIMD run of op `name` for these arrays (float32 operands, a float32 or bool output), or null. */
function simdRunOf(name: string, o: TypedArray, a: TypedArray, b: TypedArray): Run | null {
  if (!(a instanceof Float32Array && b instanceof Float32Array)) return null;
  if (o instanceof Float32Array && simdBinary(name)) {
    return (o, at, a, ia, sa, b, ib, sb, n) => binaryRunF32(name, o as Float32Array, at, a as Float32Array, ia, sa, b as Float32Array, ib, sb, n);
  }
  if (o instanceof Uint8Array && simdCompare(name)) {
    return (o, at, a, ia, sa, b, ib, sb, n) => compareRunF32(name, o as Uint8Array, at, a as Float32Array, ia, sa, b as Float32Array, ib, sb, n);
  }
  return null;
}

/**
 * Binary op `name` over output elements from…to of an output of `shape` (a thread's share), run by
 * run; float32 runs long enough in SIMD where the op has a loop there.
 */
export function binaryRange(name: string, o: TypedArray, shape: readonly number[], a: TypedArray, aStrides: readonly number[], b: TypedArray, bStrides: readonly number[], from: number, to: number): void {
  const run = runsByName[name as BinaryOp];
  const simd = simdRunOf(name, o, a, b);
  const { inner, starts, steps } = broadcastRuns(shape, [aStrides, bStrides]);
  const [sa, sb] = starts;
  // short whole runs in float32, many a SIMD call; the share's partial first and last runs below
  const [w0, w1] = [Math.ceil(from / inner), Math.floor(to / inner)];
  if (simd && o instanceof Float32Array && simdBinary(name) && inner <= MAX_BATCHED_RUN && w1 - w0 > 1
    && runsAdjacent(sa, steps[0], inner, w0, w1) && runsAdjacent(sb, steps[1], inner, w0, w1)) {
    binaryRunsF32(name, o, a as Float32Array, sa, steps[0], b as Float32Array, sb, steps[1], inner, w0, w1);
    if (from < w0 * inner) binaryRange(name, o, shape, a, aStrides, b, bStrides, from, w0 * inner);
    if (w1 * inner < to) binaryRange(name, o, shape, a, aStrides, b, bStrides, w1 * inner, to);
    return;
  }
  for (let r = Math.floor(from / inner); r * inner < to; r++) {
    const j0 = Math.max(from - r * inner, 0); // a share may start or end inside a run
    const j1 = Math.min(to - r * inner, inner);
    const ia = (sa ? sa[r] : r) + j0 * steps[0];
    const ib = (sb ? sb[r] : r) + j0 * steps[1];
    (simd && j1 - j0 >= MIN_SIMD_RUN ? simd : run)(o, r * inner + j0, a, ia, steps[0], b, ib, steps[1], j1 - j0);
  }
}

/**
 * where(cond, a, b) over output elements from…to of an output of `shape` (a thread's share), run by
 * run; float32 runs long enough, with a condition that varies along them, in SIMD.
 */
export function whereRange(o: TypedArray, shape: readonly number[], c: TypedArray, a: TypedArray, b: TypedArray,
  strides: readonly (readonly number[])[], from: number, to: number): void {
  const { inner, starts, steps } = broadcastRuns(shape, strides);
  const [sc, sa, sb] = starts;
  const [tc, ta, tb] = steps;
  const simd = tc === 1 && o instanceof Float32Array && c instanceof Uint8Array && a instanceof Float32Array && b instanceof Float32Array && simdWhere();
  for (let r = Math.floor(from / inner); r * inner < to; r++) {
    const j0 = Math.max(from - r * inner, 0);
    const j1 = Math.min(to - r * inner, inner);
    const at = r * inner;
    const ic = (sc ? sc[r] : r) + j0 * tc;
    const ia = (sa ? sa[r] : r) + j0 * ta;
    const ib = (sb ? sb[r] : r) + j0 * tb;
    if (simd && j1 - j0 >= MIN_SIMD_RUN) whereRunF32(o as Float32Array, at + j0, c as Uint8Array, ic, a as Float32Array, ia, ta, b as Float32Array, ib, tb, j1 - j0);
    else for (let j = 0; j < j1 - j0; j++) o[at + j0 + j] = c[ic + j * tc] ? a[ia + j * ta] : b[ib + j * tb];
  }
}
