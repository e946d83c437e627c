// summary.md of a sweep: its tables in Markdown, to quote in a paper or a guide as they stand —
// each configuration's final figures seed by seed with mean ± sd on @sam and on PyTorch, the
// differences from the baseline paired by seed, the Hessians' spectra, and @sam against PyTorch.
import { evaluationRows, intervalNote, LABELS, meanSd, recomputedNote, show, spectrumRows } from "./sweepReport.js";
import type { SweepPlan } from "./sweepPlan.js";
import type { CellResult, Figure, GroupSummary, Seeds, SweepSummary } from "./sweepSummary.js";

const HEADINGS: Record<Figure, string> = {
  testAcc: "Final test accuracy (%)", trainAcc: "Final training accuracy (%)", testLoss: "Final test loss", trainLoss: "Final training loss",
  lambdaMax: "λmax", ratio: "λmax/λk", trace: "Hessian trace",
};

const HESSIAN = new Set<Figure>(["lambdaMax", "ratio", "trace"]);

/** A Markdown table: a header row, then the rows. */
function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** A difference, signed. */
function signed(f: Figure, v: number): string {
  return v > 0 ? `+${show(f, v)}` : show(f, v);
}

/** A seed's cell: its value, or why there is none. */
function seedCell(f: Figure, side: Seeds, seed: number, g?: GroupSummary): string {
  const v = side.perSeed[seed]?.[f];
  if (v !== undefined) return show(f, v);
  return g?.diverged.includes(seed) ? "diverged" : "—";
}

/** One table of a figure: a row per configuration and system. */
function figureTable(f: Figure, summary: SweepSummary, seeds: number[], k: number): string {
  const rows: string[][] = [];
  for (const g of summary.groups) {
    const sides: [string, Seeds, GroupSummary?][] = [["@sam", g, g], ...(g.pytorch ? [["PyTorch", g.pytorch] as [string, Seeds]] : [])];
    for (const [system, side, own] of sides) {
      // @sam's rows of the training figures stay, to show what is not finished
      if (!side.estimates[f] && (system === "PyTorch" || HESSIAN.has(f))) continue;
      rows.push([g.group, system, ...seeds.map((s) => seedCell(f, side, s, own)), meanSd(f, side.estimates[f])]);
    }
  }
  const heading = f === "ratio" ? `λmax/λ${k}` : HEADINGS[f];
  return `## ${heading}\n\n${table(["configuration", "system", ...seeds.map((s) => `seed ${s}`), "mean ± sd"], rows)}`;
}

