"""A run of `pnpm cifar train` in PyTorch, on the same data, for the reproduction's side by side.

Usage: /usr/bin/python3 torch_cifar.py ARCHIVE [--model cnn|resnet20] [--optimizer sgd|sam|asam] [--rho R]
       [--m M] [--epochs E] [--train-subset N] [--test-subset N] [--augment none|basic]
       [--label-noise F] [--swa-start N] [--swa-lr LR] [--mixup ALPHA]
       [--seed S] [--lr LR] [--batch-size B] [--threads T] [--out DIR] [--branch-at N]

Same as the trainer: the CIFAR-10 binary archive; label noise drawn with @sam's own generator
(xoshiro128**, seeded as @sam/tensor's Generator), so exactly the same labels are corrupted the same
way; then the first N training images; normalisation by the subset's channel statistics; batches
in a shuffled order with random crop (padding 4) and flip for `basic`; SGD with momentum 0.9 and
weight decay 5e-4 on a per-epoch cosine; SAM as the paper defines it (ε = ρ·g/‖g‖, the second
pass with batch-norm statistics left alone, the base step with the perturbed gradient; with m,
each group of m rows perturbed by its own gradient and the groups' perturbed gradients averaged;
ASAM with ε = ρ·T²g/‖Tg‖, T = |w| + 0.01, over every parameter). Weight averaging as the trainer's
--swa-start: the cosine schedule until epoch N, then annealed to --swa-lr over 5 epochs (cosine) and
held; the weights averaged after every later epoch, and at the end batch norm's statistics
recomputed over the training images in order (a plain mean over the batches) and the averaged model
tested (swaTestLoss, swaTestAcc, swaEpochs on the last line). Mixup α: each batch mixed with a
shuffled copy by λ ~ Beta(α, α), the loss λ·CE(y) + (1 − λ)·CE(y[π]), the accuracy counted against
the heavier labels.
The initialisation and the shuffles use PyTorch's generator seeded with S: the same distributions,
not the same draws. Prints one JSON line per epoch, as metrics.jsonl has them; with --out, also
appends it to DIR/metrics.jsonl and saves DIR/checkpoint.pt after every epoch, and a run started
again with the same --out continues from its checkpoint (the same draws as an uninterrupted run).
--branch-at N also keeps the run's state after epoch N in DIR/branch-N/: a weight-averaging run of
the same settings with --swa-start N trains the same epochs until then, so torch_sweep.py starts
it from there (its checkpoint accepted as this run's own, the schedule continued from epoch N).
"""
import argparse
import json
import math
import os
import shutil
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, update_bn

from cifar_data import channel_stats, prepared as prepare, test_split, train_split
from resnet import ResNet20

MASK = 0xFFFFFFFF


class Xoshiro:
    """@sam/tensor's Generator: splitmix32-style seeding, xoshiro128** output."""

    def __init__(self, seed):
        x, s = seed & MASK, []
        for _ in range(4):
            x = (x + 0x9E3779B9) & MASK
            z = x
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & MASK
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & MASK
            s.append((z ^ (z >> 16)) & MASK)
        self.s = s if any(s) else [1, 0, 0, 0]

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (32 - k))) & MASK

    def next_uint32(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 9) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 11)
        return result

    def next_float64(self):
        hi = self.next_uint32() >> 5
        lo = self.next_uint32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992


def with_label_noise(labels, fraction, seed, classes=10):
    """@sam/data's withLabelNoise, draw for draw."""
    g, n = Xoshiro(seed), len(labels)
    order, labels = list(range(n)), labels.clone()
    for i in range(int(fraction * n)):
        j = i + int(g.next_float64() * (n - i))
        order[i], order[j] = order[j], order[i]
        labels[order[i]] = int(g.next_float64() * classes)
    return labels


class SmallCNN(nn.Module):
    """@sam/nn's SmallCNN: conv-BN-ReLU-maxpool twice, conv-BN-ReLU, global average pooling, linear."""

    def __init__(self, widths=(32, 64, 128)):
        super().__init__()
        a, b, c = widths
        block = lambda i, o: [nn.Conv2d(i, o, 3, 1, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU()]
        self.net = nn.Sequential(*block(3, a), nn.MaxPool2d(2), *block(a, b), nn.MaxPool2d(2), *block(b, c),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))

    def forward(self, x):
        return self.net(x)


