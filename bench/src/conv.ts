// 3×3 convolutions (padding 1) at batch 128 in every shape a CIFAR network has — ResNet-20's six
// (stride 2 where it downsamples), WideResNet's 16→128 and 128→128, and the 3→64 and 64→64 of
// earlier rounds — forward, forward+backward (input and weight gradients), and each gradient alone
// (dx, dw): milliseconds per call of @sam/cpu beside PyTorch on the CPU, whose time is the ratio's
// base (and TensorFlow.js, in its NHWC layout, on the two 32×32 stride-1 cases it has always run),
// and of @sam/webgpu beside PyTorch on CUDA.
import { cpu, multiplyAddPeak } from "@sam/cpu";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, Generator, randn, setBackend, tidy, type Tensor } from "@sam/tensor";
import { addAnchor, runAnchor, torchMissing } from "./anchor.js";
import { benchGpu, gpuSeconds, type GpuTiming } from "./gpu.js";
import type { BenchOptions } from "./options.js";
import { cpuKernel, medianSeconds, report, TORCH_CUDA, type Result } from "./report.js";
import { tfjsResults } from "./tfjs.js";

const BATCH = 128;
const RUNS = 5;

/** A convolution shape: channels in and out, the input's side, the stride. */
interface Shape {
  cin: number;
  cout: number;
  size: number;
  stride: number;
}

const shape = (cin: number, cout: number, size: number, stride = 1): Shape => ({ cin, cout, size, stride });
/** ResNet-20's convolutions, then WideResNet's widest, then the two of earlier rounds. */
const SHAPES: Shape[] = [
  shape(3, 16, 32), shape(16, 16, 32), shape(16, 32, 32, 2), shape(32, 32, 16), shape(32, 64, 16, 2), shape(64, 64, 8),
  shape(16, 128, 32), shape(128, 128, 32), shape(3, 64, 32), shape(64, 64, 32),
];
/** The cases TensorFlow.js runs (its CPU backend takes about 40 s a call already at batch 8). */
const TFJS: [number, number][] = [[3, 64], [64, 64]];

/** A shape's name: channels, then the stride and the input's side where they are not 1 and 32. */
function caseName(s: Shape): string {
  return `${s.cin}->${s.cout}${s.stride > 1 ? ` s${s.stride}` : ""}${s.size !== 32 ? ` @${s.size}` : ""}`;
}

/** Multiply-adds ×2 of one forward call (each gradient takes as many). */
function forwardFlops({ cin, cout, size, stride }: Shape): number {
  return 2 * BATCH * cout * cin * 9 * (size / stride) ** 2;
}

/**
 * Forward+backward's arithmetic rate a thread, @sam/cpu's and PyTorch's, beside the WebAssembly
 * SIMD peak of one thread here; and the ratio to PyTorch's time that even that peak would leave, the
 * floor of any direct (not Winograd) convolution on these instructions.
 */
function printRates(results: Result[], threads: number): void {
  const peak = multiplyAddPeak();
  const time = (c: string, system: string) => results.find((r) => r.case === c && r.system === system && r.threads === threads)?.value;
  const rows = SHAPES.flatMap((s) => {
    const [name, flops] = [`${caseName(s)} fwd+bwd`, 3 * forwardFlops(s)];
    const [ours, theirs] = [time(name, "@sam/cpu"), time(name, "pytorch")];
    if (ours === undefined || theirs === undefined || peak === null) return [];
    const rate = (ms: number) => (flops / (ms / 1e3) / threads / 1e9).toFixed(1);
    const floor = flops / (peak * 1e9 * threads) / (theirs / 1e3);
    return [`${name.padEnd(20)} ${(flops / 1e9).toFixed(2).padStart(6)}  ${rate(ours).padStart(8)}  ${rate(theirs).padStart(8)}  ${floor.toFixed(2).padStart(6)}×`];
  });
  if (rows.length === 0) return;
  console.log(`rates, GFLOP/s a thread, ×${threads} (one thread's WebAssembly SIMD multiply-add peak here: ${peak!.toFixed(1)}); at peak: the time ratio to PyTorch a direct convolution would keep at that peak`);
  console.log(`${"case".padEnd(20)} ${"GFLOP".padStart(6)}  ${"@sam/cpu".padStart(8)}  ${"PyTorch".padStart(8)}  at peak`);
  rows.forEach((r) => console.log(r));
  console.log();
}

