// `pointwise`: an arithmetic expression of several same-shaped tensors evaluated in one pass, one
// kernel launch instead of one per operation: optimizer steps, SAM's perturbation, running
// statistics, and chains of small per-channel arithmetic that a gradient flows through.
import { check } from "./errors.js";
import { dispatch } from "./engine.js";
import { POINTWISE_MAX_INPUTS, POINTWISE_MAX_SCALARS, type PointwiseBinary, type PointwiseUnary } from "./pointwiseProgram.js";
import type { Tensor } from "./tensor.js";

/** A {@link PointwiseExpr}'s tree: a leaf (input `x0…` or constant `c0…`) or an operator over subtrees. */
export type PointwiseNode =
  | {
    /** The input's or the constant's program name. */ leaf: string;
  }
  | {
    /** The operator. */ op: PointwiseBinary;
    /** The left operand. */ a: PointwiseNode;
    /** The right operand. */ b: PointwiseNode;
  }
  | {
    /** The operator. */ op: PointwiseUnary;
    /** The operand. */ a: PointwiseNode;
  };
type Node = PointwiseNode;

/** Each expression's tree, for {@link pointwise} to write out. */
const trees = new WeakMap<PointwiseExpr, Node>();

/** A symbolic value in a {@link pointwise} expression: an input, a constant, or arithmetic of them. */
export class PointwiseExpr {
  /** @internal */
  constructor(node: Node, private readonly constant: (v: number) => Node) {
    trees.set(this, node);
  }

  private get node(): Node {
    return trees.get(this)!;
  }

  private of(v: PointwiseExpr | number): Node {
    return typeof v === "number" ? this.constant(v) : trees.get(v)!;
  }

  private binary(op: PointwiseBinary, v: PointwiseExpr | number): PointwiseExpr {
    return new PointwiseExpr({ op, a: this.node, b: this.of(v) }, this.constant);
  }

  /** this + v */ add(v: PointwiseExpr | number): PointwiseExpr { return this.binary("add", v); }
  /** this − v */ sub(v: PointwiseExpr | number): PointwiseExpr { return this.binary("sub", v); }
  /** this · v */ mul(v: PointwiseExpr | number): PointwiseExpr { return this.binary("mul", v); }
  /** this / v */ div(v: PointwiseExpr | number): PointwiseExpr { return this.binary("div", v); }
  /** v / this (a constant over an expression, such as 1/√x) */ rdiv(v: number): PointwiseExpr { return new PointwiseExpr({ op: "div", a: this.constant(v), b: this.node }, this.constant); }
  /** max(this, v) */ maximum(v: PointwiseExpr | number): PointwiseExpr { return this.binary("max", v); }
  /** min(this, v) */ minimum(v: PointwiseExpr | number): PointwiseExpr { return this.binary("min", v); }
  /** −this */ neg(): PointwiseExpr { return new PointwiseExpr({ op: "neg", a: this.node }, this.constant); }
  /** √this */ sqrt(): PointwiseExpr { return new PointwiseExpr({ op: "sqrt", a: this.node }, this.constant); }
  /** |this| */ abs(): PointwiseExpr { return new PointwiseExpr({ op: "abs", a: this.node }, this.constant); }
  /** −1, 0 or 1 as this is negative, zero or positive */ sign(): PointwiseExpr { return new PointwiseExpr({ op: "sign", a: this.node }, this.constant); }
}

function postfix(n: Node): string {
  if ("leaf" in n) return n.leaf;
  return "b" in n ? `${postfix(n.a)} ${postfix(n.b)} ${n.op}` : `${postfix(n.a)} ${n.op}`;
}

