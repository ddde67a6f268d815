#!/usr/bin/env python3
"""Generate the Swin test cases under tests/data/swin-extra/<case>/.

Each case is a small Hugging Face model directory with random weights:
  config.json           transformers 5.x SwinConfig.save_pretrained layout (written here)
  model.safetensors     F32 weights, "swin."-prefixed + classifier.*
  reference.safetensors F32: pixel_values ~ N(0,1), logits, hidden_states.0..S from
                        transformers' SwinForImageClassification (library_references.py)

Fully deterministic: every case draws from numpy's PCG64 seeded with SEED + case index;
config.json and model.safetensors are byte-identical on re-run.

Usage (from the repository root, with the venv of library_references.py):
  /path/to/venv/bin/python tests/reference/make_swin_cases.py [--out DIR] [CASE ...]
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import library_references as lr  # noqa: E402


def stage_geometry(cfg, H, W):
    """(window, shift for odd blocks) that transformers' SwinLayer uses at an H x W map."""
    ws = int(cfg["window_size"])
    if min(H, W) <= ws:
        return min(H, W), 0
    return ws, ws // 2


SEED = 20240719

CASES = [
    # 14x14 tokens, window 4: stage 0 padded to 16x16; stage 1 is 7x7 padded to 8x8 (shifted
    # block with padding); stage 2 is 4x4 = window: no shift.  mlp_ratio 1.25 keeps the case
    # under 500 KB (see README).
    ("swin-3stage-pad", dict(image=56, patch=4, channels=3, embed_dim=16, depths=[2, 2, 2],
                             num_heads=[1, 2, 4], window_size=4, mlp_ratio=1.25, qkv_bias=True,
                             use_absolute_embeddings=False, labels=5, batch=2)),
    # 10x10 tokens, window 3: stage 0 padded to 12x12 (one block, unshifted); stage 1 is 5x5
    # padded to 6x6, its second block shifted by 1; the 5x5 map merges with padding to 3x3;
    # stage 2 is 3x3 = window: no shift.
    ("swin-3stage-odd", dict(image=40, patch=4, channels=3, embed_dim=12, depths=[1, 2, 1],
                             num_heads=[2, 2, 4], window_size=3, mlp_ratio=2.0, qkv_bias=True,
                             use_absolute_embeddings=True, labels=3, batch=1)),
]


def make_config(c):
    """The dict transformers 5.x SwinConfig.save_pretrained writes (sorted keys), laid out
    like the shared swin-tiny fixture."""
    n = len(c["depths"])
    cfg = {
        "architectures": ["SwinForImageClassification"],
        "attention_probs_dropout_prob": 0.0,
        "depths": list(c["depths"]),
        "drop_path_rate": 0.1,
        "dtype": "float32",
        "embed_dim": c["embed_dim"],
        "encoder_stride": 32,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": int(c["embed_dim"] * 2 ** (n - 1)),
        "id2label": {str(i): "LABEL_%d" % i for i in range(c["labels"])},
        "image_size": c["image"],
        "initializer_range": 0.02,
        "label2id": {"LABEL_%d" % i: i for i in range(c["labels"])},
        "layer_norm_eps": 1e-05,
        "mlp_ratio": float(c["mlp_ratio"]),
        "model_type": "swin",
        "num_channels": c["channels"],
        "num_heads": list(c["num_heads"]),
        "num_layers": n,
        "out_features": ["stage%d" % n],
        "out_indices": [n],
        "patch_size": c["patch"],
        "qkv_bias": bool(c["qkv_bias"]),
        "stage_names": ["stem"] + ["stage%d" % (i + 1) for i in range(n)],
        "transformers_version": "5.17.0",
        "use_absolute_embeddings": bool(c["use_absolute_embeddings"]),
        "window_size": c["window_size"],
    }
    return cfg


# standard deviations of the random weights (biases N(0, 0.05), LayerNorm weights
# 1 + N(0, 0.2), relative_position_bias_table and position_embeddings N(0, 0.5))
STD = {"patch": 0.1, "qk": 0.2, "v": 0.15, "attn_out": 0.1, "fc1": 0.2, "fc2": 0.1,
       "reduction": 0.1, "classifier": 0.3}


