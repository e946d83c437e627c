// TensorFlow.js rows of the benchmarks: its pure-JavaScript CPU backend and its WebAssembly
// backend (XNNPACK), each in its own process, one thread.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Result } from "./report.js";

/** Runs `bench` (matmul or conv) on both TensorFlow.js backends; a case a backend cannot run is said so. */
export function tfjsResults(bench: "matmul" | "conv", runs: number, args: string[], value: (c: string, seconds: number) => number, unit: string): Result[] {
  const worker = fileURLToPath(new URL("./tfjsWorker.js", import.meta.url));
  const results: Result[] = [];
  for (const backend of ["cpu", "wasm"]) {
    const system = `tfjs-${backend}`;
    try {
      const out = execFileSync(process.execPath, [worker, backend, bench, String(backend === "cpu" && bench === "conv" ? 1 : runs), ...args],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 24 });
      const lines = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { case: string; seconds?: number; error?: string; version?: string });
      const info = lines.pop()!;
      console.log(`${system}: TensorFlow.js ${info.version}, 1 thread`);
      for (const r of lines) {
        if (r.seconds !== undefined) results.push({ bench: bench === "conv" ? "conv2d" : bench, case: r.case, system, threads: 1, value: value(r.case, r.seconds), unit });
        else console.log(`${system} ${r.case}: ${r.error}`);
      }
    } catch (e) {
      console.log(`${system}: failed (${(e as Error).message.split("\n")[0]})`);
    }
  }
  return results;
}
