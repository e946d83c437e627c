// Making tensors: from JavaScript data, constants, ranges and the identity.
import type { Backend } from "./backend.js";
import { isDType, typedArrayFor, type DType, type TypedArray } from "./dtype.js";
import { getBackend } from "./engine.js";
import { check, fmt } from "./errors.js";
import { checkShape, sizeOf, type Shape } from "./shape.js";
import { Storage } from "./storage.js";
import { Tensor } from "./tensor.js";

/** Nested arrays of numbers or booleans, or a typed array. */
export type TensorData = number | boolean | TypedArray | readonly TensorData[];

/** Options shared by the creation functions. */
export interface CreateOptions {
  /** The element type; float32 unless the data says otherwise. */
  dtype?: DType;
  /** Whether gradients should be computed for this tensor (a leaf of the tape). */
  requiresGrad?: boolean;
  /** Where to create it; the current backend when omitted. */
  backend?: Backend;
}

/** Creates a tensor on `backend` holding `values` (converted to `dtype`). */
export function fromValues(values: ArrayLike<number>, shape: Shape, dtype: DType, backend: Backend = getBackend()): Tensor {
  const storage = new Storage(backend, dtype, sizeOf(shape));
  const data = typedArrayFor(dtype, sizeOf(shape));
  if (dtype === "bool") for (let i = 0; i < data.length; i++) data[i] = values[i] ? 1 : 0;
  else data.set(values);
  backend.write(storage.handle, data);
  return new Tensor(storage, [...shape], dtype);
}

function inferShape(data: TensorData, fn: string): number[] {
  const shape: number[] = [];
  let level: TensorData = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as TensorData;
  }
  if (ArrayBuffer.isView(level)) shape.push((level as TypedArray).length);
  check(level !== undefined || shape.includes(0), fn, () => `could not read the shape of the data`);
  return shape;
}

function flatten(data: TensorData, shape: number[], depth: number, out: number[], fn: string): void {
  if (depth === shape.length) {
    check(typeof data === "number" || typeof data === "boolean", fn, () => `expected a number at depth ${depth}, got ${typeof data}`);
    out.push(Number(data));
    return;
  }
  const list = data as ArrayLike<TensorData>;
  check(list.length === shape[depth], fn, () => `ragged data: expected ${shape[depth]} entries at depth ${depth}, got ${list.length}`);
  for (let i = 0; i < list.length; i++) flatten(list[i], shape, depth + 1, out, fn);
}

function defaultDType(data: TensorData): DType {
  let leaf: TensorData = data;
  while (Array.isArray(leaf)) leaf = leaf[0] as TensorData;
  if (leaf instanceof Float64Array) return "float64";
  if (leaf instanceof Int32Array) return "int32";
  if (typeof leaf === "boolean") return "bool";
  return "float32";
}

/** Marks a freshly created tensor as requiring a gradient when the options ask for it. */
export function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function dtypeOf(fn: string, opts: CreateOptions | undefined, fallback: DType): DType {
  const d = opts?.dtype ?? fallback;
  check(isDType(d), fn, () => `unknown dtype ${JSON.stringify(d)}`);
  return d;
}

/**
 * A tensor from nested arrays, a number, or a typed array (with `shape`, or as 1-D).
 * @example
 * const x = tensor([[1, 2], [3, 4]]);             // float32 [2,2]
 * const i = tensor([0, 2], { dtype: "int32" });
 * const y = tensor(new Float64Array(6), { shape: [2, 3] });
 */
export function tensor(data: TensorData, opts?: CreateOptions & { shape?: number[] }): Tensor {
  const dtype = dtypeOf("tensor", opts, defaultDType(data));
  let shape: number[];
  let values: ArrayLike<number>;
  if (ArrayBuffer.isView(data)) {
    values = data;
    shape = opts?.shape ?? [data.length];
    checkShape("tensor", shape);
    check(sizeOf(shape) === data.length, "tensor", () => `shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
  } else {
    shape = inferShape(data, "tensor");
    const flat: number[] = [];
    flatten(data, shape, 0, flat, "tensor");
    values = flat;
    if (opts?.shape) {
      check(sizeOf(opts.shape) === flat.length, "tensor", () => `shape ${fmt(opts.shape!)} needs ${sizeOf(opts.shape!)} values, got ${flat.length}`);
      shape = opts.shape;
    }
  }
  return finish(fromValues(values, shape, dtype, opts?.backend), opts);
}

/**
 * A tensor of `shape` filled with `value`.
 * @example
 * full([2, 2], 7); // [[7,7],[7,7]]
 */
export function full(shape: number[], value: number, opts?: CreateOptions): Tensor {
  checkShape("full", shape);
  check(typeof value === "number", "full", () => `value must be a number, got ${typeof value}`);
  const dtype = dtypeOf("full", opts, "float32");
  const values = typedArrayFor(dtype, sizeOf(shape));
  values.fill(dtype === "bool" ? (value ? 1 : 0) : value);
  return finish(fromValues(values, shape, dtype, opts?.backend), opts);
}

/**
 * A tensor of zeros.
 * @example
 * zeros([3]); // [0,0,0]
 */
export function zeros(shape: number[], opts?: CreateOptions): Tensor {
  checkShape("zeros", shape);
  return full(shape, 0, opts);
}

/**
 * A tensor of ones.
 * @example
 * ones([2], { dtype: "float64" }); // [1,1]
 */
export function ones(shape: number[], opts?: CreateOptions): Tensor {
  checkShape("ones", shape);
  return full(shape, 1, opts);
}

/**
 * Zeros with the shape, dtype and backend of `t`.
 * @example
 * zerosLike(x);
 */
export function zerosLike(t: Tensor): Tensor {
  return full([...t.shape], 0, { dtype: t.dtype, backend: t.backend });
}

/**
 * Ones with the shape, dtype and backend of `t`.
 * @example
 * onesLike(x);
 */
export function onesLike(t: Tensor): Tensor {
  return full([...t.shape], 1, { dtype: t.dtype, backend: t.backend });
}

/**
 * The values start, start+step, … below stop (like `torch.arange`); float32 unless `dtype` says.
 * @example
 * arange(0, 5);                      // [0,1,2,3,4]
 * arange(0, 1, 0.25, { dtype: "float64" });
 */
export function arange(start: number, stop?: number, step = 1, opts?: CreateOptions): Tensor {
  if (stop === undefined) [start, stop] = [0, start];
  check(step !== 0 && Number.isFinite(step), "arange", () => `step must be a finite non-zero number, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  return finish(fromValues(values, [n], dtypeOf("arange", opts, "float32"), opts?.backend), opts);
}

/**
 * The identity matrix with `n` rows and `m` columns (`m = n` by default).
 * @example
 * eye(2); // [[1,0],[0,1]]
 */
export function eye(n: number, m = n, opts?: CreateOptions): Tensor {
  checkShape("eye", [n, m]);
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  return finish(fromValues(values, [n, m], dtypeOf("eye", opts, "float32"), opts?.backend), opts);
}
