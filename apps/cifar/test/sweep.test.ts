// A sweep's pieces: the runs a grid expands to, Student's t, and the summary's arithmetic.
import { describe, expect, it } from "vitest";
import type { Config } from "../src/config.js";
import type { EpochMetrics, HessianSummary } from "../src/report.js";
import { estimate, studentQuantile, studentTwoSided, welch } from "../src/stats.js";
import { sweepCells, type SweepPlan } from "../src/sweepPlan.js";
import { summarizeSweep, type CellResult } from "../src/sweepSummary.js";
import { renderSweepMarkdown } from "../src/sweepMarkdown.js";
import { renderSweepReport } from "../src/sweepReport.js";

const base: Config = {
  dataset: "cifar10", model: "cnn", optimizer: "sgd", rho: 0.05, lr: 0.1, momentum: 0.9, weightDecay: 5e-4, schedule: "cosine",
  epochs: 2, batchSize: 64, labelSmoothing: 0, augment: "basic", labelNoise: 0, mixup: 0, swaLr: 0.05, device: "cpu", threads: 2, seed: 0,
};

describe("Student's t", () => {
  it("gives the tables' two-sided 95% quantiles", () => {
    // two-sided 95% points of Student's t, as printed in statistical tables
    const table: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [9, 2.262], [30, 2.042]];
    for (const [df, t] of table) expect(studentQuantile(0.95, df)).toBeCloseTo(t, 3);
    expect(studentTwoSided(0, 5)).toBe(0);
    expect(studentTwoSided(1e6, 7)).toBeCloseTo(1, 9);
    expect(() => studentQuantile(0.95, 0)).toThrow("studentTwoSided: df must be a positive integer, got 0");
  });

  it("estimates a mean with the sample sd and its interval", () => {
    const e = estimate([1, 2, 3]);
    expect([e.n, e.mean, e.sd]).toEqual([3, 2, 1]);
    expect(e.ci95![1] - 2).toBeCloseTo(4.303 / Math.sqrt(3), 3);
    expect(estimate([5]).ci95).toBeUndefined();
  });

  it("gives Welch's interval for two independent means", () => {
    // variances of the means 1/3 and 5/3, se √2, Welch–Satterthwaite df 4.08 → 4, t = 2.7764
    const w = welch([1, 2, 3], [2, 4, 6, 8]);
    expect(w.difference).toBe(-3);
    expect(w.ci95![0]).toBeCloseTo(-3 - 2.7764 * Math.SQRT2, 3);
    expect(w.ci95![1]).toBeCloseTo(-3 + 2.7764 * Math.SQRT2, 3);
    expect(welch([1], [2, 3]).ci95).toBeUndefined();
  });
});

describe("sweepCells", () => {
  it("crosses the lists seed by seed; ρ and m only for SAM and ASAM; names carry what varies", () => {
    const cells = sweepCells(base, { optimizers: ["sgd", "sam"], seeds: [0, 1], rho: [0.05, 0.1], m: [16, undefined], labelNoise: [0.2] });
    expect(cells.map((c) => c.name)).toEqual([
      "sgd-seed0", "sam-rho0.05-m16-seed0", "sam-rho0.05-m64-seed0", "sam-rho0.1-m16-seed0", "sam-rho0.1-m64-seed0",
      "sgd-seed1", "sam-rho0.05-m16-seed1", "sam-rho0.05-m64-seed1", "sam-rho0.1-m16-seed1", "sam-rho0.1-m64-seed1",
    ]);
    const c = cells[3].config;
    expect([c.optimizer, c.rho, c.m, c.labelNoise, c.seed]).toEqual(["sam", 0.1, 16, 0.2, 0]);
  });
});

