// A 3×3 convolution (padding 1) at batch 128 on 32×32 inputs, 3→64 and 64→64 channels, forward
// and forward+backward (input and weight gradients): milliseconds per call of @sam/cpu beside
// TensorFlow.js (in its NHWC layout) and PyTorch on the CPU, whose time is the ratio's base, and
// of @sam/webgpu beside PyTorch on CUDA.
import { cpu } from "@sam/cpu";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, Generator, randn, setBackend, tidy, type Tensor } from "@sam/tensor";
import { addAnchor, runAnchor, TORCH_CUDA, torchMissing } from "./anchor.js";
import { benchGpu, gpuSeconds, type GpuTiming } from "./gpu.js";
import type { BenchOptions } from "./options.js";
import { cpuKernel, medianSeconds, report, type Result } from "./report.js";
import { tfjsResults } from "./tfjs.js";

const BATCH = 128;
const SIZE = 32;
const CHANNELS: [number, number][] = [[3, 64], [64, 64]];
const RUNS = 5;

/** The two timed calls of one case: forward, and forward with both gradients. */
function calls(cin: number, cout: number): { forward: () => Tensor[]; forwardBackward: () => Tensor[]; free: () => void } {
  const g = new Generator(0);
  const x = randn([BATCH, cin, SIZE, SIZE], { generator: g });
  const w = randn([cout, cin, 3, 3], { generator: g });
  const dy = randn([BATCH, cout, SIZE, SIZE], { generator: g });
  const p = { padding: 1 };
  return {
    forward: () => [conv2d(x, w, p)],
    forwardBackward: () => [conv2d(x, w, p), conv2dBackwardInput(dy, w, x.shape, p), conv2dBackwardWeight(x, dy, w.shape, p)],
    free: () => [x, w, dy].forEach((t) => t.dispose()),
  };
}

/** PyTorch's figures on `device`, or a note saying why there are none. */
function torchResults(device: "cpu" | "cuda", threads: number, timing: GpuTiming): Result[] | string {
  const why = torchMissing();
  if (why) return why;
  const out = runAnchor<{ case: string; seconds: number }>("torch_conv.py",
    [device, String(threads), String(timing.runs), String(timing.repeats), String(BATCH), String(SIZE), ...CHANNELS.map(([a, b]) => `${a}:${b}`)],
    { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" });
  if (typeof out === "string") return out;
  console.log(`anchor: PyTorch ${out.setup.torch}, convolution by ${out.setup.conv}, on ${out.setup.device}${device === "cpu" ? `, ${threads} thread(s)` : ""}`);
  const system = device === "cuda" ? TORCH_CUDA : "pytorch";
  return out.rows.map((r) => ({ bench: "conv2d", case: r.case, system, threads, value: r.seconds * 1e3, unit: "ms" }));
}

/** Runs the convolution benchmark and prints its table and JSON lines. */
export async function convBench({ threads, webgpu, gpuOnly }: BenchOptions): Promise<void> {
  const results: Result[] = [];
  const cases = (cin: number, cout: number) => [[`${cin}->${cout} fwd`, "forward"], [`${cin}->${cout} fwd+bwd`, "forwardBackward"]] as const;
  if (!gpuOnly) {
    setBackend(cpu({ threads }));
    console.log(cpuKernel());
    for (const [cin, cout] of CHANNELS) {
      const c = calls(cin, cout);
      for (const [name, key] of cases(cin, cout)) {
        const seconds = medianSeconds(() => tidy(() => c[key]()).forEach((t) => t.dispose()), RUNS);
        results.push({ bench: "conv2d", case: name, system: "@sam/cpu", threads, value: seconds * 1e3, unit: "ms" });
      }
      c.free();
    }
  }
  const gpu = await benchGpu(webgpu);
  if (gpu) {
    setBackend(gpu.gpu);
    for (const [cin, cout] of CHANNELS) {
      const c = calls(cin, cout);
      for (const [name, key] of cases(cin, cout)) {
        const seconds = await gpuSeconds(gpu.gpu, gpu.timing, () => tidy(() => c[key]()).forEach((t) => t.dispose()));
        results.push({ bench: "conv2d", case: name, system: gpu.system, threads: 1, value: seconds * 1e3, unit: "ms" });
      }
      c.free();
    }
    if (gpu.cuda) addAnchor(results, torchResults("cuda", 1, gpu.timing));
  }
  if (!gpuOnly) {
    results.push(...tfjsResults("conv", RUNS, [String(BATCH), String(SIZE), ...CHANNELS.map(([a, b]) => `${a}:${b}`)], (_c, seconds) => seconds * 1e3, "ms"));
    addAnchor(results, torchResults("cpu", threads, { runs: RUNS, repeats: 1 }));
  }
  report(`conv2d 3×3, batch ${BATCH}, ${SIZE}×${SIZE}, float32, median of ${RUNS} runs (tfjs-cpu: one) in ms; ratio is time over PyTorch's` +
    (gpu && !gpu.software ? ` (GPU rows: runs of ${gpu.timing.repeats} calls, each run finished on the device)` : ""), results);
}
