#!/bin/sh
# Re-measures the accuracy bounds in tests/data/bounds.tsv (tests/bounds.h).
#
#   sh tools/bounds.sh [BUILD]          run BUILD's (default build/) test_e2e
#                                       (every case, then the GPU family), the
#                                       cli and digits_logits tests, and the
#                                       cooperative-matrix
#                                       tests in the Debian 13 root when
#                                       build-trixie/ exists (tools/trixie.sh),
#                                       recording every comparison; rewrite
#                                       the file
#   sh tools/bounds.sh --merge REC...   rewrite the file from records alone
#   sh tools/bounds.sh --table          print README's accuracy table from the
#                                       file's measured figures
#
# A key measured now gets measured = the largest max |diff| of its records
# and bound = 15 x that, rounded up to two digits. The multiple covers what
# moves between runs that are equally right (the kernel families' and
# subgroup widths' reduction orders; Mesa 22 and 26); anything a bug costs
# is far larger (tools/mutate.sh). A max |diff| below one float32 step at the
# reference's scale (scale x 2^-23) counts as that step. Keys not measured
# now keep their line. Bounds that rise are listed: a commit that raises
# one says why.
set -eu
cd "$(dirname "$0")/.."
file=tests/data/bounds.tsv
recs=""
cleanup() { [ -z "${tmp:-}" ] || rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
tmp=$(mktemp -d)

if [ "${1:-}" = "--table" ]; then
    # Per case (kernels cpu and cli: what lavapipe runs by default), then
    # per other kernel family over all its cases: the largest measured
    # max |diff| of the outputs (logits, pooled), of the hidden states and
    # of the [CLS] attention row (and rollout), in fp32 and fp16.
    awk '!/^#/ && NF >= 6 {
        fam = $3; k = ($3 == "cpu" || $3 == "cli") ? $1 SUBSEP $3 : "all cases" SUBSEP $3
        if (!(k in seen)) { seen[k] = 1; rows[++n] = k; if (k ~ /^all cases/) cases[k] = 0 }
        if (k ~ /^all cases/ && !(($1, $3) in cs)) { cs[$1, $3] = 1; cases[k]++ }
        col = ($4 ~ /^hidden/ ? "h" : $4 ~ /attention/ ? "a" : "o") $2
        if ($5 + 0 > v[k, col] + 0) v[k, col] = $5
    }
    function f(x) { return x == "" ? "" : sprintf("%.2g", x) }
    END {
        print "| case | kernels | fp32 outputs | fp16 outputs | fp32 hidden states | fp16 hidden states | fp32 attention | fp16 attention |"
        print "| --- | --- | --- | --- | --- | --- | --- | --- |"
        for (pass = 0; pass < 2; pass++)
            for (i = 1; i <= n; i++) {
                k = rows[i]; split(k, w, SUBSEP)
                if ((w[1] == "all cases") != pass) continue
                name = pass ? sprintf("all %d cases", cases[k]) : w[1]
                printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", name, w[2], f(v[k, "ofp32"]), f(v[k, "ofp16"]),
                    f(v[k, "hfp32"]), f(v[k, "hfp16"]), f(v[k, "afp32"]), f(v[k, "afp16"])
            }
    }' "$file"
    exit 0
elif [ "${1:-}" = "--merge" ]; then
    shift
    recs="$*"
else
    build=${1:-build}
    [ -x "$build/tests/test_e2e" ] || { echo "bounds.sh: build $build first" >&2; exit 1; }
    rec=$tmp/local.rec
    : >"$rec"
    VITVK_BOUNDS_RECORD=$rec ctest --test-dir "$build" -R '^(test_e2e|e2e_gpu_kernels|cli|digits_logits)$' >"$tmp/ctest.log" 2>&1 ||
        { tail -40 "$tmp/ctest.log"; echo "bounds.sh: the tests failed while recording" >&2; exit 1; }
    recs=$rec
    if [ -d build-trixie ] && [ -d /var/tmp/vitvk-trixie ]; then
        # The chroot sees the checkout at /src.
        rm -f build-trixie/bounds.rec
        sh tools/trixie.sh run sh -c 'cmake --build build-trixie -j"$(nproc)" >/dev/null &&
            VITVK_BOUNDS_RECORD=/src/build-trixie/bounds.rec ctest --test-dir build-trixie -L coopmat' \
            >"$tmp/trixie.log" 2>&1 ||
            { tail -40 "$tmp/trixie.log"; echo "bounds.sh: the coopmat tests failed while recording" >&2; exit 1; }
        recs="$recs build-trixie/bounds.rec"
    fi
fi

# Records are "CASE PRECISION KERNELS OUTPUT diff scale".
awk -v old="$file" '
function up2(x,   e, p, m) { # x rounded up to two significant digits
    if (x <= 0) return 0
    e = int(log(x) / log(10)); if (10 ^ e > x) e--
    p = 10 ^ (e - 1); m = int(x / p - 1e-9); if (m * p < x) m++
    return m * p
}
FNR == 1 && FILENAME != old { inrec = 1 }
FILENAME == old {
    if ($0 ~ /^#/ || NF < 6) next
    k = $1 " " $2 " " $3 " " $4; oldline[k] = $0; oldbound[k] = $6; order[++n] = k; next
}
NF == 6 {
    k = $1 " " $2 " " $3 " " $4; d = $5 + 0; floor = ($6 + 0) * 2 ^ -23
    if (d < floor) d = floor
    if (!(k in meas)) { newkeys[++m] = k; meas[k] = d } else if (d > meas[k]) meas[k] = d
}
END {
    print "# Accuracy bounds of the reference tests (tests/bounds.h): max |vitvk - reference|"
    print "# per case, precision, kernel family and output, measured on lavapipe by"
    print "# tools/bounds.sh, and the bound: 15 x measured, rounded up to two digits."
    printf "# %-46s %-5s %-16s %-24s %-10s %s\n", "case", "prec", "kernels", "output", "measured", "bound"
    for (i = 1; i <= m; i++) all[newkeys[i]] = 1
    for (i = 1; i <= n; i++) all[order[i]] = 1
    cnt = 0
    for (k in all) keys[++cnt] = k
    # insertion sort: stable file order
    for (i = 2; i <= cnt; i++) { v = keys[i]; j = i - 1; while (j > 0 && keys[j] > v) { keys[j + 1] = keys[j]; j-- } keys[j + 1] = v }
    for (i = 1; i <= cnt; i++) {
        k = keys[i]
        if (k in meas) {
            b = up2(15 * meas[k])
            split(k, w, " ")
            printf "%-48s %-5s %-16s %-24s %-10.3g %.2g\n", w[1], w[2], w[3], w[4], meas[k], b
            if ((k in oldbound) && b > oldbound[k] * 1.0000001)
                printf "bounds.sh: raised %s: %s -> %.2g\n", k, oldbound[k], b > "/dev/stderr"
        } else {
            print oldline[k]
        }
    }
}' "$([ -f "$file" ] && echo "$file" || echo /dev/null)" $recs >"$tmp/bounds.tsv"
mv "$tmp/bounds.tsv" "$file"
echo "bounds.sh: $(grep -vc '^#' "$file") bounds in $file"
