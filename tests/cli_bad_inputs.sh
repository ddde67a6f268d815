#!/bin/sh
# Every bad input gets exit status 1 (or 2 for usage errors) and exactly one
# line on stderr: no crash, no sanitizer report, no validation message.
#   cli_bad_inputs.sh CLI MAKE_BAD_INPUTS GOOD_MODEL_DIR WORK_DIR
set -u
cli=$1 mk=$2 good=$3 work=$4
rm -rf "$work" && mkdir -p "$work" || exit 1
"$mk" "$good" "$work" || exit 1
. "$(dirname "$0")/harness.sh"

expect() { # expect STATUS DESCRIPTION COMMAND...
    want=$1 desc=$2
    shift 2
    "$@" >"$work/stdout" 2>"$work/stderr"
    rc=$?
    lines=$(wc -l <"$work/stderr")
    if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && ! grep -q "Sanitizer\|runtime error" "$work/stderr"; then
        ok "$(printf '%-34s %s' "$desc" "$(cat "$work/stderr")")"
    else
        bad "$desc: exit $rc (want $want), $lines stderr lines:"
        sed 's/^/     /' "$work/stderr" | head -20
    fi
}

# A good run first: exit 0 and nothing on stderr (under the sanitizer
# build this is the leak check of a whole classify run).
"$cli" classify --model "$good" --json "$good"/samples/*.png >"$work/stdout" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$work/stderr" ] && [ "$(wc -l <"$work/stdout")" -eq 10 ]; then
    ok "good classify run, clean stderr"
else
    bad "good classify run: exit $rc"
    head -20 "$work/stderr"
fi

img=$good/samples/0.png
[ -f "$img" ] || img=$(ls "$good"/samples/*.png | head -1)

for d in "$work"/model-*; do
    expect 1 "$(basename "$d")" "$cli" classify --model "$d" "$img"
done
expect 1 "model dir missing" "$cli" classify --model "$work/does-not-exist" "$img"
expect 1 "model is a file" "$cli" classify --model "$img" "$img"
for f in text.png empty.png truncated.png truncated.jpg does-not-exist.png; do
    expect 1 "image $f" "$cli" classify --model "$good" "$work/$f"
done
for f in "$work"/input-*.safetensors; do
    expect 1 "infer $(basename "$f")" "$cli" infer --model "$good" --input "$f" --output "$work/out.safetensors"
done
expect 1 "infer input missing" "$cli" infer --model "$good" --input "$work/nope.safetensors" --output "$work/o.st"
expect 1 "infer input not safetensors" "$cli" infer --model "$good" --input "$work/text.png" --output "$work/o.st"
expect 1 "infer wrong input name" "$cli" infer --model "$good" --input "$work/input-wrong-size.safetensors" \
    --input-name nope --output "$work/o.st"
expect 1 "infer output unwritable" "$cli" infer --model "$good" --input "$good/samples/input.safetensors" \
    --output "$work/no-such-dir/o.safetensors"
expect 1 "device out of range" "$cli" classify --model "$good" --device 99 "$img"

# classify/embed/preprocess on files and directories
mkdir -p "$work/empty-dir" "$work/bad-dir"
cp "$work/text.png" "$work/bad-dir/"
printf '{"size": {"shortest_edge": 32}, "do_center_crop": false}' >"$work/shortest.json"
printf '{"pretrained_cfg": {"input_size": [3, 32, 32], "crop_mode": "sideways"}}' >"$work/timm-bad-mode.json"
printf '{"pretrained_cfg": {"input_size": [3, 32, 32]}}' >"$work/timm.json"
printf '{"pretrained_cfg": {"input_size": [1, 32, 32]}}' >"$work/timm-grey.json"
printf '{"pretrained_cfg": {"crop_pct": "big"}}' >"$work/timm-bad-pct.json"
wide=$(dirname "$0")/data/preprocess/parity/wide.png # non-square: 246x82
expect 1 "classify empty directory" "$cli" classify --model "$good" "$work/empty-dir"
expect 1 "classify dir, only a bad file" "$cli" classify --model "$good" "$work/bad-dir"
expect 1 "embed empty directory" "$cli" embed --model "$good" --output "$work/e.safetensors" "$work/empty-dir"
expect 1 "embed only bad images" "$cli" embed --model "$good" --output "$work/e.safetensors" "$work/text.png"
expect 1 "embed output unwritable" "$cli" embed --model "$good" --output "$work/no-such-dir/e.safetensors" "$img"
expect 1 "preprocess bad image" "$cli" preprocess --model "$good" --output "$work/p.safetensors" "$img" "$work/text.png"
expect 1 "preprocess missing image" "$cli" preprocess --model "$good" --output "$work/p.safetensors" "$work/nope.png"
expect 1 "preprocess sizes differ" "$cli" preprocess --config "$work/shortest.json" --output "$work/p.safetensors" \
    "$img" "$wide"
expect 1 "preprocess config missing" "$cli" preprocess --config "$work/nope.json" --output "$work/p.st" "$img"
expect 1 "preprocess config not JSON" "$cli" preprocess --config "$work/text.png" --output "$work/p.st" "$img"
expect 1 "preprocess model dir missing" "$cli" preprocess --model "$work/nope" --output "$work/p.st" "$img"
expect 1 "preprocess timm bad crop_mode" "$cli" preprocess --config "$work/timm-bad-mode.json" --output "$work/p.st" "$img"
expect 1 "preprocess timm 1 channel" "$cli" preprocess --config "$work/timm-grey.json" --output "$work/p.st" "$img"
expect 1 "preprocess timm bad crop_pct" "$cli" preprocess --config "$work/timm-bad-pct.json" --output "$work/p.st" "$img"
expect 1 "preprocess --backend on timm" "$cli" preprocess --config "$work/timm.json" --backend pil --output "$work/p.st" "$img"
expect 1 "preprocess output unwritable" "$cli" preprocess --model "$good" --output "$work/no-such-dir/p.st" "$img"
if [ ! -e "$work/p.safetensors" ]; then ok "failed preprocess runs leave no file"
else bad "a failed preprocess run left $work/p.safetensors"; fi

expect 2 "no command" "$cli"
expect 2 "unknown command" "$cli" frobnicate
expect 2 "classify without model" "$cli" classify "$img"
expect 2 "classify without images" "$cli" classify --model "$good"
expect 2 "bad precision" "$cli" classify --model "$good" --precision fp8 "$img"
expect 2 "bad top-k" "$cli" classify --model "$good" --top-k 0 "$img"
expect 2 "unknown option" "$cli" classify --model "$good" --frob "$img"
expect 2 "option without value" "$cli" classify --model
expect 2 "infer without output" "$cli" infer --model "$good" --input x
expect 2 "attention without output" "$cli" attention --model "$good" "$img"
expect 1 "attention on a bad image" "$cli" attention --model "$good" "$work/text.png" --output "$work/a.png"
expect 1 "attention input wrong size" "$cli" attention --model "$good" --input "$work/input-wrong-size.safetensors" \
    --output "$work/a.png"
expect 2 "json and csv" "$cli" classify --model "$good" --json --csv "$img"
expect 2 "bad threshold" "$cli" classify --model "$good" --threshold 1.5 "$img"
expect 2 "bad scores" "$cli" classify --model "$good" --scores tanh "$img"
expect 2 "bad backend" "$cli" classify --model "$good" --backend opencv "$img"
expect 2 "bad batch" "$cli" classify --model "$good" --batch 0 "$img"
expect 2 "embed without output" "$cli" embed --model "$good" "$img"
expect 2 "embed without images" "$cli" embed --model "$good" --output "$work/e.safetensors"
expect 2 "preprocess model and config" "$cli" preprocess --model "$good" --config "$good/preprocessor_config.json" \
    --output "$work/p.st" "$img"
expect 2 "preprocess neither" "$cli" preprocess --output "$work/p.st" "$img"
expect 2 "preprocess without output" "$cli" preprocess --model "$good" "$img"
expect 2 "preprocess without images" "$cli" preprocess --model "$good" --output "$work/p.st"

finish
