#!/usr/bin/python3
"""Regenerates tests/data/preprocess (see README.md there).

Needs Debian's python3-pil and python3-numpy (PIL is the oracle for decoding
and for PIL-backend resizing) and the reference fixtures (FIXTURES, default
/work/shared/fixtures). python3-torch, when present, is the oracle for
torchvision's nearest-exact indices. Run from anywhere:

    /usr/bin/python3 tests/data/preprocess/make_data.py [PART...]

PART is any of fixtures, digits, decode, resize, parity (default: all).
"""
import io
import json
import math
import os
import shutil
import struct
import sys
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.environ.get("FIXTURES", "/work/shared/fixtures")


# ---------------------------------------------------------------- safetensors
def load_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        assert v["dtype"] == "F32", k
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype="<f4").reshape(v["shape"])
    return out


# ---------------------------------------------------------------- PNG writer
# PIL cannot write 2/4-bit grey, 16-bit colour, grey+alpha 16 or interlaced
# PNGs, so the test files are written here and only decoded by PIL.
def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _pack_row(samples, bits):
    if bits == 16:
        return samples.astype(">u2").tobytes()
    if bits == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // bits
    out = bytearray((len(samples) + per - 1) // per)
    for i, v in enumerate(samples):
        out[i // per] |= (int(v) & ((1 << bits) - 1)) << (8 - bits * (i % per + 1))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(samples, color_type, bits, palette=None, trns=None, interlace=False, before_idat=b""):
    h, w, c = samples.shape
    raw = b""
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx, :]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub.reshape(sub.shape[0], sub.shape[1] * c):
            raw += b"\x00" + _pack_row(row, bits)
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, color_type, 0, 0, int(interlace)))
    data += before_idat
    if palette is not None:
        data += _chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        data += _chunk(b"tRNS", trns)
    return data + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def rgb_of(data):
    """The oracle: PIL's Image.open(...).convert("RGB")."""
    im = Image.open(io.BytesIO(data))
    return im.convert("RGB"), im.mode


# ---------------------------------------------------------------- fixtures
def make_fixtures(out):
    src = os.path.join(FIXTURES, "preprocess")
    ref = load_safetensors(os.path.join(src, "reference.safetensors"))
    for name in ["chelsea.png", "coffee.png", "astronaut.png"]:
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
    for proc in ["vit", "deit", "beit"]:
        cfg_name = proc + "_preprocessor_config.json"
        shutil.copyfile(os.path.join(src, cfg_name), os.path.join(out, cfg_name))
        cfg = json.load(open(os.path.join(src, cfg_name)))
        assert cfg["rescale_factor"] == 1 / 255 and cfg["image_mean"] == [0.5] * 3 and cfg["image_std"] == [0.5] * 3
        for photo in ["chelsea", "coffee", "astronaut"]:
            pv = ref[proc + "." + photo]
            # Every value is (L - 127.5) / 127.5 in float32 for a level L; the
            # levels compress well as a PNG, and the codec is checked exact.
            levels = np.rint(pv.astype(np.float64) * 127.5 + 127.5)
            assert levels.min() >= 0 and levels.max() <= 255
            levels = levels.astype(np.uint8)
            back = (levels.astype(np.float32) - np.float32(127.5)) / np.float32(127.5)
            assert np.array_equal(back, pv), (proc, photo)
            Image.fromarray(levels.transpose(1, 2, 0)).save(
                os.path.join(out, "ref_%s_%s.png" % (proc, photo)), optimize=True)


def make_digits(out, count=5):
    src = os.path.join(FIXTURES, "digits-vit")
    pv = load_safetensors(os.path.join(src, "reference.safetensors"))["pixel_values"]
    files = sorted(os.listdir(os.path.join(src, "test-png")))[:count]
    for f in files:
        shutil.copyfile(os.path.join(src, "test-png", f), os.path.join(out, f))
    shutil.copyfile(os.path.join(src, "preprocessor_config.json"), os.path.join(out, "preprocessor_config.json"))
    pv[:count].astype("<f4").tofile(os.path.join(out, "pixel_values.f32"))
    with open(os.path.join(out, "cases.txt"), "w") as fh:
        fh.write("# file  (its pixel_values row, in order, in pixel_values.f32: 3x32x32 little-endian float32)\n")
        for f in files:
            fh.write(f + "\n")


