// An optimizer's parameters as views of one flat buffer, with flat buffers laid out the same way
// for their gradients and each kind of per-parameter state: an update is then a few passes over
// one buffer per group instead of a few per parameter (PyTorch's foreach optimizers; on a GPU,
// a handful of launches instead of hundreds).
import { keep, VIEW_ALIGNMENT, zeros, type Storage, type Tensor } from "@sam/tensor";

/** The start of the next view at or after `at`. */
const aligned = (at: number) => Math.ceil(at / VIEW_ALIGNMENT) * VIEW_ALIGNMENT;

/** One flat buffer of the layout and its views. */
export interface FlatBuffer {
  /** The whole buffer. */
  readonly buffer: Tensor;
  /** A view per parameter, over all groups in order. */
  readonly perParam: Tensor[];
  /** A view per group. */
  readonly perGroup: Tensor[];
}

/**
 * The layout: each parameter at an offset aligned for a GPU binding (the gaps hold zeros, which
 * add nothing to a norm), groups one after another, so a group is one range.
 */
export class FlatParameters {
  private readonly offsets: number[] = [];
  private readonly groupRanges: [number, number][] = [];
  private readonly size: number;
  private readonly weights: FlatBuffer;
  /** The storage each parameter held once moved: a parameter given other storage since leaves the layout's fast path. */
  private readonly homes: Storage[];
  private grads: FlatBuffer | null = null;
  private readonly states = new Map<string, FlatBuffer>();

  private constructor(
    /** The parameters, group by group. */
    readonly groups: readonly (readonly Tensor[])[],
  ) {
    let at = 0;
    for (const group of groups) {
      const start = aligned(at);
      for (const p of group) {
        at = aligned(at);
        this.offsets.push(at);
        at += p.size;
      }
      this.groupRanges.push([start, Math.max(start, at)]);
    }
    this.size = at;
    const params = groups.flat();
    this.weights = this.flat(params[0]);
    params.forEach((p, i) => p.moveInto(this.weights.perParam[i]));
    this.homes = params.map((p) => p.storage);
  }

  /**
   * Moves `groups`' parameters into one flat buffer, each parameter keeping its identity (its
   * storage becomes a view; a parameter in another optimizer's layout moves out of it, and that
   * optimizer then updates it on its own). Null where they cannot share one buffer: different
   * dtypes or backends.
   */
  static create(groups: readonly (readonly Tensor[])[]): FlatParameters | null {
    const params = groups.flat();
    if (params.length === 0) return null;
    const { dtype, backend } = params[0];
    if (params.some((p) => p.dtype !== dtype || p.backend !== backend)) return null;
    return new FlatParameters(groups);
  }

  /** Frees the layout's buffers (a layout its parameters have moved out of). */
  dispose(): void {
    for (const flat of [this.weights, this.grads, ...this.states.values()]) {
      if (!flat) continue;
      for (const t of [flat.buffer, ...flat.perParam, ...flat.perGroup]) t.dispose();
    }
  }

  /** Whether every parameter still holds its view (none was given other storage since). */
  holds(): boolean {
    return this.groups.flat().every((p, i) => p.storage === this.homes[i]);
  }

  /** A flat buffer of the layout, zero-filled, with its views. */
  private flat(like: Tensor): FlatBuffer {
    const buffer = keep(zeros([this.size], { dtype: like.dtype, backend: like.backend }));
    const perParam = this.groups.flat().map((p, i) => keep(buffer.view(this.offsets[i], p.shape)));
    const perGroup = this.groupRanges.map(([a, b]) => keep(buffer.view(a, [b - a])));
    return { buffer, perParam, perGroup };
  }

  /** The parameters of group `g` as one flat tensor (written in place by `assign`). */
  weightsOf(g: number): Tensor {
    return this.weights.perGroup[g];
  }

  /** All parameters as one flat tensor. */
  allWeights(): Tensor {
    return this.weights.buffer;
  }

  /** Copies group `g`'s gradients (each parameter must have one) into the flat gradient buffer, and returns that group's part of it. */
  gradientsOf(g: number): Tensor {
    this.grads ??= this.flat(this.weights.buffer);
    const first = this.firstOf(g);
    this.groups[g].forEach((p, j) => this.grads!.perParam[first + j].assign(p.grad!));
    return this.grads.perGroup[g];
  }

  /** Copies `tensors` (one per parameter, in order, of their shapes) into the flat gradient buffer, and returns all of it. */
  gather(tensors: readonly Tensor[]): Tensor {
    this.grads ??= this.flat(this.weights.buffer);
    tensors.forEach((t, i) => this.grads!.perParam[i].assign(t));
    return this.grads.buffer;
  }

  /** Each parameter's view of `flat`, a tensor laid out as this layout's buffers. */
  viewsOf(flat: Tensor): Tensor[] {
    return this.groups.flat().map((p, i) => flat.view(this.offsets[i], p.shape));
  }

  /** The views of state `key`'s flat buffer, created zero-filled on first use. */
  state(key: string): FlatBuffer {
    let flat = this.states.get(key);
    if (!flat) this.states.set(key, (flat = this.flat(this.weights.buffer)));
    return flat;
  }

  /** The index of group `g`'s first parameter over all groups. */
  firstOf(g: number): number {
    return this.groups.slice(0, g).reduce((n, group) => n + group.length, 0);
  }
}
