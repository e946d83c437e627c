// `pnpm bench [name …] [--profile]`: runs the named benchmarks, or all of them.
import { matmulBench } from "./matmul.js";
import { trainBench } from "./train.js";

const args = process.argv.slice(2);
const profile = args.includes("--profile");
const benches: Record<string, () => void> = { matmul: matmulBench, train: () => trainBench(profile) };

const wanted = args.filter((a) => !a.startsWith("--"));
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; available: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) benches[name]();