def parser():
    p = argparse.ArgumentParser()
    p.add_argument("archive")
    p.add_argument("--model", default="cnn", choices=["cnn", "resnet20"])
    p.add_argument("--optimizer", default="sgd", choices=["sgd", "sam", "asam"])
    p.add_argument("--rho", type=float, default=0.05)
    p.add_argument("--m", type=int, help="m-sharpness group size (default: the batch)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train-subset", type=int)
    p.add_argument("--test-subset", type=int)
    p.add_argument("--augment", default="basic", choices=["none", "basic"])
    p.add_argument("--label-noise", type=float, default=0.0)
    p.add_argument("--swa-start", type=int, help="average the weights after every epoch past the first N")
    p.add_argument("--swa-lr", type=float, default=0.05)
    p.add_argument("--mixup", type=float, default=0.0, help="Mixup's alpha (0: off)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="folder for metrics.jsonl and checkpoint.pt; continues the run saved there")
    p.add_argument("--branch-at", type=int, help="with --out, also keep the state after epoch N in DIR/branch-N/")
    return p


def save_atomic(write, path):
    """Writes through a temporary file renamed over `path`, so an interrupted save loses nothing."""
    temporary = f"{path}.partial"
    write(temporary)
    os.replace(temporary, path)


def train(a):
    """Trains as `a` says, printing (and with a.out, saving) each epoch's metrics."""
    if a.m is not None and (a.m <= 0 or a.batch_size % a.m != 0):
        raise SystemExit(f"torch_cifar: --m must be a positive divisor of --batch-size {a.batch_size}, got {a.m}")
    if a.swa_start is not None and not 0 <= a.swa_start < a.epochs:
        raise SystemExit(f"torch_cifar: --swa-start must be at least 0 and below --epochs {a.epochs}, got {a.swa_start}")
    if a.mixup < 0:
        raise SystemExit(f"torch_cifar: --mixup must be at least 0, got {a.mixup}")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    train_labels, train_bytes = train_split(a.archive)
    if a.label_noise > 0:
        train_labels = with_label_noise(train_labels, a.label_noise, a.seed)
    test_labels, test_bytes = test_split(a.archive)
    n = a.train_subset or len(train_labels)
    train_labels, train_bytes = train_labels[:n].clone(), train_bytes[:n].clone()
    if a.test_subset:
        test_labels, test_bytes = test_labels[:a.test_subset].clone(), test_bytes[:a.test_subset].clone()
    mean, std = channel_stats(train_bytes)
    # channels-last tensors take oneDNN's faster convolutions here (a SAM epoch about 8% shorter); the same arithmetic
    prepared = lambda images, augment: prepare(images, mean, std, augment).contiguous(memory_format=torch.channels_last)

    model = (SmallCNN() if a.model == "cnn" else ResNet20()).to(memory_format=torch.channels_last)
    opt = make_optimizer(a, model)
    schedule = make_schedule(a, opt)
    average = AveragedModel(model) if a.swa_start is not None else None

    metrics_path = a.out and os.path.join(a.out, "metrics.jsonl")
    checkpoint_path = a.out and os.path.join(a.out, "checkpoint.pt")
    first = 1
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        if os.path.exists(checkpoint_path):
            saved = torch.load(checkpoint_path)
            branch = is_branch(saved, a)
            if saved["settings"] != settings_of(a) and not branch:
                raise SystemExit(f"torch_cifar: {a.out} holds a run with other settings: {saved['settings']}")
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            if branch:
                # the run it branched from followed the cosine until here; the averaging schedule takes over
                schedule.last_epoch = saved["epoch"]
                for group in opt.param_groups:
                    group["lr"] = swa_schedule(saved["epoch"], a)
            else:
                schedule.load_state_dict(saved["schedule"])
                if average is not None:
                    average.load_state_dict(saved["average"])
            torch.set_rng_state(saved["rng"])
            first = saved["epoch"] + 1
        # lines written after the checkpoint (an epoch interrupted between the two saves) are dropped
        lines = open(metrics_path).read().splitlines()[:first - 1] if os.path.exists(metrics_path) else []
        save_atomic(lambda p: open(p, "w").write("".join(l + "\n" for l in lines)), metrics_path)

    step = make_step(a, model, opt)
    drop_last = n >= a.batch_size
    for epoch in range(first, a.epochs + 1):
        start = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        model.train()
        order = torch.randperm(n)
        batches = n // a.batch_size if drop_last else (n + a.batch_size - 1) // a.batch_size
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(batches):
            idx = order[b * a.batch_size:(b + 1) * a.batch_size]
            x, y = prepared(train_bytes[idx], a.augment == "basic"), train_labels[idx]
            t = (y, None, 1.0)
            if a.mixup > 0:
                lam = torch.distributions.Beta(a.mixup, a.mixup).sample().item()
                partner = torch.randperm(len(y))
                x, t = mix(x, y, lam, partner)
            loss, z = step(x, t)
            loss_sum += loss.item() * len(idx)
            counted = t[1] if t[1] is not None and t[2] < 0.5 else y
            correct += (z.argmax(1) == counted).sum().item()  # the first pass's logits, as the trainer counts
            seen += len(idx)
        if average is not None and epoch > a.swa_start:
            average.update_parameters(model)
        schedule.step()
        test_loss, test_acc = evaluate(model, test_bytes, test_labels, prepared)
        metrics = {
            "epoch": epoch, "trainLoss": loss_sum / seen, "trainAcc": correct / seen, "testLoss": test_loss,
            "testAcc": test_acc, "lr": lr, "seconds": time.perf_counter() - start,
        }
        if average is not None and epoch == a.epochs:
            # batch norm's statistics recomputed for the averaged weights over the training images in order
            update_bn([prepared(train_bytes[at:at + a.batch_size], False) for at in range(0, n, a.batch_size)], average)
            swa_loss, swa_acc = evaluate(average, test_bytes, test_labels, prepared)
            metrics.update({"swaTestLoss": swa_loss, "swaTestAcc": swa_acc, "swaEpochs": int(average.n_averaged.item())})
        line = json.dumps(metrics)
        print(line, flush=True)
        if a.out:
            state = {"settings": settings_of(a), "epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict(),
                     "schedule": schedule.state_dict(), "rng": torch.get_rng_state()}
            if average is not None:
                state["average"] = average.state_dict()
            save_atomic(lambda p: torch.save(state, p), checkpoint_path)
            with open(metrics_path, "a") as f:
                f.write(line + "\n")
            if epoch == a.branch_at:
                keep_branch(a.out, epoch)


def make_optimizer(a, model):
    """SGD with momentum 0.9 and weight decay 5e-4 at `a`'s learning rate, the base of every optimizer here."""
    return torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)


