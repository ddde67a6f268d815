#!/bin/sh
# Every bad input gets exit status 1 (or 2 for usage errors) and exactly one
# line on stderr: no crash, no sanitizer report, no validation message.
#   cli_bad_inputs.sh CLI MAKE_BAD_INPUTS GOOD_MODEL_DIR WORK_DIR
set -u
cli=$1 mk=$2 good=$3 work=$4
rm -rf "$work" && mkdir -p "$work" || exit 1
"$mk" "$good" "$work" || exit 1
passed=0 failed=0

expect() { # expect STATUS DESCRIPTION COMMAND...
    want=$1 desc=$2
    shift 2
    "$@" >"$work/stdout" 2>"$work/stderr"
    rc=$?
    lines=$(wc -l <"$work/stderr")
    if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && ! grep -q "Sanitizer\|runtime error" "$work/stderr"; then
        passed=$((passed + 1))
        printf 'ok   %-34s %s' "$desc" "$(cat "$work/stderr")"
        echo
    else
        failed=$((failed + 1))
        echo "FAIL $desc: exit $rc (want $want), $lines stderr lines:"
        sed 's/^/     /' "$work/stderr" | head -20
    fi
}

# A good run first: exit 0 and nothing on stderr (under the sanitizer
# build this is the leak check of a whole classify run).
"$cli" classify --model "$good" --json "$good"/samples/*.png >"$work/stdout" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$work/stderr" ] && [ "$(wc -l <"$work/stdout")" -eq 10 ]; then
    passed=$((passed + 1))
    echo "ok   good classify run, clean stderr"
else
    failed=$((failed + 1))
    echo "FAIL good classify run: exit $rc"
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
