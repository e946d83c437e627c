// Bind groups kept for reuse. A training step launches the same kernels on the same pooled buffers
// at the same meta slots every time, and creating a bind group is one of a launch's largest host
// costs; a group is found again by its layout, its buffers and its meta slot. Groups naming a
// buffer are dropped when that buffer is destroyed.

/** Bind groups by what they bind, dropped with their buffers, and all at once past `capacity`. */
export class BindGroupCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly keysOf = new Map<GPUBuffer, string[]>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  /** Groups created, and groups found again, since the backend was created. */
  created = 0;
  reused = 0;

  constructor(private readonly capacity = 16_384) {}

  private id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /** The group of `layout` over `buffers` (and `detail`: what else its entries say), made by `create` the first time (every time with capacity 0). */
  get(layout: GPUBindGroupLayout, buffers: readonly GPUBuffer[], detail: string, create: () => GPUBindGroup): GPUBindGroup {
    if (this.capacity === 0) {
      this.created++;
      return create();
    }
    let key = `${this.id(layout)}:${detail}`;
    for (const b of buffers) key += `,${this.id(b)}`;
    const found = this.groups.get(key);
    if (found) {
      this.reused++;
      return found;
    }
    if (this.groups.size >= this.capacity) this.clear();
    const group = create();
    this.created++;
    this.groups.set(key, group);
    for (const b of buffers) {
      const keys = this.keysOf.get(b);
      if (keys) keys.push(key);
      else this.keysOf.set(b, [key]);
    }
    return group;
  }

  /** Drops the groups that bind `buffer` (before it is destroyed). */
  forget(buffer: GPUBuffer): void {
    for (const key of this.keysOf.get(buffer) ?? []) this.groups.delete(key);
    this.keysOf.delete(buffer);
  }

  clear(): void {
    this.groups.clear();
    this.keysOf.clear();
  }
}
