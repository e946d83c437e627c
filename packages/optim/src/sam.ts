// Sharpness-Aware Minimization (Foret et al., ICLR 2021), with ASAM (Kwon et al., 2021),
// m-sharpness and an exact-gradient option, wrapping any base optimizer.
import { backward, gradients, noGrad } from "@sam/autograd";
import { check, fmt, keep, pointwise, pointwiseSum, POINTWISE_MAX_INPUTS, tidy, where, zerosLike, type PointwiseExpr, type Tensor } from "@sam/tensor";
import type { FlatParameters } from "./flatParameters.js";
import { Optimizer, type Hyper, type OptimizerStateDict, type ParamGroup, type ParamsInput } from "./optimizer.js";

/** SAM's own hyperparameters, stored in every parameter group beside the base optimizer's. */
export type SAMHyper = {
  /** Radius of the neighbourhood (default 0.05). */
  rho: number;
  /** ASAM: scale the perturbation by T = |w| + η (default false). */
  adaptive: boolean;
  /** η of ASAM's T (default 0.01). */
  eta: number;
};

/** Options of {@link SAM} beyond the hyperparameters. */
export interface SAMOptions {
  /**
   * m-sharpness: the batch is split into groups of `m` examples, each with its own perturbation
   * and gradient, and the gradients are averaged. Omit (or give the batch size) for plain SAM.
   */
  m?: number;
  /**
   * Run m-sharpness's groups as one batch, each pass once: the closure is given `groups` and, in
   * `weights`, a [G, …] tensor per parameter (each group's own), runs the model on the whole batch
   * under `model.withParameters(weights, …)` (from `@sam/nn`) and returns each group's loss, [G].
   * The same gradient as the groups one after another (rounded in another order), in two passes.
   */
  groupsAsBatch?: boolean;
  /**
   * Differentiate w ↦ L(w + ε(w)) fully, including the Jacobian of ε (through second-order
   * autograd), instead of the paper's first-order approximation ∇L(w + ε).
   */
  exact?: boolean;
  /**
   * Wraps the second (perturbed) pass, so that it can run without side effects such as batch-norm
   * running statistics: `(run) => withoutRunningStats(model, run)` from `@sam/nn`.
   */
  secondPass?: <T>(run: () => T) => T;
}

/** What a SAM step asks of the closure: the rows of the batch, and parameters to use instead. */
export interface SAMContext {
  /** Whether this is the first pass (at w) of its group; the second runs at w + ε. */
  first: boolean;
  /** Rows [start, end) of the batch to use (m-sharpness), or undefined for the whole batch. */
  rows?: [number, number];
  /**
   * With `groupsAsBatch`: the groups the whole batch is made of. The closure then returns each
   * group's loss, [groups], computed with `weights`.
   */
  groups?: number;
  /**
   * Tensors standing in for the parameters, in the order of the optimizer's `params()` (exact
   * gradient; with `groups`, [groups, …] each), or undefined.
   */
  weights?: readonly Tensor[];
}

/** Computes the loss of (part of) the batch; SAM calls backward itself. */
export type SAMClosure = (ctx: SAMContext) => Tensor;

/** A base optimizer class: how SAM builds the optimizer it wraps. */
export type OptimizerClass<H extends Hyper> = new (params: ParamsInput<H>, opts: never) => Optimizer<H>;

// firstStep's arithmetic, the same as perturbations()' but each tensor's in one pass: T·v is
// v·(|w| + η) for ASAM, v for SAM
const T = (v: PointwiseExpr, w: PointwiseExpr, g: SAMHyper) => (g.adaptive ? v.mul(w.abs().add(g.eta)) : v);
/** Σ(T·g)² over w's elements. */
const squaredScaled = (w: Tensor, grad: Tensor, g: SAMHyper) => pointwiseSum([grad, w], (v, x) => T(v, x, g).mul(T(v, x, g)));
/** w + T²·g·scale. */
const perturbed = (w: Tensor, grad: Tensor, scale: Tensor, g: SAMHyper) => pointwise([w, grad, scale], (x, v, s) => x.add(T(T(v, x, g), x, g).mul(s)));

