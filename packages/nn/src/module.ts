// Module: the PyTorch-shaped base of every layer and model, found by walking its properties.
import { noGrad } from "@sam/autograd";
import { check, fmt, keep, tidy, type Tensor } from "@sam/tensor";
import { Parameter } from "./parameter.js";

/** A state dict: parameter and buffer values by their dotted names, in registration order. */
export type StateDict = Record<string, Tensor>;

/** Where a parameter lives: the module that holds it and the property name. */
interface Slot {
  owner: Module;
  key: string;
  name: string;
}

/**
 * The base of every layer and model. Parameters, buffers and submodules are found by walking the
 * module's own properties in the order they were assigned, so names read as in PyTorch
 * (`layer1.0.conv1.weight`). Call {@link Module.forward} to run it.
 * @example
 * class Affine extends Module {
 *   weight = new Parameter(ones([3]));
 *   forward(x: Tensor) { return x.mul(this.weight); }
 * }
 */
export abstract class Module {
  /** Training mode (dropout active, batch statistics) or evaluation mode. */
  training = true;
  /** State-dict names of buffers, by property name. */
  private readonly bufferNames = new Map<string, string>();

  /** Runs the module. */
  abstract forward(x: Tensor): Tensor;

  /**
   * Registers a non-learnable tensor (such as a running mean) under its state-dict name and returns
   * the tensor to assign to a property, kept alive. The module takes `value` over: the tensor it
   * returns holds value's storage and is written in place by `assign`, as PyTorch's buffers are,
   * so a buffer stays in one buffer from step to step (which a replayed GPU step needs) and every
   * reference to it sees its updates.
   */
  protected registerBuffer(name: string, value: Tensor, property = name): Tensor {
    this.bufferNames.set(property, name);
    const fixed = keep(value.view(0, value.shape)); // a viewed storage is written in place
    value.dispose();
    return fixed;
  }

  /** Direct submodules with their names; arrays of modules are named by index. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m: Module, i) => out.push([`${key}.${i}`, m]));
      }
    }
    return out;
  }

  /** This module and every submodule, depth first, with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** Every module in the tree, this one first. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  private slots(): Slot[] {
    const out: Slot[] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, value] of Object.entries(m)) {
        if (value instanceof Parameter) out.push({ owner: m, key, name: prefix ? `${prefix}.${key}` : key });
      }
    }
    return out;
  }

  /** Every parameter with its dotted name: own ones first, then each submodule's. */
  namedParameters(): [string, Parameter][] {
    return this.slots().map((s) => [s.name, (s.owner as unknown as Record<string, Parameter>)[s.key]]);
  }

  /** Every parameter, in {@link Module.namedParameters} order. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every registered buffer with its dotted state-dict name. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [key, name] of m.bufferNames) {
        out.push([prefix ? `${prefix}.${name}` : name, (m as unknown as Record<string, Tensor>)[key]]);
      }
    }
    return out;
  }

  /** Every registered buffer. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Sets training mode on this module and every submodule; returns `this`. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode; returns `this`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Parameters and buffers by name, module by module (each module's parameters, then its buffers),
   * as PyTorch orders them. The tensors are the live ones, not copies.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [prefix, m] of this.namedModules()) {
      const name = (k: string) => (prefix ? `${prefix}.${k}` : k);
      for (const [key, value] of Object.entries(m)) if (value instanceof Parameter) out[name(key)] = value;
      for (const [key, bufferName] of m.bufferNames) out[name(bufferName)] = (m as unknown as Record<string, Tensor>)[key];
    }
    return out;
  }

  /**
   * Copies values into the parameters and buffers by name. Missing, unexpected and mis-shaped keys
   * are errors that name the key, checked before anything is written; with `strict: false` missing
   * and unexpected keys are allowed (shapes must still match). A value of another dtype than its
   * target (a float64 file into a float32 model) is an error unless `cast: true` asks to convert it.
   */
  loadStateDict(dict: StateDict, opts: { strict?: boolean; cast?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    check(!strict || missing.length === 0, "loadStateDict", () => `missing key(s): ${missing.join(", ")}`);
    check(!strict || unexpected.length === 0, "loadStateDict", () => `unexpected key(s): ${unexpected.join(", ")}`);
    for (const [key, target] of Object.entries(own)) {
      const value = dict[key];
      if (value === undefined) continue;
      check(value.shape.length === target.shape.length && value.shape.every((d, i) => d === target.shape[i]), "loadStateDict",
        () => `key ${key}: shape ${fmt(value.shape)} in the state dict, ${fmt(target.shape)} in the model`);
      check(opts.cast === true || value.dtype === target.dtype, "loadStateDict",
        () => `key ${key}: ${value.dtype} in the state dict, ${target.dtype} in the model; pass { cast: true } to convert the values to ${target.dtype}`);
    }
    for (const [key, target] of Object.entries(own)) {
      const value = dict[key];
      if (value !== undefined) tidy(() => noGrad(() => void target.assign(value.dtype === target.dtype ? value : value.cast(target.dtype))));
    }
  }

  /**
   * Runs `fn` with the parameters temporarily replaced by `values` (one per parameter, in
   * {@link Module.parameters} order): a functional call, so the result can be differentiated with
   * respect to `values` themselves, as SAM's exact gradient needs. Values that all carry one more
   * leading axis, [G, …shape], are a set of parameters per group of images: every layer then runs
   * each of G equal groups of the batch with its own (batch norm with each group's statistics),
   * as G calls on the groups would, at once (SAM's m-sharpness).
   */
  withParameters<T>(values: readonly Tensor[], fn: () => T): T {
    const slots = this.slots();
    check(values.length === slots.length, "withParameters", () => `expected ${slots.length} tensors, got ${values.length}`);
    const saved = slots.map((s) => (s.owner as unknown as Record<string, Tensor>)[s.key]);
    const groups = values.length > 0 && values[0].rank === saved[0].rank + 1 ? values[0].shape[0] : null;
    slots.forEach((s, i) => {
      const expected = groups === null ? saved[i].shape : [groups, ...saved[i].shape];
      check(values[i].rank === expected.length && values[i].shape.every((d, j) => d === expected[j]), "withParameters",
        () => `${s.name}: shape ${fmt(values[i].shape)} differs from ${fmt(expected)}${groups === null ? "" : " (a set per group of images)"}`);
    });
    slots.forEach((s, i) => ((s.owner as unknown as Record<string, Tensor>)[s.key] = values[i]));
    const outer = imageGroups;
    imageGroups = groups;
    try {
      return fn();
    } finally {
      imageGroups = outer;
      slots.forEach((s, i) => ((s.owner as unknown as Record<string, Tensor>)[s.key] = saved[i]));
    }
  }
}

/** The groups of images the layers run now (inside withParameters with a set per group), or null. */
let imageGroups: number | null = null;

/**
 * How many groups of images the layers are running with parameters of their own (see
 * {@link Module.withParameters}), or null outside such a call. Layers with parameters split their
 * batch into that many equal groups.
 */
export function currentImageGroups(): number | null {
  return imageGroups;
}
