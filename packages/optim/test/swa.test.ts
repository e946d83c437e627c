// Weight averaging: the running mean of the snapshots, written back and restored from a
// checkpoint; and SWALR's rate before, during and after its annealing.
import { beforeAll, describe, expect, it } from "vitest";
import { memory, setBackend, tensor, tidy } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { noGrad } from "@sam/autograd";
import { SGD, SWALR, WeightAverage } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

describe("WeightAverage", () => {
  it("keeps the mean of the snapshots, writes it back, and restores it from its state", async () => {
    const p = tensor([1, 10]);
    const q = tensor([[2]]);
    const swa = new WeightAverage([p, q]);
    expect(() => swa.copyTo()).toThrow("WeightAverage.copyTo: nothing averaged yet");
    for (const v of [1, 3, 8]) {
      noGrad(() => {
        p.assign(tensor([v, 10 * v]));
        q.assign(tensor([[2 * v]]));
      });
      swa.update();
    }
    expect(swa.count).toBe(3);
    const state = swa.stateDict();
    const restored = new WeightAverage([p, q]);
    restored.loadStateDict(state);
    swa.copyTo();
    expect(Array.from(await p.data())).toEqual([4, 40]);
    expect(Array.from(await q.data())).toEqual([8]);
    noGrad(() => p.assign(tensor([0, 0])));
    restored.copyTo();
    expect(Array.from(await p.data())).toEqual([4, 40]);
    expect(() => restored.loadStateDict({ count: 1, averages: [tensor([1])] })).toThrow("WeightAverage.loadStateDict: the snapshot holds 1 averages for 2 parameters");
  });

  it("holds one copy of each parameter however many snapshots it takes", () => {
    const p = tensor([1, 2, 3]);
    const swa = new WeightAverage([p]);
    swa.update(); // the first snapshot shares the parameter's storage until the parameter changes
    tidy(() => noGrad(() => p.assign(p.add(1))));
    swa.update();
    const before = memory().buffers;
    for (let i = 0; i < 50; i++) {
      tidy(() => noGrad(() => p.assign(p.add(1))));
      swa.update();
    }
    expect(memory().buffers).toBe(before);
  });
});

describe("SWALR", () => {
  it("follows the schedule before its start, anneals along a half cosine, then holds the SWA rate", () => {
    const sgd = new SGD([tensor([1]).requiresGrad_()], { lr: 0.1 });
    const schedule = new SWALR(sgd, 0.01, { start: 2, annealEpochs: 2, before: (e, base) => base / (e + 1) });
    const rates: number[] = [];
    for (let e = 0; e < 6; e++) {
      rates.push(schedule.getLastLr()[0]);
      schedule.step();
    }
    const from = 0.1 / 3; // the schedule's rate at the start
    const expected = [0.1, 0.05, from, 0.01 + (from - 0.01) / 2, 0.01, 0.01];
    rates.forEach((r, i) => expect(r).toBeCloseTo(expected[i], 12));
    expect(() => new SWALR(sgd, -1)).toThrow("SWALR: swaLr must be a finite number ≥ 0, got -1");
  });
});
