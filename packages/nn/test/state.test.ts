// State dicts, safetensors files and initialisation.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Generator, randn, SamError, setBackend, tensor, tidy } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import {
  Conv2d, decodeSafetensors, encodeSafetensors, kaimingNormal, Linear, loadSafetensors, ResNet, saveSafetensors, xavierUniform,
} from "../src/index.js";

beforeAll(() => setBackend(cpu()));

const dir = () => mkdtempSync(join(tmpdir(), "sam-nn-"));

describe("state dicts", () => {
  it("round-trip through a safetensors file: a fresh model gives the same outputs", async () => {
    const a = new ResNet(8, { generator: new Generator(1) });
    tidy(() => void a.forward(randn([2, 3, 8, 8]))); // moves the running statistics
    const path = join(dir(), "model.safetensors");
    await saveSafetensors(path, a.stateDict());
    const b = new ResNet(8, { generator: new Generator(2) });
    b.loadStateDict(await loadSafetensors(path));
    const x = randn([2, 3, 8, 8]);
    a.eval();
    b.eval();
    expect(Array.from(tidy(() => b.forward(x)).dataSync())).toEqual(Array.from(tidy(() => a.forward(x)).dataSync()));
    expect(await b.stateDict()["bn1.num_batches_tracked"].item()).toBe(1);
  });

  it("a mismatched state dict names the key and changes nothing", async () => {
    const m = new Linear(3, 2);
    const before = Array.from(await m.weight.data());
    expect(() => m.loadStateDict({ weight: randn([2, 3]) })).toThrow("loadStateDict: missing key(s): bias");
    expect(() => m.loadStateDict({ weight: randn([2, 3]), bias: randn([2]), extra: randn([1]) })).toThrow("loadStateDict: unexpected key(s): extra");
    expect(() => m.loadStateDict({ weight: randn([3, 2]), bias: randn([2]) })).toThrow("loadStateDict: key weight: shape [3,2] in the state dict, [2,3] in the model");
    expect(() => m.loadStateDict({ weight: randn([2, 3], { dtype: "float64" }), bias: randn([2]) }))
      .toThrow("loadStateDict: key weight: float64 in the state dict, float32 in the model; pass { cast: true } to convert the values to float32");
    expect(Array.from(await m.weight.data())).toEqual(before);
    m.loadStateDict({ bias: tensor([1, 2], { dtype: "float64" }) }, { strict: false, cast: true });
    expect(Array.from(await m.bias!.data())).toEqual([1, 2]);
    expect(Array.from(await m.weight.data())).toEqual(before);
  });

  it("names parameters as PyTorch does and switches modes recursively", () => {
    const m = new ResNet(8, { shortcut: "B" });
    const names = m.namedParameters().map(([n]) => n);
    expect(names.slice(0, 3)).toEqual(["conv1.weight", "bn1.weight", "bn1.bias"]);
    expect(names).toContain("layer2.0.shortcut.0.weight");
    expect(m.namedBuffers().map(([n]) => n)).toContain("layer3.0.bn2.running_var");
    m.eval();
    expect(m.modules().every((x) => !x.training)).toBe(true);
  });
});

describe("safetensors", () => {
  it("round-trips every dtype with metadata", async () => {
    const tensors = {
      f32: randn([2, 3]), f64: randn([4], { dtype: "float64" as const }), i32: tensor([[1, -2]], { dtype: "int32" }), b: tensor([true, false, true]),
    };
    const back = decodeSafetensors(await encodeSafetensors(tensors, { note: "x" }));
    for (const [k, t] of Object.entries(tensors)) {
      expect(back[k].shape).toEqual(t.shape);
      expect(back[k].dtype).toBe(t.dtype);
      expect(Array.from(await back[k].data())).toEqual(Array.from(await t.data()));
    }
  });

  it("a truncated or corrupt file is an error naming the file and the byte offset", async () => {
    const folder = dir();
    const good = await encodeSafetensors({ w: randn([4, 4]) });
    const write = (name: string, bytes: Uint8Array) => {
      const p = join(folder, name);
      writeFileSync(p, bytes);
      return p;
    };
    const short = write("short.safetensors", good.slice(0, good.length - 10));
    await expect(loadSafetensors(short)).rejects.toThrow(new RegExp(`^decodeSafetensors: ${short}: tensor w ends at \\d+, past the end of the \\d+-byte file \\(truncated\\?\\) \\(at byte \\d+\\)$`));
    const tiny = write("tiny.safetensors", good.slice(0, 5));
    await expect(loadSafetensors(tiny)).rejects.toThrow("shorter than the 8-byte header length (at byte 0)");
    const corrupt = good.slice();
    corrupt[9] = 0x7b; // '{' inside the JSON
    corrupt[10] = 0x7b;
    await expect(loadSafetensors(write("corrupt.safetensors", corrupt))).rejects.toThrow(/header is not valid JSON .*\(at byte 8\)/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    await expect(loadSafetensors(write("huge.safetensors", huge))).rejects.toThrow(SamError);
  });

  it("saving writes atomically: no temporary file is left, and a failed write leaves the old file", async () => {
    const folder = dir();
    const path = join(folder, "w.safetensors");
    await saveSafetensors(path, { a: tensor([1, 2]) });
    const first = readFileSync(path);
    await expect(saveSafetensors(join(folder, "missing-dir", "w.safetensors"), { a: tensor([1]) })).rejects.toThrow();
    expect(readdirSync(folder)).toEqual(["w.safetensors"]);
    expect(readFileSync(path)).toEqual(first);
  });
});

describe("initialisation", () => {
  it("Linear and Conv2d start as PyTorch's: U(−1/√fanIn, 1/√fanIn)", async () => {
    const conv = new Conv2d(16, 32, 3);
    const w = await conv.weight.data();
    const bound = 1 / Math.sqrt(16 * 9);
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.95 * bound);
    const b = await new Linear(100, 50).bias!.data();
    expect(Math.max(...Array.from(b, Math.abs))).toBeLessThanOrEqual(0.1);
  });
  it("Kaiming normal has std √2/√fan; Xavier uniform has bound √(6/(in+out))", async () => {
    const k = await kaimingNormal([256, 128], { generator: new Generator(0) }).data();
    const std = Math.sqrt(Array.from(k).reduce((s, v) => s + v * v, 0) / k.length);
    expect(std).toBeCloseTo(Math.SQRT2 / Math.sqrt(128), 2);
    const x = await xavierUniform([300, 100]).data();
    expect(Math.max(...Array.from(x, Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 400));
  });
});
