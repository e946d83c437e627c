// The device's command stream: kernels are recorded into one command encoder and submitted in
// batches, so a training step costs a few submissions, not one per op. Reads are the only waits,
// and the place where errors the GPU found asynchronously (device loss, out of memory, an index out
// of range) are reported.
import { SamError, type DType, type TypedArray } from "@sam/tensor";
import { BindGroupCache } from "./bindGroups.js";
import { BufferPool, sizeClass, Usage, wgslType, type GpuHandle } from "./buffers.js";
import { PipelineCache, type Pipeline } from "./pipelines.js";
import { RepeatedAllocations } from "./repeats.js";
import type { RecordedCommand, RecordedCopy, RecordedLaunch, StepReplay } from "./replay.js";

/** One kernel launch. */
export interface Launch {
  /** The WGSL source; its bindings are `buffers` in order, then the meta words, then (if
   * `checksIndices`) the index-error flag. */
  code: string;
  /** Inputs, then the output (which the kernel writes completely). */
  buffers: readonly GpuHandle[];
  /** Shapes, strides and parameters as 32-bit words, bound read-only after the buffers. */
  meta: readonly number[];
  /** Workgroups in x, y and z (each at most 65535). */
  grid: readonly [number, number?, number?];
  /** Whether the kernel reports out-of-range indices through the error flag. */
  checksIndices?: boolean;
}

/** Launches recorded before a submission; bounded so the meta arena and driver queues stay small. */
const MAX_LAUNCHES = 1024;
/** Meta words per launch slot (the arena binds at offsets aligned to 256 bytes). */
const SLOT_WORDS = 64;

/** Which op set each index-error code. */
const INDEX_ERRORS: Record<number, string> = { 1: "gather", 2: "scatterAdd" };

/** The typed array a read returns for a dtype. */
function typedArray(dtype: DType, words: ArrayBuffer, size: number): TypedArray {
  if (dtype === "float32") return new Float32Array(words, 0, size).slice();
  if (dtype === "int32") return new Int32Array(words, 0, size).slice();
  return Uint8Array.from(new Uint32Array(words, 0, size));
}

/** Records kernels, writes and reads on one device. */
export class CommandStream {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly bindGroups: BindGroupCache;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private launches = 0;
  private readonly allocations = new RepeatedAllocations();
  private batch = 1;
  private readonly metaWords: Uint32Array;
  private readonly metaBuffer: GPUBuffer;
  private readonly metaAlign: number;
  private readonly indexFlag: GPUBuffer;
  private indexChecked = false;
  private afterSubmit: GPUBuffer[] = [];
  /** The batch that last used each buffer: the queue may write a buffer ahead of the encoder only
   * when no pending command uses it. */
  private readonly lastUse = new WeakMap<GPUBuffer, number>();
  private lost: string | null = null;
  private deferred: string | null = null;
  /** Buffers created and not yet destroyed, pooled ones included. */
  liveBuffers = 0;
  /** Bytes of the buffers tensors hold now (each buffer's full size class), and the most since the last reset. */
  allocatedBytes = 0;
  peakAllocatedBytes = 0;
  /** The peak over the backend's life (resetPeakMemory does not touch it). */
  private mostAllocatedBytes = 0;
  /** Kernels launched so far. */
  totalLaunches = 0;
  /** Of those, the launches a step replayed from the step before. */
  replayedLaunches = 0;
  /** The commands of the primitive call being recorded for replay, or null (none, or it also allocated or wrote). */
  private recording: RecordedCommand[] | null = null;
  /** Split-K partial sums' space, shared by every GEMM (see {@link scratch}). */
  private scratchBuffer: GPUBuffer | null = null;
  private usedScratch = false;
  /** Buffer-to-buffer copies recorded (contiguous slices), which launch no kernel. */
  totalCopies = 0;
  /** Kernels launched so far by the primitive that launched them. */
  readonly launchesByOp = new Map<string, number>();
  /** Command buffers submitted so far. */
  submissions = 0;
  /** The primitive whose kernels are being recorded: it labels their shaders, so the GPU's
   * error messages name it. */
  op = "";

