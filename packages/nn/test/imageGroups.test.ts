// A model run with a set of parameters per group of images (withParameters with [G, …] values) is
// the groups' own runs one after another: outputs, gradients with respect to each group's
// parameters, and batch norm's running statistics, in float64 and float32.
import { describe, expect, it } from "vitest";
import { gradients } from "@sam/autograd";
import { cpu } from "@sam/cpu";
import { concat, Generator, randn, setBackend, stack, tidy, type Tensor } from "@sam/tensor";

type DType = "float32" | "float64";
import { BatchNorm1d, Conv2d, currentImageGroups, Flatten, Linear, ReLU, ResNet, Sequential, type Module } from "../src/index.js";

setBackend(cpu({ threads: 2 }));

/** A small net with every layer that holds parameters: a biased convolution, batch norm of both ranks, linear layers. */
const small = (g: Generator, dtype: DType) => new Sequential(
  new Conv2d(3, 4, 3, { padding: 1, stride: 2, generator: g, dtype }), new ReLU(), new Flatten(),
  new Linear(4 * 4 * 4, 6, { generator: g, dtype }), new BatchNorm1d(6, { dtype }), new ReLU(), new Linear(6, 3, { generator: g, dtype }),
);

/** Each group's parameters: the model's own, moved apart by a different random step per group. */
function stacked(model: Module, groups: number, g: Generator): Tensor[] {
  return model.parameters().map((p) => stack(Array.from({ length: groups }, () => p.detach().add(randn([...p.shape], { generator: g, dtype: p.dtype }).mul(0.1))), 0));
}

const same = (a: Tensor, b: Tensor, tol: number) => {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [a.dataSync(), b.dataSync()];
  const scale = Math.max(1, ...Array.from(y, Math.abs));
  x.forEach((v, i) => {
    if (!(Math.abs(v - y[i]) <= tol * scale)) expect.fail(`element ${i}: grouped ${v}, one group at a time ${y[i]}`);
  });
};

describe.each([["float64", 1e-12], ["float32", 2e-5]] as [DType, number][])("parameters per group of images, %s", (dtype, tol) => {
  it.each([
    ["a small net with biases, batch norm over features", (g: Generator) => small(g, dtype), [3, 8, 8]],
    ["ResNet-8", (g: Generator) => new ResNet(8, { generator: g, dtype }), [3, 8, 8]],
  ] as [string, (g: Generator) => Module, number[]][])("%s: the groups' own runs, one after another", (_, make, image) => {
    tidy(() => {
      const g = new Generator(3);
      const groups = 3;
      const n = 4;
      const [grouped, sequential] = [make(new Generator(1)), make(new Generator(1))];
      const x = randn([groups * n, ...image], { generator: g, dtype });
      const values = stacked(grouped, groups, g).map((t) => t.requiresGrad_());
      // all at once: each group's loss, summed, differentiated with respect to every group's parameters
      const y = grouped.withParameters(values, () => {
        expect(currentImageGroups()).toBe(groups);
        return grouped.forward(x);
      });
      expect(currentImageGroups()).toBeNull();
      const weights = randn([...y.shape], { generator: g, dtype });
      const grads = gradients([y.mul(weights).sum()], values);
      // one group at a time, with its own parameters
      const rows = (t: Tensor, i: number) => t.slice([[i * n, (i + 1) * n]]);
      const outs: Tensor[] = [];
      const perGroup: Tensor[][] = [];
      for (let i = 0; i < groups; i++) {
        const own = values.map((v) => v.detach().slice([i]).squeeze(0).requiresGrad_());
        const out = sequential.withParameters(own, () => sequential.forward(rows(x, i)));
        outs.push(out);
        perGroup.push(gradients([out.mul(rows(weights, i)).sum()], own));
      }
      same(y, concat(outs), tol);
      grads.forEach((gr, k) => same(gr, stack(perGroup.map((p) => p[k]), 0), tol));
      // batch norm's running statistics, updated by each group in turn
      const buffers = (m: Module) => Object.entries(m.stateDict()).filter(([key]) => key.includes("running") || key.includes("num_batches"));
      buffers(grouped).forEach(([key, t], k) => {
        const want = buffers(sequential)[k][1];
        if (key.includes("num_batches")) expect(t.dataSync()[0]).toBe(want.dataSync()[0]);
        else same(t, want, tol);
      });
      // evaluation mode: each group's parameters with the running statistics
      grouped.eval();
      sequential.eval();
      const evaluated = grouped.withParameters(values, () => grouped.forward(x));
      same(evaluated, concat(Array.from({ length: groups }, (_, i) => sequential.withParameters(values.map((v) => v.detach().slice([i]).squeeze(0)), () => sequential.forward(rows(x, i))))), tol);
    });
  });
});

describe("parameters per group of images: bad input", () => {
  it("names the parameter whose set does not match", () => {
    tidy(() => {
      const model = small(new Generator(0), "float32");
      const values = model.parameters().map((p) => randn([2, ...p.shape]));
      values[2] = randn([3, ...model.parameters()[2].shape]);
      expect(() => model.withParameters(values, () => model.forward(randn([4, 3, 8, 8])))).toThrow(/withParameters: 3\.weight: shape \[3,6,64\] differs from \[2,6,64\] \(a set per group of images\)/);
      const good = model.parameters().map((p) => randn([2, ...p.shape]));
      expect(() => model.withParameters(good, () => model.forward(randn([5, 3, 8, 8])))).toThrow(/Conv2d|conv2d: the 5 images/);
    });
  });
});
