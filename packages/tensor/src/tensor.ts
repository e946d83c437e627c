// The Tensor: shape, dtype, reference-counted storage, gradient slots, and thin methods over the ops.
import type { Backend } from "./backend.js";
import { isFloating, type DType, type TypedArray } from "./dtype.js";
import { check, SamError } from "./errors.js";
import * as ops from "./ops.js";
import type { Axes, Conv2dOptions, Operand, Pool2dOptions, SliceRange } from "./ops.js";
import { track } from "./scope.js";
import { sizeOf, type Shape } from "./shape.js";
import { Storage, VIEW_ALIGNMENT } from "./storage.js";

let nextId = 0;

/** Nested arrays of numbers, as {@link Tensor.array} returns them. */
export type NestedArray = number | NestedArray[];

/**
 * An n-dimensional array on a backend. Methods read like PyTorch and return new tensors; reading
 * values is asynchronous (`await t.data()`), because a GPU cannot answer synchronously.
 * @example
 * const y = x.matmul(w).add(b).relu();
 * console.log(await y.data());
 */
export class Tensor {
  /** A unique number, handy in debugging output. */
  readonly id = nextId++;
  /** The storage this tensor reads (shared with reshaped and detached views); {@link Tensor.assign} swaps it. */
  get storage(): Storage {
    return this.held;
  }
  private held: Storage;
  /** The size of each dimension. */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
  /** Whether gradients flow to (a leaf) or through (an op output) this tensor. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after `backward()`, or null. */
  grad: Tensor | null = null;
  /** Set by {@link keep}: tidy() leaves this tensor alone. */
  kept = false;
  /** Whether {@link Tensor.dispose} has run. */
  disposed = false;

  /** Wraps storage; use the creation functions (`tensor`, `zeros`, …) rather than this. */
  constructor(storage: Storage, shape: Shape, dtype: DType) {
    this.held = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    track(this);
  }