/**
 * SAM around any base optimizer. For a batch with gradient g at w: ε = ρ·g/‖g‖ (ASAM:
 * ρ·T²g/‖Tg‖ with T = |w| + η), the gradient is taken again at w + ε, w is restored exactly from
 * a saved copy, and the base optimizer steps with that gradient. ρ = 0 reproduces the base
 * optimizer; a zero gradient gives ε = 0, never NaN.
 *
 * Use `step(closure, batchSize)`, or `firstStep()`/`secondStep()` around your own backward passes.
 * @example
 * const sam = new SAM(model.parameters(), SGD, { rho: 0.05, lr: 0.1, momentum: 0.9 },
 *   { secondPass: (run) => withoutRunningStats(model, run) });
 * const loss = sam.step(({ rows }) => crossEntropy(model.forward(x), y));
 */
export class SAM<H extends Hyper> extends Optimizer<H & SAMHyper> {
  /** The wrapped optimizer; it shares this optimizer's parameter groups. */
  readonly base: Optimizer<H>;
  private readonly options: SAMOptions;
  private saved = new Map<Tensor, Tensor>();
  /** The flat buffer's copy of w, when firstStep ran over it. */
  private savedFlat: Tensor | null = null;

  /**
   * Wraps a new `Base` optimizer over `params`; `opts` holds SAM's hyperparameters (rho, adaptive,
   * eta) and the base optimizer's (lr, momentum, …), all stored per group.
   */
  constructor(params: ParamsInput<H & SAMHyper>, Base: OptimizerClass<H>, opts: Partial<SAMHyper> & Partial<H>, options: SAMOptions = {}) {
    const sam: SAMHyper = { rho: opts.rho ?? 0.05, adaptive: opts.adaptive ?? false, eta: opts.eta ?? 0.01 };
    check(sam.rho >= 0 && Number.isFinite(sam.rho), "SAM", () => `rho must be a finite number ≥ 0, got ${sam.rho}`);
    check(sam.eta >= 0 && Number.isFinite(sam.eta), "SAM", () => `eta must be a finite number ≥ 0, got ${sam.eta}`);
    check(options.m === undefined || (Number.isInteger(options.m) && options.m > 0), "SAM", () => `m must be a positive integer, got ${options.m}`);
    const base = new Base(params as ParamsInput<H>, opts as never);
    super(base.paramGroups as unknown as ParamsInput<H & SAMHyper>, { ...base.defaults, ...sam });
    base.paramGroups = this.paramGroups as unknown as ParamGroup<H>[];
    this.base = base;
    this.state = base.state;
    // the parameters moved into this optimizer's layout as it was built; the base steps over it too
    base.flat?.dispose();
    base.flat = this.flat;
    this.options = options;
  }

  /** T·v for ASAM (T = |w| + η), or v itself. */
  private scaled(p: Tensor, v: Tensor, group: ParamGroup<SAMHyper>): Tensor {
    return group.adaptive ? v.mul(p.abs().add(group.eta)) : v;
  }

  /** ρ/(‖Tg‖ + 1e-12) for each group, the norm over all parameters with gradients `grads` (`squares`: one parameter's Σ(Tg)²). */
  private scales(grads: Map<Tensor, Tensor>, squares: (p: Tensor, grad: Tensor, group: ParamGroup<SAMHyper>) => Tensor,
    total: (sums: Tensor[]) => Tensor = (sums) => sums.reduce((a, b) => a.add(b))): Map<ParamGroup<SAMHyper>, Tensor> {
    const groups = this.paramGroups as unknown as ParamGroup<SAMHyper>[];
    return this.scalesOf(total(groups.flatMap((g) => g.params.filter((p) => grads.has(p)).map((p) => squares(p, grads.get(p)!, g)))));
  }

  /** ρ/(‖Tg‖ + 1e-12) for each group, from the squared norm `sum`. */
  private scalesOf(sum: Tensor): Map<ParamGroup<SAMHyper>, Tensor> {
    const groups = this.paramGroups as unknown as ParamGroup<SAMHyper>[];
    // √ has an infinite derivative at 0; taking it only where the sum is positive keeps a zero
    // gradient's ε (and, for the exact gradient, its derivative) at 0 instead of NaN
    const positive = sum.gt(0);
    const norm = where(positive, where(positive, sum, 1).sqrt(), 0);
    return new Map(groups.map((g) => [g, norm.add(1e-12).pow(-1).mul(g.rho)]));
  }

