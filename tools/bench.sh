#!/bin/sh
# tools/bench.sh -- `make bench`: GEMM GFLOPS on the shapes of a GPT-2-124M
# forward pass at T = 256, one thread, tpe beside OpenBLAS (Haswell kernel)
# run side by side: for each shape the two programs alternate, three rounds
# each, and the best of each is compared, so machine noise hits both alike.
# OpenBLAS is used only here, to compare, when libopenblas-dev is installed.
set -u
TPE=${TPE:-./tpe}
ROUNDS=${ROUNDS:-3}
OB=""
if [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ] || [ -f /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ]; then
  mkdir -p build/tools
  inc=""
  [ -d /usr/include/x86_64-linux-gnu/openblas-pthread ] && inc="-I/usr/include/x86_64-linux-gnu/openblas-pthread"
  if ${CC:-cc} -O2 $inc tools/bench_openblas.c -o build/tools/bench_openblas -lopenblas 2>/dev/null; then
    OB=build/tools/bench_openblas
  fi
fi
[ -n "$OB" ] || echo "(libopenblas-dev not installed: tpe only; apt-get install libopenblas-dev to compare)"
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell} OPENBLAS_NUM_THREADS=1 TPE_THREADS=1
simd=$($TPE cpu --json | sed -n 's/.*"simd": "\([a-z0-9]*\)".*/\1/p')
echo "GEMM, row-major C(MxN) = A(MxK) B(KxN), one thread, GFLOPS (best of $ROUNDS alternating rounds)"
echo "tpe path: $simd; OpenBLAS: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"
echo
printf "| %-16s | %-5s | %10s | %14s | %7s |\n" "M x N x K" dtype "tpe" "OpenBLAS" "ratio"
printf "|%s|%s|%s|%s|%s|\n" "------------------" "-------" "------------" "----------------" "---------"
for dt in f32 f64; do
  for shape in "256 2304 768" "256 768 768" "256 3072 768" "256 768 3072" "256 50257 768"; do
    best_t=0 best_o=0 r=0
    while [ $r -lt "$ROUNDS" ]; do
      t=$($TPE bench gemm $shape --dtype $dt --reps 1 --json | sed -n 's/.*"gflops": \([0-9.e+-]*\).*/\1/p')
      best_t=$(awk -v a="$best_t" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
      if [ -n "$OB" ]; then
        o=$($OB $shape $dt 1)
        best_o=$(awk -v a="$best_o" -v b="$o" 'BEGIN { print (b > a ? b : a) }')
      fi
      r=$((r + 1))
    done
    if [ -n "$OB" ]; then
      ratio=$(awk -v a="$best_t" -v b="$best_o" 'BEGIN { printf "%.2f", a / b }')
      printf "| %-16s | %-5s | %10.1f | %14.1f | %7s |\n" "$(echo $shape | tr ' ' x)" $dt "$best_t" "$best_o" "$ratio"
    else
      printf "| %-16s | %-5s | %10.1f | %14s | %7s |\n" "$(echo $shape | tr ' ' x)" $dt "$best_t" "-" "-"
    fi
  done
done

# forward pass + alpha beside PyTorch (issue: model runtime)
echo
sh tools/bench_forward.sh
# ---- least squares and PCA (issue 3, numerics; docs/performance.md) ---------
# A 50257 x 768 matrix (the GPT-2 vocabulary by its embedding width; the
# regression adds the intercept: 50257 x 769), from tools/gen_bench_data.c.
# tpe and LAPACK (OpenBLAS 0.3.21 + LAPACKE, tools/bench_lapack.c) alternate
# for $ROUNDS rounds, one thread each; the best time of each is kept.
NM=${NUMERICS_N:-50257}
ND=${NUMERICS_D:-768}
NDATA=build/bench/numerics-$NM-$ND
mkdir -p "$NDATA" build/tools
${CC:-cc} -O2 tools/gen_bench_data.c -o build/tools/gen_bench_data -lm || exit 1
[ -f "$NDATA/X.npy" ] && [ -f "$NDATA/y.npy" ] || build/tools/gen_bench_data "$NM" "$ND" "$NDATA" || exit 1
LA=""
linc=""
[ -d /usr/include/x86_64-linux-gnu/openblas-pthread ] && linc="-I/usr/include/x86_64-linux-gnu/openblas-pthread"
if [ -n "$OB" ] && [ -f /usr/include/lapacke.h ]; then
  ${CC:-cc} -O2 $linc tools/bench_lapack.c -o build/tools/bench_lapack -llapacke -lopenblas -lm 2>/dev/null &&
    LA=build/tools/bench_lapack
fi
[ -n "$LA" ] || echo "(liblapacke-dev or libopenblas-dev not installed: tpe only)"
nmin() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || (b != "" && b + 0 < a + 0)) print b; else print a }'; }
jsec() { sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p'; }
ls_t="" ols_w="" pca_t="" pca20_t="" dgels_t="" ref_t="" r=0
while [ $r -lt "$ROUNDS" ]; do
  t=$($TPE bench lstsq "$NDATA/X.npy" "$NDATA/y.npy" --json | jsec); ls_t=$(nmin "$ls_t" "$t")
  t0=$(date +%s.%N); $TPE ols "$NDATA/X.npy" "$NDATA/y.npy" --json --quiet > /dev/null; t1=$(date +%s.%N)
  ols_w=$(nmin "$ols_w" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
  t=$($TPE pca "$NDATA/X.npy" --json --quiet | jsec); pca_t=$(nmin "$pca_t" "$t")
  t=$($TPE pca "$NDATA/X.npy" --k 20 --json --quiet | jsec); pca20_t=$(nmin "$pca20_t" "$t")
  if [ -n "$LA" ]; then
    t=$($LA dgels "$NDATA/X.npy" "$NDATA/y.npy"); dgels_t=$(nmin "$dgels_t" "$t")
    t=$($LA pca "$NDATA/X.npy" | cut -d' ' -f1); ref_t=$(nmin "$ref_t" "$t")
  fi
  r=$((r + 1))
done
ratio() { [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }' || echo "-"; }
echo
echo "Least squares and PCA of a ${NM}x${ND} double matrix, one thread, seconds (best of $ROUNDS alternating rounds)"
echo
printf "| %-52s | %8s | %-26s | %8s | %5s | %-7s |\n" "tpe" "s" "reference" "s" "ratio" "target"
printf "|%s|%s|%s|%s|%s|%s|\n" "------------------------------------------------------" "----------" \
  "----------------------------" "----------" "-------" "---------"
printf "| %-52s | %8.3f | %-26s | %8s | %5s | %-7s |\n" "bench lstsq: QR + Q^T y + solve, ${NM}x$((ND + 1))" "$ls_t" \
  "LAPACKE_dgels" "${dgels_t:--}" "$(ratio "$ls_t" "$dgels_t")" "<= 1"
printf "| %-52s | %8.3f | %-26s | %8s | %5s | %-7s |\n" "tpe ols, whole command (read, fit, statistics)" "$ols_w" \
  "LAPACKE_dgels" "${dgels_t:--}" "$(ratio "$ols_w" "$dgels_t")" "<= 1.5"
printf "| %-52s | %8.3f | %-26s | %8s | %5s | %-7s |\n" "tpe pca, all $ND components" "$pca_t" \
  "dsyrk + LAPACKE_dsyevd" "${ref_t:--}" "$(ratio "$pca_t" "$ref_t")" "<= 2"
printf "| %-52s | %8.3f | %-26s | %8.3f | %5s | %-7s |\n" "tpe pca --k 20" "$pca20_t" \
  "tpe pca, all components" "$pca_t" "$(ratio "$pca20_t" "$pca_t")" "< 1"