describe("sweep variants", () => {
  it("give weight averaging and Mixup only to the optimizers listed with +swa and +mixup", () => {
    const cells = sweepCells({ ...base, swaStart: 3, mixup: 0.2 }, { optimizers: ["sgd", "sgd+swa", "sam+mixup", "sam+swa+mixup"], seeds: [1], rho: [0.05], m: [undefined], labelNoise: [0] });
    expect(cells.map((c) => [c.name, c.config.optimizer, c.config.swaStart, c.config.mixup])).toEqual([
      ["sgd-seed1", "sgd", undefined, 0], ["sgd+swa-seed1", "sgd", 3, 0], ["sam+mixup-seed1", "sam", undefined, 0.2], ["sam+swa+mixup-seed1", "sam", 3, 0.2],
    ]);
    // without a variant asking, the flags apply to every run
    const plain = sweepCells({ ...base, swaStart: 3 }, { optimizers: ["sgd", "sam"], seeds: [0], rho: [0.05], m: [undefined], labelNoise: [0] });
    expect(plain.map((c) => c.config.swaStart)).toEqual([3, 3]);
  });
});

describe("summarizeSweep", () => {
  const metrics = (acc: number, epochs = 2): EpochMetrics[] => Array.from({ length: epochs }, (_, i) => ({
    epoch: i + 1, trainLoss: 1, trainAcc: 0.9, testLoss: 1 - acc, testAcc: i === epochs - 1 ? acc : 0, lr: 0.1, seconds: 1, imagesPerSec: 1,
  }));
  const plan: SweepPlan = { config: base, grid: { optimizers: ["sgd", "sam"], seeds: [0, 1, 2], rho: [0.05], m: [undefined], labelNoise: [0, 0.4] } };

  it("pairs each configuration with the first optimizer's at the same noise; unfinished and diverged runs stay out", () => {
    const acc: Record<string, number> = {
      "sgd-noise0-seed0": 0.6, "sam-noise0-seed0": 0.62, "sgd-noise0.4-seed0": 0.4, "sam-noise0.4-seed0": 0.5,
      "sgd-noise0-seed1": 0.61, "sam-noise0-seed1": 0.64, "sgd-noise0.4-seed1": 0.42, "sam-noise0.4-seed1": 0.47,
      "sgd-noise0-seed2": 0.59, "sam-noise0-seed2": 0.6,
    };
    const results: CellResult[] = sweepCells(base, plan.grid).map((cell) => {
      if (cell.name === "sgd-noise0.4-seed2") return { cell, metrics: metrics(0.3, 1) }; // interrupted after an epoch
      if (cell.name === "sam-noise0.4-seed2") return { cell, metrics: [], diverged: { epoch: 1, step: 3, what: "the training loss is NaN" } };
      return { cell, metrics: metrics(acc[cell.name]) };
    });
    const s = summarizeSweep(plan, results);
    expect(s.groups.map((g) => [g.group, g.seeds, g.pending, g.diverged])).toEqual([
      ["sgd-noise0", [0, 1, 2], [], []], ["sam-noise0", [0, 1, 2], [], []], ["sgd-noise0.4", [0, 1], [2], []], ["sam-noise0.4", [0, 1], [], [2]],
    ]);
    expect(s.groups[1].estimates.testAcc!.mean).toBeCloseTo(0.62, 12);
    const noisy = s.differences.find((d) => d.group === "sam-noise0.4" && d.figure === "testAcc")!;
    expect(noisy.baseline).toBe("sgd-noise0.4");
    expect(noisy.seeds).toEqual([0, 1]);
    expect(noisy.values[0]).toBeCloseTo(0.1, 12);
    expect(noisy.values[1]).toBeCloseTo(0.05, 12);
    expect(s.differences.some((d) => d.group.startsWith("sgd"))).toBe(false);
    expect(s.differences.some((d) => d.figure === "lambdaMax")).toBe(false);
  });

  it("sets PyTorch's runs of the same cells beside @sam's: their own paired differences, and @sam against PyTorch unpaired", () => {
    const clean: SweepPlan = { ...plan, grid: { ...plan.grid, labelNoise: [0] } };
    const ours: Record<string, number> = { "sgd-seed0": 0.6, "sam-seed0": 0.62, "sgd-seed1": 0.61, "sam-seed1": 0.64, "sgd-seed2": 0.59, "sam-seed2": 0.6 };
    const theirs: Record<string, number> = { "sgd-seed0": 0.62, "sam-seed0": 0.66, "sgd-seed1": 0.6, "sam-seed1": 0.61, "sgd-seed2": 0.61 };
    const results: CellResult[] = sweepCells(base, clean.grid).map((cell) => ({
      cell, metrics: metrics(ours[cell.name]),
      // PyTorch's sam-seed2 is one epoch in: not counted
      pytorch: cell.name === "sam-seed2" ? metrics(0.5, 1) : metrics(theirs[cell.name]),
    }));
    const s = summarizeSweep(clean, results);
    expect(s.groups.map((g) => [g.group, g.seeds, g.pytorch?.seeds])).toEqual([["sgd", [0, 1, 2], [0, 1, 2]], ["sam", [0, 1, 2], [0, 1]]]);
    expect(s.groups[0].pytorch!.estimates.testAcc!.mean).toBeCloseTo(0.61, 12);
    const paired = s.differences.find((d) => d.system === "pytorch" && d.figure === "testAcc")!;
    expect([paired.group, paired.baseline, paired.seeds]).toEqual(["sam", "sgd", [0, 1]]);
    expect(paired.values[0]).toBeCloseTo(0.04, 12);
    expect(paired.values[1]).toBeCloseTo(0.01, 12);
    const sgd = s.againstPytorch.find((a) => a.group === "sgd" && a.figure === "testAcc")!;
    expect(sgd.difference).toBeCloseTo(-0.01, 12);
    expect(sgd.sd).toBeCloseTo(0.01, 12); // both sides' seeds spread by 0.01
    expect(sgd.withinOneSd).toBe(true);
    expect(sgd.ci95![0]).toBeLessThan(-0.01);
    const sam = s.againstPytorch.find((a) => a.group === "sam" && a.figure === "testAcc")!;
    expect(sam.difference).toBeCloseTo(0.62 - 0.635, 12);
    expect(sam.sd).toBeCloseTo(0.05 / Math.SQRT2, 12); // PyTorch's two seeds (0.66, 0.61) spread more than @sam's three (sd 0.02)
    expect(s.againstPytorch.some((a) => a.figure === "lambdaMax")).toBe(false); // no Hessian on either side
  });

  it("sets PyTorch's Hessians (torch_hessian.py) beside @sam's where both sides measured them", () => {
    const clean: SweepPlan = { ...plan, grid: { ...plan.grid, labelNoise: [0] } };
    const hessian = (lambdaMax: number) => ({ lambdaMax, ratio: lambdaMax / 10 }) as HessianSummary;
    const results: CellResult[] = sweepCells(base, clean.grid).map((cell, i) => ({
      cell, metrics: metrics(0.6), hessian: hessian(100 + i), pytorch: metrics(0.6),
      pytorchHessian: cell.name.startsWith("sgd") ? hessian(110 + i) : undefined,
    }));
    const s = summarizeSweep(clean, results);
    const sgd = s.groups.find((g) => g.group === "sgd")!;
    expect(sgd.pytorch!.seeds.map((seed) => sgd.pytorch!.perSeed[seed].lambdaMax)).toEqual(results.filter((r) => r.cell.group === "sgd").map((r) => r.pytorchHessian!.lambdaMax));
    const against = s.againstPytorch.find((a) => a.group === "sgd" && a.figure === "lambdaMax")!;
    expect(against.difference).toBeCloseTo(-10, 12);
    expect(s.againstPytorch.find((a) => a.group === "sgd" && a.figure === "ratio")!.difference).toBeCloseTo(-1, 12);
    expect(s.againstPytorch.some((a) => a.group === "sam" && a.figure === "lambdaMax")).toBe(false); // PyTorch's SAM has none
  });
});

