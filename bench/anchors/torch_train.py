"""Times ResNet-20 (CIFAR, option A) training steps in PyTorch; prints one JSON line.

Usage: /usr/bin/python3 torch_train.py sgd|sam STEPS BATCH THREADS [cpu|cuda]
SAM is the paper's two-pass step (as in @sam/optim): perturb by rho*g/||g||, take the gradient
again with batch-norm running statistics left alone, restore, then step SGD.
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from device_info import use_device

optimizer, steps, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
device = sys.argv[5] if len(sys.argv) > 5 else "cpu"
torch.set_num_threads(threads)
torch.manual_seed(0)
dev, synchronize, described = use_device(device)


class Block(nn.Module):
    def __init__(self, inp, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.extra = planes - inp

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.extra // 2, self.extra // 2)) if self.extra else x
        return F.relu(h + s)


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        stage = lambda i, o, s: nn.Sequential(*[Block(i if k == 0 else o, o, s if k == 0 else 1) for k in range(3)])
        self.layers = nn.Sequential(stage(16, 16, 1), stage(16, 32, 2), stage(32, 64, 2))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(self.layers(F.relu(self.bn1(self.conv1(x)))).mean((2, 3)))


model = ResNet20().to(dev)
x, y = torch.randn(batch, 3, 32, 32, device=dev), torch.randint(0, 10, (batch,), device=dev)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)


def sgd_step():
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()


def sam_step(rho=0.05):
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    params = list(model.parameters())
    with torch.no_grad():
        norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
        saved = [p.clone() for p in params]
        for p in params:
            p.add_(p.grad * (rho / (norm + 1e-12)))
    buffers = [b.clone() for b in model.buffers()]
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    with torch.no_grad():
        for b, s in zip(model.buffers(), buffers):
            b.copy_(s)
        for p, s in zip(params, saved):
            p.copy_(s)
    opt.step()


step = sam_step if optimizer == "sam" else sgd_step
step()
synchronize()
seconds = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    synchronize()
    seconds.append(time.perf_counter() - t0)
print(json.dumps({"device": described, "seconds": seconds, "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
