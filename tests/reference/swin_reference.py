#!/usr/bin/python3
"""Independent float32 reference for Hugging Face Swin (v1) checkpoints.

Re-implements the forward pass of transformers' SwinForImageClassification / SwinModel
(models/swin/modeling_swin.py, eager attention, inference mode) with torch.nn.functional
only -- transformers is not needed.  Reads a HF Swin directory (config.json +
model.safetensors; F32/F16/BF16 weights, keys prefixed "swin." for
SwinForImageClassification or unprefixed for SwinModel); everything is computed in float32.

What it does, in transformers' order:
  embeddings   pad the image right/bottom with zeros to a multiple of patch_size, patch
               conv, flatten to tokens, embeddings.norm (LayerNorm, eps 1e-5 -- nn.LayerNorm's
               default, not config.layer_norm_eps), + position_embeddings (1 x H*W x C) when
               use_absolute_embeddings
  stage s      blocks b = 0..depth-1 at resolution H x W, window ws = config.window_size,
               shift = ws // 2 on odd blocks; if min(H, W) <= ws: shift = 0, ws = min(H, W)
               (the block's relative_position_bias_table must then be (2ws-1)^2 x heads).
    block      x = LN_before(h) viewed as (B, H, W, C), zero-padded right/bottom to a multiple
               of ws (padded tokens are NOT masked: they take part as keys/values), rolled by
               (-shift, -shift), split into ws x ws windows; per window softmax(q k^T/sqrt(d)
               + table[relative_position_index] + shift mask) v, where the shift mask is -100
               between tokens of different regions (regions from the slices (0,-ws),
               (-ws,-shift), (-shift,None) of the padded map in each direction); output dense;
               windows merged, rolled back by (+shift, +shift), padding cropped; h += x;
               h += output.dense(act(intermediate.dense(LN_after(h))))
    downsample (all but the last stage) pad H, W to even, concat x[0::2,0::2], x[1::2,0::2],
               x[0::2,1::2], x[1::2,1::2] (4C), downsample.norm (LayerNorm, eps 1e-5),
               reduction (4C -> 2C, no bias); H, W = ceil(H/2), ceil(W/2)
  head         swin.layernorm (config eps) on every token, mean over tokens
               (AdaptiveAvgPool1d), classifier

Outputs (as transformers returns them with output_hidden_states=True):
  logits             N x labels (when classifier.* exists)
  pooled             N x hidden_size (the mean-pooled final-LN tokens; not in the fixtures)
  hidden_states.0    N x T0 x embed_dim   embeddings output
  hidden_states.i    output of stage i-1 AFTER its downsample (the last stage has none),
                     before the final LayerNorm

Usage:
  swin_reference.py MODEL_DIR --pixels IN.safetensors --out REF.safetensors
  swin_reference.py --check DIR [DIR ...]       compare with DIR/reference.safetensors
  swin_reference.py --make-cases [--out tests/data/swin-extra] [CASE ...]
  swin_reference.py --sensitivity DIR [DIR ...] how far each parameter / rule moves the outputs

--make-cases writes deterministic random cases (numpy PCG64, fixed seed, one torch thread)
as config.json (transformers 5.x SwinConfig.save_pretrained layout), model.safetensors and
reference.safetensors (pixel_values, logits, hidden_states.0..S).

Run it with Debian's /usr/bin/python3 (python3-torch, python3-numpy).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_reference as vr  # noqa: E402  (safetensors reader/writer, ACT2FN)

NN_LAYERNORM_EPS = 1e-5  # embeddings.norm and downsample.norm are nn.LayerNorm(dim)

# ---------------------------------------------------------------- model loading


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "swin":
        raise ValueError("not a Swin checkpoint: model_type=%r" % cfg.get("model_type"))
    w, _ = vr.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    return cfg, w


def _prefix(w):
    if any(k.startswith("swin.embeddings.") for k in w):
        return "swin."
    if any(k.startswith("embeddings.") for k in w):
        return ""
    raise ValueError("no Swin embeddings found in the checkpoint")


def _pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def _ln(x, w, p, eps):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], eps)


def _lin(x, w, p):
    return F.linear(x, w[p + ".weight"], w.get(p + ".bias"))


# ---------------------------------------------------------------- window helpers


def window_partition(x, ws):
    """(B, H, W, C) -> (B * H/ws * W/ws, ws*ws, C), windows in row-major order per image."""
    B, H, W, C = x.shape
    x = x.reshape(B, H // ws, ws, W // ws, ws, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, C)


def window_reverse(win, ws, H, W):
    C = win.shape[-1]
    x = win.reshape(-1, H // ws, W // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, H, W, C)


def relative_position_index(ws, transpose=False):
    """(ws*ws, ws*ws) table row for every (query i, key j) pair of a window.

    Row = (dh + ws-1) * (2ws-1) + (dw + ws-1) with (dh, dw) = pos(i) - pos(j), token
    positions taken row-major inside the window (transformers' relative_position_index)."""
    r = torch.arange(ws).repeat_interleave(ws)  # token t -> (t // ws, t % ws)
    c = torch.arange(ws).repeat(ws)
    dh = r[:, None] - r[None, :]
    dw = c[:, None] - c[None, :]
    if transpose:  # sensitivity check only: key - query instead of query - key
        dh, dw = -dh, -dw
    return (dh + ws - 1) * (2 * ws - 1) + (dw + ws - 1)


def shift_mask(Hp, Wp, ws, shift):
    """(nW, ws*ws, ws*ws) additive mask: 0 within a region, -100 across regions."""
    img = torch.zeros(Hp, Wp)
    region = 0
    sl = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
    for hs in sl:
        for wsl in sl:
            img[hs, wsl] = region
            region += 1
    lab = window_partition(img.reshape(1, Hp, Wp, 1), ws).squeeze(-1)  # nW x N
    diff = lab[:, None, :] - lab[:, :, None]
    return torch.where(diff != 0, torch.tensor(-100.0), torch.tensor(0.0))


# ---------------------------------------------------------------- forward


def stage_geometry(cfg, H, W):
    """(window, shift for odd blocks) that transformers' SwinLayer uses at an H x W map."""
    ws = int(cfg["window_size"])
    if min(H, W) <= ws:
        return min(H, W), 0
    return ws, ws // 2


def _block(h, w, p, H, W, heads, ws, shift, eps, act, alt):
    B, L, C = h.shape
    hd = C // heads
    x = _ln(h, w, p + "layernorm_before", eps).reshape(B, H, W, C)
    pad_r = (ws - W % ws) % ws
    pad_b = (ws - H % ws) % ws
    x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
    Hp, Wp = H + pad_b, W + pad_r
    if "no_shift" in alt:
        shift = 0
    if shift:
        s = shift if "roll_wrong_way" in alt else -shift
        x = torch.roll(x, shifts=(s, s), dims=(1, 2))
    win = window_partition(x, ws)  # (B*nW, N, C)
    nWin, N, _ = win.shape
    nW = nWin // B
    q = _lin(win, w, p + "attention.self.query").reshape(nWin, N, heads, hd).transpose(1, 2)
    k = _lin(win, w, p + "attention.self.key").reshape(nWin, N, heads, hd).transpose(1, 2)
    v = _lin(win, w, p + "attention.self.value").reshape(nWin, N, heads, hd).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)

    table = w[p + "attention.self.relative_position_bias_table"]
    if tuple(table.shape) != ((2 * ws - 1) ** 2, heads):
        raise ValueError("%sattention.self.relative_position_bias_table is %s, expected %s for "
                         "window %d (transformers would fail here too)"
                         % (p, tuple(table.shape), ((2 * ws - 1) ** 2, heads), ws))
    if "no_rel_bias" not in alt:
        idx = relative_position_index(ws, transpose="rel_index_transposed" in alt)
        bias = table[idx.reshape(-1)].reshape(N, N, heads).permute(2, 0, 1)  # heads x N x N
        scores = scores + bias.unsqueeze(0)
    scores = scores.reshape(B, nW, heads, N, N)
    if shift and "no_shift_mask" not in alt:
        scores = scores + shift_mask(Hp, Wp, ws, shift)[None, :, None]
    if "mask_padding" in alt and (pad_r or pad_b):
        valid = torch.zeros(1, Hp, Wp, 1)
        valid[:, :H, :W] = 1
        if shift:
            valid = torch.roll(valid, shifts=(-shift, -shift), dims=(1, 2))
        vk = window_partition(valid, ws).squeeze(-1)  # nW x N
        scores = scores + ((1 - vk) * -1e9)[None, :, None, None, :]
    probs = F.softmax(scores.reshape(nWin, heads, N, N), dim=-1)
    ctx = torch.matmul(probs, v).transpose(1, 2).reshape(nWin, N, C)
    ctx = _lin(ctx, w, p + "attention.output.dense")
    x = window_reverse(ctx, ws, Hp, Wp)
    if shift:
        s = -shift if "roll_wrong_way" in alt else shift
        x = torch.roll(x, shifts=(s, s), dims=(1, 2))
    x = x[:, :H, :W, :].reshape(B, H * W, C)
    h = h + x
    m = _ln(h, w, p + "layernorm_after", eps)
    m = act(_lin(m, w, p + "intermediate.dense"))
    return h + _lin(m, w, p + "output.dense")


