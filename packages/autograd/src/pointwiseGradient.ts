// The gradient of a `pointwise` expression, itself one `pointwise` pass: the program is
// differentiated symbolically, so a fused chain stays fused in backward (and in backward's own
// backward, for higher-order gradients).
import { dispatch, parsePointwise, pointwiseParts, POINTWISE_MAX_INPUTS, type OpParams, type Tensor } from "@sam/tensor";

/** An expression tree: an input, a constant (an index into the program's constants), or an operator. */
type Expr =
  | { kind: "input"; index: number }
  | { kind: "scalar"; index: number }
  | { kind: "unary"; op: string; a: Expr }
  | { kind: "binary"; op: string; a: Expr; b: Expr };

function tree(program: string, inputs: number, scalars: number): Expr {
  const stack: Expr[] = [];
  for (const t of parsePointwise(program, inputs, scalars)) {
    if (t.kind === "input" || t.kind === "scalar") stack.push(t);
    else if (t.kind === "unary") stack.push({ kind: "unary", op: t.op, a: stack.pop()! });
    else {
      const b = stack.pop()!;
      stack.push({ kind: "binary", op: t.op, a: stack.pop()!, b });
    }
  }
  return stack[0];
}

/** Builds derivative trees over the program's constants, adding the few it needs, and folding 0 and 1 away. */
class Differentiator {
  readonly scalars: number[];
  private readonly zero: Expr;
  private readonly one: Expr;

  constructor(scalars: readonly number[]) {
    this.scalars = [...scalars];
    this.zero = this.constant(0);
    this.one = this.constant(1);
  }

  constant(v: number): Expr {
    let index = this.scalars.findIndex((s) => Object.is(s, v));
    if (index < 0) index = this.scalars.push(v) - 1;
    return { kind: "scalar", index };
  }

  isZero = (e: Expr) => e === this.zero;

  add(a: Expr, b: Expr): Expr {
    return this.isZero(a) ? b : this.isZero(b) ? a : { kind: "binary", op: "add", a, b };
  }

  sub(a: Expr, b: Expr): Expr {
    return this.isZero(b) ? a : this.isZero(a) ? this.neg(b) : { kind: "binary", op: "sub", a, b };
  }

  mul(a: Expr, b: Expr): Expr {
    if (this.isZero(a) || this.isZero(b)) return this.zero;
    return a === this.one ? b : b === this.one ? a : { kind: "binary", op: "mul", a, b };
  }

  div(a: Expr, b: Expr): Expr {
    return this.isZero(a) ? this.zero : { kind: "binary", op: "div", a, b };
  }

  neg(a: Expr): Expr {
    return this.isZero(a) ? this.zero : { kind: "unary", op: "neg", a };
  }

  /** 1 where a > b, ½ where a = b, 0 where a < b: how max and min share their gradient, as the tensor ops do. */
  private winsOver(a: Expr, b: Expr): Expr {
    const sign: Expr = { kind: "unary", op: "sign", a: { kind: "binary", op: "sub", a, b } };
    return { kind: "binary", op: "mul", a: { kind: "binary", op: "add", a: sign, b: this.one }, b: this.constant(0.5) };
  }

