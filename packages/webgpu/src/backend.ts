// The WebGPU backend over one device: storage in pooled GPU buffers, every primitive a WGSL kernel
// recorded into a batched command stream.
/// <reference types="@webgpu/types" preserve="true" />
import { SamError, type Backend, type DataHandle, type DType, type TypedArray } from "@sam/tensor";
import type { GpuHandle } from "./buffers.js";
import { kernels } from "./kernels/index.js";
import { StepReplay } from "./replay.js";
import { CommandStream } from "./stream.js";

/** Options of the WebGPU backend. */
export interface WebGpuOptions {
  /** Which adapter to ask for when a machine has several. */
  powerPreference?: "high-performance" | "low-power";
  /** Bytes of freed buffers kept for reuse before further ones are destroyed. Default 2 GiB. */
  poolBytes?: number;
  /**
   * Keep bind groups and find them again when a launch binds the same buffers (a repeated
   * training step does, once its buffers settle), instead of creating one per launch. Default true;
   * false records every launch from scratch (the results are the same either way).
   */
  reuseBindGroups?: boolean;
  /**
   * Replay repeated steps: where a primitive call matches the one at the same place in one of the
   * last steps (op, parameters, shapes, buffers), its recorded pipelines, bind groups, dispatch
   * sizes and copies are recorded again without running its kernel's code (the same idea as CUDA
   * graphs, checked call by call, so a changed shape or buffer falls back to ordinary recording).
   * Default true; off when `reuseBindGroups` is false, which records every launch from scratch.
   * The results are the same either way.
   */
  replaySteps?: boolean;
}

/** What is alive on the device. */
export interface WebGpuStats {
  /** GPU buffers created and not destroyed, the pooled ones included. */
  buffers: number;
  /** Distinct shaders compiled. */
  pipelines: number;
  /** Kernels launched since the backend was created. */
  launches: number;
  /** Of those, the launches replayed from the step before (see {@link WebGpuOptions.replaySteps}). */
  launchesReplayed: number;
  /** The same, by the primitive that launched them. */
  launchesByOp: Record<string, number>;
  /** Buffer-to-buffer copies recorded since the backend was created (slices of contiguous elements, which need no kernel). */
  copies: number;
  /** Command buffers submitted since the backend was created. */
  submissions: number;
  /** Bind groups created since the backend was created. */
  bindGroupsCreated: number;
  /** Bind groups found again in the cache instead of created (a repeated step, once settled, finds all of its own). */
  bindGroupsReused: number;
  /** Bytes of GPU buffers that tensors hold now (as `torch.cuda.memory_allocated`, by the pool's size classes). */
  allocatedBytes: number;
  /** The most `allocatedBytes` has been since the backend was created or {@link WebGpuBackend.resetPeakMemory} (as `torch.cuda.max_memory_allocated`). */
  peakAllocatedBytes: number;
  /** Bytes of all GPU buffers created and not destroyed: those held and those pooled for reuse (as `torch.cuda.memory_reserved`). */
  reservedBytes: number;
}

/** The WebGPU backend, with the device-level controls a CPU backend does not need. */
export interface WebGpuBackend extends Backend {
  /** The adapter the device came from, in words (vendor, architecture, device, description). */
  readonly adapter: string;
  /** Submits the kernels recorded so far without waiting for them. */
  flush(): void;
  /** Waits until the GPU has finished all submitted work. */
  sync(): Promise<void>;
  /** Live buffers and compiled shaders. */
  stats(): WebGpuStats;
  /** Starts the peak of `stats().peakAllocatedBytes` again from what is held now (as `torch.cuda.reset_peak_memory_stats`). */
  resetPeakMemory(): void;
  /** Destroys the device; tensors on it can no longer be used. */
  destroy(): void;
}

/** The adapter's description in words, e.g. "google swiftshader (Vulkan)". */
export function describeAdapter(adapter: GPUAdapter): string {
  const { vendor, architecture, device, description } = adapter.info;
  const words = [vendor, architecture, device, description].filter((w) => w && w.length > 0);
  return words.length > 0 ? words.join(" ") : "unnamed adapter";
}

/** Requests a device from `adapter` with its largest buffer limits, and wraps it as a backend. */
export async function backendOn(adapter: GPUAdapter, opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  const poolBytes = opts.poolBytes ?? 2 * 2 ** 30;
  if (!(poolBytes >= 0)) throw new SamError("webgpu", `poolBytes must be a non-negative number, got ${poolBytes}`);
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  } catch (e) {
    throw new SamError("webgpu", `the adapter refused to create a device: ${(e as Error).message}`);
  }
  const reuseBindGroups = opts.reuseBindGroups ?? true;
  const replay = reuseBindGroups && (opts.replaySteps ?? true) ? new StepReplay() : null;
  const stream = new CommandStream(device, poolBytes, reuseBindGroups, replay);
  const table = kernels(stream);
  const handle = (h: DataHandle) => h as GpuHandle;
  return {
    name: "webgpu",
    adapter: describeAdapter(adapter),
    alloc: (dtype: DType, size: number) => stream.alloc(dtype, size),
    write: (h: DataHandle, data: TypedArray) => stream.write(handle(h), data),
    read: (h: DataHandle) => stream.read(handle(h)),
    free: (h: DataHandle) => stream.free(handle(h)),
    view: (h: DataHandle, offset: number, size: number) => stream.view(handle(h), offset, size),
    copy: (source: DataHandle, target: DataHandle) => stream.copy(handle(source), 0, handle(target), handle(target).size),
    run(op, inputs, out, params) {
      stream.op = op;
      if (!replay) return table[op](inputs, out, params);
      const tensors = [...inputs, out];
      const commands = replay.find(op, tensors, params, stream.slot, stream.scratchNow);
      if (commands) return stream.replay(commands, tensors.map((t) => handle(t.handle)));
      stream.startRecording();
      let done = false;
      try {
        table[op](inputs, out, params);
        done = true;
      } finally {
        const { commands, scratch } = stream.stopRecording();
        replay.recorded(op, tensors, params, done ? commands : null, scratch); // a call that threw is never replayed
      }
    },
    flush: () => stream.flush(),
    endStep: () => stream.flush(),
    sync: () => stream.sync(),
    stats: () => ({
      buffers: stream.liveBuffers, pipelines: stream.pipelines.size, launches: stream.totalLaunches, launchesReplayed: stream.replayedLaunches, launchesByOp: Object.fromEntries(stream.launchesByOp), copies: stream.totalCopies, submissions: stream.submissions,
      bindGroupsCreated: stream.bindGroups.created, bindGroupsReused: stream.bindGroups.reused,
      allocatedBytes: stream.allocatedBytes, peakAllocatedBytes: stream.peakAllocatedBytes, reservedBytes: stream.allocatedBytes + stream.pool.pooledBytes,
    }),
    resetPeakMemory: () => {
      stream.peakAllocatedBytes = stream.allocatedBytes;
    },
    destroy: () => device.destroy(),
  };
}
