// A training step whose shapes repeat makes the same primitive calls on the same buffers, step
// after step, once its buffers settle. The replay keeps what each call recorded (its pipelines,
// bind groups, dispatch sizes, meta words and buffer copies) and, when a later step makes the same
// call at the same place (the same op, parameters, shapes and buffers, at the same meta slot),
// records those again without running the kernel's code: no shader lookup, geometry or bind-group
// key. Any difference (another shape, another buffer, a call that allocates or writes) runs the
// kernel as usual, and the step becomes one the next steps are compared against, so results never
// differ from ordinary recording.
import type { BackendTensor, OpName } from "@sam/tensor";
import type { GpuHandle } from "./buffers.js";

/** One kernel launch as recorded. */
export interface RecordedLaunch {
  readonly kind: "launch";
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: readonly [number, number, number];
  readonly meta: ArrayLike<number>;
  /** The launch's place in its submission, which fixes the meta slot its bind group binds. */
  readonly slot: number;
  readonly checksIndices: boolean;
}

/** One buffer-to-buffer copy as recorded (byte offsets). */
export interface RecordedCopy {
  readonly kind: "copy";
  readonly source: GPUBuffer;
  readonly from: number;
  readonly target: GPUBuffer;
  readonly to: number;
  readonly bytes: number;
}

export type RecordedCommand = RecordedLaunch | RecordedCopy;

/** One primitive call and the commands it recorded. */
interface Call {
  readonly op: OpName;
  readonly params: unknown;
  readonly tensors: readonly { buffer: GPUBuffer; offset: number; size: number; dtype: string; shape: readonly number[] }[];
  /** Null where the call did more than launch and copy (it allocated or wrote), so it always runs. */
  readonly commands: readonly RecordedCommand[] | null;
  /** The scratch buffer its launches bind, if any. */
  readonly scratch: GPUBuffer | null;
  /** Its first launch's place in its submission (null: no launch), which a repeat must share. */
  readonly slot: number | null;
}

/** Steps (stretches between reads or flushes) remembered: a step with a read in the middle has two. */
const SEGMENTS = 4;

/** Whether two parameter values are equal: numbers, strings, booleans, arrays and plain objects. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `call` was made on these tensors, op and parameters, and its launches would bind the same meta slots and scratch. */
function matches(call: Call, op: OpName, tensors: readonly BackendTensor[], params: unknown, slot: number, scratch: GPUBuffer | null): boolean {
  if (call.op !== op || call.tensors.length !== tensors.length) return false;
  if (call.scratch !== null && call.scratch !== scratch) return false;
  if (call.slot !== null && call.slot !== slot) return false;
  for (let i = 0; i < tensors.length; i++) {
    const t = tensors[i];
    const h = t.handle as GpuHandle;
    const r = call.tensors[i];
    if (r.buffer !== h.buffer || r.offset !== h.offset || r.size !== h.size || r.dtype !== t.dtype || !sameShape(r.shape, t.shape)) return false;
  }
  return sameValue(call.params, params);
}

/** The calls of the last steps, and which of them the step being recorded has repeated so far. */
export class StepReplay {
  private readonly segments: Call[][] = [];
  private current: Call[] = [];
  /** The remembered steps this one has matched call for call so far, most recent first. */
  private following: Call[][] = [];

  /**
   * The commands to record again for this call (its inputs, then its output), or null: then the
   * kernel runs and {@link recorded} is told what it did. `slot` is the next launch's place in
   * its submission, `scratch` the stream's scratch buffer.
   */
  find(op: OpName, tensors: readonly BackendTensor[], params: unknown, slot: number, scratch: GPUBuffer | null): readonly RecordedCommand[] | null {
    const k = this.current.length;
    const candidates = k === 0 ? this.segments : this.following;
    const matched = candidates.filter((s) => k < s.length && matches(s[k], op, tensors, params, slot, scratch));
    // a call that differs (a new learning rate in an update's constants) records afresh, and the
    // next call is compared with the same steps' next calls
    this.following = matched.length > 0 ? matched : candidates;
    const call = matched.find((s) => s[k].commands !== null)?.[k];
    if (!call) return null; // runs as usual (the same call that allocates or writes, or a new one)
    this.current.push(call);
    return call.commands;
  }

  /** What a call that was not replayed did: its commands (null if it also allocated or wrote) and the scratch they bind. */
  recorded(op: OpName, tensors: readonly BackendTensor[], params: unknown, commands: readonly RecordedCommand[] | null, scratch: GPUBuffer | null): void {
    const k = this.current.length;
    const same = commands === null ? this.following.find((s) => k < s.length && s[k].commands === null && matches(s[k], op, tensors, params, -1, scratch)) : undefined;
    if (same) {
      this.current.push(same[k]);
      return;
    }
    const snapshot = tensors.map((t) => {
      const h = t.handle as GpuHandle;
      return { buffer: h.buffer, offset: h.offset, size: h.size, dtype: t.dtype, shape: [...t.shape] };
    });
    const first = commands?.find((c): c is RecordedLaunch => c.kind === "launch");
    this.current.push({ op, params: structuredClone(params), tensors: snapshot, commands, scratch, slot: first?.slot ?? null });
  }

  /** A step ended (a read, a sync or a flush): it replaces the remembered step it followed to its length, or joins them. */
  nextStep(): void {
    if (this.current.length === 0) return;
    const repeated = this.following.find((s) => s.length === this.current.length);
    const at = repeated ? this.segments.indexOf(repeated) : -1;
    if (at >= 0) this.segments.splice(at, 1);
    this.segments.unshift(this.current);
    this.segments.length = Math.min(this.segments.length, SEGMENTS);
    this.current = [];
    this.following = [];
  }
}
