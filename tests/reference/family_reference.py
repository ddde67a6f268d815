#!/usr/bin/python3
"""Float32 re-implementation of DeiT, BEiT and timm VisionTransformer, kept for the
sensitivity analysis of make_family_cases.py (--sensitivity), which needs to switch
single rules off (relative index, pooling, GELU, ...) -- the library models cannot.

It is NOT the source of the references: tests/data/family-extra/*/reference.safetensors
come from transformers and timm (tests/reference/library_references.py), and that script
checks that this module agrees with them on every family-extra case and on the shared
deit-tiny-distilled / beit-tiny fixtures (max|diff| <= 1e-5 x max(1, max|ref|)), so
what --sensitivity reports holds for the library models.

What it implements, with torch.nn.functional and eager attention:
  * transformers' DeiT (modeling_deit.py): DeiTModel / DeiTForImageClassification /
    DeiTForImageClassificationWithTeacher, keys prefixed "deit." (or unprefixed);
  * transformers' BEiT (modeling_beit.py): BeitModel / BeitForImageClassification, keys
    prefixed "beit." (or unprefixed), with per-layer or shared relative position bias,
    optional absolute position embeddings, layer scale (lambda_1 / lambda_2) and mean
    pooling;
  * timm's VisionTransformer (standard Block), timm naming (cls_token, pos_embed,
    patch_embed.proj, blocks.i.*, norm, fc_norm, head) and config.json ("architecture",
    "model_args", "pretrained_cfg"): class token, register tokens, no_embed_class,
    layer scale (ls1/ls2.gamma), global_pool "token" or "avg", fc_norm.
F16/BF16 weights are widened from the stored values; everything runs in float32.

Outputs (dict of float32 tensors), named as in the reference files:
  logits, pooled, hidden_states.0..L, attentions.last.cls

Usage (any Python with torch and safetensors, e.g. the venv of library_references.py):
  family_reference.py --check DIR [DIR ...]      compare with DIR/reference.safetensors
"""

import argparse
import json
import math
import os
import re
import sys

import safetensors.torch
import torch
import torch.nn.functional as F


def read_safetensors(path):
    """dict name -> float32 tensor (F16 / BF16 widened exactly)."""
    t = safetensors.torch.load_file(path)
    return {k: (v.float() if v.is_floating_point() else v) for k, v in t.items()}


# transformers' ACT2FN for the activations the cases use (looked up at call time, so
# --sensitivity can swap F.gelu)
ACT = {
    "gelu": lambda x: F.gelu(x),
    "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0)))),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "relu": F.relu,
    "tanh": torch.tanh,
}


def act_fn(name):
    if name not in ACT:
        raise ValueError("unsupported activation %r" % name)
    return ACT[name]


# ---------------------------------------------------------------- helpers

def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def _ln(x, w, p, eps):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], eps)


def _lin(x, w, p):
    return F.linear(x, w[p + ".weight"], w.get(p + ".bias"))


def _attend(q, k, v, scaling, bias=None):
    """q, k, v: N x H x T x hd.  Returns (context N x T x H*hd, probs N x H x T x T)."""
    scores = torch.matmul(q, k.transpose(-1, -2)) * scaling
    if bias is not None:
        scores = scores + bias
    probs = F.softmax(scores, dim=-1, dtype=torch.float32)
    ctx = torch.matmul(probs, v)
    n, h, t, hd = ctx.shape
    return ctx.transpose(1, 2).reshape(n, t, h * hd), probs


