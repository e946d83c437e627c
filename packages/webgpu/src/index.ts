// @sam/webgpu in Node: the WebGPU backend on Dawn, through the `webgpu` package.
/// <reference types="@webgpu/types" preserve="true" />
import { create } from "webgpu";
import { SamError } from "@sam/tensor";
import { backendOn, type WebGpuBackend, type WebGpuOptions } from "./backend.js";

export { type WebGpuBackend, type WebGpuOptions, type WebGpuStats, describeAdapter } from "./backend.js";

// Dawn crashes the process if this object is garbage-collected while its devices live, so it is
// created once and held for the life of the process.
let dawn: GPU | null = null;

/**
 * The first WebGPU adapter Dawn finds, or null. On a machine without a GPU, Dawn can use
 * SwiftShader (a CPU Vulkan driver shipped with Chromium) through `VK_ICD_FILENAMES`.
 * @example
 * const adapter = await findAdapter();
 * if (!adapter) console.log("no WebGPU adapter");
 */
export async function findAdapter(opts: WebGpuOptions = {}): Promise<GPUAdapter | null> {
  // Mesa's device-selection layer (an implicit Vulkan layer) probes Wayland to order the GPUs and
  // prints "error: XDG_RUNTIME_DIR is invalid…" on a headless machine; Dawn orders adapters itself.
  process.env.NODEVICE_SELECT ??= "1";
  dawn ??= create([]);
  return dawn.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
}

/**
 * Creates the WebGPU backend on the first adapter; throws a SamError when there is none.
 * @example
 * import { setBackend, tensor } from "@sam/tensor";
 * import { webgpu } from "@sam/webgpu";
 * setBackend(await webgpu());
 * await tensor([1, 2, 3]).mul(2).data(); // Float32Array [2, 4, 6]
 */
export async function webgpu(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const adapter = await findAdapter(opts);
  if (!adapter) {
    throw new SamError(
      "webgpu",
      "no WebGPU adapter found. Without a GPU, install Chromium's SwiftShader " +
        "(apt-get install chromium libvulkan1) and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json",
    );
  }
  return backendOn(adapter, opts);
}
