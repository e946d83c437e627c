// One system's side of `pnpm bench train`: times ResNet-20 training steps in its own process, so
// that its peak memory is its own. Prints one JSON line: step times and peak resident memory.
import { backward } from "@sam/autograd";
import { cpu } from "@sam/cpu";
import { crossEntropy, ResNet, withoutRunningStats } from "@sam/nn";
import { SAM, SGD } from "@sam/optim";
import { Generator, randint, randn, setBackend, tidy } from "@sam/tensor";
import { printProfile, profiled, type Profile } from "./profile.js";

const [optimizer, stepsArg, batchArg, threadsArg, profileFlag] = process.argv.slice(2);
const steps = Number(stepsArg);
const batch = Number(batchArg);
const profile: Profile = new Map();
const backend = cpu({ threads: Number(threadsArg) });
setBackend(profileFlag === "profile" ? profiled(backend, profile) : backend);

const g = new Generator(0);
const model = new ResNet(20, { generator: g });
const x = randn([batch, 3, 32, 32], { generator: g });
const y = randint(0, 10, [batch], { generator: g });
const hyper = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };
const loss = () => crossEntropy(model.forward(x), y);

const step = optimizer === "sam"
  ? (() => {
    const sam = new SAM(model.parameters(), SGD, { rho: 0.05, ...hyper }, { secondPass: (run) => withoutRunningStats(model, run) });
    return () => sam.step(loss).dispose();
  })()
  : (() => {
    const sgd = new SGD(model.parameters(), hyper);
    return () => {
      sgd.zeroGrad();
      tidy(() => backward(loss()));
      sgd.step();
    };
  })();

step(); // warm-up: compiles the hot paths
profile.clear();
const seconds: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = process.hrtime.bigint();
  step();
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
if (profileFlag === "profile") printProfile(profile, steps);
console.log(JSON.stringify({ seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
