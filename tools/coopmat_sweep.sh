#!/bin/sh
# Times ViT-B/16's fp16 GEMMs with several KHR cooperative-matrix tilings
# (vit-vk-cli bench --coopmat-tile), for the tuning table in
# lib/ops/tuning.c. Run from the repository root where the binary is:
#   sh tools/coopmat_sweep.sh [CLI] [BATCHES] [OUT.jsonl]
# VITVK_SWEEP_TILES, VITVK_SWEEP_ACC and VITVK_SWEEP_ARCH replace the
# tilings, accumulations (auto fp16acc) and model (vit-b16).
# Prints one line per run: tiling, accumulation, batch, median ms of the
# pass and of its GEMMs (GPU time, profiled run), their TFLOP/s.
set -u
cli=${1:-./build/vit-vk-cli}
batches=${2:-"64 1"}
out=${3:-/dev/null}
arch=${VITVK_SWEEP_ARCH:-vit-b16}
: >"$out"
# workgroup tile / subgroup tile / matrix shape
tiles=${VITVK_SWEEP_TILES:-"128x128x32/64x32/16x16x16 64x64x32/32x32/16x16x16 128x64x32/64x32/16x16x16 64x128x32/32x64/16x16x16
       128x128x32/32x64/16x16x16 128x128x16/64x32/16x16x16 64x64x64/32x32/16x16x16 256x128x16/64x64/16x16x16
       128x128x32/64x32/16x8x16 64x64x32/32x32/16x8x16 32x32x32/32x32/16x16x16 64x32x32/32x32/16x16x16"}
for b in $batches; do
    for acc in ${VITVK_SWEEP_ACC:-auto fp16acc}; do
        for t in default $tiles; do
            tile=""
            [ "$t" = default ] || tile="--coopmat-tile $t"
            # shellcheck disable=SC2086
            line=$(timeout -k 5 60 "$cli" bench --arch "$arch" --precision fp16 --batch "$b" --coopmat "$acc" $tile \
                --min-time 0.5 --json 2>&1 | tail -1)
            echo "$line" >>"$out"
            echo "$line" | python3 -c '
import json, sys
t, acc, b = sys.argv[1:4]
try:
    r = json.loads(sys.stdin.read())
except Exception as e:
    print(f"{t:28s} {acc:8s} b{b:3s} failed"); sys.exit()
g = [k for k in r["kernels"] if k["group"].startswith("gemm") and k["group"] != "gemm head"]
ms = sum(k["ms"] for k in g); gf = sum(k["gflop"] for k in g)
att = sum(k["ms"] for k in r["kernels"] if k["group"] == "attention")
lat = r["latency_ms_median"]
print(f"{t:28s} {acc:8s} b{b:3s} pass {lat:8.3f} ms  gemm {ms:7.3f} ms {gf / ms:6.1f} TFLOP/s  attention {att:6.3f} ms")
' "$t" "$acc" "$b"
        done
    done
done
