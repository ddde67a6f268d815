#!/usr/bin/python3
"""Float32 re-implementation of transformers' Swin (v1), kept for the sensitivity analysis
(--sensitivity), which needs to switch single rules off (cyclic shift, shift mask,
window shrink, merge order, ...) -- the library model cannot.

It is NOT the source of the references: tests/data/swin-extra/*/reference.safetensors
come from transformers' SwinForImageClassification (tests/reference/library_references.py,
the cases themselves from make_swin_cases.py), and library_references.py checks that this
module agrees with transformers on both swin-extra cases and on the shared swin-tiny
fixture (max|diff| <= 1e-5 x max(1, max|ref|)), so what --sensitivity reports holds for
the library model.

Reads a HF Swin directory (config.json + model.safetensors; F32/F16/BF16 weights, keys
prefixed "swin." for SwinForImageClassification or unprefixed for SwinModel); everything
is computed in float32 with torch.nn.functional, eager attention, inference mode.

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

Usage (any Python with torch and safetensors, e.g. the venv of library_references.py):
  swin_reference.py --check DIR [DIR ...]       compare with DIR/reference.safetensors
  swin_reference.py --sensitivity DIR [DIR ...] how far each parameter / rule moves the outputs
"""

import argparse
import json
import math
import os
import sys

import safetensors.torch
import torch
import torch.nn.functional as F


def read_safetensors(path):
    """dict name -> float32 tensor (F16 / BF16 widened exactly)."""
    t = safetensors.torch.load_file(path)
    return {k: (v.float() if v.is_floating_point() else v) for k, v in t.items()}


ACT = {"gelu": F.gelu, "relu": F.relu, "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
       "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}


def act_fn(name):
    if name not in ACT:
        raise ValueError("unsupported activation %r" % name)
    return ACT[name]

NN_LAYERNORM_EPS = 1e-5  # embeddings.norm and downsample.norm are nn.LayerNorm(dim)

# ---------------------------------------------------------------- model loading


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "swin":
        raise ValueError("not a Swin checkpoint: model_type=%r" % cfg.get("model_type"))
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"))
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
    act = act_fn(cfg.get("hidden_act", "gelu"))
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
    ref = read_safetensors(os.path.join(d, "reference.safetensors"))
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
    ref = read_safetensors(os.path.join(d, "reference.safetensors"))
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", nargs="+", metavar="DIR")
    ap.add_argument("--sensitivity", nargs="+", metavar="DIR")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if not (args.check or args.sensitivity):
        ap.error("--check or --sensitivity")
    ok = True
    for d in args.check or []:
        ok = check(d, args.tol) and ok
    for d in args.sensitivity or []:
        sensitivity(d)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
