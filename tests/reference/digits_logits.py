#!/usr/bin/env python3
"""PyTorch's logits for the first N digits test PNGs, end to end.

Runs Hugging Face transformers as a user would: the model directory's image
processor (AutoImageProcessor: ViTImageProcessor from preprocessor_config.json)
on the PNG files, then ViTForImageClassification (fp32, eager attention, CPU).
Writes OUT.safetensors with

  logits      [N, labels] F32 with the torchvision backend (transformers'
              default), in the sorted order of the files
  logits.pil  the same with the PIL backend

and the file names, the true labels and the versions in __metadata__. With
--fixture ../shared/fixtures/digits-vit/reference.safetensors it prints how
far that fixture's pixel_values and logits (transformers 5.17, H100) are.

  /var/tmp/refenv/bin/python tests/reference/digits_logits.py models/digits-vit \\
      tests/data/digits OUT.safetensors [--count 16] [--fixture FILE]

Needs torch, transformers, pillow and safetensors (not Debian's python3).
"""
import argparse
import json
import os

import torch
import transformers
from PIL import Image
from safetensors.torch import load_file, save_file
from transformers import AutoImageProcessor, ViTForImageClassification


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("digits", help="folder with test-png/ and expected.json")
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--fixture", help="the shared fixture's reference.safetensors, to compare with")
    a = ap.parse_args()

    with open(os.path.join(a.digits, "expected.json")) as f:
        expected = json.load(f)["images"]
    files = sorted(e["file"] for e in expected)[: a.count]
    label = {e["file"]: e["label"] for e in expected}
    images = [Image.open(os.path.join(a.digits, "test-png", n)).convert("RGB") for n in files]

    # transformers 5's two backends: torchvision (its default, vitvk's too)
    # and PIL. On 32x32 PNGs with size 32x32 neither resizes; they differ only
    # in the order of the float32 rescale/normalise arithmetic.
    torch.manual_seed(0)
    model = ViTForImageClassification.from_pretrained(a.model, attn_implementation="eager",
                                                      dtype=torch.float32).eval()
    pixels, logits = {}, {}
    for backend in ("torchvision", "pil"):
        proc = AutoImageProcessor.from_pretrained(a.model, backend=backend)
        pixels[backend] = proc(images=images, return_tensors="pt")["pixel_values"].to(torch.float32)
        with torch.no_grad():
            logits[backend] = model(pixel_values=pixels[backend]).logits.to(torch.float32).contiguous()
    d_pix = (pixels["pil"] - pixels["torchvision"]).abs().max().item()
    d_log = (logits["pil"] - logits["torchvision"]).abs().max().item()
    print(f"pil vs torchvision backend: pixel_values max |diff| {d_pix:.3g}, logits {d_log:.3g}")
    assert d_pix <= 1e-6, "the two backends disagree by more than float32 rounding"
    print("files", files)
    print("top-1", logits["torchvision"].argmax(-1).tolist(), "true", [label[n] for n in files])

    if a.fixture:
        ref = load_file(a.fixture)
        idx = [sorted(e["file"] for e in expected).index(n) for n in files]
        for backend in ("torchvision", "pil"):
            d_pix = (ref["pixel_values"][idx] - pixels[backend]).abs().max().item()
            d_log = (ref["logits"][idx] - logits[backend]).abs().max().item()
            print(f"{backend} against {a.fixture}: pixel_values max |diff| {d_pix:.3g}, logits {d_log:.3g}")

    meta = {
        "format": "pt",
        "files": ",".join(files),
        "labels": ",".join(str(label[n]) for n in files),
        "made_by": "tests/reference/digits_logits.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    save_file({"logits": logits["torchvision"], "logits.pil": logits["pil"]}, a.out, metadata=meta)
    print("wrote", a.out, tuple(logits["torchvision"].shape))


if __name__ == "__main__":
    main()
