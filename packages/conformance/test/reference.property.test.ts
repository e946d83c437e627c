// Every backend's float32 kernels against the CPU's reference kernels in float64, over random shapes: sizes
// that are not multiples of any tile or workgroup, broadcasting, degenerate (1 and 0) axes, and
// every convolution and pooling geometry the shape rules allow.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { cpu } from "@sam/cpu";
import {
  BINARY_OPS, COMPARE_OPS, dispatch, floatOnly, fromValues, sizeOf, UNARY_OPS, windowOutSize, type Backend, type DType, type OpName, type OpParams,
} from "@sam/tensor";
import { backends } from "./backends.js";

const reference = cpu({ kernels: "reference" });

interface Input { shape: number[]; dtype: DType; values: number[] }

/** Deterministic values in [−2, 2) (or integers in [0, n) for indices) from a seed. */
function values(count: number, seed: number, ints = 0): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ints > 0 ? s % ints : (s / 2 ** 32) * 4 - 2;
  });
}

const floats = (shape: number[], seed: number): Input => ({ shape, dtype: "float32", values: values(sizeOf(shape), seed) });

describe.each(backends)("$name against the float64 reference", ({ make }) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await make();
  });

  /** Runs `op` on both and checks the results agree within `tol` relative to `scale`. */
  async function agree<K extends OpName>(op: K, inputs: Input[], params: OpParams[K], scale = 1, tol = 2e-5): Promise<void> {
    const on = (b: Backend, wide: boolean) =>
      dispatch(op, inputs.map((x) => fromValues(x.values, x.shape, wide && x.dtype === "float32" ? "float64" : x.dtype, b)), params);
    const want = on(reference, true);
    const got = on(backend, false);
    try {
      expect(got.shape).toEqual(want.shape);
      const [g, w] = [await got.data(), await want.data()];
      const bound = tol * Math.max(scale, ...Array.from(w, Math.abs));
      w.forEach((v, i) => {
        const ok = got.dtype === "float32" ? Math.abs(g[i] - v) <= bound || (Number.isNaN(g[i]) && Number.isNaN(v)) : g[i] === v;
        if (!ok) expect.fail(`${op} element ${i}: got ${g[i]}, reference ${v}`);
      });
    } finally {
      got.dispose();
      want.dispose();
    }
  }

  const dim = (max: number) => fc.integer({ min: 0, max });
  const seed = fc.nat();
  const runs = { numRuns: 25 };

  it("matmul: batched, broadcast batch axes, sizes around the tile", async () => {
    const shapes = fc.record({ m: dim(70), n: dim(70), k: dim(70), ba: fc.constantFrom([], [1], [3], [2, 1]), bb: fc.constantFrom([], [1], [3]), seed });
    await fc.assert(fc.asyncProperty(shapes, async ({ m, n, k, ba, bb, seed }) => {
      const batchB = ba.length === 2 && bb.length === 1 && bb[0] === 3 ? [bb[0]] : bb;
      await agree("matmul", [floats([...ba, m, k], seed), floats([...batchB, k, n], seed + 1)], {}, Math.sqrt(k + 1) * 4);
    }), runs);
  });

  it("conv2d and both gradients: stride, padding, dilation, groups, a kernel per group of images", async () => {
    const geometry = fc.record({
      // imageGroups 0: a weight [O, C/groups, kH, kW]; else [imageGroups, O, C/groups, kH, kW] over imageGroups·n images
      n: fc.integer({ min: 1, max: 3 }), imageGroups: fc.integer({ min: 0, max: 3 }), groups: fc.integer({ min: 1, max: 3 }), cg: fc.integer({ min: 1, max: 4 }),
      og: fc.integer({ min: 1, max: 5 }), h: fc.integer({ min: 1, max: 12 }), w: fc.integer({ min: 1, max: 12 }),
      kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })),
      padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), seed,
    }).filter((c) => windowOutSize(c.h, c.kh, c.stride[0], c.padding[0], c.dilation[0]) > 0
      && windowOutSize(c.w, c.kw, c.stride[1], c.padding[1], c.dilation[1]) > 0);
    await fc.assert(fc.asyncProperty(geometry, async (c) => {
      const p = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups } as OpParams["conv2d"];
      const n = c.n * Math.max(1, c.imageGroups);
      const xs = [n, c.cg * c.groups, c.h, c.w];
      const ws = [...(c.imageGroups > 0 ? [c.imageGroups] : []), c.og * c.groups, c.cg, c.kh, c.kw];
      const ys = [n, c.og * c.groups, windowOutSize(c.h, c.kh, c.stride[0], c.padding[0], c.dilation[0]),
        windowOutSize(c.w, c.kw, c.stride[1], c.padding[1], c.dilation[1])];
      const scale = Math.sqrt(c.cg * c.kh * c.kw) * 4;
      await agree("conv2d", [floats(xs, c.seed), floats(ws, c.seed + 1)], p, scale);
      await agree("conv2dBackwardInput", [floats(ys, c.seed + 2), floats(ws, c.seed + 1)], { ...p, inputShape: xs }, scale * 2);
      await agree("conv2dBackwardWeight", [floats(xs, c.seed), floats(ys, c.seed + 2)], { ...p, weightShape: ws },
        Math.sqrt(c.n * ys[2] * ys[3]) * 4);
    }), runs);
  });

  it("long depths over few tiles (a GPU splits them across workgroups): matmul and the conv weight gradient", async () => {
    const products = fc.record({ m: dim(70), n: dim(70), k: fc.integer({ min: 256, max: 6000 }), batch: fc.constantFrom([], [2]), seed });
    await fc.assert(fc.asyncProperty(products, async ({ m, n, k, batch, seed }) => {
      await agree("matmul", [floats([...batch, m, k], seed), floats([...batch, k, n], seed + 1)], {}, Math.sqrt(k + 1) * 4);
    }), { numRuns: 10 });
    const geometry = fc.record({
      n: fc.integer({ min: 1, max: 8 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 3 }),
      og: fc.integer({ min: 1, max: 4 }), h: fc.integer({ min: 8, max: 24 }), w: fc.integer({ min: 8, max: 24 }),
      stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 1 }), seed,
    });
    await fc.assert(fc.asyncProperty(geometry, async (c) => {
      const p = { stride: [c.stride, c.stride], padding: [c.padding, c.padding], dilation: [1, 1], groups: c.groups } as OpParams["conv2d"];
      const xs = [c.n, c.cg * c.groups, c.h, c.w];
      const ws = [c.og * c.groups, c.cg, 3, 3];
      const ys = [c.n, c.og * c.groups, windowOutSize(c.h, 3, c.stride, c.padding, 1), windowOutSize(c.w, 3, c.stride, c.padding, 1)];
      await agree("conv2dBackwardWeight", [floats(xs, c.seed), floats(ys, c.seed + 2)], { ...p, weightShape: ws }, Math.sqrt(c.n * ys[2] * ys[3]) * 4);
    }), { numRuns: 10 });
  });

  it("pooling and its adjoints", async () => {
    const geometry = fc.record({
      n: fc.integer({ min: 1, max: 2 }), c: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 11 }), w: fc.integer({ min: 1, max: 11 }),
      kernel: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })), pad: fc.boolean(), seed,
    }).map((g) => ({ ...g, padding: g.pad ? [Math.floor(g.kernel[0] / 2), Math.floor(g.kernel[1] / 2)] : [0, 0] }))
      .filter((g) => windowOutSize(g.h, g.kernel[0], g.stride[0], g.padding[0]) > 0 && windowOutSize(g.w, g.kernel[1], g.stride[1], g.padding[1]) > 0);
    await fc.assert(fc.asyncProperty(geometry, async (g) => {
      const p = { kernel: g.kernel, stride: g.stride, padding: g.padding } as OpParams["maxPool2d"];
      const x = floats([g.n, g.c, g.h, g.w], g.seed);
      await agree("maxPool2d", [x], p);
      await agree("maxPool2dArgmax", [x], p);
      await agree("avgPool2d", [x], p);
      const out = [g.n, g.c, windowOutSize(g.h, g.kernel[0], g.stride[0], g.padding[0]), windowOutSize(g.w, g.kernel[1], g.stride[1], g.padding[1])];
      await agree("avgPool2dBackward", [floats(out, g.seed + 1)], { ...p, inputShape: x.shape });
    }), runs);
  });

  it("reductions over any set of axes, including long and empty ones", async () => {
    const cases = fc.record({ shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 }), long: fc.integer({ min: 0, max: 150 }), pick: fc.nat(), keepDims: fc.boolean(), seed })
      .map(({ shape, long, pick, keepDims, seed }) => {
        const full = shape.length > 0 ? shape.map((d, i) => (i === pick % shape.length ? long : d)) : shape;
        const axes = full.map((_, i) => i).filter((i) => ((pick >> i) & 1) === 1);
        return { shape: full, axes, keepDims, seed };
      });
    await fc.assert(fc.asyncProperty(cases, async ({ shape, axes, keepDims, seed }) => {
      const x = floats(shape, seed);
      const nonEmpty = axes.every((a) => shape[a] > 0);
      await agree("sum", [x], { axes, keepDims }, Math.sqrt(sizeOf(shape) + 1) * 4);
      await agree("sum", [{ ...x, dtype: "int32", values: values(sizeOf(shape), seed, 7) }], { axes, keepDims });
      if (nonEmpty) {
        await agree("max", [x], { axes, keepDims });
        await agree("min", [x], { axes, keepDims });
      }
      if (shape.length > 0 && shape[axes[0] ?? 0] > 0) {
        const axis = axes[0] ?? 0;
        await agree("argmax", [x], { axis, keepDims });
        await agree("argmin", [{ ...x, values: values(sizeOf(shape), seed, 3) }], { axis, keepDims }); // ties: first wins
      }
    }), runs);
  });

  it("elementwise ops with broadcasting, where and cast", async () => {
    const pair = fc.record({ shape: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 0, maxLength: 4 }), mask: fc.nat(), seed })
      .map(({ shape, mask, seed }) => ({ a: shape.map((d, i) => ((mask >> i) & 1 ? 1 : d)), b: shape.slice((mask >> 5) % (shape.length + 1)).map((d, i) => ((mask >> (8 + i)) & 1 ? 1 : d)), seed }));
    await fc.assert(fc.asyncProperty(pair, async ({ a, b, seed }) => {
      for (const op of UNARY_OPS) {
        const x = floats(a, seed);
        const input = op === "log" || op === "sqrt" ? { ...x, values: x.values.map((v) => Math.abs(v) + 0.1) } : x;
        await agree(op, [input], {}, 1, op === "sin" || op === "cos" ? 2 ** -11 : 2e-5);
      }
      for (const op of [...BINARY_OPS, ...COMPARE_OPS]) {
        const x = floats(a, seed);
        const y = floats(b, seed + 1);
        const base = op === "pow" ? { ...x, values: x.values.map((v) => Math.abs(v) + 0.1) } : x;
        await agree(op, [base, y], {}, op === "div" ? 100 : 1);
        if (!floatOnly(op)) {
          await agree(op, [{ ...x, dtype: "int32", values: values(sizeOf(a), seed, 5) }, { ...y, dtype: "int32", values: values(sizeOf(b), seed + 1, 5) }], {});
        }
      }
      const cond: Input = { shape: b, dtype: "bool", values: values(sizeOf(b), seed + 2, 2) };
      await agree("where", [cond, floats(a, seed), floats([], seed + 3)], {});
      const mixed = { ...floats(a, seed), values: values(sizeOf(a), seed, 5).map((v, i) => (i % 3 === 0 ? 0 : v - 2.5)) };
      for (const dtype of ["float32", "int32", "bool"] as const) {
        await agree("cast", [mixed], { dtype });
        await agree("cast", [{ ...mixed, dtype: "int32", values: values(sizeOf(a), seed, 5).map((v) => v - 2) }], { dtype });
        await agree("cast", [{ ...mixed, dtype: "bool", values: values(sizeOf(a), seed, 2) }], { dtype });
      }
    }), runs);
  });

  it("movement: permute, expand, slice, pad with interior, concat", async () => {
    const shapes = fc.record({ shape: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }), pick: fc.nat(), seed });
    await fc.assert(fc.asyncProperty(shapes, async ({ shape, pick, seed }) => {
      const x = floats(shape, seed);
      const r = shape.length;
      const perm = shape.map((_, i) => i).sort((i, j) => ((pick >> (i * 2)) & 3) - ((pick >> (j * 2)) & 3) || i - j);
      await agree("permute", [x], { perm });
      const ones = shape.map((d, i) => ((pick >> i) & 1 ? 1 : d));
      await agree("expand", [floats(ones, seed)], { shape: [2, ...shape] });
      const starts = shape.map((d, i) => Math.min(d, (pick >> i) & 1));
      const steps = shape.map((_, i) => 1 + ((pick >> (i + 4)) & 1));
      await agree("slice", [x], { starts, ends: shape, steps });
      const widths = shape.map((_, i) => (pick >> (i + 8)) & 3);
      await agree("pad", [x], { before: widths, after: widths.map((w) => 3 - w), interior: shape.map((_, i) => (pick >> (i + 16)) & 1), value: -1.5 });
      const axis = pick % r;
      const other = shape.map((d, i) => (i === axis ? (pick >> 3) % 3 : d));
      await agree("concat", [x, floats(other, seed + 1), x], { axis });
      await agree("reshape", [x], { shape: [sizeOf(shape)] });
    }), runs);
  });

  it("gather and scatterAdd with repeated indices", async () => {
    const cases = fc.record({ shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }), pick: fc.nat(), seed });
    await fc.assert(fc.asyncProperty(cases, async ({ shape, pick, seed }) => {
      const axis = pick % shape.length;
      const indexShape = shape.map((d, i) => (i === axis ? 1 + ((pick >> 2) % 6) : Math.max(1, d - ((pick >> (i + 4)) & 1))));
      const index: Input = { shape: indexShape, dtype: "int32", values: values(sizeOf(indexShape), seed, shape[axis]) };
      await agree("gather", [floats(shape, seed), index], { axis });
      await agree("scatterAdd", [floats(shape, seed), index, floats(indexShape, seed + 1)], { axis }, 4);
    }), runs);
  });
});
