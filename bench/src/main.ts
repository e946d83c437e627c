// `pnpm bench [name …] [--profile] [--threads=N]`: runs the named benchmarks, or all of them.
import { matmulBench } from "./matmul.js";
import { trainBench } from "./train.js";

const args = process.argv.slice(2);
const profile = args.includes("--profile");
const threadsArg = args.find((a) => a.startsWith("--threads="));
const threads = threadsArg ? Number(threadsArg.slice("--threads=".length)) : 1;
if (!Number.isInteger(threads) || threads < 1) {
  console.error(`bench: --threads must be a positive integer, got ${threadsArg}`);
  process.exit(2);
}
const benches: Record<string, () => void> = { matmul: () => matmulBench(threads), train: () => trainBench(profile, threads) };

const wanted = args.filter((a) => !a.startsWith("--"));
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; available: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) benches[name]();