# ---------------------------------------------------------------- decoders
def make_decode(out):
    rng = np.random.default_rng(20240605)
    W, H = 19, 13
    cases = []
    blob = bytearray()

    def add(name, data):
        open(os.path.join(out, name), "wb").write(data)
        rgb, mode = rgb_of(data)
        blob.extend(rgb.tobytes())
        cases.append("%s %d %d %s" % (name, rgb.size[0], rgb.size[1], mode))

    def rand(shape, hi):
        return rng.integers(0, hi, size=shape)

    for bits in [1, 2, 4, 8]:
        add("grey%d.png" % bits, png_bytes(rand((H, W, 1), 1 << bits), 0, bits))
    g16 = rand((H, W, 1), 65536)
    g16[::2, ::3] = rand(g16[::2, ::3].shape, 256)  # some values PIL keeps, not clips
    add("grey16.png", png_bytes(g16, 0, 16))
    add("grey8_trns.png", png_bytes(rand((H, W, 1), 256), 0, 8, trns=b"\x00\x40"))
    add("grey16_trns.png", png_bytes(rand((H, W, 1), 512), 0, 16, trns=b"\x00\x40"))
    add("greyalpha8.png", png_bytes(rand((H, W, 2), 256), 4, 8))
    add("greyalpha16.png", png_bytes(rand((H, W, 2), 65536), 4, 16))
    add("rgb8.png", png_bytes(rand((H, W, 3), 256), 2, 8))
    add("rgb16.png", png_bytes(rand((H, W, 3), 65536), 2, 16))
    add("rgb8_trns.png", png_bytes(rand((H, W, 3), 256), 2, 8, trns=b"\x00\x10\x00\x20\x00\x30"))
    add("rgba8.png", png_bytes(rand((H, W, 4), 256), 6, 8))
    add("rgba16.png", png_bytes(rand((H, W, 4), 65536), 6, 16))
    for bits in [1, 2, 4, 8]:
        n = 1 << bits if bits < 8 else 200
        pal = rand((n, 3), 256)
        idx = rand((H, W, 1), n)
        add("palette%d.png" % bits, png_bytes(idx, 3, bits, palette=pal))
        add("palette%d_trns.png" % bits, png_bytes(idx, 3, bits, palette=pal, trns=bytes(range(0, 256, 37))[:n]))
    # Indices past the end of PLTE (PIL: grey ramp).
    add("palette8_short.png", png_bytes(rand((H, W, 1), 256), 3, 8, palette=rand((5, 3), 256)))
    # Ancillary chunks before the image data are parsed and ignored.
    text = _chunk(b"gAMA", struct.pack(">I", 45455)) + _chunk(b"tEXt", b"Comment\x00vitvk")
    add("rgb8_chunks.png", png_bytes(rand((H, W, 3), 256), 2, 8, before_idat=text))
    # Interlaced (Adam7), including sizes where some passes are empty.
    add("grey1_adam7.png", png_bytes(rand((H, W, 1), 2), 0, 1, interlace=True))
    add("grey4_adam7.png", png_bytes(rand((H, W, 1), 16), 0, 4, interlace=True))
    add("grey16_adam7.png", png_bytes(rand((H, W, 1), 65536), 0, 16, interlace=True))
    add("greyalpha8_adam7.png", png_bytes(rand((H, W, 2), 256), 4, 8, interlace=True))
    add("rgb8_adam7.png", png_bytes(rand((H, W, 3), 256), 2, 8, interlace=True))
    add("rgb16_adam7.png", png_bytes(rand((H, W, 3), 65536), 2, 16, interlace=True))
    add("rgba16_adam7.png", png_bytes(rand((H, W, 4), 65536), 6, 16, interlace=True))
    add("palette2_adam7.png", png_bytes(rand((H, W, 1), 4), 3, 2, palette=rand((4, 3), 256), interlace=True))
    add("palette8_adam7.png", png_bytes(rand((H, W, 1), 256), 3, 8, palette=rand((256, 3), 256), interlace=True))
    add("rgb8_1x1_adam7.png", png_bytes(rand((1, 1, 3), 256), 2, 8, interlace=True))
    add("grey16_3x1_adam7.png", png_bytes(rand((1, 3, 1), 65536), 0, 16, interlace=True))
    add("palette4_1x9_adam7.png", png_bytes(rand((9, 1, 1), 16), 3, 4, palette=rand((16, 3), 256), interlace=True))

    # JPEGs, written and decoded by PIL (libjpeg-turbo).
    yy, xx = np.mgrid[0:23, 0:37]
    smooth = np.stack([xx * 7, yy * 11, (xx + yy) * 5], -1) % 256
    photo = np.clip(smooth + rand(smooth.shape, 40) - 20, 0, 255).astype(np.uint8)
    im = Image.fromarray(photo)

    def jpeg(img, **kw):
        b = io.BytesIO()
        img.save(b, "JPEG", **kw)
        return b.getvalue()

    add("baseline420.jpg", jpeg(im, quality=90))
    add("baseline422.jpg", jpeg(im, quality=90, subsampling=1))
    add("baseline444.jpg", jpeg(im, quality=90, subsampling=0))
    add("progressive.jpg", jpeg(im, quality=85, progressive=True))
    add("grey.jpg", jpeg(im.convert("L"), quality=90))
    add("cmyk.jpg", jpeg(Image.fromarray(rand((23, 37, 4), 256).astype(np.uint8), "CMYK"), quality=90))

    open(os.path.join(out, "expected.rgb"), "wb").write(bytes(blob))
    with open(os.path.join(out, "cases.txt"), "w") as fh:
        fh.write("# file width height PIL-mode; expected.rgb holds PIL's convert('RGB') bytes of each, in order\n")
        fh.write("\n".join(cases) + "\n")

    # Refused files (the tests build truncated and random ones themselves).
    ihdr = lambda w, h: _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    sig = b"\x89PNG\r\n\x1a\n"
    open(os.path.join(out, "bad_huge.png"), "wb").write(sig + ihdr(100000, 100000) + _chunk(b"IEND", b""))
    open(os.path.join(out, "bad_zero.png"), "wb").write(sig + ihdr(0, 13) + _chunk(b"IEND", b""))
    j = bytearray(jpeg(im, quality=50))
    sof = j.index(b"\xff\xc0\x00\x11\x08")  # SOF0, 3 components, 8-bit
    j[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width
    open(os.path.join(out, "bad_huge.jpg"), "wb").write(bytes(j))
    open(os.path.join(out, "not_an_image.png"), "w").write("This is a text file with a .png name.\n")


# ---------------------------------------------------------------- resizing
def torch_model_resize(a, w, h, kind):
    """torch's antialiased uint8 resize (int16 weights); matches the
    fixtures' torchvision output bit for bit."""
    supports = {2: (1.0, lambda x: max(0.0, 1.0 - abs(x))), 3: (2.0, None)}

    def cubic(x):
        a_ = -0.5
        x = abs(x)
        if x < 1.0:
            return ((a_ + 2.0) * x - (a_ + 3.0)) * x * x + 1
        if x < 2.0:
            return (((x - 5) * x + 8) * x - 4) * a_
        return 0.0

    sup, fn = supports[kind]
    fn = fn or cubic

    def one_pass(img, axis, out_size):
        in_size = img.shape[axis]
        scale = in_size / out_size
        fs = max(scale, 1.0)
        support = sup * fs
        rows = []
        for i in range(out_size):
            c = (i + 0.5) * scale
            lo = max(int(c - support + 0.5), 0)
            hi = min(int(c + support + 0.5), in_size)
            ws = [fn((j + lo - c + 0.5) * (1.0 / fs)) for j in range(hi - lo)]
            t = sum(ws)
            rows.append((lo, [v / t if t != 0 else v for v in ws]))
        wmax = max(max(ws) for _, ws in rows)
        bits = 0
        while bits < 22 and int(0.5 + wmax * (1 << (bits + 1))) < (1 << 15):
            bits += 1
        res = []
        for lo, ws in rows:
            k = np.array([int(-0.5 + v * (1 << bits)) if v < 0 else int(0.5 + v * (1 << bits)) for v in ws])
            sl = np.take(img.astype(np.int64), range(lo, lo + len(k)), axis=axis)
            shape = [1, 1, 1]
            shape[axis] = len(k)
            s = (sl * k.reshape(shape)).sum(axis=axis) + (1 << (bits - 1))
            res.append(np.clip(s >> bits, 0, 255))
        return np.stack(res, axis=axis).astype(np.uint8)

    if a.shape[1] != w:
        a = one_pass(a, 1, w)
    if a.shape[0] != h:
        a = one_pass(a, 0, h)
    return a


def torch_nearest_exact(a, w, h):
    try:
        import torch
        t = torch.from_numpy(a.transpose(2, 0, 1).copy()).unsqueeze(0)
        r = torch.nn.functional.interpolate(t.float(), size=(h, w), mode="nearest-exact")
        return r[0].numpy().transpose(1, 2, 0).astype(np.uint8), "torch"
    except ImportError:
        def idx(n_in, n_out):
            s = np.float32(np.float32(n_in) / np.float32(n_out))
            return [min(int(np.floor(np.float32((i + 0.5) * float(s)))), n_in - 1) for i in range(n_out)]
        return a[idx(a.shape[0], h)][:, idx(a.shape[1], w)], "formula"


def make_resize(out):
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:17, 0:23]
    base = np.stack([xx * 11, yy * 15, 255 - xx * 5 - yy * 6], -1)
    src = np.clip(base + rng.integers(-30, 31, base.shape), 0, 255).astype(np.uint8)
    Image.fromarray(src).save(os.path.join(out, "src.png"))
    sizes = [(11, 8), (40, 31), (23, 9), (7, 17), (50, 5), (1, 1), (224, 3)]
    cases, blob = [], bytearray()
    for f in range(6):
        for w, h in sizes:
            r = np.array(Image.fromarray(src).resize((w, h), resample=f))
            cases.append("pil %d %d %d PIL" % (f, w, h))
            blob.extend(r.tobytes())
    for w, h in sizes:
        r, how = torch_nearest_exact(src, w, h)
        cases.append("torchvision 0 %d %d %s" % (w, h, how))
        blob.extend(r.tobytes())
    for f in (1, 2, 3):
        for w, h in sizes:
            r = torch_model_resize(src, w, h, 3 if f == 1 else f)
            cases.append("torchvision %d %d %d model" % (f, w, h))
            blob.extend(r.tobytes())
    open(os.path.join(out, "expected.rgb"), "wb").write(bytes(blob))
    with open(os.path.join(out, "cases.txt"), "w") as fh:
        fh.write("# backend filter width height source-of-truth; expected.rgb holds each result, in order\n")
        fh.write("\n".join(cases) + "\n")

    # Full-size photos reach weight roundings the small source never does
    # (PIL's float-literal Hamming constants, for one); too big to store, so
    # the results are kept as 64-bit FNV-1a hashes of the RGB bytes.
    lines = []
    for photo in ["chelsea", "coffee", "astronaut"]:
        im = Image.open(os.path.join(FIXTURES, "preprocess", photo + ".png")).convert("RGB")
        a = np.array(im)
        for w, h in [(224, 224), (97, 301)] + ([(640, 480)] if photo == "chelsea" else []):
            for f in range(6):
                lines.append("%s pil %d %d %d %016x" % (photo, f, w, h, fnv1a64(im.resize((w, h), resample=f).tobytes())))
            r, how = torch_nearest_exact(a, w, h)
            lines.append("%s torchvision 0 %d %d %016x" % (photo, w, h, fnv1a64(r.tobytes())))
    with open(os.path.join(out, "photo_hashes.txt"), "w") as fh:
        fh.write("# photo backend filter width height fnv1a64(RGB bytes); pil: PIL's Image.resize, "
                 "torchvision 0: torch nearest-exact\n")
        fh.write("\n".join(lines) + "\n")


