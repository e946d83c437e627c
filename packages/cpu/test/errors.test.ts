// Bad input: a clear error naming the function and what was wrong, and nothing half-done.
import { beforeAll, describe, expect, it } from "vitest";
import { conv2d, gather, memory, ones, reshape, SamError, setBackend, tensor, zeros } from "@sam/tensor";
import { cpu } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

function error(fn: () => unknown): SamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SamError);
    return e as SamError;
  }
  throw new Error("expected an error");
}

describe("shape errors", () => {
  it("matmul names the function and both shapes", () => {
    expect(error(() => zeros([2, 3]).matmul(zeros([4, 5]))).message).toBe("matmul: inner dimensions differ: [2,3] @ [4,5]");
  });
  it("broadcasting names the shapes", () => {
    expect(error(() => zeros([2, 3]).add(zeros([4]))).message).toBe("add: shapes [2,3] and [4] cannot be broadcast together");
  });
  it("reshape, conv2d, concat and slice say what did not fit", () => {
    expect(error(() => reshape(zeros([2, 3]), [4])).message).toMatch(/^reshape: cannot reshape \[2,3\] to \[4\]/);
    expect(error(() => conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3]))).message)
      .toBe("conv2d: weight [4,2,3,3] expects 2 input channels, input [1,3,8,8] has 3");
    expect(error(() => zeros([2, 2]).slice([[0, 2, 0]])).message).toBe("slice: step must be a positive integer, got 0");
  });
});

describe("dtype errors", () => {
  it("refuses mixed dtypes instead of guessing", () => {
    expect(error(() => zeros([2]).add(zeros([2], { dtype: "float64" }))).message)
      .toBe("add: dtypes differ: float32 and float64 (cast one explicitly)");
  });
  it("refuses floating-only ops on integers and gradients on integers", () => {
    expect(error(() => ones([2], { dtype: "int32" }).exp()).message).toBe("exp: expected a floating (float32/float64) dtype, got int32");
    expect(error(() => ones([2], { dtype: "int32" }).requiresGrad_()).message).toMatch(/^requiresGrad_: only floating tensors/);
    expect(error(() => gather(zeros([2, 2]), 0, zeros([2, 2]))).message).toBe("gather: index must be int32, got float32");
  });
  it("refuses an unknown dtype", () => {
    expect(error(() => zeros([2], { dtype: "float16" as never })).message).toBe('full: unknown dtype "float16"');
  });
});

describe("axis errors", () => {
  it("names the axis and the rank", () => {
    expect(error(() => zeros([2, 3]).sum(2)).message).toBe("sum: axis 2 is out of range for a tensor of rank 2");
    expect(error(() => zeros([2, 3]).sum([0, -2])).message).toBe("sum: axes [0,-2] repeat an axis");
    expect(error(() => zeros([2, 3]).permute([0, 0])).message).toMatch(/^permute: \[0,0\] is not a permutation/);
    expect(error(() => zeros([2, 3]).argmax(1.5)).message).toBe("argmax: axis must be an integer, got 1.5");
  });
});

describe("bad values", () => {
  it("an out-of-range index fails and leaks no buffer", () => {
    const x = zeros([2, 3]);
    const idx = tensor([[0], [5]], { dtype: "int32" });
    const before = memory().buffers;
    expect(error(() => gather(x, 1, idx)).message).toBe("gather: index 5 is out of range for an axis of size 3");
    expect(memory().buffers).toBe(before);
  });
  it("ragged data and bad shapes are refused", () => {
    expect(error(() => tensor([[1, 2], [3]])).message).toBe("tensor: ragged data: expected 2 entries at depth 1, got 1");
    expect(error(() => zeros([2, -1])).message).toMatch(/^zeros: shape must be a list of non-negative integers/);
    expect(error(() => tensor(new Float32Array(5), { shape: [2, 2] })).message).toBe("tensor: shape [2,2] needs 4 values, got 5");
  });
  it("using a disposed tensor is an error", () => {
    const x = ones([2]);
    x.dispose();
    expect(error(() => x.add(1)).message).toBe("add: an input tensor was already disposed");
  });
});

describe("the browser entry", () => {
  it("refuses several threads on a page that is not cross-origin isolated, saying what to serve", async () => {
    const browser = await import("../src/browser.js");
    expect(error(() => browser.cpu({ threads: 2 })).message).toMatch(/^cpu: threads: 2 needs a cross-origin isolated page .*Cross-Origin-Opener-Policy: same-origin/);
  });
});
