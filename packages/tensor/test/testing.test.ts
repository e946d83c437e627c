// assertClose on plain arrays (no backend needed): what passes, and what the error names.
import { describe, expect, it } from "vitest";
import { assertClose, assertCloseSync } from "../src/index.js";

describe("assertClose", () => {
  it("passes within atol + rtol·|expected|, elementwise or relative to the largest magnitude", async () => {
    await assertClose([1, 2.00001, -3], [1, 2, -3], { rtol: 1e-5 });
    await assertClose([1000, 0.01], [1000, 0], { rtol: 1e-5, relativeTo: "largest" });
    await assertClose([Infinity, NaN], [Infinity, NaN], { equalNan: true });
  });

  it("names the first element that is not close, how many are not and the largest difference", async () => {
    await expect(assertClose([1, 2.1, 3, 4.5], [1, 2, 3, 4], { rtol: 1e-3, name: "conv2d" })).rejects.toThrow(
      /^assertClose \(conv2d\): element 1 is 2\.1 where 2 was expected \(allowed difference 0\.00200\); 2 of 4 elements differ, the largest by 0\.5 at element 3$/);
    await expect(assertClose([1000, 0.01], [1000, 0], { rtol: 1e-5 })).rejects.toThrow("element 1 is 0.01 where 0 was expected");
    await expect(assertClose([NaN], [NaN])).rejects.toThrow("element 0 is NaN where NaN was expected");
    await expect(assertClose([1, 2], [1])).rejects.toThrow("assertClose (values): got 2 elements, expected 1");
    expect(() => assertCloseSync(new Float32Array([1, 3]), [1, 2], { atol: 0.5 })).toThrow("element 1 is 3 where 2 was expected");
    expect(() => assertCloseSync(new Float32Array([1, 2.25]), [1, 2], { atol: 0.5 })).not.toThrow();
  });
});
