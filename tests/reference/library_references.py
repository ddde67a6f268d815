#!/usr/bin/env python3
"""Reference outputs from the real libraries (transformers, timm) for vitvk's test data.

Every reference tensor under tests/data that is not a shared fixture comes from here:

  vit-extra/*/reference.safetensors      transformers ViTForImageClassification / ViTModel
  family-extra/*/reference.safetensors   transformers DeiT (with and without teacher) and
                                         BeitForImageClassification; timm VisionTransformer
  swin-extra/*/reference.safetensors     transformers SwinForImageClassification
  interpolate/*.safetensors              transformers ViT / BEiT at another input size
                                         (interpolate_pos_encoding=True)
  fixtures/vit-tiny/rollout.safetensors  attention rollout (a vitvk definition, not a library
                                         function) computed from transformers' attentions

For each file it keeps the stored pixel_values (bit for bit), runs them through the
library model in eval mode and float32, prints max |new - old| and max |old| per tensor,
and rewrites the file with the same tensor names, shapes and dtype (F32).

How the models are built:
  transformers  the class named by config.json "architectures" (ViTModel with
                add_pooling_layer = whether pooler.* weights exist),
                from_pretrained(dir, dtype=float32, attn_implementation="eager"), so
                F16 / BF16 weights are widened exactly and everything runs in float32;
                output_hidden_states=True, output_attentions=True.
  timm          timm.create_model(architecture, pretrained=False, num_classes=...,
                global_pool=..., **model_args) with img_size / in_chans from
                pretrained_cfg.input_size (as timm's own config loader does), then
                load_state_dict(model.safetensors widened to float32, strict=True); the
                result is checked to be identical to timm.create_model("local-dir:DIR",
                pretrained=True). Attention runs unfused (fused_attn = False) so the
                probabilities can be read; hidden states are taken with hooks on blocks.
  Every checkpoint tensor is checked to be loaded unchanged and every tensor of the
  model's state_dict to come from the checkpoint (compared by content: transformers 5
  renames keys while loading), so nothing is dropped or left randomly initialised.

Tensors written (all F32, contiguous):
  pixel_values           copied from the existing file (given by the case makers; for
                         interpolation torch.randn from the seed in INTERPOLATE, checked
                         to equal the stored ones)
  logits                 the library's logits (classification models)
  pooled                 what the classifier reads: the input of classifier /
                         cls_classifier (transformers), forward_head(pre_logits=True) (timm);
                         for ViTModel: pooler_output with a pooler, else final-LN token 0.
                         Not stored for Swin.
  hidden_states.0..L     the library's hidden_states (embeddings, then every layer / stage)
  attentions.last.cls    attentions[-1][:, :, 0, :] (not stored for Swin nor interpolation)
  attention_rollout.cls  R = A_L' ... A_1' with A_l' = rownorm(0.5 mean_heads(A_l) + 0.5 I),
                         float64 product of transformers' attentions, row 0

Also checked (nothing written): the shared transformers-made fixtures (fixtures/*) are
reproduced within 1e-5 x max(1, max|ref|), and the re-implementations kept for the sensitivity analyses
(family_reference.py, swin_reference.py) agree with the library on every case they cover;
exit status 1 if a check fails.

The stored references were made with torch 2.15.0+cu132, transformers 5.25.0, timm 1.0.31,
safetensors 0.8.0, numpy 2.4.6 (PyPI), Python 3.11.7, CPU, one thread; re-runs are
byte-identical.

Usage (a venv with torch, transformers, timm, safetensors from PyPI; no network needed):
  /path/to/venv/bin/python tests/reference/library_references.py            # check + write
  /path/to/venv/bin/python tests/reference/library_references.py --dry-run  # check only
  ... library_references.py --only swin    # targets whose path contains "swin"
"""

import argparse
import json
import os
import struct
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import safetensors.torch  # noqa: E402
import timm  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

transformers.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(ROOT, "tests", "data")

REL_TOL = 1e-5          # "same" = max|diff| <= REL_TOL * max(1, max|ref|)


