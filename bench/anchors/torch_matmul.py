"""Times torch.matmul on float32 square matrices; prints one JSON object per size.

Usage: /usr/bin/python3 torch_matmul.py THREADS RUNS SIZE [SIZE ...]
"""
import json
import sys
import time

import torch

from blas_info import blas_info

threads, runs, sizes = int(sys.argv[1]), int(sys.argv[2]), [int(s) for s in sys.argv[3:]]
torch.set_num_threads(threads)
for n in sizes:
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.matmul(a, b)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"size": n, "seconds": times[len(times) // 2]}))
print(json.dumps({"blas": blas_info(), "torch": torch.__version__}))
