"""The loss Hessian of a sweep's PyTorch runs, as `pnpm cifar hessian` measures @sam's.

Usage: /usr/bin/python3 torch_hessian.py SWEEP_DIR ARCHIVE [--examples N] [--k K] [--iterations M]
       [--probes P] [--threads T] [--only CONFIGURATIONS] [--of-sam]

For each run of SWEEP_DIR/sweep.json whose PyTorch side (SWEEP_DIR/pytorch/<run>/, written by
torch_sweep.py) finished every epoch and has no hessian.json yet: its final model (the averaged one
for weight averaging), the first N images of its training subset with the labels it was trained on
(label noise drawn as it was), normalised by the subset's statistics, no augmentation, batch norm in
evaluation mode, plain mean cross-entropy over all N in batches of the run's size. Hessian-vector
products by double backward (float32, summed in float64); the top K eigenvalues by M Lanczos steps
with full reorthogonalisation (twice a step), the trace by P Rademacher probes; the random vectors
from PyTorch's generator seeded with the run's seed (the same method as @sam/hessian, not the same
draws). Writes pytorch/<run>/hessian.json with the fields of @sam's; `pnpm cifar summary --sweep
SWEEP_DIR` then sets its figures beside @sam's. --only sgd,sam measures only the runs of those
configurations (the sweep's group names, as its summary lists them), the others left for later.
--of-sam measures @sam's final models instead (each finished run's, loaded as torch_evaluate.py
loads them), into pytorch/<run>/sam-model-hessian.json with the model file's SHA-256: PyTorch's
measurement of the very model whose Hessian @sam measured, a check of @sam/hessian on a trained
network.
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

from cifar_data import channel_stats, prepared, train_split
from resnet import ResNet20
from torch_cifar import SmallCNN, save_atomic, with_label_noise
from torch_evaluate import pytorch_model, read_safetensors, sam_model_file
from torch_sweep import finished_epochs, sweep_runs


def hessian_operator(model, batches, examples):
    """v ↦ H·v (float64 vectors) for the mean loss over the batches, each weighted by its size.

    Each batch's gradient is made once with its graph, which every product then differentiates
    again (as @sam's --retain-graphs does): the same products, only their second backward pass each.
    """
    params = [p for p in model.parameters()]
    grads = [torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True) for x, y in batches]

    def apply(v):
        out = torch.zeros_like(v)
        pieces = [piece.view_as(p).float() for piece, p in zip(torch.split(v, [p.numel() for p in params]), params)]
        for g, (_, y) in zip(grads, batches):
            dot = sum((gi * u).sum() for gi, u in zip(g, pieces))
            hv = torch.autograd.grad(dot, params, retain_graph=True)
            out += torch.cat([h.reshape(-1) for h in hv]).double() * (len(y) / examples)
        return out

    return apply, sum(p.numel() for p in params)


def top_eigenvalues(apply, n, k, steps, generator):
    """The k largest Ritz values of `steps` Lanczos steps from a Gaussian start, with their residuals."""
    basis = []
    v = torch.randn(n, dtype=torch.float64, generator=generator)
    v /= v.norm()
    alphas, betas = [], []
    for j in range(steps):
        basis.append(v)
        w = apply(v)
        alpha = torch.dot(w, v).item()
        alphas.append(alpha)
        for _ in range(2):  # full reorthogonalisation, twice
            for b in basis:
                w -= torch.dot(w, b) * b
        beta = w.norm().item()
        betas.append(beta)
        if j < steps - 1 and beta < 1e-12 * max(1.0, abs(alpha)):
            raise SystemExit("torch_hessian: the Krylov space closed early; use fewer --iterations")
        v = w / beta
    t = torch.diag(torch.tensor(alphas, dtype=torch.float64))
    for j in range(steps - 1):
        t[j, j + 1] = t[j + 1, j] = betas[j]
    values, vectors = torch.linalg.eigh(t)
    order = torch.argsort(values, descending=True)[:k]
    return values[order].tolist(), [abs(betas[-1] * vectors[-1, i].item()) for i in order]


def trace(apply, n, probes, generator):
    """Hutchinson's estimate over Rademacher probes, and its standard error."""
    samples = []
    for _ in range(probes):
        z = torch.randint(0, 2, (n,), generator=generator, dtype=torch.float64) * 2 - 1
        samples.append(torch.dot(z, apply(z)).item())
    mean = sum(samples) / probes
    sd = math.sqrt(sum((s - mean) ** 2 for s in samples) / (probes - 1))
    return mean, sd / math.sqrt(probes)


def final_model(config, saved):
    """The run's final model, in evaluation mode: the averaged weights where it averaged them."""
    model = SmallCNN() if config["model"] == "cnn" else ResNet20()
    if config.get("swaStart") is not None:
        state = {k[len("module."):]: v for k, v in saved["average"].items() if k.startswith("module.")}
        model.load_state_dict(state)
    else:
        model.load_state_dict(saved["model"])
    return model.eval()


def measure(config, model, archive, a):
    labels, images = train_split(archive)
    if config["labelNoise"] > 0:
        labels = with_label_noise(labels, config["labelNoise"], config["seed"])
    n = config.get("trainSubset") or len(labels)
    if a.examples > n:
        raise SystemExit(f"torch_hessian: --examples {a.examples} is more than the run's {n} training images")
    mean, std = channel_stats(images[:n])
    size = config["batchSize"]
    batches = [(prepared(images[at:min(at + size, a.examples)], mean, std, False), labels[at:min(at + size, a.examples)])
               for at in range(0, a.examples, size)]
    apply, dimension = hessian_operator(model, batches, a.examples)
    generator = torch.Generator().manual_seed(config["seed"])
    started = time.perf_counter()
    values, residuals = top_eigenvalues(apply, dimension, a.k, a.iterations, generator)
    estimate, std_err = trace(apply, dimension, a.probes, generator)
    return {"examples": a.examples, "k": a.k, "iterations": a.iterations, "lambdaMax": values[0], "eigenvalues": values,
            "residuals": residuals, "ratio": values[0] / values[-1], "trace": estimate, "traceStdErr": std_err,
            "traceProbes": a.probes, "seconds": time.perf_counter() - started}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sweep")
    p.add_argument("archive")
    p.add_argument("--examples", type=int, default=1000)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--probes", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", help="comma-separated configurations (the sweep's group names) to measure; default all")
    p.add_argument("--of-sam", action="store_true", help="measure @sam's final models instead of PyTorch's")
    a = p.parse_args()
    if a.k < 1 or a.iterations < a.k or a.probes < 2 or a.examples < 1:
        sys.exit("torch_hessian: needs --k ≥ 1, --iterations ≥ --k, --probes ≥ 2 and --examples ≥ 1")
    torch.set_num_threads(a.threads)
    cells = sweep_runs(a.sweep, "torch_hessian")
    only = a.only and a.only.split(",")
    unknown = only and sorted(set(only) - {c["group"] for c in cells})
    if unknown:
        sys.exit(f"torch_hessian: --only {a.only}: no configuration {', '.join(unknown)} in the sweep "
                 f"(it has {', '.join(dict.fromkeys(c['group'] for c in cells))})")
    for cell in cells:
        config, name = cell["config"], cell["name"]
        if only and cell["group"] not in only:
            continue
        run_dir = os.path.join(a.sweep, name) if a.of_sam else os.path.join(a.sweep, "pytorch", name)
        out = os.path.join(a.sweep, "pytorch", name, "sam-model-hessian.json" if a.of_sam else "hessian.json")
        if os.path.exists(out) or finished_epochs(run_dir) < config["epochs"]:
            continue
        print(f"== {name}{' (@sam’s model)' if a.of_sam else ''} ==", flush=True)
        if a.of_sam:
            path = sam_model_file(config, run_dir)
            model, extra = pytorch_model(config, read_safetensors(path)), {"model": os.path.relpath(path, run_dir), "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}
        else:
            model, extra = final_model(config, torch.load(os.path.join(run_dir, "checkpoint.pt"))), {}
        summary = {**measure(config, model, a.archive, a), **extra}
        os.makedirs(os.path.dirname(out), exist_ok=True)
        save_atomic(lambda path: open(path, "w").write(json.dumps(summary) + "\n"), out)
        print(f"λ1…λ{a.k} {', '.join(f'{v:.4g}' for v in summary['eigenvalues'])}  λmax/λ{a.k} {summary['ratio']:.4g}  "
              f"trace {summary['trace']:.4g} ± {summary['traceStdErr']:.2g}  in {summary['seconds']:.0f} s → {out}", flush=True)


if __name__ == "__main__":
    main()
