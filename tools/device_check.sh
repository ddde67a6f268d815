#!/bin/sh
# The GPU check, run on the lent machine from the repository root with
# .gl and .devpack carried (tools/device_pack.sh makes them here):
# the devices, the fixtures in both precisions with the kernels the GPU
# picks and with the GPU family forced, the kernel tests, the host tests
# (adopted device, recording, GPU preprocessing, embed_host), and ViT-B/16
# benchmarks at batch 1, 8 and 64 (fp16) and 1 (fp32). Results go to $OUT:
# check.log (everything), bench.jsonl (one JSON object per line), bench.txt
# (the text report with the per-kernel table, fp16 batch 1).
set -u
OUT=${OUT:-/tmp/vitvk-out}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export LD_LIBRARY_PATH="$PWD/.devpack/lib"
B=.devpack/bin
log="$OUT/check.log"
: >"$log"
say() { echo "== $*" | tee -a "$log"; }
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if ! $B/vit-vk-cli devices 2>&1 | grep -qi nvidia && [ -f $icd ]; then
    export VK_DRIVER_FILES=$icd
fi
say devices
$B/vit-vk-cli devices >>"$log" 2>&1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv >>"$log" 2>&1
export VITVK_TEST_DATA="$PWD/tests/data" CK_DEFAULT_TIMEOUT=300
say "test_kernels"
$B/test_kernels >>"$log" 2>&1; echo "rc=$?" >>"$log"
say "test_e2e (kernels the device picks)"
$B/test_e2e >>"$log" 2>&1; echo "rc=$?" >>"$log"
say "test_e2e gpu (GPU family forced)"
$B/test_e2e gpu >>"$log" 2>&1; echo "rc=$?" >>"$log"
say "test_host, test_record (adopted device, recording, GPU preprocessing)"
VITVK_SOURCE_DIR="$PWD" $B/test_host >>"$log" 2>&1; echo "rc=$?" >>"$log"
VITVK_SOURCE_DIR="$PWD" $B/test_record >>"$log" 2>&1; echo "rc=$?" >>"$log"
say "embed_host"
$B/embed_host models/digits-vit models/digits-vit/samples/7-seven.png >>"$log" 2>&1; echo "rc=$?" >>"$log"
: >"$OUT/bench.jsonl"
for run in "fp16 1" "fp16 8" "fp16 64" "fp32 1"; do
    set -- $run
    say "bench vit-b16 $1 batch $2"
    $B/vit-vk-cli bench --arch vit-b16 --precision "$1" --batch "$2" --min-time 3 --json \
        >>"$OUT/bench.jsonl" 2>>"$log"
    echo "rc=$?" >>"$log"
done
say "bench text report"
$B/vit-vk-cli bench --arch vit-b16 --precision fp16 --batch 1 --min-time 2 >"$OUT/bench.txt" 2>&1
cat "$OUT/bench.txt" >>"$log"
grep -E "^== |rc=|Checks|%:" "$log"
