// The one place every primitive passes: checks, shape rule, kernel, and the observers (autograd).
import type { Backend } from "./backend.js";
import { check, SamError } from "./errors.js";
import { shapeRules, type OpName, type OpParams } from "./primitives.js";
import { sizeOf } from "./shape.js";
import { Storage } from "./storage.js";
import { Tensor } from "./tensor.js";

let current: Backend | null = null;

/**
 * Chooses the backend on which new tensors are created.
 * @example
 * import { cpu } from "@sam/cpu";
 * setBackend(cpu());
 */
export function setBackend(backend: Backend): void {
  current = backend;
}

/**
 * The backend on which new tensors are created; throws when none was chosen.
 * @example
 * getBackend().name; // "cpu"
 */
export function getBackend(): Backend {
  if (current === null) {
    throw new SamError("getBackend", "no backend is set; call setBackend(cpu()) (from @sam/cpu) or setBackend(await webgpu()) first");
  }
  return current;
}

/** Sees every primitive after it ran: its name, inputs, parameters and output. */
export type DispatchObserver = <K extends OpName>(op: K, inputs: readonly Tensor[], params: OpParams[K], output: Tensor) => void;

const observers = new Set<DispatchObserver>();

/**
 * Calls `observer` after every primitive; returns a function that stops it. Autograd records its
 * tape here, and a profiler could count ops the same way.
 * @example
 * const stop = observeDispatch((op) => console.log(op));
 * stop();
 */
export function observeDispatch(observer: DispatchObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/**
 * Runs one primitive: checks its inputs with the shape rule, allocates the output, runs the
 * backend's kernel and tells the observers. Every op in the framework ends up here.
 * @example
 * const c = dispatch("add", [a, b], {});
 */
export function dispatch<K extends OpName>(op: K, inputs: readonly Tensor[], params: OpParams[K]): Tensor {
  const backend = inputs.length > 0 ? inputs[0].backend : getBackend();
  for (const t of inputs) {
    check(!t.disposed, op, () => `an input tensor was already disposed`);
    check(t.backend === backend, op, () => `inputs live on different backends (${backend.name} and ${t.backend.name})`);
  }
  const meta = shapeRules[op](inputs, params);
  let storage: Storage;
  if (op === "reshape") {
    storage = inputs[0].storage.retain();
  } else {
    storage = new Storage(backend, meta.dtype, sizeOf(meta.shape));
    const out = { handle: storage.handle, shape: meta.shape, dtype: meta.dtype };
    try {
      backend.run(op, inputs.map((t) => ({ handle: t.storage.handle, shape: t.shape, dtype: t.dtype })), out, params);
    } catch (e) {
      storage.release();
      throw e;
    }
  }
  const output = new Tensor(storage, meta.shape, meta.dtype);
  for (const observer of observers) observer(op, inputs, params, output);
  return output;
}