def make_weights(cfg, c, rng):
    def mat(*shape, std=0.1):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    def bias(n):
        return rng.normal(0.0, 0.05, size=(n,)).astype(np.float32)

    def ln(p, d):
        w[p + ".weight"] = (1.0 + rng.normal(0.0, 0.2, size=(d,))).astype(np.float32)
        w[p + ".bias"] = bias(d)

    def lin(p, o, i, std=0.1, has_bias=True):
        w[p + ".weight"] = mat(o, i, std=std)
        if has_bias:
            w[p + ".bias"] = bias(o)

    w = {}
    E, P, Cin = c["embed_dim"], c["patch"], c["channels"]
    e = "swin.embeddings."
    w[e + "patch_embeddings.projection.weight"] = mat(E, Cin, P, P, std=STD["patch"])
    w[e + "patch_embeddings.projection.bias"] = bias(E)
    ln(e + "norm", E)
    H = W = c["image"] // P
    if c["use_absolute_embeddings"]:
        w[e + "position_embeddings"] = rng.normal(0.0, 0.5, size=(1, H * W, E)).astype(np.float32)
    C = E
    n = len(c["depths"])
    for s in range(n):
        ws, _ = stage_geometry(cfg, H, W)
        nh = c["num_heads"][s]
        I = int(c["mlp_ratio"] * C)
        for b in range(c["depths"][s]):
            p = "swin.encoder.layers.%d.blocks.%d." % (s, b)
            ln(p + "layernorm_before", C)
            for q in ("query", "key", "value"):
                # q/k larger so the attention is far from uniform
                lin(p + "attention.self." + q, C, C, std=STD["v" if q == "value" else "qk"],
                    has_bias=c["qkv_bias"])
            w[p + "attention.self.relative_position_bias_table"] = \
                rng.normal(0.0, 0.5, size=((2 * ws - 1) ** 2, nh)).astype(np.float32)
            lin(p + "attention.output.dense", C, C, std=STD["attn_out"])
            ln(p + "layernorm_after", C)
            lin(p + "intermediate.dense", I, C, std=STD["fc1"])
            lin(p + "output.dense", C, I, std=STD["fc2"])
        if s + 1 < n:
            p = "swin.encoder.layers.%d.downsample." % s
            ln(p + "norm", 4 * C)
            w[p + "reduction.weight"] = mat(2 * C, 4 * C, std=STD["reduction"])
            H, W, C = (H + 1) // 2, (W + 1) // 2, 2 * C
    ln("swin.layernorm", C)
    lin("classifier", c["labels"], C, std=STD["classifier"])
    return w


def make_case(out_root, idx, name, c):
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(SEED + idx))
    cfg = make_config(c)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    w = make_weights(cfg, c, rng)
    lr.write_safetensors(os.path.join(d, "model.safetensors"), w, "F32")
    px = rng.normal(0.0, 1.0, size=(c["batch"], c["channels"], c["image"], c["image"]))
    px = torch.from_numpy(px.astype(np.float32))
    ref = lr.reference_tensors(d, px, attentions=False)  # transformers, from what was written
    lr.write_reference(os.path.join(d, "reference.safetensors"), ref)
    sizes = {f: os.path.getsize(os.path.join(d, f))
             for f in ("config.json", "model.safetensors", "reference.safetensors")}
    print("%-16s %7d B  (model %d, reference %d)" % (
        name, sum(sizes.values()), sizes["model.safetensors"], sizes["reference.safetensors"]))
    for k in sorted(ref, key=lambda k: (k.startswith("hidden"), int(k.split(".")[1]) if k.startswith("hidden") else 0, k)):
        print("  %-16s %s" % (k, tuple(ref[k].shape)))
    print("  top1 %s" % ref["logits"].argmax(-1).tolist())
    return sum(sizes.values())


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "data", "swin-extra")))
    ap.add_argument("cases", nargs="*", help="subset of case names (default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    names = [n for n, _ in CASES]
    for n in args.cases:
        if n not in names:
            ap.error("unknown case %r (known: %s)" % (n, ", ".join(names)))
    total = 0
    for idx, (name, c) in enumerate(CASES):
        if not args.cases or name in args.cases:
            total += make_case(args.out, idx, name, c)
    print("total %d bytes (%s)" % (total, lr.versions()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