/** The timed calls of one case: forward, forward with both gradients, and each gradient alone. */
function calls({ cin, cout, size, stride }: Shape): Record<"forward" | "forwardBackward" | "inputGradient" | "weightGradient", () => Tensor[]> & { free: () => void } {
  const g = new Generator(0);
  const x = randn([BATCH, cin, size, size], { generator: g });
  const w = randn([cout, cin, 3, 3], { generator: g });
  const dy = randn([BATCH, cout, size / stride, size / stride], { generator: g });
  const p = { padding: 1, stride };
  return {
    forward: () => [conv2d(x, w, p)],
    forwardBackward: () => [conv2d(x, w, p), conv2dBackwardInput(dy, w, x.shape, p), conv2dBackwardWeight(x, dy, w.shape, p)],
    inputGradient: () => [conv2dBackwardInput(dy, w, x.shape, p)],
    weightGradient: () => [conv2dBackwardWeight(x, dy, w.shape, p)],
    free: () => [x, w, dy].forEach((t) => t.dispose()),
  };
}

/** PyTorch's figures on `device`, or a note saying why there are none. */
function torchResults(device: "cpu" | "cuda", threads: number, timing: GpuTiming): Result[] | string {
  const why = torchMissing();
  if (why) return why;
  const out = runAnchor<{ case: string; seconds: number }>("torch_conv.py",
    [device, String(threads), String(timing.runs), String(timing.repeats), String(BATCH), ...SHAPES.map((s) => `${s.cin}:${s.cout}:${s.size}:${s.stride}:${caseName(s)}`)],
    { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" });
  if (typeof out === "string") return out;
  console.log(`anchor: PyTorch ${out.setup.torch}, convolution by ${out.setup.conv}, on ${out.setup.device}${device === "cpu" ? `, ${threads} thread(s)` : ""}`);
  const system = device === "cuda" ? TORCH_CUDA : "pytorch";
  return out.rows.map((r) => ({ bench: "conv2d", case: r.case, system, threads, value: r.seconds * 1e3, unit: "ms" }));
}

/** Runs the convolution benchmark and prints its table and JSON lines. */
export async function convBench({ threads, webgpu, gpuOnly }: BenchOptions): Promise<void> {
  const results: Result[] = [];
  const cases = (s: Shape) => [[`${caseName(s)} fwd`, "forward"], [`${caseName(s)} fwd+bwd`, "forwardBackward"],
    [`${caseName(s)} dx`, "inputGradient"], [`${caseName(s)} dw`, "weightGradient"]] as const;
  if (!gpuOnly) {
    setBackend(cpu({ threads }));
    console.log(cpuKernel());
    for (const s of SHAPES) {
      const c = calls(s);
      for (const [name, key] of cases(s)) {
        const seconds = medianSeconds(() => tidy(() => c[key]()).forEach((t) => t.dispose()), RUNS);
        results.push({ bench: "conv2d", case: name, system: "@sam/cpu", threads, value: seconds * 1e3, unit: "ms" });
      }
      c.free();
    }
  }
  const gpu = await benchGpu(webgpu);
  if (gpu) {
    setBackend(gpu.gpu);
    for (const s of SHAPES) {
      const c = calls(s);
      for (const [name, key] of cases(s)) {
        const seconds = await gpuSeconds(gpu.gpu, gpu.timing, () => tidy(() => c[key]()).forEach((t) => t.dispose()));
        results.push({ bench: "conv2d", case: name, system: gpu.system, threads: 1, value: seconds * 1e3, unit: "ms" });
      }
      c.free();
    }
    if (gpu.cuda) addAnchor(results, torchResults("cuda", 1, gpu.timing));
  }
  if (!gpuOnly) {
    results.push(...tfjsResults("conv", RUNS, [String(BATCH), "32", ...TFJS.map(([a, b]) => `${a}:${b}`)], (_c, seconds) => seconds * 1e3, "ms"));
    addAnchor(results, torchResults("cpu", threads, { runs: RUNS, repeats: 1 }));
  }
  report(`conv2d 3×3, padding 1, batch ${BATCH}, float32 (@N: an N×N input, 32×32 otherwise; s2: stride 2; dx, dw: one gradient alone), median of ${RUNS} runs (tfjs-cpu: one) in ms; ratio is time over PyTorch's` +
    (gpu && !gpu.software ? ` (GPU rows: runs of ${gpu.timing.repeats} calls, each run finished on the device)` : ""), results);
  if (!gpuOnly) printRates(results, threads);
}
