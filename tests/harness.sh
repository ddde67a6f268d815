# harness.sh - the pass/fail bookkeeping every shell test shares:
#   . "$(dirname "$0")/harness.sh"
# `run` keeps the command's output in $work/log (the test's scratch directory).
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
run() { # run DESCRIPTION COMMAND...: passes when COMMAND exits 0, else shows its output
    desc=$1
    shift
    if "$@" >"$work/log" 2>&1; then ok "$desc"; else bad "$desc"; sed 's/^/     /' "$work/log" | tail -20; fi
}
check() { # check DESCRIPTION CONDITION...
    desc=$1
    shift
    if "$@"; then ok "$desc"; else bad "$desc"; fi
}
# The precisions the default device can run, in $precisions: fp32, and
# fp16 where it has 16-bit storage (else one line says why the fp16 checks
# skip; skip N counts them).
device_precisions() { # device_precisions CLI
    if "$1" devices --json 2>/dev/null | grep -q '"storage16": false'; then
        precisions=fp32
        echo "skip fp16 checks: $("$1" devices 2>/dev/null | head -1) has no storageBuffer16BitAccess"
    else
        precisions="fp32 fp16"
    fi
}
skip() { skipped=$((skipped + $1)); }
# The last line of a test: the tally, and its exit status.
finish() {
    echo "$(basename "$0" .sh): $passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
}
