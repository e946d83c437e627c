// The demonstration `pnpm cifar` runs, and what the sweep of its configuration found over seeds:
// one seed's difference says little, so the run is printed beside the seeds' spread.
import { readFile } from "node:fs/promises";
import type { Config } from "./config.js";
import type { SweepSummary } from "./sweepSummary.js";

/**
 * The demonstration's settings (the duration is in --help): SGD against SAM where the sweeps found
 * SAM's largest effect that fits in about a quarter of an hour, ResNet-20 trained until SGD
 * memorises 40% of random labels.
 */
export const DEMO: Partial<Config> = { model: "resnet20", epochs: 40, trainSubset: 2000, testSubset: 2000, augment: "none", labelNoise: 0.4, rho: 0.1 };

/** The sweep of the demonstration's configuration over seeds, in the repository. */
export const DEMO_SWEEP = new URL("../../../experiments/r20-2k-noise40/summary.json", import.meta.url);

const points = (x: number) => (100 * x).toFixed(2);
const signed = (x: number) => `${x >= 0 ? "+" : "−"}${points(Math.abs(x))}`;

/** The settings that decide a run's figures: where the run differs from the sweep in any, the sweep is another configuration. */
const DECIDING = ["dataset", "model", "epochs", "batchSize", "trainSubset", "testSubset", "augment", "labelNoise", "labelSmoothing", "mixup",
  "rho", "m", "lr", "momentum", "weightDecay", "schedule"] as const;

/**
 * Lines that set the demonstration beside its sweep: each optimizer's final test accuracy over
 * the sweep's seeds (@sam and PyTorch), and SAM − SGD paired by seed with its 95% interval, headed
 * by the settings in which `run` (the configuration just trained) differs from the sweep's; null
 * where the sweep's summary is not at `summaryUrl` (the trainer run outside this repository).
 */
export async function sweepSpread(run: Config, summaryUrl: URL = DEMO_SWEEP): Promise<string[] | null> {
  let summary: SweepSummary;
  let swept: Partial<Config>;
  try {
    summary = JSON.parse(await readFile(summaryUrl, "utf8")) as SweepSummary;
    swept = (JSON.parse(await readFile(new URL("sweep.json", summaryUrl), "utf8")) as { config: Partial<Config> }).config;
  } catch {
    return null;
  }
  const differing = DECIDING.filter((k) => run[k] !== swept[k]);
  const lines = [differing.length === 0
    ? `over seeds ${summary.groups[0]?.seeds.join(", ")} of this configuration (experiments/r20-2k-noise40, final test accuracy, %):`
    : `the demonstration's own configuration (this run differs in ${differing.join(", ")}) over seeds ${summary.groups[0]?.seeds.join(", ")} (experiments/r20-2k-noise40, final test accuracy, %):`];
  for (const g of summary.groups) {
    const ours = g.estimates.testAcc;
    const theirs = g.pytorch?.estimates.testAcc;
    if (!ours) continue;
    const theirSeeds = g.pytorch && g.pytorch.seeds.join() !== g.seeds.join() ? ` (seeds ${g.pytorch.seeds.join(", ")})` : "";
    lines.push(`  ${g.group}: @sam ${points(ours.mean)} ± ${points(ours.sd)}${theirs ? `, PyTorch ${points(theirs.mean)} ± ${points(theirs.sd)}${theirSeeds}` : ""}`);
  }
  for (const d of summary.differences.filter((x) => x.figure === "testAcc")) {
    const interval = d.estimate.ci95 ? `95% interval ${signed(d.estimate.ci95[0])} to ${signed(d.estimate.ci95[1])}; ` : "";
    lines.push(`  ${d.group} − ${d.baseline} paired by seed (${d.system}): ${signed(d.estimate.mean)} ± ${points(d.estimate.sd)} points (${interval}seeds ${d.values.map(signed).join(", ")})`);
  }
  return lines;
}