def _merge(h, w, p, H, W, alt):
    B, L, C = h.shape
    x = h.reshape(B, H, W, C)
    x = F.pad(x, (0, 0, 0, W % 2, 0, H % 2))
    parts = [x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]]
    if "merge_order_swapped" in alt:
        parts = [parts[0], parts[2], parts[1], parts[3]]
    x = torch.cat(parts, dim=-1)
    Ho, Wo = x.shape[1], x.shape[2]
    x = x.reshape(B, Ho * Wo, 4 * C)
    x = _ln(x, w, p + "norm", NN_LAYERNORM_EPS)
    return F.linear(x, w[p + "reduction.weight"]), Ho, Wo


@torch.no_grad()
def forward(cfg, w, pixel_values, alt=()):
    """Ordered dict of float32 outputs (see module docstring).

    alt: names of deliberate deviations, only for --sensitivity (empty = transformers)."""
    alt = set(alt)
    x = pixel_values.to(torch.float32)
    pre = _prefix(w)
    eps = float(cfg.get("layer_norm_eps", 1e-5))
    act = vr.act_fn(cfg.get("hidden_act", "gelu"))
    depths = [int(d) for d in cfg["depths"]]
    heads = [int(h) for h in cfg["num_heads"]]
    ph, pw = _pair(cfg.get("patch_size", 4))
    if x.shape[1] != int(cfg.get("num_channels", 3)):
        raise ValueError("pixel_values have %d channels, config says %d"
                         % (x.shape[1], cfg.get("num_channels", 3)))

    e = pre + "embeddings."
    # SwinPatchEmbeddings.maybe_pad: zeros on the right / bottom up to a multiple of the patch
    if x.shape[3] % pw:
        x = F.pad(x, (0, pw - x.shape[3] % pw))
    if x.shape[2] % ph:
        x = F.pad(x, (0, 0, 0, ph - x.shape[2] % ph))
    emb = F.conv2d(x, w[e + "patch_embeddings.projection.weight"],
                   w[e + "patch_embeddings.projection.bias"], stride=(ph, pw))
    B, C, H, W = emb.shape
    h = emb.flatten(2).transpose(1, 2)
    if (e + "norm.weight") in w and "no_embed_norm" not in alt:
        h = _ln(h, w, e + "norm", NN_LAYERNORM_EPS)
    if cfg.get("use_absolute_embeddings", False) and "no_pos" not in alt:
        pos = w[e + "position_embeddings"]
        if tuple(pos.shape) != (1, H * W, C):
            raise ValueError("position_embeddings is %s, expected %s"
                             % (tuple(pos.shape), (1, H * W, C)))
        h = h + pos

    hidden = [h]
    for s, depth in enumerate(depths):
        ws, shift = stage_geometry(cfg, H, W)
        if "no_window_shrink" in alt:
            ws, shift = int(cfg["window_size"]), int(cfg["window_size"]) // 2
        for b in range(depth):
            p = "%sencoder.layers.%d.blocks.%d." % (pre, s, b)
            h = _block(h, w, p, H, W, heads[s], ws, shift if b % 2 else 0, eps, act, alt)
        if s + 1 < len(depths):
            h, H, W = _merge(h, w, "%sencoder.layers.%d.downsample." % (pre, s), H, W, alt)
        hidden.append(h)

    seq = _ln(h, w, pre + "layernorm", eps)
    pooled = seq.mean(dim=1)
    out = {}
    if "classifier.weight" in w:
        out["logits"] = _lin(pooled, w, "classifier")
    out["pooled"] = pooled
    for i, t in enumerate(hidden):
        out["hidden_states.%d" % i] = t
    return out


