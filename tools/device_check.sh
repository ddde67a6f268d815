#!/bin/sh
# The GPU check, run on a lent machine (a bare one: no compilers, no -dev
# packages, maybe no Vulkan loader) from the repository root with .gl and
# .devpack carried (tools/device_pack.sh makes them here):
#   device run, carry [".gl", ".devpack"], command "sh tools/device_check.sh"
# Benchmarks first (they are what a short lease is for), then the fixture
# and kernel tests; every step has a time limit, so the whole check fits
# one call of about 6 minutes even when a step hangs. Results go to $OUT:
#   check.log     everything, step by step
#   devices.txt   the devices, their limits and cooperative-matrix shapes
#   bench.jsonl   one `bench --json` object per line
#   bench-*.txt   text reports with the per-kernel tables
#   torch.txt     PyTorch (CUDA) on the same GPU, when python3 has it
#   bounds-measured.txt  every fixture comparison's max |diff| on this GPU
#                 ("CASE PREC KERNELS OUTPUT diff scale", tests/bounds.h),
#                 to set against tests/data/bounds.tsv's lavapipe figures
# VITVK_CHECK=bench stops after the benchmarks; VITVK_CHECK=sweep (about
# 5 minutes) runs fewer benchmarks, the cooperative-matrix tiling sweep
# (tools/coopmat_sweep.sh: sweep.txt, sweep.jsonl) and the kernel,
# cooperative-matrix and host tests only.
set -u
OUT=${OUT:-/tmp/vitvk-out}
mkdir -p "$OUT"
log="$OUT/check.log"
: >"$log"
say() { echo "== $*" | tee -a "$log"; }
# step SECONDS NAME COMMAND...: runs COMMAND with a time limit, output to the log.
step() {
    t=$1 name=$2
    shift 2
    say "$name"
    start=$(date +%s)
    timeout -k 5 "$t" "$@" >>"$log" 2>&1
    rc=$?
    echo "rc=$rc ($(($(date +%s) - start)) s)" | tee -a "$log"
    [ $rc -eq 124 ] && echo "   (stopped at its ${t} s limit)" | tee -a "$log"
    return 0
}

# The Vulkan loader and GL dispatch libraries, unpacked over the bare root.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$PWD/.devpack/lib"
B=.devpack/bin
cat .devpack/commit 2>/dev/null | sed 's/^/build: /' | tee -a "$log"

icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if ! $B/vit-vk-cli devices 2>/dev/null | grep -qi nvidia && [ -f $icd ]; then
    export VK_DRIVER_FILES=$icd
    echo "using VK_DRIVER_FILES=$icd" | tee -a "$log"
fi
say devices
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv \
    >"$OUT/devices.txt" 2>&1
$B/vit-vk-cli devices >>"$OUT/devices.txt" 2>&1
$B/vit-vk-cli devices --json >>"$OUT/devices.txt" 2>&1
cat "$OUT/devices.txt" | tee -a "$log"
if ! $B/vit-vk-cli devices 2>/dev/null | grep -q '^0:'; then
    say "no Vulkan device: the loader's account"
    VK_LOADER_DEBUG=error,warn,driver $B/vit-vk-cli devices >>"$log" 2>&1
    ls -l /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d >>"$log" 2>&1
    tail -40 "$log"
    exit 1
fi
[ -x $B/vulkaninfo ] && timeout 20 $B/vulkaninfo >"$OUT/vulkaninfo.txt" 2>&1

# ViT-B/16 at 224 in both precisions at batch 1, 8 and 64, then the text
# reports (per-kernel tables) of fp16 at batch 1 and 64.
: >"$OUT/bench.jsonl"
runs='"fp16 1 auto" "fp16 8 auto" "fp16 64 auto" "fp16 1 fp16acc" "fp16 8 fp16acc" "fp16 64 fp16acc" \
    "fp16 64 off" "fp32 1 auto" "fp32 8 auto" "fp32 64 auto"'
[ "${VITVK_CHECK:-}" = sweep ] && runs='"fp16 1 auto" "fp16 8 auto" "fp16 64 auto" "fp16 1 fp16acc" \
    "fp16 8 fp16acc" "fp16 64 fp16acc" "fp32 1 auto"'
