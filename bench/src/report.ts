// Benchmark results: timing by median, a printed table, and one JSON line per result.
import { fusedMultiplyAdd } from "@sam/cpu";

/** Row label of PyTorch on CUDA; the WebGPU rows' ratios are taken against it. */
export const TORCH_CUDA = "pytorch-cuda";

/** One measured figure. */
export interface Result {
  bench: string;
  case: string;
  system: string;
  threads: number;
  value: number;
  unit: string;
}

/**
 * Warm-up before timing, the same for every system: runs for at least this long (and at least one
 * run), so that JIT-compiled code — JavaScript, WebAssembly tiering up, on every worker thread —
 * is timed as it runs in a long training loop, not while it compiles.
 */
export const WARM_UP_SECONDS = 0.25;

const secondsSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const median = (times: number[]) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)];

/** The median of several timings of `fn` in seconds, after warming up. */
export function medianSeconds(fn: () => void, runs: number): number {
  const start = process.hrtime.bigint();
  do fn();
  while (secondsSince(start) < WARM_UP_SECONDS);
  return median(Array.from({ length: runs }, () => {
    const t0 = process.hrtime.bigint();
    fn();
    return secondsSince(t0);
  }));
}

/** The median of several timings of async `fn` in seconds, after warming up as {@link medianSeconds} does. */
export async function medianSecondsAsync(fn: () => Promise<void>, runs: number): Promise<number> {
  const start = process.hrtime.bigint();
  do await fn();
  while (secondsSince(start) < WARM_UP_SECONDS);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(secondsSince(t0));
  }
  return median(times);
}

/** Which GEMM kernel @sam/cpu runs in this engine. */
export function cpuKernel(): string {
  return `@sam/cpu: WebAssembly SIMD GEMM, ${fusedMultiplyAdd() ? "relaxed-SIMD fused multiply-add" : "multiply then add (this engine has no relaxed SIMD)"}`;
}

/** The system a result is compared with: PyTorch on CUDA for the WebGPU rows, PyTorch on the CPU for the others. */
function anchorOf(r: Result): string {
  return r.system.startsWith("@sam/webgpu") ? TORCH_CUDA : "pytorch";
}

/** Prints results as a table (cases down, systems across, with ratios to their anchor on the same threads) then as JSON lines. */
export function report(title: string, results: Result[]): void {
  const systems = [...new Set(results.map((r) => `${r.system} ×${r.threads}`))];
  const cases = [...new Set(results.map((r) => r.case))];
  const unit = results[0]?.unit ?? "";
  const cell = (c: string, s: string) => results.find((r) => r.case === c && `${r.system} ×${r.threads}` === s);
  const header = ["case", ...systems.map((s) => `${s} (${unit})`)];
  const rows = cases.map((c) => [c, ...systems.map((s) => {
    const r = cell(c, s);
    if (!r) return "—";
    const anchor = anchorOf(r);
    const base = results.find((a) => a.case === c && a.system === anchor && a.threads === r.threads);
    const ratio = base && base !== r && r.system !== TORCH_CUDA ? `  (${(r.value / base.value).toFixed(2)}× ${anchor})` : "";
    return `${r.value.toFixed(2)}${ratio}`;
  })]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  rows.forEach((r) => console.log(line(r)));
  console.log();
  for (const r of results) console.log(JSON.stringify({ ...r, value: Number(r.value.toPrecision(4)) }));
}