def reference_tensors(cfg, w, pixel_values, alt=()):
    """What goes into a reference.safetensors: pixel_values, logits, hidden_states.0..S."""
    o = forward(cfg, w, pixel_values, alt)
    ref = {"pixel_values": pixel_values.to(torch.float32)}
    for k, v in o.items():
        if k != "pooled":
            ref[k] = v
    return {k: v.contiguous() for k, v in ref.items()}


def _hs_key(k):
    return int(k.split(".")[1])


# ---------------------------------------------------------------- random cases

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
    vr.write_safetensors(os.path.join(d, "model.safetensors"), w, "F32")
    px = rng.normal(0.0, 1.0, size=(c["batch"], c["channels"], c["image"], c["image"]))
    px = torch.from_numpy(px.astype(np.float32))
    cfg2, w2 = load_model(d)  # compute from what was written
    ref = reference_tensors(cfg2, w2, px)
    vr.write_safetensors(os.path.join(d, "reference.safetensors"), ref, "F32")
    sizes = {f: os.path.getsize(os.path.join(d, f))
             for f in ("config.json", "model.safetensors", "reference.safetensors")}
    print("%-16s %7d B  (model %d, reference %d)" % (
        name, sum(sizes.values()), sizes["model.safetensors"], sizes["reference.safetensors"]))
    for k in sorted(ref, key=lambda k: (k.startswith("hidden"), _hs_key(k) if k.startswith("hidden") else 0, k)):
        print("  %-16s %s" % (k, tuple(ref[k].shape)))
    print("  top1 %s" % ref["logits"].argmax(-1).tolist())
    return sum(sizes.values())


