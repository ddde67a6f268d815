#!/bin/sh
# embed_host (tools/embed_host.c) on the digits samples and a photo that
# must be resized: its top label must be the CLI's top label for the same
# file, and it must run under the validation layer with synchronisation
# validation and report zero messages.
#   embed_host_test.sh EMBED_HOST CLI MODEL_DIR IMAGE...
set -u
host=$1 cli=$2 model=$3
shift 3
. "$(dirname "$0")/harness.sh"
for img in "$@"; do
    out=$("$host" "$model" "$img" 2>&1)
    rc=$?
    got=$(printf '%s\n' "$out" | sed -n "s|^$img: [^(]*(\([0-9]*\)).*|\1|p")
    want=$("$cli" classify --model "$model" --top-k 1 --json "$img" | sed -n 's/.*"index": \([0-9]*\).*/\1/p')
    if [ $rc -eq 0 ] && [ -n "$got" ] && [ "$got" = "$want" ] &&
        printf '%s\n' "$out" | grep -qx 'validation messages: 0 (synchronization validation on)'; then
        ok "$(printf '%s\n' "$out" | head -n 1)"
    else
        bad "$img: embed_host says class '$got', the CLI '$want' (exit $rc)"
        printf '%s\n' "$out"
    fi
done
finish
