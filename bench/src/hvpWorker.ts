// @sam's side of `pnpm bench hvp`: times Hessian-vector products of ResNet-20's loss over one batch
// (@sam/hessian's modelHessian, batch norm in evaluation mode) in its own process. Prints one JSON
// line: the times and peak resident memory.
import { cpu } from "@sam/cpu";
import { modelHessian } from "@sam/hessian";
import { crossEntropy, ResNet } from "@sam/nn";
import { Generator, randint, randn, setBackend } from "@sam/tensor";

// Arguments: STEPS BATCH THREADS
const [steps, batch, threads] = process.argv.slice(2).map(Number);
setBackend(cpu({ threads }));
const g = new Generator(0);
const model = new ResNet(20, { generator: g });
const x = randn([batch, 3, 32, 32], { generator: g });
const y = randint(0, 10, [batch], { generator: g });
const h = modelHessian(model, [{ x, y }], (z, t) => crossEntropy(z, t));
const v = Float64Array.from({ length: h.dimension }, () => g.nextFloat64() - 0.5);

await h.apply(v); // warm-up: compiles the hot paths
const seconds: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = process.hrtime.bigint();
  await h.apply(v);
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
console.log(JSON.stringify({ seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
process.exit(0);