# ---------------------------------------------------------------- checks


def _compare(mine, ref, names):
    worst = 0.0
    for k in names:
        if k not in mine:
            print("  %-18s MISSING in reimplementation" % k)
            worst = float("inf")
            continue
        if tuple(mine[k].shape) != tuple(ref[k].shape):
            print("  %-18s shape %s vs %s" % (k, tuple(mine[k].shape), tuple(ref[k].shape)))
            worst = float("inf")
            continue
        d = (mine[k] - ref[k]).abs().max().item()
        worst = max(worst, d)
        print("  %-18s max|diff| = %.3e   (max|ref| = %.3g)" % (k, d, ref[k].abs().max().item()))
    return worst


def _out_names(ref):
    hs = sorted((k for k in ref if k.startswith("hidden_states.")), key=_hs_key)
    return [k for k in ["logits"] if k in ref] + hs


def check(d, tol):
    cfg, w = load_model(d)
    ref, _ = vr.read_safetensors(os.path.join(d, "reference.safetensors"))
    mine = reference_tensors(cfg, w, ref["pixel_values"])
    print("%s  (N=%d)" % (d, ref["pixel_values"].shape[0]))
    worst = _compare(mine, ref, _out_names(ref))
    if "logits" in ref and "logits" in mine:
        agree = (mine["logits"].argmax(-1) == ref["logits"].argmax(-1)).float().mean().item()
        print("  top-1 agreement %.4f" % agree)
    ok = worst <= tol
    print("  worst %.3e -> %s (tol %.0e)" % (worst, "OK" if ok else "FAIL", tol))
    return ok


