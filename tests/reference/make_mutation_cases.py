#!/usr/bin/python3
"""Generate the reference cases under tests/data/mutation-extra/<case>/: small random
checkpoints that make bugs visible which the other cases hide (tools/mutations.txt).

  vit-eps0.1            ViT with layer_norm_eps 0.1: with 1e-12 or 1e-6 (every other ViT
                        case) an eps taken from the wrong place, or dropped, moves nothing;
                        here it moves every LayerNorm by a few percent. In test_e2e's GPU
                        list too, for the LayerNorms fused into the qkv and fc1 GEMMs.
  beit-meanpool-eps0.1  BEiT with mean pooling and layer_norm_eps 0.1: the pooled mean is
                        normalised (pooler.layernorm), so a mean of the wrong scale (a sum
                        divided by T instead of T - 1) cancels out unless eps matters.

Each folder holds what ViTForImageClassification / BeitForImageClassification
.save_pretrained writes (config.json, model.safetensors, F32) and reference.safetensors
(F32): pixel_values ~ N(0, 1), and transformers' logits, pooled (the classifier's input),
hidden_states.0..L and attentions.last.cls ([CLS] row of the last layer's attention), run
in float32 in eval mode with attn_implementation="eager" -- the layout of
tests/data/vit-extra (see its README).

Weights (torch.Generator seeded per case): LayerNorm weights 1 + N(0, 0.2), biases
N(0, 0.05), other matrices and tables N(0, 0.05) (cls_token, position embeddings and
relative position tables N(0, 0.5)), BEiT's lambda_1/2 0.5 + N(0, 0.2). Deterministic on
re-run with the same versions (printed at the end).

Usage (from the repository root, in a venv with torch, transformers and safetensors):
  /path/to/venv/bin/python tests/reference/make_mutation_cases.py [--out tests/data/mutation-extra] [CASE ...]
"""

import argparse
import os
import sys

import safetensors
import safetensors.torch
import torch
import transformers

SEED = 20250301

CASES = {
    "vit-eps0.1": dict(
        cls="ViTForImageClassification",
        config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                    image_size=32, patch_size=8, num_channels=3, hidden_act="gelu", layer_norm_eps=0.1,
                    qkv_bias=True, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                    num_labels=4),
        batch=2),
    "beit-meanpool-eps0.1": dict(
        cls="BeitForImageClassification",
        config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                    image_size=32, patch_size=8, num_channels=3, hidden_act="gelu", layer_norm_eps=0.1,
                    use_mean_pooling=True, use_relative_position_bias=True,
                    use_absolute_position_embeddings=False, layer_scale_init_value=0.1,
                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, drop_path_rate=0.0,
                    num_labels=3),
        batch=2),
}


def randomise(model, gen):
    """Every parameter drawn afresh, so that each one matters (transformers' own init
    leaves biases at 0, LayerNorms at 1 and matrices at std 0.02)."""
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            n = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if "lambda_" in name:
                p.copy_(0.5 + 0.2 * n)
            elif ("layernorm" in name or "norm" in name.split(".")[-2]) and name.endswith(".weight"):
                p.copy_(1.0 + 0.2 * n)
            elif name.endswith(".bias"):
                p.copy_(0.05 * n)
            elif "cls_token" in name or "position" in name:
                p.copy_(0.5 * n)
            else:
                p.copy_(0.05 * n)


@torch.no_grad()
def make_case(out_root, idx, name, c):
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    gen = torch.Generator().manual_seed(SEED + idx)
    cls = getattr(transformers, c["cls"])
    config = cls.config_class(**c["config"])
    model = cls(config).eval()
    randomise(model, gen)
    model.save_pretrained(d, safe_serialization=True)
    # transformers itself, from what was saved
    model = cls.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    cfg = c["config"]
    px = torch.randn((c["batch"], cfg["num_channels"], cfg["image_size"], cfg["image_size"]), generator=gen,
                     dtype=torch.float32)
    grabbed = {}
    hook = model.classifier.register_forward_pre_hook(lambda m, args: grabbed.setdefault("pooled", args[0]))
    out = model(pixel_values=px, output_hidden_states=True, output_attentions=True, return_dict=True)
    hook.remove()
    ref = {"pixel_values": px, "logits": out.logits, "pooled": grabbed["pooled"],
           "attentions.last.cls": out.attentions[-1][:, :, 0, :]}
    for i, h in enumerate(out.hidden_states):
        ref["hidden_states.%d" % i] = h
    ref = {k: v.detach().to(torch.float32).contiguous() for k, v in ref.items()}
    safetensors.torch.save_file(ref, os.path.join(d, "reference.safetensors"))
    print("%-22s logits %s  top1 %s" % (name, tuple(ref["logits"].shape), ref["logits"].argmax(-1).tolist()))


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "data", "mutation-extra")))
    ap.add_argument("cases", nargs="*", help="subset of case names (default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # one fixed order of the float32 reductions
    for n in args.cases:
        if n not in CASES:
            ap.error("unknown case %r (known: %s)" % (n, ", ".join(CASES)))
    for idx, (name, c) in enumerate(CASES.items()):
        if not args.cases or name in args.cases:
            make_case(args.out, idx, name, c)
    print("torch %s, transformers %s, safetensors %s" % (torch.__version__, transformers.__version__,
                                                          safetensors.__version__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