def fnv1a64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---------------------------------------------------------------- parity
# References for `vit-vk-cli preprocess` (tests/preprocess_parity.sh): what
# transformers' PIL backend gives, computed here with real PIL and numpy in
# the order and dtypes transformers 5 uses (transformers itself is not
# installable on the machine that made these):
#   PIL Image.open(f).convert("RGB")            (transformers converts to RGB)
#   resize: PIL Image.resize((w, h), resample) on the uint8 image, size from
#           {height, width} or shortest_edge (int(se * long / short))
#   center_crop: image_transforms.center_crop (floor offsets, ceil padding first)
#   rescale: image.astype(float64) * factor, then .astype(float32)
#   normalize: (image - mean) / std with mean, std as float32 arrays
# Every value then depends only on the uint8 level after resize and crop and
# on its channel, so a reference is stored as those levels (ref_*.png) plus
# the level -> value table of its config (lut_*.f32, 3 x 256 float32 LE).
# cases.txt also holds, per backend, the 64-bit FNV-1a hash of the exact
# float32 tensor: "pil" from the computation above, "torchvision" from the
# Python model of torch's kernels above (torch_model_resize, the one that
# reproduces the transformers fixtures bit for bit) and transformers'
# torchvision arithmetic ((x - mean / f) / (std / f) in float32), "timm" from
# timm's eval transform reimplemented below. The test reports whether each
# output is bit-exact and checks the >= 99% within one step / all within two
# steps rule against the stored levels.

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]


