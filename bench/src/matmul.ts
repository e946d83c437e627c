// Matrix-multiply throughput in GFLOP/s at 256, 512 and 1024: @sam/cpu (and @sam/webgpu) beside
// TensorFlow.js's CPU and WebAssembly backends, and PyTorch when present.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cpu } from "@sam/cpu";
import { Generator, rand, setBackend } from "@sam/tensor";
import { benchGpu } from "./gpu.js";
import { medianSeconds, medianSecondsAsync, report, type Result } from "./report.js";
import { tfjsResults } from "./tfjs.js";

const SIZES = [256, 512, 1024];
const RUNS = 5;
const PYTHON = "/usr/bin/python3";

const gflops = (n: number, seconds: number) => (2 * n ** 3) / seconds / 1e9;

/** PyTorch's figures on `threads` threads, or a note saying why there are none. */
function torchResults(threads: number): Result[] | string {
  const script = fileURLToPath(new URL("../anchors/torch_matmul.py", import.meta.url));
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    const out = execFileSync(PYTHON, [script, String(threads), String(RUNS), ...SIZES.map(String)], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = out.trim().split("\n").map((line) => JSON.parse(line) as { size: number; seconds: number; blas?: string; torch?: string });
    const info = lines.pop()!;
    console.log(`anchor: PyTorch ${info.torch} on ${info.blas}, ${threads} thread(s)`);
    return lines.map((r) => ({ bench: "matmul", case: String(r.size), system: "pytorch", threads, value: gflops(r.size, r.seconds), unit: "GFLOP/s" }));
  } catch (e) {
    return `PyTorch not available (${(e as Error).message.split("\n")[0]}); install Debian's python3-torch to compare`;
  }
}

/** Runs the matmul benchmark on `threads` threads and prints its table and JSON lines; `webgpu`
 * forces WebGPU rows on a software adapter. */
export async function matmulBench(threads = 1, webgpu = false): Promise<void> {
  setBackend(cpu({ threads }));
  const results: Result[] = [];
  const g = new Generator(0);
  for (const n of SIZES) {
    const a = rand([n, n], { generator: g });
    const b = rand([n, n], { generator: g });
    const seconds = medianSeconds(() => a.matmul(b).dispose(), RUNS);
    results.push({ bench: "matmul", case: String(n), system: "@sam/cpu", threads, value: gflops(n, seconds), unit: "GFLOP/s" });
    a.dispose();
    b.dispose();
  }
  const gpu = await benchGpu(webgpu);
  if (gpu) {
    setBackend(gpu.gpu);
    for (const n of SIZES) {
      const a = rand([n, n], { generator: g });
      const b = rand([n, n], { generator: g });
      const seconds = await medianSecondsAsync(async () => {
        a.matmul(b).dispose();
        await gpu.gpu.sync();
      }, gpu.software ? 1 : RUNS);
      results.push({ bench: "matmul", case: String(n), system: gpu.system, threads: 1, value: gflops(n, seconds), unit: "GFLOP/s" });
      a.dispose();
      b.dispose();
    }
  }
  results.push(...tfjsResults("matmul", RUNS, SIZES.map(String), (c, seconds) => gflops(Number(c), seconds), "GFLOP/s"));
  const anchor = torchResults(threads);
  if (typeof anchor === "string") console.log(`anchor: ${anchor}`);
  else results.push(...anchor);
  report(`matmul float32, median of ${RUNS} runs`, results, typeof anchor === "string" ? undefined : "pytorch");
}
