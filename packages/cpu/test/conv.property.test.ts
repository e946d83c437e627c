// The float32 SIMD convolutions against the float64 reference path, over random geometries
// (stride, padding, dilation, groups, odd sizes, batches spanning packing blocks).
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCloseSync, conv2d, conv2dBackwardInput, conv2dBackwardWeight, full, Generator, randn, setBackend, tidy, windowOutSize, type Conv2dParams, type Tensor } from "@sam/tensor";
import { geometry as convGeometry, type Geometry } from "../src/geometry.js";
import { cpu } from "../src/index.js";
import { winograd4x4Applies } from "../src/wasm/winograd4x4F32.js";
import { weightGradientTile } from "../src/wasm/winogradGradient.js";
import { winogradApplies } from "../src/wasm/winogradF32.js";

/** A 3×3 convolution's parameters that Winograd takes: stride 1, padding 1. */
const STRIDE_1: Conv2dParams = { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };

/**
 * The weight gradient of a 3×3 stride-1 convolution of random values, which `takes` says the
 * checked path runs, against the float64 reference within `bound`·√(pixels summed)·1e-5.
 */
function weightGradientAgrees(c: { n: number; c: number; o: number; h: number; w: number; seed: number }, takes: (g: Geometry) => boolean, bound: number): void {
  tidy(() => {
    const g = new Generator(c.seed);
    const x = randn([c.n, c.c, c.h, c.w], { generator: g });
    const dy = randn([c.n, c.o, c.h, c.w], { generator: g });
    const shape = [c.o, c.c, 3, 3];
    expect(takes(convGeometry(x.shape, shape, dy.shape, 1))).toBe(true);
    close(conv2dBackwardWeight(x, dy, shape, { padding: 1 }), conv2dBackwardWeight(x.cast("float64"), dy.cast("float64"), shape, { padding: 1 }),
      Math.sqrt(c.n * c.h * c.w) * bound);
  });
}

/**
 * A 3×3 stride-1 convolution of random values and its input gradient, which `takes` says the
 * checked path runs, against the float64 reference within `bound`·√(9·channels)·1e-5.
 */
function stride1Agrees(c: { n: number; c: number; o: number; h: number; w: number; seed: number }, takes: (g: Geometry) => boolean, bound: number): void {
  tidy(() => {
    const g = new Generator(c.seed);
    const x = randn([c.n, c.c, c.h, c.w], { generator: g });
    const w = randn([c.o, c.c, 3, 3], { generator: g });
    const dy = randn([c.n, c.o, c.h, c.w], { generator: g });
    expect(takes(convGeometry(x.shape, w.shape, dy.shape, 1))).toBe(true);
    close(conv2d(x, w, { padding: 1 }), conv2d(x.cast("float64"), w.cast("float64"), { padding: 1 }), Math.sqrt(c.c * 9) * bound);
    close(conv2dBackwardInput(dy, w, x.shape, { padding: 1 }), conv2dBackwardInput(dy.cast("float64"), w.cast("float64"), x.shape, { padding: 1 }),
      Math.sqrt(c.o * 9) * bound);
  });
}

beforeAll(() => setBackend(cpu()));

/** Random convolution geometries (that fit) with `og` output channels per group. */
const geometryWith = (og: { min: number; max: number }) => fc.record({
  n: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 5 }),
  og: fc.integer(og), h: fc.integer({ min: 1, max: 23 }), w: fc.integer({ min: 1, max: 23 }),
  kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
  stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 })),
  padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 })), seed: fc.nat(),
}).filter((c) => windowOutSize(c.h, c.kh, c.stride[0], c.padding[0], c.dilation[0]) > 0 && windowOutSize(c.w, c.kw, c.stride[1], c.padding[1], c.dilation[1]) > 0);
const geometry = geometryWith({ min: 1, max: 6 });

// Output rows of whole 8-pixel panels: the in-place (implicit GEMM) forward path, over blocks that
// end mid-row, hold several images, or split an image, with column strides 1 to 3 (rows stored as
// their column phases).
const panelled = fc.record({
  n: fc.integer({ min: 1, max: 9 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 5 }),
  og: fc.integer({ min: 1, max: 6 }), h: fc.integer({ min: 1, max: 30 }), wo: fc.constantFrom(8, 16, 24, 40),
  kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }), sy: fc.integer({ min: 1, max: 2 }),
  sx: fc.integer({ min: 1, max: 3 }), extra: fc.nat(2),
  padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), seed: fc.nat(),
}).map((c) => ({
  ...c,
  w: (c.wo - 1) * c.sx + 1 + c.dilation[1] * (c.kw - 1) - 2 * c.padding[1] + (c.extra % c.sx),
  stride: [c.sy, c.sx] as [number, number],
}))
  .filter((c) => c.w >= 1 && windowOutSize(c.h, c.kh, c.sy, c.padding[0], c.dilation[0]) > 0);

