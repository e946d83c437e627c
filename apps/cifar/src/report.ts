// report.html: a self-contained page with SVG plots of one or several runs (the training loss of
// every step, the loss and accuracy of every epoch), a summary table, the configuration with what
// differs between runs highlighted, and what the figures can and cannot say.
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
  /** The training loss of each step of the epoch. */
  stepLosses?: number[];
  /** The process's peak resident memory so far, MiB (absent in runs saved before it was recorded). */
  peakRssMiB?: number;
  /** The last epoch of a run with weight averaging: the averaged model's test loss and accuracy, and the snapshots in it. */
  swaTestLoss?: number;
  swaTestAcc?: number;
  swaEpochs?: number;
}

/** Where a run stopped because its loss or weights stopped being finite. */
export interface Divergence {
  epoch: number;
  step: number;
  what: string;
}

/** hessian.json: the Hessian figures of a run's last checkpoint. */
export interface HessianSummary {
  /** Training images the loss is averaged over. */
  examples: number;
  k: number;
  /** Lanczos steps. */
  iterations: number;
  lambdaMax: number;
  /** λ1 ≥ … ≥ λk. */
  eigenvalues: number[];
  /** ‖Hv − λv‖ of each. */
  residuals: number[];
  /** λ1/λk. */
  ratio: number;
  trace: number;
  traceStdErr: number;
  traceProbes: number;
  /** The spectral density on a grid. */
  density: { grid: number[]; values: number[] };
  seconds: number;
}

/** A run as the report shows it. */
export interface RunSummary {
  name: string;
  config: Config;
  metrics: EpochMetrics[];
  /** Where its data came from (files and checksum status). */
  data?: string;
  diverged?: Divergence;
  hessian?: HessianSummary;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
/** Each run its own dash and marker too, so that curves that coincide stay distinguishable. */
const DASHES = ["", "7 4", "2 3", "10 3 2 3", "4 4"];
const MARKERS = ["circle", "square", "triangle", "diamond", "cross"];

/** Run i's colour, and its dash as an SVG attribute ("" for a solid line). */
function style(i: number): { colour: string; dash: string } {
  const dash = DASHES[i % DASHES.length];
  return { colour: COLOURS[i % COLOURS.length], dash: dash ? ` stroke-dasharray="${dash}"` : "" };
}

export const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const raw = (hi - lo) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? 10 * power;
  const [first, last] = [Math.floor(lo / step + 1e-9), Math.ceil(hi / step - 1e-9)];
  return Array.from({ length: last - first + 1 }, (_, i) => Number(((first + i) * step).toPrecision(12)));
}

function tickLabel(t: number, ticks: number[]): string {
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  return t.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
}

function marker(kind: string, x: number, y: number, colour: string): string {
  const r = 3;
  switch (kind) {
    case "square": return `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${2 * r}" fill="${colour}"/>`;
    case "triangle": return `<polygon points="${x},${y - r - 1} ${x - r - 1},${y + r} ${x + r + 1},${y + r}" fill="${colour}"/>`;
    case "diamond": return `<polygon points="${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}" fill="${colour}"/>`;
    case "cross": return `<path d="M${x - r} ${y - r}L${x + r} ${y + r}M${x - r} ${y + r}L${x + r} ${y - r}" stroke="${colour}" stroke-width="2"/>`;
    default: return `<circle cx="${x}" cy="${y}" r="${r}" fill="${colour}"/>`;
  }
}

/** A series of one run: points (x in epochs), its label, and whether to mark its points. */
export interface Series {
  run: number;
  label: string;
  points: [number, number][];
  marked: boolean;
  thin?: boolean;
}

