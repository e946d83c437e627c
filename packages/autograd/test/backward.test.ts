// What backward() does beyond single rules: accumulation, broadcasting, noGrad, detach, and errors.
import { beforeAll, describe, expect, it } from "vitest";
import { ones, SamError, setBackend, tensor, tidy } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward, gradients, isGradEnabled, noGrad, vjp } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

describe("backward", () => {
  it("accumulates when a tensor is used twice", async () => {
    const x = tensor([1, 2, 3]).requiresGrad_();
    backward(x.mul(x).add(x).sum()); // d(x² + x) = 2x + 1
    expect(Array.from(await x.grad!.data())).toEqual([3, 5, 7]);
  });
  it("adds into .grad across calls, as PyTorch does", async () => {
    const x = tensor([1, 2]).requiresGrad_();
    backward(x.sum());
    backward(x.mul(3).sum());
    expect(Array.from(await x.grad!.data())).toEqual([4, 4]);
  });
  it("reduces a broadcast input's gradient back to its shape", async () => {
    const x = ones([4, 3]);
    const b = tensor([[1], [2], [3], [4]]).requiresGrad_();
    const c = tensor(2).requiresGrad_();
    backward(x.mul(b).mul(c).sum());
    expect(b.grad!.shape).toEqual([4, 1]);
    expect(Array.from(await b.grad!.data())).toEqual([6, 6, 6, 6]);
    expect(await c.grad!.item()).toBe(30);
  });
  it("takes the gradient of a non-scalar output when one is given", async () => {
    const x = tensor([1, 2]).requiresGrad_();
    backward(x.mul(x), { gradient: tensor([1, 10]) });
    expect(Array.from(await x.grad!.data())).toEqual([2, 40]);
  });
  it("gradients() leaves .grad alone and answers for intermediates", async () => {
    const x = tensor([3]).requiresGrad_();
    const h = x.mul(2);
    const [dh, dx] = gradients([h.square()], [h, x]);
    expect(await dh.item()).toBe(12);
    expect(await dx.item()).toBe(24);
    expect(x.grad).toBeNull();
  });
  it("vjp pulls a cotangent back to every input", async () => {
    const { value, vjp: pull } = vjp((a, b) => a.mul(b), tensor([1, 2]), tensor([3, 4]));
    const [da, db] = pull(tensor([1, -1]));
    expect(Array.from(await value.data())).toEqual([3, 8]);
    expect(Array.from(await da.data())).toEqual([3, -4]);
    expect(Array.from(await db.data())).toEqual([1, -2]);
  });
});

describe("noGrad and detach", () => {
  it("noGrad records nothing and restores the mode, even on error", () => {
    const x = tensor([1]).requiresGrad_();
    expect(noGrad(() => x.mul(2)).requiresGrad).toBe(false);
    expect(() => noGrad(() => { throw new Error("x"); })).toThrow("x");
    expect(isGradEnabled()).toBe(true);
  });
  it("detach cuts the tape", async () => {
    const x = tensor([2]).requiresGrad_();
    backward(x.mul(x.detach()).sum()); // only the first factor carries a gradient
    expect(await x.grad!.item()).toBe(2);
  });
});

describe("errors", () => {
  it("refuses a tensor that requires no gradient, and a non-scalar without a gradient", () => {
    expect(() => backward(tensor([1]))).toThrow(SamError);
    expect(() => backward(tensor([1, 2]).requiresGrad_().mul(2))).toThrow(/backward: needs a scalar/);
  });
  it("says so when an input was freed before backward", () => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = tidy(() => x.exp().sum()); // exp's output is freed when the scope ends
    expect(() => backward(y)).toThrow(/backward: an input of .* was disposed before backward/);
  });
});