  /** ∂e/∂x_k as a tree. */
  derivative(e: Expr, k: number): Expr {
    switch (e.kind) {
      case "input": return e.index === k ? this.one : this.zero;
      case "scalar": return this.zero;
      case "unary": {
        const da = this.derivative(e.a, k);
        if (this.isZero(da)) return this.zero;
        switch (e.op) {
          case "neg": return this.neg(da);
          case "sqrt": return this.div(da, this.mul(this.constant(2), e)); // d√a = da / (2√a)
          case "abs": return this.mul(da, { kind: "unary", op: "sign", a: e.a });
          default: return this.zero; // sign: piecewise constant
        }
      }
      case "binary": {
        const [da, db] = [this.derivative(e.a, k), this.derivative(e.b, k)];
        switch (e.op) {
          case "add": return this.add(da, db);
          case "sub": return this.sub(da, db);
          case "mul": return this.add(this.mul(da, e.b), this.mul(e.a, db));
          // d(a/b) = da/b − (a/b)·db/b
          case "div": return this.sub(this.div(da, e.b), this.div(this.mul(e, db), e.b));
          case "max": {
            const s = this.winsOver(e.a, e.b);
            return this.add(this.mul(da, s), this.mul(db, this.sub(this.one, s)));
          }
          default: { // min
            const s = this.winsOver(e.b, e.a);
            return this.add(this.mul(da, s), this.mul(db, this.sub(this.one, s)));
          }
        }
      }
    }
  }
}

/** The inputs a tree reads. */
function inputsOf(e: Expr, into = new Set<number>()): Set<number> {
  if (e.kind === "input") into.add(e.index);
  else if (e.kind === "unary") inputsOf(e.a, into);
  else if (e.kind === "binary") inputsOf(e.b, inputsOf(e.a, into));
  return into;
}

/** The postfix program of a tree, with inputs renumbered by `slot`. */
function postfix(e: Expr, slot: Map<number, number>): string {
  switch (e.kind) {
    case "input": return `x${slot.get(e.index)}`;
    case "scalar": return `c${e.index}`;
    case "unary": return `${postfix(e.a, slot)} ${e.op}`;
    case "binary": return `${postfix(e.a, slot)} ${postfix(e.b, slot)} ${e.op}`;
  }
}

/**
 * g·∂y/∂x_i for y = pointwise(inputs, program): one pointwise pass over g and the inputs the
 * derivative reads (two passes when they would be more than a kernel binds). For a stacked program
 * (rows y_j), Σ_j g_j·∂y_j/∂x_i, in one pass where the rows' gradients and the inputs fit a kernel,
 * else term by term. Null where y does not depend on input i.
 */
export function pointwiseVjp(g: Tensor, inputs: readonly Tensor[], { program, scalars }: OpParams["pointwise"], i: number): Tensor | null {
  const d = new Differentiator(scalars);
  const parts = pointwiseParts(program);
  const terms = parts.map((part, j) => ({ j, derivative: d.derivative(tree(part, inputs.length, scalars.length), i) }))
    .filter((t) => !d.isZero(t.derivative));
  if (terms.length === 0) return null;
  const rows = parts.length === 1 ? [g] : terms.map(({ j }) => g.slice([[j, j + 1]]).reshape(g.shape.slice(1)));
  const read = [...new Set(terms.flatMap((t) => [...inputsOf(t.derivative)]))];
  if (read.length + rows.length <= POINTWISE_MAX_INPUTS) {
    const slot = new Map(read.map((k, j) => [k, j + rows.length]));
    const program = terms.map((t, r) => `x${r} ${postfix(t.derivative, slot)} mul`).reduce((sum, term) => `${sum} ${term} add`);
    return dispatch("pointwise", [...rows, ...read.map((k) => inputs[k])], { program, scalars: d.scalars });
  }
  // term by term: g_j·∂y_j/∂x_i in one pass where it fits a kernel, else the derivative's pass times g_j
  return terms.map(({ derivative }, r) => {
    const own = [...inputsOf(derivative)];
    if (own.length + 1 <= POINTWISE_MAX_INPUTS) {
      const slot = new Map(own.map((k, j) => [k, j + 1]));
      return dispatch("pointwise", [rows[r], ...own.map((k) => inputs[k])], { program: `x0 ${postfix(derivative, slot)} mul`, scalars: d.scalars });
    }
    const slot = new Map(own.map((k, j) => [k, j]));
    return rows[r].mul(dispatch("pointwise", own.map((k) => inputs[k]), { program: postfix(derivative, slot), scalars: d.scalars }));
  }).reduce((sum, term) => sum.add(term));
}