def versions():
    return "torch %s, transformers %s, timm %s, safetensors %s, numpy %s, Python %s" % (
        torch.__version__, transformers.__version__, timm.__version__, safetensors.__version__,
        np.__version__, sys.version.split()[0])


# ---------------------------------------------------------------- safetensors I/O

def read_safetensors(path):
    """dict name -> float32 tensor (F16 / BF16 widened exactly)."""
    t = safetensors.torch.load_file(path)
    return {k: (v.float() if v.is_floating_point() else v) for k, v in t.items()}


def write_reference(path, tensors):
    """A reference file: F32, contiguous, metadata {"format": "pt"} (as before)."""
    out = {k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}
    safetensors.torch.save_file(out, path, metadata={"format": "pt"})


def _f32_to_bf16_bits(a):
    """Round float32 -> bfloat16 (round to nearest even), as uint16 bit patterns."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """The checkpoint writer of the case makers (byte-identical to what made the stored
    model.safetensors): names sorted, {"format": "pt"}, float32 rounded to F16 / BF16
    (round to nearest even) when asked."""
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
        header[name] = {"dtype": dtype, "shape": list(v.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


# ---------------------------------------------------------------- loading

def read_config(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        return json.load(f)


def library_of(cfg):
    if "model_type" in cfg:
        return "transformers"
    if "architecture" in cfg:
        return "timm"
    raise ValueError("config.json has neither model_type (transformers) nor architecture (timm)")


def _check_loaded(model, weights, what):
    """Every checkpoint tensor was loaded unchanged (after the exact widening to float32)
    and every tensor of the model's state_dict came from the checkpoint. Compared by
    content, since transformers 5 renames checkpoint keys while loading (ViT:
    encoder.layer.i.attention.attention.query -> layers.i.attention.q_proj, ...)."""
    def key(t):
        t = t.detach().to(torch.float32).contiguous()
        return tuple(t.shape), t.numpy().tobytes()
    ck = {key(v): k for k, v in weights.items()}
    used = set()
    for n, t in model.state_dict().items():
        k = key(t)
        if k not in ck:
            raise RuntimeError("%s: model tensor %s is not a checkpoint tensor" % (what, n))
        used.add(ck[k])
    unused = sorted(set(weights) - used)
    if unused:
        raise RuntimeError("%s: checkpoint tensors not in the model: %s" % (what, unused))


def load_transformers(model_dir):
    cfg = read_config(model_dir)
    arch = cfg["architectures"][0]
    cls = getattr(transformers, arch)
    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    kw = {}
    if arch in ("ViTModel", "DeiTModel", "BeitModel", "SwinModel"):
        kw["add_pooling_layer"] = any(k.startswith("pooler.") for k in weights)
    model, info = cls.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager",
                                      output_loading_info=True, local_files_only=True, **kw)
    bad = {k: v for k, v in info.items() if v}
    if bad:
        raise RuntimeError("%s: from_pretrained reported %s" % (model_dir, bad))
    model.eval()
    _check_loaded(model, weights, model_dir)
    return model


def timm_kwargs(cfg):
    """create_model kwargs from a timm config.json, as timm's hub / local-dir loader reads
    it: model_args, num_classes (top level), img_size / in_chans from
    pretrained_cfg.input_size (img_size only with fixed_input_size)."""
    kw = dict(cfg.get("model_args", {}))
    pc = cfg.get("pretrained_cfg", {})
    kw["num_classes"] = int(cfg.get("num_classes", pc.get("num_classes", 1000)))
    if cfg.get("global_pool") is not None:
        kw.setdefault("global_pool", cfg["global_pool"])
    if "input_size" in pc:
        kw.setdefault("in_chans", int(pc["input_size"][0]))
        if pc.get("fixed_input_size", False):
            kw.setdefault("img_size", tuple(int(s) for s in pc["input_size"][1:]))
    return kw


def load_timm(model_dir):
    cfg = read_config(model_dir)
    weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    model = timm.create_model(cfg["architecture"], pretrained=False, **timm_kwargs(cfg))
    model.load_state_dict(weights, strict=True)
    model.eval()
    _check_loaded(model, weights, model_dir)
    return model


def load_model(model_dir):
    cfg = read_config(model_dir)
    return (load_transformers if library_of(cfg) == "transformers" else load_timm)(model_dir)


# ---------------------------------------------------------------- running

@torch.no_grad()
def run_transformers(model, px, interpolate=False, attentions=True):
    """dict: logits, pooled, hidden_states.i, attentions (tuple, every layer)."""
    mt = model.config.model_type
    grabbed = {}
    hooks = []
    head = None
    for name in ("cls_classifier", "classifier"):
        if hasattr(model, name) and isinstance(getattr(model, name), torch.nn.Module):
            head = getattr(model, name)
            break
    if head is not None:
        hooks.append(head.register_forward_pre_hook(lambda m, args: grabbed.setdefault("pooled", args[0])))
    kw = dict(output_hidden_states=True, output_attentions=attentions and mt != "swin", return_dict=True)
    if interpolate:
        kw["interpolate_pos_encoding"] = True
    try:
        out = model(pixel_values=px, **kw)
    finally:
        for h in hooks:
            h.remove()
    res = {}
    if getattr(out, "logits", None) is not None:
        res["logits"] = out.logits
        res["pooled"] = grabbed["pooled"]
    elif mt != "swin":
        res["pooled"] = (out.pooler_output if getattr(out, "pooler_output", None) is not None
                         else out.last_hidden_state[:, 0])
    for i, h in enumerate(out.hidden_states):
        res["hidden_states.%d" % i] = h
    if kw["output_attentions"]:
        res["attentions"] = out.attentions
    return res


@torch.no_grad()
def run_timm(model, px):
    for blk in model.blocks:
        blk.attn.fused_attn = False          # explicit softmax, so the probabilities exist
    hidden, probs, hooks = [], [], []
    hooks.append(model.blocks[0].register_forward_pre_hook(lambda m, args: hidden.append(args[0])))
    for blk in model.blocks:
        hooks.append(blk.register_forward_hook(lambda m, args, out: hidden.append(out)))
    hooks.append(model.blocks[-1].attn.attn_drop.register_forward_hook(
        lambda m, args, out: probs.append(out)))
    try:
        feats = model.forward_features(px)
        pooled = model.forward_head(feats, pre_logits=True)
        logits = model.forward_head(feats)
        hidden_once = list(hidden)
        full = model(px)
    finally:
        for h in hooks:
            h.remove()
    if not torch.equal(full, logits):
        raise RuntimeError("timm forward() and forward_features + forward_head disagree")
    res = {"logits": logits, "pooled": pooled}
    for i, h in enumerate(hidden_once):
        res["hidden_states.%d" % i] = h
    res["attentions"] = (probs[0],)
    return res


def reference_tensors(model_dir, pixel_values, interpolate=False, attentions=True):
    """What a reference file holds for MODEL_DIR and these pixel_values (float32)."""
    px = pixel_values.to(torch.float32)
    model = load_model(model_dir)
    if isinstance(model, transformers.PreTrainedModel):
        r = run_transformers(model, px, interpolate=interpolate, attentions=attentions)
    else:
        if interpolate:
            raise ValueError("no timm interpolation case")
        r = run_timm(model, px)
    ref = {"pixel_values": px}
    if getattr(getattr(model, "config", None), "model_type", None) == "swin":
        r.pop("pooled", None)            # the Swin references hold no pooled output
    for k, v in r.items():
        if k == "attentions":
            if attentions:
                ref["attentions.last.cls"] = v[-1][:, :, 0, :]
        else:
            ref[k] = v
    return {k: v.contiguous() for k, v in ref.items()}


def rollout_tensors(model_dir, pixel_values):
    model = load_transformers(model_dir)
    att = run_transformers(model, pixel_values.to(torch.float32))["attentions"]
    N, _, T, _ = att[0].shape
    eye = torch.eye(T, dtype=torch.float64)
    r = eye.expand(N, T, T).clone()
    for a in att:                                    # layer 1 first
        a = 0.5 * a.mean(dim=1).double() + 0.5 * eye
        a = a / a.sum(dim=-1, keepdim=True)
        r = torch.matmul(a, r)
    return {"attention_rollout.cls": r[:, 0, :].float().contiguous()}


def check_timm_local_dir(model_dir, px):
    """timm's own loader (create_model("local-dir:DIR", pretrained=True)) must build the
    same model from config.json as timm_kwargs does."""
    mine = run_timm(load_timm(model_dir), px)
    theirs = timm.create_model("local-dir:" + model_dir, pretrained=True).eval()
    got = run_timm(theirs, px)
    return max((mine[k] - got[k]).abs().max().item() for k in mine if k != "attentions")


# ---------------------------------------------------------------- targets

def _case_dirs(sub):
    root = os.path.join(DATA, sub)
    return sorted(os.path.join(sub, d) for d in os.listdir(root)
                  if os.path.isfile(os.path.join(root, d, "reference.safetensors")))


INTERPOLATE = [  # file under interpolate/, model directory relative to tests/data, H, W, N, seed
    ("vit-tiny-160x224", "fixtures/vit-tiny", 160, 224, 1, 7),
    ("digits-48x40", "../../models/digits-vit", 48, 40, 2, 9),
    ("beit-shared-56x48", "family-extra/beit-shared-meanpool", 56, 48, 2, 3),
    ("beit-abspos-24x40", "family-extra/beit-abspos-cls", 24, 40, 2, 3),
]


def interpolate_pixels(model_dir, H, W, N, seed):
    """pixel_values of an interpolation case: torch.randn(N, C, H, W) from
    torch.Generator().manual_seed(seed) (what the stored files hold)."""
    C = int(read_config(model_dir).get("num_channels", 3))
    return torch.randn(N, C, H, W, generator=torch.Generator().manual_seed(seed))


FIXTURES = ["vit-tiny", "vit-tiny-f16", "vit-tiny-bf16", "deit-tiny-distilled", "beit-tiny", "swin-tiny"]


def targets():
    """(label, file written, model dir, kind): kind "case", "interpolate", "rollout", or
    "fixture" (checked, never written)."""
    t = []
    for sub in ("vit-extra", "family-extra", "swin-extra"):
        for d in _case_dirs(sub):
            t.append((d, os.path.join(d, "reference.safetensors"), d, "case"))
    for name, model, *_ in INTERPOLATE:
        t.append(("interpolate/" + name, "interpolate/%s.safetensors" % name, model, "interpolate"))
    t.append(("fixtures/vit-tiny rollout", "fixtures/vit-tiny/rollout.safetensors", "fixtures/vit-tiny", "rollout"))
    for f in FIXTURES:
        t.append(("fixtures/" + f, "fixtures/%s/reference.safetensors" % f, "fixtures/" + f, "fixture"))
    return t


def _order(k):
    if k.startswith("hidden_states."):
        return (1, int(k.split(".")[1]), k)
    return (0 if k in ("logits", "pooled") else 2, 0, k)


def compare(new, old, label):
    """Print max|new-old| and max|old| per tensor. Returns (ok, close, rows): ok = same
    names, shapes and pixel_values; close = every tensor within REL_TOL."""
    ok = close = True
    rows = []
    if sorted(new) != sorted(old):
        print("  NAMES DIFFER: new %s, old %s" % (sorted(new), sorted(old)))
        return False, False, rows
    for k in sorted(new, key=_order):
        if k == "pixel_values":
            same = torch.equal(new[k], old[k])
            print("  %-24s %s" % (k, "bit-identical" if same else "CHANGED"))
            ok = ok and same
            continue
        if new[k].shape != old[k].shape:
            print("  %-24s shape %s vs old %s" % (k, tuple(new[k].shape), tuple(old[k].shape)))
            ok = False
            continue
        d = (new[k] - old[k]).abs().max().item()
        m = old[k].abs().max().item()
        flag = "" if d <= REL_TOL * max(1.0, m) else "   <-- differs"
        close = close and not flag
        print("  %-24s max|new-old| %.3e   max|old| %.3g%s" % (k, d, m, flag))
        rows.append((label, k, d, m))
    return ok, close, rows


def compute(path, model, kind):
    mdir = os.path.normpath(os.path.join(DATA, model))
    if kind == "interpolate":
        H, W, N, seed = [e[2:] for e in INTERPOLATE if path == "interpolate/%s.safetensors" % e[0]][0]
        px = interpolate_pixels(mdir, H, W, N, seed)
        if not os.path.exists(os.path.join(DATA, path)):     # a new case: nothing to compare with
            return reference_tensors(mdir, px, interpolate=True, attentions=False), None
    old = read_safetensors(os.path.join(DATA, path))
    if kind == "rollout":
        px = read_safetensors(os.path.join(DATA, model, "reference.safetensors"))["pixel_values"]
        return rollout_tensors(mdir, px), old
    attn = "attentions.last.cls" in old
    if kind != "interpolate":
        px = old["pixel_values"]             # interpolation: regenerated from the seed, so
    new = reference_tensors(mdir, px, interpolate=(kind == "interpolate"), attentions=attn)  # compare() checks it
    if kind == "fixture":      # the shared fixtures hold no pooled output
        new = {k: v for k, v in new.items() if k in old}
    return new, old


def cross_check_reimplementations(only=None):
    """family_reference.py / swin_reference.py (kept for --sensitivity) vs the library."""
    sys.path.insert(0, HERE)
    import family_reference as fr  # noqa: E402
    import swin_reference as sr  # noqa: E402
    dirs = ([d for d in _case_dirs("family-extra")] + [d for d in _case_dirs("swin-extra")]
            + ["fixtures/deit-tiny-distilled", "fixtures/beit-tiny", "fixtures/swin-tiny"])
    ok = True
    print("\nre-implementations vs library (max|diff| / max(1, max|library|), bound %.0e):" % REL_TOL)
    for d in dirs:
        if only and only not in d:
            continue
        mdir = os.path.join(DATA, d)
        px = read_safetensors(os.path.join(mdir, "reference.safetensors"))["pixel_values"]
        lib = reference_tensors(mdir, px)
        mod = sr if read_config(mdir).get("model_type") == "swin" else fr
        cfg, w = mod.load_model(mdir)
        mine = mod.forward(cfg, w, px)
        worst, where, n = 0.0, "", 0
        missing = [k for k in lib if k != "pixel_values" and k not in mine]
        for k, v in lib.items():
            if k == "pixel_values" or k not in mine:
                continue
            n += 1
            r = (mine[k] - v).abs().max().item() / max(1.0, v.abs().max().item())
            if r >= worst:
                worst, where = r, k
        good = worst <= REL_TOL and not missing
        ok = ok and good
        print("  %-34s %-16s %d tensors, worst %.2e (%s)%s %s" % (
            d, mod.__name__, n, worst, where, " missing %s" % missing if missing else "",
            "OK" if good else "FAIL"))
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true", help="compare only, write nothing")
    ap.add_argument("--only", help="only targets whose label contains this string")
    ap.add_argument("--no-cross-check", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(versions())
    ok = True
    changed = []
    for label, path, model, kind in targets():
        if args.only and args.only not in label:
            continue
        print("%s  (%s%s)" % (label, path, ", check only" if kind == "fixture" else ""))
        new, old = compute(path, model, kind)
        if old is None:
            good, close = True, True
            print("  new file")
        else:
            good, close, _ = compare(new, old, label)
        if kind == "fixture":
            ok = ok and good and close
            continue
        if not close:
            changed.append(label)
        if not good:
            print("  NOT WRITTEN: names, shapes or pixel_values would change")
            ok = False
            continue
        if kind == "case" and library_of(read_config(os.path.join(DATA, model))) == "timm":
            d = check_timm_local_dir(os.path.join(DATA, model), old["pixel_values"])
            print("  timm local-dir loader vs create_model(**kwargs): max|diff| %.3e" % d)
            ok = ok and d == 0.0
        if not args.dry_run:
            write_reference(os.path.join(DATA, path), new)
            print("  wrote %s (%d bytes)" % (path, os.path.getsize(os.path.join(DATA, path))))
    if not args.no_cross_check:
        ok = cross_check_reimplementations(args.only) and ok
    print("\nwritten files that moved by more than %.0e x max(1, max|old|): %s"
          % (REL_TOL, ", ".join(changed) if changed else "none"))
    print(versions())
    print("RESULT", "OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
