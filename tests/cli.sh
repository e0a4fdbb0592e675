#!/bin/sh
# tests/cli.sh -- command-line tests: sources every tests/cli/*.sh. Each
# file calls the helpers below; each check is one test. Prints a line per
# test and "#summary P F S".
set -u
TPE=${TPE:?TPE}
RUNNER=${RUNNER:-}
T="$RUNNER $TPE"
TMP=${TPE_TEST_TMP:-/tmp}/cli
mkdir -p "$TMP"
SHARED=${TPE_SHARED:-../shared}
[ -d "$SHARED/reference" ] || SHARED=""
_p=0 _f=0 _s=0

ok()   { _p=$((_p + 1)); echo "ok   [cli] $1"; }
bad()  { _f=$((_f + 1)); echo "FAIL [cli] $1"; shift; for l in "$@"; do echo "    $l"; done; }
skip() { _s=$((_s + 1)); echo "skip [cli] $1: $2"; }

# run NAME EXPECTED_STATUS CMD...: runs CMD, keeps stdout in $TMP/out and
# stderr in $TMP/err, checks the exit status.
run() {
  _name=$1 _want=$2; shift 2
  "$@" > "$TMP/out" 2> "$TMP/err"
  _got=$?
  if [ "$_got" -eq "$_want" ]; then ok "$_name"; return 0; fi
  bad "$_name" "exit status $_got, expected $_want: $*" "stderr: $(head -c 300 "$TMP/err")"
  return 1
}
# expect_err NAME STATUS PATTERN CMD...: fails with STATUS and one stderr
# line "tpe: ..." matching PATTERN (grep -E).
expect_err() {
  _name=$1 _want=$2 _pat=$3; shift 3
  "$@" > "$TMP/out" 2> "$TMP/err"
  _got=$?
  if [ "$_got" -ne "$_want" ]; then bad "$_name" "exit status $_got, expected $_want: $*" "stderr: $(head -c 300 "$TMP/err")"; return 1; fi
  if ! grep -Eq "$_pat" "$TMP/err"; then bad "$_name" "stderr lacks /$_pat/: $(head -c 300 "$TMP/err")"; return 1; fi
  if ! head -n 1 "$TMP/err" | grep -q '^tpe: '; then bad "$_name" "error line does not start with 'tpe: ': $(head -n 1 "$TMP/err")"; return 1; fi
  ok "$_name"
}
# check NAME CONDITION-COMMAND...: a plain assertion.
check() {
  _name=$1; shift
  if "$@"; then ok "$_name"; else bad "$_name" "failed: $*"; fi
}
# json_field KEY FILE: the raw value of "KEY": in a one-line JSON object.
json_field() {
  sed -n "s/.*\"$1\": \(\"[^\"]*\"\|[^,}]*\).*/\1/p" "$2" | head -n 1
}
# num_cmp A OP B: awk numeric comparison (OP is <, <=, >, >=, ==).
num_cmp() { awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"; }

for _cf in tests/cli/*.sh; do
  [ -f "$_cf" ] || continue
  _t0=$(date +%s)
  . "./$_cf"
  echo "# $_cf: $(( $(date +%s) - _t0 )) s"
done
echo "#summary $_p $_f $_s"
