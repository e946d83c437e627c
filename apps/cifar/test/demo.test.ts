// The demonstration's settings and the seeds' spread it prints beside its one run.
import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../src/config.js";
import { DEMO, DEMO_SWEEP, sweepSpread } from "../src/demo.js";
import type { SweepSummary } from "../src/sweepSummary.js";

describe("the demonstration", () => {
  it("runs the configuration of the sweep whose spread it prints", async () => {
    const sweep = JSON.parse(await readFile(new URL("sweep.json", DEMO_SWEEP), "utf8")) as { config: Record<string, unknown> };
    for (const [key, value] of Object.entries(DEMO)) expect(sweep.config[key], key).toEqual(value);
    const defaults = parseCommand([]).config; // what the demonstration does not set is the trainer's default
    for (const key of ["lr", "momentum", "weightDecay", "schedule", "batchSize", "mixup", "labelSmoothing", "seed"] as const) expect(sweep.config[key], key).toEqual(defaults[key]);
  });

  it("prints each optimizer's mean ± sd over the seeds and the paired difference with its interval", async () => {
    const summary: Pick<SweepSummary, "groups" | "differences"> = {
      groups: [
        { group: "sgd", optimizer: "sgd", variant: "sgd", labelNoise: 0.4, seeds: [0, 1], pending: [], diverged: [], perSeed: {},
          estimates: { testAcc: { n: 2, mean: 0.3, sd: 0.01 } }, pytorch: { seeds: [0, 1], perSeed: {}, estimates: { testAcc: { n: 2, mean: 0.31, sd: 0.02 } } } },
        { group: "sam", optimizer: "sam", variant: "sam", rho: 0.1, labelNoise: 0.4, seeds: [0, 1], pending: [], diverged: [], perSeed: {},
          estimates: { testAcc: { n: 2, mean: 0.35, sd: 0.03 } }, pytorch: { seeds: [0], perSeed: {}, estimates: { testAcc: { n: 1, mean: 0.36, sd: 0 } } } },
      ],
      differences: [{ system: "@sam", group: "sam", baseline: "sgd", figure: "testAcc", seeds: [0, 1], values: [0.04, 0.06],
        estimate: { n: 2, mean: 0.05, sd: 0.0141, ci95: [-0.077, 0.177] } }],
    };
    const dir = mkdtempSync(join(tmpdir(), "demo-"));
    const demo = { ...parseCommand([]).config, ...DEMO };
    writeFileSync(join(dir, "summary.json"), JSON.stringify(summary));
    writeFileSync(join(dir, "sweep.json"), JSON.stringify({ config: { ...demo, threads: 1, seed: 2 } })); // where it ran and its seeds do not matter
    const url = pathToFileURL(join(dir, "summary.json"));
    const figures = [
      "  sgd: @sam 30.00 ± 1.00, PyTorch 31.00 ± 2.00",
      "  sam: @sam 35.00 ± 3.00, PyTorch 36.00 ± 0.00 (seeds 0)", // PyTorch's runs not all finished
      "  sam − sgd paired by seed (@sam): +5.00 ± 1.41 points (95% interval −7.70 to +17.70; seeds +4.00, +6.00)",
    ];
    expect(await sweepSpread(demo, url)).toEqual(["over seeds 0, 1 of this configuration (experiments/r20-2k-noise40, final test accuracy, %):", ...figures]);
    // a run with other settings is told that the spread is of the demonstration's own
    expect(await sweepSpread({ ...demo, epochs: 1, trainSubset: 256 }, url)).toEqual([
      "the demonstration's own configuration (this run differs in epochs, trainSubset) over seeds 0, 1 (experiments/r20-2k-noise40, final test accuracy, %):", ...figures]);
  });

  it("prints nothing where the sweep is not at hand", async () => {
    expect(await sweepSpread(parseCommand([]).config, pathToFileURL(join(tmpdir(), "no-such-sweep", "summary.json")))).toBeNull();
  });
});
