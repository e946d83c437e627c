// Batch normalisation in training: its closed-form gradient against differentiating the composed
// ops, to first and second order, with and without the affine parameters.
import { beforeAll, describe, expect, it } from "vitest";
import { assertClose, Generator, randn, setBackend, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { gradients, nodeOf } from "@sam/autograd";
import { batchNorm, batchNormTraining } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const f64 = { dtype: "float64" as const };
const EPS = 1e-5;

/** The same function from primitives, differentiated op by op. */
function composed(x: Tensor, w: Tensor | null, b: Tensor | null): Tensor {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  return batchNorm(x, x.mean(axes), x.variance(axes, false, 0), w, b, EPS);
}

/** A loss that weights every output differently, so no gradient cancels by symmetry. */
function loss(y: Tensor, weights: Tensor): Tensor {
  return y.mul(weights).add(y.mul(y).mul(0.3)).sum();
}

async function expectClose(got: Tensor[], want: Tensor[], tol = 1e-9): Promise<void> {
  for (let k = 0; k < want.length; k++) await assertClose(got[k], want[k], { rtol: tol, atol: tol, relativeTo: "largest", name: `tensor ${k}` });
}

describe.each([
  ["affine, rank 4", [3, 4, 5, 2], true],
  ["no affine, rank 2", [6, 3], false],
  ["affine, rank 3", [2, 3, 7], true],
] as const)("batchNormTraining (%s)", (_name, shape, affine) => {
  const make = () => {
    const g = new Generator(11);
    const x = randn([...shape], { generator: g, ...f64 }).mul(2).add(0.5).requiresGrad_();
    const c = shape[1];
    const w = affine ? randn([c], { generator: g, ...f64 }).requiresGrad_() : null;
    const b = affine ? randn([c], { generator: g, ...f64 }).requiresGrad_() : null;
    const weights = randn([...shape], { generator: g, ...f64 });
    return { x, w, b, weights, inputs: [x, w, b].filter((t): t is Tensor => t !== null) };
  };

  it("computes the same output and statistics as the composed ops, as one node", async () => {
    const { x, w, b } = make();
    const { y, mean, variance } = batchNormTraining(x, w, b, EPS);
    expect(nodeOf(y)?.op).toBe("custom");
    const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
    await expectClose([y, mean, variance], [composed(x, w, b), x.mean(axes), x.variance(axes, false, 0)], 1e-12);
  });

  it("has the composed ops' gradients", async () => {
    const { x, w, b, weights, inputs } = make();
    const got = gradients([loss(batchNormTraining(x, w, b, EPS).y, weights)], inputs);
    const want = gradients([loss(composed(x, w, b), weights)], inputs);
    await expectClose(got, want);
  });

  it("has the composed ops' second derivatives (gradient of the gradient's norm)", async () => {
    const { x, w, b, weights, inputs } = make();
    const curvature = (f: (x: Tensor, w: Tensor | null, b: Tensor | null) => Tensor) => {
      const first = gradients([loss(f(x, w, b), weights)], inputs, { createGraph: true });
      return gradients([first.reduce((s, d) => s.add(d.mul(d).sum()), first[0].mul(0).sum())], inputs);
    };
    await expectClose(curvature((x, w, b) => batchNormTraining(x, w, b, EPS).y), curvature(composed), 1e-8);
  });
});

describe("batchNormTraining with an input that needs no gradient", () => {
  it("gives the parameters theirs and skips the input's", async () => {
    const g = new Generator(5);
    const x = randn([4, 2, 3, 3], { generator: g, ...f64 });
    const w = randn([2], { generator: g, ...f64 }).requiresGrad_();
    const b = randn([2], { generator: g, ...f64 }).requiresGrad_();
    const weights = randn([4, 2, 3, 3], { generator: g, ...f64 });
    const got = gradients([loss(batchNormTraining(x, w, b, EPS).y, weights)], [w, b]);
    const want = gradients([loss(composed(x, w, b), weights)], [w, b]);
    await expectClose(got, want);
  });
});
