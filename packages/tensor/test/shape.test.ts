// Shape rules and broadcasting, checked without any backend.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BINARY_OPS, broadcastShapes, broadcastStrides, COMPARE_OPS, floatOnly, normalizeAxes, SamError, shapeRules, stridesOf, UNARY_OPS, windowOutSize,
} from "../src/index.js";

const shape = fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 4 });

describe("broadcasting", () => {
  it("follows NumPy: aligned from the right, 1 stretches", () => {
    expect(broadcastShapes("f", [2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(broadcastShapes("f", [], [3])).toEqual([3]);
    expect(broadcastShapes("f", [0, 1], [1, 5])).toEqual([0, 5]);
    expect(() => broadcastShapes("add", [2], [3])).toThrow("add: shapes [2] and [3] cannot be broadcast together");
  });
  it("is commutative, and a shape broadcast with its own ones-mask is itself", () => {
    fc.assert(fc.property(shape, fc.nat(15), (s, mask) => {
      const t = s.map((d, i) => ((mask >> i) & 1 ? 1 : d));
      expect(broadcastShapes("f", s, t)).toEqual(s);
      expect(broadcastShapes("f", t, s)).toEqual(s);
    }));
  });
  it("gives zero strides along stretched axes", () => {
    expect(broadcastStrides([3, 1], [2, 3, 4])).toEqual([0, 1, 0]);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
  });
});

describe("shape rules", () => {
  const f32 = (s: number[]) => ({ shape: s, dtype: "float32" as const });
  it("matmul broadcasts batch axes and checks the inner dimension", () => {
    expect(shapeRules.matmul([f32([2, 1, 3, 4]), f32([5, 4, 6])], {}).shape).toEqual([2, 5, 3, 6]);
    expect(() => shapeRules.matmul([f32([3, 4]), f32([5, 6])], {})).toThrow("matmul: inner dimensions differ: [3,4] @ [5,6]");
  });
  it("conv2d follows ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1", () => {
    const p = { stride: [2, 1] as [number, number], padding: [1, 0] as [number, number], dilation: [1, 2] as [number, number], groups: 1 };
    expect(shapeRules.conv2d([f32([1, 3, 32, 32]), f32([8, 3, 3, 3])], p).shape).toEqual([1, 8, 16, 28]);
    expect(windowOutSize(32, 3, 1, 1)).toBe(32);
  });
  it("reductions drop or keep axes; comparisons give bool; argmax gives int32", () => {
    expect(shapeRules.sum([f32([2, 3, 4])], { axes: [0, 2], keepDims: true }).shape).toEqual([1, 3, 1]);
    expect(shapeRules.max([f32([2, 3, 4])], { axes: [1], keepDims: false }).shape).toEqual([2, 4]);
    expect(shapeRules.lt([f32([2]), f32([2])], {}).dtype).toBe("bool");
    expect(shapeRules.argmax([f32([2, 3])], { axis: 1, keepDims: false })).toEqual({ shape: [2], dtype: "int32" });
    expect(() => shapeRules.max([f32([0, 3])], { axes: [0], keepDims: false })).toThrow("max: cannot reduce an empty axis of shape [0,3]");
  });
  it("slice and pad agree on sizes", () => {
    expect(shapeRules.slice([f32([10])], { starts: [1], ends: [8], steps: [3] }).shape).toEqual([3]);
    expect(shapeRules.pad([f32([3])], { before: [1], after: [2], interior: [1], value: 0 }).shape).toEqual([8]);
  });
  it("axes are normalised, and repeats or out-of-range axes are refused", () => {
    expect(normalizeAxes("f", [-1, 0], 3)).toEqual([0, 2]);
    expect(() => normalizeAxes("sum", [3], 3)).toThrow(SamError);
  });
});

describe("the elementwise families", () => {
  it("have a shape rule per op that refuses an integer input exactly where the family says the op needs a float", () => {
    const int = { shape: [2], dtype: "int32" as const };
    for (const op of [...UNARY_OPS, ...BINARY_OPS, ...COMPARE_OPS]) {
      const inputs = (UNARY_OPS as string[]).includes(op) ? [int] : [int, int];
      const rule = () => (shapeRules[op] as (i: typeof inputs, p: Record<string, never>) => unknown)(inputs, {});
      if (floatOnly(op)) expect(rule, op).toThrow(`${op}: expected a floating (float32/float64) dtype, got int32`);
      else expect(rule, op).not.toThrow();
    }
    expect(UNARY_OPS.filter(floatOnly)).toEqual(["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid"]);
    expect(BINARY_OPS.filter(floatOnly)).toEqual(["div", "pow", "reluMask"]);
  });
});
