// Matrix-multiply throughput in GFLOP/s at 256, 512 and 1024: @sam/cpu beside TensorFlow.js's CPU
// and WebAssembly backends and PyTorch on the CPU; @sam/webgpu (also at 4096 on a hardware GPU)
// beside PyTorch on CUDA.
import { cpu } from "@sam/cpu";
import { Generator, rand, setBackend } from "@sam/tensor";
import { addAnchor, runAnchor, torchMissing } from "./anchor.js";
import { benchGpu, gpuSeconds, type GpuTiming } from "./gpu.js";
import type { BenchOptions } from "./options.js";
import { cpuKernel, medianSeconds, report, TORCH_CUDA, type Result } from "./report.js";
import { tfjsResults } from "./tfjs.js";

const SIZES = [256, 512, 1024];
const GPU_SIZES = [...SIZES, 4096];
const RUNS = 5;

const gflops = (n: number, seconds: number) => (2 * n ** 3) / seconds / 1e9;

/** PyTorch's figures on `device`, or a note saying why there are none. */
function torchResults(device: "cpu" | "cuda", threads: number, sizes: number[], timing: GpuTiming): Result[] | string {
  const why = torchMissing();
  if (why) return why;
  const out = runAnchor<{ size: number; seconds: number }>("torch_matmul.py", [device, String(threads), String(timing.runs), String(timing.repeats), ...sizes.map(String)],
    { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) });
  if (typeof out === "string") return out;
  console.log(`anchor: PyTorch ${out.setup.torch} on ${out.setup.device}${device === "cpu" ? `, ${threads} thread(s)` : ""}`);
  const system = device === "cuda" ? TORCH_CUDA : "pytorch";
  return out.rows.map((r) => ({ bench: "matmul", case: String(r.size), system, threads, value: gflops(r.size, r.seconds), unit: "GFLOP/s" }));
}

/** Runs the matmul benchmark and prints its table and JSON lines. */
export async function matmulBench({ threads, webgpu, gpuOnly }: BenchOptions): Promise<void> {
  const results: Result[] = [];
  const g = new Generator(0);
  if (!gpuOnly) {
    setBackend(cpu({ threads }));
    console.log(cpuKernel());
    for (const n of SIZES) {
      const a = rand([n, n], { generator: g });
      const b = rand([n, n], { generator: g });
      const seconds = medianSeconds(() => a.matmul(b).dispose(), RUNS);
      results.push({ bench: "matmul", case: String(n), system: "@sam/cpu", threads, value: gflops(n, seconds), unit: "GFLOP/s" });
      a.dispose();
      b.dispose();
    }
  }
  const gpu = await benchGpu(webgpu);
  if (gpu) {
    setBackend(gpu.gpu);
    const sizes = gpu.software ? SIZES : GPU_SIZES;
    for (const n of sizes) {
      const a = rand([n, n], { generator: g });
      const b = rand([n, n], { generator: g });
      const seconds = await gpuSeconds(gpu.gpu, gpu.timing, () => a.matmul(b).dispose());
      results.push({ bench: "matmul", case: String(n), system: gpu.system, threads: 1, value: gflops(n, seconds), unit: "GFLOP/s" });
      a.dispose();
      b.dispose();
    }
    if (gpu.cuda) addAnchor(results, torchResults("cuda", 1, sizes, gpu.timing));
  }
  if (!gpuOnly) {
    results.push(...tfjsResults("matmul", RUNS, SIZES.map(String), (c, seconds) => gflops(Number(c), seconds), "GFLOP/s"));
    addAnchor(results, torchResults("cpu", threads, SIZES, { runs: RUNS, repeats: 1 }));
  }
  report(`matmul float32, median of ${RUNS} runs${gpu && !gpu.software ? ` (GPU rows: runs of ${gpu.timing.repeats} products, each run finished on the device)` : ""}`, results);
}
