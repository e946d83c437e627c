// Shapes: sizes, strides, NumPy broadcasting and axis normalisation.
import { check, fmt } from "./errors.js";

/** A tensor's shape: one non-negative integer per dimension. */
export type Shape = readonly number[];

/**
 * The number of elements in a shape (1 for a scalar).
 * @example
 * sizeOf([2, 3]); // 6
 */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Row-major strides of a contiguous shape, in elements.
 * @example
 * stridesOf([2, 3, 4]); // [12, 4, 1]
 */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * The NumPy broadcast of several shapes; throws naming `fn` when they are incompatible.
 * @example
 * broadcastShapes("add", [2, 1, 3], [4, 1]); // [2, 4, 3]
 */
export function broadcastShapes(fn: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (d === out[o] || d === 1) continue;
      check(out[o] === 1, fn, () => `shapes ${shapes.map(fmt).join(" and ")} cannot be broadcast together`);
      out[o] = d;
    }
  }
  return out;
}

/**
 * Strides for reading `shape` as if broadcast to `target`: 0 along broadcast dimensions.
 * @example
 * broadcastStrides([3, 1], [2, 3, 4]); // [0, 1, 0]
 */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const own = stridesOf(shape);
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = target.length - shape.length + i;
    out[o] = shape[i] === 1 && target[o] !== 1 ? 0 : own[i];
  }
  return out;
}

/**
 * Resolves a possibly negative axis against `rank`; throws naming `fn` when out of range.
 * @example
 * normalizeAxis("sum", -1, 3); // 2
 */
export function normalizeAxis(fn: string, axis: number, rank: number): number {
  check(Number.isInteger(axis), fn, () => `axis must be an integer, got ${axis}`);
  const a = axis < 0 ? axis + rank : axis;
  check(a >= 0 && a < rank, fn, () => `axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

/**
 * Resolves a list of axes (all axes when undefined), sorted and without repeats.
 * @example
 * normalizeAxes("sum", [-1, 0], 3); // [0, 2]
 */
export function normalizeAxes(fn: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(fn, a, rank));
  check(new Set(out).size === out.length, fn, () => `axes ${fmt(list)} repeat an axis`);
  return out.sort((a, b) => a - b);
}

/**
 * Throws naming `fn` unless `shape` is a list of non-negative integers.
 * @example
 * checkShape("zeros", [2, 3]);
 */
export function checkShape(fn: string, shape: unknown): asserts shape is Shape {
  check(
    Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0),
    fn,
    () => `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
  );
}

/** Whether two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