def hf_size(cfg, w, h):
    if not cfg.get("do_resize", True):
        return w, h
    size = cfg["size"]
    if "shortest_edge" in size:
        se = size["shortest_edge"]
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(se * long / short)
        return (se, new_long) if w <= h else (new_long, se)
    return size["width"], size["height"]


def numpy_center_crop(a, ch, cw):
    """transformers.image_transforms.center_crop on an HWC array."""
    oh, ow = a.shape[:2]
    top, left = (oh - ch) // 2, (ow - cw) // 2
    if top >= 0 and left >= 0 and top + ch <= oh and left + cw <= ow:
        return a[top:top + ch, left:left + cw]
    nh, nw = max(ch, oh), max(cw, ow)
    new = np.zeros((nh, nw) + a.shape[2:], dtype=a.dtype)
    tp, lp = -(-(nh - oh) // 2), -(-(nw - ow) // 2)
    new[tp:tp + oh, lp:lp + ow] = a
    top, left = top + tp, left + lp
    return new[max(0, top):min(nh, top + ch), max(0, left):min(nw, left + cw)]


def torchvision_center_crop(a, ch, cw, fill=(0, 0, 0), rounding=False):
    """torchvision's center_crop (transformers' torchvision backend uses int()
    for the offsets; torchvision.transforms.CenterCrop, used by timm, round())."""
    oh, ow = a.shape[:2]
    if ch > oh or cw > ow:
        l, t = (cw - ow) // 2 if cw > ow else 0, (ch - oh) // 2 if ch > oh else 0
        r, b = (cw - ow + 1) // 2 if cw > ow else 0, (ch - oh + 1) // 2 if ch > oh else 0
        new = np.empty((oh + t + b, ow + l + r, 3), dtype=a.dtype)
        new[:] = np.array(fill, dtype=a.dtype)
        new[t:t + oh, l:l + ow] = a
        a = new
        oh, ow = a.shape[:2]
        if (oh, ow) == (ch, cw):
            return a
    off = (lambda d: int(round(d / 2.0))) if rounding else (lambda d: int(d / 2.0))
    top, left = off(oh - ch), off(ow - cw)
    return a[top:top + ch, left:left + cw]


def hf_levels(img, cfg, backend):
    """uint8 HWC after resize and crop, as the backend computes it."""
    w, h = hf_size(cfg, *img.size)
    resample = cfg.get("resample", 2)
    if backend == "pil":
        a = np.array(img.resize((w, h), resample=resample)) if (w, h) != img.size else np.array(img)
    else:
        a = np.array(img)
        if (w, h) != img.size:
            if resample == 0:
                a, _ = torch_nearest_exact(a, w, h)
            else:
                a = torch_model_resize(a, w, h, 3 if resample == 1 else resample)
    if cfg.get("do_center_crop", False):
        cs = cfg["crop_size"]
        crop = numpy_center_crop if backend == "pil" else torchvision_center_crop
        a = crop(a, cs["height"], cs["width"])
    return np.ascontiguousarray(a)


def hf_lut(cfg, backend):
    f = cfg.get("rescale_factor", 1 / 255)
    mean = np.array(cfg.get("image_mean", [0.5] * 3), dtype=np.float32)
    std = np.array(cfg.get("image_std", [0.5] * 3), dtype=np.float32)
    v = np.arange(256)
    if backend == "pil":
        x = (v.astype(np.float64) * f).astype(np.float32)
        return np.stack([(x - mean[c]) / std[c] for c in range(3)]).astype(np.float32)
    inv = np.float32(1.0 / f)
    x = v.astype(np.float32)
    return np.stack([(x - mean[c] * inv) / (std[c] * inv) for c in range(3)]).astype(np.float32)


def timm_levels_lut(img, pc):
    """timm's resolve_data_config + transforms_imagenet_eval on a PIL RGB image."""
    _, H, W = pc.get("input_size", (3, 224, 224))
    interp = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}[
        pc.get("interpolation") or "bicubic"]
    crop_pct = pc.get("crop_pct") or 0.875
    mode = pc.get("crop_mode") or "center"
    mean = pc.get("mean") or IMAGENET_MEAN
    std = pc.get("std") or IMAGENET_STD
    sh, sw = math.floor(H / crop_pct), math.floor(W / crop_pct)
    iw, ih = img.size
    fill = (0, 0, 0)

    def keep_ratio(longest):
        rh, rw = ih / sh, iw / sw
        ratio = max(rh, rw) * longest + min(rh, rw) * (1.0 - longest)
        return [round(x / ratio) for x in (ih, iw)]

    if mode == "squash":
        size = [sh, sw]
    elif mode == "border":
        size = keep_ratio(1.0)
        fill = tuple(round(255 * v) for v in mean)
    elif sh == sw:  # torchvision Resize(int): shorter side
        short, long = (iw, ih) if iw <= ih else (ih, iw)
        new_long = int(sh * long / short)
        size = [new_long, sh] if iw <= ih else [sh, new_long]
    else:
        size = keep_ratio(0.0)
        interp = 2  # ResizeKeepRatio's default: timm passes no interpolation here
    a = np.array(img.resize((size[1], size[0]), interp)) if [ih, iw] != size else np.array(img)
    a = np.ascontiguousarray(torchvision_center_crop(a, H, W, fill=fill, rounding=True))
    m32, s32 = np.array(mean, dtype=np.float32), np.array(std, dtype=np.float32)
    x = np.arange(256).astype(np.float32) / np.float32(255)
    lut = np.stack([(x - m32[c]) / s32[c] for c in range(3)]).astype(np.float32)
    return a, lut


