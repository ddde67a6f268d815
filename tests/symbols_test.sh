#!/bin/sh
# What the library shows a program that links it: in the static library
# every defined external symbol starts with vitvk_ (internal ones with
# vitvk_i_, lib/prefix.h; the embedded shaders vitvk_spv_), and the shared
# library exports the API of include/vitvk.h and nothing else.
#   sh tests/symbols_test.sh SOURCE_DIR LIBVITVK.a [LIBVITVK.so]
set -u
src=$1 static=$2 shared=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/harness.sh"
# Names that begin with two underscores are the implementation's (the
# sanitizers add __odr_asan.* and the like): no program may define them.
nm -g --defined-only "$static" | awk 'NF == 3 {print $3}' | grep -v '^vitvk_' | grep -v '^__' | sort -u >"$work/bad"
check "static library: every external symbol starts with vitvk_" test ! -s "$work/bad"
sed 's/^/     unprefixed: /' "$work/bad" | head -20
grep -oE '\bvitvk_[a-z0-9_]+\(' "$src/include/vitvk.h" | tr -d '(' | sort -u >"$work/api"
nm -g --defined-only "$static" | awk 'NF == 3 && $2 == "T" {print $3}' | grep -v '^vitvk_i_' | sort -u >"$work/public"
check "static library: its public functions are the header's" cmp -s "$work/api" "$work/public"
if [ -n "$shared" ]; then
    nm -D --defined-only "$shared" | awk 'NF == 3 && $2 ~ /[TDBR]/ {print $3}' | sort -u >"$work/exported"
    check "shared library: exports exactly the header's functions" cmp -s "$work/api" "$work/exported"
    diff "$work/api" "$work/exported" | sed 's/^/     /' | head -20
    check "shared library: versioned (SONAME libvitvk.so.MAJOR.MINOR)" \
        sh -c "objdump -p '$shared' | grep -q 'SONAME *libvitvk\.so\.[0-9]*\.[0-9]*'"
fi
finish
