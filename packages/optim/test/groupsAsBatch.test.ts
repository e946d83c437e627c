// m-sharpness with the groups run as one batch (groupsAsBatch) against the groups one after another
// (the definition): the same weights, momentum, batch-norm running statistics and losses after
// several steps, for SAM and ASAM, first-order and exact, over parameter groups of their own ρ.
import { beforeAll, describe, expect, it } from "vitest";
import { cpu } from "@sam/cpu";
import { crossEntropy, ResNet, withoutRunningStats, type Module } from "@sam/nn";
import { Generator, randint, randn, setBackend, type Tensor } from "@sam/tensor";
import { SAM, SGD, type SAMContext } from "../src/index.js";

beforeAll(() => setBackend(cpu({ threads: 2 })));

type DType = "float32" | "float64";

const BATCH = 12;

const batch = (step: number, dtype: DType) => {
  const generator = new Generator(90 + step);
  return { x: randn([BATCH, 3, 8, 8], { generator, dtype }), y: randint(0, 10, [BATCH], { generator }) };
};

/**
 * The loss of the closure's part of the batch: a group's rows, each group's loss ([G]), or all of
 * it; `weights` come in the optimizer's order of the parameters, `order` their places in the model's.
 */
function loss(model: Module, order: number[], x: Tensor, y: Tensor, { rows, groups, weights }: SAMContext): Tensor {
  const run = () => {
    if (groups) return crossEntropy(model.forward(x), y, { reduction: "none" }).reshape([groups, -1]).mean(1);
    return rows ? crossEntropy(model.forward(x.slice([rows])), y.slice([rows])) : crossEntropy(model.forward(x), y);
  };
  return weights ? model.withParameters(order.map((i) => weights[i]), run) : run();
}

function trained(dtype: DType, adaptive: boolean, exact: boolean, groupsAsBatch: boolean) {
  const model = new ResNet(8, { generator: new Generator(5), dtype });
  const [convs, rest] = [model.parameters().filter((p) => p.rank === 4), model.parameters().filter((p) => p.rank !== 4)];
  const sam = new SAM([{ params: convs }, { params: rest, rho: adaptive ? 0.3 : 0.02, lr: 0.05 }], SGD,
    { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, rho: adaptive ? 0.5 : 0.05, adaptive },
    { m: 4, exact, groupsAsBatch, secondPass: (run) => withoutRunningStats(model, run) });
  const order = model.parameters().map((p) => sam.params().indexOf(p));
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    const { x, y } = batch(step, dtype);
    const l = sam.step((ctx) => loss(model, order, x, y, ctx), BATCH);
    losses.push(l.dataSync()[0]);
    [x, y, l].forEach((t) => t.dispose());
  }
  const state = Object.values(sam.stateDict().state).flatMap((s) => Object.values(s).flatMap((v) => (typeof v === "number" ? [v] : Array.from(v.dataSync()))));
  return { values: Object.values(model.stateDict()).flatMap((t) => Array.from(t.dataSync())), state, losses };
}

const close = (got: number[], want: number[], tol: number, what: string) => {
  expect(got.length).toBe(want.length);
  const scale = Math.max(1, ...want.map(Math.abs));
  got.forEach((v, i) => {
    if (!(Math.abs(v - want[i]) <= tol * scale)) expect.fail(`${what} ${i}: groups as one batch ${v}, one after another ${want[i]}`);
  });
};

describe("m-sharpness with the groups as one batch", () => {
  it.each([
    ["float64", false, false, 1e-11], ["float64", true, false, 1e-11], ["float64", false, true, 1e-10], ["float64", true, true, 1e-10],
    ["float32", false, false, 2e-4], ["float32", true, false, 2e-4],
  ] as [DType, boolean, boolean, number][])("%s, adaptive %s, exact %s: the groups one after another", (dtype, adaptive, exact, tol) => {
    const [batched, sequential] = [trained(dtype, adaptive, exact, true), trained(dtype, adaptive, exact, false)];
    close(batched.values, sequential.values, tol, "weight or running statistic");
    close(batched.state, sequential.state, tol, "optimizer state");
    close(batched.losses, sequential.losses, tol, "loss");
  });

  it("refuses a closure that does not return each group's loss", () => {
    const model = new ResNet(8, { generator: new Generator(5) });
    const sam = new SAM(model.parameters(), SGD, { lr: 0.1 }, { m: 4, groupsAsBatch: true });
    const { x, y } = batch(0, "float32");
    expect(() => sam.step((ctx) => model.withParameters(ctx.weights!, () => crossEntropy(model.forward(x), y)), BATCH))
      .toThrow(/SAM\.step: with groupsAsBatch the closure must return each group's loss, \[3\]; got \[\]/);
  });
});
