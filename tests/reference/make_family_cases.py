#!/usr/bin/python3
"""Generate the DeiT / BEiT / timm-ViT test cases under tests/data/family-extra/<case>/.

Each case is a small model directory with random weights:
  config.json           as transformers 5.x (DeiTConfig / BeitConfig.save_pretrained) or
                        timm (save_config_for_hf / push_to_hub) writes it
  model.safetensors     weights in F32 / F16 / BF16
  reference.safetensors F32: pixel_values ~ N(0,1), logits, pooled, hidden_states.0..L,
                        attentions.last.cls from transformers (DeiT, BEiT) or timm
                        (VisionTransformer) via library_references.py, in float32 from
                        the weights as stored (after F16/BF16 rounding)

Fully deterministic: every case draws from numpy's PCG64 seeded with SEED + case index;
config.json and model.safetensors are byte-identical on re-run.

Usage (from the repository root, with the venv of library_references.py):
  /path/to/venv/bin/python tests/reference/make_family_cases.py [--out DIR] [CASE ...]
  /path/to/venv/bin/python tests/reference/make_family_cases.py --sensitivity [--out DIR] [CASE ...]
      does not write: for every case already in DIR, re-runs family_reference.py (the
      re-implementation library_references.py checks against transformers / timm) with one
      parameter neutralised at a time (LayerNorm weight -> 1, bias / token / position /
      relative-position table -> 0, layer scale -> 1 and -> its init constant, ...) and with
      a few plausible implementation mistakes, and prints how far each moves the outputs
      (max |diff| over logits, pooled and hidden states; anything >= 1e-3 shows at the
      1e-4 test tolerance).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import family_reference as fr  # noqa: E402
import library_references as lr  # noqa: E402

SEED = 20240717

# kind: "deit-teacher" (DeiTForImageClassificationWithTeacher), "deit" (DeiTForImageClassification),
#       "beit" (BeitForImageClassification), "timm" (timm VisionTransformer).
CASES = [
    ("deit-distilled-p8", dict(kind="deit-teacher", image=32, patch=8, hidden=48, heads=3, layers=2,
                               inter=96, labels=5, batch=2, dtype="F32")),
    ("beit-shared-meanpool", dict(kind="beit", image=40, patch=8, hidden=32, heads=2, layers=2,
                                  inter=64, labels=4, batch=2, dtype="F32",
                                  abs_pos=False, rel_bias=False, shared_rel_bias=True,
                                  mean_pool=True, layer_scale=0.1)),
    ("beit-abspos-cls", dict(kind="beit", image=32, patch=8, hidden=32, heads=4, layers=2,
                             inter=128, labels=3, batch=1, dtype="F32",
                             abs_pos=True, rel_bias=True, shared_rel_bias=False,
                             mean_pool=False, layer_scale=0.0)),
    # vit_tiny's embed_dim 192 cannot fit the 400 KB budget (the patch projection alone is
    # 295 KB in F16), so embed_dim is overridden to 48 (heads stay 3, as vit_tiny).
    ("timm-vit-tiny-f16", dict(kind="timm", architecture="vit_tiny_patch16_224",
                               model_args={"depth": 2, "img_size": 64, "embed_dim": 48},
                               labels=10, batch=2, dtype="F16")),
    # BF16 storage keeps it under 400 KB (F32 would be ~430 KB with the 48x48 images).
    ("timm-avg-reg-ls", dict(kind="timm", architecture="vit_small_patch16_224",
                             model_args={"depth": 2, "embed_dim": 48, "num_heads": 3, "img_size": 48,
                                         "reg_tokens": 2, "no_embed_class": True, "global_pool": "avg",
                                         "fc_norm": True, "init_values": 0.1},
                             labels=6, batch=2, dtype="BF16")),
    ("deit-plain-p16", dict(kind="deit", image=32, patch=16, hidden=32, heads=2, layers=2,
                            inter=64, labels=3, batch=2, dtype="F32")),
]

MAT_STD = 0.05           # value / attention-output / classifier / patch-projection matrices
QK_STD = 0.15            # query and key matrices: attention far from uniform, so that q/k
                         # weights and biases matter and token 0 depends on the image
MLP_STD = (0.3, 0.2)     # intermediate (fc1), output (fc2): pre-activations reach |x| ~ 1-4,
                         # where tanh-GELU and exact GELU differ visibly
TOKEN_STD = 0.5          # cls / distillation / register tokens, position embeddings
REL_STD = 0.5            # BEiT relative position bias tables
LS_REL = 0.3             # layer scale: init * (1 + N(0, LS_REL))

_TORCH_DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


# ---------------------------------------------------------------- configs

def _labels(n):
    return ({str(i): "LABEL_%d" % i for i in range(n)}, {"LABEL_%d" % i: i for i in range(n)})


def deit_config(c):
    """DeiTConfig.save_pretrained (transformers 5.17, same keys as the shared fixture)."""
    id2label, label2id = _labels(c["labels"])
    return {
        "architectures": ["DeiTForImageClassificationWithTeacher" if c["kind"] == "deit-teacher"
                          else "DeiTForImageClassification"],
        "attention_probs_dropout_prob": 0.0,
        "dtype": _TORCH_DTYPE_NAME[c["dtype"]],
        "encoder_stride": 16,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": c["hidden"],
        "id2label": id2label,
        "image_size": c["image"],
        "initializer_range": 0.02,
        "intermediate_size": c["inter"],
        "label2id": label2id,
        "layer_norm_eps": 1e-12,
        "model_type": "deit",
        "num_attention_heads": c["heads"],
        "num_channels": 3,
        "num_hidden_layers": c["layers"],
        "patch_size": c["patch"],
        "pooler_act": "tanh",
        "pooler_output_size": c["hidden"],
        "qkv_bias": True,
        "transformers_version": "5.17.0",
    }


def beit_config(c):
    """BeitConfig.save_pretrained (transformers 5.17, same keys as the shared fixture)."""
    id2label, label2id = _labels(c["labels"])
    L = c["layers"]
    return {
        "add_fpn": False,
        "architectures": ["BeitForImageClassification"],
        "attention_probs_dropout_prob": 0.0,
        "auxiliary_channels": 256,
        "auxiliary_concat_input": False,
        "auxiliary_loss_weight": 0.4,
        "auxiliary_num_convs": 1,
        "drop_path_rate": 0.1,
        "dtype": _TORCH_DTYPE_NAME[c["dtype"]],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": c["hidden"],
        "id2label": id2label,
        "image_size": c["image"],
        "initializer_range": 0.02,
        "intermediate_size": c["inter"],
        "label2id": label2id,
        "layer_norm_eps": 1e-12,
        "layer_scale_init_value": c["layer_scale"],
        "model_type": "beit",
        "num_attention_heads": c["heads"],
        "num_channels": 3,
        "num_hidden_layers": L,
        "out_features": ["stage%d" % L],
        "out_indices": [L],
        "patch_size": c["patch"],
        "pool_scales": [1, 2, 3, 6],
        "reshape_hidden_states": True,
        "semantic_loss_ignore_index": 255,
        "stage_names": ["stem"] + ["stage%d" % i for i in range(1, L + 1)],
        "transformers_version": "5.17.0",
        "use_absolute_position_embeddings": c["abs_pos"],
        "use_auxiliary_head": True,
        "use_mask_token": False,
        "use_mean_pooling": c["mean_pool"],
        "use_relative_position_bias": c["rel_bias"],
        "use_shared_relative_position_bias": c["shared_rel_bias"],
        "vocab_size": 8192,
    }


def timm_config(c):
    """timm save_config_for_hf: insertion order, pretrained_cfg filtered (no source, no nulls)."""
    s = fr.timm_settings({"architecture": c["architecture"], "num_classes": c["labels"],
                          "model_args": c["model_args"]})
    S = s["img_size"]
    return {
        "architecture": c["architecture"],
        "num_classes": c["labels"],
        "num_features": s["embed_dim"],
        "global_pool": s["global_pool"],
        "model_args": c["model_args"],
        "pretrained_cfg": {
            "input_size": [3, S, S],
            "fixed_input_size": True,
            "interpolation": "bicubic",
            "crop_pct": 0.9,
            "crop_mode": "center",
            "mean": [0.5, 0.5, 0.5],
            "std": [0.5, 0.5, 0.5],
            "num_classes": c["labels"],
            "first_conv": "patch_embed.proj",
            "classifier": "head",
        },
    }


# ---------------------------------------------------------------- weights

class _Gen:
    def __init__(self, rng):
        self.rng = rng

    def normal(self, std, *shape):
        return self.rng.normal(0.0, std, size=shape).astype(np.float32)

    def ln_weight(self, n):
        return (1.0 + self.rng.normal(0.0, 0.2, size=(n,))).astype(np.float32)

    def bias(self, n):
        return self.normal(MAT_STD, n)

    def layer_scale(self, init, n):
        return (init * (1.0 + self.rng.normal(0.0, LS_REL, size=(n,)))).astype(np.float32)


def hf_weights(c, g):
    """DeiT / BEiT: transformers names, "deit." / "beit." prefix + classifier heads."""
    D, I, P, L = c["hidden"], c["inter"], c["patch"], c["layers"]
    beit = c["kind"] == "beit"
    pre = "beit." if beit else "deit."
    grid = c["image"] // P
    w = {}

    def ln(p):
        w[p + ".weight"] = g.ln_weight(D)
        w[p + ".bias"] = g.bias(D)

    def lin(p, n_out, n_in, std=MAT_STD, bias=True):
        w[p + ".weight"] = g.normal(std, n_out, n_in)
        if bias:
            w[p + ".bias"] = g.bias(n_out)

    e = pre + "embeddings."
    w[e + "cls_token"] = g.normal(TOKEN_STD, 1, 1, D)
    if not beit:
        w[e + "distillation_token"] = g.normal(TOKEN_STD, 1, 1, D)
        w[e + "position_embeddings"] = g.normal(TOKEN_STD, 1, grid * grid + 2, D)
    elif c["abs_pos"]:
        w[e + "position_embeddings"] = g.normal(TOKEN_STD, 1, grid * grid + 1, D)
    w[e + "patch_embeddings.projection.weight"] = g.normal(MAT_STD, D, 3, P, P)
    w[e + "patch_embeddings.projection.bias"] = g.bias(D)
    R = (2 * grid - 1) ** 2 + 3
    if beit and c["shared_rel_bias"]:
        w[pre + "encoder.relative_position_bias.relative_position_bias_table"] = g.normal(REL_STD, R, c["heads"])
    for i in range(L):
        p = "%sencoder.layer.%d." % (pre, i)
        ln(p + "layernorm_before")
        lin(p + "attention.attention.query", D, D, std=QK_STD)
        lin(p + "attention.attention.key", D, D, std=QK_STD, bias=not beit)      # BEiT: key has no bias
        lin(p + "attention.attention.value", D, D)
        if beit and c["rel_bias"]:
            w[p + "attention.attention.relative_position_bias.relative_position_bias_table"] = \
                g.normal(REL_STD, R, c["heads"])
        lin(p + "attention.output.dense", D, D)
        ln(p + "layernorm_after")
        lin(p + "intermediate.dense", I, D, std=MLP_STD[0])
        lin(p + "output.dense", D, I, std=MLP_STD[1])
        if beit and c["layer_scale"] > 0:
            w[p + "lambda_1"] = g.layer_scale(c["layer_scale"], D)
            w[p + "lambda_2"] = g.layer_scale(c["layer_scale"], D)
    if beit and c["mean_pool"]:
        ln(pre + "pooler.layernorm")
    else:
        ln(pre + "layernorm")
    K = c["labels"]
    if c["kind"] == "deit-teacher":
        lin("cls_classifier", K, D)
        lin("distillation_classifier", K, D)
    else:
        lin("classifier", K, D)
    return w


def timm_weights(c, g):
    s = fr.timm_settings({"architecture": c["architecture"], "num_classes": c["labels"],
                          "model_args": c["model_args"]})
    D, P = s["embed_dim"], s["patch_size"]
    I = int(D * s["mlp_ratio"])
    n_patch = (s["img_size"] // P) ** 2
    n_prefix = int(s["class_token"]) + s["reg_tokens"]
    w = {}

    def ln(p):
        w[p + ".weight"] = g.ln_weight(D)
        w[p + ".bias"] = g.bias(D)

    def lin(p, n_out, n_in, std=MAT_STD):
        w[p + ".weight"] = g.normal(std, n_out, n_in)
        w[p + ".bias"] = g.bias(n_out)

    w["cls_token"] = g.normal(TOKEN_STD, 1, 1, D)
    if s["reg_tokens"]:
        w["reg_token"] = g.normal(TOKEN_STD, 1, s["reg_tokens"], D)
    w["pos_embed"] = g.normal(TOKEN_STD, 1, n_patch + (0 if s["no_embed_class"] else n_prefix), D)
    w["patch_embed.proj.weight"] = g.normal(MAT_STD, D, 3, P, P)
    w["patch_embed.proj.bias"] = g.bias(D)
    for i in range(s["depth"]):
        p = "blocks.%d." % i
        ln(p + "norm1")
        lin(p + "attn.qkv", 3 * D, D)
        w[p + "attn.qkv.weight"][:2 * D] *= QK_STD / MAT_STD     # q and k rows
        lin(p + "attn.proj", D, D)
        if s["init_values"]:
            w[p + "ls1.gamma"] = g.layer_scale(s["init_values"], D)
        ln(p + "norm2")
        lin(p + "mlp.fc1", I, D, std=MLP_STD[0])
        lin(p + "mlp.fc2", D, I, std=MLP_STD[1])
        if s["init_values"]:
            w[p + "ls2.gamma"] = g.layer_scale(s["init_values"], D)
    if s["fc_norm"]:
        ln("fc_norm")
    else:
        ln("norm")
    lin("head", c["labels"], D)
    return w


def image_size(c):
    if c["kind"] == "timm":
        return c["model_args"]["img_size"]
    return c["image"]


def make_case(out_root, idx, name, c):
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    g = _Gen(np.random.Generator(np.random.PCG64(SEED + idx)))
    if c["kind"] == "timm":
        cfg, w = timm_config(c), timm_weights(c, g)
        cfg_text = json.dumps(cfg, indent=2)
    else:
        cfg = deit_config(c) if c["kind"].startswith("deit") else beit_config(c)
        w = hf_weights(c, g)
        cfg_text = json.dumps(cfg, indent=2, sort_keys=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(cfg_text + "\n")
    lr.write_safetensors(os.path.join(d, "model.safetensors"), w, c["dtype"])
    S = image_size(c)
    px = torch.from_numpy(g.normal(1.0, c["batch"], 3, S, S))
    # transformers / timm, from what was stored (F16/BF16 rounding included)
    ref = lr.reference_tensors(d, px)
    lr.write_reference(os.path.join(d, "reference.safetensors"), ref)
    sizes = {f: os.path.getsize(os.path.join(d, f))
             for f in ("config.json", "model.safetensors", "reference.safetensors")}
    desc = ", ".join("%s %s" % (k, tuple(v.shape)) for k, v in ref.items()
                     if not k.startswith("hidden_states.") or k == "hidden_states.0")
    print("%-22s %7d B  (model %d, reference %d)  %s" % (
        name, sum(sizes.values()), sizes["model.safetensors"], sizes["reference.safetensors"], desc))
    print("%-22s top1 %s" % ("", ref["logits"].argmax(-1).tolist()))
    return sum(sizes.values())


# ---------------------------------------------------------------- sensitivity

def _effect(cfg, w, px, ref, **kw):
    o = fr.forward(cfg, w, px, **kw)
    keys = [k for k in ref if k in ("logits", "pooled") or k.startswith("hidden_states.")]
    best, where = 0.0, ""
    for k in keys:
        if k not in o or o[k].shape != ref[k].shape:
            return float("inf"), k + " shape"
        dd = (o[k] - ref[k]).abs().max().item()
        if dd > best:
            best, where = dd, k
    return best, where


def _neutral(name, t, init=None):
    """What an implementation that ignores tensor `name` effectively uses instead."""
    base = name.rsplit(".", 1)[-1]
    if name.endswith("gamma") or base.startswith("lambda_"):
        return torch.full_like(t, init) if init is not None else torch.ones_like(t)
    if base == "weight" and t.dim() == 1:          # LayerNorm weight
        return torch.ones_like(t)
    return torch.zeros_like(t)


def sensitivity(d, tol_show=1e-3):
    cfg, w = fr.load_model(d)
    ref = lr.read_safetensors(os.path.join(d, "reference.safetensors"))
    px = ref["pixel_values"]
    rows = []
    for name in sorted(w):
        w2 = dict(w)
        w2[name] = _neutral(name, w[name])
        rows.append(("zero/neutral " + name,) + _effect(cfg, w2, px, ref))
        if name.endswith("gamma") or name.rsplit(".", 1)[-1].startswith("lambda_"):
            init = (cfg.get("layer_scale_init_value") if "model_type" in cfg
                    else cfg["model_args"]["init_values"])
            w2[name] = _neutral(name, w[name], init)
            rows.append(("constant %g %s" % (init, name),) + _effect(cfg, w2, px, ref))
        if name.endswith("relative_position_bias_table"):
            w2 = dict(w)
            t = w[name].clone()
            t[-3:] = 0
            w2[name] = t
            rows.append(("cls entries 0 " + name,) + _effect(cfg, w2, px, ref))

    # plausible implementation mistakes
    fam = fr.family_of(cfg)
    orig_gelu = F.gelu
    try:
        fr.F.gelu = lambda x, approximate="none": orig_gelu(x, approximate="tanh")
        rows.append(("tanh GELU instead of exact",) + _effect(cfg, w, px, ref))
    finally:
        fr.F.gelu = orig_gelu
    if fam in ("deit", "beit"):
        c2 = dict(cfg, layer_norm_eps=1e-6)
        rows.append(("LayerNorm eps 1e-6 instead of 1e-12",) + _effect(c2, w, px, ref))
    else:
        rows.append(("LayerNorm eps 1e-12 instead of 1e-6",) + _effect(cfg, w, px, ref, eps=1e-12))
        rows.append(("LayerNorm eps 1e-5 instead of 1e-6",) + _effect(cfg, w, px, ref, eps=1e-5))
    if fam == "deit" and "cls_classifier.weight" in w:
        w2 = dict(w)
        for k in ("distillation_classifier.weight", "distillation_classifier.bias"):
            w2[k] = w["cls_classifier" + k[len("distillation_classifier"):]]
        rows.append(("teacher: cls head for both tokens",) + _effect(cfg, w2, px, ref))
        w2 = dict(w)
        for k in ("weight", "bias"):
            w2["distillation_classifier." + k] = torch.zeros_like(w[ "distillation_classifier." + k])
            w2["cls_classifier." + k] = 2 * w["cls_classifier." + k]
        rows.append(("teacher: cls head only",) + _effect(cfg, w2, px, ref))
    if fam == "beit":
        orig_idx = fr.beit_relative_position_index
        try:
            fr.beit_relative_position_index = lambda win: orig_idx(win).t().contiguous()
            rows.append(("rel-pos index transposed",) + _effect(cfg, w, px, ref))

            def swapped(win):
                i = orig_idx(win).clone()
                R = int(i.max()) + 1
                i[0, 1:] = R - 2
                i[1:, 0] = R - 3
                return i
            fr.beit_relative_position_index = swapped
            rows.append(("rel-pos cls->token / token->cls swapped",) + _effect(cfg, w, px, ref))
        finally:
            fr.beit_relative_position_index = orig_idx
        if cfg.get("use_mean_pooling"):
            L = cfg["num_hidden_layers"]
            last = fr.forward(cfg, w, px)["hidden_states.%d" % L]
            eps = cfg.get("layer_norm_eps", 1e-12)
            pooled = F.layer_norm(last.mean(1), (last.shape[-1],), w["beit.pooler.layernorm.weight"],
                                  w["beit.pooler.layernorm.bias"], eps)
            dd = (pooled - ref["pooled"]).abs().max().item()
            dl = (F.linear(pooled, w["classifier.weight"], w["classifier.bias"]) - ref["logits"]).abs().max().item()
            rows.append(("mean pooling includes [CLS]", max(dd, dl), "pooled/logits"))
    if fam == "timm":
        s = fr.timm_settings(cfg)
        D = s["embed_dim"]
        w2 = dict(w)
        for i in range(s["depth"]):
            for k in ("weight", "bias"):
                t = w["blocks.%d.attn.qkv.%s" % (i, k)]
                w2["blocks.%d.attn.qkv.%s" % (i, k)] = torch.cat([t[D:2 * D], t[:D], t[2 * D:]], 0)
        rows.append(("qkv split as k,q,v",) + _effect(cfg, w2, px, ref))
        if s["global_pool"] == "avg":
            last = fr.forward(cfg, w, px)["hidden_states.%d" % s["depth"]]
            for label, sl in (("avg includes prefix tokens", slice(0, None)),
                              ("avg skips only [CLS]", slice(1, None))):
                pooled = F.layer_norm(last[:, sl].mean(1), (D,), w["fc_norm.weight"], w["fc_norm.bias"], 1e-6)
                dd = (pooled - ref["pooled"]).abs().max().item()
                dl = (F.linear(pooled, w["head.weight"], w["head.bias"]) - ref["logits"]).abs().max().item()
                rows.append((label, max(dd, dl), "pooled/logits"))
        if s["reg_tokens"]:
            w2 = dict(w)
            # registers before [CLS]: equivalent to rotating the prefix; emulate by swapping
            # cls with the first register (token 0 then holds a register)
            r = w["reg_token"].clone()
            w2["cls_token"] = r[:, :1].clone()
            r[:, 0] = w["cls_token"][:, 0]
            w2["reg_token"] = r
            rows.append(("[CLS] and register 0 exchanged",) + _effect(cfg, w2, px, ref))
        if s["no_embed_class"]:
            c2 = json.loads(json.dumps(cfg))
            c2["model_args"]["no_embed_class"] = False
            w2 = dict(w)
            pe = w["pos_embed"]
            w2["pos_embed"] = torch.cat([torch.zeros(1, 1 + s["reg_tokens"], D), pe], 1)
            rows.append(("pos_embed also on prefix (zeros) [sanity: should be 0]",)
                        + _effect(c2, w2, px, ref))
            w2["pos_embed"] = torch.cat([pe, torch.zeros(1, 1 + s["reg_tokens"], D)], 1)
            rows.append(("pos_embed aligned to the first tokens",) + _effect(c2, w2, px, ref))

    def note(label):
        if label.endswith("should be 0]"):
            return "sanity"
        if label.endswith("key.bias"):
            return "invisible by design: q.b_k is the same for every key, softmax cancels it"
        if "eps" in label:
            return "not exercised: LayerNorm inputs have variance ~1"
        return ""

    print(d)
    counted = [r for r in rows if not note(r[0])]
    weakest = min(counted, key=lambda r: r[1])
    for label, eff, where in rows:
        n = note(label)
        flag = ("   [%s]" % n) if n else ("" if eff >= tol_show else "   <-- weak")
        print("  %-78s %.3e  (%s)%s" % (label, eff, where, flag))
    print("  weakest counted effect %.3e: %s" % (weakest[1], weakest[0]))
    return weakest[1]


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "data", "family-extra")))
    ap.add_argument("--sensitivity", action="store_true")
    ap.add_argument("cases", nargs="*", help="subset of case names (default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # keeps the float32 reductions in one fixed order
    names = [n for n, _ in CASES]
    for n in args.cases:
        if n not in names:
            ap.error("unknown case %r (known: %s)" % (n, ", ".join(names)))
    sel = [(i, n, c) for i, (n, c) in enumerate(CASES) if not args.cases or n in args.cases]
    if args.sensitivity:
        for _, n, _ in sel:
            sensitivity(os.path.join(args.out, n))
        return 0
    total = 0
    for idx, name, c in sel:
        total += make_case(args.out, idx, name, c)
    print("total %d bytes (%s)" % (total, lr.versions()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
