// The guide's result tables are the sweeps' summaries: docs/sweepTables.mjs copies each marked
// table from experiments/*/summary.md, and this holds the committed guide to them, so a figure the
// guide quotes in a table is one the runs in the repository hold.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ROOT } from "./userProject.js";

type Refresh = (markdown: string, file?: string, experiments?: string) => string;
const { refreshTables } = (await import(pathToFileURL(join(ROOT, "docs", "sweepTables.mjs")).href)) as { refreshTables: Refresh };

const GUIDE = "docs/guides/reproducing-sam.md";
const summaryLines = (dir: string) => readFileSync(join(ROOT, "experiments", dir, "summary.md"), "utf8").split("\n");
const mark = (spec: object) => `<!-- table ${JSON.stringify(spec)} -->`;
const stale = "| configuration | system |\n| --- | --- |\n| stale | row |";

describe("the guide's result tables", () => {
  it("are the sweeps' summaries as they stand", () => {
    const guide = readFileSync(join(ROOT, GUIDE), "utf8");
    const marked = guide.split("\n").filter((l) => l.startsWith("<!-- table ")).length;
    expect(marked).toBeGreaterThan(10);
    const fresh = refreshTables(guide, GUIDE);
    const differing = fresh.split("\n").filter((line, i) => line !== guide.split("\n")[i]);
    expect(differing, `run node docs/sweepTables.mjs to copy the summaries into ${GUIDE}`).toEqual([]);
  });

  it("copy a summary's table under a marker, replacing what stood there", () => {
    const lines = summaryLines("r20-2k-noise40");
    const at = lines.indexOf("## λmax");
    const table = lines.slice(at + 2, lines.findIndex((l, i) => i > at + 2 && !l.startsWith("|")));
    const out = refreshTables(`before\n\n${mark({ sweeps: ["r20-2k-noise40"], section: "λmax" })}\n${stale}\n\nafter`);
    expect(out).toBe(`before\n\n${mark({ sweeps: ["r20-2k-noise40"], section: "λmax" })}\n${table.join("\n")}\n\nafter`);
    expect(table.length).toBeGreaterThan(3);
  });

  it("select, rename and prefix rows", () => {
    const out = refreshTables(`${mark({
      sweeps: [{ dir: "r20-2k-noise40", only: "sam", label: "sam (m = 128)" }, { dir: "r20-2k-noise60", prefix: "60%: " }],
      section: "@sam against PyTorch", figures: ["final test acc"],
    })}\n${stale}`);
    const firstCells = out.split("\n").slice(3).map((l) => l.split(" | ").slice(0, 2).join(" | "));
    expect(firstCells).toEqual(["| sam (m = 128) | final test acc", "| 60%: sgd | final test acc", "| 60%: sam | final test acc"]);
  });

  it("set sweeps of different seeds under the seed columns of them all", () => {
    const experiments = mkdtempSync(join(tmpdir(), "sam-tables-"));
    const summary = (dir: string, table: string) => {
      mkdirSync(join(experiments, dir));
      writeFileSync(join(experiments, dir, "summary.md"), `# Sweep\n\n## Final test accuracy (%)\n\n${table}\n\nmore\n`);
    };
    summary("a", "| configuration | system | seed 0 | seed 1 | mean ± sd |\n| --- | --- | --- | --- | --- |\n| sgd | @sam | 50.00 | 52.00 | 51.00 ± 1.41 |");
    summary("b", "| configuration | system | seed 1 | seed 2 | mean ± sd |\n| --- | --- | --- | --- | --- |\n| asam | @sam | 53.00 | 55.00 | 54.00 ± 1.41 |");
    summary("c", "| configuration | seed 0 | mean ± sd |\n| --- | --- | --- |\n| asam | 53.00 | 53.00 (one seed) |");
    const marked = (...sweeps: string[]) => `${mark({ sweeps, section: "Final test accuracy (%)" })}\n${stale}`;
    expect(refreshTables(marked("a", "b"), "g.md", experiments).split("\n").slice(1)).toEqual([
      "| configuration | system | seed 0 | seed 1 | seed 2 | mean ± sd |",
      "| --- | --- | --- | --- | --- | --- |",
      "| sgd | @sam | 50.00 | 52.00 | — | 51.00 ± 1.41 |",
      "| asam | @sam | — | 53.00 | 55.00 | 54.00 ± 1.41 |",
    ]);
    expect(() => refreshTables(marked("a", "c"), "g.md", experiments)).toThrow(/sweepTables: g\.md:1: "Final test accuracy \(%\)" has other columns in c than in a/);
  });

  it("refuse a marker they cannot fill, naming it", () => {
    expect(() => refreshTables(`x\n${mark({ sweeps: ["r20-2k-noise40"], section: "λmin" })}\n${stale}`, "g.md"))
      .toThrow(/sweepTables: g\.md:2: experiments\/r20-2k-noise40\/summary\.md has no section "λmin"/);
    expect(() => refreshTables(`${mark({ sweeps: ["no-such-sweep"], section: "λmax" })}\n${stale}`, "g.md")).toThrow(/sweepTables: g\.md:1: no summary at .*no-such-sweep/);
    expect(() => refreshTables(`<!-- table {sweeps} -->\n${stale}`, "g.md")).toThrow(/sweepTables: g\.md:1: the marker's spec is not JSON/);
    expect(() => refreshTables(`${mark({ sweeps: ["r20-2k-noise40"], section: "λmax" })}\n\n${stale}`, "g.md")).toThrow(/sweepTables: g\.md:1: no table right below/);
    expect(() => refreshTables(`${mark({ sweeps: ["r20-2k-noise40"], section: "λmax", figures: ["λmax"] })}\n${stale}`, "g.md")).toThrow(/no figure column/);
  });
});
