#!/bin/sh
# tests/mpi.sh -- what `make test-mpi` runs: the MPI build of tpe
# (TPE_MPI_BIN, `make MPI=1`) under mpirun on this machine against the
# default build's single process (TPE_BIN): alpha must be the same bytes.
# Prints a line per check and ends with "N passed, N failed".
# MPIRUN_FLAGS replaces the default flags (root allowed, oversubscription,
# shared memory and loopback only, no binding).
set -u
MPI_BIN=${TPE_MPI_BIN:?TPE_MPI_BIN}
BIN=${TPE_BIN:?TPE_BIN}
FLAGS=${MPIRUN_FLAGS:---allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader --mca oob_tcp_if_include lo}
MPIRUN="mpirun $FLAGS"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tpe-mpi.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   [mpi] $1"; }
bad() { fail=$((fail + 1)); echo "FAIL [mpi] $1"; shift; for l in "$@"; do echo "    $l"; done; }
check() { _n=$1; shift; if "$@"; then ok "$_n"; else bad "$_n" "failed: $*"; fi; }
run() { # NAME STATUS CMD...
  _n=$1 _w=$2; shift 2
  "$@" > "$tmp/out" 2> "$tmp/err"
  _g=$?
  if [ "$_g" -eq "$_w" ]; then ok "$_n"; else bad "$_n" "exit status $_g, expected $_w: $*" "$(head -c 400 "$tmp/err")"; fi
}

command -v mpirun > /dev/null || { echo "tests/mpi.sh: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"; echo "0 passed, 1 failed"; exit 1; }
t0=$(date +%s)
M=$tmp/m
run "random-model" 0 "$BIN" random-model "$M" --vocab 300 --width 32 --heads 4 --layers 2 --ctx 32 --seed 9 --scale 0.3
{
  for n in 3 40 1 17 64 9 28; do seq -s ' ' 1 "$n" | tr ' ' '\n' | awk -v n="$n" '{ printf "%d ", ($1 * 37 + n) % 300 } END { print "" }'; done
} > "$tmp/data.ids"
run "single process (default build), f32" 0 "$BIN" probe "$M" "$tmp/data.ids" --ids-file --max-len 16 --out "$tmp/a1.npy"
run "single process (default build), f64" 0 "$BIN" probe "$M" "$tmp/data.ids" --ids-file --max-len 16 --precision f64 --out "$tmp/d1.npy"

run "MPI build, run without mpirun" 0 "$MPI_BIN" probe "$M" "$tmp/data.ids" --ids-file --max-len 16 --out "$tmp/s.npy" --json
check "... one process" grep -q '"processes": 1' "$tmp/out"
check "... alpha is the default build's, byte for byte" cmp -s "$tmp/a1.npy" "$tmp/s.npy"
for np in 2 3; do
  run "mpirun -np $np, f32" 0 $MPIRUN -np $np "$MPI_BIN" probe "$M" "$tmp/data.ids" --ids-file --max-len 16 --out "$tmp/a$np.npy" --json
  check "... $np processes, one JSON line" sh -c "grep -q '\"processes\": $np' '$tmp/out' && test \$(wc -l < '$tmp/out') -eq 1"
  check "... 7 samples, 162 tokens counted over the processes" sh -c "grep -q '\"samples\": 7,' '$tmp/out' && grep -q '\"tokens\": 162,' '$tmp/out'"
  check "... alpha is the single process's, byte for byte" cmp -s "$tmp/a1.npy" "$tmp/a$np.npy"
done
run "mpirun -np 2, f64" 0 $MPIRUN -np 2 "$MPI_BIN" probe "$M" "$tmp/data.ids" --ids-file --max-len 16 --precision f64 --out "$tmp/d2.npy"
check "... alpha is the single process's, byte for byte" cmp -s "$tmp/d1.npy" "$tmp/d2.npy"
head -n 1 "$tmp/data.ids" > "$tmp/one.ids"
"$BIN" probe "$M" "$tmp/one.ids" --ids-file --max-len 16 --out "$tmp/o1.npy" > /dev/null 2>&1
run "mpirun -np 3 on one sample (two processes idle)" 0 $MPIRUN -np 3 "$MPI_BIN" probe "$M" "$tmp/one.ids" --ids-file --max-len 16 --out "$tmp/o3.npy"
check "... alpha is the single process's" cmp -s "$tmp/o1.npy" "$tmp/o3.npy"
# shards made by the MPI build (one process each) merge with the default build
for i in 0 1; do "$MPI_BIN" probe "$M" "$tmp/data.ids" --ids-file --max-len 16 --shard $i/2 --out "$tmp/p$i.part" > /dev/null 2>&1; done
run "parts of the MPI build merge" 0 "$BIN" merge "$tmp/p1.part" "$tmp/p0.part" --out "$tmp/m.npy"
check "... into the single process's alpha" cmp -s "$tmp/a1.npy" "$tmp/m.npy"

# errors: one line from one process, no output
printf '1 2\n3 999\n' > "$tmp/bad.ids"
run "mpirun -np 2 on a bad dataset fails" 1 $MPIRUN -np 2 "$MPI_BIN" probe "$M" "$tmp/bad.ids" --ids-file --out "$tmp/x.npy"
check "... with exactly one error line naming the line" sh -c "test \$(grep -c '^tpe: probe: ' '$tmp/err') -eq 1 && grep -q 'line 2: token id 999' '$tmp/err'"
check "... and no output file" test ! -e "$tmp/x.npy"
run "mpirun -np 2 refuses --save-hidden (usage)" 2 $MPIRUN -np 2 "$MPI_BIN" probe "$M" "$tmp/data.ids" --ids-file --out "$tmp/x.npy" --save-hidden "$tmp/h.npy"
check "... saying so once" sh -c "test \$(grep -c '^tpe: probe: --save-hidden with 2 MPI processes' '$tmp/err') -eq 1"
run "the default build refuses to run as one of 2 mpirun processes" 2 $MPIRUN -np 2 "$BIN" probe "$M" "$tmp/data.ids" --ids-file --out "$tmp/x.npy"
check "... saying it was built without MPI" grep -q 'built without MPI' "$tmp/err"

echo "(tests/mpi.sh took $(( $(date +%s) - t0 )) s)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
