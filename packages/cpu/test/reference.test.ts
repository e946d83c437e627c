// The two layers of the CPU backend: the reference table alone is a complete backend, and the fast
// layer over it changes no bit in float64 (where every fast entry falls back to, or shares out, the
// reference loops), on one thread or two.
import { beforeAll, describe, expect, it } from "vitest";
import {
  channelAffine, channelDots, channelMoments, conv2d, conv2dBackwardInput, conv2dBackwardWeight, fromValues, Generator, randn, setBackend,
  type Backend, type Tensor,
} from "@sam/tensor";
import { cpu } from "../src/index.js";

/** Random float64 operands made on `backend`, the same values for every backend; x is large enough to be shared between threads. */
function operands(backend: Backend): Tensor[] {
  const g = new Generator(9);
  const values = (shape: number[]) => fromValues(Array.from(randn(shape, { generator: g, dtype: "float64" }).dataSync()), shape, "float64", backend);
  return [values([4, 8, 96, 96]), values([8, 8, 3, 3]), values([4, 8, 48, 48]), values([64, 96]), values([96, 80]), values([8]), values([8])];
}

function results(backend: Backend): number[][] {
  const [x, w, dy, a, b, s, t] = operands(backend);
  const strided = { stride: 2, padding: 1 };
  const y = conv2d(x, w, strided);
  return [
    y, conv2dBackwardInput(dy, w, x.shape, strided), conv2dBackwardWeight(x, dy, w.shape, strided), a.matmul(b),
    channelMoments(x), channelDots(x.exp(), x), channelAffine(x, s, t, { addend: x.sin(), relu: true }),
    x.mul(s.reshape([1, 8, 1, 1])).sub(x.sum([0, 2, 3], true)).div(x.abs().add(1)), x.max([1, 3]), x.gt(0).cast("float64"),
    x.pad([[0, 0], [2, 3]], -1), x.pad([[1, 0], [0, 0], [0, 2]]), x.pad([[0, 0], [0, 0], [0, 0], [1, 1]]), // blocks of 9,216 and 96; by element
  ].map((r) => Array.from(r.dataSync()));
}

beforeAll(() => setBackend(cpu({ kernels: "reference" }))); // makes the operands' values; touches no thread pool

describe("the reference kernels and the fast layer", () => {
  it("agree bit for bit in float64, on one thread and on two", () => {
    const reference = results(cpu({ kernels: "reference" }));
    expect(results(cpu({ threads: 1 }))).toEqual(reference);
    expect(results(cpu({ threads: 2 }))).toEqual(reference);
  });

  it("refuses an unknown kernel set by name", () => {
    expect(() => cpu({ kernels: "turbo" as "fast" })).toThrow('cpu: kernels must be "fast" or "reference", got "turbo"');
  });
});