describe("renderSweepMarkdown", () => {
  const metrics = (acc: number): EpochMetrics[] => [1, 2].map((epoch) => ({
    epoch, trainLoss: 1, trainAcc: 0.9, testLoss: 1 - acc, testAcc: epoch === 2 ? acc : 0, lr: 0.1, seconds: 1, imagesPerSec: 1,
  }));
  const hessian = (eigenvalues: number[]) => ({ examples: 100, k: 3, iterations: 10, lambdaMax: eigenvalues[0], eigenvalues, ratio: eigenvalues[0] / eigenvalues[2], trace: 50, traceStdErr: 4.25, traceProbes: 5,
    density: { grid: [0, 10], values: [0.5, 0.5] } }) as HessianSummary;
  const plan: SweepPlan = { config: base, grid: { optimizers: ["sgd", "sam"], seeds: [0, 1], rho: [0.05], m: [undefined], labelNoise: [0] } };

  it("tabulates every seed (unfinished ones as —), the paired differences, the spectra and @sam against PyTorch", () => {
    const ours: Record<string, number> = { "sgd-seed0": 0.6, "sam-seed0": 0.62, "sgd-seed1": 0.61 };
    const results: CellResult[] = sweepCells(base, plan.grid).map((cell) => cell.name === "sam-seed1"
      ? { cell, metrics: metrics(0.5).slice(0, 1) } // one epoch of two: not finished
      : { cell, metrics: metrics(ours[cell.name]), pytorch: metrics(ours[cell.name] + 0.01), hessian: cell.name === "sgd-seed0" ? hessian([9, 6, 3]) : undefined,
        pytorchHessian: cell.name === "sgd-seed1" ? { ...hessian([8, 4, 2]), traceProbes: 10 } : undefined });
    const md = renderSweepMarkdown(plan, summarizeSweep(plan, results), results);
    expect(md).toContain("2 epochs a run; 3 of 4 runs finished on @sam, 3 on PyTorch.");
    const lines = md.split("\n");
    const section = (heading: string) => lines.slice(lines.indexOf(heading) + 2, lines.indexOf(heading) + 2 + lines.slice(lines.indexOf(heading) + 2).findIndex((l) => l === ""));
    expect(section("## Final test accuracy (%)")).toEqual([
      "| configuration | system | seed 0 | seed 1 | mean ± sd |", "| --- | --- | --- | --- | --- |",
      "| sgd | @sam | 60.00 | 61.00 | 60.50 ± 0.71 |", "| sgd | PyTorch | 61.00 | 62.00 | 61.50 ± 0.71 |",
      "| sam | @sam | 62.00 | — | 62.00 (one seed) |", "| sam | PyTorch | 63.00 | — | 63.00 (one seed) |",
    ]);
    // only SGD has Hessians (@sam's seed 0, PyTorch's seed 1): no SAM rows
    expect(section("## λmax")).toEqual(["| configuration | system | seed 0 | seed 1 | mean ± sd |", "| --- | --- | --- | --- | --- |",
      "| sgd | @sam | 9.000 | — | 9.000 (one seed) |", "| sgd | PyTorch | — | 8.000 | 8.000 (one seed) |"]);
    expect(md).toContain("## λmax/λ3");
    expect(md).toContain("| sgd | @sam | 0 | 9.000, 6.000, 3.000 | 3.00 | 50.00 ± 4.3 |");
    // settings the two systems share are said once, the others system by system
    expect(md).toContain("The loss over the first 100 training images (as trained, without augmentation), 10 Lanczos steps; the trace by Hutchinson's estimator with 5 (@sam) and 10 (PyTorch) probes.");
    expect(md).toContain("| sgd | PyTorch | 1 | 8.000, 4.000, 2.000 | 4.00 | 50.00 ± 4.3 |");
    expect(md).toContain("| sam − sgd | @sam | final test acc | +2.00 | — | +2.00 | needs two seeds |");
    expect(md).toContain("| sgd | final test acc | 60.50 ± 0.71 | 61.50 ± 0.71 | -1.00 | no | ");
    // the HTML report lists the same spectra
    const html = renderSweepReport(plan, summarizeSweep(plan, results), results);
    expect(html).toContain("<tr><td>sgd-seed0</td><td>@sam</td><td>9.000, 6.000, 3.000</td><td>3.00</td><td>50.00 ± 4.3</td></tr>");
    expect(html).toContain("<tr><td>sgd-seed1</td><td>PyTorch</td><td>8.000, 4.000, 2.000</td><td>4.00</td><td>50.00 ± 4.3</td></tr>");
  });

  it("leaves out what no run measured", () => {
    const results: CellResult[] = sweepCells(base, plan.grid).map((cell) => ({ cell, metrics: [] }));
    const md = renderSweepMarkdown(plan, summarizeSweep(plan, results), results);
    expect(md).toContain("0 of 4 runs finished on @sam, 0 on PyTorch");
    expect(md).toContain("| sam | @sam | — | — | — |");
    for (const absent of ["## λmax", "## Hessian spectra", "## Differences", "## @sam against PyTorch", "PyTorch |"]) expect(md).not.toContain(absent);
  });
});
