// Batched matrix product with broadcast batch axes: float32 on the SIMD GEMM, split between the
// threads at column-block boundaries; otherwise one reference GEMM per batch entry.
import { broadcastStrides, type Kernel } from "@sam/tensor";
import { currentPool, poolFor } from "../threads/current.js";
import { splitColumns } from "../threads/split.js";
import { runTask, share, type MatmulTask } from "../threads/tasks.js";
import { BLOCK_COLUMNS_ALIGN, simdAvailable } from "../wasm/gemmF32.js";
import { gemm } from "./gemm.js";
import { offsets } from "./strided.js";
import { dataOf } from "./storage.js";

/** [...batch, m, k] @ [...batch, k, n] → [...batch, m, n]. */
export const matmul: Kernel<"matmul"> = ([x, y], out) => {
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
  if (out.dtype === "float32" && simdAvailable()) {
    const pool = poolFor(2 * count * m * n * k);
    const [a, b, c] = [share(dataOf(x), x.dtype), share(dataOf(y), y.dtype), share(dataOf(out), out.dtype)];
    const threads = currentPool()?.threads ?? 1;
    const columns = splitColumns(n, threads, BLOCK_COLUMNS_ALIGN);
    // too few column blocks to share: split the rows instead (each row's sums are unchanged either way)
    const rows = columns.length < threads && m >= 8 ? splitColumns(m, threads, 4) : [[0, m] as [number, number]];
    const tasks = (rows.length > 1 ? rows.map((r) => [r, [0, n]] as const) : columns.map((col) => [[0, m] as [number, number], col] as const))
      .map(([r, [from, to]]): MatmulTask => ({ op: "matmul", a, b, out: c, m, n, k, rows: r, aOffsets, bOffsets, from, to }));
    if (pool && tasks.length > 1) pool.run(tasks);
    else tasks.forEach(runTask);
    return;
  }
  const [a, b, o] = [dataOf(x), dataOf(y), dataOf(out)];
  for (let i = 0; i < count; i++) {
    gemm(m, n, k, { data: a, offset: aOffsets[i], rowStride: k, colStride: 1 }, { data: b, offset: bOffsets[i], rowStride: n, colStride: 1 },
      o, i * m * n, n, false);
  }
};
