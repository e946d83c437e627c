// The trainer's training steps against the PyTorch anchor's (fixtures/anchor-steps.json, written by
// fixtures/make_anchor_steps.py): for each configuration the sweeps train, the trainer's own
// optimizer, step and schedule (makeOptimizer, makeSchedule) train @sam's ResNet-20 from the anchor's
// weights on the anchor's batches, in the epoch loop's order (the steps, the weight average's update,
// the schedule's step), with batch norm recomputed for the averaged weights at the end: in float64,
// the losses and final state to rounding; in float32 on 32×32 images (the runs' precision and size,
// where the CPU backend's float32 kernels take their fast paths), each optimizer's losses before
// and after a whole step, m-sharpness's included, to float32's rounding (make_anchor_steps.py says
// why no further, and why m = 8 there), and the first batch's logits to within twice PyTorch's own
// float32 rounding of them. Where the two sides agree, the sweeps' two systems differ only in their
// random draws and rounding.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { cpu } from "@sam/cpu";
import { ResNet, updateBatchNorm } from "@sam/nn";
import { WeightAverage } from "@sam/optim";
import { setBackend, tensor, tidy, type Tensor } from "@sam/tensor";
import { parseCommand } from "../src/config.js";
import { makeOptimizer, makeSchedule } from "../src/train.js";

interface Digest {
  sum: number;
  sumSquares: number;
  head: number[];
}
interface Case {
  flags: string[];
  lrs: number[];
  losses: number[];
  /** The final state, in the float64 problem. */
  final?: Record<string, Digest>;
  averaged?: Record<string, Digest>;
  /** The anchor's names of the tensors set by the formula, in the order that numbers them. */
  initialised: string[];
}
interface Problem {
  common: string[];
  n: number;
  size: number;
  batch: number;
  partner: number[];
  cases: Record<string, Case>;
  /** The float32 problem's: its first batch's float64 logits, and how far PyTorch's float32 ones lie from them (relatively). */
  forward?: { logits: number[]; rounding: number };
}
/** The two problems' precisions. */
type Precision = "float64" | "float32";
interface Fixture {
  lambdas: number[];
  problems: Record<Precision, Problem>;
}

const fixture = JSON.parse(readFileSync(new URL("fixtures/anchor-steps.json", import.meta.url), "utf8")) as Fixture;
/** How far @sam's losses may be from the anchor's, relatively (float32's differ by about 1e-7), and its states in float64. */
const TOLERANCE = { float64: { loss: 1e-10, state: 1e-9 }, float32: { loss: 1e-5 } };

beforeAll(() => setBackend(cpu({ threads: 2 })));

/** The anchor's stages are layers.0…layers.2, @sam's layer1…layer3. */
const ours = (name: string) => name.replace(/^layers\.(\d)\./, (_, i: string) => `layer${Number(i) + 1}.`);

/** @sam's ResNet-20 with the fixture's weights (the same integer formula as make_anchor_steps.py). */
function model(initialised: string[], dtype: Precision): ResNet {
  const net = new ResNet(20, { numClasses: 10, inChannels: 3, dtype });
  const state = net.stateDict();
  const set: Record<string, Tensor> = {};
  initialised.forEach((name, t) => {
    const p = state[ours(name)];
    expect(p, `@sam's ResNet-20 has ${ours(name)}`).toBeDefined();
    const scale = Math.sqrt(6 / (p.size / p.shape[0]));
    const values = Array.from({ length: p.size }, (_, j) => (p.rank > 1 ? (((j * 7919 + t * 104729) % 2001) - 1000) / 1000 * scale : (((j * 31 + 7) % 21) - 10) / 1000));
    set[ours(name)] = tensor(values, { shape: [...p.shape], dtype });
  });
  net.loadStateDict(set, { strict: false });
  return net;
}

/** A problem's images, labels and batch order, from the integer formulas make_anchor_steps.py uses. */
function problemData({ n, size }: Problem, dtype: Precision) {
  const images = Array.from({ length: n * 3 * size * size }, (_, i) => (((i * 613 + 5) % 1001) - 500) / 250);
  const labels = Array.from({ length: n }, (_, i) => (i * 7 + 3) % 10);
  const per = 3 * size * size;
  return {
    order: (epoch: number) => Array.from({ length: n }, (_, i) => (i * 5 + epoch * 3) % n),
    rowsOf: (idx: number[]) => ({
      x: tensor(idx.flatMap((i) => images.slice(i * per, (i + 1) * per)), { shape: [idx.length, 3, size, size], dtype }),
      y: tensor(idx.map((i) => labels[i]), { dtype: "int32" }),
    }),
  };
}

async function digest(state: Record<string, Tensor>): Promise<Record<string, Digest>> {
  const out: Record<string, Digest> = {};
  for (const [k, t] of Object.entries(state)) {
    if (k.endsWith("num_batches_tracked")) continue;
    const v = Array.from(await t.data());
    out[k] = { sum: v.reduce((a, b) => a + b, 0), sumSquares: v.reduce((a, b) => a + b * b, 0), head: v.slice(0, 4) };
  }
  return out;
}

