#!/usr/bin/python3
"""PyTorch on the CPU, for side-by-side comparison with `vit-vk-cli bench` on lavapipe.

torchvision's vit_b_16 (random weights: nothing is downloaded), eval mode, no grad,
fp32, batch 1 at 224, THREADS threads (default 2). One warm-up run, then runs until at
least MIN_SECONDS (default 5) and 3 runs; prints the median and best seconds per image.
Uses Debian's python3-torch and python3-torchvision (/usr/bin/python3). Which BLAS
serves it is whatever Debian's libblas.so.3 alternative points at: install
libopenblas0-pthread first, or apt may leave the reference BLAS there, which is an order
of magnitude slower (9.8 s per image on a 2-core Xeon VM against 0.59 s with OpenBLAS).
The report names the BLAS library the process loaded.

  /usr/bin/python3 bench/torch_cpu.py [THREADS] [MIN_SECONDS]
"""
import os
import statistics
import sys
import time

import torch
import torchvision

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
min_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
torch.set_num_threads(threads)
torch.manual_seed(0)
model = torchvision.models.vit_b_16(weights=None).eval()
x = torch.randn(1, 3, 224, 224)
times = []
with torch.no_grad():
    model(x)  # warm-up
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t0)


def blas_library():
    """The BLAS shared object mapped into this process (after a forward pass)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return "unknown BLAS"
    found = sorted(os.path.realpath(p) for p in paths if "blas" in os.path.basename(p).lower())
    return ", ".join(dict.fromkeys(found)) or "no BLAS library mapped"


print(f"torch {torch.__version__} torchvision {torchvision.__version__}, {threads} threads, "
      f"vit_b_16 fp32 batch 1: median {statistics.median(times):.3f} s, best {min(times):.3f} s "
      f"per image ({len(times)} runs); BLAS: {blas_library()}")
