"""Times 3x3 convolutions (padding 1) in PyTorch: forward, forward+backward (input and weight
gradients, by autograd), and each gradient alone (the kernels autograd calls, one output each);
prints one JSON object per case, then one describing the setup.

Usage: /usr/bin/python3 torch_conv.py cpu|cuda THREADS RUNS REPEATS BATCH CIN:COUT:SIZE:STRIDE:NAME [...]
Each timed run is REPEATS calls, finished (on CUDA, synchronized); the median run is printed.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from device_info import use_device
from warm_up import warm_up

device = sys.argv[1]
threads, runs, repeats, batch = (int(a) for a in sys.argv[2:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
dev, synchronize, described = use_device(device)


def median_seconds(fn):
    def run():
        for _ in range(repeats):
            fn()
        synchronize()

    warm_up(run)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) / repeats)
    times.sort()
    return times[len(times) // 2]


for spec in sys.argv[6:]:
    cin, cout, size, stride, name = spec.split(":")
    cin, cout, size, stride = int(cin), int(cout), int(size), int(stride)
    x = torch.randn(batch, cin, size, size, device=dev, requires_grad=True)
    w = torch.randn(cout, cin, 3, 3, device=dev, requires_grad=True)
    dy = torch.randn(batch, cout, size // stride, size // stride, device=dev)

    def forward():
        with torch.no_grad():
            F.conv2d(x, w, stride=stride, padding=1)

    def forward_backward():
        x.grad = w.grad = None
        F.conv2d(x, w, stride=stride, padding=1).backward(dy)

    def gradient(which):
        mask = [which == "input", which == "weight", False]
        def run():
            with torch.no_grad():
                torch.ops.aten.convolution_backward(dy, x, w, None, [stride] * 2, [1, 1], [1, 1], False, [0, 0], 1, mask)
        return run

    print(json.dumps({"case": f"{name} fwd", "seconds": median_seconds(forward)}))
    print(json.dumps({"case": f"{name} fwd+bwd", "seconds": median_seconds(forward_backward)}))
    print(json.dumps({"case": f"{name} dx", "seconds": median_seconds(gradient("input"))}))
    print(json.dumps({"case": f"{name} dw", "seconds": median_seconds(gradient("weight"))}))
conv = "cuDNN" if dev.type == "cuda" else "oneDNN" if torch.backends.mkldnn.is_available() else "im2col + BLAS"
print(json.dumps({"device": described, "torch": torch.__version__, "conv": conv}))
