"""Times Hessian-vector products of ResNet-20's loss in PyTorch (double backward); prints one JSON line.

Usage: /usr/bin/python3 torch_hvp.py STEPS BATCH THREADS
H·v of the mean cross-entropy over one batch with respect to every parameter, batch norm in
evaluation mode (running statistics), as @sam/hessian computes it by default: the gradient with
create_graph, its dot product with v, and the gradient of that.
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F

from device_info import use_device
from resnet import ResNet20

steps, batch, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
dev, synchronize, described = use_device("cpu")

model = ResNet20().eval()
params = list(model.parameters())
x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
v = [torch.randn_like(p) for p in params]


def hvp():
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), params, create_graph=True)
    dot = sum((g * u).sum() for g, u in zip(grads, v))
    return torch.autograd.grad(dot, params)


hvp()
seconds = []
for _ in range(steps):
    t0 = time.perf_counter()
    hvp()
    seconds.append(time.perf_counter() - t0)
print(json.dumps({"device": described, "seconds": seconds, "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