  /** ε for every parameter from gradients `grads`: ρ·T²g / (‖Tg‖ + 1e-12), in ops a gradient can flow through. */
  private perturbations(grads: Map<Tensor, Tensor>): Map<Tensor, Tensor> {
    const scales = this.scales(grads, (p, grad, g) => this.scaled(p, grad, g).square().sum());
    const out = new Map<Tensor, Tensor>();
    for (const [g, scale] of scales) {
      for (const p of g.params) {
        const grad = grads.get(p);
        if (grad) out.set(p, this.scaled(p, this.scaled(p, grad, g), g).mul(scale));
      }
    }
    return out;
  }

  /** w ← w + ε from the current gradients, saving w exactly. Call after a backward pass. */
  firstStep(): void {
    tidy(() => noGrad(() => {
      const grads = new Map(this.params().filter((p) => p.grad !== null).map((p) => [p, p.grad!] as [Tensor, Tensor]));
      check(grads.size > 0, "SAM.firstStep", () => `no parameter has a gradient; run backward first`);
      if (this.flat && grads.size === this.params().length && this.flat.holds()) return this.firstStepFlat(this.flat);
      // the sums added in the same left-to-right order, up to POINTWISE_MAX_INPUTS at a time
      const fold = (sums: Tensor[]): Tensor => {
        let acc = sums[0];
        for (let i = 1; i < sums.length; i += POINTWISE_MAX_INPUTS - 1) {
          const part = [acc, ...sums.slice(i, i + POINTWISE_MAX_INPUTS - 1)];
          acc = pointwise(part, (...xs) => xs.reduce((a, b) => a.add(b)));
        }
        return acc;
      };
      const scales = this.scales(grads, (p, grad, g) => squaredScaled(p, grad, g), fold);
      for (const [g, scale] of scales) {
        for (const p of g.params) {
          const grad = grads.get(p);
          if (!grad) continue;
          this.saved.set(p, keep(p.copy()));
          p.assign(perturbed(p, grad, scale, g));
        }
      }
    }));
  }

  /**
   * firstStep over the flat buffers: each group's Σ(Tg)² in one pass, w saved by one copy, and each
   * group's w + ε in one pass. The same arithmetic per element; the norm's sum runs over the flat
   * buffer (its gaps are zeros), so it is rounded in another order than the per-parameter sums.
   */
  private firstStepFlat(flat: FlatParameters): void {
    const groups = this.paramGroups as unknown as ParamGroup<SAMHyper>[];
    const parts = groups.map((group, g) => ({ group, w: flat.weightsOf(g), grad: flat.gradientsOf(g) }));
    const sums = parts.map(({ group, w, grad }) => squaredScaled(w, grad, group));
    const scales = this.scalesOf(sums.reduce((a, b) => a.add(b)));
    this.savedFlat = keep(flat.allWeights().copy());
    for (const { group, w, grad } of parts) {
      w.assign(perturbed(w, grad, scales.get(group)!, group));
    }
  }

  /** Restores w exactly from the copy firstStep saved (never by subtracting ε). */
  private restore(): void {
    if (this.savedFlat) {
      this.flat!.allWeights().assign(this.savedFlat);
      this.savedFlat.dispose();
      this.savedFlat = null;
    }
    for (const [p, w] of this.saved) {
      p.assign(w);
      w.dispose();
    }
    this.saved.clear();
  }

  /** Restores w, then lets the base optimizer step with the gradient now in `.grad` (taken at w + ε). */
  secondStep(): void {
    check(this.saved.size > 0 || this.savedFlat !== null, "SAM.secondStep", () => `firstStep() has not run`);
    this.restore();
    this.base.step();
  }

  private second<T>(run: () => T): T {
    return this.options.secondPass ? this.options.secondPass(run) : run();
  }

