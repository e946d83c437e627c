"""The trainer's loop in PyTorch, for its peak memory and time: ResNet-20 (option A), SGD, one epoch.

Usage: /usr/bin/python3 torch_trainer.py ARCHIVE TRAIN_IMAGES THREADS
Reads the CIFAR-10 binary archive, keeps the first TRAIN_IMAGES training images and the whole test
split as bytes (as `pnpm cifar` does), and runs the epoch `pnpm cifar train` runs: batches of 128
in a shuffled order, random crop (padding 4) and flip, each batch converted to float32 and
normalised by the training images' channel statistics; SGD (lr 0.1 on a one-epoch cosine, momentum
0.9, weight decay 5e-4); then the test loss and accuracy in batches of 500. Prints one JSON line.
"""
import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from cifar_data import channel_stats, prepared as prepare, test_split, train_split
from resnet import ResNet20

archive, train_images, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
train_labels, train_bytes = train_split(archive)
train_labels, train_bytes = train_labels[:train_images].clone(), train_bytes[:train_images].clone()
test_labels, test_bytes = test_split(archive)
mean, std = channel_stats(train_bytes)
prepared = lambda images, augment: prepare(images, mean, std, augment)


model = ResNet20()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
order = torch.randperm(train_images)
steps = (train_images + 127) // 128
start = time.perf_counter()
model.train()
for step in range(steps):
    for group in opt.param_groups:
        group["lr"] = 0.05 * (1 + np.cos(np.pi * step / steps))
    idx = order[step * 128:(step + 1) * 128]
    opt.zero_grad()
    F.cross_entropy(model(prepared(train_bytes[idx], True)), train_labels[idx]).backward()
    opt.step()
train_seconds = time.perf_counter() - start
model.eval()
loss, correct = 0.0, 0
with torch.no_grad():
    for at in range(0, test_labels.shape[0], 500):
        z = model(prepared(test_bytes[at:at + 500], False))
        loss += F.cross_entropy(z, test_labels[at:at + 500], reduction="sum").item()
        correct += (z.argmax(1) == test_labels[at:at + 500]).sum().item()
print(json.dumps({
    "trainSeconds": train_seconds, "seconds": time.perf_counter() - start, "testAcc": correct / test_labels.shape[0],
    "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
}))
