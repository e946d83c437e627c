// report.html as a reader sees it: every step's loss, round ticks, runs that stay distinguishable,
// speed and data in the summary, the configuration once with differences marked, and the caveats.
import { describe, expect, it } from "vitest";
import type { Config } from "../src/config.js";
import { niceTicks, renderReport, type EpochMetrics, type RunSummary } from "../src/report.js";

const config: Config = {
  dataset: "cifar10", model: "cnn", optimizer: "sgd", rho: 0.05, lr: 0.1, momentum: 0.9, weightDecay: 5e-4, schedule: "cosine",
  epochs: 2, batchSize: 64, labelSmoothing: 0, augment: "basic", labelNoise: 0, mixup: 0, swaLr: 0.05, device: "cpu", threads: 2, seed: 0,
};

function epoch(n: number, stepLosses: number[]): EpochMetrics {
  return { epoch: n, trainLoss: 2 - n / 10, trainAcc: 0.3, testLoss: 2.1, testAcc: 0.25, lr: 0.1, seconds: 30, imagesPerSec: 250 + n, stepLosses };
}

const sgd: RunSummary = { name: "sgd", config, metrics: [epoch(1, [2.3, 2.2, 2.1]), epoch(2, [2.0, 1.9, 1.8])], data: "a.tar.gz (official MD5)" };
const sam: RunSummary = { ...sgd, name: "sam", config: { ...config, optimizer: "sam" } };

/** The points of the polylines titled `title`. */
const points = (html: string, title: string) => [...html.matchAll(/points="([^"]*)"><title>([^<]*)</g)].filter((m) => m[2] === title).map((m) => m[1].split(" ").length);

describe("renderReport", () => {
  it("plots the training loss of every step, not two points an epoch", () => {
    const html = renderReport("t", [sgd]);
    expect(points(html, "sgd")).toEqual([6]);
  });

  it("gives each run its own colour, dash and marker, so coinciding curves stay apart", () => {
    const html = renderReport("t", [sgd, sam]);
    expect(html).toMatch(/stroke="#1f77b4" stroke-width="2" stroke-opacity="1" points="[^"]*"><title>sgd test/);
    expect(html).toMatch(/stroke="#d62728" stroke-width="2" stroke-dasharray="7 4" stroke-opacity="1" points="[^"]*"><title>sam test/);
    expect(html).toContain("<circle");
    expect(html).toContain("<rect");
  });

  it("puts images/s, the data's provenance and each run's status in the summary", () => {
    const html = renderReport("t", [sgd]);
    expect(html).toContain("<th>images/s</th>");
    expect(html).toContain("<td>251.5</td>");
    expect(html).toContain("Data: a.tar.gz (official MD5)");
    expect(html).toContain("<td>2 of 2 epochs</td>");
  });

  it("shows the configuration once, highlighting what differs between runs", () => {
    const html = renderReport("t", [sgd, sam]);
    expect(html).toContain('<tr class="differs"><th>optimizer</th><td>sgd</td><td>sam</td></tr>');
    expect(html).toContain('<tr><th>lr</th><td colspan="2">0.1</td></tr>');
    expect(html.match(/<th>lr<\/th>/g)).toHaveLength(1);
  });

  it("states the caveats of one seed and a short run, and shows a divergence as such", () => {
    const diverged = { ...sam, metrics: sam.metrics.slice(0, 1), diverged: { epoch: 2, step: 3, what: "the training loss is NaN" } };
    const html = renderReport("t", [sgd, diverged]);
    expect(html).toContain("Every run here uses one seed (0)");
    expect(html).toContain("2 epochs is a short run");
    expect(html).toContain('<td class="diverged">diverged at epoch 2, step 3</td>');
    expect(html).toContain("sam diverged at epoch 2, step 3 (the training loss is NaN)");
    const long = { ...sgd, config: { ...config, epochs: 200 } };
    expect(renderReport("t", [long, { ...long, config: { ...long.config, seed: 1 } }])).not.toContain("Read with care");
  });

  it("ticks at round values that cover the data", () => {
    expect(niceTicks(1.63, 2.31)).toEqual([1.6, 1.8, 2, 2.2, 2.4]);
    expect(niceTicks(0, 37)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0.00012, 0.00049)).toEqual([0.0001, 0.0002, 0.0003, 0.0004, 0.0005]);
  });
});
