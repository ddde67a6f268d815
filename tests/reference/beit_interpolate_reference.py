#!/usr/bin/python3
"""Reference for running a BEiT checkpoint at another input size.

As transformers' BEiT with interpolate_pos_encoding: absolute position
embeddings (when present) resampled bicubically like ViT's; every relative
position bias table's (2Wh-1) x (2Ww-1) part resampled with
F.interpolate(mode="bilinear", align_corners=False) to the new window, the
three [CLS] rows kept (BeitRelativePositionBias.forward). Then the forward
pass of family_reference.py on pixel_values of the new size.

  /usr/bin/python3 tests/reference/beit_interpolate_reference.py MODEL_DIR H W N OUT.safetensors [SEED]
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import family_reference as fr  # noqa: E402


def main():
    model_dir, H, W, N, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    cfg, w = fr.load_model(model_dir)
    ps = int(cfg["patch_size"])
    old = int(cfg["image_size"]) // ps
    gh, gw = H // ps, W // ps
    for key in list(w):
        if key.endswith("relative_position_bias_table"):
            t = w[key]
            n_old = (2 * old - 1) ** 2
            sub = t[:n_old].reshape(1, 2 * old - 1, 2 * old - 1, -1).permute(0, 3, 1, 2)
            sub = F.interpolate(sub, size=(2 * gh - 1, 2 * gw - 1), mode="bilinear")
            sub = sub.permute(0, 2, 3, 1).reshape((2 * gh - 1) * (2 * gw - 1), -1)
            w[key] = torch.cat([sub, t[n_old:]])
        elif key.endswith("embeddings.position_embeddings"):
            pos = w[key]
            D = pos.shape[-1]
            patch = pos[:, 1:].reshape(1, old, old, D).permute(0, 3, 1, 2)
            patch = F.interpolate(patch, size=(gh, gw), mode="bicubic", align_corners=False)
            w[key] = torch.cat([pos[:, :1], patch.permute(0, 2, 3, 1).reshape(1, -1, D)], dim=1)
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randn(N, int(cfg.get("num_channels", 3)), H, W, generator=g)
    ref = fr.reference_tensors(cfg, w, pixels)
    ref.pop("attentions.last.cls", None)
    fr.vr.write_safetensors(out, ref)
    print("wrote", out, {k: tuple(v.shape) for k, v in ref.items()})


if __name__ == "__main__":
    main()
