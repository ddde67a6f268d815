#!/usr/bin/python3
"""Independent float32 reference for plain Hugging Face ViT checkpoints.

Re-implements the forward pass of transformers' ViTModel / ViTForImageClassification
(modeling_vit.py, eager attention) with torch.nn.functional only -- transformers is not
needed.  Reads any HF ViT directory (config.json + model.safetensors; F32/F16/BF16
weights, keys prefixed "vit." for ViTForImageClassification or unprefixed for ViTModel).
Weights stored as F16/BF16 are widened to float32 and everything is computed in float32.

Usage:
  vit_reference.py MODEL_DIR --pixels IN.safetensors --out REF.safetensors
      IN must hold "pixel_values" (N x C x H x W).  REF gets F32 tensors:
      pixel_values, logits (if a classifier exists), pooled, hidden_states.0..L,
      attentions.last.cls
  vit_reference.py --check FIXTURE_DIR
      runs on FIXTURE_DIR/reference.safetensors' pixel_values and prints the max |diff|
      of every output the fixture holds; exit status 1 if any exceeds --tol (1e-4).

"pooled": with a classifier, the final-LayerNorm output at token 0 (what the classifier
reads); without a classifier but with pooler.dense weights, ACT2FN[pooler_act]
(pooler.dense(final-LN token 0)) (transformers' pooler_output, tanh by default);
otherwise the final-LN output at token 0.

Run it with Debian's /usr/bin/python3 (python3-torch, python3-numpy).
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- safetensors I/O

_NP_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U8": np.uint8, "BOOL": np.bool_,
}


def read_safetensors(path, to_float32=True):
    """Return (dict name -> torch tensor, metadata).  Float tensors become float32."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        dt, shape = info["dtype"], info["shape"]
        a, b = info["data_offsets"]
        raw = data[base + a:base + b]
        if dt == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2")
            # bfloat16 is the top half of a float32: widen by shifting into the high bits
            t = torch.from_numpy(u16.astype(np.int32)) << 16
            t = t.view(torch.float32).reshape(shape)
            if not to_float32:
                t = t.to(torch.bfloat16)
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(_NP_DTYPES[dt]).newbyteorder("<"))
            arr = arr.reshape(shape).copy()
            t = torch.from_numpy(arr)
            if to_float32 and t.is_floating_point():
                t = t.to(torch.float32)
        out[name] = t
    return out, meta


