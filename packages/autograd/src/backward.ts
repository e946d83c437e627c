// Reverse-mode accumulation over the tape: gradients() for chosen tensors, backward() into leaves.
import { check, fmt, keep, onesLike, sameShape, sumTo, zerosLike, type OpName, type Tensor } from "@sam/tensor";
import { vjps, type Vjp } from "./rules.js";
import { enableGrad, noGrad, nodeOf, type Node, type PrimitiveNode } from "./tape.js";

/** Options of {@link gradients} and {@link backward}. */
export interface BackwardOptions {
  /** Record the backward pass itself, so that the gradients can be differentiated again. */
  createGraph?: boolean;
}

/** Nodes reachable from `roots`, each after every node that consumes its output. */
function reverseTopological(roots: readonly Tensor[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: [Node, number][] = [];
  const visit = (t: Tensor) => {
    const n = nodeOf(t);
    if (n && !seen.has(n)) {
      seen.add(n);
      stack.push([n, 0]);
    }
  };
  roots.forEach(visit);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [n, i] = top;
    if (i < n.inputs.length) {
      top[1]++;
      if (n.inputs[i].requiresGrad) visit(n.inputs[i]);
    } else {
      stack.pop();
      order.push(n);
    }
  }
  return order.reverse();
}

/**
 * The gradients of `roots` (weighted by `rootGrads`, ones by default) with respect to `wanted`,
 * as a map; leaves not asked for are left untouched. Intermediate gradients are freed as soon as
 * they are used, unless the graph is being recorded.
 */
function accumulate(
  roots: readonly Tensor[], rootGrads: readonly (Tensor | undefined)[], wanted: ReadonlySet<Tensor> | null, createGraph: boolean,
): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>();
  const free = (t: Tensor) => {
    if (!createGraph) t.dispose();
  };
  const add = (t: Tensor, g: Tensor) => {
    const prev = grads.get(t);
    if (!prev) return grads.set(t, g);
    grads.set(t, prev.add(g));
    free(prev);
    free(g);
  };
  roots.forEach((r, i) => {
    const seed = rootGrads[i];
    check(!seed || sameShape(seed.shape, r.shape), "backward", () => `gradient ${fmt(seed!.shape)} does not match output ${fmt(r.shape)}`);
    add(r, seed ? seed.reshape(r.shape) : onesLike(r));
  });
  for (const node of reverseTopological(roots)) {
    const g = grads.get(node.output);
    if (!g) continue;
    const keepHere = wanted?.has(node.output) ?? false;
    if (!keepHere) grads.delete(node.output);
    const name = node.op === "custom" ? node.name : node.op;
    node.inputs.forEach((input) => {
      if (input.requiresGrad) check(!input.disposed, "backward", () => `an input of ${name} was disposed before backward; keep it or run backward inside the same tidy`);
    });
    const custom = node.op === "custom" ? node.backward(g) : null;
    check(!custom || custom.length === node.inputs.length, "backward",
      () => `${name}: its gradient function returned ${custom!.length} gradients for ${node.inputs.length} inputs`);
    node.inputs.forEach((input, i) => {
      if (!input.requiresGrad) {
        const dropped = custom?.[i]; // a gradient the function gave for an input that wants none
        if (dropped && dropped !== g && !createGraph) dropped.dispose();
        return;
      }
      let gi = custom ? custom[i] : (vjps[node.op as OpName] as Vjp<OpName>)(g, node.inputs, node.output, (node as PrimitiveNode).params, i);
      if (gi === null) return;
      gi = sumTo(gi, input.shape);
      if (gi === g) gi = g.reshape(g.shape); // its own handle, so freeing g cannot free it
      add(input, gi);
    });
    if (!keepHere) free(g);
  }
  return grads;
}

/**
 * The gradients of `outputs` with respect to `inputs` (which may be leaves or intermediates),
 * without touching any `.grad`. A missing gradient (no path) is a tensor of zeros.
 * @example
 * const [dx] = gradients([loss], [x]);
 */
export function gradients(
  outputs: readonly Tensor[], inputs: readonly Tensor[], opts: BackwardOptions & { gradOutputs?: readonly (Tensor | undefined)[] } = {},
): Tensor[] {
  for (const t of inputs) check(t.requiresGrad, "gradients", () => `an input does not require a gradient; call requiresGrad_() on it`);
  const createGraph = opts.createGraph ?? false;
  const wanted = new Set(inputs);
  const run = () => accumulate(outputs, opts.gradOutputs ?? [], wanted, createGraph);
  const grads = createGraph ? enableGrad(run) : noGrad(run);
  const result = inputs.map((t) => grads.get(t) ?? zerosLike(t));
  for (const [t, g] of grads) if (!wanted.has(t) && !createGraph) g.dispose();
  return result;
}

/**
 * Computes the gradient of `loss` (a scalar unless `gradient` is given) and adds it into the
 * `.grad` of every leaf that requires one. Leaf gradients outlive tidy(); intermediates are freed.
 * @example
 * const loss = tidy(() => { const l = model(x).sub(y).square().mean(); backward(l); return l; });
 * console.log(w.grad);
 */
export function backward(loss: Tensor, opts: BackwardOptions & { gradient?: Tensor } = {}): void {
  check(loss.requiresGrad, "backward", () => `the tensor does not require a gradient: nothing that produced it was marked requiresGrad`);
  check(opts.gradient !== undefined || loss.size === 1, "backward", () => `needs a scalar, or a gradient of the output's shape; got ${fmt(loss.shape)}`);
  const createGraph = opts.createGraph ?? false;
  const run = () => accumulate([loss], [opts.gradient], null, createGraph);
  const grads = createGraph ? enableGrad(run) : noGrad(run);
  for (const [t, g] of grads) {
    if (nodeOf(t)) continue;
    if (t.grad === null) {
      t.grad = keep(g);
    } else {
      const old = t.grad;
      t.grad = keep(createGraph ? enableGrad(() => old.add(g)) : noGrad(() => old.add(g)));
      old.dispose();
      if (!createGraph) g.dispose();
    }
  }
}
