// report.html of a sweep: each configuration's mean ± sd over seeds with every seed's value, the
// paired differences from the baseline with their 95% intervals, @sam against PyTorch where the
// same runs were trained there, and the curves of every run.
import { configTable, densityPlot, escape, pageHead, plot, type Series } from "./report.js";
import { studentQuantile, type Estimate } from "./stats.js";
import type { SweepPlan } from "./sweepPlan.js";
import type { CellResult, Figure, SamModelEvaluation, SweepSummary } from "./sweepSummary.js";

export const LABELS: Record<Figure, string> = {
  testAcc: "final test acc", testLoss: "final test loss", trainAcc: "final train acc", trainLoss: "final train loss", lambdaMax: "λmax", ratio: "λmax/λk", trace: "trace",
};
const PERCENT = new Set<Figure>(["testAcc", "trainAcc"]);

/** A figure as the pages print it: accuracies in percent, the rest with four significant digits. */
export function show(f: Figure, v: number): string {
  return PERCENT.has(f) ? `${(v * 100).toFixed(2)}` : v.toPrecision(4);
}

/** mean ± sd, or the one seed's value, or a dash. */
export function meanSd(f: Figure, e: Estimate | undefined): string {
  if (!e) return "—";
  return e.n < 2 ? `${show(f, e.mean)} (one seed)` : `${show(f, e.mean)} ± ${show(f, e.sd)}`;
}

/** How wide Student's interval is for `n` seeds paired. */
export function intervalNote(n: number): string {
  if (n < 2) return "An interval needs two seeds or more.";
  return `With ${n} seeds the interval is the mean ± ${studentQuantile(0.95, n - 1).toFixed(2)} standard errors (Student's t, ${n - 1} degree${n === 2 ? "" : "s"} of freedom).`;
}

/** One measured Hessian as the tables print it. */
export interface SpectrumRow {
  result: CellResult;
  /** Whose measurement of whose model: @sam's of its own, PyTorch's of its own, or PyTorch's of @sam's. */
  system: "@sam" | "PyTorch" | "PyTorch, of @sam's model";
  eigenvalues: string;
  ratio: string;
  trace: string;
}

/** The results in the summary's order: configuration by configuration, then by seed. */
function inSummaryOrder(summary: SweepSummary, results: CellResult[]): CellResult[] {
  const order = (r: CellResult) => summary.groups.findIndex((g) => g.group === r.cell.group);
  return [...results].sort((a, b) => order(a) - order(b) || a.cell.config.seed - b.cell.config.seed);
}

/** Every measured Hessian of the sweep, @sam's and PyTorch's, configuration by configuration, then by seed. */
export function spectrumRows(summary: SweepSummary, results: CellResult[]): SpectrumRow[] {
  return inSummaryOrder(summary, results).flatMap((result) => [
    ...(result.hessian ? [["@sam", result.hessian] as const] : []), ...(result.samModelHessian ? [["PyTorch, of @sam's model", result.samModelHessian] as const] : []),
    ...(result.pytorchHessian ? [["PyTorch", result.pytorchHessian] as const] : []),
  ].map(([system, h]) => ({
    result, system, eigenvalues: h.eigenvalues.map((v) => v.toPrecision(4)).join(", "), ratio: h.ratio.toPrecision(3),
    trace: `${h.trace.toPrecision(4)} ± ${Number(h.traceStdErr.toPrecision(2))}`,
  })));
}

/** One of @sam's final models as PyTorch tested it, beside @sam's own final figures. */
export interface EvaluationRow {
  result: CellResult;
  own: { testAcc: number; testLoss: number };
  evaluation: SamModelEvaluation;
}

/** @sam's finished models that PyTorch evaluated (bench/anchors/torch_evaluate.py), configuration by configuration, then by seed. */
export function evaluationRows(summary: SweepSummary, results: CellResult[]): EvaluationRow[] {
  return inSummaryOrder(summary, results).flatMap((result) => {
    const own = summary.groups.find((g) => g.group === result.cell.group)?.perSeed[result.cell.config.seed];
    return result.pytorchEvaluation && own ? [{ result, own: { testAcc: own.testAcc!, testLoss: own.testLoss! }, evaluation: result.pytorchEvaluation }] : [];
  });
}

/** What an averaged model's row says of batch norm recomputed by PyTorch: the accuracy, and the largest statistic's difference. */
export function recomputedNote(e: SamModelEvaluation): string {
  return e.batchNorm ? `${show("testAcc", e.batchNorm.testAcc)} (${e.batchNorm.maxDifference.toExponential(1)})` : "—";
}

