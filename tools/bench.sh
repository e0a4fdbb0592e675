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
