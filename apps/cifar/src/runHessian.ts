// The loss Hessian of a saved run: its last complete checkpoint, the first N images of its training
// subset (the labels it was trained on, no augmentation, its own normalisation), plain mean
// cross-entropy, batch norm in evaluation mode; top eigenvalues, trace and density into hessian.json.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { channelStats, DataLoader, normalize, subset } from "@sam/data";
import { hutchinsonTrace, modelHessian, spectralDensity, topEigenvalues, type Batch } from "@sam/hessian";
import { crossEntropy, loadSafetensors, writeFileAtomic } from "@sam/nn";
import { Generator, SamError } from "@sam/tensor";
import { loadModel, readMetrics } from "./checkpoint.js";
import type { Config, HessianSettings } from "./config.js";
import type { RunData } from "./datasets.js";
import type { RunHooks } from "./train.js";
import { makeModel } from "./models.js";
import { Progress } from "./progress.js";
import { renderReport, type HessianSummary } from "./report.js";

/**
 * Computes the Hessian figures of the run in `dir` (trained with `config` on `data`), writes
 * `dir/hessian.json` and redraws `dir/report.html` with them. Once `hooks.signal` aborts (Ctrl-C),
 * the measurement stops within a batch's product and writes nothing: null.
 */
export async function measureHessian(dir: string, config: Config, data: RunData, s: HessianSettings, hooks: RunHooks = {}): Promise<HessianSummary | null> {
  const { signal, retainGraphs } = hooks;
  const log = hooks.log ?? ((line: string) => console.log(line));
  const available = data.train.labels.length;
  if (s.examples > available) {
    throw new SamError("hessian", `--examples ${s.examples} is more than the run's ${available} training images; give at most ${available}`);
  }
  const started = performance.now();
  const model = makeModel(config.model, data.train.classes.length, data.train.shape[0], new Generator(config.seed));
  const saved = await loadModel(dir, model);
  // a run with weight averaging produced the averaged model: that is the one measured
  const averaged = join(dir, "swa-model.safetensors");
  if (config.swaStart !== undefined && existsSync(averaged)) model.loadStateDict(await loadSafetensors(averaged));
  const { mean, std } = saved.normalization ?? channelStats(data.train);
  const loader = new DataLoader(subset(data.train, s.examples), { batchSize: config.batchSize, shuffle: false, transform: normalize(mean, std) });
  const batches: Batch[] = [...loader.epochBatches()].map(({ x, y }) => ({ x, y }));
  const h = modelHessian(model, batches, (z, y) => crossEntropy(z, y), { signal, retainGraphs });
  try {
    log(`hessian of ${dir}${config.swaStart !== undefined && existsSync(averaged) ? "'s averaged weights" : ""} after epoch ${saved.position.epoch}: ${h.dimension} parameters, ${s.examples} examples in ${batches.length} batches`);
    const phase = (label: string) => {
      let bar: Progress | undefined;
      return {
        onProgress: (done: number, total: number) => (bar ??= new Progress(label, total, "HVP")).update(done, done),
        done: () => bar?.done(),
      };
    };
    let p = phase("eigenvalues");
    const top = await topEigenvalues(h, { k: s.k, iterations: s.iterations, seed: s.seed, onProgress: p.onProgress });
    p.done();
    log(`eigenvalues: ${top.values.map((v) => v.toPrecision(5)).join(", ")}  (residuals ${top.residuals.map((r) => r.toExponential(1)).join(", ")})`);
    p = phase("trace");
    const trace = await hutchinsonTrace(h, { probes: s.probes, seed: s.seed + 1, onProgress: p.onProgress });
    p.done();
    log(`trace: ${trace.trace.toPrecision(5)} ± ${trace.stdErr.toPrecision(2)} (${s.probes} probes)`);
    p = phase("density");
    // the eigenvalues' Lanczos run is the density's first quadrature run
    const density = await spectralDensity(h, { runs: s.densityRuns, iterations: s.iterations, seed: s.seed + 2, gridPoints: 400, made: [top.quadrature], onProgress: p.onProgress });
    p.done();
    const summary: HessianSummary = {
      examples: s.examples, k: s.k, iterations: s.iterations, lambdaMax: top.values[0], eigenvalues: top.values, residuals: top.residuals,
      ratio: top.values[0] / top.values[s.k - 1], trace: trace.trace, traceStdErr: trace.stdErr, traceProbes: s.probes,
      density: { grid: density.grid, values: density.values }, seconds: (performance.now() - started) / 1000,
    };
    await writeFileAtomic(join(dir, "hessian.json"), JSON.stringify(summary) + "\n");
    const metrics = await readMetrics(dir);
    await writeFileAtomic(join(dir, "report.html"), renderReport(`${config.optimizer.toUpperCase()} · ${config.model} · ${config.dataset}`,
      [{ name: config.optimizer, config, metrics, data: data.provenance, hessian: summary }]));
    log(`λmax ${summary.lambdaMax.toPrecision(5)}, λmax/λ${s.k} ${summary.ratio.toPrecision(4)}, in ${summary.seconds.toFixed(0)} s → ${join(dir, "hessian.json")}`);
    return summary;
  } catch (e) {
    if (!signal?.aborted) throw e;
    log(`\nhessian of ${dir}: stopped before it finished; nothing written (measured again on --resume)`);
    return null;
  } finally {
    h.dispose();
    for (const b of batches) {
      b.x.dispose();
      b.y.dispose();
    }
  }
}
