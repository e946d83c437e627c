// Against PyTorch: for fixed float64 weights and data (fixtures/make_hessian.py), λmax by
// power iteration on torch.autograd products, the exact trace and one Hessian-vector product.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cpu } from "@sam/cpu";
import { BatchNorm2d, Conv2d, crossEntropy, decodeSafetensors, Flatten, Linear, Module, ReLU, Sequential } from "@sam/nn";
import { assertCloseSync, setBackend } from "@sam/tensor";
import { modelHessian, topEigenvalues } from "../src/index.js";
import { Tanh } from "./tanh.js";

setBackend(cpu());

const figures = JSON.parse(readFileSync(new URL("./fixtures/hessian.json", import.meta.url), "utf8")) as Record<string, { parameters: number; lambdaMax: number; trace: number }>;
const f64 = { dtype: "float64" as const };


const models: Record<string, () => Module> = {
  mlp: () => new Sequential(new Linear(3, 6, f64), new Tanh(), new Linear(6, 3, f64)),
  cnn: () => new Sequential(new Conv2d(1, 2, 3, { padding: 1, ...f64 }), new BatchNorm2d(2, f64), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3, f64)),
};

describe.each(Object.keys(models))("the Hessian of PyTorch's %s, in float64", (name) => {
  const fixture = decodeSafetensors(new Uint8Array(readFileSync(new URL(`./fixtures/${name}.safetensors`, import.meta.url))), `${name}.safetensors`);
  const model = models[name]();
  const weights = Object.fromEntries(Object.entries(fixture).filter(([k]) => k.startsWith("weights.")).map(([k, t]) => [k.slice("weights.".length), t]));
  for (const [key] of model.namedParameters()) expect(weights[key], key).toBeDefined();
  model.loadStateDict(weights, { strict: false }); // PyTorch's int64 num_batches_tracked is not in the fixture
  const h = modelHessian(model, [{ x: fixture.x, y: fixture.y }], (z, t) => crossEntropy(z, t));

  it("has PyTorch's Hessian-vector product", async () => {
    expect(h.dimension).toBe(figures[name].parameters);
    const hv = await h.apply(Float64Array.from(await fixture.v.data()));
    const expected = await fixture.hv.data();
    assertCloseSync(hv, expected, { rtol: 1e-10, atol: 0, relativeTo: "largest", name: "H·v against PyTorch" });
  });

  it("has PyTorch's λmax and trace to 1e-6 relative", async () => {
    const { values } = await topEigenvalues(h, { k: 1, iterations: h.dimension });
    expect(Math.abs(values[0] - figures[name].lambdaMax)).toBeLessThan(1e-6 * figures[name].lambdaMax);
    let trace = 0;
    for (let j = 0; j < h.dimension; j++) {
      const e = new Float64Array(h.dimension);
      e[j] = 1;
      trace += (await h.apply(e))[j];
    }
    expect(Math.abs(trace - figures[name].trace)).toBeLessThan(1e-6 * Math.abs(figures[name].trace));
  });
});
