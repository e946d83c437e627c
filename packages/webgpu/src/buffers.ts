// GPU storage: one buffer per tensor, 4 bytes per element, reused through a pool keyed by size.
import { SamError, type DType } from "@sam/tensor";

/** `GPUBufferUsage` values (fixed by the WebGPU spec; Node has no such global). */
export const Usage = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, STORAGE: 128 } as const;

/** The WGSL type that stores each dtype: `bool` is a `u32` of 0 or 1 (WGSL storage holds no bool). */
export function wgslType(dtype: DType): "f32" | "i32" | "u32" {
  if (dtype === "float32") return "f32";
  if (dtype === "int32") return "i32";
  if (dtype === "bool") return "u32";
  throw new SamError("webgpu", `${dtype} is not supported on WebGPU (WGSL has no 64-bit floats); use float32`);
}

/** The backend's handle to one tensor's storage. */
export interface GpuHandle {
  /** The buffer (its size is the pool's size class, at least `4·size` bytes). */
  readonly buffer: GPUBuffer;
  /** The element type. */
  readonly dtype: DType;
  /** Elements. */
  readonly size: number;
  /** The element where the tensor starts: 0, or a view's place in the buffer (a multiple of 64, so 256 bytes, which bindings need). */
  readonly offset: number;
  /** False while a reused buffer still holds an earlier tensor's bytes (cleared before first read). */
  initialized: boolean;
}

/** The size class of a buffer of `bytes` bytes: steps of 1/8 of a power of two, at least 256. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return 256;
  const step = 2 ** Math.floor(Math.log2(bytes)) / 8;
  return Math.ceil(bytes / step) * step;
}

/**
 * Freed buffers kept for reuse by size class, like a caching allocator: a training step frees and
 * allocates the same sizes every time, and creating GPU buffers is slow. Beyond `capBytes` pooled
 * bytes, freed buffers are destroyed.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooled = 0;

  /** Bytes of the buffers kept for reuse. */
  get pooledBytes(): number {
    return this.pooled;
  }

  constructor(private readonly capBytes: number) {}

  /**
   * A storage buffer of at least `bytes` bytes: the first of `preferred` that is pooled, else the
   * last pooled one of its size that is not `claimed` (by another allocation that had it before),
   * else (unless `leaveClaimed`) the last pooled one, else one made by `create` (then fresh, so
   * zero-filled).
   */
  take(bytes: number, preferred: readonly GPUBuffer[], leaveClaimed: boolean, claimed: (b: GPUBuffer) => boolean, create: (size: number) => GPUBuffer): { buffer: GPUBuffer; fresh: boolean } {
    const size = sizeClass(bytes);
    const list = this.free.get(size) ?? [];
    let at = -1;
    for (const b of preferred) if ((at = list.lastIndexOf(b)) >= 0) break;
    for (let i = list.length - 1; at < 0 && i >= 0; i--) if (!claimed(list[i])) at = i;
    if (at < 0 && !leaveClaimed) at = list.length - 1;
    const reused = at >= 0 ? list.splice(at, 1)[0] : undefined;
    if (reused) {
      this.pooled -= size;
      return { buffer: reused, fresh: false };
    }
    return { buffer: create(size), fresh: true };
  }

  /** Keeps a freed buffer for reuse; false when the pool is full (the caller then destroys it). */
  give(buffer: GPUBuffer): boolean {
    if (this.pooled + buffer.size > this.capBytes) return false;
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
    this.pooled += buffer.size;
    return true;
  }

}
