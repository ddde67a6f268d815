#!/bin/sh
# classify and embed on a directory tree of 400 images, one of them corrupt:
# every other image is classified, the corrupt one is reported by name, the
# exit status is 1; the progress line appears when stderr is a terminal
# (run under script(1)) and never otherwise. Also: --csv, --threshold tags,
# embed's files and --normalize, and embed = infer's pooled output.
#   cli_dir_test.sh CLI COMPARE_TENSORS DATA_DIR MODEL_DIR WORK_DIR
set -u
cli_bin=$1 compare_bin=$2 data=$3 model=$4 work=$5
# In the sanitizer build ctest preloads the ASan runtime; keep it for our own
# programs only (LeakSanitizer fails coreutils such as mkdir -p).
preload=${LD_PRELOAD:-}
unset LD_PRELOAD
cli() { LD_PRELOAD=$preload "$cli_bin" "$@"; }
compare() { LD_PRELOAD=$preload "$compare_bin" "$@"; }
rm -rf "$work" && mkdir -p "$work" || exit 1
. "$(dirname "$0")/harness.sh"

# 397 digits + 2 samples in nested folders, one corrupt PNG, and files a walk
# must skip: a text file, a hidden (corrupt) PNG, a link back up the tree.
tree=$work/images
mkdir -p "$tree/a/deeper" "$tree/b" || exit 1
n=0
for f in "$data"/digits/test-png/*.png; do
    case $((n % 3)) in 0) d=$tree ;; 1) d=$tree/a ;; *) d=$tree/a/deeper ;; esac
    cp "$f" "$d/" || exit 1
    n=$((n + 1))
done
cp "$model/samples/3-three.png" "$model/samples/7-seven.png" "$tree/b/" || exit 1
printf 'not a PNG at all\n' >"$tree/b/broken.png"
printf 'notes\n' >"$tree/b/notes.txt"
printf 'junk\n' >"$tree/b/.hidden.png"
ln -s .. "$tree/b/loop" 2>/dev/null || true
total=$(find "$tree" -name '*.png' ! -name '.*' | wc -l)
check "the tree holds 400 images, one corrupt ($total)" [ "$total" -eq 400 ]

# classify, stderr a file: no progress line, one error line, 399 results
cli classify --model "$model" --batch 50 --json "$tree" >"$work/out.jsonl" 2>"$work/err"
rc=$?
check "classify DIR exits 1 (exit $rc)" [ "$rc" -eq 1 ]
check "399 JSON lines ($(wc -l <"$work/out.jsonl"))" [ "$(wc -l <"$work/out.jsonl")" -eq 399 ]
check "one line on stderr, naming broken.png: $(cat "$work/err")" \
    [ "$(wc -l <"$work/err")" -eq 1 -a "$(grep -c 'b/broken.png' "$work/err")" -eq 1 ]
check "no progress line when stderr is not a terminal" [ "$(grep -c 'images/s' "$work/err")" -eq 0 ]
check "hidden files and the link are skipped" [ "$(grep -c 'hidden\|loop' "$work/out.jsonl")" -eq 0 ]
check "results in sorted walk order (names byte-sorted, files and folders alike)" \
    [ "$(head -1 "$work/out.jsonl" | grep -c '"file": "[^"]*/images/000.png"')" -eq 1 -a \
      "$(sed -n '134p' "$work/out.jsonl" | grep -c '"file": "[^"]*/images/a/001.png"')" -eq 1 -a \
      "$(tail -1 "$work/out.jsonl" | grep -c '"file": "[^"]*/images/b/7-seven.png"')" -eq 1 ]