/** The sweep's summary as Markdown. */
export function renderSweepMarkdown(plan: SweepPlan, summary: SweepSummary, results: CellResult[]): string {
  const seeds = plan.grid.seeds;
  const k = results.find((r) => r.hessian)?.hessian?.k ?? plan.hessian?.k ?? 5;
  const has = (f: Figure) => summary.groups.some((g) => g.estimates[f] || g.pytorch?.estimates[f]);
  const figures = (["testAcc", "trainAcc", "testLoss", "lambdaMax", "ratio", "trace"] as Figure[]).filter((f) => f === "testAcc" || has(f));
  const finished = results.filter((r) => r.metrics.length >= r.cell.config.epochs).length;
  const pytorchRuns = results.filter((r) => r.pytorch && r.pytorch.length >= r.cell.config.epochs).length;
  const out: string[] = [
    `# Sweep: ${plan.grid.optimizers.join(", ")} · ${plan.config.model} · ${plan.config.dataset} · seeds ${seeds.join(", ")}`,
    `${summary.epochs} epochs a run; ${finished} of ${results.length} runs finished on @sam, ${pytorchRuns} on PyTorch. A figure is a run's last epoch`
      + " (a weight-averaging run's averaged model); — marks a run not finished. Accuracies in %, their differences in points.",
  ];
  out.push(...figures.map((f) => figureTable(f, summary, seeds, k)));

  const differences = summary.differences.filter((d) => figures.includes(d.figure));
  if (differences.length > 0) {
    const n = Math.max(...differences.map((d) => d.seeds.length));
    const rows = differences.map((d) => {
      const e = d.estimate;
      const bySeed = seeds.map((s) => (d.seeds.includes(s) ? signed(d.figure, d.values[d.seeds.indexOf(s)]) : "—"));
      const ci = e.ci95 ? `${signed(d.figure, e.ci95[0])} to ${signed(d.figure, e.ci95[1])}` : "needs two seeds";
      return [`${d.group} − ${d.baseline}`, d.system === "@sam" ? "@sam" : "PyTorch", d.figure === "ratio" ? `λmax/λ${k}` : LABELS[d.figure], ...bySeed,
        Number.isFinite(e.sd) ? `${signed(d.figure, e.mean)} ± ${show(d.figure, e.sd)}` : signed(d.figure, e.mean), ci];
    });
    out.push(`## Differences from the baseline, paired by seed\n\n${table(["difference", "system", "figure", ...seeds.map((s) => `seed ${s}`), "mean ± sd", "95% interval"], rows)}\n\n`
      + "A pair shares its seed within a system: the same initialisation, data order, augmentation and label noise."
      + (n >= 2 ? ` ${intervalNote(n)}` : ""));
  }

  const spectra = spectrumRows(summary, results).map((s) => [s.result.cell.group, s.system, String(s.result.cell.config.seed), s.eigenvalues, s.ratio, s.trace]);
  if (spectra.length > 0) {
    /** A setting of the measurements: one value, or each system's where they differ. */
    const setting = (key: "examples" | "iterations" | "traceProbes"): string => {
      const bySystem = (["@sam", "PyTorch"] as const).map((system) => {
        const values = new Set(results.flatMap((r) => (system === "@sam" ? [r.hessian] : [r.pytorchHessian, r.samModelHessian]).map((h) => h?.[key])).filter((v) => v !== undefined));
        return values.size > 0 ? `${[...values].join(" or ")} (${system})` : "";
      }).filter(Boolean);
      const all = new Set(results.flatMap((r) => [r.hessian, r.pytorchHessian, r.samModelHessian].map((h) => h?.[key])).filter((v) => v !== undefined));
      return all.size === 1 ? String([...all][0]) : bySystem.join(" and ");
    };
    out.push(`## Hessian spectra\n\n${table(["configuration", "system", "seed", `λ1 … λ${k}`, `λmax/λ${k}`, "trace ± its standard error"], spectra)}\n\n`
      + `The loss over the first ${setting("examples")} training images (as trained, without augmentation), ${setting("iterations")} Lanczos steps; `
      + `the trace by Hutchinson's estimator with ${setting("traceProbes")} probes.`
      + (results.some((r) => r.samModelHessian) ? " A row \"PyTorch, of @sam's model\" is PyTorch's measurement of the same final model as the @sam row above it "
        + "(`bench/anchors/torch_hessian.py --of-sam`, its own random vectors): where their λmax agree, so do the two systems' Hessian-vector products and Lanczos on a trained network." : ""));
  }

  const evaluated = evaluationRows(summary, results);
  if (evaluated.length > 0) {
    const averaged = evaluated.some((r) => r.evaluation.batchNorm);
    const rows = evaluated.map(({ result: r, own, evaluation: e }) => [r.cell.group, String(r.cell.config.seed), show("testAcc", own.testAcc), show("testAcc", e.testAcc),
      show("testLoss", own.testLoss), show("testLoss", e.testLoss), ...(averaged ? [recomputedNote(e)] : [])]);
    const bnHeader = averaged ? ["PyTorch, batch norm recomputed (largest statistic's difference)"] : [];
    out.push(`## @sam's final models evaluated by PyTorch

${table(["configuration", "seed", "test acc, @sam", "the same weights in PyTorch", "test loss, @sam", "in PyTorch", ...bnHeader], rows)}

`
      + "Each final model's weights and batch-norm statistics loaded into PyTorch's model of the same architecture and tested on the same images"
      + (averaged ? "; for an averaged model, batch norm's statistics also recomputed by `torch.optim.swa_utils.update_bn` over the same training images" : "")
      + " (`bench/anchors/torch_evaluate.py`). Where these agree, a difference between the two systems' runs lies in how they trained, not in what a model computes.");
  }

  if (summary.againstPytorch.length > 0) {
    const rows = summary.againstPytorch.map((a) => {
      const g = summary.groups.find((o) => o.group === a.group)!;
      return [a.group, a.figure === "ratio" ? `λmax/λ${k}` : LABELS[a.figure], meanSd(a.figure, g.estimates[a.figure]), meanSd(a.figure, g.pytorch!.estimates[a.figure]), signed(a.figure, a.difference),
        Number.isFinite(a.sd) ? (a.withinOneSd ? "yes" : "no") : "—", a.ci95 ? `${signed(a.figure, a.ci95[0])} to ${signed(a.figure, a.ci95[1])}` : "needs two seeds each"];
    });
    out.push(`## @sam against PyTorch\n\n${table(["configuration", "figure", "@sam", "PyTorch", "@sam − PyTorch", "within one sd", "95% interval (Welch)"], rows)}\n\n`
      + "The two systems share the configuration and the data, not their random draws, so they are compared as independent samples; "
      + "within one sd: the difference of the means is at most the larger of the two sides' sample standard deviations.");
  }
  return out.join("\n\n") + "\n";
}
