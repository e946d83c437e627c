// The Hessian of a model's loss over a fixed data set, as an operator on the parameters flattened
// into one vector (in parameters() order): Hv is the exact Hessian-vector product by double
// backward, batch by batch, averaged with each batch weighted by its size. Each batch's gradient
// graph is built per product, or held from the first product on (`retainGraphs`).
import { gradients } from "@sam/autograd";
import { withoutRunningStats, type Module } from "@sam/nn";
import { check, concat, fmt, hold, tensor, tidy, type Held, type Tensor } from "@sam/tensor";
import { axpy, type LinearOperator } from "./operator.js";

/** One batch of the data set: inputs and targets. */
export interface Batch {
  /** Inputs, one example a row. */
  x: Tensor;
  /** Targets, one a row. */
  y: Tensor;
}

/** Options of {@link modelHessian}. */
export interface ModelHessianOptions {
  /**
   * Batch norm's statistics: `"running"` (evaluation mode, the default, as PyHessian does) or
   * `"batch"` (training mode's batch statistics, leaving the running statistics untouched).
   */
  batchNorm?: "running" | "batch";
  /**
   * Stops a measurement: once aborted, the next batch of a product rejects with the signal's
   * reason (an `AbortError` by default), so the algorithm using the operator rejects too. Between
   * batches the operator yields to the event loop, so that a signal handler (Ctrl-C) can run.
   */
  signal?: AbortSignal;
  /**
   * Holds each batch's gradient graph (its activations and the gradient made with `createGraph`)
   * from its first product until {@link ModelHessian.dispose}, so that later products run only the
   * second backward pass: about half a product's time, for every batch's graph kept in memory
   * (about as much as a training step's activations, per batch). Held graphs are built again when
   * the parameters' values have changed since. Default false.
   */
  retainGraphs?: boolean;
}

/** Lets timers and signal handlers run: a product is otherwise one long stretch of computation. */
const yieldToEvents = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The Hessian operator of a model, with what it was built over. */
export interface ModelHessian extends LinearOperator {
  /** The parameters, in the order their entries take in the vectors. */
  readonly parameters: readonly Tensor[];
  /** Examples in all the batches. */
  readonly examples: number;
  /** Frees the gradient graphs held by `retainGraphs` (a later product holds them again); safe to call twice. */
  dispose(): void;
}

/**
 * The Hessian of L(w) = (1/N) Σ over the examples of `loss` with respect to every parameter of
 * `model`, over `batches` (kept as given: no augmentation, no shuffling). `loss(output, target)`
 * must be the mean over its batch, like `crossEntropy`. The model's mode is restored after each
 * product.
 * @example
 * const h = modelHessian(model, [{ x, y }], (z, t) => crossEntropy(z, t));
 * const { values } = await topEigenvalues(h, { k: 5 });
 */
export function modelHessian(model: Module, batches: readonly Batch[], loss: (output: Tensor, target: Tensor) => Tensor, o: ModelHessianOptions = {}): ModelHessian {
  const parameters = model.parameters();
  check(parameters.length > 0, "modelHessian", () => "the model has no parameters");
  check(batches.length > 0, "modelHessian", () => "needs at least one batch");
  batches.forEach((b, i) => check(b.x.shape[0] === b.y.shape[0] && b.x.shape[0] > 0, "modelHessian",
    () => `batch ${i}: inputs ${fmt(b.x.shape)} and targets ${fmt(b.y.shape)} must have the same, nonzero, number of rows`));
  const mode = o.batchNorm ?? "running";
  check(mode === "running" || mode === "batch", "modelHessian", () => `batchNorm must be "running" or "batch", got ${JSON.stringify(mode)}`);
  const sizes = parameters.map((p) => p.size);
  const dimension = sizes.reduce((a, b) => a + b, 0);
  const examples = batches.reduce((n, b) => n + b.x.shape[0], 0);

  const retain = o.retainGraphs ?? false;

  /** ∇L_b with its graph, for a second backward pass. */
  const gradient = (b: Batch): Tensor[] => {
    const l = loss(model.forward(b.x), b.y);
    check(l.size === 1, "modelHessian", () => `the loss must be a scalar (the mean over the batch), got shape ${fmt(l.shape)}`);
    return gradients([l], parameters, { createGraph: true });
  };

  /** H_b·v for one batch, flattened, as one tensor on the device: the derivative of ∇L_b·v. */
  const product = (g: readonly Tensor[], v: Float64Array): Tensor => tidy(() => {
    let at = 0;
    const pieces = parameters.map((p) => tensor(v.subarray(at, (at += p.size)), { dtype: p.dtype, shape: [...p.shape] }));
    const gv = g.map((gi, i) => gi.mul(pieces[i]).sum()).reduce((a, c) => a.add(c));
    const hv = gradients([gv], parameters);
    return concat(hv.map((t) => t.reshape([-1])));
  });

  /** Runs `fn` with the model in the mode the products use (and its running statistics untouched in "batch"). */
  const inMode = <T>(fn: () => T): T => {
    const wasTraining = model.training;
    model.train(mode === "batch");
    try {
      return mode === "batch" ? withoutRunningStats(model, fn) : fn();
    } finally {
      model.train(wasTraining);
    }
  };

  // held graphs, with the parameter values they were built at
  let graphs: Held<Tensor[]>[] = [];
  let heldAt: Float64Array | null = null;
  const release = () => {
    graphs.forEach((g) => g.dispose());
    graphs = [];
    heldAt = null;
  };
  const parameterValues = async (): Promise<Float64Array> => {
    const values = new Float64Array(dimension);
    let at = 0;
    for (const p of parameters) {
      values.set(await p.data(), at);
      at += p.size;
    }
    return values;
  };
  /** Releases held graphs built at other parameter values than now's. */
  const releaseStale = async () => {
    if (!heldAt) return;
    const now = await parameterValues();
    if (now.some((x, i) => !Object.is(x, heldAt![i]))) release();
  };

  return {
    dimension,
    parameters,
    examples,
    apply: async (v) => {
      check(v.length === dimension, "modelHessian.apply", () => `expected a vector of the ${dimension} parameters, got length ${v.length}`);
      if (retain) await releaseStale();
      const out = new Float64Array(dimension);
      for (const [i, b] of batches.entries()) {
        if (o.signal) {
          await yieldToEvents();
          o.signal.throwIfAborted();
        }
        let hv: Tensor;
        if (retain) {
          if (i === 0 && graphs.length === 0) heldAt = await parameterValues();
          graphs[i] ??= inMode(() => hold(() => gradient(b)));
          hv = product(graphs[i].value, v);
        } else {
          hv = inMode(() => tidy(() => product(gradient(b), v)));
        }
        const values = await hv.data();
        hv.dispose();
        axpy(b.x.shape[0] / examples, Float64Array.from(values), out);
      }
      return out;
    },
    dispose: release,
  };
}
