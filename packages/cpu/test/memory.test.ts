// Storage accounting and scopes: tidy frees intermediates, keep and returned tensors survive.
import { beforeAll, describe, expect, it } from "vitest";
import { dispose, keep, memory, ones, randn, setBackend, SamError, tidy } from "@sam/tensor";
import { cpu } from "../src/index.js";

beforeAll(() => setBackend(cpu()));

describe("tidy", () => {
  it("frees every intermediate and keeps what it returns", () => {
    const start = memory();
    const kept = tidy(() => {
      const a = ones([4, 4]);
      const b = a.mul(2).add(1).exp();
      return { b, n: 3 };
    });
    expect(memory().buffers).toBe(start.buffers + 1);
    expect(memory().bytes).toBe(start.bytes + 64);
    kept.b.dispose();
    expect(memory()).toEqual(start);
  });
  it("nests: a tensor returned from an inner scope belongs to the outer one", () => {
    const start = memory().buffers;
    tidy(() => {
      const inner = tidy(() => ones([2]).add(1));
      expect(inner.disposed).toBe(false);
      expect(memory().buffers).toBe(start + 1);
    });
    expect(memory().buffers).toBe(start);
  });
  it("leaves kept tensors alone and frees on error", () => {
    const start = memory().buffers;
    const w = tidy(() => keep(randn([3])));
    expect(() => tidy(() => { ones([5]); throw new Error("boom"); })).toThrow("boom");
    expect(memory().buffers).toBe(start + 1);
    dispose(w);
    expect(memory().buffers).toBe(start);
  });
  it("refuses an async function", () => {
    expect(() => tidy((async () => ones([1])) as never)).toThrow(SamError);
  });
  it("assign swaps storage in place, keeping identity and the buffer count", async () => {
    const w = ones([3]);
    const start = memory().buffers;
    const next = tidy(() => w.mul(2));
    w.assign(next);
    next.dispose();
    expect(memory().buffers).toBe(start);
    expect(Array.from(await w.data())).toEqual([2, 2, 2]);
    expect(() => w.assign(ones([4]))).toThrow("assign: shape [4] differs from [3]");
  });
  it("reshape and detach share storage; the last holder frees it", () => {
    const start = memory().buffers;
    const a = ones([6]);
    const b = a.reshape([2, 3]);
    const c = a.detach();
    expect(memory().buffers).toBe(start + 1);
    a.dispose();
    b.dispose();
    expect(memory().buffers).toBe(start + 1);
    c.dispose();
    expect(memory().buffers).toBe(start);
  });
});
