#!/bin/sh
# embed_host (tools/embed_host.c) on the digits samples and a photo that
# must be resized, under the validation layer with synchronisation
# validation and zero messages. A digit's top label must be its true label:
# each sample is a copy of one of the digits test images, and
# $VITVK_TEST_DATA/digits/expected.json gives that image's label (only
# images PyTorch also classifies right are fair cases, and a sample named
# "D-word.png" must be digit D). Any other image (the photo) has no true
# label here: its top label must be the CLI's for the same file.
#   embed_host_test.sh EMBED_HOST CLI MODEL_DIR IMAGE...
set -u
host=$1 cli=$2 model=$3
shift 3
. "$(dirname "$0")/harness.sh"
digits=${VITVK_TEST_DATA:-$(dirname "$0")/data}/digits
expected=$digits/expected.json
sums=$(md5sum "$digits"/test-png/*.png) || { echo "FAIL cannot read $digits/test-png"; exit 1; }
[ -n "$sums" ] && [ -r "$expected" ] || { echo "FAIL no digits test images or $expected"; exit 1; }

# FIELD of test image NAME in expected.json (one "key": value per line)
field() {
    awk -v f="$1" -v k="\"$2\":" '$1 == "\"file\":" { cur = $2; gsub(/[",]/, "", cur) }
        $1 == k && cur == f { v = $2; gsub(/,/, "", v); print v; exit }' "$expected"
}

for img in "$@"; do
    out=$("$host" "$model" "$img" 2>&1)
    rc=$?
    got=$(printf '%s\n' "$out" | sed -n "s|^$img: [^(]*(\([0-9]*\)).*|\1|p")
    sum=$(md5sum <"$img" | cut -d' ' -f1)
    same=$(printf '%s\n' "$sums" | awk -v s="$sum" '$1 == s { n = split($2, p, "/"); print p[n]; exit }')
    if [ -n "$same" ]; then
        want=$(field "$same" label)
        pt=$(field "$same" pytorch_pred)
        what="the true label of $same"
        if [ -z "$want" ] || [ "$pt" != "$want" ]; then
            bad "$img ($same): expected.json gives label '$want', PyTorch '$pt': not a fair truth case"
            continue
        fi
        stem=$(basename "$img")
        case $stem in
        [0-9]-*) [ "${stem%%-*}" = "$want" ] || bad "$img is named for digit ${stem%%-*}, but $same is a $want" ;;
        esac
    else
        want=$("$cli" classify --model "$model" --top-k 1 --json "$img" | sed -n 's/.*"index": \([0-9]*\).*/\1/p')
        what="the CLI's top label"
    fi
    if [ $rc -eq 0 ] && [ -n "$got" ] && [ -n "$want" ] && [ "$got" = "$want" ] &&
        printf '%s\n' "$out" | grep -qx 'validation messages: 0 (synchronization validation on)'; then
        ok "$(printf '%s\n' "$out" | head -n 1) = $what"
    else
        bad "$img: embed_host says class '$got', $what is '$want' (exit $rc)"
        printf '%s\n' "$out"
    fi
done
finish
