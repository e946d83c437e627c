// A seeded random generator (xoshiro128**) and the random creation functions built on it.
// Integer arithmetic only, so a seed gives the same numbers on every machine and every run.
import { check } from "./errors.js";
import { checkShape, sizeOf } from "./shape.js";
import { finish, fromValues, type CreateOptions } from "./creation.js";
import { isFloating } from "./dtype.js";
import type { Tensor } from "./tensor.js";

/**
 * A seedable stream of random numbers. Its state can be saved and restored exactly.
 * @example
 * const g = new Generator(42);
 * g.nextFloat64(); // the same value on every machine
 */
export class Generator {
  private s = new Uint32Array(4);

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Restarts the stream from `seed` (an integer; splitmix32 spreads it over the state). */
  seed(seed: number): void {
    check(Number.isInteger(seed), "Generator.seed", () => `seed must be an integer, got ${seed}`);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform number in [0, 1) with 53 random bits. */
  nextFloat64(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform number in [0, 1) with 24 random bits, exact in float32. */
  nextFloat32(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** The state, to save in a checkpoint. */
  getState(): number[] {
    return Array.from(this.s);
  }

  /** Restores a state from {@link Generator.getState}. */
  setState(state: readonly number[]): void {
    check(state.length === 4 && state.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32), "Generator.setState",
      () => `state must be four unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    this.s.set(state);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator used when none is passed. */
export const defaultGenerator = new Generator(0);

/**
 * Reseeds the default generator, making every later random call reproducible.
 * @example
 * manualSeed(0);
 * const a = randn([2]);
 */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(seed);
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions {
  /** The stream to draw from; the default generator when omitted. */
  generator?: Generator;
}

function floatDType(fn: string, opts?: RandomOptions) {
  const dtype = opts?.dtype ?? "float32";
  check(isFloating(dtype), fn, () => `dtype must be float32 or float64, got ${dtype}`);
  return dtype;
}

/**
 * Uniform samples in [low, high) (default [0, 1)).
 * @example
 * rand([2, 3], { generator: new Generator(1) });
 */
export function rand(shape: number[], opts?: RandomOptions & { low?: number; high?: number }): Tensor {
  checkShape("rand", shape);
  const dtype = floatDType("rand", opts);
  const g = opts?.generator ?? defaultGenerator;
  const low = opts?.low ?? 0;
  const span = (opts?.high ?? 1) - low;
  const values = new Float64Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = low + span * (dtype === "float32" ? g.nextFloat32() : g.nextFloat64());
  return finish(fromValues(values, shape, dtype, opts?.backend), opts);
}

/**
 * Normal samples with the given mean and standard deviation (default 0 and 1), by Box–Muller.
 * @example
 * randn([128, 10], { std: 0.01 });
 */
export function randn(shape: number[], opts?: RandomOptions & { mean?: number; std?: number }): Tensor {
  checkShape("randn", shape);
  const dtype = floatDType("randn", opts);
  const g = opts?.generator ?? defaultGenerator;
  const mean = opts?.mean ?? 0;
  const std = opts?.std ?? 1;
  const values = new Float64Array(sizeOf(shape));
  for (let i = 0; i < values.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - g.nextFloat64()));
    const theta = 2 * Math.PI * g.nextFloat64();
    values[i] = mean + std * r * Math.cos(theta);
    if (i + 1 < values.length) values[i + 1] = mean + std * r * Math.sin(theta);
  }
  return finish(fromValues(values, shape, dtype, opts?.backend), opts);
}

/**
 * Uniform integers in [low, high), int32 by default.
 * @example
 * randint(0, 10, [4]); // e.g. [3,9,0,4]
 */
export function randint(low: number, high: number, shape: number[], opts?: RandomOptions): Tensor {
  checkShape("randint", shape);
  check(Number.isInteger(low) && Number.isInteger(high) && low < high, "randint", () => `needs integers low < high, got ${low} and ${high}`);
  const g = opts?.generator ?? defaultGenerator;
  const values = new Float64Array(sizeOf(shape));
  for (let i = 0; i < values.length; i++) values[i] = low + Math.floor(g.nextFloat64() * (high - low));
  return fromValues(values, shape, opts?.dtype ?? "int32", opts?.backend);
}