/** The float32 result within 1e-5·scale of the float64 reference, element by element. */
function close(fast: Tensor, reference: Tensor, scale: number): void {
  assertCloseSync(fast.dataSync(), reference.dataSync(), { rtol: 0, atol: 1e-5 * scale, name: "float32 against the float64 reference" });
}

describe("float32 convolutions (SIMD) against the float64 reference", () => {
  it("forward, input gradient and weight gradient agree", () => {
    fc.assert(fc.property(geometry, (c) => {
      tidy(() => {
        const g = new Generator(c.seed);
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        const x = randn([c.n, c.cg * c.groups, c.h, c.w], { generator: g });
        const w = randn([c.og * c.groups, c.cg, c.kh, c.kw], { generator: g });
        const y64 = conv2d(x.cast("float64"), w.cast("float64"), opts);
        const dy = randn([...y64.shape], { generator: g });
        const scale = Math.sqrt(c.cg * c.kh * c.kw) * 4;
        close(conv2d(x, w, opts), y64, scale);
        close(conv2dBackwardInput(dy, w, x.shape, opts), conv2dBackwardInput(dy.cast("float64"), w.cast("float64"), x.shape, opts), scale * 2);
        close(conv2dBackwardWeight(x, dy, w.shape, opts), conv2dBackwardWeight(x.cast("float64"), dy.cast("float64"), w.shape, opts),
          Math.sqrt(c.n * y64.shape[2] * y64.shape[3]) * 4);
      });
    }), { numRuns: 60 });
  });

  it("the in-place forward path agrees too", () => {
    fc.assert(fc.property(panelled, (c) => {
      tidy(() => {
        const g = new Generator(c.seed);
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        const x = randn([c.n, c.cg * c.groups, c.h, c.w], { generator: g });
        const w = randn([c.og * c.groups, c.cg, c.kh, c.kw], { generator: g });
        const y = conv2d(x, w, opts);
        expect(y.shape[3] % 8).toBe(0);
        close(y, conv2d(x.cast("float64"), w.cast("float64"), opts), Math.sqrt(c.cg * c.kh * c.kw) * 4);
      });
    }), { numRuns: 60 });
  });

  it("the strided forward path with rows split into even and odd columns in WebAssembly (3×3, stride 2, padding 1) agrees too", () => {
    fc.assert(fc.property(fc.record({ n: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 1, max: 6 }), o: fc.integer({ min: 1, max: 9 }),
      h: fc.integer({ min: 1, max: 20 }), w: fc.constantFrom(16, 32, 48), seed: fc.nat() }), (c) => {
      tidy(() => {
        const g = new Generator(c.seed);
        const opts = { stride: 2, padding: 1 };
        const x = randn([c.n, c.c, c.h, c.w], { generator: g });
        const w = randn([c.o, c.c, 3, 3], { generator: g });
        close(conv2d(x, w, opts), conv2d(x.cast("float64"), w.cast("float64"), opts), Math.sqrt(c.c * 9) * 4);
      });
    }), { numRuns: 30 });
  });

  it("the weight gradient read in place (eight or more output channels per group) agrees too", () => {
    const wide = geometryWith({ min: 8, max: 19 });
    fc.assert(fc.property(wide, (c) => {
      tidy(() => {
        const g = new Generator(c.seed);
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        const x = randn([c.n, c.cg * c.groups, c.h, c.w], { generator: g });
        const ws = [c.og * c.groups, c.cg, c.kh, c.kw];
        const dy = randn([c.n, c.og * c.groups, windowOutSize(c.h, c.kh, c.stride[0], c.padding[0], c.dilation[0]),
          windowOutSize(c.w, c.kw, c.stride[1], c.padding[1], c.dilation[1])], { generator: g });
        close(conv2dBackwardWeight(x, dy, ws, opts), conv2dBackwardWeight(x.cast("float64"), dy.cast("float64"), ws, opts),
          Math.sqrt(c.n * dy.shape[2] * dy.shape[3]) * 4);
      });
    }), { numRuns: 60 });
  });

  it("the input gradient as a forward convolution of flipped weights (stride 1) agrees too", () => {
    const inputs = fc.record({
      n: fc.integer({ min: 1, max: 4 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 4 }),
      og: fc.integer({ min: 1, max: 5 }), h: fc.integer({ min: 1, max: 12 }), w: fc.constantFrom(8, 16, 24),
      kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
      padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), seed: fc.nat(),
    }).filter((c) => windowOutSize(c.h, c.kh, 1, c.padding[0], c.dilation[0]) > 0 && windowOutSize(c.w, c.kw, 1, c.padding[1], c.dilation[1]) > 0);
    fc.assert(fc.property(inputs, (c) => {
      tidy(() => {
        const g = new Generator(c.seed);
        const opts = { padding: c.padding, dilation: c.dilation, groups: c.groups };
        const shape = [c.n, c.cg * c.groups, c.h, c.w];
        const w = randn([c.og * c.groups, c.cg, c.kh, c.kw], { generator: g });
        const dy = randn([c.n, c.og * c.groups, windowOutSize(c.h, c.kh, 1, c.padding[0], c.dilation[0]),
          windowOutSize(c.w, c.kw, 1, c.padding[1], c.dilation[1])], { generator: g });
        close(conv2dBackwardInput(dy, w, shape, opts), conv2dBackwardInput(dy.cast("float64"), w.cast("float64"), shape, opts),
          Math.sqrt(c.og * c.kh * c.kw) * 8);
      });
    }), { numRuns: 60 });
  });

  it("the input gradient of strided convolutions by phases (stride-1 convolutions of dy, interleaved) agrees too", () => {
    const inputs = fc.record({
      n: fc.integer({ min: 1, max: 3 }), groups: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 4 }),
      og: fc.integer({ min: 1, max: 5 }), h: fc.integer({ min: 1, max: 12 }), w: fc.constantFrom(16, 24, 32, 48),
      kh: fc.integer({ min: 1, max: 3 }), kw: fc.integer({ min: 1, max: 3 }),
      stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
      dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), seed: fc.nat(),
    }).filter((c) => (c.stride[0] > 1 || c.stride[1] > 1) && windowOutSize(c.h, c.kh, c.stride[0], c.padding[0], c.dilation[0]) > 0
      && windowOutSize(c.w, c.kw, c.stride[1], c.padding[1], c.dilation[1]) > 0);
    fc.assert(fc.property(inputs, (c) => {
      tidy(() => {
        const g = new Generator(c.seed);
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        const shape = [c.n, c.cg * c.groups, c.h, c.w];
        const w = randn([c.og * c.groups, c.cg, c.kh, c.kw], { generator: g });
        const dy = randn([c.n, c.og * c.groups, windowOutSize(c.h, c.kh, c.stride[0], c.padding[0], c.dilation[0]),
          windowOutSize(c.w, c.kw, c.stride[1], c.padding[1], c.dilation[1])], { generator: g });
        close(conv2dBackwardInput(dy, w, shape, opts), conv2dBackwardInput(dy.cast("float64"), w.cast("float64"), shape, opts),
          Math.sqrt(c.og * c.kh * c.kw) * 8);
      });
    }), { numRuns: 80 });
  });

  it("3×3 convolutions of stride 1 by Winograd F(2×2, 3×3) (forward, and the input gradient as one where F(4×4, 3×3) does not apply) agree too", () => {
    const inputs = fc.record({
      n: fc.integer({ min: 1, max: 3 }), c: fc.integer({ min: 8, max: 21 }), o: fc.integer({ min: 8, max: 21 }),
      h: fc.integer({ min: 0, max: 7 }).map((t) => 4 * t + 2), w: fc.constantFrom(8, 16, 24, 40), seed: fc.nat(),
    }); // rows not in fours (else F(4×4, 3×3) takes them); 40 columns and 26 or more rows: tiles in two blocks, the second not a whole number of panels
    fc.assert(fc.property(inputs, (c) => stride1Agrees(c, (g) => winogradApplies(g, STRIDE_1) && !winograd4x4Applies(g, STRIDE_1), 4)), { numRuns: 40 });
  });

  it("3×3 convolutions of stride 1 where F(4×4, 3×3) applies (its input gradient, four images at a time; the forward pass by F(2×2, 3×3)) agree within its rounding", () => {
    const inputs = fc.record({
      n: fc.integer({ min: 1, max: 9 }), c: fc.integer({ min: 8, max: 40 }), o: fc.integer({ min: 8, max: 40 }),
      h: fc.integer({ min: 1, max: 9 }).map((t) => 4 * t), w: fc.integer({ min: 1, max: 9 }).map((t) => 4 * t), seed: fc.nat(),
    }); // batches that leave lanes of the last four empty; 32 or more columns of 16 or more channels: tile rows in several blocks
    // its transforms scale by up to 5 (Bᵀ) and 8 (Aᵀ) a side: some twenty times F(2×2, 3×3)'s rounding (packages/cpu/README.md)
    fc.assert(fc.property(inputs, (c) => stride1Agrees(c, (g) => winograd4x4Applies(g, STRIDE_1), 16)), { numRuns: 40 });
  });

  it("the weight gradient of 3×3 stride-1 convolutions by Winograd F(2×2, 3×3) agrees too", () => {
    const inputs = fc.record({
      n: fc.integer({ min: 1, max: 5 }), c: fc.constantFrom(8, 16, 24), o: fc.integer({ min: 2, max: 6 }).map((k) => 4 * k),
      h: fc.integer({ min: 0, max: 7 }).map((t) => 4 * t + 2), w: fc.constantFrom(8, 16, 40), seed: fc.nat(),
    }); // rows not in fours (else F(4×4, 3×3) takes them); small planes: several images a block; 40 columns and many rows: an image split into runs of tile rows
    fc.assert(fc.property(inputs, (c) => weightGradientAgrees(c, (g) => weightGradientTile(g, STRIDE_1) === 2, 4)), { numRuns: 40 });
  });

  it("the weight gradient of 3×3 stride-1 convolutions by Winograd F(4×4, 3×3) agrees within its rounding", () => {
    const inputs = fc.record({
      n: fc.integer({ min: 1, max: 5 }), c: fc.constantFrom(8, 16, 24), o: fc.integer({ min: 2, max: 6 }).map((k) => 4 * k),
      h: fc.integer({ min: 1, max: 10 }).map((t) => 4 * t), w: fc.integer({ min: 1, max: 10 }).map((t) => 4 * t), seed: fc.nat(),
    }); // small planes: several images a block; 40 columns and many rows: an image split into runs of tile rows
    fc.assert(fc.property(inputs, (c) => weightGradientAgrees(c, (g) => weightGradientTile(g, STRIDE_1) === 4, 16)), { numRuns: 40 });
  });

  it("give bit-identical results on one thread and on two", () => {
    const results = [1, 2].map((threads) => {
      setBackend(cpu({ threads }));
      return tidy(() => {
        const g = new Generator(7);
        // each case is above the size under which work stays on the calling thread
        const x = randn([5, 32, 17, 19], { generator: g });
        const w = randn([32, 16, 3, 2], { generator: g });
        const opts = { stride: [1, 2], padding: [1, 0], groups: 2 };
        const y = conv2d(x, w, opts); // 850 columns: two column blocks
        const dy = randn([...y.shape], { generator: g });
        const wide = randn([2, 64, 6, 6], { generator: g }); // dW's batch in two chunks, one a thread
        const ww = randn([32, 64, 3, 3], { generator: g });
        const dyy = randn([2, 32, 6, 6], { generator: g });
        const single = randn([1, 64, 12, 12], { generator: g }); // one image: dW's 576 rows shared instead
        const dySingle = randn([1, 32, 12, 12], { generator: g });
        const panels = conv2d(randn([3, 16, 21, 24], { generator: g }), randn([32, 16, 3, 3], { generator: g }), { padding: 1 }); // in place
        const flipped = conv2dBackwardInput(randn([3, 32, 21, 24], { generator: g }), randn([32, 16, 3, 3], { generator: g }), [3, 16, 21, 24], { padding: 1 });
        const tiles = conv2d(randn([3, 16, 22, 24], { generator: g }), randn([32, 16, 3, 3], { generator: g }), { padding: 1 }); // Winograd F(2×2, 3×3)
        const tilesBack = conv2dBackwardInput(randn([3, 32, 22, 24], { generator: g }), randn([32, 16, 3, 3], { generator: g }), [3, 16, 22, 24], { padding: 1 });
        // F(4×4, 3×3): images 0–7 on one thread, 8 on the other (its last four with three lanes empty)
        const tiles4 = conv2d(randn([9, 16, 8, 12], { generator: g }), randn([32, 16, 3, 3], { generator: g }), { padding: 1 });
        const tiles4Back = conv2dBackwardInput(randn([9, 32, 8, 12], { generator: g }), randn([32, 16, 3, 3], { generator: g }), [9, 16, 8, 12], { padding: 1 });
        const tilesWeight = conv2dBackwardWeight(randn([6, 16, 20, 24], { generator: g }), randn([6, 32, 20, 24], { generator: g }), [32, 16, 3, 3], { padding: 1 }); // F(4×4, 3×3)
        const tilesWeight2 = conv2dBackwardWeight(randn([6, 16, 22, 24], { generator: g }), randn([6, 32, 22, 24], { generator: g }), [32, 16, 3, 3], { padding: 1 }); // F(2×2, 3×3)
        // small batches (an m-sharpness group): dW's batch in the fewest chunks, two, by Winograd and directly
        const fewChunks = conv2dBackwardWeight(randn([16, 64, 8, 8], { generator: g }), randn([16, 64, 8, 8], { generator: g }), [64, 64, 3, 3], { padding: 1 });
        const strided = { stride: 2, padding: 1 };
        const fewStrided = conv2dBackwardWeight(randn([16, 32, 16, 16], { generator: g }), randn([16, 64, 8, 8], { generator: g }), [64, 32, 3, 3], strided);
        const phased = conv2d(randn([32, 16, 32, 32], { generator: g }), randn([32, 16, 3, 3], { generator: g }), strided); // in place, by column phases
        const byPhase = conv2dBackwardInput(randn([32, 32, 16, 16], { generator: g }), randn([32, 16, 3, 3], { generator: g }), [32, 16, 32, 32], strided);
        return [y, panels, flipped, tiles, tilesBack, tiles4, tiles4Back, tilesWeight, tilesWeight2, fewChunks, fewStrided, phased, byPhase, conv2dBackwardInput(dy, w, x.shape, opts), conv2dBackwardWeight(x, dy, w.shape, opts),
          conv2dBackwardWeight(wide, dyy, ww.shape, { padding: 1 }), conv2dBackwardWeight(single, dySingle, ww.shape, { padding: 1 }),
        ].map((t) => Array.from(t.dataSync()));
      });
    });
    setBackend(cpu());
    expect(results[1]).toEqual(results[0]);
  });

  it("handles a batch wider than one packing block", () => {
    tidy(() => {
      const x = randn([3, 16, 20, 20], { generator: new Generator(1) });
      const w = randn([20, 16, 3, 3], { generator: new Generator(2) });
      close(conv2d(x, w, { padding: 1 }), conv2d(x.cast("float64"), w.cast("float64"), { padding: 1 }), 60);
      const dy = randn([3, 20, 20, 20], { generator: new Generator(3) });
      close(conv2dBackwardWeight(x, dy, w.shape, { padding: 1 }), conv2dBackwardWeight(x.cast("float64"), dy.cast("float64"), w.shape, { padding: 1 }), 200);
      // fewer than eight output channels: dy is packed whole, over a depth of more than one block of
      // columns (found by the property above as a NaN: a table of 512 columns was filled with more)
      for (const n of [1, 3]) {
        const xs = randn([n, 2, 30, 30], { generator: new Generator(4) });
        const ws = [3, 2, 3, 3];
        const opts = { padding: 1 };
        const dys = randn([n, 3, 30, 30], { generator: new Generator(5) });
        close(conv2dBackwardWeight(xs, dys, ws, opts), conv2dBackwardWeight(xs.cast("float64"), dys.cast("float64"), ws, opts), 200);
      }
    });
  });

  it("give zeros for an empty sum (no channels, no images), even in reused buffers", () => {
    tidy(() => {
      // the output's size, freed full of NaN just before the op, so that the op reuses that buffer
      const zero = (shape: number[], op: () => Tensor) => {
        full(shape, NaN).dispose();
        const t = op();
        expect(Array.from(t.dataSync()).every((v) => v === 0)).toBe(true);
      };
      const [x, w] = [randn([2, 0, 5, 5]), randn([3, 0, 3, 3])];
      zero([2, 3, 3, 3], () => conv2d(x, w));
      const [x0, dy0] = [randn([0, 4, 5, 5]), randn([0, 3, 3, 3])];
      zero([3, 4, 3, 3], () => conv2dBackwardWeight(x0, dy0, [3, 4, 3, 3]));
      const [dy, w0] = [randn([2, 0, 3, 3]), randn([0, 4, 3, 3])];
      zero([2, 4, 5, 5], () => conv2dBackwardInput(dy, w0, [2, 4, 5, 5]));
      const [a, b] = [randn([3, 0]), randn([0, 5])];
      zero([3, 5], () => a.matmul(b));
    });
  });
});