/** Each tensor's digest against the anchor's, relative to the tensor's scale (states are compared in float64 only). */
function expectSameState(got: Record<string, Digest>, want: Record<string, Digest>, what: string) {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).map(ours).sort());
  for (const [name, w] of Object.entries(want)) {
    const g = got[ours(name)];
    const scale = Math.sqrt(w.sumSquares) + 1e-12;
    const worst = Math.max(Math.abs(g.sum - w.sum) / scale, Math.abs(Math.sqrt(g.sumSquares) - scale) / scale,
      ...g.head.map((v, i) => Math.abs(v - w.head[i]) / scale));
    if (!(worst < TOLERANCE.float64.state)) expect.fail(`${what} ${name}: @sam's differs from the anchor's by ${worst.toExponential(2)} of its scale`);
  }
}

describe.each<Precision>(["float64", "float32"])("the trainer's training steps against the PyTorch anchor's, in %s", (dtype) => {
  const problem = fixture.problems[dtype];
  const { n, batch } = problem;
  const tolerance = TOLERANCE[dtype];
  const { order, rowsOf } = problemData(problem, dtype);

  it.each(Object.keys(problem.cases))("%s", async (name) => {
    const want = problem.cases[name];
    const config = parseCommand(["train", ...problem.common, ...want.flags]).config;
    const net = model(want.initialised, dtype);
    const { optimizer, step } = makeOptimizer(config, net);
    const schedule = makeSchedule(config, optimizer);
    const average = config.swaStart === undefined ? undefined : new WeightAverage(net.parameters());
    const lrs: number[] = [];
    const losses: number[] = [];
    for (let epoch = 1; epoch <= config.epochs; epoch++) {
      lrs.push(optimizer.paramGroups[0].lr as number);
      for (let b = 0; b < n / batch; b++) {
        const { x, y } = rowsOf(order(epoch).slice(b * batch, (b + 1) * batch));
        let input = x;
        let targets: { y: Tensor; yB?: Tensor; lambda: number } = { y, lambda: 1 };
        if (config.mixup > 0) {
          const lambda = fixture.lambdas[losses.length];
          const partner = tensor(problem.partner, { dtype: "int32" });
          input = tidy(() => x.mul(lambda).add(x.indexSelect(0, partner).mul(1 - lambda)));
          targets = { y, yB: y.indexSelect(0, partner), lambda };
        }
        const loss = step(input, targets, () => {});
        losses.push(await loss.item());
      }
      if (average && epoch > config.swaStart!) average.update();
      schedule.step();
    }
    lrs.forEach((lr, i) => expect(lr).toBeCloseTo(want.lrs[i], 14));
    losses.forEach((l, i) => {
      if (!(Math.abs(l - want.losses[i]) <= tolerance.loss * Math.abs(want.losses[i]))) expect.fail(`step ${i + 1}'s loss: @sam ${l}, the anchor ${want.losses[i]}`);
    });
    expect(want.final === undefined, "the anchor's final state is given in float64 only").toBe(dtype === "float32");
    if (want.final) expectSameState(await digest(net.stateDict()), want.final, "final");
    if (want.averaged) {
      expect(average).toBeDefined();
      average!.copyTo();
      updateBatchNorm(net, Array.from({ length: n / batch }, (_, b) => rowsOf(Array.from({ length: batch }, (_, i) => b * batch + i)).x));
      expectSameState(await digest(net.stateDict()), want.averaged, "averaged");
    } else {
      expect(average).toBeUndefined();
    }
  });
});

describe("the float32 forward pass against the anchor's", () => {
  // Continuous in its rounding (no ReLU kink can flip a result), so held to PyTorch's own accuracy:
  // Winograd F(4×4, 3×3) in the forward pass rounds 4.4 times as much as PyTorch, F(2×2, 3×3) about as much.
  it("rounds the logits no more than twice as much as PyTorch does", async () => {
    const problem = fixture.problems.float32;
    const want = problem.forward!;
    const net = model(problem.cases.sgd.initialised, "float32");
    const { order, rowsOf } = problemData(problem, "float32");
    const { x } = rowsOf(order(1).slice(0, problem.batch));
    const z = Array.from(await net.forward(x).data());
    expect(z.length).toBe(want.logits.length);
    const norm = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    const rounding = norm(z.map((v, i) => v - want.logits[i])) / norm(want.logits);
    if (!(rounding <= 2 * want.rounding)) expect.fail(`@sam's float32 logits lie ${rounding.toExponential(2)} from float64's, PyTorch's ${want.rounding.toExponential(2)}`);
  });
});

describe("the anchor's training steps", () => {
  it("cover each kind of run the sweeps train", () => {
    const flags = Object.values(fixture.problems.float64.cases).map((c) => c.flags.join(" "));
    for (const kind of ["--optimizer sam", "--optimizer asam", "--m 4", "--swa-start 1", "--mixup 1"]) expect(flags.some((f) => f.includes(kind))).toBe(true);
  });

  it("run SGD, SAM, ASAM and m-sharpness in float32 too", () => {
    const flags = Object.values(fixture.problems.float32.cases).map((c) => c.flags.join(" "));
    expect(flags).toContain("");
    for (const kind of ["--optimizer sam", "--optimizer asam", "--m 8"]) expect(flags.some((f) => f.includes(kind))).toBe(true);
  });
});
