// The tape: every primitive with an input that requires a gradient is recorded at dispatch.
import { isFloating, observeDispatch, type OpName, type OpParams, type Tensor } from "@sam/tensor";

/** One recorded primitive: how `output` was computed from `inputs`. */
export interface PrimitiveNode<K extends OpName = OpName> {
  /** The primitive. */
  readonly op: K;
  /** Its inputs, held until the tape is dropped. */
  readonly inputs: readonly Tensor[];
  /** Its parameters. */
  readonly params: OpParams[K];
  /** Its output. */
  readonly output: Tensor;
}

/** A function recorded as one node with a gradient of its own (see {@link customVjp}). */
export interface CustomNode {
  /** Marks a custom node (a primitive node names its primitive here). */
  readonly op: "custom";
  /** The function's name, for messages. */
  readonly name: string;
  /** Its inputs, held until the tape is dropped. */
  readonly inputs: readonly Tensor[];
  /** Its output. */
  readonly output: Tensor;
  /** The gradient of each input given the output's (null: none flows). */
  readonly backward: (g: Tensor) => readonly (Tensor | null)[];
}

/** A node of the tape. */
export type Node = PrimitiveNode | CustomNode;

const nodes = new WeakMap<Tensor, Node>();
let enabled = true;

observeDispatch((op, inputs, params, output) => {
  if (!enabled || !isFloating(output.dtype) || !inputs.some((t) => t.requiresGrad)) return;
  output.requiresGrad = true;
  nodes.set(output, { op, inputs: [...inputs], params, output });
});

/** Records `node` as what produced its output, replacing the nodes of the ops inside it. */
export function recordCustom(node: CustomNode): void {
  node.output.requiresGrad = true;
  nodes.set(node.output, node);
}

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
