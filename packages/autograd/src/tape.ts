// The tape: every primitive with an input that requires a gradient is recorded at dispatch.
import { isFloating, observeDispatch, type OpName, type OpParams, type Tensor } from "@sam/tensor";

/** One recorded primitive: how `output` was computed from `inputs`. */
export interface Node<K extends OpName = OpName> {
  /** The primitive. */
  readonly op: K;
  /** Its inputs, held until the tape is dropped. */
  readonly inputs: readonly Tensor[];
  /** Its parameters. */
  readonly params: OpParams[K];
  /** Its output. */
  readonly output: Tensor;
}

const nodes = new WeakMap<Tensor, Node>();
let enabled = true;

observeDispatch((op, inputs, params, output) => {
  if (!enabled || !isFloating(output.dtype) || !inputs.some((t) => t.requiresGrad)) return;
  output.requiresGrad = true;
  nodes.set(output, { op, inputs: [...inputs], params, output });
});

/** The node that produced `t`, or undefined for a leaf or an untracked tensor. */
export function nodeOf(t: Tensor): Node | undefined {
  return nodes.get(t);
}

/**
 * Whether operations are being recorded now.
 * @example
 * noGrad(() => isGradEnabled()); // false
 */
export function isGradEnabled(): boolean {
  return enabled;
}

function withRecording<T>(on: boolean, fn: () => T): T {
  const before = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = before;
  }
}

/**
 * Runs `fn` without recording: its results do not require gradients (as `torch.no_grad`).
 * @example
 * noGrad(() => w.sub(w.grad!.mul(lr)));
 */
export function noGrad<T>(fn: () => T): T {
  return withRecording(false, fn);
}

/**
 * Runs `fn` with recording on, even inside {@link noGrad}.
 * @example
 * enableGrad(() => f(x));
 */
export function enableGrad<T>(fn: () => T): T {
  return withRecording(true, fn);
}
