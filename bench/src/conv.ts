// A 3×3 convolution (padding 1) at batch 128 on 32×32 inputs, 3→64 and 64→64 channels, forward
// and forward+backward (input and weight gradients): milliseconds per call of @sam/cpu (and
// @sam/webgpu) beside TensorFlow.js (in its NHWC layout) and PyTorch, whose time is the ratio's base.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cpu } from "@sam/cpu";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight, Generator, randn, setBackend, tidy, type Tensor } from "@sam/tensor";
import { benchGpu } from "./gpu.js";
import { medianSeconds, medianSecondsAsync, report, type Result } from "./report.js";
import { tfjsResults } from "./tfjs.js";

const BATCH = 128;
const SIZE = 32;
const CHANNELS: [number, number][] = [[3, 64], [64, 64]];
const RUNS = 5;
const PYTHON = "/usr/bin/python3";

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

function torchResults(threads: number): Result[] | string {
  const script = fileURLToPath(new URL("../anchors/torch_conv.py", import.meta.url));
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  try {
    const out = execFileSync(PYTHON, [script, String(threads), String(RUNS), String(BATCH), String(SIZE), ...CHANNELS.map(([a, b]) => `${a}:${b}`)], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines = out.trim().split("\n").map((l) => JSON.parse(l) as { case: string; seconds: number; blas?: string; torch?: string; conv?: string });
    const info = lines.pop()!;
    console.log(`anchor: PyTorch ${info.torch}, convolution by ${info.conv}, BLAS ${info.blas}, ${threads} thread(s)`);
    return lines.map((r) => ({ bench: "conv2d", case: r.case, system: "pytorch", threads, value: r.seconds * 1e3, unit: "ms" }));
  } catch (e) {
    return `PyTorch not available (${(e as Error).message.split("\n")[0]}); install Debian's python3-torch to compare`;
  }
}

/** Runs the convolution benchmark; `webgpu` forces WebGPU rows on a software adapter. */
export async function convBench(threads = 1, webgpu = false): Promise<void> {
  const results: Result[] = [];
  const cases = (cin: number, cout: number) => [[`${cin}->${cout} fwd`, "forward"], [`${cin}->${cout} fwd+bwd`, "forwardBackward"]] as const;
  setBackend(cpu({ threads }));
  for (const [cin, cout] of CHANNELS) {
    const c = calls(cin, cout);
    for (const [name, key] of cases(cin, cout)) {
      const seconds = medianSeconds(() => tidy(() => c[key]()).forEach((t) => t.dispose()), RUNS);
      results.push({ bench: "conv2d", case: name, system: "@sam/cpu", threads, value: seconds * 1e3, unit: "ms" });
    }
    c.free();
  }
  const gpu = await benchGpu(webgpu);
  if (gpu) {
    setBackend(gpu.gpu);
    for (const [cin, cout] of CHANNELS) {
      const c = calls(cin, cout);
      for (const [name, key] of cases(cin, cout)) {
        const seconds = await medianSecondsAsync(async () => {
          tidy(() => c[key]()).forEach((t) => t.dispose());
          await gpu.gpu.sync();
        }, gpu.software ? 1 : RUNS);
        results.push({ bench: "conv2d", case: name, system: gpu.system, threads: 1, value: seconds * 1e3, unit: "ms" });
      }
      c.free();
    }
  }
  results.push(...tfjsResults("conv", RUNS, [String(BATCH), String(SIZE), ...CHANNELS.map(([a, b]) => `${a}:${b}`)], (_c, seconds) => seconds * 1e3, "ms"));
  const anchor = torchResults(threads);
  if (typeof anchor === "string") console.log(`anchor: ${anchor}`);
  else results.push(...anchor);
  report(`conv2d 3×3, batch ${BATCH}, ${SIZE}×${SIZE}, float32, median of ${RUNS} runs (tfjs-cpu: one) in ms; ratio is time over PyTorch's`, results,
    typeof anchor === "string" ? undefined : "pytorch");
}
