// Autograd, nn and SAM run unchanged on every backend: a SAM run in float32 follows the float64
// CPU run step for step and lowers the loss.
import { describe, expect, it } from "vitest";
import { cpu } from "@sam/cpu";
import { assertCloseSync, setBackend } from "@sam/tensor";
import { backends } from "./backends.js";
import { samTraining, type PlainState, type Sharpness } from "./training.js";

const STEPS = 6;

async function plain(model: ReturnType<typeof samTraining>["model"]): Promise<PlainState> {
  const state: PlainState = {};
  for (const [k, v] of Object.entries(model.stateDict())) state[k] = { values: Array.from(await v.data()), shape: [...v.shape] };
  return state;
}

async function run(dtype: "float32" | "float64", initial?: PlainState, sharpness?: Sharpness): Promise<{ losses: number[]; initial: PlainState; state: PlainState }> {
  const { model, step } = samTraining(dtype, initial, sharpness);
  const start = await plain(model);
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const loss = step();
    losses.push(await loss.item());
    loss.dispose();
  }
  return { losses, initial: start, state: await plain(model) };
}

describe.each(backends)("SAM training on $name", ({ make }) => {
  it.each([
    ["", undefined, undefined],
    [" (m-sharpness, the groups as one batch against one after another)", { m: 2, asBatch: true }, { m: 2, asBatch: false }],
  ] as [string, Sharpness | undefined, Sharpness | undefined][])("matches the float64 CPU run and lowers the loss%s", async (_, sharpness, definition) => {
    setBackend(cpu());
    const want = await run("float64", undefined, definition);
    setBackend(await make());
    const got = await run("float32", want.initial, sharpness);
    expect(got.losses[STEPS - 1]).toBeLessThan(got.losses[0] * 0.7);
    got.losses.forEach((l, i) => expect(Math.abs(l - want.losses[i])).toBeLessThan(1e-3 * want.losses[i]));
    expect(Object.keys(got.state)).toEqual(Object.keys(want.state));
    for (const [key, { values: w }] of Object.entries(want.state)) {
      assertCloseSync(got.state[key].values, w, { rtol: 1e-3, atol: 1e-5, relativeTo: "largest", name: `${key} against the float64 CPU run` });
    }
  }, 60_000); // a new device compiles its shaders first, which takes seconds on a software adapter
});
