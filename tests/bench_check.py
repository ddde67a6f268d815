"""Checks one `vit-vk-cli bench --json` object: every field README documents,
their types, that the figures agree with each other, and gflop_per_image
against the FLOP definition in README computed here from the architecture
(a config.json, or the shape of an --arch preset).

    python3 bench_check.py OUT.json (--config config.json | --arch NAME) [--batch N]
"""
import json
import math
import sys

# The --arch presets bench_test.sh runs (tools/random_model.c has them all).
PRESETS = {
    "vit-tiny": {"model_type": "vit", "hidden_size": 192, "num_hidden_layers": 12, "intermediate_size": 768,
                 "patch_size": 16, "image_size": 224, "num_channels": 3, "labels": 1000},
}

FIELDS = {
    "vitvk_version": str, "date": str, "arch": str, "random_weights": bool, "model": (str, type(None)),
    "architecture": str, "model_type": str, "image_size": int, "image_height": int, "image_width": int,
    "batch": int, "precision": str, "precision_requested": str, "coopmat_requested": str,
    "coopmat_tile": (str, type(None)), "device": str, "device_type": str,
    "vendor": str, "vendor_id": int, "device_id": int, "driver": str, "driver_name": str, "driver_info": str,
    "driver_version": str, "host_cpu": str, "host_cpus": (int, type(None)), "vulkan": str, "min_time_s": (int, float), "warmup_runs": int, "runs": int,
    "latency_ms_median": (int, float), "latency_ms_best": (int, float), "latency_ms_mean": (int, float),
    "images_per_s": (int, float), "tflops": (int, float), "flops_per_image": int, "gflop_per_image": (int, float), "load_s": (int, float),
    "weight_bytes": int, "activation_bytes": int, "dispatches": int, "gpu_ms": (int, float), "kernels": list,
    "variants": list,
}
KERNEL_FIELDS = {"group": str, "ops": list, "dispatches": int, "ms": (int, float), "share": (int, float),
                 "gflop": (int, float), "gflops": (int, float), "mbytes": (int, float), "gbps": (int, float),
                 "variants": list}
GROUPS = ["gemm qkv", "gemm attention output", "gemm fc1", "gemm fc2", "gemm patch embedding", "gemm head",
          "gemm patch merging", "attention", "layernorm", "other"]


