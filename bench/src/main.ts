// `pnpm bench [name …] [--profile] [--threads=N] [--webgpu]`: runs the named benchmarks, or all of
// them. --webgpu adds WebGPU rows even when the only adapter is a software one.
import { convBench } from "./conv.js";
import { matmulBench } from "./matmul.js";
import { trainBench } from "./train.js";

const args = process.argv.slice(2);
const profile = args.includes("--profile");
const webgpu = args.includes("--webgpu");
const threadsArg = args.find((a) => a.startsWith("--threads="));
const threads = threadsArg ? Number(threadsArg.slice("--threads=".length)) : 1;
if (!Number.isInteger(threads) || threads < 1) {
  console.error(`bench: --threads must be a positive integer, got ${threadsArg}`);
  process.exit(2);
}
const unknownFlags = args.filter((a) => a.startsWith("--") && a !== "--profile" && a !== "--webgpu" && a !== threadsArg);
if (unknownFlags.length > 0) {
  console.error(`bench: unknown flag ${unknownFlags.join(", ")}; flags: --threads=N, --profile, --webgpu`);
  process.exit(2);
}
const benches: Record<string, () => Promise<void>> = {
  matmul: () => matmulBench(threads, webgpu),
  conv: () => convBench(threads, webgpu),
  train: () => trainBench(profile, threads, webgpu),
};

const wanted = args.filter((a) => !a.startsWith("--"));
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; available: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) await benches[name]();
process.exit(0); // Dawn's instance would otherwise keep the process alive
