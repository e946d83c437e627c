// The CIFAR models against PyTorch definitions of the same architectures (fixtures/make_models.py):
// PyTorch's weights load by name, and outputs and running statistics match in both modes.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assertClose, setBackend, tidy, type Tensor } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { decodeSafetensors, ResNet, SmallCNN, WideResNet, type Module } from "../src/index.js";

setBackend(cpu());

const fixture = (name: string) => decodeSafetensors(new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url))), name);
const summary = JSON.parse(readFileSync(new URL("./fixtures/models.json", import.meta.url), "utf8")) as {
  parameters: Record<string, number>;
};

function prefixed(all: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

const expectClose = (got: Tensor, want: Tensor, tol: number) => assertClose(got, want, { rtol: tol, atol: tol, relativeTo: "largest", name: "against PyTorch" });

const cases: [string, () => Module][] = [
  ["resnet8A", () => new ResNet(8, { shortcut: "A" })],
  ["resnet8B", () => new ResNet(8, { shortcut: "B" })],
  ["wrn10_2", () => new WideResNet(10, 2)],
  ["smallcnn", () => new SmallCNN({ widths: [8, 16, 32] })],
];

describe.each(cases)("%s against PyTorch", (name, make) => {
  const all = fixture(`${name}.safetensors`);

  it("loads PyTorch's state dict by name, every key accounted for", () => {
    const model = make();
    const weights = prefixed(all, "weights.");
    expect(Object.keys(model.stateDict()).sort()).toEqual(Object.keys(weights).sort());
    model.loadStateDict(weights);
  });

  it("matches in evaluation mode, then in training mode with the running statistics it leaves", async () => {
    const model = make();
    model.loadStateDict(prefixed(all, "weights."));
    model.eval();
    await expectClose(tidy(() => model.forward(all.input)), all.eval, 2e-5);
    model.train();
    await expectClose(tidy(() => model.forward(all.input)), all.train, 2e-5);
    const state = model.stateDict();
    for (const [key, want] of Object.entries(prefixed(all, "after."))) {
      if (key.endsWith("num_batches_tracked")) expect(await state[key].item()).toBe(await want.item());
      else await expectClose(state[key], want, 2e-5);
    }
  });
});

describe("model sizes", () => {
  it("match PyTorch's parameter counts (ResNet-20 0.27M, WRN-16-8 11.0M, WRN-28-10 36.5M)", () => {
    const count = (m: Module) => m.parameters().reduce((s, p) => s + p.size, 0);
    expect(count(new ResNet(20))).toBe(summary.parameters.resnet20);
    expect(count(new ResNet(20, { shortcut: "B" }))).toBe(summary.parameters.resnet20B);
    expect(count(new ResNet(56))).toBe(summary.parameters.resnet56);
    expect(count(new WideResNet(16, 8))).toBe(summary.parameters.wrn16_8);
  });
  it("refuses depths that are not 6n+2 (ResNet) or 6n+4 (WRN)", () => {
    expect(() => new ResNet(21)).toThrow("ResNet: depth must be 6n+2 (20, 32, 44, 56, 110), got 21");
    expect(() => new WideResNet(15, 2)).toThrow(/^WideResNet: depth must be 6n\+4/);
  });
});
