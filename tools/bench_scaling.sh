#!/bin/sh
# tools/bench_scaling.sh -- a fixed probe on 1 and 2 processes, side by side
# (docs/scaling.md). Needs ./tpe (default build) and, for the MPI rows,
# build/mpicc/tpe (make MPI=1) and mpirun.
#
#   ROUNDS=3 sh tools/bench_scaling.sh
#
# Model: build/bench/gpt2-124m (./tpe random-model: GPT-2-124M shapes, f32).
# Data: 16 samples of 128 random token ids (seeded), --max-len 128.
# Each round runs, one after the other:
#   1  one process                 ./tpe probe ...
#   2  two shards at once + merge  ./tpe probe --shard 0/2 & ./tpe probe --shard 1/2; ./tpe merge
#   3  mpirun -np 2                build/mpicc/tpe probe ...
#   4  one shard of one (--shard 0/1) -- the one process plus fingerprinting
# and checks that every alpha is the first one's bytes. Wall-clock seconds
# (date +%s.%N); the best of ROUNDS and the range are printed.
set -eu
ROUNDS=${ROUNDS:-3}
B=build/bench
M=$B/gpt2-124m
D=$B/probe16x128.ids
O=$B/scaling
MPIRUN=${MPIRUN:-mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader --mca oob_tcp_if_include lo}
mkdir -p "$O"
[ -d "$M" ] || ./tpe random-model "$M" > /dev/null
[ -f "$D" ] || awk 'BEGIN { srand(1); for (s = 0; s < 16; s++) { l = ""; for (i = 0; i < 128; i++) l = l int(rand() * 50257) " "; print l } }' > "$D"
now() { date +%s.%N; }
have_mpi=0
[ -x build/mpicc/tpe ] && command -v mpirun > /dev/null && have_mpi=1
: > "$O/times"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  t=$(now); ./tpe probe "$M" "$D" --ids-file --max-len 128 --out "$O/a1.npy" --quiet > /dev/null; e=$(now)
  echo "one $(echo "$e - $t" | bc)" >> "$O/times"
  t=$(now)
  ./tpe probe "$M" "$D" --ids-file --max-len 128 --shard 0/2 --out "$O/p0.part" --quiet > /dev/null &
  ./tpe probe "$M" "$D" --ids-file --max-len 128 --shard 1/2 --out "$O/p1.part" --quiet > /dev/null
  wait
  ./tpe merge "$O/p0.part" "$O/p1.part" --out "$O/a2.npy" > /dev/null; e=$(now)
  echo "shards $(echo "$e - $t" | bc)" >> "$O/times"
  cmp "$O/a1.npy" "$O/a2.npy"
  if [ $have_mpi = 1 ]; then
    t=$(now); $MPIRUN -np 2 build/mpicc/tpe probe "$M" "$D" --ids-file --max-len 128 --out "$O/a3.npy" > /dev/null; e=$(now)
    echo "mpi $(echo "$e - $t" | bc)" >> "$O/times"
    cmp "$O/a1.npy" "$O/a3.npy"
  fi
  t=$(now); ./tpe probe "$M" "$D" --ids-file --max-len 128 --shard 0/1 --out "$O/p.part" --quiet > /dev/null; e=$(now)
  echo "shard01 $(echo "$e - $t" | bc)" >> "$O/times"
  r=$((r + 1))
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk '{ n[$1]++; if (!($1 in lo) || $2 < lo[$1]) lo[$1] = $2; if ($2 > hi[$1]) hi[$1] = $2 }
     END { for (k in lo) printf "%-8s best %.2f s  range %.2f -- %.2f s  (%d runs)\n", k, lo[k], lo[k], hi[k], n[k] }' "$O/times" | sort
echo "every alpha equals the one-process alpha byte for byte"
