#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz harnesses, tests/fuzz/corpus/<target>/.

Seeds are small valid files (from the repository's models and test data, or
built here) and broken ones, one per rejection path worth starting from.
Crash reproducers found by fuzzing are added by hand as crash-<what> files
and are not touched by this script (it only writes seed-* files).
Standard library only:  python3 tests/fuzz/make_corpus.py"""
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def copy(target, name, src):
    with open(os.path.join(ROOT, src), "rb") as f:
        out(target, name, f.read())


def clean():
    for target in ("safetensors", "config", "preproc", "image", "infer"):
        d = os.path.join(CORPUS, target)
        if os.path.isdir(d):
            for n in os.listdir(d):
                if n.startswith("seed-"):
                    os.remove(os.path.join(d, n))


# ---- safetensors ---------------------------------------------------------

def st_raw(header, data=b"", hlen=None, pad=True):
    h = header.encode() if isinstance(header, str) else header
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h) if hlen is None else hlen) + h + data


def st_file(tensors, meta=None):
    """tensors: list of (name, dtype, shape, bytes)."""
    hdr, pos, blob = {}, 0, b""
    if meta is not None:
        hdr["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        hdr[name] = {"dtype": dtype, "shape": shape, "data_offsets": [pos, pos + len(raw)]}
        pos += len(raw)
        blob += raw
    return st_raw(json.dumps(hdr, separators=(",", ":")), blob)


def safetensors_seeds():
    t = "safetensors"
    f32 = struct.pack("<4f", 1.0, -2.5, 3e38, float("nan"))
    out(t, "all-dtypes.safetensors", st_file([
        ("a.f32", "F32", [2, 2], f32),
        ("b.f16", "F16", [3], struct.pack("<3H", 0x3c00, 0x7c00, 0x0001)),
        ("c.bf16", "BF16", [1, 2], struct.pack("<2H", 0x3f80, 0xff80)),
        ("d.f64", "F64", [2], struct.pack("<2d", 1e300, -0.0)),
        ("e.i64", "I64", [1], struct.pack("<q", -1)),
        ("f.i32", "I32", [1], struct.pack("<i", 7)),
        ("g.u8", "U8", [2], b"\x01\x02"),
        ("h.bool", "BOOL", [1], b"\x01"),
        ("i.scalar", "F32", [], struct.pack("<f", 0.5)),
        ("j.empty", "F32", [0, 5], b""),
        ("k.e4m3", "F8_E4M3", [1], b"\x38"),
    ], meta={"format": "pt"}))
    out(t, "one.safetensors", st_file([("x", "F32", [1], struct.pack("<f", 1.0))]))
    out(t, "empty-header.safetensors", st_raw("{}"))
    out(t, "metadata-only.safetensors", st_raw('{"__metadata__":{"a":"b"}}'))
    out(t, "unpadded.safetensors", st_raw('{"x":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}', b"abc", pad=False))
    # broken
    out(t, "short.safetensors", b"\x08\x00\x00")
    out(t, "hlen-zero.safetensors", struct.pack("<Q", 0) + b"{}")
    out(t, "hlen-past-end.safetensors", st_raw("{}", hlen=1 << 40))
    out(t, "hlen-over-limit.safetensors", struct.pack("<Q", (100 << 20) + 1) + b"{" * 64)
    out(t, "nul-in-header.safetensors", st_raw(b'{"a\x00":1}'))
    out(t, "not-json.safetensors", st_raw("{not json"))
    out(t, "not-object.safetensors", st_raw("[1,2,3]"))
    out(t, "trailing-json.safetensors", st_raw("{} {}"))
    e = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}%s}'
    out(t, "dup-tensor.safetensors", st_raw('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                            '"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"ab"))
    out(t, "dup-key.safetensors", st_raw('{"x":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}}', b"a"))
    out(t, "bad-dtype.safetensors", st_raw('{"x":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}', b"abcd"))
    out(t, "rank9.safetensors", st_raw('{"x":{"dtype":"U8","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,1]}}', b"a"))
    out(t, "shape-overflow.safetensors",
        st_raw('{"x":{"dtype":"F64","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}}', b"a" * 8))
    out(t, "shape-negative.safetensors", st_raw('{"x":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', b"a"))
    out(t, "shape-float.safetensors", st_raw('{"x":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}', b"a"))
    out(t, "offsets-2p53.safetensors",
        st_raw('{"x":{"dtype":"U8","shape":[1],"data_offsets":[9007199254740993,9007199254740994]}}', b"a"))
    out(t, "offsets-reversed.safetensors", st_raw('{"x":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}', b"a"))
    out(t, "offsets-past-end.safetensors", st_raw('{"x":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}', b"a"))
    out(t, "size-mismatch.safetensors", st_raw('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"abcd"))
    out(t, "overlap.safetensors", st_raw('{"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},'
                                         '"y":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', b"abc"))
    out(t, "gap.safetensors", st_raw('{"x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', b"ab"))
    out(t, "trailing-data.safetensors", st_raw('{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"ab"))
    out(t, "metadata-not-string.safetensors", st_raw('{"__metadata__":{"a":1}}'))
    out(t, "entry-not-object.safetensors", st_raw('{"x":[1]}'))
    out(t, "deep-nesting.safetensors", st_raw('{"__metadata__":' + "[" * 2000 + "]" * 2000 + "}"))


# ---- infer ---------------------------------------------------------------

def infer_seeds():
    t = "infer"

    def inp(dtype, shape, esize, name="pixel_values", extra=()):
        n = 1
        for d in shape:
            n *= d
        raw = bytes((i * 7) & 0xff for i in range(n * esize))
        return st_file([(name, dtype, shape, raw)] + list(extra))

    out(t, "f32-1x3x32x32.safetensors", inp("F32", [1, 3, 32, 32], 4))
    out(t, "f16-2x1x4x4.safetensors", inp("F16", [2, 1, 4, 4], 2))
    out(t, "bf16-1x3x2x2.safetensors", inp("BF16", [1, 3, 2, 2], 2))
    out(t, "f32-with-others.safetensors",
        inp("F32", [1, 1, 2, 2], 4, extra=[("labels", "I64", [1], b"\x00" * 8)]))
    out(t, "rank3.safetensors", inp("F32", [3, 4, 4], 4))
    out(t, "rank5.safetensors", inp("F32", [1, 1, 1, 2, 2], 4))
    out(t, "int64.safetensors", inp("I64", [1, 1, 2, 2], 8))
    out(t, "f64.safetensors", inp("F64", [1, 1, 2, 2], 8))
    out(t, "empty-batch.safetensors", inp("F32", [0, 3, 32, 32], 4))
    out(t, "wrong-name.safetensors", inp("F32", [1, 3, 32, 32], 4, name="pixels"))
    out(t, "huge-dims.safetensors",
        st_raw('{"pixel_values":{"dtype":"F16","shape":[1,1,0,4294967296],"data_offsets":[0,0]}}'))
    out(t, "truncated.safetensors", inp("F32", [1, 3, 4, 4], 4)[:-5])


# ---- config.json ----------------------------------------------------------

def config_seeds():
    t = "config"
    copy(t, "digits-vit.json", "models/digits-vit/config.json")
    copy(t, "vit-tiny.json", "tests/data/fixtures/vit-tiny/config.json")
    for d in sorted(os.listdir(os.path.join(ROOT, "tests/data/vit-extra"))):
        p = os.path.join("tests/data/vit-extra", d, "config.json")
        if os.path.exists(os.path.join(ROOT, p)):
            copy(t, "extra-" + d + ".json", p)
    base = {"model_type": "vit", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 16, "image_size": 8, "patch_size": 4}

    def cfg(name, **kv):
        c = dict(base)
        for k, v in kv.items():
            if v is None:
                c.pop(k, None)
            else:
                c[k] = v
        out(t, name, json.dumps(c))

    cfg("minimal.json")
    cfg("rect.json", image_size=[8, 12], id2label={"0": "a", "3": "d"})
    cfg("all-keys.json", num_channels=1, layer_norm_eps=1e-6, hidden_act="quick_gelu", qkv_bias=False,
        architectures=["ViTModel"], id2label={"0": "x"})
    # other families (parsers added on main; rejected as unsupported here)
    family = {
        "deit.json": dict(base, model_type="deit", architectures=["DeiTForImageClassificationWithTeacher"],
                          encoder_stride=16, id2label={"0": "a", "1": "b"}),
        "beit.json": dict(base, model_type="beit", architectures=["BeitForImageClassification"],
                          use_relative_position_bias=True, use_mean_pooling=True, layer_scale_init_value=0.1,
                          use_absolute_position_embeddings=False, use_shared_relative_position_bias=False),
        "swin.json": {"model_type": "swin", "architectures": ["SwinForImageClassification"], "embed_dim": 8,
                      "depths": [2, 2], "num_heads": [2, 4], "window_size": 2, "image_size": 16, "patch_size": 4,
                      "mlp_ratio": 4.0, "hidden_size": 16, "num_layers": 2, "qkv_bias": True,
                      "layer_norm_eps": 1e-5, "hidden_act": "gelu", "id2label": {"0": "a"}},
        "timm.json": {"architecture": "vit_tiny_patch16_224", "num_classes": 3, "num_features": 192,
                      "global_pool": "token", "model_args": {"depth": 2, "img_size": 32},
                      "pretrained_cfg": {"interpolation": "bicubic", "crop_pct": 0.9,
                                         "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}},
    }
    for name, c in family.items():
        out(t, name, json.dumps(c))
    # broken
    out(t, "empty.json", "")
    out(t, "not-object.json", "[1]")
    out(t, "truncated.json", json.dumps(base)[:-9])
    out(t, "unterminated-string.json", '{"model_type": "vi')
    out(t, "number-at-end.json", '{"model_type": "vit", "hidden_size": 1e')
    cfg("no-model-type.json", model_type=None)
    cfg("model-type-number.json", model_type=7)
    cfg("missing-hidden.json", hidden_size=None)
    cfg("hidden-huge.json", hidden_size=1e300)
    cfg("hidden-nan.json", hidden_size="nan")
    cfg("hidden-fraction.json", hidden_size=8.5)
    cfg("hidden-negative.json", hidden_size=-8)
    cfg("heads-not-divisor.json", num_attention_heads=3)
    cfg("head-dim-over.json", hidden_size=16384, num_attention_heads=2)
    cfg("patch-over-image.json", patch_size=16)
    cfg("patch-rect.json", patch_size=[4, 2])
    cfg("tokens-over.json", image_size=8192, patch_size=1)
    cfg("image-list-bad.json", image_size=[8, "x"])
    cfg("eps-bad.json", layer_norm_eps=2)
    cfg("act-unknown.json", hidden_act="swish-ish\nsecond line")
    cfg("qkv-bias-number.json", qkv_bias=1)
    cfg("id2label-bad-key.json", id2label={"x": "a"})
    cfg("id2label-negative.json", id2label={"-1": "a"})
    cfg("id2label-huge.json", id2label={"999999": "last"})
    cfg("id2label-over.json", id2label={"1000000": "a"})
    cfg("id2label-not-string.json", id2label={"0": 5})
    out(t, "id2label-dup.json", json.dumps(base)[:-1] + ', "id2label": {"0": "a", "0": "b", " 1": "c", "+2": "d"}}')
    out(t, "deep-nesting.json", '{"model_type":"vit","x":' + "[" * 5000 + "]" * 5000 + "}")


# ---- preprocessor_config.json ------------------------------------------------

def preproc_seeds():
    t = "preproc"
    copy(t, "digits.json", "models/digits-vit/preprocessor_config.json")
    for n in ("vit", "deit", "beit"):
        copy(t, n + ".json", "tests/data/preprocess/fixtures/%s_preprocessor_config.json" % n)

    def cfg(name, c):
        out(t, name, json.dumps(c))

    cfg("shortest-edge.json", {"image_processor_type": "ConvNextImageProcessorPil", "size": {"shortest_edge": 40},
                               "do_center_crop": True, "crop_size": {"height": 30, "width": 50}, "resample": 0})
    cfg("square-int.json", {"size": 48, "crop_size": 40, "do_center_crop": 1, "resample": 1,
                            "image_mean": 0.4, "image_std": [0.2]})
    cfg("no-rescale.json", {"do_rescale": False, "do_normalize": True, "resample": 4,
                            "feature_extractor_type": "ViTFeatureExtractor"})
    cfg("nulls.json", {"size": None, "resample": None, "image_mean": None, "do_resize": None})
    cfg("tiny-factor.json", {"rescale_factor": 5e-324, "image_std": [1e-30, 1e-30, 1e-30], "resample": 5})
    # broken
    out(t, "empty.json", "")
    out(t, "not-object.json", '"x"')
    out(t, "truncated.json", '{"size": {"height": 2')
    cfg("size-zero.json", {"size": {"height": 0, "width": 4}})
    cfg("size-huge.json", {"size": {"height": 65537, "width": 4}})
    cfg("size-longest.json", {"size": {"longest_edge": 4}})
    cfg("size-half.json", {"size": {"height": 4}})
    cfg("resample-6.json", {"resample": 6})
    cfg("factor-negative.json", {"rescale_factor": -1})
    cfg("std-zero.json", {"image_std": [0.5, 0, 0.5]})
    cfg("mean-two.json", {"image_mean": [0.5, 0.5]})
    cfg("mean-string.json", {"image_mean": ["a", 1, 2]})
    cfg("type-number.json", {"image_processor_type": 5})
    cfg("flag-string.json", {"do_resize": "yes"})


# ---- images --------------------------------------------------------------

def png(width, height, color_type, bit_depth, raw, interlace=0, extra=b""):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def image_seeds():
    t = "image"
    dec = "tests/data/preprocess/decode"
    for n in ("grey1.png", "grey16_3x1_adam7.png", "grey4_adam7.png", "greyalpha8.png", "palette2_trns.png",
              "palette4_1x9_adam7.png", "palette8_short.png", "rgb8_1x1_adam7.png", "rgb16.png", "rgba16_adam7.png",
              "rgb8_chunks.png", "bad_huge.png", "bad_zero.png", "not_an_image.png",
              "baseline420.jpg", "baseline422.jpg", "baseline444.jpg", "grey.jpg", "cmyk.jpg", "progressive.jpg",
              "bad_huge.jpg"):
        copy(t, n, os.path.join(dec, n))
    # a tall thin and a wide thin image: stretched by shortest_edge resizes
    out(t, "thin-1x300.png", png(1, 300, 2, 8, b"".join(b"\x00" + bytes([y & 255, 0, 255 - (y & 255)])
                                                        for y in range(300))))
    out(t, "wide-300x1.png", png(300, 1, 0, 8, b"\x00" + bytes(range(256)) + bytes(44)))
    # broken
    good = png(4, 4, 2, 8, b"".join(b"\x00" + bytes(12) for _ in range(4)))
    out(t, "truncated-idat.png", good[:-30])
    out(t, "bad-ihdr-crc.png", good[:29] + b"\x00\x00\x00\x00" + good[33:])
    out(t, "bad-depth.png", png(2, 2, 2, 7, bytes(14)))
    out(t, "short-rows.png", png(8, 8, 6, 16, bytes(10)))
    out(t, "plte-in-grey.png", png(2, 2, 3, 8, bytes(6), extra=b""))
    with open(os.path.join(ROOT, dec, "baseline420.jpg"), "rb") as f:
        jpg = f.read()
    out(t, "truncated.jpg", jpg[: len(jpg) // 2])
    out(t, "header-only.jpg", jpg[:200])
    out(t, "empty", b"")
    out(t, "png-signature-only.png", b"\x89PNG\r\n\x1a\n")
    out(t, "jpeg-soi-only.jpg", b"\xff\xd8\xff")


def main():
    clean()
    safetensors_seeds()
    infer_seeds()
    config_seeds()
    preproc_seeds()
    image_seeds()
    total = 0
    for dp, _, fs in os.walk(CORPUS):
        for n in fs:
            total += os.path.getsize(os.path.join(dp, n))
    print("corpus: %d bytes" % total)


if __name__ == "__main__":
    main()
