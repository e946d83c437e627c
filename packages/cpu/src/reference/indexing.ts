// Indexing kernels: gather along an axis and its adjoint, scatter-add.
import { SamError, stridesOf, type BackendTensor, type Kernel } from "@sam/tensor";
import { offsets } from "./strided.js";
import { dataOf } from "../storage.js";

/** Offsets into `x` for every index element, with the indexed axis left for the index value. */
function baseOffsets(x: BackendTensor, index: BackendTensor, axis: number): { base: Int32Array | null; step: number } {
  const s = stridesOf(x.shape);
  return { base: offsets(index.shape, s.map((v, i) => (i === axis ? 0 : v))), step: s[axis] };
}

function checkIndex(fn: string, k: number, size: number): void {
  if (!(k >= 0 && k < size)) throw new SamError(fn, `index ${k} is out of range for an axis of size ${size}`);
}

/** out[…i…] = x[…index[…i…]…] along the axis. */
export const gather: Kernel<"gather"> = ([x, index], out, { axis }) => {
  const a = dataOf(x);
  const idx = dataOf(index);
  const o = dataOf(out);
  const { base, step } = baseOffsets(x, index, axis);
  const size = x.shape[axis];
  for (let i = 0; i < o.length; i++) {
    const k = idx[i];
    checkIndex("gather", k, size);
    o[i] = a[(base ? base[i] : i) + k * step];
  }
};

/** out = target; out[…index[…i…]…] += src[…i…] along the axis. */
export const scatterAdd: Kernel<"scatterAdd"> = ([target, index, src], out, { axis }) => {
  const o = dataOf(out);
  const idx = dataOf(index);
  const v = dataOf(src);
  const { base, step } = baseOffsets(target, index, axis);
  const size = target.shape[axis];
  for (let i = 0; i < idx.length; i++) checkIndex("scatterAdd", idx[i], size);
  o.set(dataOf(target));
  for (let i = 0; i < idx.length; i++) o[(base ? base[i] : i) + idx[i] * step] += v[i];
};
