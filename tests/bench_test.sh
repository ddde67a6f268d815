#!/bin/sh
# vit-vk-cli bench: --json has every documented field and figures that agree
# with each other and with README's FLOP definition (bench_check.py), for
# random --arch weights and for ViT, DeiT (two heads) and Swin checkpoints;
# the temporary checkpoint is removed; bad command lines are usage errors.
#   bench_test.sh CLI MKMODEL DATA_DIR WORK_DIR
set -u
cli=$1 mkmodel=$2 data=$3 work=$4
here=$(dirname "$0")
rm -rf "$work" && mkdir -p "$work/tmp" || exit 1
. "$(dirname "$0")/harness.sh"
# bench_json NAME BENCH_ARGS... -- CHECK_ARGS...: run bench --json, check the object
bench_json() {
    name=$1
    shift
    args=""
    while [ "$1" != "--" ]; do args="$args $1"; shift; done
    shift
    # shellcheck disable=SC2086
    if TMPDIR="$work/tmp" "$cli" bench $args --json --min-time 0.1 >"$work/$name.json" 2>"$work/$name.err" &&
        ! [ -s "$work/$name.err" ]; then
        ok "bench $name --json"
        run "bench $name: fields, consistency, FLOPs" python3 "$here/bench_check.py" "$work/$name.json" "$@"
        cat "$work/log"
    else
        bad "bench $name --json"
        cat "$work/$name.err"
    fi
}

bench_json vit-tiny --arch vit-tiny -- --arch vit-tiny
run "bench --arch leaves nothing in TMPDIR" test -z "$(ls -A "$work/tmp")"
bench_json vit-tiny-batch2 --arch vit-tiny --batch 2 --precision fp16 -- --arch vit-tiny --batch 2
bench_json deit-distilled --model "$data/fixtures/deit-tiny-distilled" -- \
    --config "$data/fixtures/deit-tiny-distilled/config.json"
# at batch 2 the last layer runs whole (tokens 0 and 1 of each image are no single stride)
bench_json deit-distilled-batch2 --model "$data/fixtures/deit-tiny-distilled" --batch 2 -- \
    --config "$data/fixtures/deit-tiny-distilled/config.json" --batch 2
bench_json swin-fixture --model "$data/fixtures/swin-tiny" -- --config "$data/fixtures/swin-tiny/config.json"

# The deit-b16 and swin-t presets, small enough to run here: one layer of
# DeiT-B at 64 pixels, Swin-T at 64 pixels (16x16 patches: padded windows,
# the last stage smaller than the window).
run "mkmodel deit-b16 (1 layer, 64 px)" "$mkmodel" --arch deit-b16 --layers 1 --image-size 64 --out "$work/deit-b16"
bench_json deit-b16 --model "$work/deit-b16" -- --config "$work/deit-b16/config.json"
run "mkmodel swin-t (64 px)" "$mkmodel" --arch swin-t --image-size 64 --labels 10 --dtype F16 --out "$work/swin-t"
bench_json swin-t --model "$work/swin-t" -- --config "$work/swin-t/config.json"

# The text report names every section.
if "$cli" bench --arch vit-tiny --min-time 0 >"$work/text" 2>&1 &&
    grep -q "^latency    median" "$work/text" && grep -q "^dispatches [0-9]* per run" "$work/text" &&
    grep -q "GPU time per kernel group" "$work/text" && grep -q "^  gemm qkv " "$work/text"; then
    ok "bench text report"
else
    bad "bench text report"
    cat "$work/text"
fi

# Usage errors: exit 2 and one line on stderr, before any work.
usage() { # usage DESCRIPTION ARGS...
    desc=$1
    shift
    "$cli" bench "$@" >"$work/out" 2>"$work/err"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(wc -l <"$work/err")" -eq 1 ] && ! [ -s "$work/out" ]; then
        ok "usage error: $desc"
    else
        bad "usage error: $desc (exit $rc)"
        cat "$work/err" "$work/out"
    fi
}
usage "--arch and --model" --arch vit-tiny --model "$data/fixtures/vit-tiny"
usage "--model and --arch" --model "$data/fixtures/vit-tiny" --arch vit-tiny --json
usage "neither --arch nor --model" --json
usage "unknown --arch" --arch vit-giant
usage "--min-time -1" --arch vit-tiny --min-time -1
usage "--batch 0" --arch vit-tiny --batch 0
usage "stray argument" --arch vit-tiny extra
"$mkmodel" --arch swin-t --layers 3 --out "$work/x" >/dev/null 2>"$work/err"
if [ $? -eq 2 ]; then ok "mkmodel swin-t --layers is a usage error"; else bad "mkmodel swin-t --layers"; fi

finish
