// `pnpm bench kernels`: where a ResNet-20 training step's GPU work goes. The kernels @sam/webgpu
// launches in one SGD step and one SAM step (counted by primitive; the count does not depend on the
// batch or the adapter, so SwiftShader serves), the buffer copies beside them, and the host time
// recording them costs per launch: with the step replayed from the one before (the default), and
// with every kernel recorded from scratch.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describeAdapter, findAdapter } from "@sam/webgpu";
import type { BenchOptions } from "./options.js";

/** Images per step: the launches do not depend on it, and a software adapter is slow. */
const BATCH = 4;
const STEPS = 2;
/** Steps before the timed ones: a repeated step's buffers, and so its bind groups, settle by the fifth. */
const WARM_UPS = 5;

interface Kernels {
  launches: number;
  /** Buffer-to-buffer copies (slices of consecutive elements), which launch no kernel. */
  copies: number;
  /** Launches replayed from the step before. */
  replayed: number;
  submissions: number;
  byOp: Record<string, number>;
  bindGroupsCreated: number;
  recordingSeconds: number;
}

export async function kernelsBench(_: BenchOptions): Promise<void> {
  const adapter = await findAdapter();
  if (!adapter) {
    console.log("kernels: no WebGPU adapter found (on a machine without a GPU: apt-get install chromium libvulkan1, VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json); no rows");
    return;
  }
  const system = "@sam/webgpu";
  const worker = fileURLToPath(new URL("./trainWorker.js", import.meta.url));
  console.log(`\n## Kernels of one ResNet-20 training step (${describeAdapter(adapter)}, batch ${BATCH}; mean of ${STEPS} steps after ${WARM_UPS} warm-up steps)\n`);
  const measure = (optimizer: string, device: string): Kernels => {
    const out = execFileSync(process.execPath, [worker, optimizer, String(STEPS), String(BATCH), device],
      { encoding: "utf8", maxBuffer: 1 << 24, env: { ...process.env, SAM_BENCH_WARMUP: String(WARM_UPS) } });
    return (JSON.parse(out.trim().split("\n").pop()!) as { kernels: Kernels }).kernels;
  };
  for (const optimizer of ["sgd", "sam"]) {
    const recorded = measure(optimizer, "webgpu-recorded");
    const k = measure(optimizer, "webgpu");
    // the copies' recording counted against the kernels
    const perLaunch = (kernels: Kernels) => (kernels.recordingSeconds / kernels.launches) * 1e6;
    console.log(`${optimizer}: ${k.launches} launches and ${k.copies} buffer copies, ${k.submissions} submissions; host time recording a launch `
      + `(the copies' time included) ${perLaunch(k).toFixed(1)} µs with ${k.replayed} of the launches replayed from the step before, `
      + `${perLaunch(recorded).toFixed(1)} µs recording every kernel (${recorded.launches - recorded.bindGroupsCreated} of its bind groups found in the cache)`);
    console.log(`  by primitive: ${Object.entries(k.byOp).map(([op, n]) => `${op} ${n}`).join(", ")}`);
    const row = { bench: "kernels", case: `resnet20-${optimizer}`, system };
    console.log(JSON.stringify({ ...row, value: k.launches, unit: "launches" }));
    console.log(JSON.stringify({ ...row, value: k.replayed, unit: "launches replayed" }));
    console.log(JSON.stringify({ ...row, value: k.copies, unit: "buffer copies" }));
    console.log(JSON.stringify({ ...row, value: Number(perLaunch(k).toFixed(2)), unit: "µs recording per launch", replayed: true, adapter: describeAdapter(adapter) }));
    console.log(JSON.stringify({ ...row, value: Number(perLaunch(recorded).toFixed(2)), unit: "µs recording per launch", replayed: false, adapter: describeAdapter(adapter) }));
  }
}