eval "set -- $runs"
for run; do
    set -- $run
    say "bench vit-b16 $1 batch $2 coopmat $3"
    timeout -k 5 60 $B/vit-vk-cli bench --arch vit-b16 --precision "$1" --batch "$2" --coopmat "$3" --min-time 2 \
        --json >>"$OUT/bench.jsonl" 2>>"$log"
    echo "rc=$?" >>"$log"
    tail -1 "$OUT/bench.jsonl" | grep -o '"latency_ms_median": [0-9.]*\|"images_per_s": [0-9.]*\|"tflops": [0-9.]*' |
        tr '\n' ' ' | tee -a "$log"
    echo | tee -a "$log"
done
for run in "fp16 1 auto" "fp16 64 auto" "fp16 64 fp16acc"; do
    # shellcheck disable=SC2086
    set -- $run
    step 60 "bench text report $1 batch $2 coopmat $3" sh -c "$B/vit-vk-cli bench --arch vit-b16 --precision $1 \
        --batch $2 --coopmat $3 --min-time 1 >'$OUT/bench-$1-b$2-$3.txt' 2>&1"
done
if [ "${VITVK_CHECK:-}" = sweep ]; then
    say "cooperative-matrix tiling sweep, batch 64"
    timeout -k 5 200 sh tools/coopmat_sweep.sh $B/vit-vk-cli 64 "$OUT/sweep.jsonl" 2>&1 | tee "$OUT/sweep.txt" |
        tee -a "$log"
    say "cooperative-matrix tiling sweep, batch 1"
    VITVK_SWEEP_ACC=auto VITVK_SWEEP_TILES="64x64x32/32x32/16x16x16 64x32x32/32x32/16x16x16 32x32x32/32x32/16x16x16
        64x64x32/32x32/16x8x16 32x32x64/32x32/16x16x16" timeout -k 5 60 sh tools/coopmat_sweep.sh $B/vit-vk-cli 1 \
        "$OUT/sweep1.jsonl" 2>&1 | tee -a "$OUT/sweep.txt" | tee -a "$log"
    export VITVK_TEST_DATA="$PWD/tests/data" CK_DEFAULT_TIMEOUT=120 VITVK_TEST_VALIDATION=0
    export VITVK_BOUNDS_LOG="$OUT/bounds-measured.txt"
    step 120 "test_kernels" $B/test_kernels
    for m in on fp16acc; do
        step 60 "test_e2e coopmat $m (every case, fp16, GPU family)" $B/test_e2e coopmat $m
    done
    step 60 "test_host (adopted device)" env VITVK_SOURCE_DIR="$PWD" $B/test_host
    say summary
    grep -E "^== |^rc=|Checks|%:|images_per_s|stopped" "$log" | tail -40
    exit 0
fi
if python3 -c 'import torch, torchvision; assert torch.cuda.is_available()' 2>/dev/null; then
    step 90 "PyTorch eager fp16 vit_b_16 on the same GPU" sh -c "python3 bench/torch_gpu.py >'$OUT/torch.txt' 2>&1"
    cat "$OUT/torch.txt" | tee -a "$log"
fi
[ "${VITVK_CHECK:-}" = bench ] && exit 0

# No validation layer can be installed there (see tests/test_validation.h).
export VITVK_TEST_DATA="$PWD/tests/data" CK_DEFAULT_TIMEOUT=120 VITVK_TEST_VALIDATION=0
export VITVK_BOUNDS_LOG="$OUT/bounds-measured.txt"
step 120 "test_kernels" $B/test_kernels
step 90 "test_e2e (kernels the device picks)" $B/test_e2e
step 90 "test_e2e gpu (GPU family forced)" $B/test_e2e gpu
for m in on fp16acc off; do
    step 90 "test_e2e coopmat $m (every case, fp16, GPU family)" $B/test_e2e coopmat $m
done
step 60 "test_host (adopted device)" env VITVK_SOURCE_DIR="$PWD" $B/test_host
step 60 "test_record (recording, GPU preprocessing)" env VITVK_SOURCE_DIR="$PWD" $B/test_record
step 30 "embed_host" $B/embed_host models/digits-vit models/digits-vit/samples/7-seven.png
say summary
grep -E "^== |^rc=|Checks|%:|images_per_s|stopped" "$log" | tail -60
