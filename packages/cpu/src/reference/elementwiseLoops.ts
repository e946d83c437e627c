// The elementwise ops by definition: each primitive's scalar function, and the loops that apply
// them over a range of output elements, run by run (a run: where every operand advances by 0 or 1).
// They import nothing from @sam/tensor at run time, so a worker loads them by relative URL alone
// (a browser's module workers see no import map).
import type { BinaryOp, CompareOp, TypedArray, UnaryOp } from "@sam/tensor";
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
  reluMask: (a, b) => (b > 0 ? a : 0),
  eq: (a, b) => +(a === b),
  ne: (a, b) => +(a !== b),
  lt: (a, b) => +(a < b),
  le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b),
  ge: (a, b) => +(a >= b),
};

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

/** Unary op `name` over output elements from…to. */
export function unaryLoop(name: string, o: TypedArray, a: TypedArray, from: number, to: number): void {
  unaryLoopsByName[name as UnaryOp](o, a, from, to);
}

/** One run of a binary op: o[at + j] = a[ia + j·sa] ∘ b[ib + j·sb], with sa and sb each 0 or 1. */
export type Run = (o: TypedArray, at: number, a: TypedArray, ia: number, sa: number, b: TypedArray, ib: number, sb: number, n: number) => void;

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

/** The run of binary or comparison op `name`. */
export function binaryRun(name: string): Run {
  return runsByName[name as BinaryOp];
}

/** Binary op `name` over output elements from…to of an output of `shape`, run by run. */
export function binaryLoop(name: string, o: TypedArray, shape: readonly number[], a: TypedArray, aStrides: readonly number[], b: TypedArray, bStrides: readonly number[], from: number, to: number): void {
  const run = binaryRun(name);
  const { inner, starts, steps } = broadcastRuns(shape, [aStrides, bStrides]);
  const [sa, sb] = starts;
  for (let r = Math.floor(from / inner); r * inner < to; r++) {
    const j0 = Math.max(from - r * inner, 0); // a range may start or end inside a run
    const j1 = Math.min(to - r * inner, inner);
    run(o, r * inner + j0, a, (sa ? sa[r] : r) + j0 * steps[0], steps[0], b, (sb ? sb[r] : r) + j0 * steps[1], steps[1], j1 - j0);
  }
}

/** where(cond, a, b) over output elements from…to of an output of `shape`, run by run. */
export function whereLoop(o: TypedArray, shape: readonly number[], c: TypedArray, a: TypedArray, b: TypedArray,
  strides: readonly (readonly number[])[], from: number, to: number): void {
  const { inner, starts, steps } = broadcastRuns(shape, strides);
  const [sc, sa, sb] = starts;
  const [tc, ta, tb] = steps;
  for (let r = Math.floor(from / inner); r * inner < to; r++) {
    const j0 = Math.max(from - r * inner, 0);
    const j1 = Math.min(to - r * inner, inner);
    const at = r * inner + j0;
    const [ic, ia, ib] = [(sc ? sc[r] : r) + j0 * tc, (sa ? sa[r] : r) + j0 * ta, (sb ? sb[r] : r) + j0 * tb];
    for (let j = 0; j < j1 - j0; j++) o[at + j] = c[ic + j * tc] ? a[ia + j * ta] : b[ib + j * tb];
  }
}