/** One line plot with round ticks on both axes and a legend that names every series. */
export function plot(title: string, series: Series[], yLabel: string): string {
  const [w, h, left, bottom, top, right] = [560, 300, 60, 40, 16, 16];
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  if (ys.length === 0) return `<figure><figcaption>${escape(title)}</figcaption><p>no finite values to plot</p></figure>`;
  let [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const yTicks = niceTicks(lo, hi);
  [lo, hi] = [Math.min(lo, yTicks[0]), Math.max(hi, yTicks[yTicks.length - 1])];
  const [x0, x1] = [Math.min(0, ...xs), Math.max(1, ...xs)];
  const xTicks = niceTicks(x0, x1, Math.min(8, Math.ceil(x1 - x0) + 1)).filter((t) => t >= x0 && t <= x1);
  const x = (e: number) => left + ((e - x0) / (x1 - x0)) * (w - left - right);
  const y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom);
  const grid = yTicks.map((t) => `<line x1="${left}" x2="${w - right}" y1="${y(t)}" y2="${y(t)}" stroke="#e4e4e4"/>`
    + `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${tickLabel(t, yTicks)}</text>`).join("")
    + xTicks.map((t) => `<text x="${x(t)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11">${tickLabel(t, xTicks)}</text>`).join("");
  const lines = series.map((s) => {
    const { colour, dash } = style(s.run);
    const finite = s.points.filter(([, v]) => Number.isFinite(v));
    const pts = finite.map(([e, v]) => `${x(e).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    return `<polyline fill="none" stroke="${colour}" stroke-width="${s.thin ? 1 : 2}"${dash} stroke-opacity="${s.thin ? 0.8 : 1}" points="${pts}"><title>${escape(s.label)}</title></polyline>`
      + (s.marked ? finite.map(([e, v]) => marker(MARKERS[s.run % MARKERS.length], x(e), y(v), colour)).join("") : "");
  }).join("");
  const legend = series.map((s) => {
    const { colour, dash } = style(s.run);
    return `<span><svg width="34" height="10"><line x1="0" x2="34" y1="5" y2="5" stroke="${colour}" stroke-width="${s.thin ? 1 : 2}"${dash}/>${s.marked ? marker(MARKERS[s.run % MARKERS.length], 17, 5, colour) : ""}</svg> ${escape(s.label)}</span>`;
  }).join(" ");
  return `<figure><figcaption>${escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`
    + `${grid}<text x="${(w + left) / 2}" y="${h - 6}" text-anchor="middle" font-size="11">epoch</text>`
    + `<text transform="translate(12 ${(h - bottom + top) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escape(yLabel)}</text>${lines}</svg>`
    + `<div class="legend">${legend}</div></figure>`;
}

/** The spectral densities on a log scale, as the SAM paper plots them, with each run's λmax marked. */
export function densityPlot(runs: RunSummary[]): string {
  const measured = runs.map((r, i) => ({ r, i })).filter(({ r }) => r.hessian);
  if (measured.length === 0) return "";
  const [w, h, left, bottom, top, right] = [560, 300, 60, 40, 16, 16];
  const floor = 1e-6; // densities below this are drawn at it: the log of 0 is not a number
  const xs = measured.flatMap(({ r }) => r.hessian!.density.grid);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const ys = measured.flatMap(({ r }) => r.hessian!.density.values.map((v) => Math.log10(Math.max(v, floor))));
  const [lo, hi] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys))];
  const x = (t: number) => left + ((t - x0) / (x1 - x0 || 1)) * (w - left - right);
  const y = (l: number) => top + (1 - (l - lo) / (hi - lo || 1)) * (h - top - bottom);
  const xTicks = niceTicks(x0, x1, 6).filter((t) => t >= x0 && t <= x1);
  const grid = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i).map((p) => `<line x1="${left}" x2="${w - right}" y1="${y(p)}" y2="${y(p)}" stroke="#e4e4e4"/><text x="${left - 6}" y="${y(p) + 4}" text-anchor="end" font-size="11">1e${p}</text>`).join("")
    + xTicks.map((t) => `<text x="${x(t)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11">${tickLabel(t, xTicks)}</text>`).join("");
  const lines = measured.map(({ r, i }) => {
    const { colour, dash } = style(i);
    const d = r.hessian!.density;
    const pts = d.grid.map((t, j) => `${x(t).toFixed(1)},${y(Math.log10(Math.max(d.values[j], floor))).toFixed(1)}`).join(" ");
    return `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${pts}"><title>${escape(r.name)}</title></polyline>`
      + `<line x1="${x(r.hessian!.lambdaMax)}" x2="${x(r.hessian!.lambdaMax)}" y1="${top}" y2="${h - bottom}" stroke="${colour}" stroke-width="1"${dash}><title>${escape(r.name)} λmax</title></line>`;
  }).join("");
  const legend = measured.map(({ r, i }) => `<span style="color:${style(i).colour}">${escape(r.name)} (λmax ${r.hessian!.lambdaMax.toPrecision(4)})</span>`).join(" ");
  return `<figure><figcaption>Hessian spectral density (log scale)</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`
    + `${grid}<text x="${(w + left) / 2}" y="${h - 6}" text-anchor="middle" font-size="11">eigenvalue</text>${lines}</svg><div class="legend">${legend}</div></figure>`;
}

