// Views of one buffer (how an optimizer's parameters share a flat buffer), on every backend: a view
// reads its own range as any tensor, kernels read several views of one buffer, writes go in place
// so the buffer and its views stay in step, and freeing the last holder frees the buffer.
import { beforeAll, describe, expect, it } from "vitest";
import { arange, dispose, memory, pointwise, SamError, setBackend, tensor, VIEW_ALIGNMENT } from "@sam/tensor";
import { backends, referenceBackend } from "./backends.js";

const values = async (t: { data(): Promise<ArrayLike<number>> }) => Array.from(await t.data());
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe.each([referenceBackend, ...backends])("views on $name", ({ make }) => {
  beforeAll(async () => setBackend(await make()));

  it("reads its own range, as an op's input beside another view of the same buffer", async () => {
    const flat = arange(0, 200);
    const a = flat.view(64, [2, 3]);
    const b = flat.view(128, [2, 3]);
    expect(await values(a)).toEqual(range(64, 6));
    expect(await a.array()).toEqual([[64, 65, 66], [67, 68, 69]]);
    const sum = pointwise([a, b], (x, y) => x.add(y.mul(10)));
    expect(await values(sum)).toEqual(range(0, 6).map((i) => 64 + i + 10 * (128 + i)));
    expect(await values(a.sum())).toEqual([64 + 65 + 66 + 67 + 68 + 69]);
    dispose([flat, a, b, sum]);
  });

  it("takes writes in place: the buffer and every view see them, the other views keep theirs", async () => {
    const flat = arange(0, 192);
    const a = flat.view(0, [4]);
    const b = flat.view(64, [4]);
    const alias = a.detach();
    a.assign(tensor([-1, -2, -3, -4]));
    expect(await values(alias)).toEqual([-1, -2, -3, -4]);
    expect((await values(flat)).slice(0, 6)).toEqual([-1, -2, -3, -4, 4, 5]);
    expect(await values(b)).toEqual([64, 65, 66, 67]);
    b.assign(a); // two views of one buffer
    expect(await values(b)).toEqual([-1, -2, -3, -4]);
    flat.assign(flat.mul(2)); // the buffer itself is viewed, so it too is written in place
    expect(await values(a)).toEqual([-2, -4, -6, -8]);
    expect(await values(b)).toEqual([-2, -4, -6, -8]);
    dispose([flat, a, b, alias]);
  });

  it("moves a tensor into a view, keeping its identity and values; a copy stays apart", async () => {
    const p = tensor([[1, 2], [3, 4]]);
    const flat = arange(0, 128).mul(0);
    const home = flat.view(64, [2, 2]);
    expect(p.moveInto(home)).toBe(p);
    expect((await values(flat)).slice(64, 68)).toEqual([1, 2, 3, 4]);
    const snapshot = p.copy();
    p.assign(p.add(1));
    expect(await values(home)).toEqual([2, 3, 4, 5]);
    expect(await values(snapshot)).toEqual([1, 2, 3, 4]);
    dispose([p, flat, home, snapshot]);
  });

  it("frees the buffer with its last holder, a view adding none of its own", () => {
    const before = memory().buffers;
    const flat = arange(0, 256);
    const views = [0, 64, 128].map((at) => flat.view(at, [8]));
    expect(memory().buffers).toBe(before + 1);
    flat.dispose();
    expect(memory().buffers).toBe(before + 1); // the views still hold it
    dispose(views);
    expect(memory().buffers).toBe(before);
  });

  it("refuses a view that does not fit or does not start where a GPU can bind it", () => {
    const flat = arange(0, 130);
    expect(() => flat.view(3, [2])).toThrow(new SamError("view", `offset must be a multiple of ${VIEW_ALIGNMENT} (where a GPU can bind a view), got 3`));
    expect(() => flat.view(128, [3])).toThrow(new SamError("view", "3 elements from 128 do not fit a tensor of 130"));
    expect(() => tensor([1, 2]).moveInto(flat.view(0, [3]))).toThrow(/^moveInto: the target .* differs from .* in shape, dtype or backend$/);
    flat.dispose();
  });
});
