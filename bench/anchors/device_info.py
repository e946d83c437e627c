"""The device an anchor runs on: the CPU, with the BLAS Debian's torch calls (the libblas.so.3
alternative) and, for OpenBLAS, its kernel; or a CUDA GPU in plain float32 (TF32 off)."""
import ctypes
import glob
import os

import torch


def blas_info():
    paths = [os.path.realpath(p) for p in glob.glob("/etc/alternatives/libblas.so.3*")]
    if not paths:
        return "unknown BLAS"
    path = paths[0]
    try:
        lib = ctypes.CDLL(path)
        lib.openblas_get_config.restype = ctypes.c_char_p
        return f"{path} ({lib.openblas_get_config().decode()})"
    except (OSError, AttributeError):
        return f"{path} (reference BLAS: install libopenblas0-pthread for an optimised one)"


def use_device(name):
    """Returns (device, synchronize, description)."""
    if name == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
        card = torch.cuda.get_device_name(0)
        return torch.device("cuda"), torch.cuda.synchronize, f"CUDA {torch.version.cuda} on {card}, cuDNN {torch.backends.cudnn.version()}, TF32 off"
    return torch.device("cpu"), lambda: None, blas_info()