def make_step(a, model, opt):
    """The training step `a` asks for: step(x, targets) → (the first pass's loss, its logits), having stepped `opt`."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]

    def perturbed_gradient(x, t):
        """∇L(w + ε) with ε = ρ·T²g/‖Tg‖ (T = 1 for SAM) from g = ∇L(w) on these rows; returns the first pass's loss and logits."""
        z = model(x)
        loss = mixed_loss(z, t)
        opt.zero_grad()
        loss.backward()
        params = [q for q in model.parameters() if q.grad is not None]
        scaled = [q.grad * (q.detach().abs() + ETA) if a.optimizer == "asam" else q.grad for q in params]
        norm = torch.norm(torch.stack([v.norm(2) for v in scaled]), 2)
        eps = [(v * (q.detach().abs() + ETA) if a.optimizer == "asam" else v) * (a.rho / (norm + 1e-12)) for q, v in zip(params, scaled)]
        with torch.no_grad():
            for q, e in zip(params, eps):
                q.add_(e)
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.momentum = 0.0  # the second pass leaves the running statistics alone
        opt.zero_grad()
        mixed_loss(model(x), t).backward()
        for m, mo in zip(norms, momenta):
            m.momentum = mo
        with torch.no_grad():
            for q, e in zip(params, eps):
                q.sub_(e)
        return loss, z

    def sam_step(x, t):
        n = len(t[0])
        size = a.m or n
        if size >= n:
            loss, z = perturbed_gradient(x, t)
            opt.step()
            return loss, z
        groups = [(x[i:i + size], rows(t, i, i + size)) for i in range(0, n, size)]
        total, losses, logits = None, [], []
        for xs, ts in groups:
            loss, z = perturbed_gradient(xs, ts)
            grads = [q.grad.clone() for q in model.parameters()]
            total = grads if total is None else [s + g for s, g in zip(total, grads)]
            losses.append(loss)
            logits.append(z)
        for q, g in zip(model.parameters(), total):
            q.grad = g / len(groups)
        opt.step()
        return torch.stack(losses).mean(), torch.cat(logits)

    def sgd_step(x, t):
        opt.zero_grad()
        z = model(x)
        loss = mixed_loss(z, t)
        loss.backward()
        opt.step()
        return loss, z

    return sgd_step if a.optimizer == "sgd" else sam_step


