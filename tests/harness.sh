# harness.sh - the pass/fail bookkeeping every shell test shares:
#   . "$(dirname "$0")/harness.sh"
# `run` keeps the command's output in $work/log (the test's scratch directory).
passed=0 failed=0
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
# The last line of a test: the tally, and its exit status.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
