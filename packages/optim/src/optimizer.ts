// Optimizer: the PyTorch-shaped base with parameter groups, per-parameter state and state dicts.
import { noGrad } from "@sam/autograd";
import { check, keep, tidy, type Tensor } from "@sam/tensor";

/** Hyperparameters (numbers and flags) by name, per parameter group. */
export type Hyper = Record<string, unknown>;

/** The tensors of a parameter group. */
export type GroupParams = {
  /** The group's parameters. */
  params: Tensor[];
};

/** A parameter group: its tensors and its own values of the hyperparameters. */
export type ParamGroup<H extends Hyper> = H & GroupParams;

/** A group as given to a constructor: tensors and the hyperparameters it overrides. */
export type GroupSpec = {
  /** The group's parameters. */
  params: readonly Tensor[];
};

/** Parameters to optimise: a flat list (one group), or groups with some hyperparameters overridden. */
export type ParamsInput<H extends Hyper> = readonly Tensor[] | readonly (Partial<H> & GroupSpec)[];

/** Per-parameter optimizer state: tensors (moments) and numbers (step counts). */
export type ParamState = Record<string, Tensor | number>;

/** A serialisable snapshot: state by parameter index, groups with parameter indices. */
export interface OptimizerStateDict {
  /** State of each parameter that has any, by its index over all groups. */
  state: Record<number, ParamState>;
  /** Each group's hyperparameters and the indices of its parameters. */
  paramGroups: (Hyper & GroupIndices)[];
}

/** A serialised group's parameters, as indices over all groups. */
export type GroupIndices = {
  /** Indices of the group's parameters. */
  params: number[];
};

/**
 * The base of every optimizer: `paramGroups` with per-group hyperparameters, per-parameter
 * `state`, `zeroGrad()`, `step()` and state dicts, shaped like `torch.optim.Optimizer` so that a
 * scheduler or SAM can wrap any optimizer. Subclasses write one update rule.
 */
export abstract class Optimizer<H extends Hyper = Hyper> {
  /** The parameter groups; schedulers change their `lr`. */
  paramGroups: ParamGroup<H>[];
  /** Per-parameter state, created on the first step. */
  state = new Map<Tensor, ParamState>();

  /** Builds the groups from `params`, each taking `defaults` for what it does not set. */
  constructor(
    params: ParamsInput<H>,
    /** The hyperparameters a group gets unless it sets its own. */
    readonly defaults: H,
  ) {
    const list = params as readonly (Tensor | { params: readonly Tensor[] })[];
    check(list.length > 0, this.constructor.name, () => `got an empty parameter list`);
    const groups = "params" in list[0] ? (list as { params: readonly Tensor[] }[]) : [{ params: list as Tensor[] }];
    this.paramGroups = groups.map((g) => ({ ...defaults, ...g, params: [...g.params] }) as ParamGroup<H>);
    const seen = new Set<Tensor>();
    for (const p of this.paramGroups.flatMap((g) => g.params)) {
      check(p.requiresGrad, this.constructor.name, () => `a parameter does not require a gradient`);
      check(!seen.has(p), this.constructor.name, () => `a parameter appears in more than one group`);
      seen.add(p);
    }
  }

  /** Every parameter, group by group. */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Drops every parameter's gradient (PyTorch's `set_to_none`). */
  zeroGrad(): void {
    for (const p of this.params()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** One update of every parameter that has a gradient. */
  abstract step(): unknown;

  /**
   * Calls `update` for every parameter with a gradient, inside one scope with recording off: the
   * loop every elementwise optimizer's `step` is made of. `update` writes with `p.assign(…)`.
   */
  protected updateEach(update: (p: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState) => void): void {
    tidy(() => noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          if (p.grad === null) continue;
          let state = this.state.get(p);
          if (!state) this.state.set(p, (state = {}));
          update(p, p.grad, group, state);
        }
      }
    }));
  }

  /**
   * Replaces a state entry with its own handle on `value` (so that freeing a gradient it may alias
   * cannot free the state), and frees the old entry.
   */
  protected setState(state: ParamState, key: string, value: Tensor): Tensor {
    const old = state[key];
    const own = keep(value.detach());
    state[key] = own;
    if (typeof old === "object") old.dispose();
    return own;
  }

  /** A snapshot of the state and hyperparameters, with parameters named by index. */
  stateDict(): OptimizerStateDict {
    const index = new Map(this.params().map((p, i) => [p, i]));
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) state[index.get(p)!] = { ...s };
    const paramGroups = this.paramGroups.map(({ params, ...hyper }) => ({ ...(hyper as Hyper), params: params.map((p) => index.get(p)!) }) as Hyper & GroupIndices);
    return { state, paramGroups };
  }

  /** Restores a snapshot taken from an optimizer over parameters of the same shapes, in the same groups. */
  loadStateDict(dict: OptimizerStateDict): void {
    const name = `${this.constructor.name}.loadStateDict`;
    check(dict.paramGroups.length === this.paramGroups.length, name,
      () => `the snapshot has ${dict.paramGroups.length} parameter groups, this optimizer ${this.paramGroups.length}`);
    dict.paramGroups.forEach((g, i) => check(g.params.length === this.paramGroups[i].params.length, name,
      () => `group ${i} has ${g.params.length} parameters in the snapshot, ${this.paramGroups[i].params.length} here`));
    const params = this.params();
    for (const [i, s] of Object.entries(dict.state)) {
      const p = params[Number(i)];
      check(p !== undefined, name, () => `state for parameter ${i}, which does not exist`);
      for (const [k, v] of Object.entries(s)) {
        if (typeof v === "object") check(v.shape.join() === p.shape.join(), name, () => `state ${k} of parameter ${i} has shape [${v.shape}], the parameter [${p.shape}]`);
      }
    }
    for (const s of this.state.values()) for (const v of Object.values(s)) if (typeof v === "object") v.dispose();
    this.state.clear();
    for (const [i, s] of Object.entries(dict.state)) {
      const copy: ParamState = {};
      for (const [k, v] of Object.entries(s)) copy[k] = typeof v === "object" ? keep(v.detach()) : v;
      this.state.set(params[Number(i)], copy);
    }
    dict.paramGroups.forEach(({ params: _, ...hyper }, i) => Object.assign(this.paramGroups[i], hyper));
  }
}