/** λmax, λmax/λk, the trace and the top eigenvalues of each measured run, side by side. */
function hessianTable(runs: RunSummary[]): string {
  const measured = runs.filter((r) => r.hessian);
  if (measured.length === 0) return "";
  const k = Math.max(...measured.map((r) => r.hessian!.k));
  const rows = measured.map((r) => {
    const s = r.hessian!;
    return `<tr><td>${escape(r.name)}</td><td>${s.lambdaMax.toPrecision(4)}</td><td>${s.ratio.toPrecision(4)}</td><td>${s.trace.toPrecision(4)} ± ${s.traceStdErr.toPrecision(2)}</td>`
      + `<td>${s.eigenvalues.map((v) => v.toPrecision(4)).join(", ")}</td><td>${Math.max(...s.residuals).toExponential(1)}</td><td>${s.examples}</td></tr>`;
  }).join("");
  return `<h2>Sharpness: the loss Hessian at the last checkpoint</h2><table><tr><th>run</th><th>λmax</th><th>λmax/λ${k}</th><th>trace</th><th>λ1 … λ${k}</th><th>largest residual</th><th>examples</th></tr>${rows}</table>`
    + `<p class="note">Mean cross-entropy over the first examples of the training subset, without augmentation, batch norm in evaluation mode; Lanczos with ${measured[0].hessian!.iterations} steps, the trace by Hutchinson's estimator.</p>`;
}

/** The training loss of every step, placed at its fraction of the epoch. */
function stepPoints(r: RunSummary): [number, number][] {
  return r.metrics.flatMap((m) => {
    const losses = m.stepLosses ?? [m.trainLoss];
    return losses.map((l, i): [number, number] => [m.epoch - 1 + (i + 1) / losses.length, l]);
  });
}

/** What a reader must keep in mind: one seed, a short run, a diverged run. */
function caveats(runs: RunSummary[]): string[] {
  const out: string[] = [];
  const seeds = new Set(runs.map((r) => r.config.seed));
  if (seeds.size === 1) {
    out.push(`Every run here uses one seed (${[...seeds][0]}). Runs that differ only in rounding or seed spread by several points; a difference between optimizers needs several seeds to mean anything.`);
  }
  const epochs = Math.max(...runs.map((r) => r.config.epochs));
  if (epochs < 50) {
    out.push(`${epochs} epoch${epochs === 1 ? "" : "s"} is a short run: SAM's published gains are for converged training (about 200 epochs), and SAM may trail SGD before it converges.`);
  }
  for (const r of runs) if (r.diverged) out.push(`${r.name} diverged at epoch ${r.diverged.epoch}, step ${r.diverged.step} (${r.diverged.what}); its figures stop at the last finite epoch.`);
  return out;
}

/** The configuration once: one column per run where runs differ, the differing rows highlighted. */
export function configTable(runs: RunSummary[]): string {
  const keys = Array.from(new Set(runs.flatMap((r) => Object.keys(r.config)))) as (keyof Config)[];
  const show = (v: unknown) => (v === undefined ? "—" : escape(String(v)));
  const rows = keys.map((k) => {
    const values = runs.map((r) => JSON.stringify(r.config[k]));
    const differs = new Set(values).size > 1;
    const cells = differs ? runs.map((r) => `<td>${show(r.config[k])}</td>`).join("") : `<td colspan="${runs.length}">${show(runs[0].config[k])}</td>`;
    return `<tr${differs ? ' class="differs"' : ""}><th>${escape(k)}</th>${cells}</tr>`;
  }).join("");
  return `<table class="config"><tr><th></th>${runs.map((r) => `<th>${escape(r.name)}</th>`).join("")}</tr>${rows}</table>`
    + (runs.length > 1 ? `<p class="note">Highlighted: what differs between the runs.</p>` : "");
}

