// customVjp: a function recorded as one node whose gradient is given in closed form.
import { beforeAll, describe, expect, it } from "vitest";
import { SamError, setBackend, tensor, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward, customVjp, gradients, grad, noGrad, nodeOf } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const f64 = (v: number[]) => tensor(v, { dtype: "float64" });
const xs = [-1.3, -0.2, 0.4, 1.7];

/** x³ with its gradient 3x²·g written out: one node instead of two multiplications. */
const cube = (x: Tensor) => customVjp("cube", [x], () => x.mul(x).mul(x), (g) => [g.mul(x.mul(x)).mul(3)]);

describe("customVjp", () => {
  it("records one node and uses its gradient", async () => {
    const x = f64(xs).requiresGrad_();
    const y = cube(x);
    expect(nodeOf(y)?.op).toBe("custom");
    expect(nodeOf(y)?.inputs).toEqual([x]);
    backward(y.sum());
    Array.from(await x.grad!.data()).forEach((d, i) => expect(d).toBeCloseTo(3 * xs[i] ** 2, 12));
  });
  it("replaces the gradient of the ops inside (a straight-through estimator)", async () => {
    const x = f64(xs).requiresGrad_();
    const ste = customVjp("ste", [x], () => x.sign(), (g) => [g]); // sign has no gradient; this passes g through
    const [dx] = gradients([ste.mul(f64([1, 2, 3, 4])).sum()], [x]);
    expect(Array.from(await dx.data())).toEqual([1, 2, 3, 4]);
  });
  it("gives higher-order gradients through the tensors forward computed", async () => {
    const second = grad((x: Tensor) => grad((y: Tensor) => cube(y).sum())(x).sum());
    expect(Array.from(await second(f64(xs)).data()).map((v, i) => v - 6 * xs[i]).every((d) => Math.abs(d) < 1e-12)).toBe(true);
  });
  it("routes each input's gradient, skipping inputs without one and nulls", async () => {
    const a = f64([2, 3]).requiresGrad_();
    const b = f64([5, 7]); // no gradient wanted
    const c = f64([1, 1]).requiresGrad_();
    const y = customVjp("mulAdd", [a, b, c], () => a.mul(b).add(c), (g) => [g.mul(b), g.mul(a), null]);
    backward(y.sum());
    expect(Array.from(await a.grad!.data())).toEqual([5, 7]);
    expect(b.grad).toBeNull();
    expect(c.grad).toBeNull(); // the function said none flows to c
  });
  it("records nothing when no input needs a gradient, or under noGrad", () => {
    expect(nodeOf(cube(f64(xs)))).toBeUndefined();
    const x = f64(xs).requiresGrad_();
    expect(noGrad(() => cube(x)).requiresGrad).toBe(false);
  });
  it("refuses a forward that returns an input, and a gradient list of the wrong length", () => {
    const x = f64(xs).requiresGrad_();
    expect(() => customVjp("id", [x], () => x, (g) => [g])).toThrow(SamError);
    expect(() => customVjp("id", [x], () => x, (g) => [g])).toThrow("customVjp: id: forward must return a tensor it computed, not an input or a leaf");
    const y = customVjp("twice", [x], () => x.mul(2), (g) => [g.mul(2), g]);
    expect(() => tidy(() => backward(y.sum()))).toThrow("backward: twice: its gradient function returned 2 gradients for 1 inputs");
  });
});