  /**
   * SAM's gradient summed over the groups of the batch, every group in one pass each way: the
   * first pass at a [G, …] stack of w gives each group's gradient g_k, the second runs each group
   * at w + ε_k (ε_k from g_k alone). First-order: Σ_k ∇L_k(w + ε_k); exact: the total derivative.
   */
  private groupedGradient(closure: SAMClosure, groups: number): { loss: Tensor; grads: Tensor[] } {
    this.zeroGrad();
    const params = this.params();
    const exact = this.options.exact ?? false;
    const losses = (ctx: SAMContext) => {
      const l = this.loss(closure, ctx);
      check(l.rank === 1 && l.shape[0] === groups, "SAM.step", () => `with groupsAsBatch the closure must return each group's loss, [${groups}]; got ${fmt(l.shape)}`);
      return l;
    };
    const stack = (p: Tensor) => p.unsqueeze(0).expand([groups, ...p.shape]);
    const secondPass = (shifted: Tensor[]) => {
      const second = this.second(() => losses({ first: false, groups, weights: shifted }));
      return gradients([second.sum()], params).map((t) => keep(t.div(groups)));
    };
    if (exact) {
      // w's stack as a function of w: the second pass differentiates through ε(w)
      return tidy(() => {
        const at = params.map(stack);
        const first = losses({ first: true, groups, weights: at });
        const eps = this.groupPerturbations(at, gradients([first.sum()], at, { createGraph: true }), groups);
        return { loss: first.detach().mean(), grads: secondPass(at.map((w, i) => w.add(eps[i]))) };
      });
    }
    // first-order: each group's w as a leaf of its own; the first pass's activations are freed before the second
    const { loss, eps } = tidy(() => {
      const at = params.map((p) => stack(p).detach().copy().requiresGrad_());
      const first = losses({ first: true, groups, weights: at });
      const g = gradients([first.sum()], at);
      return { loss: first.detach().mean(), eps: noGrad(() => this.groupPerturbations(at, g, groups)) };
    });
    const grads = tidy(() => secondPass(params.map((p, i) => p.unsqueeze(0).add(eps[i]))));
    eps.forEach((t) => t.dispose());
    return { loss, grads };
  }

  /**
   * ε_k = ρ·T²g_k / (‖T g_k‖ + 1e-12) for each group of images k: w and g are [G, …] per parameter,
   * the norm over all of group k's entries (ρ, and ASAM's η, from each parameter's own group).
   */
  private groupPerturbations(w: readonly Tensor[], g: readonly Tensor[], groups: number): Tensor[] {
    const params = this.params();
    const paramGroups = this.paramGroups as unknown as ParamGroup<SAMHyper>[];
    const hyper = params.map((p) => paramGroups.find((pg) => pg.params.includes(p))!);
    const perImageGroup = (t: Tensor) => t.reshape([groups, -1]).sum(1);
    const sum = params.map((_, i) => perImageGroup(this.scaled(w[i], g[i], hyper[i]).square())).reduce((a, b) => a.add(b));
    const scales = this.scalesOf(sum);
    return params.map((p, i) => {
      const scale = scales.get(hyper[i])!.reshape([groups, ...p.shape.map(() => 1)]);
      return this.scaled(w[i], this.scaled(w[i], g[i], hyper[i]), hyper[i]).mul(scale);
    });
  }

  /** Runs the closure, refusing one that ran backward itself (SAM must own the gradients). */
  private loss(closure: SAMClosure, ctx: SAMContext): Tensor {
    const loss = closure(ctx);
    check(this.params().every((p) => p.grad === null), "SAM.step", () => "the closure ran backward itself; "
      + "return the loss without calling backward (SAM runs the backward passes), or call firstStep() and secondStep() around your own");
    return loss;
  }

  /** SAM's gradient for one group of rows, first-order: ∇L(w + ε) with ε from ∇L(w). */
  private firstOrder(closure: SAMClosure, rows?: [number, number]): { loss: Tensor; grads: Tensor[] } {
    this.zeroGrad();
    const loss = tidy(() => {
      const l = this.loss(closure, { first: true, rows });
      backward(l);
      return l.detach();
    });
    this.firstStep();
    this.zeroGrad();
    tidy(() => this.second(() => backward(this.loss(closure, { first: false, rows }))));
    this.restore();
    const grads = this.params().map((p) => p.grad ?? keep(zerosLike(p)));
    for (const p of this.params()) p.grad = null;
    return { loss, grads };
  }