/** The start of a report page: its title and styles, up to the opening of the body. */
export function pageHead(title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1220px;margin:24px auto;padding:0 16px;color:#222}
figure{display:inline-block;margin:8px;vertical-align:top}figcaption{font-weight:600;margin-bottom:4px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}.legend{font-size:12px;max-width:560px}
.legend span{margin-right:12px;white-space:nowrap}.config td,.config th{text-align:left;font-size:13px}tr.differs{background:#fff3c4}
.diverged{color:#b00020;font-weight:600}.caveats{background:#f4f6fb;border-left:4px solid #8aa1d1;padding:8px 16px}.note{font-size:12px;color:#555}</style></head><body>`;
}

/** The page for one run or a comparison. */
export function renderReport(title: string, runs: RunSummary[]): string {
  const rows = runs.map((r) => {
    const last = r.metrics[r.metrics.length - 1];
    const best = Math.max(...r.metrics.map((m) => m.testAcc));
    const seconds = r.metrics.reduce((s, m) => s + m.seconds, 0);
    const speed = r.metrics.length > 0 ? r.metrics.reduce((s, m) => s + m.imagesPerSec, 0) / r.metrics.length : NaN;
    const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? "—" : `${(v * 100).toFixed(2)}%`);
    const status = r.diverged ? `<td class="diverged">diverged at epoch ${r.diverged.epoch}, step ${r.diverged.step}</td>` : `<td>${r.metrics.length} of ${r.config.epochs} epochs</td>`;
    const swa = last?.swaTestAcc !== undefined ? ` (averaged weights: ${pct(last.swaTestAcc)})` : "";
    return `<tr><td>${escape(r.name)}</td>${status}<td>${pct(last?.testAcc)}${swa}</td><td>${pct(Number.isFinite(best) ? best : undefined)}</td>`
      + `<td>${last ? last.testLoss.toFixed(4) : "—"}</td><td>${pct(last?.trainAcc)}</td><td>${Number.isFinite(speed) ? speed.toFixed(1) : "—"}</td>`
      + `<td>${(seconds / 60).toFixed(1)} min</td></tr>`;
  }).join("");
  const epochSeries = (key: keyof EpochMetrics, label: string, scale = 1): Series[] =>
    runs.map((r, i) => ({ run: i, label: `${r.name} ${label}`, marked: true, points: r.metrics.map((m): [number, number] => [m.epoch, (m[key] as number) * scale]) }));
  const data = Array.from(new Set(runs.map((r) => r.data).filter((d): d is string => !!d)));
  const notes = caveats(runs);
  return `${pageHead(title)}
<h1>${escape(title)}</h1>
<table><tr><th>run</th><th>status</th><th>final test acc</th><th>best test acc</th><th>final test loss</th><th>final train acc</th><th>images/s</th><th>time</th></tr>${rows}</table>
${data.length > 0 ? `<p class="note">Data: ${data.map(escape).join("<br>")}</p>` : ""}
${notes.length > 0 ? `<div class="caveats"><strong>Read with care</strong><ul>${notes.map((n) => `<li>${escape(n)}</li>`).join("")}</ul></div>` : ""}
${plot("Training loss, every step", runs.map((r, i) => ({ run: i, label: r.name, marked: false, thin: true, points: stepPoints(r) })), "loss")}
${plot("Test loss", epochSeries("testLoss", "test"), "loss")}
${plot("Accuracy (%): training and test", [...epochSeries("trainAcc", "train", 100).map((s) => ({ ...s, thin: true })), ...epochSeries("testAcc", "test", 100)], "%")}
${plot("Learning rate", epochSeries("lr", "lr"), "lr")}
${hessianTable(runs)}
${densityPlot(runs)}
<h2>Configuration</h2>${configTable(runs)}
</body></html>
`;
}
