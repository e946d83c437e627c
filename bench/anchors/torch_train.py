"""Times ResNet-20 (CIFAR, option A) training steps in PyTorch; prints one JSON line.

Usage: /usr/bin/python3 torch_train.py sgd|sam|sam-mM STEPS BATCH THREADS [cpu|cuda]
SAM is the paper's two-pass step (as in @sam/optim): perturb by rho*g/||g||, take the gradient
again with batch-norm running statistics left alone, restore, then step SGD. sam-m16 is
m-sharpness: each group of 16 rows gets its own perturbation from its own gradient, and the step
takes the mean of the groups' perturbed gradients, one group after another.
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F

from device_info import use_device
from resnet import ResNet20

optimizer, steps, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
torch.set_num_threads(threads)
torch.manual_seed(0)
dev, synchronize, described = use_device(device)


model = ResNet20().to(dev)
x, y = torch.randn(batch, 3, 32, 32, device=dev), torch.randint(0, 10, (batch,), device=dev)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)


def sgd_step():
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()


def sam_gradient(xs, ys, rho):
    """The perturbed gradient of one group, left in .grad; the weights are restored."""
    opt.zero_grad()
    F.cross_entropy(model(xs), ys).backward()
    params = list(model.parameters())
    with torch.no_grad():
        norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
        saved = [p.clone() for p in params]
        for p in params:
            p.add_(p.grad * (rho / (norm + 1e-12)))
    buffers = [b.clone() for b in model.buffers()]
    opt.zero_grad()
    F.cross_entropy(model(xs), ys).backward()
    with torch.no_grad():
        for b, s in zip(model.buffers(), buffers):
            b.copy_(s)
        for p, s in zip(params, saved):
            p.copy_(s)
    return [p.grad.clone() for p in params]


def sam_step(rho=0.05, m=None):
    groups = [(x, y)] if m is None else [(x[i:i + m], y[i:i + m]) for i in range(0, batch, m)]
    total = None
    for xs, ys in groups:
        g = sam_gradient(xs, ys, rho)
        total = g if total is None else [a + b for a, b in zip(total, g)]
    for p, g in zip(model.parameters(), total):
        p.grad = g / len(groups)
    opt.step()


m = int(optimizer.split("-m")[1]) if optimizer.startswith("sam-m") else None
step = (lambda: sam_step(m=m)) if optimizer.startswith("sam") else sgd_step
# warm-up: steps for two seconds, as @sam's benchmark worker warms up (and at least one)
start = time.perf_counter()
step()
synchronize()
while time.perf_counter() - start < 2:
    step()
    synchronize()
if dev.type == "cuda":
    torch.cuda.reset_peak_memory_stats()  # the peak of the timed steps, from what the model and optimizer hold
seconds = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    synchronize()
    seconds.append(time.perf_counter() - t0)
result = {"device": described, "seconds": seconds, "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
if dev.type == "cuda":
    result["gpuPeakBytes"] = torch.cuda.max_memory_allocated()
print(json.dumps(result))
