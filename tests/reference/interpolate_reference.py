#!/usr/bin/python3
"""Reference for running a ViT at another input size.

transformers' ViTEmbeddings.interpolate_pos_encoding: the patch part of the
position embeddings, reshaped to its square grid, resampled with
torch.nn.functional.interpolate(mode="bicubic", align_corners=False) to
(H // patch, W // patch); the [CLS] row kept. Then the forward pass of
vit_reference.py on pixel_values of the new size.

  /usr/bin/python3 tests/reference/interpolate_reference.py MODEL_DIR H W N OUT.safetensors [SEED]
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402


def main():
    model_dir, H, W, N, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    cfg, w = vr.load_model(model_dir)
    pre = vr._prefix(w)
    key = pre + "embeddings.position_embeddings"
    pos = w[key]
    ps = int(cfg["patch_size"])
    D = pos.shape[-1]
    n = pos.shape[1] - 1
    side = int(n ** 0.5)
    patch = pos[:, 1:].reshape(1, side, side, D).permute(0, 3, 1, 2)
    patch = F.interpolate(patch, size=(H // ps, W // ps), mode="bicubic", align_corners=False)
    patch = patch.permute(0, 2, 3, 1).reshape(1, -1, D)
    w[key] = torch.cat([pos[:, :1], patch], dim=1)
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randn(N, int(cfg.get("num_channels", 3)), H, W, generator=g)
    ref = vr.reference_tensors(cfg, w, pixels)
    ref.pop("attentions.last.cls", None)
    vr.write_safetensors(out, ref)
    print("wrote", out, {k: tuple(v.shape) for k, v in ref.items()})


if __name__ == "__main__":
    main()
