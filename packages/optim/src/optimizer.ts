// Optimizer: the PyTorch-shaped base with parameter groups, per-parameter state and state dicts.
import { noGrad } from "@sam/autograd";
import { check, keep, tidy, type Tensor } from "@sam/tensor";
import { FlatParameters } from "./flatParameters.js";

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
    this.flat = FlatParameters.create(this.paramGroups.map((g) => g.params));
  }

  /**
   * The parameters as views of one flat buffer, so a step is a few passes over it: set up by the
   * constructor unless the parameters differ in dtype or backend (then each parameter is updated
   * on its own, with the same results, as it is where a later optimizer moved them into its own).
   */
  flat: FlatParameters | null;

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
   * loop every elementwise optimizer's `step` is made of. `update` writes with `p.assign(…)`. The
   * training step ends here, which the backend is told (a GPU submits the step's work).
   */
  protected updateEach(update: (p: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState) => void): void {
    tidy(() => noGrad(() => {
      this.paramGroups.forEach((group, g) => {
        if (this.updateFlat(group, g, update)) return;
        for (const p of group.params) {
          if (p.grad === null) continue;
          let state = this.state.get(p);
          if (!state) this.state.set(p, (state = {}));
          update(p, p.grad, group, state);
        }
      });
    }));
    this.paramGroups.find((group) => group.params.length > 0)?.params[0].backend.endStep?.();
  }

  /**
   * Group `g`'s update as one call of `update` on its flat buffers, where every parameter has a
   * gradient and the same counters (an update is elementwise, so each element comes out as the
   * per-parameter update gives it); false where that does not hold. Each parameter's state entries
   * are views of the flat state buffers, so `stateDict` and a per-parameter step see the same values.
   */
  private updateFlat(group: ParamGroup<H>, g: number, update: (p: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState) => void): boolean {
    const flat = this.flat;
    if (!flat || group.params.length === 0 || !group.params.every((p) => p.grad !== null) || !flat.holds()) return false;
    const states = group.params.map((p) => this.state.get(p) ?? {});
    const keys = Object.keys(states[0]);
    const alike = (s: ParamState) => Object.keys(s).length === keys.length
      && keys.every((k) => typeof s[k] === typeof states[0][k] && (typeof s[k] === "object" || s[k] === states[0][k]));
    if (!states.every(alike)) return false;
    const first = flat.firstOf(g);
    const entries: ParamState = {};
    for (const k of keys) {
      if (typeof states[0][k] === "number") {
        entries[k] = states[0][k];
        continue;
      }
      const views = flat.state(k);
      states.forEach((s, j) => {
        const view = views.perParam[first + j];
        const entry = s[k] as Tensor;
        if (entry.storage === view.storage) return;
        view.assign(entry); // a loaded snapshot, or a step on its own: moved into the flat buffer
        entry.dispose();
        s[k] = keep(view.detach());
      });
      entries[k] = views.perGroup[g];
    }
    update(flat.weightsOf(g), flat.gradientsOf(g), group, entries);
    for (const [k, v] of Object.entries(entries)) {
      if (typeof v === "number") {
        for (const s of states) s[k] = v;
        continue;
      }
      const views = flat.state(k);
      if (v.storage === views.perGroup[g].storage) continue;
      // a new entry (the first step): into the flat buffer, and each parameter's view of it into its state
      views.perGroup[g].assign(v);
      v.dispose();
      states.forEach((s, j) => (s[k] = keep(views.perParam[first + j].detach())));
    }
    group.params.forEach((p, j) => this.state.set(p, states[j]));
    return true;
  }

  /**
   * Replaces a state entry with its own handle on `value` (so that freeing a gradient it may alias
   * cannot free the state), and frees the old entry; an entry that views a flat buffer has `value`
   * written into it instead.
   */
  protected setState(state: ParamState, key: string, value: Tensor): Tensor {
    const old = state[key];
    if (typeof old === "object" && old.storage.pinned) return old.assign(value);
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
    // copies first: the snapshot may be this optimizer's own, viewing the buffers the next step writes
    const loaded = Object.entries(dict.state).map(([i, s]): [Tensor, ParamState] => [params[Number(i)],
      Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === "object" ? keep(v.copy()) : v]))]);
    for (const s of this.state.values()) for (const v of Object.values(s)) if (typeof v === "object") v.dispose();
    this.state = new Map(loaded);
    dict.paramGroups.forEach(({ params: _, ...hyper }, i) => Object.assign(this.paramGroups[i], hyper));
  }
}
