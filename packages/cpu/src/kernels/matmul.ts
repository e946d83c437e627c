// Batched matrix product with broadcast batch axes, one GEMM per batch entry.
import { broadcastStrides, type Kernel } from "@sam/tensor";
import { gemmFor } from "./gemmFor.js";
import { offsets } from "./strided.js";
import { dataOf } from "./storage.js";

/** [...batch, m, k] @ [...batch, k, n] → [...batch, m, n]. */
export const matmul: Kernel<"matmul"> = ([x, y], out) => {
  const [m, k] = x.shape.slice(-2);
  const n = y.shape[y.shape.length - 1];
  const batch = out.shape.slice(0, -2);
  const strideOf = (shape: readonly number[], plane: number) =>
    broadcastStrides(shape.slice(0, -2), batch).map((s) => s * plane);
  const ax = offsets(batch, strideOf(x.shape, m * k));
  const by = offsets(batch, strideOf(y.shape, k * n));
  const a = dataOf(x);
  const b = dataOf(y);
  const o = dataOf(out);
  const count = batch.reduce((p, d) => p * d, 1);
  const gemm = gemmFor(out.dtype);
  for (let i = 0; i < count; i++) {
    gemm(m, n, k,
      { data: a, offset: ax ? ax[i] : i * m * k, rowStride: k, colStride: 1 },
      { data: b, offset: by ? by[i] : i * k * n, rowStride: n, colStride: 1 },
      o, i * m * n, n, false);
  }
};