  /** The backend holding the storage. */
  get backend(): Backend {
    return this.storage.backend;
  }
  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }
  /** The number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }

  /** Marks this tensor as a leaf whose gradient is wanted (floating dtypes only). Returns `this`. */
  requiresGrad_(value = true): this {
    check(!value || isFloating(this.dtype), "requiresGrad_", () => `only floating tensors can require gradients, got ${this.dtype}`);
    this.requiresGrad = value;
    return this;
  }

  /** A tensor sharing this one's storage, cut off from the tape. */
  detach(): Tensor {
    check(!this.disposed, "detach", () => `the tensor was already disposed`);
    return new Tensor(this.storage.retain(), this.shape, this.dtype);
  }

  /** A copy of the values in storage of its own, cut off from the tape (where `detach` shares the storage). */
  copy(): Tensor {
    check(!this.disposed, "copy", () => `the tensor was already disposed`);
    const storage = new Storage(this.backend, this.dtype, this.size);
    this.backend.copy(this.storage.handle, storage.handle);
    return new Tensor(storage, this.shape, this.dtype);
  }

  /**
   * A tensor of `shape` over `size(shape)` consecutive elements of this one's storage from
   * `offset` (a multiple of {@link VIEW_ALIGNMENT}), cut off from the tape. Both are then written in place by {@link Tensor.assign}, so
   * each sees the other's updates: how parameters become views of one flat buffer.
   */
  view(offset: number, shape: readonly number[]): Tensor {
    check(!this.disposed, "view", () => `the tensor was already disposed`);
    const size = sizeOf(shape);
    check(Number.isInteger(offset) && offset >= 0 && offset + size <= this.size, "view",
      () => `${size} elements from ${offset} do not fit a tensor of ${this.size}`);
    check(offset % VIEW_ALIGNMENT === 0, "view", () => `offset must be a multiple of ${VIEW_ALIGNMENT} (where a GPU can bind a view), got ${offset}`);
    return new Tensor(new Storage(this.backend, this.dtype, size, { storage: this.storage, offset }), shape, this.dtype);
  }

  /**
   * Copies this tensor's values into `target` (a view of a flat buffer, say) and makes this tensor
   * hold target's storage from then on, keeping its identity: how a parameter moves into a flat
   * buffer. The storage it held is released (views of it keep their values but no longer see this
   * tensor's updates).
   */
  moveInto(target: Tensor): this {
    check(!this.disposed && !target.disposed, "moveInto", () => `a tensor was already disposed`);
    check(target.shape.length === this.shape.length && target.shape.every((d, i) => d === this.shape[i]) && target.dtype === this.dtype
      && target.backend === this.backend, "moveInto", () => `the target (${target}) differs from ${this} in shape, dtype or backend`);
    if (target.storage !== this.held) this.backend.copy(this.held.handle, target.storage.handle);
    const old = this.held;
    this.held = target.storage.retain();
    old.release();
    return this;
  }

  /**
   * Makes this tensor hold `value`: an in-place update that keeps the tensor's identity, as
   * parameters and optimizer state need. Tensors recorded earlier that read this one see the new
   * values. Usually the tensor takes `value`'s storage (no copy) and releases its own; a tensor
   * whose storage is a view, or is viewed ({@link Tensor.view}), has `value` copied into it instead,
   * so the views stay in step.
   * @example
   * noGrad(() => w.assign(w.sub(w.grad!.mul(lr))));
   */
  assign(value: Tensor): this {
    check(!this.disposed && !value.disposed, "assign", () => `a tensor was already disposed`);
    check(value.shape.length === this.shape.length && value.shape.every((d, i) => d === this.shape[i]), "assign",
      () => `shape [${value.shape}] differs from [${this.shape}]`);
    check(value.dtype === this.dtype, "assign", () => `dtype ${value.dtype} differs from ${this.dtype}`);
    check(value.backend === this.backend, "assign", () => `the value lives on another backend`);
    if (this.held.pinned) {
      if (value.storage !== this.held) this.backend.copy(value.storage.handle, this.held.handle);
      return this;
    }
    const old = this.held;
    this.held = value.storage.retain();
    old.release();
    return this;
  }

  /** Frees this tensor's hold on its storage (and its gradient's). Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage.release();
    this.grad?.dispose();
    this.grad = null;
  }

  /** A copy of the values, in row-major order. */
  async data(): Promise<TypedArray> {
    check(!this.disposed, "data", () => `the tensor was already disposed`);
    return this.backend.read(this.storage.handle);
  }

  /** A copy of the values now; only on backends that can read synchronously (the CPU). */
  dataSync(): TypedArray {
    check(!this.disposed, "dataSync", () => `the tensor was already disposed`);
    const read = this.backend.readSync;
    if (!read) throw new SamError("dataSync", `the ${this.backend.name} backend cannot read synchronously; use await data()`);
    return read.call(this.backend, this.storage.handle);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    check(this.size === 1, "item", () => `needs a tensor with one element, got shape [${this.shape}]`);
    return (await this.data())[0];
  }

  /** The values as nested arrays. */
  async array(): Promise<NestedArray> {
    const flat = Array.from(await this.data());
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.rank) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** A short description: `Tensor(float32 [2,3])`. */
  toString(): string {
    return `Tensor(${this.dtype} [${this.shape.join(",")}])`;
  }

  /** −x */ neg(): Tensor { return ops.unary("neg", this); }
  /** |x| */ abs(): Tensor { return ops.unary("abs", this); }
  /** −1, 0 or 1 */ sign(): Tensor { return ops.unary("sign", this); }
  /** eˣ */ exp(): Tensor { return ops.unary("exp", this); }
  /** ln x */ log(): Tensor { return ops.unary("log", this); }
  /** √x */ sqrt(): Tensor { return ops.unary("sqrt", this); }
  /** sin x */ sin(): Tensor { return ops.unary("sin", this); }
  /** cos x */ cos(): Tensor { return ops.unary("cos", this); }
  /** tanh x */ tanh(): Tensor { return ops.unary("tanh", this); }
  /** 1 / (1 + e⁻ˣ) */ sigmoid(): Tensor { return ops.unary("sigmoid", this); }
  /** max(x, 0) */ relu(): Tensor { return ops.unary("relu", this); }
  /** x² */ square(): Tensor { return this.mul(this); }

  /** x + y (broadcast) */ add(y: Operand): Tensor { return ops.binary("add", this, y); }
  /** x − y (broadcast) */ sub(y: Operand): Tensor { return ops.binary("sub", this, y); }
  /** x · y (broadcast) */ mul(y: Operand): Tensor { return ops.binary("mul", this, y); }
  /** x / y (broadcast) */ div(y: Operand): Tensor { return ops.binary("div", this, y); }
  /** xʸ (broadcast) */ pow(y: Operand): Tensor { return ops.binary("pow", this, y); }
  /** elementwise max (broadcast) */ maximum(y: Operand): Tensor { return ops.binary("maximum", this, y); }
  /** elementwise min (broadcast) */ minimum(y: Operand): Tensor { return ops.binary("minimum", this, y); }
  /** x = y, as bool */ eq(y: Operand): Tensor { return ops.binary("eq", this, y); }
  /** x ≠ y, as bool */ ne(y: Operand): Tensor { return ops.binary("ne", this, y); }
  /** x < y, as bool */ lt(y: Operand): Tensor { return ops.binary("lt", this, y); }
  /** x ≤ y, as bool */ le(y: Operand): Tensor { return ops.binary("le", this, y); }
  /** x > y, as bool */ gt(y: Operand): Tensor { return ops.binary("gt", this, y); }
  /** x ≥ y, as bool */ ge(y: Operand): Tensor { return ops.binary("ge", this, y); }
  /** Converts to another dtype. */ cast(dtype: DType): Tensor { return ops.cast(this, dtype); }

  /** Sum over axes (all by default). */ sum(axes?: Axes, keepDims = false): Tensor { return ops.sum(this, axes, keepDims); }
  /** Max over axes (all by default). */ max(axes?: Axes, keepDims = false): Tensor { return ops.max(this, axes, keepDims); }
  /** Min over axes (all by default). */ min(axes?: Axes, keepDims = false): Tensor { return ops.min(this, axes, keepDims); }
  /** Mean over axes (all by default). */ mean(axes?: Axes, keepDims = false): Tensor { return ops.mean(this, axes, keepDims); }
  /** Variance over axes, dividing by N − correction. */
  variance(axes?: Axes, keepDims = false, correction = 1): Tensor { return ops.variance(this, axes, keepDims, correction); }
  /** Index of the max along an axis. */ argmax(axis?: number, keepDims = false): Tensor { return ops.argmax(this, axis, keepDims); }
  /** Index of the min along an axis. */ argmin(axis?: number, keepDims = false): Tensor { return ops.argmin(this, axis, keepDims); }

  /** Same elements, new shape (−1 inferred). */ reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  /** Reorders axes. */ permute(perm: readonly number[]): Tensor { return ops.permute(this, perm); }
  /** Swaps two axes (the last two by default). */ transpose(a = -2, b = -1): Tensor { return ops.transpose(this, a, b); }
  /** Broadcasts to a shape. */ expand(shape: readonly number[]): Tensor { return ops.expand(this, shape); }
  /** Inserts an axis of size 1. */ unsqueeze(axis: number): Tensor { return ops.unsqueeze(this, axis); }
  /** Removes axes of size 1. */ squeeze(axes?: Axes): Tensor { return ops.squeeze(this, axes); }
  /** Flattens a range of axes. */ flatten(start = 0, end = -1): Tensor { return ops.flatten(this, start, end); }
  /** A strided sub-block. */ slice(ranges: readonly SliceRange[]): Tensor { return ops.slice(this, ranges); }
  /** Pads with a constant. */
  pad(widths: readonly (readonly [number, number])[], value = 0): Tensor { return ops.pad(this, widths, value); }

  /** Matrix product (batched, broadcast). */ matmul(y: Tensor): Tensor { return ops.matmul(this, y); }
  /** 2-D convolution by weight `w`. */ conv2d(w: Tensor, opts?: Conv2dOptions): Tensor { return ops.conv2d(this, w, opts); }
  /** 2-D max pooling. */ maxPool2d(opts: Pool2dOptions): Tensor { return ops.maxPool2d(this, opts); }
  /** 2-D average pooling. */ avgPool2d(opts: Pool2dOptions): Tensor { return ops.avgPool2d(this, opts); }
  /** Gathers along an axis by an int32 index. */ gather(axis: number, index: Tensor): Tensor { return ops.gather(this, axis, index); }
  /** Selects slices along an axis by a 1-D index. */
  indexSelect(axis: number, index: Tensor): Tensor { return ops.indexSelect(this, axis, index); }
}
