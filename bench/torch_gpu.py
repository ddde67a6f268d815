#!/usr/bin/python3
"""PyTorch with CUDA on the same GPU, for side-by-side comparison with `vit-vk-cli bench`.

torchvision's vit_b_16 (random weights: nothing is downloaded), eval mode, inference
mode, at 224, in fp16 and fp32, eager, at batch 1, 8 and 64. For each: warm-up runs, then
timed runs between CUDA events until at least MIN_SECONDS (default 1) and 10 runs; prints
the median and best milliseconds per batch and the median images/s, one line each, and
the same as JSON lines at the end. The input is uploaded once (vitvk's bench times its
recorded pass apart from the upload too).

  python3 bench/torch_gpu.py [MIN_SECONDS]
"""
import json
import statistics
import sys
import time

import torch
import torchvision

min_seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
torch.manual_seed(0)
torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32, as in vitvk
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, tf32 off")
rows = []
for dtype, name in ((torch.float16, "fp16"), (torch.float32, "fp32")):
    model = torchvision.models.vit_b_16(weights=None).eval().to(dev, dtype)
    for batch in (1, 8, 64):
        x = torch.randn(batch, 3, 224, 224, device=dev, dtype=dtype)
        with torch.inference_mode():
            for _ in range(5):
                model(x)
            torch.cuda.synchronize()
            times = []
            start = time.perf_counter()
            while len(times) < 10 or time.perf_counter() - start < min_seconds:
                a = torch.cuda.Event(enable_timing=True)
                b = torch.cuda.Event(enable_timing=True)
                a.record()
                model(x)
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
        med = statistics.median(times)
        row = {"precision": name, "batch": batch, "latency_ms_median": round(med, 4),
               "latency_ms_best": round(min(times), 4), "images_per_s": round(batch * 1000 / med, 1),
               "runs": len(times)}
        rows.append(row)
        print(f"{name} batch {batch:2d}: median {med:8.3f} ms, best {min(times):8.3f} ms, "
              f"{batch * 1000 / med:9.1f} images/s ({len(times)} runs)")
    del model
for r in rows:
    print(json.dumps(r))