def vit_tokens(cfg):
    """Patches and tokens of a ViT-style model ([CLS], plus DeiT's distillation token)."""
    n = (cfg["image_size"] // cfg["patch_size"]) ** 2
    return n, n + (2 if cfg["model_type"] == "deit" else 1)


def deit_two_heads(cfg):
    return cfg["model_type"] == "deit" and cfg.get("architectures", [""])[0].endswith("WithTeacher")


def reference_flops(cfg):
    """2 x multiply-adds of one image, as README defines them."""
    P, C, img = cfg["patch_size"], cfg.get("num_channels", 3), cfg["image_size"]
    K = cfg["labels"]
    if cfg["model_type"] == "swin":
        E, ws0 = cfg["embed_dim"], cfg["window_size"]
        H = W = img // P
        f = 2 * H * W * C * P * P * E
        width = E
        depths = cfg["depths"]
        for s, depth in enumerate(depths):
            ws = min(H, W) if min(H, W) <= ws0 else ws0
            T, inter = H * W, int(cfg.get("mlp_ratio", 4.0) * width)
            f += depth * (2 * T * width * 3 * width + 4 * T * ws * ws * width + 2 * T * width * width
                          + 4 * T * width * inter)
            if s + 1 < len(depths):
                H, W = (H + 1) // 2, (W + 1) // 2
                f += 2 * H * W * (4 * width) * (2 * width)
                width *= 2
        return f + 2 * width * K
    D, L, inter = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    n, T = vit_tokens(cfg)
    f = 2 * n * C * P * P * D
    f += L * (2 * T * D * 3 * D + 4 * T * T * D + 2 * T * D * D + 4 * T * D * inter)
    heads = 2 if deit_two_heads(cfg) else 1
    return f + heads * 2 * D * K


def skipped_flops(cfg, batch):
    """FLOPs per image the plan leaves out: when the heads read token 0
    alone (CLS pooling), the last layer runs attention output, MLP and the
    attention of one query per image instead of T; DeiT's two heads, at
    batch 1, of two (lib/vit.c, tail_q)."""
    if cfg["model_type"] == "swin":
        return 0
    if cfg["model_type"] == "beit" and cfg.get("use_mean_pooling", True):
        return 0
    q = 1
    if deit_two_heads(cfg):
        if batch != 1:
            return 0
        q = 2
    D, inter = cfg["hidden_size"], cfg["intermediate_size"]
    _, T = vit_tokens(cfg)
    return (T - q) * (2 * D * D + 4 * D * inter + 4 * T * D)


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def main():
    out_path, mode, ref = sys.argv[1], sys.argv[2], sys.argv[3]
    batch = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[4] == "--batch" else 1
    if mode == "--config":
        with open(ref) as f:
            cfg = json.load(f)
        cfg["labels"] = len(cfg.get("id2label", {}))
    else:
        cfg = PRESETS[ref]
    with open(out_path) as f:
        text = f.read()
    assert text.count("\n") == 1 and text.endswith("}\n"), "one JSON object on one line"
    r = json.loads(text)
    problems = []

    def check(cond, what):
        if not cond:
            problems.append(what)

    for k, t in FIELDS.items():
        check(k in r and isinstance(r[k], t) and not (t is int and isinstance(r[k], bool)),
              f"field {k}: {r.get(k)!r} is not {t}")
    if problems:
        sys.exit("\n".join(problems))
    check(r["batch"] == batch, "batch")
    check(r["image_size"] == r["image_height"] == cfg["image_size"] == r["image_width"], "image size")
    check(r["precision"] in ("fp32", "fp16"), "precision resolved")
    check(r["coopmat_requested"] in ("auto", "off", "fp16acc"), "coopmat_requested")
    check(r["runs"] >= 5 and r["warmup_runs"] >= 1, "at least 5 runs after a warm-up")
    check(0 < r["latency_ms_best"] <= r["latency_ms_median"], "best <= median")
    check(close(r["images_per_s"], batch * 1e3 / r["latency_ms_median"], 1e-3), "images/s = batch / median")
    ref_flops = reference_flops(cfg)
    ref_gflop = ref_flops * 1e-9
    check(r["flops_per_image"] == ref_flops,
          f"flops_per_image {r['flops_per_image']} != README's definition {ref_flops}")
    check(close(r["gflop_per_image"], ref_gflop, 1e-5), "gflop_per_image = flops_per_image / 1e9")
    check(close(r["tflops"], r["gflop_per_image"] * batch / r["latency_ms_median"], 2e-3),
          "tflops = flops_per_image * batch / median")
    check(r["vulkan"].count(".") == 2, "vulkan as major.minor.patch")
    check(r["host_cpu"] != "" and (r["host_cpus"] is None or r["host_cpus"] >= 1), "host_cpu, host_cpus")
    check(r["weight_bytes"] > 0 and r["activation_bytes"] > 0, "memory")
    ks = r["kernels"]
    check(len(ks) > 0, "kernels not empty")
    for k in ks:
        for f, t in KERNEL_FIELDS.items():
            check(f in k and isinstance(k[f], t), f"kernels[{k.get('group')}].{f}")
        check(k.get("group") in GROUPS, f"group {k.get('group')!r} is documented")
        check(k.get("variants") and all(isinstance(v, str) and v for v in k["variants"]),
              f"{k.get('group')}: kernel variants named")
    if problems:
        sys.exit("\n".join(problems))
    check([k["group"] for k in ks] == [g for g in GROUPS if g in {k["group"] for k in ks}], "groups in README order")
    check(r["dispatches"] == sum(k["dispatches"] for k in ks), "dispatches = sum over groups")
    check(close(r["gpu_ms"], sum(k["ms"] for k in ks), 1e-3), "gpu_ms = sum over groups")
    check(close(sum(k["share"] for k in ks), 1.0, 1e-3), "shares add up to 1")
    # The per-dispatch work of the GEMMs and attention is the same FLOP
    # count, made by the plan rather than the model, less what the plan
    # leaves out (README: the definition counts the whole pass).
    counted = sum(k["gflop"] for k in ks if k["group"].startswith("gemm") or k["group"] == "attention")
    plan_gflop = (ref_flops - skipped_flops(cfg, batch)) * 1e-9 * batch
    check(close(counted, plan_gflop, 1e-3), f"GEMM + attention GFLOP {counted} != {plan_gflop}")
    for want in ("gemm qkv", "gemm fc1", "gemm fc2", "attention", "layernorm"):
        check(any(k["group"] == want for k in ks), f"group {want} present")
    check(sum(v["dispatches"] for v in r["variants"]) == r["dispatches"], "variants cover every dispatch")
    check(all(isinstance(v.get("op"), str) and isinstance(v.get("variant"), str) for v in r["variants"]),
          "variants: op and variant")
    if problems:
        sys.exit("\n".join(problems))
    print(f"{r['arch']}: {r['gflop_per_image']:.3f} GFLOP/image, {r['dispatches']} dispatches, "
          f"median {r['latency_ms_median']:.1f} ms")


if __name__ == "__main__":
    main()
