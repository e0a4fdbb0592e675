#!/bin/sh
# tests/run.sh -- what `make test` runs: the unit suite once per kernel path
# (TPE_PATHS, default every path `tpe cpu` lists as available), then the
# command-line tests. Prints every result and ends with "N passed, N failed";
# exits non-zero on any failure. RUNNER prefixes each program (qemu).
set -u
BIN=${TPE_BIN:?TPE_BIN}
TESTS=${TPE_TESTS:?TPE_TESTS}
RUNNER=${RUNNER:-}
export TPE_TEST_QUICK=${TPE_TEST_QUICK:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tpe-run.XXXXXX") || exit 2
export TPE_TEST_TMP="$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM

paths=${TPE_PATHS:-}
if [ -z "$paths" ]; then
  paths=$($RUNNER "$BIN" cpu --json | sed -n 's/.*"available": \[\([^]]*\)\].*/\1/p' | tr -d '",')
fi
[ -n "$paths" ] || { echo "tests/run.sh: cannot list the kernel paths ($RUNNER $BIN cpu --json failed)"; echo "0 passed, 1 failed"; exit 1; }

pass=0 fail=0 skip=0
add_summary() { # file label
  s=$(sed -n 's/^#summary //p' "$1")
  if [ -z "$s" ]; then
    echo "FAIL $2: did not finish (crashed?)"
    fail=$((fail + 1))
    return
  fi
  set -- $s
  pass=$((pass + $1)); fail=$((fail + $2)); skip=$((skip + $3))
}

for p in $paths; do
  echo "== unit tests with TPE_SIMD=$p ${RUNNER:+(under $RUNNER)}"
  TPE_SIMD=$p $RUNNER "$TESTS" > "$tmp/unit.out" 2>&1
  status=$?
  grep -v '^#summary\|passed, .* failed$' "$tmp/unit.out"
  add_summary "$tmp/unit.out" "unit tests under $p"
  # a clean summary with a bad exit status (valgrind, sanitizers) is a failure too
  if [ "$status" -ne 0 ] && grep -q '^#summary [0-9]* 0 ' "$tmp/unit.out"; then
    echo "FAIL unit tests under $p: exit status $status with no failed test (sanitizer or valgrind report above)"
    fail=$((fail + 1))
  fi
done

echo "== command-line tests ${RUNNER:+(under $RUNNER)}"
TPE="$BIN" RUNNER="$RUNNER" sh tests/cli.sh > "$tmp/cli.out" 2>&1
grep -v '^#summary' "$tmp/cli.out"
add_summary "$tmp/cli.out" "command-line tests"

[ "$skip" -gt 0 ] && echo "($skip skipped)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
