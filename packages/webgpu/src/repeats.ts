// Which pooled buffer an allocation takes. Allocations are counted from each read, sync or flush
// (where a training step ends; not from a submission the stream makes because its arena is full);
// the k-th of a batch takes a buffer the k-th of the last batches had, when one is free, so a
// repeated step binds the same buffers as the step before and finds its bind groups in the cache.
import { sizeClass, type BufferPool } from "./buffers.js";

/** Allocation positions whose buffers are remembered (a ResNet-20 SAM step makes about 1,200). */
const MAX_REMEMBERED = 8192;
/** Buffers remembered per position: a tensor replaced every step (a parameter) alternates between two. */
const REMEMBERED_PER_POSITION = 2;

export class RepeatedAllocations {
  /** Allocations in this batch so far. */
  private allocations = 0;
  /** The buffers each position got in the last batches, most recent first, and its size class. */
  private readonly remembered: GPUBuffer[][] = [];
  private readonly sizes: number[] = [];
  /** Whether this batch has allocated the sizes the last one did, in order, so far. */
  private repeating = true;
  /** How many positions remember each buffer. */
  private readonly claims = new Map<GPUBuffer, number>();

  /**
   * A buffer for the batch's next allocation: one this position had, else one no position
   * remembers, else a new one while the batch repeats the last and `mayGrow` (so that a repeated
   * step settles on its own buffers), else any pooled one.
   */
  take(pool: BufferPool, bytes: number, mayGrow: boolean, create: (size: number) => GPUBuffer): { buffer: GPUBuffer; fresh: boolean } {
    const k = this.allocations++;
    const known = k < MAX_REMEMBERED;
    const size = sizeClass(bytes);
    this.repeating &&= known && this.sizes[k] === size;
    const before = (known && this.remembered[k]) || [];
    const taken = pool.take(bytes, before, this.repeating && mayGrow, (b) => this.claims.has(b), create);
    if (known) {
      this.sizes[k] = size;
      if (before[0] !== taken.buffer) this.remember(k, before, taken.buffer);
    }
    return taken;
  }

  /** A step ended (a read, a sync or a flush): positions count from 0 again. */
  nextBatch(): void {
    this.allocations = 0;
    this.repeating = true;
  }

  private remember(k: number, before: GPUBuffer[], buffer: GPUBuffer): void {
    const kept = [buffer, ...before.filter((b) => b !== buffer)].slice(0, REMEMBERED_PER_POSITION);
    for (const b of before) if (!kept.includes(b)) this.unclaim(b);
    if (!before.includes(buffer)) this.claims.set(buffer, (this.claims.get(buffer) ?? 0) + 1);
    this.remembered[k] = kept;
  }

  private unclaim(b: GPUBuffer): void {
    const n = (this.claims.get(b) ?? 0) - 1;
    if (n > 0) this.claims.set(b, n);
    else this.claims.delete(b);
  }
}
