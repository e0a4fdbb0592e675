#!/bin/sh
# tools/bench_mauve.sh -- the MAUVE benchmark of docs/performance.md
# (section "Paper part 2"), measured side by side in one go.
#
# Features: N points each for P and Q in D dimensions, drawn around 40
# random centers (numpy, seed 1) -- the size of a MAUVE run on a few
# thousand texts with a small featurizer. Timed on them, alternating for
# ROUNDS rounds, the best of each kept, one thread each:
#   tpe      `tpe mauve --features P.npy Q.npy` (unit rows, PCA, k-means, curve)
#   sklearn  the same steps with scikit-learn (tools/gen_mauve_goldens.py's
#            mauve_features: PCA(n_components=None), KMeans(n_init=5,
#            max_iter=500), auc), numpy/OpenBLAS limited to one thread.
# mauve-text itself clusters with faiss, which is not installed here.
# Python is used for the reference and to write the features only.
set -eu
N=${N:-2000}
D=${D:-64}
ROUNDS=${ROUNDS:-3}
PY=${PY:-/usr/bin/python3}
OUT=${OUT:-out/bench_mauve}
mkdir -p "$OUT"
make --no-print-directory tpe >/dev/null
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

$PY - "$OUT" "$N" "$D" <<'EOF'
import sys
import numpy as np
out, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
centers = rng.standard_normal((40, d))
for name, shift in (("P", 0.0), ("Q", 0.3)):
    lab = rng.integers(0, 40, size=n)
    X = centers[lab] + 0.5 * rng.standard_normal((n, d)) + shift * centers[0]
    np.save(f"{out}/{name}.npy", X)
EOF

best_tpe=999999 best_ref=999999
r=0
while [ $r -lt "$ROUNDS" ]; do
  r=$((r + 1))
  t=$(./tpe mauve --features "$OUT/P.npy" "$OUT/Q.npy" --json | sed -n 's/.*"seconds": \([0-9.e-]*\).*/\1/p')
  m_tpe=$(./tpe mauve --features "$OUT/P.npy" "$OUT/Q.npy" --json | sed -n 's/.*"mauve": \([0-9.e-]*\),.*/\1/p')
  s=$($PY - "$OUT" <<'EOF'
import sys, time
sys.path.insert(0, "tools")
import numpy as np
from gen_mauve_goldens import mauve_features
out = sys.argv[1]
P, Q = np.load(f"{out}/P.npy"), np.load(f"{out}/Q.npy")
t0 = time.perf_counter()
res = mauve_features(P, Q, seed=25)
print(f"{time.perf_counter() - t0} {res['mauve']} {res['pca_dims']} {res['buckets']}")
EOF
)
  t_ref=${s%% *}
  echo "round $r: tpe $t s (MAUVE $m_tpe), sklearn $s (seconds MAUVE components buckets)"
  best_tpe=$(awk -v a="$best_tpe" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
  best_ref=$(awk -v a="$best_ref" -v b="$t_ref" 'BEGIN { print (b < a ? b : a) }')
done
echo "best: tpe $best_tpe s, sklearn $best_ref s, ratio sklearn/tpe $(awk -v a="$best_ref" -v b="$best_tpe" 'BEGIN { printf "%.2f", a / b }')"