/** The sweep's page. */
export function renderSweepReport(plan: SweepPlan, summary: SweepSummary, results: CellResult[]): string {
  const figures = (["testAcc", "testLoss", "trainAcc", "lambdaMax", "ratio", "trace"] as Figure[]).filter((f) => summary.groups.some((g) => g.estimates[f]));
  const title = `Sweep: ${plan.grid.optimizers.join(", ").toUpperCase()} · ${plan.config.model} · ${plan.config.dataset} · seeds ${plan.grid.seeds.join(", ")}`;
  const withPytorch = summary.groups.some((g) => g.pytorch);
  const groupRows = summary.groups.map((g) => {
    const status = [`${g.seeds.length} done`, g.pending.length ? `${g.pending.length} to go` : "", g.diverged.length ? `<span class="diverged">${g.diverged.length} diverged (seed ${g.diverged.join(", ")})</span>` : ""].filter(Boolean).join(", ");
    const seeds = g.seeds.map((s) => `${s}: ${show("testAcc", g.perSeed[s].testAcc!)}`).join(", ");
    const pytorch = withPytorch ? `<td>${meanSd("testAcc", g.pytorch?.estimates.testAcc)}${g.pytorch ? ` (${g.pytorch.seeds.length} done)` : ""}</td>` : "";
    return `<tr><td>${escape(g.group)}</td><td>${status}</td>${figures.map((f) => `<td>${meanSd(f, g.estimates[f])}</td>`).join("")}<td>${seeds || "—"}</td>${pytorch}</tr>`;
  }).join("");
  const diffRows = summary.differences.filter((d) => figures.includes(d.figure)).map((d) => {
    const e = d.estimate;
    const ci = e.ci95 ? `[${show(d.figure, e.ci95[0])}, ${show(d.figure, e.ci95[1])}]` : "needs two seeds";
    const excludes = e.ci95 && (e.ci95[0] > 0 || e.ci95[1] < 0);
    return `<tr><td>${escape(d.group)} − ${escape(d.baseline)}</td>${withPytorch ? `<td>${d.system}</td>` : ""}<td>${LABELS[d.figure]}</td><td>${show(d.figure, e.mean)}</td><td>${Number.isFinite(e.sd) ? show(d.figure, e.sd) : "—"}</td>`
      + `<td${excludes ? ' class="differs"' : ""}>${ci}</td><td>${d.values.map((v, i) => `${d.seeds[i]}: ${show(d.figure, v)}`).join(", ")}</td></tr>`;
  }).join("");
  const againstRows = summary.againstPytorch.map((a) => {
    const ci = a.ci95 ? `[${show(a.figure, a.ci95[0])}, ${show(a.figure, a.ci95[1])}]` : "needs two seeds each";
    const agree = Number.isFinite(a.sd) ? (a.withinOneSd ? "yes" : `<span class="diverged">no</span>`) : "—";
    return `<tr><td>${escape(a.group)}</td><td>${LABELS[a.figure]}</td><td>${show(a.figure, a.difference)}</td><td>${Number.isFinite(a.sd) ? show(a.figure, a.sd) : "—"}</td><td>${agree}</td><td>${ci}</td></tr>`;
  }).join("");
  const groupIndex = new Map(summary.groups.map((g, i) => [g.group, i]));
  const curves = (key: "testAcc" | "trainAcc" | "testLoss", scale: number): Series[] => {
    const perRun: Series[] = results.filter((r) => r.metrics.length > 0).map((r) => ({
      run: groupIndex.get(r.cell.group)!, label: r.cell.name, marked: false, thin: true, points: r.metrics.map((m): [number, number] => [m.epoch, m[key] * scale]),
    }));
    const means: Series[] = summary.groups.filter((g) => g.seeds.length > 1).map((g) => {
      const runs = results.filter((r) => r.cell.group === g.group && g.seeds.includes(r.cell.config.seed));
      const points = runs[0].metrics.map((m, e): [number, number] => [m.epoch, (runs.reduce((s, r) => s + r.metrics[e][key], 0) / runs.length) * scale]);
      return { run: groupIndex.get(g.group)!, label: `${g.group} mean of ${runs.length}`, marked: true, points };
    });
    return [...perRun, ...means];
  };
  const k = results.find((r) => r.hessian)?.hessian?.k ?? plan.hessian?.k ?? 5;
  const measured = results.filter((r) => r.hessian).map((r) => ({ name: r.cell.name, config: r.cell.config, metrics: r.metrics, hessian: r.hessian }));
  const spectrumSystems = withPytorch || results.some((r) => r.samModelHessian);
  const spectra = spectrumRows(summary, results).map((s) => `<tr><td>${escape(s.result.cell.name)}</td>${spectrumSystems ? `<td>${escape(s.system)}</td>` : ""}`
    + `<td>${s.eigenvalues}</td><td>${s.ratio}</td><td>${s.trace}</td></tr>`).join("");
  const evaluated = evaluationRows(summary, results);
  const averaged = evaluated.some((r) => r.evaluation.batchNorm);
  const evaluationTable = evaluated.map(({ result, own, evaluation: e }) => `<tr><td>${escape(result.cell.name)}</td><td>${show("testAcc", own.testAcc)}</td><td>${show("testAcc", e.testAcc)}</td>`
    + `<td>${show("testLoss", own.testLoss)}</td><td>${show("testLoss", e.testLoss)}</td>${averaged ? `<td>${recomputedNote(e)}</td>` : ""}</tr>`).join("");
  const pending = summary.groups.some((g) => g.pending.length > 0);
  return `${pageHead(title)}
<h1>${escape(title)}</h1>
${pending ? `<div class="caveats">The sweep is not finished: the figures are of the runs that finished, and the rest are listed as to go. Continue it with <code>pnpm cifar sweep --resume FOLDER</code>.</div>` : ""}
<h2>Each configuration over its seeds (mean ± sample sd; accuracies in %)</h2>
<table><tr><th>configuration</th><th>runs</th>${figures.map((f) => `<th>${f === "ratio" ? `λmax/λ${k}` : LABELS[f]}</th>`).join("")}<th>test acc by seed</th>${withPytorch ? "<th>PyTorch: final test acc</th>" : ""}</tr>${groupRows}</table>
${diffRows ? `<h2>Differences from the baseline, paired by seed</h2>
<table><tr><th>difference</th>${withPytorch ? "<th>system</th>" : ""}<th>figure</th><th>mean</th><th>sd</th><th>95% interval (Student's t)</th><th>by seed</th></tr>${diffRows}</table>
<p class="note">A pair shares its seed: the same initialisation, data order, augmentation and label noise. Highlighted: an interval that excludes zero. ${intervalNote(Math.max(0, ...summary.differences.map((d) => d.seeds.length)))} A difference smaller than the seeds' spread is not evidence either way.</p>` : ""}
${againstRows ? `<h2>@sam against PyTorch on the same configurations</h2>
<table><tr><th>configuration</th><th>figure</th><th>@sam − PyTorch (means)</th><th>larger sd of the two</th><th>within one sd</th><th>95% interval (Welch)</th></tr>${againstRows}</table>
<p class="note">PyTorch's runs (<code>bench/anchors/torch_sweep.py</code>) have the same data, label noise and hyperparameters, but PyTorch's own initialisation, data order and augmentation draws, so the two systems are compared as independent samples, not paired by seed.</p>` : ""}
${evaluationTable ? `<h2>@sam's final models evaluated by PyTorch</h2>
<table><tr><th>run</th><th>test acc, @sam</th><th>the same weights in PyTorch</th><th>test loss, @sam</th><th>in PyTorch</th>${averaged ? "<th>PyTorch, batch norm recomputed (largest statistic's difference)</th>" : ""}</tr>${evaluationTable}</table>
<p class="note">Each final model loaded into PyTorch's model of the same architecture and tested on the same images (<code>bench/anchors/torch_evaluate.py</code>). Where these agree, a difference between the two systems' runs lies in how they trained.</p>` : ""}
${plot("Test accuracy (%): every run thin, each configuration's mean marked", curves("testAcc", 100), "%")}
${plot("Training accuracy (%)", curves("trainAcc", 100), "%")}
${plot("Test loss", curves("testLoss", 1), "loss")}
${spectra ? `<h2>Hessian spectra of the final models</h2>
<table><tr><th>run</th>${spectrumSystems ? "<th>system</th>" : ""}<th>λ1 … λ${k}</th><th>λmax/λ${k}</th><th>trace ± its standard error</th></tr>${spectra}</table>` : ""}
${measured.length > 0 ? densityPlot(measured) : ""}
<h2>Configuration</h2>${configTable([{ name: "every run", config: plan.config, metrics: [] }])}
<p class="note">Varied by the sweep: optimizers ${plan.grid.optimizers.join(", ")}; seeds ${plan.grid.seeds.join(", ")}; ρ ${plan.grid.rho.join(", ")}; m ${plan.grid.m.map((m) => m ?? "the batch").join(", ")}; label noise ${plan.grid.labelNoise.join(", ")}. The table above shows the first of each.</p>
</body></html>
`;
}
