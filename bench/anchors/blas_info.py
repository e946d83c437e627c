"""Which BLAS Debian's torch calls (the libblas.so.3 alternative) and, for OpenBLAS, its kernel."""
import ctypes
import glob
import os


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
