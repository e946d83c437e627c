// @sam/hessian on every backend: Hessian-vector products of a CNN with batch norm in float32 follow
// the float64 CPU ones, Lanczos's λmax with them, and live buffers stay flat across products.
import { describe, expect, it } from "vitest";
import { cpu } from "@sam/cpu";
import { hutchinsonTrace, modelHessian, topEigenvalues } from "@sam/hessian";
import { crossEntropy } from "@sam/nn";
import { assertCloseSync, fromValues, memory, setBackend } from "@sam/tensor";
import { backends } from "./backends.js";
import { samTraining, type PlainState } from "./training.js";

/** The CNN of the training suite after a few SAM steps (or with the weights given), its data, and its Hessian on the current backend. */
async function trained(dtype: "float32" | "float64", weights?: PlainState) {
  const { model, step } = samTraining(dtype, weights);
  if (!weights) for (let i = 0; i < 3; i++) step().dispose();
  const state: PlainState = {};
  for (const [k, v] of Object.entries(model.stateDict())) state[k] = { values: Array.from(await v.data()), shape: [...v.shape] };
  const values = Array.from({ length: 8 * 3 * 8 * 8 }, (_, i) => Math.sin(i * 0.37));
  const x = fromValues(values, [8, 3, 8, 8], dtype);
  const y = fromValues([0, 1, 2, 3, 3, 2, 1, 0], [8], "int32");
  return { state, h: modelHessian(model, [{ x, y }], (z, t) => crossEntropy(z, t)) };
}

/** Hv for a fixed v, λmax and the trace of the current backend's Hessian; live buffers must not grow. */
async function figures(h: Awaited<ReturnType<typeof trained>>["h"]) {
  const v = Float64Array.from({ length: h.dimension }, (_, i) => Math.cos(i));
  const hv = await h.apply(v);
  const before = memory().buffers;
  const top = await topEigenvalues(h, { k: 1, iterations: 15 });
  const trace = await hutchinsonTrace(h, { probes: 4 });
  expect(memory().buffers).toBe(before);
  return { hv, lambdaMax: top.values[0], trace: trace.trace };
}

describe.each(backends)("the loss Hessian on $name", ({ make }) => {
  it("follows the float64 CPU products, λmax and trace in float32, leaking nothing", async () => {
    setBackend(cpu());
    const reference = await trained("float64");
    const want = await figures(reference.h);
    setBackend(await make());
    const got = await figures((await trained("float32", reference.state)).h);
    assertCloseSync(got.hv, want.hv, { rtol: 2e-3, atol: 0, relativeTo: "largest", name: "H·v against the float64 CPU" });
    expect(Math.abs(got.lambdaMax - want.lambdaMax)).toBeLessThan(2e-3 * want.lambdaMax);
    expect(Math.abs(got.trace - want.trace)).toBeLessThan(2e-3 * Math.abs(want.trace));
  }, 120_000);
});