def tensor_of(levels, lut):
    return np.stack([lut[c][levels[:, :, c]] for c in range(3)]).astype("<f4")


def fnv1a64_np(data):
    """fnv1a64, faster: the same hash, a byte at a time but on numpy uint64."""
    h = 0xCBF29CE484222325
    prime = 0x100000001B3
    for b in np.frombuffer(data, dtype=np.uint8).tolist():
        h = ((h ^ b) * prime) & 0xFFFFFFFFFFFFFFFF
    return h


def make_parity_inputs(out, photos):
    chelsea, coffee, astronaut = (Image.open(os.path.join(photos, n + ".png")).convert("RGB")
                                  for n in ("chelsea", "coffee", "astronaut"))
    ims = {}
    b = coffee.resize((300, 200), Image.LANCZOS)
    b.save(os.path.join(out, "photo.jpg"), quality=88)                      # baseline 4:2:0
    ims["photo.jpg"] = "JPEG baseline 4:2:0, 300x200"
    astronaut.convert("L").resize((180, 180), Image.LANCZOS).save(
        os.path.join(out, "grey_progressive.jpg"), quality=85, progressive=True)
    ims["grey_progressive.jpg"] = "JPEG progressive greyscale, 180x180"
    chelsea.crop((150, 60, 350, 210)).convert("L").save(os.path.join(out, "grey.png"))
    ims["grey.png"] = "PNG greyscale (L), 200x150"
    chelsea.resize((180, 120), Image.LANCZOS).quantize(64).save(os.path.join(out, "palette.png"))
    ims["palette.png"] = "PNG palette (P, 64 colours), 180x120"
    rgb = np.array(astronaut.resize((120, 150), Image.LANCZOS))
    yy, xx = np.mgrid[0:150, 0:120]
    alpha = ((xx * 255) // 119 ^ (yy % 64) * 3).astype(np.uint8)
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(os.path.join(out, "rgba.png"))
    ims["rgba.png"] = "PNG RGBA (alpha dropped), 120x150"
    chelsea.resize((50, 37), Image.BOX).save(os.path.join(out, "small.png"))
    ims["small.png"] = "PNG 50x37, enlarged by every config"
    coffee.crop((0, 150, 600, 350)).resize((246, 82), Image.LANCZOS).save(os.path.join(out, "wide.png"))
    ims["wide.png"] = "PNG non-square 246x82"
    cmyk = Image.fromarray(np.array(coffee.resize((64, 48), Image.LANCZOS))).convert("CMYK")
    cmyk.save(os.path.join(out, "cmyk.jpg"), quality=90)
    ims["cmyk.jpg"] = "JPEG CMYK, 64x48"
    return ims


PARITY_CONFIGS = {
    # the fixtures' own processors
    "vit": None, "deit": None, "beit": None,
    # the same processors at smaller sizes (small reference files)
    "vit112": {"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": 112, "width": 112},
               "resample": 2, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
               "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
    "deit112": {"image_processor_type": "DeiTImageProcessor", "do_resize": True, "size": {"height": 128, "width": 128},
                "resample": 3, "do_center_crop": True, "crop_size": {"height": 112, "width": 112},
                "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                "image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD},
    "in384": {"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": 384, "width": 384},
              "resample": 3, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
              "image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD},
    "shortest": {"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"shortest_edge": 96},
                 "resample": 2, "do_center_crop": True, "crop_size": {"height": 88, "width": 88},
                 "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                 "image_mean": CLIP_MEAN, "image_std": CLIP_STD},
    "lanczos": {"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": 64, "width": 80},
                "resample": 1, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
    "nearest": {"image_processor_type": "ViTImageProcessor", "do_resize": True, "size": {"height": 64, "width": 80},
                "resample": 0, "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                "image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD},
    "croppad": {"image_processor_type": "DeiTImageProcessor", "do_resize": True, "size": {"height": 100, "width": 90},
                "resample": 3, "do_center_crop": True, "crop_size": {"height": 112, "width": 77},
                "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
                "image_mean": IMAGENET_MEAN, "image_std": IMAGENET_STD},
}
PARITY_CASES = [
    ("vit112", ["photo.jpg", "grey_progressive.jpg", "grey.png", "palette.png", "rgba.png", "small.png", "wide.png",
                "cmyk.jpg"]),
    ("deit", ["photo.jpg"]),
    ("deit112", ["small.png", "wide.png", "rgba.png"]),
    ("in384", ["small.png"]),
    ("shortest", ["wide.png", "rgba.png"]),
    ("lanczos", ["photo.jpg", "small.png"]),
    ("nearest", ["grey.png", "small.png"]),
    ("croppad", ["wide.png", "small.png"]),
]
TIMM_CONFIGS = {
    # as timm's vit_base_patch16_224.augreg_in21k_ft_in1k pretrained_cfg
    "timm_vit224": {"input_size": [3, 224, 224], "interpolation": "bicubic", "crop_pct": 0.9,
                    "crop_mode": "center", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
    # no crop_pct, crop_mode, interpolation: timm's defaults (0.875, center, bicubic)
    "timm_defaults": {"input_size": [3, 112, 112]},
    "timm_squash": {"input_size": [3, 96, 96], "interpolation": "bilinear", "crop_pct": 0.95,
                    "crop_mode": "squash", "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    "timm_border": {"input_size": [3, 96, 128], "interpolation": "bicubic", "crop_pct": 1.0,
                    "crop_mode": "border", "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    "timm_nonsquare": {"input_size": [3, 80, 112], "interpolation": "bicubic", "crop_pct": 0.9,
                       "mean": CLIP_MEAN, "std": CLIP_STD},
}
TIMM_CASES = [
    ("timm_vit224", ["small.png"]),
    ("timm_defaults", ["wide.png", "grey.png"]),
    ("timm_squash", ["wide.png", "palette.png"]),
    ("timm_border", ["wide.png", "rgba.png"]),
    ("timm_nonsquare", ["photo.jpg", "rgba.png"]),
]


def save_lut(path, lut):
    lut.astype("<f4").tofile(path)


def make_parity(out):
    fx = os.path.join(HERE, "fixtures")
    ims = make_parity_inputs(out, fx)
    lines = ["# config image reference-levels lut backend=fnv1a64 ...  (see make_data.py, \"parity\")",
             "# config: cfg_<config>.json in this folder, or ../fixtures/<config>_preprocessor_config.json;",
             "# image: in this folder, or ../fixtures/<photo>.png; the reference is ref (levels) + lut"]
    for name, cfg in PARITY_CONFIGS.items():
        if cfg is None:
            continue
        with open(os.path.join(out, "cfg_%s.json" % name), "w") as fh:
            json.dump(cfg, fh, indent=1)
    cfgs = dict((k, v if v is not None else json.load(open(os.path.join(fx, k + "_preprocessor_config.json"))))
                for k, v in PARITY_CONFIGS.items())
    # The shared photos: the reference is transformers' own output (the
    # fixtures, torchvision backend), already stored as ../fixtures/ref_*.png;
    # the hashes say what each backend gives exactly.
    half = ((np.arange(256).astype(np.float32) - np.float32(127.5)) / np.float32(127.5)).astype(np.float32)
    save_lut(os.path.join(out, "lut_fixture.f32"), np.stack([half] * 3))
    for proc in ["vit", "deit", "beit"]:
        for photo in ["chelsea", "coffee", "astronaut"]:
            img = Image.open(os.path.join(fx, photo + ".png")).convert("RGB")
            ref = np.array(Image.open(os.path.join(fx, "ref_%s_%s.png" % (proc, photo))).convert("RGB"))
            hashes = []
            for be in ["pil", "torchvision"]:
                t = tensor_of(hf_levels(img, cfgs[proc], be), hf_lut(cfgs[proc], be))
                hashes.append("%s=%016x" % (be, fnv1a64_np(t.tobytes())))
            tv = tensor_of(hf_levels(img, cfgs[proc], "torchvision"), hf_lut(cfgs[proc], "torchvision"))
            assert np.array_equal(tv, tensor_of(ref, np.stack([half] * 3))), (proc, photo)  # the model is exact
            lines.append("%s ../fixtures/%s.png ../fixtures/ref_%s_%s.png lut_fixture.f32 %s" % (
                proc, photo, proc, photo, " ".join(hashes)))
    for name, files in PARITY_CASES:
        cfg = cfgs[name]
        save_lut(os.path.join(out, "lut_%s.f32" % name), hf_lut(cfg, "pil"))
        for f in files:
            img = Image.open(os.path.join(out, f)).convert("RGB")
            lv = hf_levels(img, cfg, "pil")
            stem = os.path.splitext(f)[0]
            Image.fromarray(lv).save(os.path.join(out, "ref_%s_%s.png" % (name, stem)), optimize=True)
            hashes = []
            for be in ["pil", "torchvision"]:
                t = tensor_of(hf_levels(img, cfg, be), hf_lut(cfg, be))
                hashes.append("%s=%016x" % (be, fnv1a64_np(t.tobytes())))
            lines.append("%s %s ref_%s_%s.png lut_%s.f32 %s" % (name, f, name, stem, name, " ".join(hashes)))
    for name, pc in TIMM_CONFIGS.items():
        with open(os.path.join(out, "cfg_%s.json" % name), "w") as fh:
            json.dump({"architecture": "vit_base_patch16_224", "num_classes": 10, "pretrained_cfg": pc}, fh, indent=1)
    for name, files in TIMM_CASES:
        pc = TIMM_CONFIGS[name]
        for f in files:
            img = Image.open(os.path.join(out, f)).convert("RGB")
            lv, lut = timm_levels_lut(img, pc)
            save_lut(os.path.join(out, "lut_%s.f32" % name), lut)
            stem = os.path.splitext(f)[0]
            Image.fromarray(lv).save(os.path.join(out, "ref_%s_%s.png" % (name, stem)), optimize=True)
            lines.append("%s %s ref_%s_%s.png lut_%s.f32 timm=%016x" % (
                name, f, name, stem, name, fnv1a64_np(tensor_of(lv, lut).tobytes())))
    with open(os.path.join(out, "cases.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "images.txt"), "w") as fh:
        fh.write("".join("%s  %s\n" % kv for kv in ims.items()))


def main():
    parts = [("fixtures", make_fixtures), ("digits", make_digits), ("decode", make_decode),
             ("resize", make_resize), ("parity", make_parity)]
    only = sys.argv[1:]
    for sub, fn in parts:
        if only and sub not in only:
            continue
        d = os.path.join(HERE, sub)
        os.makedirs(d, exist_ok=True)
        fn(d)
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
