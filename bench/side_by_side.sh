#!/bin/sh
# ViT-B/16 at 224, batch 1, on this machine: PyTorch on the CPU
# (bench/torch_cpu.py, Debian's python3-torch) and vitvk on the default
# Vulkan device (lavapipe where there is no GPU), one after the other in
# one run, so both see the same machine. Writes the two reports and the
# vitvk JSON next to each other:
#   sh bench/side_by_side.sh OUTDIR [THREADS]
set -eu
out=${1:?usage: side_by_side.sh OUTDIR [THREADS]}
threads=${2:-2}
cd "$(dirname "$0")/.."
mkdir -p "$out"
cli=build/vit-vk-cli
/usr/bin/python3 bench/torch_cpu.py "$threads" 5 | tee "$out/torch.txt"
for p in fp32 fp16; do
    $cli bench --arch vit-b16 --precision $p --batch 1 --min-time 5 --json >"$out/vitvk-$p.json"
    $cli bench --arch vit-b16 --precision $p --batch 1 --min-time 2 | tee "$out/vitvk-$p.txt"
done
