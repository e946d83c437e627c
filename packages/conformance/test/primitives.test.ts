// Every primitive's forward values against PyTorch's (fixtures/make_primitives.py), in float64
// and float32, run through the CPU's reference kernels and each backend in the list.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCloseSync, bytesPerElement, dispatch, fromValues, full, setBackend, shapeRules, type DType, type OpName } from "@sam/tensor";
import { backends, referenceBackend } from "./backends.js";

interface Encoded { shape: number[]; dtype: DType; data: number[] }
interface Case { name: string; op: OpName; inputs: Encoded[]; params: never; out: Encoded }

const fixture = JSON.parse(readFileSync(new URL("./fixtures/primitives.json", import.meta.url), "utf8")) as { cases: Case[] };
describe.each([referenceBackend, ...backends])("primitives on $name", ({ make, float64, tolerance }) => {
  beforeAll(async () => setBackend(await make()));

  it("covers every primitive", () => {
    const covered = new Set(fixture.cases.map((c) => c.op));
    expect(Object.keys(shapeRules).filter((op) => !covered.has(op as OpName))).toEqual([]);
  });

  const floats = [["float64", () => 1e-12], ["float32", tolerance]] as const;
  describe.each(floats.filter(([f]) => float64 || f === "float32"))("in %s", (float, tolOf) => {
    it.each(fixture.cases.map((c) => [c.name, c] as const))("%s", async (_n, c) => {
      const tol = tolOf(c.op);
      const as = (e: Encoded): DType => (e.dtype === "float64" ? float : e.dtype);
      const inputs = c.inputs.map((e) => fromValues(e.data, e.shape, as(e)));
      // A buffer of the output's size freed full of NaN just before the op, so that the output
      // reuses it: a kernel must write every element of its output, never rely on zeros.
      const bytes = c.out.data.length * bytesPerElement(as(c.out));
      full([Math.max(1, Math.ceil(bytes / 4))], NaN).dispose();
      const out = dispatch(c.op, inputs, c.params);
      inputs.forEach((t) => t.dispose());
      expect(out.shape).toEqual(c.out.shape);
      expect(out.dtype).toBe(as(c.out));
      const got = Array.from(await out.data());
      out.dispose();
      assertCloseSync(got, c.out.data, { rtol: tol, atol: tol, relativeTo: "largest", equalNan: true, name: `${c.name} against PyTorch` });
    });
  });
});
