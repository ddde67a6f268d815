#!/bin/sh
# Builds the libFuzzer harnesses (clang, ASan + UBSan) and runs each one for
# SECONDS on a copy of its corpus, FUZZ_JOBS at a time. Fails on any finding
# (crash, sanitizer report, leak, timeout, out-of-memory); the input that
# caused it is kept and its path printed.
#   sh tools/fuzz.sh [SECONDS] [TARGET...]     (default 60 s, every target)
# Environment: FUZZ_BUILD (build dir, default build-fuzz), FUZZ_JOBS
# (harnesses at once, default: number of CPUs), FUZZ_OUT (where logs, new
# inputs and findings go, kept; default a temporary directory, removed
# when nothing was found). The repository's corpus is only read.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-"safetensors config preproc image infer"}
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
keep=${FUZZ_OUT:+1}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/vitvk-fuzz.XXXXXX")}
mkdir -p "$out"
sh tools/install-deps.sh --fuzz

CC=${FUZZ_CC:-clang} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITVK_FUZZ=ON \
    -DVITVK_TESTS=OFF >"$out/cmake.log" || { cat "$out/cmake.log"; exit 1; }
exes=""
for t in $targets; do exes="$exes fuzz_$t"; done
cmake --build "$build" -j"$(nproc)" --target $exes >"$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }

# Per-target input size limit: configs are small, files and images bigger.
max_len() {
    case $1 in
    config | preproc) echo 16384 ;;
    *) echo 65536 ;;
    esac
}

run_one() { # run_one TARGET: exit status of the fuzzer
    t=$1
    mkdir -p "$out/$t/corpus" "$out/$t/findings"
    cp "$root/tests/fuzz/corpus/$t/"* "$out/$t/corpus/"
    dict=""
    [ -f "$root/tests/fuzz/$t.dict" ] && dict="-dict=$root/tests/fuzz/$t.dict"
    # detect_leaks: a leak on an error path is a finding too.
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 \
        -max_len="$(max_len "$t")" -print_final_stats=1 $dict \
        -artifact_prefix="$out/$t/findings/" "$out/$t/corpus" >"$out/$t/log" 2>&1
}

echo "fuzzing $targets for ${seconds}s each, $jobs at a time; output in $out"
failed=""
set -- $targets
while [ $# -gt 0 ]; do
    batch=""
    while [ $# -gt 0 ] && [ "$(echo $batch | wc -w)" -lt "$jobs" ]; do
        run_one "$1" &
        eval "pid_$1=\$!"
        batch="$batch $1"
        shift
    done
    for t in $batch; do
        eval "pid=\$pid_$t"
        rc=0
        wait "$pid" || rc=$?
        stats=$(grep -E "^#[0-9]+.*(DONE|INITED)" "$out/$t/log" | tail -1 | sed 's/ *lim:.*//')
        if [ "$rc" -eq 0 ]; then
            echo "ok   fuzz_$t: $stats"
        else
            failed="$failed $t"
            echo "FAIL fuzz_$t (exit $rc), input kept in $out/$t/findings/:"
            grep -E "ERROR|SUMMARY|runtime error|invariant broken|Test unit written" "$out/$t/log" | head -10 |
                sed 's/^/     /'
        fi
    done
done
if [ -n "$failed" ]; then
    echo "fuzz: findings in:$failed (logs in $out)"
    exit 1
fi
echo "fuzz: no findings"
[ -n "$keep" ] || rm -rf "$out"
