#!/usr/bin/python3
"""Generate the extra plain-ViT test cases under tests/data/vit-extra/<case>/.

Each case is a small Hugging Face style model directory with random weights:
  config.json           as transformers' ViTConfig.save_pretrained writes it (5.x layout)
  model.safetensors     weights in F32 / F16 / BF16
  reference.safetensors F32 pixel_values ~ N(0,1) and transformers' outputs for them
                        (ViTForImageClassification / ViTModel via library_references.py:
                        logits if a classifier exists, pooled, hidden_states.0..L,
                        attentions.last.cls), computed in float32 from the weights as
                        stored (i.e. after F16/BF16 rounding).

Fully deterministic: every case draws from numpy's PCG64 seeded with a fixed number;
config.json and model.safetensors are byte-identical on re-run.

Usage (from the repository root, with the venv of library_references.py):
  /path/to/venv/bin/python tests/reference/make_extra_cases.py [--out tests/data/vit-extra] [CASE ...]
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import library_references as lr  # noqa: E402

SEED = 20240611

# name: settings.  kind "cls" = ViTForImageClassification ("vit." keys + classifier),
# "pooler" = ViTModel with pooler, "bare" = ViTModel without pooler (unprefixed keys).
# mlp_std (optional): std of intermediate.dense / output.dense weights instead of 0.05.
# p4-f16-gelunew uses (0.25, 0.1): with 0.05 the MLP pre-activations stay within |x| < ~1,
# where tanh-GELU and erf-GELU differ by < 1e-5, so a kernel computing exact GELU for
# "gelu_new" would pass at 1e-4 (hidden states differ by only 7.7e-5).  With (0.25, 0.1)
# exact GELU is off by ~1.5e-3 in hidden_states.2.
CASES = [
    ("p8-h60-noqkvbias", dict(kind="cls", image=48, patch=8, hidden=60, heads=4, layers=3,
                              inter=100, act="gelu", eps=1e-6, qkv_bias=False, labels=5,
                              batch=3, dtype="F32", channels=3)),
    ("p4-f16-gelunew", dict(kind="cls", image=32, patch=4, hidden=48, heads=6, layers=2,
                            inter=96, act="gelu_new", eps=1e-12, qkv_bias=True, labels=7,
                            batch=2, dtype="F16", channels=3, mlp_std=(0.25, 0.1))),
    ("p16-bf16-quickgelu", dict(kind="cls", image=64, patch=16, hidden=80, heads=5, layers=2,
                                inter=160, act="quick_gelu", eps=1e-6, qkv_bias=True, labels=3,
                                batch=1, dtype="BF16", channels=1)),
    ("vitmodel-pooler", dict(kind="pooler", image=40, patch=10, hidden=32, heads=2, layers=2,
                             inter=64, act="gelu", eps=1e-12, qkv_bias=True, labels=None,
                             batch=2, dtype="F32", channels=3)),
    ("vitmodel-nopooler", dict(kind="bare", image=24, patch=6, hidden=24, heads=3, layers=1,
                               inter=40, act="gelu", eps=1e-12, qkv_bias=True, labels=None,
                               batch=2, dtype="F32", channels=3)),
    ("p14-h64-batch3", dict(kind="cls", image=56, patch=14, hidden=64, heads=8, layers=2,
                            inter=256, act="gelu", eps=1e-12, qkv_bias=True, labels=10,
                            batch=3, dtype="F32", channels=3)),
]

_TORCH_DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def make_config(c):
    """The dict transformers 5.x ViTConfig.save_pretrained writes (use_diff=True, sorted)."""
    cfg = {
        "architectures": ["ViTForImageClassification" if c["kind"] == "cls" else "ViTModel"],
        "attention_probs_dropout_prob": 0.0,
        "dtype": _TORCH_DTYPE_NAME[c["dtype"]],
        "encoder_stride": 16,
        "hidden_act": c["act"],
        "hidden_dropout_prob": 0.0,
        "hidden_size": c["hidden"],
        "image_size": c["image"],
        "initializer_range": 0.02,
        "intermediate_size": c["inter"],
        "layer_norm_eps": c["eps"],
        "model_type": "vit",
        "num_attention_heads": c["heads"],
        "num_channels": c["channels"],
        "num_hidden_layers": c["layers"],
        "patch_size": c["patch"],
        "pooler_act": "tanh",
        "pooler_output_size": c["hidden"],
        "qkv_bias": c["qkv_bias"],
        "transformers_version": "5.17.0",
    }
    # id2label/label2id equal to PretrainedConfig's default (2 labels) are dropped by
    # to_diff_dict, so the ViTModel cases carry none, as save_pretrained would write them.
    if c["labels"] is not None:
        cfg["id2label"] = {str(i): "class_%d" % i for i in range(c["labels"])}
        cfg["label2id"] = {"class_%d" % i: i for i in range(c["labels"])}
    return cfg


def make_weights(c, rng):
    D, I, C, P = c["hidden"], c["inter"], c["channels"], c["patch"]
    std_in, std_out = c.get("mlp_std", (0.05, 0.05))
    T = (c["image"] // P) ** 2 + 1

    def mat(*shape, std=0.05):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    def bias(n):
        return rng.normal(0.0, 0.05, size=(n,)).astype(np.float32)

    def ln(p):
        w[p + ".weight"] = (1.0 + rng.normal(0.0, 0.2, size=(D,))).astype(np.float32)
        w[p + ".bias"] = bias(D)

    pre = "vit." if c["kind"] == "cls" else ""
    w = {}
    e = pre + "embeddings."
    w[e + "cls_token"] = rng.normal(0.0, 0.5, size=(1, 1, D)).astype(np.float32)
    w[e + "position_embeddings"] = rng.normal(0.0, 0.5, size=(1, T, D)).astype(np.float32)
    w[e + "patch_embeddings.projection.weight"] = mat(D, C, P, P)
    w[e + "patch_embeddings.projection.bias"] = bias(D)
    for i in range(c["layers"]):
        p = "%sencoder.layer.%d." % (pre, i)
        ln(p + "layernorm_before")
        for n in ("query", "key", "value"):
            w[p + "attention.attention.%s.weight" % n] = mat(D, D)
            if c["qkv_bias"]:
                w[p + "attention.attention.%s.bias" % n] = bias(D)
        w[p + "attention.output.dense.weight"] = mat(D, D)
        w[p + "attention.output.dense.bias"] = bias(D)
        ln(p + "layernorm_after")
        w[p + "intermediate.dense.weight"] = mat(I, D, std=std_in)
        w[p + "intermediate.dense.bias"] = bias(I)
        w[p + "output.dense.weight"] = mat(D, I, std=std_out)
        w[p + "output.dense.bias"] = bias(D)
    ln(pre + "layernorm")
    if c["kind"] == "cls":
        w["classifier.weight"] = mat(c["labels"], D)
        w["classifier.bias"] = bias(c["labels"])
    elif c["kind"] == "pooler":
        w["pooler.dense.weight"] = mat(D, D)
        w["pooler.dense.bias"] = bias(D)
    return w


def make_case(out_root, idx, name, c):
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(SEED + idx))
    cfg = make_config(c)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    w = make_weights(c, rng)
    lr.write_safetensors(os.path.join(d, "model.safetensors"), w, c["dtype"])
    px = rng.normal(0.0, 1.0, size=(c["batch"], c["channels"], c["image"], c["image"]))
    px = torch.from_numpy(px.astype(np.float32))
    # transformers, from what was stored (F16/BF16 rounding included)
    ref = lr.reference_tensors(d, px)
    lr.write_reference(os.path.join(d, "reference.safetensors"), ref)
    sizes = {f: os.path.getsize(os.path.join(d, f))
             for f in ("config.json", "model.safetensors", "reference.safetensors")}
    desc = ", ".join("%s %s" % (k, tuple(v.shape)) for k, v in ref.items()
                     if not k.startswith("hidden_states.") or k == "hidden_states.0")
    print("%-20s %7d B  (model %d, reference %d)  %s" % (
        name, sum(sizes.values()), sizes["model.safetensors"], sizes["reference.safetensors"], desc))
    if "logits" in ref:
        print("%-20s top1 %s" % ("", ref["logits"].argmax(-1).tolist()))
    return sum(sizes.values())


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "data", "vit-extra")))
    ap.add_argument("cases", nargs="*", help="subset of case names (default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # keeps the float32 reductions in one fixed order
    names = [n for n, _ in CASES]
    for n in args.cases:
        if n not in names:
            ap.error("unknown case %r (known: %s)" % (n, ", ".join(names)))
    total = 0
    for idx, (name, c) in enumerate(CASES):
        if args.cases and name not in args.cases:
            continue
        total += make_case(args.out, idx, name, c)
    print("total %d bytes (%s)" % (total, lr.versions()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
