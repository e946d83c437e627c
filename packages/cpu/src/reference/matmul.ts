// Batched matrix product with broadcast batch axes, by definition: one reference GEMM per batch
// entry, in the tensors' own dtype.
import { broadcastStrides, type BackendTensor, type Kernel } from "@sam/tensor";
import { dataOf } from "../storage.js";
import { gemm } from "./gemm.js";
import { offsets } from "./strided.js";

/** Sizes of a batched product and where each batch entry's A and B start (C's are i·m·n). */
export interface BatchedProduct {
  m: number;
  n: number;
  k: number;
  aOffsets: number[];
  bOffsets: number[];
}

/** [...batch, m, k] @ [...batch, k, n] → [...batch, m, n], broadcasting the batch axes. */
export function batchedProduct(x: BackendTensor, y: BackendTensor, out: BackendTensor): BatchedProduct {
  const [m, k] = x.shape.slice(-2);
  const n = y.shape[y.shape.length - 1];
  const batch = out.shape.slice(0, -2);
  const strideOf = (shape: readonly number[], plane: number) =>
    broadcastStrides(shape.slice(0, -2), batch).map((s) => s * plane);
  const count = batch.reduce((p, d) => p * d, 1);
  const ax = offsets(batch, strideOf(x.shape, m * k));
  const by = offsets(batch, strideOf(y.shape, k * n));
  const aOffsets = Array.from({ length: count }, (_, i) => (ax ? ax[i] : i * m * k));
  const bOffsets = Array.from({ length: count }, (_, i) => (by ? by[i] : i * k * n));
  return { m, n, k, aOffsets, bOffsets };
}

/** [...batch, m, k] @ [...batch, k, n] → [...batch, m, n]. */
export const matmul: Kernel<"matmul"> = ([x, y], out) => {
  const { m, n, k, aOffsets, bOffsets } = batchedProduct(x, y, out);
  const [a, b, o] = [dataOf(x), dataOf(y), dataOf(out)];
  aOffsets.forEach((ao, i) => {
    gemm(m, n, k, { data: a, offset: ao, rowStride: k, colStride: 1 }, { data: b, offset: bOffsets[i], rowStride: n, colStride: 1 },
      o, i * m * n, n, false);
  });
};
