// `pnpm bench [name]`: runs one benchmark by name, or all of them.
import { matmulBench } from "./matmul.js";

const benches: Record<string, () => void> = { matmul: matmulBench };

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in benches));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; available: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) benches[name]();
