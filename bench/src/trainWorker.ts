// One system's side of `pnpm bench train`: times ResNet-20 training steps in its own process, so
// that its peak memory is its own. Prints one JSON line: step times and peak resident memory.
import { backward } from "@sam/autograd";
import { cpu } from "@sam/cpu";
import { crossEntropy, ResNet, withoutRunningStats } from "@sam/nn";
import { SAM, SGD, type SAMContext } from "@sam/optim";
import { Generator, randint, randn, setBackend, tidy } from "@sam/tensor";
import { webgpu } from "@sam/webgpu";
import { printProfile, profiled, type Profile } from "./profile.js";

// Arguments: sgd|sam|sam-mM|sam-mM-apart STEPS BATCH THREADS|webgpu|webgpu-recorded [profile] (sam-m16:
// m-sharpness, groups of 16 run as one batch; -apart: one group after another; webgpu-recorded:
// every kernel recorded, no step replayed)
const [optimizer, stepsArg, batchArg, device, profileFlag] = process.argv.slice(2);
const steps = Number(stepsArg);
const batch = Number(batchArg);
const profile: Profile = new Map();
const gpu = device.startsWith("webgpu") ? await webgpu({ replaySteps: device !== "webgpu-recorded" }) : null;
const backend = gpu ?? cpu({ threads: Number(device) });
setBackend(profileFlag === "profile" ? profiled(backend, profile) : backend);

const g = new Generator(0);
const model = new ResNet(20, { generator: g });
const x = randn([batch, 3, 32, 32], { generator: g });
const y = randint(0, 10, [batch], { generator: g });
const hyper = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };
const loss = () => crossEntropy(model.forward(x), y);

const [, m, apart] = /^sam-m(\d+)(-apart)?$/.exec(optimizer) ?? [];
const step = optimizer.startsWith("sam")
  ? (() => {
    const sam = new SAM(model.parameters(), SGD, { rho: 0.05, ...hyper },
      { m: m ? Number(m) : undefined, groupsAsBatch: !apart, secondPass: (run) => withoutRunningStats(model, run) });
    // each group's loss (groups as one batch), a group's rows of the batch, or all of it
    const groupLoss = ({ rows, groups, weights }: SAMContext) => {
      if (groups) return model.withParameters(weights!, () => crossEntropy(model.forward(x), y, { reduction: "none" }).reshape([groups, -1]).mean(1));
      return rows ? crossEntropy(model.forward(x.slice([rows])), y.slice([rows])) : loss();
    };
    return () => sam.step(groupLoss, batch).dispose();
  })()
  : (() => {
    const sgd = new SGD(model.parameters(), hyper);
    return () => {
      sgd.zeroGrad();
      tidy(() => backward(loss()));
      sgd.step();
    };
  })();

/** Seconds spent recording the GPU's kernels (until `step()` returns), per step. */
const recording: number[] = [];

/** One step, finished: on a GPU, until the device is done with it. */
async function timedStep(): Promise<number> {
  const t0 = process.hrtime.bigint();
  step();
  recording.push(Number(process.hrtime.bigint() - t0) / 1e9);
  await gpu?.sync();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

// warm-up: compiles the hot paths (and the GPU's shaders); on a GPU, steps until the buffers, and so
// the cached bind groups, repeat from step to step. On the CPU the first steps run WebAssembly
// before its optimising tier has compiled it, so warming up takes steps for WARM_UP_SECONDS: the
// timed steps are those of a long training loop (the PyTorch anchor warms up the same way).
const WARM_UP_SECONDS = 2;
const warmUps = process.env.SAM_BENCH_WARMUP;
if (warmUps !== undefined) for (let i = 0; i < Number(warmUps); i++) await timedStep();
else for (const start = performance.now(); performance.now() - start < WARM_UP_SECONDS * 1e3;) await timedStep();
gpu?.resetPeakMemory(); // the peak of the timed steps, from what the model and optimizer hold
profile.clear();
recording.length = 0;
const before = gpu?.stats();
const seconds: number[] = [];
for (let i = 0; i < steps; i++) seconds.push(await timedStep());
if (profileFlag === "profile") printProfile(profile, steps);
/** On the GPU: kernels and submissions a step, by primitive, and the time spent recording them. */
let kernels: Record<string, unknown> | undefined;
if (gpu && before) {
  const after = gpu.stats();
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const launches = (after.launches - before.launches) / steps;
  const byOp = Object.fromEntries(Object.entries(after.launchesByOp).map(([op, n]): [string, number] => [op, (n - (before.launchesByOp[op] ?? 0)) / steps])
    .filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]));
  const bindGroupsCreated = (after.bindGroupsCreated - before.bindGroupsCreated) / steps;
  const replayed = (after.launchesReplayed - before.launchesReplayed) / steps;
  const copies = (after.copies - before.copies) / steps;
  kernels = { launches, replayed, copies, submissions: (after.submissions - before.submissions) / steps, byOp, bindGroupsCreated, recordingSeconds: mean(recording), stepSeconds: mean(seconds) };
  console.log(`@sam/webgpu ${optimizer}: ${launches} kernels, ${copies} buffer copies and ${kernels.submissions} submissions a step; `
    + `recording them takes ${(mean(recording) * 1e3).toFixed(1)} ms of the ${(mean(seconds) * 1e3).toFixed(1)} ms step (mean)`);
}
console.log(JSON.stringify({ seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, gpuPeakBytes: gpu?.stats().peakAllocatedBytes, kernels }));
process.exit(0); // Dawn's instance would otherwise keep the process alive
