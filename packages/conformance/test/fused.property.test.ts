// Batch norm's fused primitives against their composite definitions (the elementwise ops and
// reductions they replace), values and gradients, on every backend, in float64 where the backend
// has it and in float32, over random shapes; and batchNormTraining, with its residual and ReLU,
// against batch norm written out op by op.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { vjp } from "@sam/autograd";
import { cpu } from "@sam/cpu";
import { batchNormTraining } from "@sam/nn";
import {
  channelAffine, channelDots, channelMoments, concat, fromValues, setBackend, sizeOf, stack, tidy, type Backend, type DType, type Tensor,
} from "@sam/tensor";
import { backends } from "./backends.js";

const reference = cpu({ kernels: "reference" });

/** Deterministic values in [−2, 2) + offset from a seed. */
function values(count: number, seed: number, offset = 0): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2 + offset;
  });
}

/** Every axis but the channel axis. */
const others = (x: Tensor) => x.shape.map((_, i) => i).filter((i) => i !== 1);
/** A [C] tensor shaped to broadcast against x. */
const along = (v: Tensor, x: Tensor) => v.reshape(x.shape.map((d, i) => (i === 1 ? d : 1)));

// The composite definitions.
const momentsComposite = (x: Tensor) => concat([x.mean(others(x)).reshape([1, -1]), x.variance(others(x), false, 0).reshape([1, -1])], 0);
const dotsComposite = (g: Tensor, x: Tensor, m: Tensor) =>
  concat([g.sum(others(x)).reshape([1, -1]), g.mul(x.sub(along(m, x))).sum(others(x)).reshape([1, -1])], 0);
function affineComposite(x: Tensor, m: Tensor, s: Tensor, t: Tensor, r: Tensor | undefined, u: Tensor | undefined, relu: boolean): Tensor {
  let y = x.sub(along(m, x)).mul(along(s, x)).add(along(t, x));
  if (r && u) y = y.add(r.mul(along(u, x)));
  return relu ? y.relu() : y;
}
function batchNormComposite(x: Tensor, w: Tensor, b: Tensor, r: Tensor | undefined, relu: boolean): Tensor {
  const centred = x.sub(x.mean(others(x), true));
  const y = centred.div(centred.mul(centred).mean(others(x), true).add(1e-5).sqrt()).mul(along(w, x)).add(along(b, x));
  const z = r ? y.add(r) : y;
  return relu ? z.relu() : z;
}

/** The value of f and the gradient of Σ f·c with respect to every input. */
async function evaluate(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed: number): Promise<number[][]> {
  return tidy(() => {
    const { value, vjp: pullback } = vjp(f, ...inputs);
    const c = fromValues(values(value.size, seed + 99), [...value.shape], value.dtype, value.backend);
    return [value, ...pullback(c)];
  }).reduce(async (acc, t) => [...(await acc), Array.from(await t.data())], Promise.resolve([] as number[][]));
}

