"""Times torch.matmul on float32 square matrices; prints one JSON object per size.

Usage: /usr/bin/python3 torch_matmul.py cpu|cuda THREADS RUNS REPEATS SIZE [SIZE ...]
Each timed run is REPEATS products, finished (on CUDA, synchronized); the median run is printed.
"""
import json
import sys
import time

import torch

from device_info import use_device
from warm_up import warm_up

device, threads, runs, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sizes = [int(s) for s in sys.argv[5:]]
torch.set_num_threads(threads)
dev, synchronize, described = use_device(device)


def run(a, b):
    for _ in range(repeats):
        torch.matmul(a, b)
    synchronize()


for n in sizes:
    a, b = torch.rand(n, n, device=dev), torch.rand(n, n, device=dev)
    warm_up(lambda: run(a, b))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run(a, b)
        times.append((time.perf_counter() - t0) / repeats)
    times.sort()
    print(json.dumps({"size": n, "seconds": times[len(times) // 2]}))
print(json.dumps({"device": described, "torch": torch.__version__}))
