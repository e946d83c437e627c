// The backends the suite runs on: the CPU always, WebGPU when an adapter is found. Without one the
// WebGPU rows are skipped with a loud warning, unless SAM_REQUIRE_WEBGPU=1 (as in CI), which makes
// a missing adapter a failure.
import type { Backend, OpName } from "@sam/tensor";
import { cpu } from "@sam/cpu";
import { describeAdapter, findAdapter, webgpu } from "@sam/webgpu";

/** A backend under test: its name, how to make it, whether it has float64, and the float32
 * tolerance (relative to the largest magnitude) it owes for an op. */
export interface BackendCase {
  name: string;
  make: () => Promise<Backend>;
  float64: boolean;
  tolerance: (op: OpName) => number;
}

const FLOAT32 = 2e-5;
/** WGSL only promises sin and cos to an absolute 2⁻¹¹ on [−π, π] (spec, "Floating point accuracy"). */
const wgslTolerance = (op: OpName): number => (op === "sin" || op === "cos" ? 2 ** -11 : FLOAT32);

const adapter = await findAdapter();

/** Why the WebGPU rows do not run here, or null when they do. */
export const webgpuSkipped: string | null = adapter ? null : "no WebGPU adapter found (on a machine without a GPU: " +
  "apt-get install chromium libvulkan1, VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)";
if (webgpuSkipped) {
  if (process.env.SAM_REQUIRE_WEBGPU === "1") throw new Error(`SAM_REQUIRE_WEBGPU=1 but ${webgpuSkipped}`);
  console.warn(`\n*** WebGPU conformance tests SKIPPED: ${webgpuSkipped} ***\n`);
}

/** The CPU's reference kernels alone: the definition every other backend is compared with. */
export const referenceBackend: BackendCase = { name: "cpu (reference kernels)", make: async () => cpu({ kernels: "reference" }), float64: true, tolerance: () => FLOAT32 };

let shared: Promise<Backend> | null = null;

/** Every available backend; WebGPU's device is shared by the test files of one worker. */
export const backends: BackendCase[] = [
  { name: "cpu", make: async () => cpu(), float64: true, tolerance: () => FLOAT32 },
  ...(adapter ? [{ name: `webgpu (${describeAdapter(adapter)})`, make: () => (shared ??= webgpu()), float64: false, tolerance: wgslTolerance }] : []),
];