check "the two samples are right" [ "$(grep -c '3-three.png", "top": \[{"index": 3' "$work/out.jsonl")" -eq 1 -a \
    "$(grep -c '7-seven.png", "top": \[{"index": 7' "$work/out.jsonl")" -eq 1 ]

# --threads: the same bytes, in the same order, whatever the number of
# decoding threads (the default is one per CPU)
for t in 1 3; do
    cli classify --model "$model" --batch 50 --json --threads $t "$tree" >"$work/out-t$t.jsonl" 2>"$work/err-t$t"
done
check "classify --threads 1 writes the same bytes as the default" cmp -s "$work/out.jsonl" "$work/out-t1.jsonl"
check "classify --threads 3 writes the same bytes as the default" cmp -s "$work/out.jsonl" "$work/out-t3.jsonl"
check "and reports the same error" cmp -s "$work/err-t1" "$work/err-t3"
cli classify --model "$model" --threads 0 "$tree" >/dev/null 2>"$work/err-t0"
rc=$?
check "--threads 0 is a usage error (exit $rc): $(cat "$work/err-t0")" [ "$rc" -eq 2 ]
set -- "$data"/digits/test-png/0[0-4]*.png
for t in 1 2; do
    cli preprocess --model "$model" --threads $t --output "$work/px-t$t.safetensors" "$@" 2>"$work/err-p$t"
done
check "preprocess --threads 1 and 2 write the same file ($# images)" cmp -s "$work/px-t1.safetensors" "$work/px-t2.safetensors"

# the same under a terminal: script(1) gives the command a pty for stderr
if script -qec true /dev/null >/dev/null 2>&1; then
    script -qec "LD_PRELOAD='$preload' '$cli_bin' classify --model '$model' --batch 50 --json '$tree' >'$work/tty.jsonl'" \
        "$work/typescript" \
        >/dev/null 2>&1
    rc=$?
    tr '\r' '\n' <"$work/typescript" >"$work/tty.txt"
    check "classify under a terminal exits 1 (exit $rc)" [ "$rc" -eq 1 ]
    check "399 JSON lines under a terminal" [ "$(wc -l <"$work/tty.jsonl")" -eq 399 ]
    check "progress line redrawn with \\r: $(grep -c 'images/s' "$work/tty.txt") updates" \
        [ "$(grep -c '^classify \[[#.]*\] [0-9]*/400 images, [0-9.]* images/s, ETA ' "$work/tty.txt")" -ge 8 ]
    check "progress ends at 400/400: $(grep 'took' "$work/tty.txt" | sed 's/\x1b\[K//')" \
        [ "$(grep -c '400/400 images.*took' "$work/tty.txt")" -eq 1 ]
    esc=$(printf '\033')
    check "the error line clears the progress line and stands on its own" \
        [ "$(grep -c "^$esc\\[Kvit-vk-cli: .*broken.png[^#]*\$" "$work/tty.txt")" -eq 1 ]
    script -qec "LD_PRELOAD='$preload' '$cli_bin' classify --model '$model' --batch 16 --json '$model/samples' >/dev/null" \
        "$work/typescript1" \
        >/dev/null 2>&1
    check "no progress line for a single batch" [ "$(grep -c 'images/s' "$work/typescript1")" -eq 0 ]
else
    echo "skip progress-bar checks: script(1) from util-linux is not available"
fi

# --csv and --threshold
cli classify --model "$model" --top-k 2 --threshold 0.5 --csv "$model/samples" >"$work/out.csv" 2>"$work/err"
check "csv: header and 10 rows" [ "$(head -1 "$work/out.csv")" = "file,label_1,index_1,score_1,label_2,index_2,score_2,tags" \
    -a "$(wc -l <"$work/out.csv")" -eq 11 ]
check "csv: seven tagged seven" [ "$(grep -c '7-seven.png,seven,7,[0-9.e-]*,[a-z]*,[0-9]*,[0-9.e-]*,seven$' "$work/out.csv")" -eq 1 ]
cli classify --model "$model" --threshold 0.0001 --json "$model/samples/7-seven.png" >"$work/t.jsonl" 2>"$work/err"
check "json: tags with a low threshold list several labels, best first" \
    [ "$(grep -c '"tags": \[{"index": 7, "label": "seven", "score": [0-9.e-]*}, {' "$work/t.jsonl")" -eq 1 ]
cli classify --model "$model" --threshold 0.5 --scores sigmoid "$model/samples/7-seven.png" >"$work/t.txt" 2>"$work/err"
check "table: tags line (sigmoid scores)" [ "$(grep -c '^  tags: seven' "$work/t.txt")" -eq 1 ]

# embed: 399 rows, the sidecar names them, exit 1 for the corrupt file
cli embed --model "$model" --batch 64 --output "$work/emb.safetensors" "$tree" >"$work/out" 2>"$work/err"
rc=$?
check "embed DIR exits 1 (exit $rc), reports broken.png" [ "$rc" -eq 1 -a "$(grep -c 'broken.png' "$work/err")" -eq 1 ]
check "embed sidecar emb.jsonl has 399 lines" [ "$(wc -l <"$work/emb.jsonl")" -eq 399 ]
check "sidecar lines are {index, file}" [ "$(sed -n '399p' "$work/emb.jsonl" | grep -c '^{"index": 398, "file": ".*7-seven.png"}$')" -eq 1 ]
cli embed --model "$model" --normalize --output "$work/unit.safetensors" "$model/samples" 2>"$work/err"
check "embed --normalize exits 0" [ $? -eq 0 ]
res=$(compare --unit-rows "$work/unit.safetensors" embeddings) && ok "$res" || bad "unit rows: $res"
# embed = preprocess + infer's pooled output
cli embed --model "$model" --output "$work/e.safetensors" "$model"/samples/*.png 2>"$work/err" &&
    cli preprocess --model "$model" --output "$work/px.safetensors" "$model"/samples/*.png 2>>"$work/err" &&
    cli infer --model "$model" --input "$work/px.safetensors" --output "$work/inf.safetensors" 2>>"$work/err"
res=$(compare "$work/e.safetensors" "$work/inf.safetensors" embeddings=pooled 0 2>&1) &&
    ok "embed equals preprocess + infer: $res" || { bad "embed equals preprocess + infer: $res"; cat "$work/err"; }

# --backend pil on classify: the digits are 32x32 already (no resize), so the
# two backends differ only in float rounding and agree on every top label
cli classify --model "$model" --backend pil --top-k 1 --json "$model/samples" >"$work/pil.jsonl" 2>"$work/err" &&
    cli classify --model "$model" --top-k 1 --json "$model/samples" >"$work/tv.jsonl" 2>>"$work/err"
check "classify --backend pil: same labels as torchvision" \
    [ "$(sed 's/"score": [^}]*//' "$work/pil.jsonl" | md5sum)" = "$(sed 's/"score": [^}]*//' "$work/tv.jsonl" | md5sum)" \
      -a "$(wc -l <"$work/pil.jsonl")" -eq 10 ]

# every subcommand's --help: exit 0, on stdout, with an example
for c in classify embed preprocess infer bench devices; do
    cli $c --help >"$work/help" 2>"$work/err"
    rc=$?
    check "$c --help (exit $rc) shows an example" [ "$rc" -eq 0 -a ! -s "$work/err" -a "$(grep -c '^examples*:' "$work/help")" -eq 1 ]
done
cli --help >"$work/help" 2>&1
check "vit-vk-cli --help lists embed and preprocess" [ "$(grep -c '^  embed \|^  preprocess ' "$work/help")" -eq 2 ]

finish
