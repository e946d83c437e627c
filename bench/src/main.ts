// `pnpm bench [name …] [--threads=N] [--profile] [--webgpu] [--gpu-only]`: runs the named
// benchmarks, or all of them. --webgpu adds WebGPU rows even when the only adapter is a software
// one; --gpu-only runs just the GPU rows (@sam/webgpu beside PyTorch on CUDA).
import { convBench } from "./conv.js";
import { hvpBench } from "./hvp.js";
import { kernelsBench } from "./kernels.js";
import { matmulBench } from "./matmul.js";
import type { BenchOptions } from "./options.js";
import { trainBench } from "./train.js";
import { trainerBench } from "./trainer.js";

const FLAGS = ["--profile", "--webgpu", "--gpu-only"];
const args = process.argv.slice(2);
const threadsArg = args.find((a) => a.startsWith("--threads="));
const threads = threadsArg ? Number(threadsArg.slice("--threads=".length)) : 1;
if (!Number.isInteger(threads) || threads < 1) {
  console.error(`bench: --threads must be a positive integer, got ${threadsArg}`);
  process.exit(2);
}
const unknownFlags = args.filter((a) => a.startsWith("--") && !FLAGS.includes(a) && a !== threadsArg);
if (unknownFlags.length > 0) {
  console.error(`bench: unknown flag ${unknownFlags.join(", ")}; flags: --threads=N, ${FLAGS.join(", ")}`);
  process.exit(2);
}
const options: BenchOptions = { threads, profile: args.includes("--profile"), webgpu: args.includes("--webgpu"), gpuOnly: args.includes("--gpu-only") };
const benches: Record<string, (options: BenchOptions) => Promise<void>> = { matmul: matmulBench, conv: convBench, train: trainBench, trainer: trainerBench, hvp: hvpBench, kernels: kernelsBench };

const wanted = args.filter((a) => !a.startsWith("--"));
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; available: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) await benches[name](options);
process.exit(0); // Dawn's instance would otherwise keep the process alive