  /** SAM's gradient for one group of rows, exact: the total derivative of w ↦ L(w + ε(w)). */
  private exactGradient(closure: SAMClosure, rows?: [number, number]): { loss: Tensor; grads: Tensor[] } {
    this.zeroGrad();
    const params = this.params();
    return tidy(() => {
      const loss = this.loss(closure, { first: true, rows });
      const g = gradients([loss], params, { createGraph: true });
      const eps = this.perturbations(new Map(params.map((p, i) => [p, g[i]])));
      const weights = params.map((p) => p.add(eps.get(p)!));
      const perturbed = this.second(() => this.loss(closure, { first: false, rows, weights }));
      const grads = gradients([perturbed], params).map((t) => keep(t));
      return { loss: loss.detach(), grads };
    });
  }

  /**
   * One SAM step: runs the closure (which returns the loss of the rows it is given) for the first
   * and second passes, then steps the base optimizer. With m-sharpness, `batchSize` is the number
   * of rows and must be a multiple of m. Returns the loss at w (mean over groups).
   */
  step(closure?: SAMClosure, batchSize?: number): Tensor {
    check(closure !== undefined, "SAM.step", () => `needs a closure that computes the loss; or call firstStep() and secondStep()`);
    const m = this.options.m;
    check(m === undefined || batchSize !== undefined, "SAM.step", () => `m-sharpness (m = ${m}) needs the batch size: call step(closure, batchSize)`);
    check(batchSize === undefined || (Number.isInteger(batchSize) && batchSize > 0), "SAM.step", () => `batchSize must be a positive integer, got ${batchSize}`);
    const n = batchSize ?? m;
    check(m === undefined || n! % m === 0, "SAM.step", () => `m = ${m} must divide the batch size ${n}`);
    const groups = m === undefined || n === m ? [undefined] : Array.from({ length: n! / m }, (_, i) => [i * m, (i + 1) * m] as [number, number]);
    if (this.options.groupsAsBatch && groups.length > 1) return this.stepWith(this.groupedGradient(closure, groups.length));
    const one = (rows?: [number, number]) => (this.options.exact ? this.exactGradient(closure, rows) : this.firstOrder(closure, rows));
    const parts = groups.map(one);
    const params = this.params();
    const flat = this.flat;
    tidy(() => noGrad(() => {
      if (flat && parts.length > 1 && flat.holds()) {
        // the groups' mean over the flat buffer: each element summed in the same order, so the same bits
        let sum = flat.gather(parts[0].grads).copy();
        for (const part of parts.slice(1)) sum = sum.add(flat.gather(part.grads));
        const views = flat.viewsOf(sum.div(parts.length));
        params.forEach((p, i) => (p.grad = keep(views[i])));
        return;
      }
      params.forEach((p, i) => {
        const sum = parts.slice(1).reduce((acc, part) => acc.add(part.grads[i]), parts[0].grads[i]);
        p.grad = keep(parts.length === 1 ? sum : sum.div(parts.length));
      });
    }));
    for (const part of parts) for (const g of part.grads) if (!params.some((p) => p.grad === g)) g.dispose();
    // the loss before the update, which ends the step (a GPU submits it there)
    const loss = parts.length === 1 ? parts[0].loss : tidy(() => parts.slice(1).reduce((a, b) => a.add(b.loss), parts[0].loss).div(parts.length));
    if (parts.length > 1) parts.forEach((p) => p.loss.dispose());
    this.base.step();
    return loss;
  }

  /** Sets the gradients from `part` (already averaged over the groups) and steps the base optimizer; returns its loss. */
  private stepWith(part: { loss: Tensor; grads: Tensor[] }): Tensor {
    this.params().forEach((p, i) => (p.grad = part.grads[i]));
    this.base.step();
    return part.loss;
  }

  /** The base optimizer's snapshot (SAM's hyperparameters are in its groups). */
  override stateDict(): OptimizerStateDict {
    return this.base.stateDict();
  }

  /** Restores a snapshot from {@link SAM.stateDict}. */
  override loadStateDict(dict: OptimizerStateDict): void {
    this.base.loadStateDict(dict);
    this.state = this.base.state;
  }
}