def make_schedule(a, opt):
    """The learning rate's schedule: a per-epoch cosine, or with weight averaging swa_schedule."""
    if a.swa_start is None:
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: swa_schedule(e, a) / a.lr)


def mix(x, y, lam, partner):
    """Mixup's batch and targets: each image mixed with its partner's by λ, the targets (y, y[partner], λ)."""
    return lam * x + (1 - lam) * x[partner], (y, y[partner], lam)


ETA = 0.01  # ASAM's η, @sam/optim's default


def mixed_loss(z, t):
    """Cross-entropy towards targets (y, y_b, λ): λ·CE(y) + (1 − λ)·CE(y_b), or CE(y) without a partner."""
    y, partner, lam = t
    if partner is None:
        return F.cross_entropy(z, y)
    return F.cross_entropy(z, y) * lam + F.cross_entropy(z, partner) * (1 - lam)


def rows(t, start, end):
    """Rows start…end of targets (y, y_b, λ)."""
    y, partner, lam = t
    return y[start:end], None if partner is None else partner[start:end], lam


SWA_ANNEAL_EPOCHS = 5  # epochs over which weight averaging anneals the rate, as the trainer's


def is_branch(saved, a):
    """Whether a checkpoint is of the run without averaging that this weight-averaging run follows until --swa-start."""
    averaging = ("swa_start", "swa_lr")
    same = saved["settings"] == {k: v for k, v in settings_of(a).items() if k not in averaging}
    return a.swa_start is not None and "average" not in saved and same and saved["epoch"] <= a.swa_start


def keep_branch(out, epoch):
    """Copies the run's checkpoint and metrics into out/branch-EPOCH/, whole or not at all."""
    final = os.path.join(out, f"branch-{epoch}")
    partial = final + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    for name in ("checkpoint.pt", "metrics.jsonl"):
        shutil.copy(os.path.join(out, name), partial)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)


def swa_schedule(epoch, a):
    """The learning rate of epoch index `epoch` (0-based) with weight averaging, as @sam/optim's SWALR over the cosine."""
    cosine = lambda e: a.lr * (1 + math.cos(math.pi * e / a.epochs)) / 2
    if epoch < a.swa_start:
        return cosine(epoch)
    t = min(1.0, (epoch - a.swa_start) / SWA_ANNEAL_EPOCHS)
    return a.swa_lr + (cosine(a.swa_start) - a.swa_lr) * (1 + math.cos(math.pi * t)) / 2



def evaluate(model, images, labels, prepared):
    """Test loss and accuracy, in evaluation mode, 500 images at a time."""
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for at in range(0, len(labels), 500):
            z = model(prepared(images[at:at + 500], False))
            loss += F.cross_entropy(z, labels[at:at + 500], reduction="sum").item()
            correct += (z.argmax(1) == labels[at:at + 500]).sum().item()
    return loss / len(labels), correct / len(labels)


# settings added later, left out at their defaults so that earlier checkpoints continue
LATER_DEFAULTS = {"swa_start": None, "swa_lr": 0.05, "mixup": 0.0}


def settings_of(a):
    """What a run depends on: a checkpoint continues only a run with the same settings."""
    return {k: v for k, v in vars(a).items()
            if k not in ("threads", "out", "archive", "branch_at") and not (k in LATER_DEFAULTS and v == LATER_DEFAULTS[k])}


if __name__ == "__main__":
    train(parser().parse_args())
