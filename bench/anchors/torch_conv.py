"""Times a 3x3 convolution (padding 1) in PyTorch, forward and forward+backward (input and
weight gradients); prints one JSON object per case, then one describing the setup.

Usage: /usr/bin/python3 torch_conv.py THREADS RUNS BATCH SIZE CIN:COUT [CIN:COUT ...]
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from blas_info import blas_info

threads, runs, batch, size = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(0)


def median_seconds(fn):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


for pair in sys.argv[5:]:
    cin, cout = (int(c) for c in pair.split(":"))
    x = torch.randn(batch, cin, size, size, requires_grad=True)
    w = torch.randn(cout, cin, 3, 3, requires_grad=True)
    dy = torch.randn(batch, cout, size, size)

    def forward():
        with torch.no_grad():
            F.conv2d(x, w, padding=1)

    def forward_backward():
        x.grad = w.grad = None
        F.conv2d(x, w, padding=1).backward(dy)

    print(json.dumps({"case": f"{cin}->{cout} fwd", "seconds": median_seconds(forward)}))
    print(json.dumps({"case": f"{cin}->{cout} fwd+bwd", "seconds": median_seconds(forward_backward)}))
mkldnn = torch.backends.mkldnn.is_available()
print(json.dumps({"blas": blas_info(), "torch": torch.__version__, "conv": "oneDNN" if mkldnn else "im2col + BLAS"}))