def _heads(x, H):
    n, t, d = x.shape
    return x.view(n, t, H, d // H).permute(0, 2, 1, 3)


def _hf_prefix(w, name):
    if any(k.startswith(name + ".embeddings.") for k in w):
        return name + "."
    if any(k.startswith("embeddings.") for k in w):
        return ""
    raise ValueError("no %s embeddings found in the checkpoint" % name)


def _patches(x, w, p, patch):
    e = F.conv2d(x, w[p + ".weight"], w.get(p + ".bias"), stride=patch)
    gh, gw = e.shape[2], e.shape[3]
    return e.flatten(2).transpose(1, 2), (gh, gw)


# ---------------------------------------------------------------- family detection

def family_of(cfg):
    if "model_type" in cfg:
        return cfg["model_type"]
    if "architecture" in cfg:
        return "timm"
    raise ValueError("config.json has neither model_type (transformers) nor architecture (timm)")


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    fam = family_of(cfg)
    if fam not in ("deit", "beit", "timm"):
        raise ValueError("unsupported family %r" % fam)
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    return cfg, w


# ---------------------------------------------------------------- DeiT

@torch.no_grad()
def forward_deit(cfg, w, pixel_values):
    """transformers DeiTModel + heads (modeling_deit.py, eager attention)."""
    x = pixel_values.to(torch.float32)
    pre = _hf_prefix(w, "deit")
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    D, H, L = int(cfg["hidden_size"]), int(cfg["num_attention_heads"]), int(cfg["num_hidden_layers"])
    scaling = (D // H) ** -0.5
    act = act_fn(cfg.get("hidden_act", "gelu"))
    N = x.shape[0]

    e = pre + "embeddings."
    emb, _ = _patches(x, w, e + "patch_embeddings.projection", _pair(cfg.get("patch_size", 16)))
    cls = w[e + "cls_token"].expand(N, -1, -1)
    dist = w[e + "distillation_token"].expand(N, -1, -1)
    h = torch.cat([cls, dist, emb], dim=1) + w[e + "position_embeddings"]

    hidden, probs = [h], None
    for i in range(L):
        p = "%sencoder.layer.%d." % (pre, i)
        a = _ln(h, w, p + "layernorm_before", eps)
        q = _heads(_lin(a, w, p + "attention.attention.query"), H)
        k = _heads(_lin(a, w, p + "attention.attention.key"), H)
        v = _heads(_lin(a, w, p + "attention.attention.value"), H)
        ctx, probs = _attend(q, k, v, scaling)
        h = _lin(ctx, w, p + "attention.output.dense") + h
        m = act(_lin(_ln(h, w, p + "layernorm_after", eps), w, p + "intermediate.dense"))
        h = _lin(m, w, p + "output.dense") + h
        hidden.append(h)

    seq = _ln(h, w, pre + "layernorm", eps)
    out = {}
    if "cls_classifier.weight" in w:           # DeiTForImageClassificationWithTeacher
        out["logits"] = (_lin(seq[:, 0], w, "cls_classifier")
                         + _lin(seq[:, 1], w, "distillation_classifier")) / 2
        out["pooled"] = seq[:, 0]
    elif "classifier.weight" in w:             # DeiTForImageClassification
        out["logits"] = _lin(seq[:, 0], w, "classifier")
        out["pooled"] = seq[:, 0]
    elif (pre + "pooler.dense.weight") in w:   # DeiTModel with pooler
        out["pooled"] = act_fn(cfg.get("pooler_act", "tanh"))(_lin(seq[:, 0], w, pre + "pooler.dense"))
    else:
        out["pooled"] = seq[:, 0]
    return out, hidden, probs


# ---------------------------------------------------------------- BEiT

def beit_relative_position_index(window):
    """transformers BeitRelativePositionBias.generate_relative_position_index:
    (Wh*Ww+1)^2 indices into a table of (2Wh-1)(2Ww-1)+3 rows; row/col 0 is [CLS]:
    [0, 1:] -> R-3 (cls to token), [1:, 0] -> R-2 (token to cls), [0, 0] -> R-1."""
    wh, ww = window
    R = (2 * wh - 1) * (2 * ww - 1) + 3
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij"))
    flat = coords.flatten(1)                                    # 2 x P
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()  # P x P x 2
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    P = wh * ww
    idx = torch.zeros((P + 1, P + 1), dtype=rel.dtype)
    idx[1:, 1:] = rel.sum(-1)
    idx[0, 0:] = R - 3
    idx[0:, 0] = R - 2
    idx[0, 0] = R - 1
    return idx


def beit_relative_position_bias(table, window):
    """H x T x T bias (T = Wh*Ww+1) gathered from a [(2Wh-1)(2Ww-1)+3, H] table."""
    wh, ww = window
    R = (2 * wh - 1) * (2 * ww - 1) + 3
    if table.shape[0] != R:
        raise ValueError("relative_position_bias_table has %d rows, window %dx%d needs %d"
                         % (table.shape[0], wh, ww, R))
    idx = beit_relative_position_index(window)
    T = wh * ww + 1
    return table[idx.view(-1)].view(T, T, -1).permute(2, 0, 1).contiguous()


@torch.no_grad()
def forward_beit(cfg, w, pixel_values):
    """transformers BeitModel + BeitForImageClassification head (modeling_beit.py)."""
    x = pixel_values.to(torch.float32)
    pre = _hf_prefix(w, "beit")
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    D, H, L = int(cfg["hidden_size"]), int(cfg["num_attention_heads"]), int(cfg["num_hidden_layers"])
    hd = D // H
    act = act_fn(cfg.get("hidden_act", "gelu"))
    N = x.shape[0]

    e = pre + "embeddings."
    emb, window = _patches(x, w, e + "patch_embeddings.projection", _pair(cfg.get("patch_size", 16)))
    h = torch.cat([w[e + "cls_token"].expand(N, -1, -1), emb], dim=1)
    if cfg.get("use_absolute_position_embeddings", False):
        h = h + w[e + "position_embeddings"]

    shared = None
    if cfg.get("use_shared_relative_position_bias", False):
        shared = beit_relative_position_bias(
            w[pre + "encoder.relative_position_bias.relative_position_bias_table"], window)

    hidden, probs = [h], None
    for i in range(L):
        p = "%sencoder.layer.%d." % (pre, i)
        a = _ln(h, w, p + "layernorm_before", eps)
        q = _heads(_lin(a, w, p + "attention.attention.query"), H)
        k = _heads(F.linear(a, w[p + "attention.attention.key.weight"]), H)   # key: no bias
        v = _heads(_lin(a, w, p + "attention.attention.value"), H)
        bias = None
        if cfg.get("use_relative_position_bias", False):
            bias = beit_relative_position_bias(
                w[p + "attention.attention.relative_position_bias.relative_position_bias_table"],
                window).unsqueeze(0)
        if shared is not None:
            bias = shared.unsqueeze(0) if bias is None else bias + shared.unsqueeze(0)
        # transformers: scores = q k^T / sqrt(hd) (+ layer bias) (+ shared bias)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        if bias is not None:
            scores = scores + bias
        probs = F.softmax(scores, dim=-1, dtype=torch.float32)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(N, -1, D)
        att = _lin(ctx, w, p + "attention.output.dense")
        if (p + "lambda_1") in w:
            att = w[p + "lambda_1"] * att
        h = att + h
        m = act(_lin(_ln(h, w, p + "layernorm_after", eps), w, p + "intermediate.dense"))
        m = _lin(m, w, p + "output.dense")
        if (p + "lambda_2") in w:
            m = w[p + "lambda_2"] * m
        h = m + h
        hidden.append(h)

    out = {}
    if cfg.get("use_mean_pooling", True):
        seq = h                                                   # beit.layernorm is Identity
        pooled = _ln(seq[:, 1:].mean(1), w, pre + "pooler.layernorm", eps)
    else:
        seq = _ln(h, w, pre + "layernorm", eps)
        pooled = seq[:, 0]
    out["pooled"] = pooled
    if "classifier.weight" in w:
        out["logits"] = _lin(pooled, w, "classifier")
    return out, hidden, probs


# ---------------------------------------------------------------- timm VisionTransformer

# name -> (patch, embed_dim, depth, num_heads) of timm's vit_* entrypoints
_TIMM_SIZES = {"tiny": (192, 12, 3), "small": (384, 12, 6), "base": (768, 12, 12),
               "large": (1024, 24, 16), "huge": (1280, 32, 16)}


def timm_settings(cfg):
    """Resolve the VisionTransformer kwargs from a timm config.json."""
    arch = cfg["architecture"]
    m = re.match(r"^vit_(tiny|small|base|large|huge)_patch(\d+)_(?:clip_)?(\d+)", arch)
    if not m:
        raise ValueError("unsupported timm architecture %r" % arch)
    D, depth, heads = _TIMM_SIZES[m.group(1)]
    s = dict(patch_size=int(m.group(2)), img_size=int(m.group(3)), embed_dim=D, depth=depth,
             num_heads=heads, mlp_ratio=4.0, qkv_bias=True, class_token=True, reg_tokens=0,
             no_embed_class=False, global_pool="token", fc_norm=None, init_values=None,
             in_chans=3, num_classes=int(cfg.get("num_classes", 1000)))
    pc = cfg.get("pretrained_cfg", {})
    if "input_size" in pc:
        s["img_size"] = int(pc["input_size"][-1])
        s["in_chans"] = int(pc["input_size"][0])
    if cfg.get("global_pool"):
        s["global_pool"] = cfg["global_pool"]
    s.update(cfg.get("model_args", {}))
    if s["fc_norm"] is None:
        s["fc_norm"] = s["global_pool"] in ("avg", "avgmax", "max")
    if s["global_pool"] not in ("token", "avg"):
        raise ValueError("unsupported global_pool %r" % s["global_pool"])
    return s


@torch.no_grad()
def forward_timm(cfg, w, pixel_values, eps=1e-6):
    """timm VisionTransformer.forward_features + forward_head (standard Block)."""
    x = pixel_values.to(torch.float32)
    s = timm_settings(cfg)
    D, H = s["embed_dim"], s["num_heads"]
    scaling = (D // H) ** -0.5
    N = x.shape[0]

    emb, _ = _patches(x, w, "patch_embed.proj", _pair(s["patch_size"]))
    prefix = []
    if s["class_token"]:
        prefix.append(w["cls_token"].expand(N, -1, -1))
    if s["reg_tokens"]:
        prefix.append(w["reg_token"].expand(N, -1, -1))
    n_prefix = sum(t.shape[1] for t in prefix)
    if s["no_embed_class"]:            # pos_embed covers the patches only: add, then concat
        h = torch.cat(prefix + [emb + w["pos_embed"]], dim=1)
    else:                              # pos_embed covers prefix + patches: concat, then add
        h = torch.cat(prefix + [emb], dim=1) + w["pos_embed"]

    hidden, probs = [h], None
    depth = s["depth"]
    for i in range(depth):
        p = "blocks.%d." % i
        a = _ln(h, w, p + "norm1", eps)
        qkv = _lin(a, w, p + "attn.qkv").view(N, -1, 3, H, D // H).permute(2, 0, 3, 1, 4)
        ctx, probs = _attend(qkv[0], qkv[1], qkv[2], scaling)
        y = _lin(ctx, w, p + "attn.proj")
        if (p + "ls1.gamma") in w:
            y = y * w[p + "ls1.gamma"]
        h = h + y
        m = F.gelu(_lin(_ln(h, w, p + "norm2", eps), w, p + "mlp.fc1"))     # nn.GELU: exact
        m = _lin(m, w, p + "mlp.fc2")
        if (p + "ls2.gamma") in w:
            m = m * w[p + "ls2.gamma"]
        h = h + m
        hidden.append(h)

    use_fc_norm = bool(s["fc_norm"])
    seq = h if use_fc_norm else _ln(h, w, "norm", eps)      # self.norm is Identity with fc_norm
    if s["global_pool"] == "avg":
        pooled = seq[:, n_prefix:].mean(1)
    else:
        pooled = seq[:, 0]
    if use_fc_norm:
        pooled = _ln(pooled, w, "fc_norm", eps)
    out = {"pooled": pooled}
    if "head.weight" in w:
        out["logits"] = _lin(pooled, w, "head")
    return out, hidden, probs


# ---------------------------------------------------------------- dispatch

def forward(cfg, w, pixel_values, **kw):
    fam = family_of(cfg)
    fn = {"deit": forward_deit, "beit": forward_beit, "timm": forward_timm}[fam]
    out, hidden, probs = fn(cfg, w, pixel_values, **kw)
    for i, t in enumerate(hidden):
        out["hidden_states.%d" % i] = t
    out["attentions.last.cls"] = probs[:, :, 0, :]
    return out


def reference_tensors(cfg, w, pixel_values, **kw):
    """The tensors written to a reference.safetensors (float32, contiguous)."""
    ref = {"pixel_values": pixel_values.to(torch.float32)}
    ref.update(forward(cfg, w, pixel_values, **kw))
    return {k: v.contiguous() for k, v in ref.items()}


# ---------------------------------------------------------------- checks

def compare(label, mine, ref, tol):
    names = [k for k in ["logits", "pooled"]
             + sorted((k for k in ref if k.startswith("hidden_states.")), key=lambda s: int(s.split(".")[1]))
             + ["attentions.last.cls"] if k in ref]
    print("%s  (N=%d)" % (label, ref["pixel_values"].shape[0]))
    worst = 0.0
    for k in names:
        if k not in mine:
            print("  %-22s MISSING in reimplementation" % k)
            worst = float("inf")
            continue
        if tuple(mine[k].shape) != tuple(ref[k].shape):
            print("  %-22s shape %s vs reference %s" % (k, tuple(mine[k].shape), tuple(ref[k].shape)))
            worst = float("inf")
            continue
        d = (mine[k] - ref[k]).abs().max().item()
        worst = max(worst, d)
        print("  %-22s max|diff| = %.3e   (max|ref| = %.3g)" % (k, d, ref[k].abs().max().item()))
    if "logits" in ref and "logits" in mine:
        agree = (mine["logits"].argmax(-1) == ref["logits"].argmax(-1)).float().mean().item()
        print("  top-1 agreement %.4f" % agree)
    ok = worst <= tol
    print("  worst %.3e -> %s (tol %.0e)" % (worst, "OK" if ok else "FAIL", tol))
    return ok, worst


def check(model_dir, tol):
    cfg, w = load_model(model_dir)
    ref = read_safetensors(os.path.join(model_dir, "reference.safetensors"))
    return compare(model_dir, reference_tensors(cfg, w, ref["pixel_values"]), ref, tol)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", nargs="+", metavar="DIR", required=True)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    ok = True
    for d in args.check:
        ok = check(d, args.tol)[0] and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
