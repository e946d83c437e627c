"""The PyTorch side of a `pnpm cifar sweep`: each of its runs that torch_cifar.py can train, in PyTorch.

Usage: /usr/bin/python3 torch_sweep.py SWEEP_DIR ARCHIVE [--threads T] [--seeds S,S…]

Reads the runs the sweep lists (SWEEP_DIR/sweep.json, written when the sweep starts) and trains
each in PyTorch with the same settings into SWEEP_DIR/pytorch/<run>/ (metrics.jsonl, checkpoint.pt).
Runs already finished are skipped and an interrupted one continues from its checkpoint, so this can
be started again at any time, also beside the sweep itself. A weight-averaging run starts from its
run without averaging's state at --swa-start where that run kept it (as the sweep's own runs do).
--seeds trains only those seeds' runs, so that two processes can share a sweep, one seed each.
Runs with what torch_cifar.py does not have (Adam, Cutout, label smoothing, other data sets or
models, other momentum, weight decay or schedule) are listed as skipped with the reason. `pnpm
cifar summary --sweep SWEEP_DIR` then puts both sides in one summary (a sweep also does when it
ends).
"""
import argparse
import json
import os
import shutil
import sys

from torch_cifar import parser as run_parser, train

# the trainer's settings torch_cifar.py runs only at these values
FIXED = {"dataset": "cifar10", "momentum": 0.9, "weightDecay": 0.0005, "schedule": "cosine", "labelSmoothing": 0}


def why_not(config):
    """The reason PyTorch cannot train this run here, or None."""
    for key, value in FIXED.items():
        if config.get(key, value) != value:
            return f"{key} {config[key]} (torch_cifar.py has only {value})"
    if config["model"] not in ("cnn", "resnet20"):
        return f"model {config['model']} (torch_cifar.py has cnn and resnet20)"
    if config["optimizer"] not in ("sgd", "sam", "asam"):
        return f"optimizer {config['optimizer']} (torch_cifar.py has sgd, sam and asam)"
    if config["augment"] not in ("none", "basic"):
        return f"augment {config['augment']} (torch_cifar.py has none and basic)"
    return None


def arguments(config, archive, out, threads, branch_at=None):
    """torch_cifar.py's command line for one run of the sweep."""
    args = [archive, "--model", config["model"], "--optimizer", config["optimizer"], "--rho", str(config["rho"]),
            "--epochs", str(config["epochs"]), "--augment", config["augment"], "--label-noise", str(config["labelNoise"]),
            "--seed", str(config["seed"]), "--lr", str(config["lr"]), "--batch-size", str(config["batchSize"]),
            "--mixup", str(config.get("mixup", 0)), "--threads", str(threads), "--out", out]
    for key, flag in (("m", "--m"), ("trainSubset", "--train-subset"), ("testSubset", "--test-subset"), ("swaStart", "--swa-start"), ("swaLr", "--swa-lr")):
        if config.get(key) is not None:
            args += [flag, str(config[key])]
    if branch_at is not None:
        args += ["--branch-at", str(branch_at)]
    return run_parser().parse_args(args)


def without_averaging(config):
    return {k: v for k, v in config.items() if k not in ("swaStart", "swaLr")}


def base_of(cell, cells):
    """The run without averaging that a weight-averaging run trains the same as until --swa-start, or None."""
    if cell["config"].get("swaStart") is None:
        return None
    return next((b for b in cells if b["config"].get("swaStart") is None
                 and without_averaging(b["config"]) == without_averaging(cell["config"])), None)


def finished_epochs(out):
    path = os.path.join(out, "metrics.jsonl")
    return sum(1 for line in open(path) if line.strip()) if os.path.exists(path) else 0


def sweep_runs(sweep, script):
    """The runs SWEEP/sweep.json lists, or an exit that names `script` and what is missing."""
    plan_path = os.path.join(sweep, "sweep.json")
    if not os.path.exists(plan_path):
        sys.exit(f"{script}: no sweep.json in {sweep}; start the sweep with pnpm cifar sweep first")
    runs = json.load(open(plan_path)).get("runs")
    if not runs:
        sys.exit(f"{script}: {plan_path} lists no runs; continue the sweep once with pnpm cifar sweep --resume {sweep}")
    return runs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sweep")
    p.add_argument("archive")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seeds", help="comma-separated seeds whose runs to train; default all")
    a = p.parse_args()
    cells = sweep_runs(a.sweep, "torch_sweep")
    try:
        seeds = a.seeds and {int(s) for s in a.seeds.split(",")}
    except ValueError:
        sys.exit(f"torch_sweep: --seeds expects integers separated by commas, got {a.seeds}")
    if seeds and not seeds & {c["config"]["seed"] for c in cells}:
        sys.exit(f"torch_sweep: --seeds {a.seeds}: the sweep has no run of those seeds")
    for i, cell in enumerate(cells):
        config, name = cell["config"], cell["name"]
        if seeds and config["seed"] not in seeds:
            continue
        reason = why_not(config)
        if reason:
            print(f"skipped {name}: {reason}", flush=True)
            continue
        out = os.path.join(a.sweep, "pytorch", name)
        if finished_epochs(out) >= config["epochs"]:
            continue
        print(f"== {name} ({i + 1} of {len(cells)}) ==", flush=True)
        base = base_of(cell, cells)
        branch = base and os.path.join(a.sweep, "pytorch", base["name"], f"branch-{config['swaStart']}")
        if branch and os.path.exists(branch) and not os.path.exists(os.path.join(out, "checkpoint.pt")):
            os.makedirs(out, exist_ok=True)
            for file in ("metrics.jsonl", "checkpoint.pt"):  # the checkpoint last: it marks the copy complete
                shutil.copy(os.path.join(branch, file), out)
            print(f"{name}: epochs 1–{config['swaStart']} are {base['name']}'s (the same run until averaging starts)", flush=True)
        # a run that a weight-averaging run starts from keeps its state at --swa-start
        branch_at = next((c["config"]["swaStart"] for c in cells if base_of(c, cells) is cell), None)
        train(arguments(config, a.archive, out, a.threads, branch_at))


if __name__ == "__main__":
    main()
