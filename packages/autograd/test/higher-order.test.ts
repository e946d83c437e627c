// Gradients of gradients: known second and third derivatives, and Hessian-vector products of a
// small MLP's and a small CNN's loss against finite differences of their gradients.
import { beforeAll, describe, expect, it } from "vitest";
import { assertClose, assertCloseSync, Generator, randn, setBackend, tensor, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { backward, grad, hvp } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const f64 = (v: number[]) => tensor(v, { dtype: "float64" });
const xs = [-1.3, -0.2, 0.4, 1.7];

const expectClose = (t: Tensor, want: number[], tol = 1e-10) => assertClose(t, want, { rtol: tol, atol: tol });

describe("grad of grad", () => {
  const second = (f: (x: Tensor) => Tensor) => grad((x: Tensor) => grad((y: Tensor) => f(y).sum())(x).sum());
  it("sin'' = −sin", async () => {
    await expectClose(second((x) => x.sin())(f64(xs)), xs.map((x) => -Math.sin(x)));
  });
  it("(x³)'' = 6x and (x⁴)''' = 24x", async () => {
    await expectClose(second((x) => x.pow(3))(f64(xs)), xs.map((x) => 6 * x));
    const third = grad((x: Tensor) => second((y) => y.mul(y).mul(y).mul(y))(x).sum());
    await expectClose(third(f64(xs)), xs.map((x) => 24 * x));
  });
  it("tanh'' = −2 tanh (1 − tanh²), sigmoid'' = σ(1−σ)(1−2σ), (e^{2x})'' = 4e^{2x}", async () => {
    await expectClose(second((x) => x.tanh())(f64(xs)), xs.map((x) => -2 * Math.tanh(x) * (1 - Math.tanh(x) ** 2)));
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    await expectClose(second((x) => x.sigmoid())(f64(xs)), xs.map((x) => s(x) * (1 - s(x)) * (1 - 2 * s(x))));
    await expectClose(second((x) => x.mul(2).exp())(f64(xs)), xs.map((x) => 4 * Math.exp(2 * x)));
  });
  it("(1/x)'' = 2/x³ and (ln x)'' = −1/x²", async () => {
    const pos = [0.3, 1, 2.5];
    await expectClose(second((x) => tensor(1, { dtype: "float64" }).div(x))(f64(pos)), pos.map((x) => 2 / x ** 3), 1e-9);
    await expectClose(second((x) => x.log())(f64(pos)), pos.map((x) => -1 / x ** 2));
  });
  it("at top level gives plain tensors, even for a parameter; createGraph keeps them differentiable", async () => {
    const w = f64([0.5, 2]).requiresGrad_();
    const plain = grad((x: Tensor) => x.pow(3).sum())(w);
    expect(plain.requiresGrad).toBe(false);
    expect(hvp((x) => x.pow(3).sum(), w, f64([1, 1])).requiresGrad).toBe(false);
    const traced = grad((x: Tensor) => x.pow(3).sum(), { createGraph: true })(w); // 3w²
    backward(traced.sum()); // d(Σ3w²)/dw = 6w
    await expectClose(w.grad!, [3, 12]);
  });
  it("backward with createGraph leaves a differentiable .grad", async () => {
    const x = f64([0.5, 2]).requiresGrad_();
    backward(x.pow(3).sum(), { createGraph: true }); // x.grad = 3x²
    const g = x.grad!;
    expect(g.requiresGrad).toBe(true);
    x.grad = null;
    backward(g.sum()); // d(Σ3x²)/dx = 6x
    await expectClose(x.grad!, [3, 12]);
  });
});

/** Flat parameters θ, a loss L(θ), and ∇L by finite differences of H·v compared against hvp. */
async function checkHvp(loss: (theta: Tensor) => Tensor, n: number, seed: number): Promise<void> {
  const g = new Generator(seed);
  const theta = randn([n], { dtype: "float64", generator: g, std: 0.5 });
  const v = randn([n], { dtype: "float64", generator: g });
  const analytic = await tidy(() => hvp(loss, theta, v)).data();
  const h = 1e-5;
  const gradAt = (sign: number) => tidy(() => grad(loss)(theta.add(v.mul(sign * h))));
  const plus = await gradAt(1).data();
  const minus = await gradAt(-1).data();
  expect(Math.max(...Array.from(analytic, Math.abs))).toBeGreaterThan(1e-3);
  assertCloseSync(analytic, Array.from(plus, (p, i) => (p - minus[i]) / (2 * h)), { rtol: 1e-6, atol: 0, relativeTo: "largest", name: "Hessian-vector product against finite differences" });
}

/** Unpacks a flat vector into tensors of the given shapes (through slice and reshape). */
function unpack(theta: Tensor, shapes: number[][]): Tensor[] {
  let at = 0;
  return shapes.map((s) => {
    const n = s.reduce((p, d) => p * d, 1);
    const t = theta.slice([[at, at + n]]).reshape(s);
    at += n;
    return t;
  });
}

describe("Hessian-vector products", () => {
  it("of a small MLP's loss match finite differences of its gradient", async () => {
    const g = new Generator(11);
    const x = randn([8, 4], { dtype: "float64", generator: g });
    const y = randn([8, 3], { dtype: "float64", generator: g });
    const shapes = [[4, 6], [6], [6, 3], [3]];
    const loss = (theta: Tensor) => {
      const [w1, b1, w2, b2] = unpack(theta, shapes);
      const out = x.matmul(w1).add(b1).tanh().matmul(w2).add(b2);
      return out.sub(y).square().mean();
    };
    await checkHvp(loss, 24 + 6 + 18 + 3, 1);
  });
  it("of a small CNN's loss (conv, max-pool, avg-pool, softplus-like head) match finite differences", async () => {
    const g = new Generator(12);
    const x = randn([2, 2, 6, 6], { dtype: "float64", generator: g });
    const shapes = [[3, 2, 3, 3], [1, 3, 1, 1], [3, 3, 3, 3]];
    const loss = (theta: Tensor) => {
      const [w1, b1, w2] = unpack(theta, shapes);
      const h = x.conv2d(w1, { padding: 1 }).add(b1).sigmoid().maxPool2d({ kernel: 2 });
      const z = h.conv2d(w2, { padding: 1, stride: 1 }).tanh().avgPool2d({ kernel: 3 });
      return z.exp().add(1).log().sum();
    };
    await checkHvp(loss, 54 + 3 + 81, 2);
  });
});