/**
 * `expr` of the inputs, elementwise, in one pass: the inputs have one shape (or are 0-d tensors,
 * one value for every element, such as a norm computed on the device) and one floating dtype,
 * and each operation rounds as the tensor op of the same name does, so the result equals the ops
 * applied one by one. Constants travel as parameters, so a new learning rate compiles nothing.
 * Its gradient is the expression differentiated symbolically, again one pass per input (max and
 * min share a tie's gradient evenly, as the tensor ops do), so gradients of any order flow through.
 * @example
 * // SGD with momentum and weight decay, in two passes instead of six
 * const buf2 = pointwise([buf, g, w], (b, g, w) => b.mul(0.9).add(g.add(w.mul(5e-4))));
 * const w2 = pointwise([w, buf2], (w, b) => w.sub(b.mul(lr)));
 */
export function pointwise(inputs: readonly Tensor[], expr: (...xs: PointwiseExpr[]) => PointwiseExpr): Tensor {
  return dispatch("pointwise", inputs, compile("pointwise", inputs, expr));
}

/**
 * Several expressions of the same inputs in one pass, stacked: a tensor of shape [k, …shape] equal
 * to `stack(exprs.map((e) => pointwise(inputs, e)))`, each rounding as its own pass would, for
 * results that are wanted together (an update and its state, a layer's per-channel coefficients).
 * Its gradient is one pass per input over the rows' gradients.
 * @example
 * // the momentum buffer and the weight of a SGD step in one pass: rows 0 and 1
 * const both = pointwiseStack([buf, g, w], (b, g, w) => [b.mul(0.9).add(g), w.sub(b.mul(0.9).add(g).mul(lr))]);
 */
export function pointwiseStack(inputs: readonly Tensor[], exprs: (...xs: PointwiseExpr[]) => PointwiseExpr[]): Tensor {
  return dispatch("pointwise", inputs, compile("pointwise", inputs, exprs, true));
}

/**
 * Σ `expr` over every element, in one pass: a 0-d tensor equal to `pointwise(inputs, expr).sum()`
 * (the same summation), without the elementwise result ever being stored. For norms and sums of
 * squares; its gradient flows as pointwise's does.
 * @example
 * const squares = pointwiseSum([g], (g) => g.mul(g)); // ‖g‖² as a 0-d tensor
 */
export function pointwiseSum(inputs: readonly Tensor[], expr: (...xs: PointwiseExpr[]) => PointwiseExpr): Tensor {
  return dispatch("pointwiseSum", inputs, compile("pointwiseSum", inputs, expr));
}

/** The program and constants of `expr` (or, `stacked`, its list of expressions) over `inputs`. */
function compile(op: "pointwise" | "pointwiseSum", inputs: readonly Tensor[], expr: (...xs: PointwiseExpr[]) => PointwiseExpr | PointwiseExpr[],
  stacked = false): { program: string; scalars: number[] } {
  check(inputs.length >= 1 && inputs.length <= POINTWISE_MAX_INPUTS, op, () => `takes 1 to ${POINTWISE_MAX_INPUTS} inputs, got ${inputs.length}`);
  const scalars: number[] = [];
  const constant = (v: number): Node => {
    let k = scalars.findIndex((s) => Object.is(s, v));
    if (k < 0) k = scalars.push(v) - 1;
    return { leaf: `c${k}` };
  };
  const result = expr(...inputs.map((_, i) => new PointwiseExpr({ leaf: `x${i}` }, constant)));
  const name = stacked ? "pointwiseStack" : op;
  const parts = stacked && Array.isArray(result) ? result : [result];
  check(stacked ? Array.isArray(result) && result.length >= 2 : !Array.isArray(result), name,
    () => (stacked ? "the expressions must be a list of two or more" : "the expression must be one value; pointwiseStack takes a list"));
  check(parts.every((e) => e instanceof PointwiseExpr), name, () => "each expression must be a value built from its arguments");
  check(scalars.length <= POINTWISE_MAX_SCALARS, name, () => `uses ${scalars.length} constants; at most ${POINTWISE_MAX_SCALARS}`);
  return { program: parts.map((e) => postfix(trees.get(e)!)).join(";"), scalars };
}