def _f32_to_bf16_bits(a):
    """Round float32 -> bfloat16 (round to nearest even), as uint16 bit patterns."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """tensors: dict name -> torch tensor or numpy array; stored as dtype (F32/F16/BF16)."""
    header = {"__metadata__": metadata if metadata is not None else {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        v = tensors[name]
        if isinstance(v, torch.Tensor):
            v = v.detach().to(torch.float32).cpu().numpy()
        v = np.asarray(v, dtype=np.float32)
        if dtype == "F32":
            raw = v.astype("<f4").tobytes()
        elif dtype == "F16":
            raw = v.astype("<f2").tobytes()
        elif dtype == "BF16":
            raw = _f32_to_bf16_bits(v).astype("<u2").tobytes()
        else:
            raise ValueError("unsupported dtype " + dtype)
        header[name] = {"dtype": dtype, "shape": list(v.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


# ---------------------------------------------------------------- activations (ACT2FN)

def _gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT = {
    "gelu": lambda x: F.gelu(x),
    "gelu_new": _gelu_new,
    "gelu_fast": lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_python": lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}


def act_fn(name):
    if name not in ACT:
        raise ValueError("unsupported activation %r" % name)
    return ACT[name]


# ---------------------------------------------------------------- model

def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type", "vit") != "vit":
        raise ValueError("not a plain ViT checkpoint: model_type=%r" % cfg.get("model_type"))
    w, _ = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    return cfg, w


def _prefix(w):
    if any(k.startswith("vit.embeddings.") for k in w):
        return "vit."
    if any(k.startswith("embeddings.") for k in w):
        return ""
    raise ValueError("no ViT embeddings found in the checkpoint")


def _ln(x, w, p, eps):
    return F.layer_norm(x, (x.shape[-1],), w[p + ".weight"], w[p + ".bias"], eps)


def _lin(x, w, p):
    return F.linear(x, w[p + ".weight"], w.get(p + ".bias"))


@torch.no_grad()
def forward(cfg, w, pixel_values):
    """Returns an ordered dict of float32 outputs (see module docstring)."""
    x = pixel_values.to(torch.float32)
    pre = _prefix(w)
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    D = int(cfg["hidden_size"])
    H = int(cfg["num_attention_heads"])
    L = int(cfg["num_hidden_layers"])
    hd = D // H
    scaling = hd ** -0.5
    act = act_fn(cfg.get("hidden_act", "gelu"))
    ps = cfg.get("patch_size", 16)
    ps = tuple(ps) if isinstance(ps, (list, tuple)) else (ps, ps)
    N = x.shape[0]
    if x.shape[1] != int(cfg.get("num_channels", 3)):
        raise ValueError("pixel_values have %d channels, config says %d"
                         % (x.shape[1], cfg.get("num_channels", 3)))

    e = pre + "embeddings."
    emb = F.conv2d(x, w[e + "patch_embeddings.projection.weight"],
                   w[e + "patch_embeddings.projection.bias"], stride=ps)
    emb = emb.flatten(2).transpose(1, 2)                       # N x P x D
    cls = w[e + "cls_token"].expand(N, -1, -1)
    h = torch.cat([cls, emb], dim=1) + w[e + "position_embeddings"]
    T = h.shape[1]

    out = {}
    hidden = [h]
    probs = None
    for i in range(L):
        p = "%sencoder.layer.%d." % (pre, i)
        a = _ln(h, w, p + "layernorm_before", eps)
        q = _lin(a, w, p + "attention.attention.query").view(N, T, H, hd).permute(0, 2, 1, 3)
        k = _lin(a, w, p + "attention.attention.key").view(N, T, H, hd).permute(0, 2, 1, 3)
        v = _lin(a, w, p + "attention.attention.value").view(N, T, H, hd).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k.transpose(-1, -2)) * scaling
        probs = F.softmax(scores, dim=-1, dtype=torch.float32)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(N, T, D)
        h = _lin(ctx, w, p + "attention.output.dense") + h
        m = _ln(h, w, p + "layernorm_after", eps)
        m = act(_lin(m, w, p + "intermediate.dense"))
        h = _lin(m, w, p + "output.dense") + h
        hidden.append(h)

    seq = _ln(h, w, pre + "layernorm", eps)
    tok0 = seq[:, 0]
    if "classifier.weight" in w:
        out["logits"] = _lin(tok0, w, "classifier")
        out["pooled"] = tok0
    elif (pre + "pooler.dense.weight") in w:
        out["pooled"] = act_fn(cfg.get("pooler_act", "tanh"))(_lin(tok0, w, pre + "pooler.dense"))
    else:
        out["pooled"] = tok0
    out["last_hidden_state"] = seq
    for i, t in enumerate(hidden):
        out["hidden_states.%d" % i] = t
    if probs is not None:
        out["attentions.last.cls"] = probs[:, :, 0, :]
    return out


def reference_tensors(cfg, w, pixel_values):
    """The tensors written to a reference.safetensors (float32, contiguous)."""
    o = forward(cfg, w, pixel_values)
    ref = {"pixel_values": pixel_values.to(torch.float32)}
    for k, v in o.items():
        if k == "last_hidden_state":
            continue
        ref[k] = v
    return {k: v.contiguous() for k, v in ref.items()}


# ---------------------------------------------------------------- CLI

def check(fixture_dir, tol):
    cfg, w = load_model(fixture_dir)
    ref, _ = read_safetensors(os.path.join(fixture_dir, "reference.safetensors"))
    mine = reference_tensors(cfg, w, ref["pixel_values"])
    worst = 0.0
    names = [k for k in ["logits", "pooled"] + sorted((k for k in ref if k.startswith("hidden_states.")),
                                            key=lambda s: int(s.split(".")[1]))
             + ["attentions.last.cls"] if k in ref]
    print("%s  (N=%d)" % (fixture_dir, ref["pixel_values"].shape[0]))
    for k in names:
        if k not in mine:
            print("  %-22s MISSING in reimplementation" % k)
            worst = float("inf")
            continue
        if tuple(mine[k].shape) != tuple(ref[k].shape):
            print("  %-22s shape %s vs fixture %s" % (k, tuple(mine[k].shape), tuple(ref[k].shape)))
            worst = float("inf")
            continue
        d = (mine[k] - ref[k]).abs().max().item()
        worst = max(worst, d)
        print("  %-22s max|diff| = %.3e   (max|ref| = %.3g)" % (k, d, ref[k].abs().max().item()))
    if "logits" in ref:
        agree = (mine["logits"].argmax(-1) == ref["logits"].argmax(-1)).float().mean().item()
        print("  top-1 agreement %.4f" % agree)
    ok = worst <= tol
    print("  worst %.3e -> %s (tol %.0e)" % (worst, "OK" if ok else "FAIL", tol))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", nargs="?")
    ap.add_argument("--pixels", help="safetensors file holding pixel_values")
    ap.add_argument("--out", help="reference safetensors to write")
    ap.add_argument("--check", nargs="+", metavar="FIXTURE_DIR")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.check:
        ok = all([check(d, args.tol) for d in args.check])
        return 0 if ok else 1
    if not (args.model_dir and args.pixels and args.out):
        ap.error("MODEL_DIR, --pixels and --out are required (or use --check)")
    cfg, w = load_model(args.model_dir)
    px, _ = read_safetensors(args.pixels)
    ref = reference_tensors(cfg, w, px["pixel_values"])
    write_safetensors(args.out, ref, "F32")
    for k in sorted(ref):
        print("%-22s %s" % (k, tuple(ref[k].shape)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
