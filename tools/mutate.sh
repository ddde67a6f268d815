#!/bin/sh
# Mutation check of the test suite: applies each mutation of
# tools/mutations.txt (a plausible bug in place of the real code) to the
# source, one at a time, rebuilds, runs the tests the mutation names, and
# reports which of them failed. A mutation that no test catches is a hole
# in the suite; one whose text is no longer in the source (stale) or that
# does not build is an error of the list. The source is restored after
# each mutation, also on interrupt.
#
#   sh tools/mutate.sh [--build DIR] [--list] [NAME...]
#
#   --build DIR  the build tree to rebuild and test (default build/,
#                configured already); build-trixie inside the Debian 13 root
#                for the cooperative-matrix kernels:
#                sh tools/trixie.sh run sh tools/mutate.sh --build build-trixie coopmat-...
#   --list       print the mutations' names and exit
#   --check      check that every mutation's text occurs exactly once in
#                its file (no build; for whoever edits a mutated line)
#   NAME...      only these mutations (default: all whose `needs` the build
#                has: "needs khr" is for a build with the KHR kernels)
#
# It edits the files of the checkout it runs in, so run it in a copy
# (git worktree) while anyone else builds from this one. Exits 1 when any
# mutation survives or is stale. Prints a table, also written to
# DIR/mutate-report.txt. Needs perl (perl-base, on every Debian).
set -eu
cd "$(dirname "$0")/.."
build=build list=0 check=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --list) list=1; shift ;;
    --check) check=1; shift ;;
    -*) echo "mutate.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
tmp=$(mktemp -d)
restore=""
cleanup() {
    if [ -n "$restore" ] && [ -f "$tmp/orig-file" ]; then cp "$tmp/orig-file" "$restore"; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Split the list into one directory per mutation: name, file, tests, needs,
# why, orig (the exact text, without its last newline), repl.
awk -v dir="$tmp" '
function flush() { if (n) { close(d "/orig"); close(d "/repl") } }
/^\[.*\]$/ { flush(); n++; d = dir "/" sprintf("%03d", n); system("mkdir -p " d)
             name = substr($0, 2, length($0) - 2); print name > (d "/name"); close(d "/name")
             mode = ""; printf "" > (d "/orig"); printf "" > (d "/repl"); printf "" > (d "/needs"); next }
!n { next }
mode == "" && /^(file|tests|why|needs) / { k = $1; sub(/^[a-z]+ /, ""); print > (d "/" k); close(d "/" k); next }
mode == "" && /^<<<$/ { mode = "orig"; next }
mode == "orig" && /^===$/ { mode = "repl"; next }
mode == "repl" && /^>>>$/ { mode = ""; next }
mode != "" { print > (d "/" mode) }
END { flush() }' tools/mutations.txt

if [ "$list" = 1 ]; then
    for m in "$tmp"/[0-9]*; do printf '%-28s %s\n' "$(cat "$m/name")" "$(cat "$m/why")"; done
    exit 0
fi
if [ "$check" = 1 ]; then
    stale=0
    for m in "$tmp"/[0-9]*; do
        if ! ORIG="$m/orig" perl -0777 -ne 'BEGIN { local $/; open(my $f, "<", $ENV{ORIG}) or die; $o = <$f>; chomp $o; }
            $c = () = /\Q$o\E/g; exit($c == 1 ? 0 : 1);' "$(cat "$m/file")"; then
            echo "stale: $(cat "$m/name") ($(cat "$m/file"))"
            stale=$((stale + 1))
        fi
    done
    echo "mutate.sh: $(ls -d "$tmp"/[0-9]* | wc -l) mutations, $stale stale"
    [ $stale -eq 0 ]
    exit
fi
[ -f "$build/CMakeCache.txt" ] || { echo "mutate.sh: $build is not a configured build tree" >&2; exit 2; }
khr=0 # whether this build has the KHR kernels (CMakeLists.txt: KHR_COOPMAT_VARIANTS)
find "$build/shaders" -name 'gemm_coopmat_f16.h' 2>/dev/null | grep -q . && khr=1

cmake --build "$build" -j"$(nproc)" >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; echo "mutate.sh: the unmutated tree does not build" >&2; exit 2; }
report=$build/mutate-report.txt
printf '%-28s %-9s %s\n' mutation result "failing tests (of those run)" >"$report"
bad=0 ran=0
for m in "$tmp"/[0-9]*; do
    name=$(cat "$m/name")
    if [ $# -gt 0 ]; then
        want=0
        for a in "$@"; do [ "$a" = "$name" ] && want=1; done
        [ $want = 1 ] || continue
    elif grep -q khr "$m/needs" && [ $khr = 0 ]; then
        continue
    fi
    file=$(cat "$m/file") tests=$(cat "$m/tests")
    ran=$((ran + 1))
    cp "$file" "$tmp/orig-file"
    restore=$file
    if ! ORIG="$m/orig" REPL="$m/repl" perl -0777 -i -pe '
        BEGIN { local $/; open(my $f, "<", $ENV{ORIG}) or die; $o = <$f>; chomp $o;
                open(my $g, "<", $ENV{REPL}) or die; $r = <$g>; chomp $r; }
        $c = () = /\Q$o\E/g; die "found $c times\n" if $c != 1; s/\Q$o\E/$r/;' "$file" 2>"$tmp/perl.log"; then
        result=stale caught="text $(cat "$tmp/perl.log") in $file"
    elif ! cmake --build "$build" -j"$(nproc)" >"$tmp/build.log" 2>&1; then
        result=no-build caught="$(grep -m1 -i error "$tmp/build.log" || true)"
    else
        regex="^($(echo "$tests" | tr ' ' '|'))\$"
        ctest --test-dir "$build" -R "$regex" -j2 >"$tmp/ctest.log" 2>&1 || true
        caught=$(sed -n 's/^[[:space:]]*[0-9]* - \([^ ]*\) (\(Failed\|Timeout\|SEGFAULT\|Subprocess aborted\|Exception\|Not Run\).*/\1/p' \
            "$tmp/ctest.log" | tr '\n' ' ')
        if [ -n "$caught" ]; then result=caught; else result=SURVIVED caught="(none of: $tests)"; fi
    fi
    cp "$tmp/orig-file" "$file"
    restore=""
    case $result in caught) ;; *) bad=$((bad + 1)) ;; esac
    printf '%-28s %-9s %s\n' "$name" "$result" "$caught" | tee -a "$report"
done
cmake --build "$build" -j"$(nproc)" >"$tmp/build.log" 2>&1 || true
echo "mutate.sh: $ran mutations, $((ran - bad)) caught, $bad not (report: $report)"
[ $bad -eq 0 ] && [ $ran -gt 0 ]