describe.each(backends)("batch norm's fused primitives on $name", ({ make, float64 }) => {
  beforeAll(async () => setBackend(await make()));

  const dtypes: DType[] = float64 ? ["float64", "float32"] : ["float32"];
  const tolerance = (dtype: DType) => (dtype === "float64" ? 1e-10 : 2e-4);
  const shape = fc.record({
    n: fc.integer({ min: 1, max: 5 }), c: fc.integer({ min: 1, max: 6 }),
    rest: fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 2 }), seed: fc.nat(), addend: fc.boolean(), relu: fc.boolean(),
  });

  /**
   * Both functions, values and gradients, agree within the dtype's tolerance of the largest
   * magnitude. In float32 the fused result may also be as far from the exact value (the composite
   * in float64 on the reference kernels) as the float32 composite is: where the statistics are
   * ill-conditioned (two close values in a channel) both lose digits, by different roundings.
   */
  async function agree(name: string, dtype: DType, fused: (...xs: Tensor[]) => Tensor, composite: (...xs: Tensor[]) => Tensor,
    shapes: number[][], seed: number): Promise<void> {
    const make = (d: DType, backend?: Backend) => shapes.map((s, k) => fromValues(values(sizeOf(s), seed + k, k === 0 ? 0.7 : 0), s, d, backend));
    const [a, b] = [make(dtype), make(dtype)];
    const [got, want] = [await evaluate(fused, a, seed), await evaluate(composite, b, seed)];
    const c = dtype === "float32" ? make("float64", reference) : [];
    const exact = dtype === "float32" ? await evaluate(composite, c, seed) : want;
    [...a, ...b, ...c].forEach((t) => t.dispose());
    want.forEach((w, k) => {
      const bound = tolerance(dtype) * w.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      w.forEach((v, i) => {
        const slack = 2 * Math.abs(v - exact[k][i]);
        if (!(Math.abs(got[k][i] - v) <= bound + slack)) {
          expect.fail(`${name} in ${dtype}, ${k === 0 ? "value" : `gradient ${k - 1}`} element ${i}: fused ${got[k][i]}, composite ${v}, exact ${exact[k][i]}`);
        }
      });
    });
  }

  it.each(dtypes)("channelMoments, channelDots and channelAffine in %s", async (dtype) => {
    await fc.assert(fc.asyncProperty(shape, async ({ n, c, rest, seed, addend, relu }) => {
      const x = [n, c, ...rest];
      await agree("channelMoments", dtype, (xs) => channelMoments(xs), momentsComposite, [x], seed);
      await agree("channelDots", dtype, channelDots, dotsComposite, [x, x, [c]], seed);
      const shapes = [x, [c], [c], [c], ...(addend ? [x, [c]] : [])];
      await agree("channelAffine", dtype, (xs, m, s, t, r, u) => channelAffine(xs, s, t, { center: m, addend: r, addendScale: u, relu }),
        (xs, m, s, t, r, u) => affineComposite(xs, m, s, t, r, u, relu), shapes, seed);
    }), { numRuns: 20 });
  });

  /** The three primitives per group of images ([G, C] operands) against their composites group by group: x is [groups·n, c, …]. */
  async function agreePerGroup(dtype: DType, x: number[], groups: number, addend: boolean, relu: boolean, seed: number): Promise<void> {
    const [n, c] = [x[0] / groups, x[1]];
    const all = Array.from({ length: groups }, (_, g) => g);
    const images = (t: Tensor, g: number) => t.slice([[g * n, (g + 1) * n]]);
    const row = (t: Tensor, g: number) => t.slice([g]).reshape([c]);
    await agree("channelMoments", dtype, (xs) => channelMoments(xs, groups),
      (xs) => stack(all.map((g) => momentsComposite(images(xs, g))), 1), [x], seed);
    await agree("channelDots", dtype, channelDots, (dy, xs, m) => stack(all.map((g) => dotsComposite(images(dy, g), images(xs, g), row(m, g))), 1),
      [x, x, [groups, c]], seed);
    const shapes = [x, [groups, c], [groups, c], [groups, c], ...(addend ? [x, [groups, c]] : [])];
    await agree("channelAffine", dtype, (xs, m, s, t, r, u) => channelAffine(xs, s, t, { center: m, addend: r, addendScale: u, relu }),
      (xs, m, s, t, r, u) => concat(all.map((g) => affineComposite(images(xs, g), row(m, g), row(s, g), row(t, g), r && images(r, g), u && row(u, g), relu)), 0),
      shapes, seed);
  }

  it.each(dtypes)("channelMoments, channelDots and channelAffine per group of images in %s", async (dtype) => {
    const grouped = fc.record({ base: shape, groups: fc.integer({ min: 1, max: 3 }) });
    await fc.assert(fc.asyncProperty(grouped, async ({ base: { n, c, rest, seed, addend, relu }, groups }) => {
      await agreePerGroup(dtype, [n * groups, c, ...rest], groups, addend, relu, seed);
    }), { numRuns: 15 });
  });

  it.each(dtypes)("batchNormTraining with a residual and ReLU, against batch norm op by op, in %s", async (dtype) => {
    await fc.assert(fc.asyncProperty(shape.filter(({ n, rest }) => n * sizeOf(rest) > 1), async ({ n, c, rest, seed, addend, relu }) => {
      const x = [n, c, ...rest];
      const then = (r: Tensor | undefined) => ({ addend: r, relu });
      await agree("batchNormTraining", dtype, (xs, w, b, r) => batchNormTraining(xs, w, b, 1e-5, then(r)).y,
        (xs, w, b, r) => batchNormComposite(xs, w, b, r, relu), [x, [c], [c], ...(addend ? [x] : [])], seed);
    }), { numRuns: 20 });
  });

  it("keep their digits in a badly conditioned channel (two values, close together)", async () => {
    // found by the property above, when batch norm's gradient was b·x + c per channel: with the
    // mean folded into c, float32 lost digits the composite kept; it is now b·(x − mean) + c
    for (const dtype of dtypes) {
      await agree("batchNormTraining", dtype, (xs, w, b) => batchNormTraining(xs, w, b, 1e-5).y,
        (xs, w, b) => batchNormComposite(xs, w, b, undefined, false), [[2, 4], [4], [4]], 449915356);
    }
  });

  it("large activations (the CPU shares them between its threads)", async () => {
    const x = [8, 16, 40, 41];
    for (const dtype of dtypes) {
      await agree("channelAffine", dtype, (xs, m, s, t, r, u) => channelAffine(xs, s, t, { center: m, addend: r, addendScale: u, relu: true }),
        (xs, m, s, t, r, u) => affineComposite(xs, m, s, t, r, u, true), [x, [16], [16], [16], x, [16]], 7);
      await agree("batchNormTraining", dtype, (xs, w, b) => batchNormTraining(xs, w, b, 1e-5).y,
        (xs, w, b) => batchNormComposite(xs, w, b, undefined, false), [x, [16], [16]], 8);
      await agreePerGroup(dtype, x, 4, true, true, 9);
    }
  });
});
