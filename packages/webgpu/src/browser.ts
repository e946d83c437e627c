// @sam/webgpu in browsers: the same backend on `navigator.gpu`; Dawn is never bundled.
/// <reference types="@webgpu/types" preserve="true" />
import { SamError } from "@sam/tensor";
import { backendOn, type WebGpuBackend, type WebGpuOptions } from "./backend.js";

export { type WebGpuBackend, type WebGpuOptions, type WebGpuStats, describeAdapter } from "./backend.js";

/** The browser's first WebGPU adapter, or null when WebGPU is unavailable. */
export async function findAdapter(opts: WebGpuOptions = {}): Promise<GPUAdapter | null> {
  if (typeof navigator === "undefined" || !navigator.gpu) return null;
  return navigator.gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
}

/** Creates the WebGPU backend on the browser's adapter; throws a SamError when there is none. */
export async function webgpu(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const adapter = await findAdapter(opts);
  if (!adapter) throw new SamError("webgpu", "this browser offers no WebGPU adapter (navigator.gpu is missing or found none)");
  return backendOn(adapter, opts);
}
