# tests/cli/core.sh -- the front end itself: help, errors, tpe cpu, bench gemm.

run "help lists commands" 0 $T help
check "help mentions cpu" grep -q "cpu" "$TMP/out"
expect_err "no command is a usage error" 2 "no command given" $T
expect_err "unknown command" 2 "unknown command 'frobnicate'" $T frobnicate
expect_err "unknown subcommand" 2 "unknown subcommand" $T bench nothing

# every command listed by `tpe help` answers --help with status 0
$T help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\?\)  .*/\1/p' | sed 's/ *$//' > "$TMP/commands"
while read -r c; do
  run "$c --help" 0 $T $c --help
done < "$TMP/commands"

run "cpu --json" 0 $T cpu --json
check "cpu --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
arch=$(json_field arch "$TMP/out" | tr -d '"')
simd=$(json_field simd "$TMP/out" | tr -d '"')
check "cpu --json has features" grep -q '"features": \[' "$TMP/out"
check "cpu --json has arch" test -n "$arch"
case "$arch" in
  x86_64) if grep -q '"avx2", "fma"' "$TMP/out" && grep -q '"os_ymm"' "$TMP/out"; then
            check "auto picks avx2 on an AVX2+FMA x86-64" test "$simd" = avx2
          else
            check "auto picks scalar without AVX2" test "$simd" = scalar
          fi ;;
  aarch64) check "auto picks neon on aarch64" test "$simd" = neon ;;
  *) check "auto picks scalar on $arch" test "$simd" = scalar ;;
esac
TPE_SIMD=scalar $T cpu --json > "$TMP/out2"
check "TPE_SIMD=scalar is honoured" test "$(json_field simd "$TMP/out2")" = '"scalar"'
expect_err "TPE_SIMD=bogus is an error" 2 "unknown path" env TPE_SIMD=bogus $T cpu
if [ "$arch" != aarch64 ]; then
  expect_err "TPE_SIMD=neon off aarch64 is an error" 2 "neon" env TPE_SIMD=neon $T cpu
fi
if [ "$arch" != x86_64 ]; then
  expect_err "TPE_SIMD=avx2 off x86-64 is an error" 2 "avx2" env TPE_SIMD=avx2 $T cpu
fi

run "bench gemm --json" 0 $T bench gemm 33 17 9 --json --reps 1 --min-time 0.01
for k in m n k dtype simd gflops; do
  check "bench gemm --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "bench gemm gflops > 0" num_cmp "$(json_field gflops "$TMP/out")" ">" 0
run "bench gemm f64" 0 $T bench gemm 8 8 8 --dtype f64 --reps 1 --min-time 0.01
expect_err "bench gemm rejects a zero size" 2 "positive" $T bench gemm 0 8 8
expect_err "bench gemm rejects a bad dtype" 2 "f32 or f64" $T bench gemm 8 8 8 --dtype f16
expect_err "bench gemm rejects an unknown option" 2 "unknown option --fast" $T bench gemm 8 8 8 --fast
expect_err "bench gemm wants three sizes" 2 "expected M N K" $T bench gemm 8 8
run "bench gemm --trans-a --trans-b" 0 $T bench gemm 9 7 5 --trans-a --trans-b --reps 1 --min-time 0.01 --json
check "bench gemm reports the transposes" grep -q '"trans_a": true, "trans_b": true' "$TMP/out"