  constructor(readonly device: GPUDevice, poolBytes: number, reuseBindGroups: boolean, readonly steps: StepReplay | null) {
    this.bindGroups = new BindGroupCache(reuseBindGroups ? undefined : 0);
    this.pool = new BufferPool(poolBytes);
    this.pipelines = new PipelineCache(device);
    this.metaAlign = Math.max(SLOT_WORDS * 4, device.limits.minStorageBufferOffsetAlignment) / 4;
    this.metaWords = new Uint32Array(MAX_LAUNCHES * this.metaAlign);
    this.metaBuffer = device.createBuffer({ size: this.metaWords.byteLength, usage: Usage.STORAGE | Usage.COPY_DST });
    this.indexFlag = device.createBuffer({ size: 4, usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST });
    void device.lost.then((info) => {
      this.lost = info.message || info.reason || "unknown reason";
    });
    device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
      this.deferred ??= event.error.message;
    };
  }

  /** Throws if the device was lost or reported an error since the last check. */
  checkHealthy(fn: string): void {
    if (this.lost !== null) throw new SamError(fn, `the GPU device was lost (${this.lost}); create a new backend with webgpu()`);
    if (this.deferred !== null) {
      const message = this.deferred;
      this.deferred = null;
      throw new SamError(fn, `the GPU reported an error: ${message}`);
    }
  }

  /** Allocates storage for `size` elements (4 bytes each). */
  alloc(dtype: DType, size: number): GpuHandle {
    this.checkHealthy("webgpu.alloc");
    wgslType(dtype); // refuses float64
    this.recording = null;
    const bytes = this.bytesOf("webgpu.alloc", size);
    // settling may add buffers, but the pool's spare bytes stay below the most tensors have held (so memory stays within twice the peak)
    const { buffer, fresh } = this.allocations.take(this.pool, bytes, this.pool.pooledBytes < this.mostAllocatedBytes, (size) => {
      // only creating a buffer can run out of memory; a pooled one is already there
      this.device.pushErrorScope("out-of-memory");
      const created = this.device.createBuffer({ size, usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST });
      void this.device.popErrorScope().then((error) => {
        if (error) this.deferred ??= `out of memory allocating ${bytes} bytes`;
      });
      return created;
    });
    if (fresh) this.liveBuffers++;
    this.allocatedBytes += buffer.size;
    this.peakAllocatedBytes = Math.max(this.peakAllocatedBytes, this.allocatedBytes);
    this.mostAllocatedBytes = Math.max(this.mostAllocatedBytes, this.allocatedBytes);
    return { buffer, dtype, size, offset: 0, initialized: fresh };
  }

  /** The bytes of `size` elements, refused by `fn` beyond the device's largest storage buffer. */
  private bytesOf(fn: string, size: number): number {
    const bytes = Math.max(4, size * 4);
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > limit) throw new SamError(fn, `${size} elements (${bytes} bytes) exceed this device's largest storage buffer (${limit} bytes)`);
    return bytes;
  }

  /** A handle to `size` elements of `handle`'s buffer from element `offset` (a multiple of 64, where bindings may start), its bytes in place. */
  view(handle: GpuHandle, offset: number, size: number): GpuHandle {
    const at = handle.offset + offset;
    // a view is never cleared on its own: the whole buffer is, once, if a reused one was never written
    this.prepare(handle);
    return { buffer: handle.buffer, dtype: handle.dtype, size, offset: at, initialized: true };
  }

  /** Gives storage back to the pool (later commands may reuse it: they run after earlier ones). */
  free(handle: GpuHandle): void {
    this.allocatedBytes -= handle.buffer.size;
    if (this.pool.give(handle.buffer)) return;
    this.liveBuffers--;
    this.bindGroups.forget(handle.buffer);
    if (this.lastUse.get(handle.buffer) === this.batch) this.afterSubmit.push(handle.buffer);
    else handle.buffer.destroy();
  }

  /** Copies `data` into the storage, ordered after every command already recorded. */
  write(handle: GpuHandle, data: TypedArray): void {
    this.checkHealthy("webgpu.write");
    this.recording = null;
    handle.initialized = true;
    if (handle.size === 0) return;
    const words = data instanceof Uint8Array ? Uint32Array.from(data) : data;
    if (this.lastUse.get(handle.buffer) !== this.batch) {
      // No pending command touches the buffer, so the queue may write it ahead of them.
      this.device.queue.writeBuffer(handle.buffer, handle.offset * 4, words.buffer, words.byteOffset, words.byteLength);
      return;
    }
    // A pending command reads the buffer's old contents: copy in order, through the encoder.
    const staging = this.device.createBuffer({ size: words.byteLength, usage: Usage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
    staging.unmap();
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(staging, 0, handle.buffer, handle.offset * 4, words.byteLength);
    this.afterSubmit.push(staging);
  }

  /**
   * Records a copy of `count` elements of `source` from element `offset` into the start of `out`:
   * a buffer-to-buffer copy, with no kernel, bind group or meta words to record.
   */
  copy(source: GpuHandle, offset: number, out: GpuHandle, count: number): void {
    this.checkHealthy("webgpu.copy");
    if (count === 0) return;
    this.prepare(source);
    this.lastUse.set(out.buffer, this.batch);
    out.initialized = true;
    const from = (source.offset + offset) * 4;
    if (source.buffer === out.buffer && from === out.offset * 4) return;
    const command = { kind: "copy", source: source.buffer, from, target: out.buffer, to: out.offset * 4, bytes: count * 4 } as const;
    this.recording?.push(command);
    this.copyBytes(command);
  }

  private copyBytes({ source, from, target, to, bytes }: RecordedCopy): void {
    this.endPass();
    const encoder = this.commandEncoder();
    if (source === target) {
      // WebGPU copies only between different buffers: two views of one go through a staging buffer
      const staging = this.device.createBuffer({ size: bytes, usage: Usage.COPY_SRC | Usage.COPY_DST });
      encoder.copyBufferToBuffer(source, from, staging, 0, bytes);
      encoder.copyBufferToBuffer(staging, 0, target, to, bytes);
      this.afterSubmit.push(staging);
    } else {
      encoder.copyBufferToBuffer(source, from, target, to, bytes);
    }
    this.totalCopies++;
  }

  /**
   * Scratch space of at least `size` float32 elements for the kernel being recorded (split-K
   * partial sums), valid until the kernel's last launch: one buffer, kept and grown, so that
   * scratch neither counts as an allocation of the step nor changes from step to step.
   */
  scratch(size: number): GpuHandle {
    const bytes = this.bytesOf("webgpu.scratch", size);
    this.usedScratch = true;
    if (!this.scratchBuffer || this.scratchBuffer.size < bytes) {
      if (this.scratchBuffer) {
        const old = this.scratchBuffer;
        this.allocatedBytes -= old.size;
        this.liveBuffers--;
        this.bindGroups.forget(old);
        if (this.lastUse.get(old) === this.batch) this.afterSubmit.push(old);
        else old.destroy();
      }
      this.scratchBuffer = this.device.createBuffer({ size: sizeClass(bytes), usage: Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST });
      this.liveBuffers++;
      this.allocatedBytes += this.scratchBuffer.size;
      this.peakAllocatedBytes = Math.max(this.peakAllocatedBytes, this.allocatedBytes);
      this.mostAllocatedBytes = Math.max(this.mostAllocatedBytes, this.allocatedBytes);
    }
    return { buffer: this.scratchBuffer, dtype: "float32", size, offset: 0, initialized: true };
  }

  /** Records one kernel launch. */
  run(launch: Launch): void {
    this.checkHealthy("webgpu.run");
    const output = launch.buffers[launch.buffers.length - 1];
    for (const h of launch.buffers) if (h !== output) this.prepare(h);
    this.lastUse.set(output.buffer, this.batch);
    if (launch.meta.length > this.metaAlign) throw new SamError("webgpu.run", `a kernel's meta data exceeds ${this.metaAlign} words`);
    const pipeline = this.pipelines.get(launch.code, this.op);
    const [x, y = 1, z = 1] = launch.grid;
    const command: RecordedLaunch = {
      kind: "launch", pipeline: pipeline.pipeline, bindGroup: this.bindGroup(pipeline, launch, this.launches * this.metaAlign), grid: [x, y, z],
      meta: launch.meta, slot: this.launches, checksIndices: launch.checksIndices ?? false,
    };
    this.recording?.push({ ...command, meta: Uint32Array.from(launch.meta) });
    output.initialized = true;
    this.dispatch(command);
    this.launchesByOp.set(this.op, (this.launchesByOp.get(this.op) ?? 0) + 1);
  }

  private dispatch({ pipeline, bindGroup, grid, meta, checksIndices }: RecordedLaunch): void {
    this.metaWords.set(meta, this.launches * this.metaAlign);
    if (checksIndices) this.indexChecked = true;
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.totalLaunches++;
    // a full arena is submitted within the step: allocation positions go on counting
    if (++this.launches === MAX_LAUNCHES) this.submit();
  }

  /** The next launch's place in its submission (which meta slot it gets). */
  get slot(): number {
    return this.launches;
  }

  /** The scratch buffer now (a call whose launches bind scratch replays only while it is the same). */
  get scratchNow(): GPUBuffer | null {
    return this.scratchBuffer;
  }

  /** Starts collecting the commands of one primitive call, for {@link StepReplay}. */
  startRecording(): void {
    this.recording = [];
    this.usedScratch = false;
  }

  /**
   * The commands collected since {@link startRecording} (null if the call also wrote or
   * allocated), and the scratch buffer they bind, if any.
   */
  stopRecording(): { commands: RecordedCommand[] | null; scratch: GPUBuffer | null } {
    const commands = this.recording;
    this.recording = null;
    return { commands, scratch: this.usedScratch ? this.scratchBuffer : null };
  }

  /**
   * Records again the commands a call made in an earlier step, on the same buffers (`tensors`,
   * the output last) at the same meta slots: what the kernel would record, without its code,
   * geometry or bind-group lookups.
   */
  replay(commands: readonly RecordedCommand[], tensors: readonly GpuHandle[]): void {
    this.checkHealthy("webgpu.run");
    const output = tensors[tensors.length - 1];
    for (const h of tensors) if (h !== output) this.prepare(h);
    this.lastUse.set(output.buffer, this.batch);
    let launches = 0;
    for (const c of commands) {
      if (c.kind === "copy") {
        this.copyBytes(c);
        continue;
      }
      this.dispatch(c);
      launches++;
    }
    output.initialized = true;
    this.replayedLaunches += launches;
    this.launchesByOp.set(this.op, (this.launchesByOp.get(this.op) ?? 0) + launches);
  }

  /** The bind group of a launch: its buffers, its meta words at `slot`, and the index flag if it checks indices. */
  private bindGroup(pipeline: Pipeline, launch: Launch, slot: number): GPUBindGroup {
    const metaBytes = Math.max(4, launch.meta.length * 4);
    const buffers = launch.buffers.map((h) => h.buffer);
    // views are bound by their range; the key tells their places apart
    const places = launch.buffers.some((h) => h.offset !== 0) ? `:${launch.buffers.map((h) => `${h.offset}+${h.size}`).join()}` : "";
    return this.bindGroups.get(pipeline.layout, buffers, `${slot}:${metaBytes}:${launch.checksIndices ? 1 : 0}${places}`, () => {
      const entries: GPUBindGroupEntry[] = launch.buffers.map((h, i) => ({
        binding: i, resource: h.offset === 0 ? { buffer: h.buffer } : { buffer: h.buffer, offset: h.offset * 4, size: Math.max(4, h.size * 4) },
      }));
      entries.push({ binding: buffers.length, resource: { buffer: this.metaBuffer, offset: slot * 4, size: metaBytes } });
      if (launch.checksIndices) entries.push({ binding: buffers.length + 1, resource: { buffer: this.indexFlag } });
      return this.device.createBindGroup({ layout: pipeline.layout, entries });
    });
  }

  /** Copies the storage out: submits everything recorded and waits for the GPU. */
  async read(handle: GpuHandle): Promise<TypedArray> {
    this.checkHealthy("webgpu.read");
    const bytes = handle.size * 4;
    let result: TypedArray;
    let flag: GPUBuffer | null = null;
    if (bytes === 0 || !handle.initialized) {
      result = typedArray(handle.dtype, new ArrayBuffer(bytes), handle.size);
      if (this.indexChecked) flag = this.copyOut(this.indexFlag, 4);
      this.flush();
    } else {
      const staging = this.copyOut(handle.buffer, bytes, handle.offset * 4);
      if (this.indexChecked) flag = this.copyOut(this.indexFlag, 4);
      this.flush();
      result = typedArray(handle.dtype, await this.mapped(staging), handle.size);
    }
    if (flag) {
      const code = new Uint32Array(await this.mapped(flag))[0];
      if (code !== 0) {
        const op = INDEX_ERRORS[code] ?? "an indexing op";
        throw new SamError(op, `an index was out of range (found on the GPU, reported at this read; values computed from it are wrong)`);
      }
    }
    this.checkHealthy("webgpu.read");
    return result;
  }

  /** Submits everything recorded so far; what comes next counts its allocations from the start (as a new step would). */
  flush(): void {
    this.submit();
    this.allocations.nextBatch();
    this.steps?.nextStep();
  }

  /** Submits everything recorded so far. */
  private submit(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.launches > 0) this.device.queue.writeBuffer(this.metaBuffer, 0, this.metaWords.buffer, 0, this.launches * this.metaAlign * 4);
    this.device.queue.submit([this.encoder.finish()]);
    this.submissions++;
    for (const b of this.afterSubmit) b.destroy();
    this.afterSubmit = [];
    this.encoder = null;
    this.launches = 0;
    this.batch++;
  }

  /** Waits until the GPU has finished everything submitted. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkHealthy("webgpu.sync");
  }

  /** Marks a buffer as used by this batch, zeroing a reused one that was never written. */
  private prepare(handle: GpuHandle): void {
    this.lastUse.set(handle.buffer, this.batch);
    if (handle.initialized) return;
    this.endPass();
    this.commandEncoder().clearBuffer(handle.buffer);
    handle.initialized = true;
  }

  /** Copies `bytes` of `source` from byte `from` into a new mappable buffer (the flag is cleared for the next checks). */
  private copyOut(source: GPUBuffer, bytes: number, from = 0): GPUBuffer {
    this.endPass();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ size, usage: Usage.MAP_READ | Usage.COPY_DST });
    this.lastUse.set(source, this.batch);
    const encoder = this.commandEncoder();
    encoder.copyBufferToBuffer(source, from, staging, 0, size);
    if (source === this.indexFlag) {
      encoder.clearBuffer(this.indexFlag);
      this.indexChecked = false;
    }
    return staging;
  }

  /** Maps a staging buffer, copies its bytes out and destroys it. */
  private async mapped(staging: GPUBuffer): Promise<ArrayBuffer> {
    try {
      await staging.mapAsync(1 /* GPUMapMode.READ */);
      return staging.getMappedRange().slice(0);
    } catch (e) {
      this.checkHealthy("webgpu.read");
      throw new SamError("webgpu.read", `mapping a buffer for reading failed: ${(e as Error).message}`);
    } finally {
      staging.destroy();
    }
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }
}
