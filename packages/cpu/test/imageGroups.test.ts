// A convolution whose weight holds one kernel per group of images, [G, O, C/groups, kH, kW], is the
// groups' own convolutions side by side: forward and both gradients, bit for bit, in float64 on
// the reference kernels and in float32 on the fast ones (one and two threads).
import { describe, expect, it } from "vitest";
import {
  concat, conv2d, conv2dBackwardInput, conv2dBackwardWeight, Generator, randn, setBackend, stack, tidy, type Backend, type DType, type Tensor,
} from "@sam/tensor";
import { cpu, workerShares } from "../src/index.js";

// groups of n images; the last three are large enough that two threads take whole groups each
const cases = [
  { name: "3×3 stride 1, small", groups: 3, n: 2, c: 8, o: 8, size: 8, k: 3, p: { padding: 1 } },
  { name: "3×3 stride 2, channel groups", groups: 3, n: 3, c: 4, o: 6, size: 9, k: 3, p: { padding: 1, stride: 2, groups: 2 } },
  { name: "1×1 stride 2", groups: 3, n: 1, c: 3, o: 5, size: 6, k: 1, p: { stride: 2 } },
  { name: "3×3 stride 1 (Winograd), shared", groups: 4, n: 2, c: 16, o: 16, size: 16, k: 3, p: { padding: 1 } },
  { name: "3×3 stride 2, shared", groups: 4, n: 3, c: 16, o: 32, size: 16, k: 3, p: { padding: 1, stride: 2 } },
  { name: "3×3 stride 1, odd sizes, shared unevenly", groups: 5, n: 1, c: 12, o: 20, size: 13, k: 3, p: { padding: 1 } },
];

const same = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
};

describe.each([
  ["reference, float64", () => cpu({ kernels: "reference" }), "float64", 1],
  ["fast, float32, one thread", () => cpu({ threads: 1 }), "float32", 1],
  ["fast, float32, two threads", () => cpu({ threads: 2 }), "float32", 2],
] as [string, () => Backend, DType, number][])("a kernel per group of images: %s", (_, make, dtype, threads) => {
  it.each(cases)("$name: each group's own convolution", ({ groups, n, c, o, size, k, p }) => {
    setBackend(make());
    tidy(() => {
      const g = new Generator(7);
      const x = randn([groups * n, c, size, size], { generator: g, dtype });
      const w = randn([groups, o, c / (p.groups ?? 1), k, k], { generator: g, dtype });
      const shares = workerShares();
      const y = conv2d(x, w, p);
      const dy = randn([...y.shape], { generator: g, dtype });
      const rows = (t: Tensor, i: number) => t.slice([[i * n, (i + 1) * n]]);
      const each = (i: number) => w.slice([[i, i + 1]]).squeeze(0);
      const all = Array.from({ length: groups }, (_, i) => i);
      const [gy, gdx, gdw] = [y, conv2dBackwardInput(dy, w, x.shape, p), conv2dBackwardWeight(x, dy, w.shape, p)];
      if (threads > 1 && groups > 3) expect(workerShares() - shares).toBe(3); // a worker took whole groups, once a call
      same(gy, concat(all.map((i) => conv2d(rows(x, i), each(i), p))));
      same(gdx, concat(all.map((i) => conv2dBackwardInput(rows(dy, i), each(i), rows(x, i).shape, p))));
      same(gdw, stack(all.map((i) => conv2dBackwardWeight(rows(x, i), rows(dy, i), each(i).shape, p))));
    });
  });
});

describe("a kernel per group of images: bad shapes", () => {
  it("names the images that do not split into the weight's groups", () => {
    setBackend(cpu({ kernels: "reference" }));
    tidy(() => {
      const x = randn([5, 2, 4, 4]);
      expect(() => conv2d(x, randn([2, 3, 2, 3, 3]))).toThrow(/conv2d: the 5 images of input \[5,2,4,4\] do not split into the 2 groups of weight \[2,3,2,3,3\]/);
      expect(() => conv2d(x, randn([3, 2, 3]))).toThrow(/conv2d: weight must be \[O,C\/groups,kH,kW\] or, one per group of images, \[G,O,C\/groups,kH,kW\]/);
    });
  });
});
