// report.html: a self-contained page with SVG plots of the loss and accuracy curves of one or
// several runs, their final numbers and their configurations.
import type { Config } from "./config.js";

/** One epoch's line of metrics.jsonl. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  lr: number;
  seconds: number;
  imagesPerSec: number;
}

/** A run as the report shows it. */
export interface RunSummary {
  name: string;
  config: Config;
  metrics: EpochMetrics[];
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** One line plot: a series per run and key (solid for the first key, dashed for the second). */
function plot(title: string, runs: RunSummary[], keys: [keyof EpochMetrics, string][], percent: boolean): string {
  const [w, h, left, bottom, top, right] = [560, 300, 56, 36, 28, 16];
  const values = runs.flatMap((r) => r.metrics.flatMap((m) => keys.map(([k]) => m[k] * (percent ? 100 : 1))));
  const epochs = Math.max(1, ...runs.flatMap((r) => r.metrics.map((m) => m.epoch)));
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const x = (e: number) => left + ((e - (epochs > 1 ? 1 : 0)) / Math.max(1, epochs - (epochs > 1 ? 1 : 0))) * (w - left - right);
  const y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom);
  const ticks = Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4);
  const grid = ticks.map((t) => `<line x1="${left}" x2="${w - right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${t.toFixed(percent ? 1 : 3)}</text>`).join("");
  const xticks = Array.from(new Set(runs.flatMap((r) => r.metrics.map((m) => m.epoch)))).map((e) => `<text x="${x(e)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11">${e}</text>`).join("");
  const lines = runs.flatMap((r, i) => keys.map(([k, label], j) => {
    const pts = r.metrics.map((m) => `${x(m.epoch).toFixed(1)},${y(m[k] * (percent ? 100 : 1)).toFixed(1)}`).join(" ");
    const dash = j === 1 ? ` stroke-dasharray="5 4"` : "";
    return `<polyline fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2"${dash} points="${pts}"><title>${escape(r.name)} ${label}</title></polyline>`
      + r.metrics.map((m) => `<circle cx="${x(m.epoch)}" cy="${y(m[k] * (percent ? 100 : 1))}" r="2.5" fill="${COLOURS[i % COLOURS.length]}"/>`).join("");
  })).join("");
  return `<figure><figcaption>${escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`
    + `${grid}${xticks}<text x="${(w + left) / 2}" y="${h - 4}" text-anchor="middle" font-size="11">epoch</text>${lines}</svg>`
    + `<div class="legend">${runs.map((r, i) => `<span style="color:${COLOURS[i % COLOURS.length]}">■ ${escape(r.name)}</span>`).join(" ")} — solid: ${keys[0][1]}${keys[1] ? `, dashed: ${keys[1][1]}` : ""}</div></figure>`;
}

/** The page for one run or a comparison. */
export function renderReport(title: string, runs: RunSummary[]): string {
  const rows = runs.map((r) => {
    const last = r.metrics[r.metrics.length - 1];
    const best = Math.max(...r.metrics.map((m) => m.testAcc));
    const seconds = r.metrics.reduce((s, m) => s + m.seconds, 0);
    return `<tr><td>${escape(r.name)}</td><td>${r.metrics.length}</td><td>${last ? (last.testAcc * 100).toFixed(2) : "—"}%</td><td>${Number.isFinite(best) ? (best * 100).toFixed(2) : "—"}%</td>`
      + `<td>${last ? last.testLoss.toFixed(4) : "—"}</td><td>${last ? (last.trainAcc * 100).toFixed(2) : "—"}%</td><td>${(seconds / 60).toFixed(1)} min</td></tr>`;
  }).join("");
  const configs = runs.map((r) => `<h3>${escape(r.name)}</h3><pre>${escape(JSON.stringify(r.config, null, 2))}</pre>`).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}
figure{display:inline-block;margin:8px}figcaption{font-weight:600;margin-bottom:4px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}.legend{font-size:12px}
pre{background:#f6f6f6;padding:8px;font-size:12px}</style></head><body>
<h1>${escape(title)}</h1>
<table><tr><th>run</th><th>epochs</th><th>final test acc</th><th>best test acc</th><th>final test loss</th><th>final train acc</th><th>time</th></tr>${rows}</table>
${plot("Loss", runs, [["trainLoss", "train"], ["testLoss", "test"]], false)}
${plot("Accuracy (%)", runs, [["trainAcc", "train"], ["testAcc", "test"]], true)}
${plot("Learning rate", runs, [["lr", "lr"]], false)}
<h2>Configurations</h2>${configs}
</body></html>
`;
}
