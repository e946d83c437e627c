// The result tables of a guide are copies of the sweeps' own summaries (experiments/*/summary.md,
// which `pnpm cifar summary --sweep DIR` writes), so the guide cannot quote a figure the runs do not
// hold. A table to copy is marked by the comment line just above it:
//
//   <!-- table {"sweeps": ["r20-2k-clean", "r20-2k-clean-asam"], "section": "Final test accuracy (%)"} -->
//
// "section" names the summary's heading; the rows of each sweep's table under it are set one after
// another, under the seed columns of them all (a seed a sweep did not run is a dash). A sweep may
// be {"dir", "only", "label"} (only the rows of configuration `only`, renamed `label`) or
// {"dir", "prefix"} (each configuration prefixed); "figures" keeps only the rows whose figure
// column is one of those listed.
//
//   node docs/sweepTables.mjs [--check] [GUIDE…]   (default docs/guides/reproducing-sam.md)
//
// rewrites each guide's marked tables from the summaries, or with --check says which differ.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MARK = /^<!-- table (\{.*\}) -->$/;

const cells = (line) => line.replace(/^\|\s?/, "").replace(/\s?\|$/, "").split(" | ");
const row = (values) => `| ${values.join(" | ")} |`;

/** The table under `## section` of a sweep's summary.md: its header and its rows as cells. */
function summaryTable(experiments, dir, section, where) {
  const path = join(experiments, dir, "summary.md");
  let lines;
  try {
    lines = readFileSync(path, "utf8").split("\n");
  } catch {
    throw new Error(`sweepTables: ${where}: no summary at ${path}; write it with pnpm cifar summary --sweep experiments/${dir}`);
  }
  const at = lines.indexOf(`## ${section}`);
  if (at < 0) throw new Error(`sweepTables: ${where}: experiments/${dir}/summary.md has no section "${section}"`);
  const start = lines.findIndex((l, i) => i > at && l.startsWith("|"));
  const table = [];
  for (let i = start; start >= 0 && lines[i]?.startsWith("|"); i++) table.push(cells(lines[i]));
  if (table.length < 2) throw new Error(`sweepTables: ${where}: experiments/${dir}/summary.md has no table under "${section}"`);
  return { header: table[0], rows: table.slice(2) };
}

const SEED = /^seed \d+$/;

/**
 * The header of tables set one after another: their columns, with the seed columns of all of them
 * in order of seed (sweeps may have run different seeds); any other difference is an Error.
 */
function unitedHeader(headers, section, dirs, where) {
  const seeds = [...new Set(headers.flatMap((h) => h.filter((c) => SEED.test(c))))].sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const [first] = headers;
  const at = first.findIndex((c) => SEED.test(c));
  const others = (h) => row(h.filter((c) => !SEED.test(c)));
  headers.forEach((h, i) => {
    if (others(h) !== others(first) || (seeds.length > 0 && h.findIndex((c) => SEED.test(c)) !== at)) {
      throw new Error(`sweepTables: ${where}: "${section}" has other columns in ${dirs[i]} than in ${dirs[0]}`);
    }
  });
  if (seeds.length === 0) return first;
  return [...first.slice(0, at), ...seeds, ...first.filter((c, i) => i > at && !SEED.test(c))];
}

/** The markdown table a marker's spec asks for. */
function tableOf(spec, experiments, where) {
  if (!Array.isArray(spec.sweeps) || spec.sweeps.length === 0 || typeof spec.section !== "string") {
    throw new Error(`sweepTables: ${where}: a table needs "sweeps" (a list) and "section"`);
  }
  const sweeps = spec.sweeps.map((entry) => (typeof entry === "string" ? { dir: entry } : entry));
  const tables = sweeps.map((sweep) => summaryTable(experiments, sweep.dir, spec.section, where));
  const header = unitedHeader(tables.map((t) => t.header), spec.section, sweeps.map((s) => s.dir), where);
  const figure = header.indexOf("figure");
  if (spec.figures && figure < 0) throw new Error(`sweepTables: ${where}: "${spec.section}" has no figure column to select from`);
  const rows = [];
  sweeps.forEach((sweep, i) => {
    const own = tables[i].header;
    for (const r of tables[i].rows) {
      if (sweep.only !== undefined && r[0] !== sweep.only) continue;
      if (spec.figures && !spec.figures.includes(r[figure])) continue;
      // a seed this sweep did not run is a dash, as a run not finished is in the summaries
      const cell = (c) => (own.includes(c) ? r[own.indexOf(c)] : "—");
      rows.push([sweep.label ?? `${sweep.prefix ?? ""}${r[0]}`, ...header.slice(1).map(cell)]);
    }
  });
  return [row(header), row(header.map(() => "---")), ...rows.map(row)];
}

/** `markdown` with every marked table rewritten from the summaries in the folder `experiments`. */
export function refreshTables(markdown, file = "the guide", experiments = join(ROOT, "experiments")) {
  const lines = markdown.split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]);
    const mark = MARK.exec(lines[i]);
    if (!mark) continue;
    const where = `${file}:${i + 1}`;
    let spec;
    try {
      spec = JSON.parse(mark[1]);
    } catch (e) {
      throw new Error(`sweepTables: ${where}: the marker's spec is not JSON (${e.message})`);
    }
    if (!lines[i + 1]?.startsWith("|")) throw new Error(`sweepTables: ${where}: no table right below the marker`);
    out.push(...tableOf(spec, experiments, where));
    while (lines[i + 1]?.startsWith("|")) i++;
  }
  return out.join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const guides = args.filter((a) => a !== "--check");
  let stale = 0;
  try {
    for (const guide of guides.length ? guides : ["docs/guides/reproducing-sam.md"]) {
      const path = join(ROOT, guide);
      let text;
      try {
        text = readFileSync(path, "utf8");
      } catch {
        throw new Error(`sweepTables: no guide at ${path} (guides are named from the repository's root)`);
      }
      const fresh = refreshTables(text, guide);
      if (fresh === text) continue;
      if (check) {
        console.error(`${guide}: its tables differ from the sweeps' summaries; run node docs/sweepTables.mjs ${guide}`);
        stale++;
      } else {
        writeFileSync(`${path}.tmp`, fresh);
        renameSync(`${path}.tmp`, path);
        console.log(`${guide}: tables rewritten from the summaries`);
      }
    }
  } catch (e) {
    console.error(e.message);
    stale++;
  }
  process.exitCode = stale ? 1 : 0;
}