ALTS = ["no_shift", "no_shift_mask", "roll_wrong_way", "mask_padding", "no_rel_bias",
        "rel_index_transposed", "merge_order_swapped", "no_embed_norm", "no_pos",
        "no_window_shrink"]


def sensitivity(d):
    """Max |change| of the outputs when one parameter is neutralised (weights -> 0,
    LayerNorm weight -> 1) or one rule is changed.  Every line should be far above 1e-4."""
    cfg, w = load_model(d)
    ref, _ = vr.read_safetensors(os.path.join(d, "reference.safetensors"))
    px = ref["pixel_values"]
    base = reference_tensors(cfg, w, px)
    names = _out_names(base)

    def delta(o):
        return max((o[k] - base[k]).abs().max().item() for k in names if k in o)

    print(d)
    low = []
    for k in sorted(w):
        w2 = dict(w)
        w2[k] = torch.ones_like(w[k]) if (k.endswith("norm.weight") or "layernorm" in k and
                                          k.endswith(".weight")) else torch.zeros_like(w[k])
        try:
            dv = delta(reference_tensors(cfg, w2, px))
        except Exception as ex:  # noqa: BLE001
            print("  %-70s error: %s" % (k, ex))
            continue
        print("  %-70s %.3e" % (k, dv))
        low.append((dv, k))
    for a in ALTS:
        try:
            dv = delta(reference_tensors(cfg, w, px, alt=(a,)))
            print("  rule %-65s %.3e" % (a, dv))
            low.append((dv, "rule " + a))
        except Exception as ex:  # noqa: BLE001
            print("  rule %-65s not applicable (%s)" % (a, str(ex).split(" (")[0][:60]))
    low.sort()
    print("  smallest: %s" % ", ".join("%s %.2e" % (k, v) for v, k in low[:3]))
    return low[0][0] if low else 0.0


# ---------------------------------------------------------------- CLI


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="*", help="MODEL_DIR, or case names with --make-cases")
    ap.add_argument("--pixels", help="safetensors file holding pixel_values")
    ap.add_argument("--out", help="reference safetensors to write (or, with --make-cases, the "
                                  "output folder; default tests/data/swin-extra)")
    ap.add_argument("--check", nargs="+", metavar="DIR")
    ap.add_argument("--sensitivity", nargs="+", metavar="DIR")
    ap.add_argument("--make-cases", action="store_true")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.check:
        ok = all([check(d, args.tol) for d in args.check])
        return 0 if ok else 1
    if args.sensitivity:
        for d in args.sensitivity:
            sensitivity(d)
        return 0
    if args.make_cases:
        torch.set_num_threads(1)  # one fixed order for the float32 reductions
        out = args.out or os.path.normpath(os.path.join(here, "..", "data", "swin-extra"))
        names = [n for n, _ in CASES]
        for n in args.model_dir:
            if n not in names:
                ap.error("unknown case %r (known: %s)" % (n, ", ".join(names)))
        total = 0
        for idx, (name, c) in enumerate(CASES):
            if not args.model_dir or name in args.model_dir:
                total += make_case(out, idx, name, c)
        print("total %d bytes (torch %s, numpy %s)" % (total, torch.__version__, np.__version__))
        return 0
    if not (len(args.model_dir) == 1 and args.pixels and args.out):
        ap.error("MODEL_DIR, --pixels and --out are required (or --check / --make-cases)")
    cfg, w = load_model(args.model_dir[0])
    px, _ = vr.read_safetensors(args.pixels)
    ref = reference_tensors(cfg, w, px["pixel_values"])
    vr.write_safetensors(args.out, ref, "F32")
    for k in sorted(ref):
        print("%-18s %s" % (k, tuple(ref[k].shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
