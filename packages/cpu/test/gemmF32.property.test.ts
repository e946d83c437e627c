// The WebAssembly SIMD GEMM against the float64 reference, over random sizes (tile edges, 0, 1,
// block edges; heights that take four-row tiles and five-row tiles), transposes and accumulation,
// within float32 rounding.
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gemm, gemmF32, multiplyAddPeak, simdAvailable } from "../src/index.js";
import { tileRows } from "../src/wasm/gemmKernel.js";

describe("gemmF32 (WebAssembly SIMD)", () => {
  it("compiles and runs on this machine", () => {
    expect(simdAvailable()).toBe(true);
  });

  it("measures its instructions' peak rate (a finite, positive GFLOP/s)", () => {
    const peak = multiplyAddPeak(1);
    expect(peak).not.toBeNull();
    expect(Number.isFinite(peak) && peak! > 0).toBe(true);
  });

  it("equals the reference within float32 rounding", () => {
    const size = fc.oneof(fc.constantFrom(0, 1, 3, 4, 7, 8, 9, 127, 128, 129), fc.integer({ min: 0, max: 140 }));
    const depth = fc.oneof(fc.constantFrom(0, 1, 255, 256, 257), fc.integer({ min: 0, max: 600 }));
    fc.assert(
      fc.property(size, fc.oneof(size, fc.constantFrom(511, 512, 513)), depth, fc.boolean(), fc.boolean(), fc.boolean(), (m, n, k, ta, tb, acc) => {
        const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
        const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.7));
        const av = ta ? { data: a, offset: 0, rowStride: 1, colStride: m } : { data: a, offset: 0, rowStride: k, colStride: 1 };
        const bv = tb ? { data: b, offset: 0, rowStride: 1, colStride: k } : { data: b, offset: 0, rowStride: n, colStride: 1 };
        const fast = new Float32Array(m * n).fill(acc ? 0.5 : 9);
        const reference = new Float64Array(m * n).fill(0.5);
        gemmF32(m, n, k, av, bv, fast, 0, n, acc);
        gemm(m, n, k, av, bv, reference, 0, n, acc);
        // float32 summation of k products: error ≤ k·2⁻²⁴·Σ|products| (the standard bound; twice that, with room)
        const magnitude = new Float64Array(m * n).fill(0.5);
        const abs = (v: typeof av, data: Float32Array) => ({ ...v, data: data.map(Math.abs) });
        gemm(m, n, k, abs(av, a), abs(bv, b), magnitude, 0, n, acc);
        for (let i = 0; i < m * n; i++) {
          const tol = 2 ** -23 * (k + 2) * magnitude[i] + 1e-7;
          if (Math.abs(fast[i] - reference[i]) > tol) expect.fail(`m=${m} n=${n} k=${k}: element ${i} is ${fast[i]}, reference ${reference[i]}`);
        }
      }),
      { numRuns: 80 },
    );
  });

  // A is packed whole up front when it fits (rows staged many at a time, or not staged when one
  // panel's rows exceed the staging area), else block by block. Small integers make every product
  // and partial sum exact in float32, so any misplaced element shows as a difference.
  it.each([
    ["whole, rows staged in chunks", 21, 9000],
    ["whole, a panel too long to stage", 5, 40000],
    ["block by block (too big to keep whole)", 161, 8200],
  ])("packs A %s, exactly", (_, m, k) => {
    const n = 9;
    const small = (seed: number) => (i: number) => (Math.imul(i + seed, 2654435761) >>> 27) % 9 - 4;
    const a = Float32Array.from({ length: m * k }, (_, i) => small(1)(i));
    const b = Float32Array.from({ length: k * n }, (_, i) => small(2)(i));
    for (const transposed of [false, true]) {
      const av = transposed ? { data: a, offset: 0, rowStride: 1, colStride: m } : { data: a, offset: 0, rowStride: k, colStride: 1 };
      const bv = { data: b, offset: 0, rowStride: n, colStride: 1 };
      const fast = new Float32Array(m * n);
      const reference = new Float64Array(m * n);
      gemmF32(m, n, k, av, bv, fast, 0, n, false);
      gemm(m, n, k, av, bv, reference, 0, n, false);
      expect(Array.from(fast)).toEqual(Array.from(reference));
    }
  });
});

describe("tileRows", () => {
  it("takes five-row tiles unless they pad over 10% more rows than four-row tiles", () => {
    expect([16, 8, 4, 3].map(tileRows)).toEqual([4, 4, 4, 4]);
    expect([1024, 64, 32, 10, 9, 5].map(tileRows)).toEqual([5, 5, 5, 5, 5, 5]);
    const padded = (m: number, to: number) => Math.ceil(m / to) * to;
    for (let m = 1; m <= 300; m++) expect(padded(m, tileRows(m))).toBeLessThanOrEqual(1.1 * padded(m, 4));
  });
});

describe("matmul on threads", () => {
  it("gives bit-identical results on one thread and on two", async () => {
    const { Generator, matmul, randn, setBackend, tidy } = await import("@sam/tensor");
    const { cpu, workerShares } = await import("../src/index.js");
    const shares: number[] = [];
    const results = [1, 2].map((threads) => {
      setBackend(cpu({ threads }));
      const before = workerShares();
      const values = tidy(() => {
        const g = new Generator(4);
        return Array.from(matmul(randn([3, 37, 300], { generator: g }), randn([300, 1100], { generator: g })).dataSync());
      });
      shares.push(workerShares() - before);
      return values;
    });
    setBackend(cpu());
    expect(shares[0]).toBe(0);
    expect(shares[1]).toBeGreaterThan(0); // the two-thread product gave the worker a share
    expect(results[1]).toEqual(results[0]);
  });
});

describe("the kernel with and without relaxed SIMD", () => {
  // a child process per engine setting: a process compiles its kernel once
  const script = `
    const { fusedMultiplyAdd, gemm, gemmF32 } = await import("@sam/cpu");
    const [m, n, k] = [37, 45, 300];
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
    const got = new Float32Array(m * n);
    const want = new Float64Array(m * n);
    gemmF32(m, n, k, { data: a, offset: 0, rowStride: k, colStride: 1 }, { data: b, offset: 0, rowStride: n, colStride: 1 }, got, 0, n, false);
    gemm(m, n, k, { data: a, offset: 0, rowStride: k, colStride: 1 }, { data: b, offset: 0, rowStride: n, colStride: 1 }, want, 0, n, false);
    const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
    console.log(JSON.stringify({ fused: fusedMultiplyAdd(), worst }));`;
  const run = (flags: string[]) => JSON.parse(execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script], { encoding: "utf8" })) as { fused: boolean; worst: number };
  const bound = 300 * 2 ** -24 * 300; // k·ε·Σ|aᵢbᵢ| with |aᵢbᵢ| ≤ 1

  it("multiplies and adds fused by default (Node 20 has relaxed SIMD behind a flag that @sam/cpu turns on)", () => {
    const { fused, worst } = run([]);
    expect(fused).toBe(true);
    expect(worst).toBeLessThan(bound);
  });

  it("multiplies, then adds when the process turns relaxed SIMD off, and agrees with the reference too", () => {
    const { fused, worst } = run(["--no-experimental-wasm-relaxed-simd"]);
    expect(fused).toBe(false);
    expect(worst).toBeLessThan(bound);
  });
});
