// Batched matrix product in float32 on the SIMD GEMM, split between the threads at column-block
// boundaries (or rows, when there are too few column blocks); anything else goes to the reference.
import type { Kernel } from "@sam/tensor";
import * as reference from "../reference/matmul.js";
import { dataOf } from "../storage.js";
import { splitColumns } from "../threads/split.js";
import { BLOCK_COLUMNS_ALIGN, simdAvailable } from "../wasm/gemmF32.js";
import { currentPool, poolFor } from "./pool.js";
import { runTask, share, type MatmulTask } from "./tasks.js";

/** [...batch, m, k] @ [...batch, k, n] → [...batch, m, n]. */
export const matmul: Kernel<"matmul"> = ([x, y], out, p) => {
  if (out.dtype !== "float32" || !simdAvailable()) return reference.matmul([x, y], out, p);
  const { m, n, k, aOffsets, bOffsets } = reference.batchedProduct(x, y, out);
  const pool = poolFor(2 * aOffsets.length * m * n * k);
  const [a, b, c] = [share(dataOf(x), x.dtype), share(dataOf(y), y.dtype), share(dataOf(out), out.dtype)];
  const threads = currentPool()?.threads ?? 1;
  const columns = splitColumns(n, threads, BLOCK_COLUMNS_ALIGN);
  // too few column blocks to share: split the rows instead (each row's sums are unchanged either way)
  const rows = columns.length < threads && m >= 8 ? splitColumns(m, threads, 4) : [[0, m] as [number, number]];
  const tasks = (rows.length > 1 ? rows.map((r) => [r, [0, n]] as const) : columns.map((col) => [[0, m] as [number, number], col] as const))
    .map(([r, [from, to]]): MatmulTask => ({ op: "matmul", a, b, out: c, m, n, k, rows: r, aOffsets, bOffsets, from, to }));
  if (pool && tasks.length > 1) pool.run(tasks);
  else tasks.forEach(runTask);
};
