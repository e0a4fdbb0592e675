#!/bin/sh
# tools/bench_unargmax.sh REF_CHECKOUT -- the unargmax benchmark of
# docs/performance.md, measured side by side in one go.
#
#   1. fast pass (braid reflect) on a GPT-2-shaped random head (50257 x 768,
#      float32, N(0, 0.02^2), seed 0): tpe (OpenMP build, 2 threads and 1)
#      against the reference implementation's braid reflect (Grivas et al.
#      2022, stollen.candidate_is_bounded, numpy, one process; timed on N_REF
#      evenly spaced tokens, with numpy's OpenBLAS on its default threads and
#      on one). The two alternate for ROUNDS rounds; the best of each is kept.
#   2. exact pass cost per unresolved token at d = 768: (a) the same head
#      with 8 rows replaced by convex combinations of 769 others (interior:
#      unargmaxable, certified by Farkas); (b) an anisotropic 4096 x 768 head
#      (shared mean direction) with --patience 10, whose leftovers are
#      argmaxable tokens the LP finds witnesses for.
#
# REF_CHECKOUT is a directory holding the reference's stollen/ package (not
# part of tpe), e.g.
#   git --git-dir=<clone>/.git archive HEAD stollen | tar -x -C /tmp/unargmaxable
# Python (numpy) is used for the reference and to write the heads only.
# tpe runs with OMP_WAIT_POLICY=passive: the machines are shared, and with
# libgomp's default spin-waiting a GEMM's barriers stall whenever another
# process holds a core (2 threads then run slower than 1).
set -eu
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
REF=${1:?usage: sh tools/bench_unargmax.sh REF_CHECKOUT (a checkout of github.com/andreasgrv/unargmaxable)}
N_REF=${N_REF:-300}
ROUNDS=${ROUNDS:-2}
PY=${PY:-/usr/bin/python3}
OUT=${OUT:-out/bench_unargmax}
CCN=$(basename "${CC:-cc}")
mkdir -p "$OUT"
make --no-print-directory OPENMP=1 "build/$CCN-omp/tpe" >/dev/null
TPE=build/$CCN-omp/tpe

$PY - "$OUT" <<'EOF'
import os, sys
import numpy as np
out = sys.argv[1]
V, d = 50257, 768
p = os.path.join(out, "gpt2_head.npy")
if not os.path.exists(p):
    W = (np.random.default_rng(0).standard_normal((V, d)) * 0.02).astype(np.float32)
    np.save(p, W)
p2 = os.path.join(out, "gpt2_planted.npy")
if not os.path.exists(p2):
    W = np.load(p).astype(np.float64)
    rng = np.random.default_rng(1)
    for k in range(8):
        idx = rng.choice(V - 8, size=d + 1, replace=False)
        lam = rng.random(d + 1) + 0.1
        W[V - 1 - k] = (lam / lam.sum()) @ W[idx]
    np.save(p2, W.astype(np.float32))
p3 = os.path.join(out, "aniso_head.npy")
if not os.path.exists(p3):
    rng = np.random.default_rng(4)
    mu = rng.standard_normal(d) * 0.05
    W = mu + rng.standard_normal((4096, d)) * 0.02 * np.exp(rng.standard_normal((4096, 1)) * 0.3)
    np.save(p3, W.astype(np.float32))
EOF

jnum() { sed -n "s/.*\"$1\": {[^}]*\"$2\": \([0-9.e+-]*\).*/\1/p" "$3"; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }

echo "unargmax benchmark: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tpe: $TPE ($($TPE cpu --json | sed -n 's/.*"simd": "\([a-z0-9]*\)".*/\1/p'), OMP_WAIT_POLICY=$OMP_WAIT_POLICY); reference: $REF (N_REF=$N_REF tokens)"
ref_def="" ref_one="" t2="" t1="" r=0
while [ $r -lt "$ROUNDS" ]; do
  l=$($PY tools/bench_unargmax_ref.py "$REF" "$OUT/gpt2_head.npy" "$N_REF")
  echo "  ref (default threads): $l"
  ref_def=$(best "$ref_def" "$(echo "$l" | sed 's/.*seconds_per_token \([^ ]*\).*/\1/')")
  l=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $PY tools/bench_unargmax_ref.py "$REF" "$OUT/gpt2_head.npy" "$N_REF")
  echo "  ref (one thread):      $l"
  ref_one=$(best "$ref_one" "$(echo "$l" | sed 's/.*seconds_per_token \([^ ]*\).*/\1/')")
  TPE_THREADS=2 $TPE unargmax --w "$OUT/gpt2_head.npy" --json --quiet > "$OUT/tpe2.json"
  echo "  tpe (2 threads):       $(grep -o '"unargmaxable": [^]]*]\|"fast": {[^}]*}' "$OUT/tpe2.json" | tr '\n' ' ')"
  t2=$(best "$t2" "$(awk -v s="$(jnum fast seconds "$OUT/tpe2.json")" 'BEGIN { print s / 50257 }')")
  TPE_THREADS=1 $TPE unargmax --w "$OUT/gpt2_head.npy" --json --quiet > "$OUT/tpe1.json"
  echo "  tpe (1 thread):        $(grep -o '"fast": {[^}]*}' "$OUT/tpe1.json")"
  t1=$(best "$t1" "$(awk -v s="$(jnum fast seconds "$OUT/tpe1.json")" 'BEGIN { print s / 50257 }')")
  r=$((r + 1))
done
echo
echo "fast pass (braid reflect, patience 2500), GPT-2-shaped random head 50257 x 768 f32, seconds per token (best of $ROUNDS):"
echo
printf "| %-44s | %12s | %14s | %14s |\n" "run" "s / token" "ref 1 thread /" "ref default /"
printf "|%s|%s|%s|%s|\n" "----------------------------------------------" "--------------" "----------------" "----------------"
for row in "reference, numpy, one process, 1 BLAS thread:$ref_one" "reference, numpy, one process, default BLAS:$ref_def" \
           "tpe, 1 thread:$t1" "tpe, 2 threads (OpenMP):$t2"; do
  name=${row%:*} v=${row##*:}
  printf "| %-44s | %12.3e | %14.1f | %14.1f |\n" "$name" "$v" "$(awk -v a="$ref_one" -v b="$v" 'BEGIN { print a / b }')" \
         "$(awk -v a="$ref_def" -v b="$v" 'BEGIN { print a / b }')"
done
echo
echo "whole GPT-2 head with tpe (fast pass only): 2 threads $(jnum fast seconds "$OUT/tpe2.json") s, 1 thread $(jnum fast seconds "$OUT/tpe1.json") s"
echo
echo "exact pass, 2 threads:"
TPE_THREADS=2 $TPE unargmax --w "$OUT/gpt2_planted.npy" --exact --json --quiet > "$OUT/planted.json"
echo "  (a) planted interior, 50257 x 768: $(grep -o '"unargmaxable": [^]]*]\|"lp": {[^}]*}' "$OUT/planted.json" | tr '\n' ' ')"
TPE_THREADS=2 $TPE unargmax --w "$OUT/aniso_head.npy" --patience 10 --exact --json --quiet > "$OUT/aniso.json"
echo "  (b) anisotropic, 4096 x 768, patience 10: $(grep -o '"lp": {[^}]*}' "$OUT/aniso.json")"
