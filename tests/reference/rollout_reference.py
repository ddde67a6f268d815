#!/usr/bin/python3
"""Attention rollout reference (Abnar & Zuidema 2020) for a ViT checkpoint.

Runs the fixture's pixel_values through a float32 PyTorch ViT (the same
computation as vit_reference.py, keeping every layer's attention
probabilities), then R = prod_l rownorm(0.5 * mean_heads(A_l) + 0.5 * I)
(layer 1 applied first) and writes R[:, 0, :] as attention_rollout.cls.

  /usr/bin/python3 tests/reference/rollout_reference.py MODEL_DIR PIXELS.safetensors OUT.safetensors
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402


@torch.no_grad()
def attention_maps(cfg, w, x):
    pre = vr._prefix(w)
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    D, H, L = int(cfg["hidden_size"]), int(cfg["num_attention_heads"]), int(cfg["num_hidden_layers"])
    hd = D // H
    act = vr.act_fn(cfg.get("hidden_act", "gelu"))
    ps = int(cfg["patch_size"])
    N = x.shape[0]
    e = pre + "embeddings."
    emb = F.conv2d(x, w[e + "patch_embeddings.projection.weight"], w[e + "patch_embeddings.projection.bias"],
                   stride=ps).flatten(2).transpose(1, 2)
    h = torch.cat([w[e + "cls_token"].expand(N, -1, -1), emb], dim=1) + w[e + "position_embeddings"]
    T = h.shape[1]
    maps = []
    for i in range(L):
        p = "%sencoder.layer.%d." % (pre, i)
        a = vr._ln(h, w, p + "layernorm_before", eps)
        q = vr._lin(a, w, p + "attention.attention.query").view(N, T, H, hd).permute(0, 2, 1, 3)
        k = vr._lin(a, w, p + "attention.attention.key").view(N, T, H, hd).permute(0, 2, 1, 3)
        v = vr._lin(a, w, p + "attention.attention.value").view(N, T, H, hd).permute(0, 2, 1, 3)
        probs = F.softmax(torch.matmul(q, k.transpose(-1, -2)) * hd ** -0.5, dim=-1)
        maps.append(probs.mean(dim=1))
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(N, T, D)
        h = vr._lin(ctx, w, p + "attention.output.dense") + h
        m = act(vr._lin(vr._ln(h, w, p + "layernorm_after", eps), w, p + "intermediate.dense"))
        h = vr._lin(m, w, p + "output.dense") + h
    return maps


def main():
    cfg, w = vr.load_model(sys.argv[1])
    px, _ = vr.read_safetensors(sys.argv[2])
    x = px["pixel_values"].to(torch.float32)
    maps = attention_maps(cfg, w, x)
    T = maps[0].shape[-1]
    eye = torch.eye(T, dtype=torch.float64)
    r = eye.expand(x.shape[0], T, T).clone()
    for a in maps:
        a = 0.5 * a.double() + 0.5 * eye
        a = a / a.sum(dim=-1, keepdim=True)
        r = torch.matmul(a, r)
    vr.write_safetensors(sys.argv[3], {"attention_rollout.cls": r[:, 0, :].float().contiguous()})


if __name__ == "__main__":
    main()
