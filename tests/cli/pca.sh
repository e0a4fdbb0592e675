# tests/cli/pca.sh -- `tpe pca`: the SPEC keys and files, values against
# scikit-learn (golden/numerics/cli_expect.json), and errors.

G=golden/numerics
EXP=$G/cli_expect.json
pgold() { sed -n "s/.*$1\([-0-9.e+]*\).*/\1/p" "$EXP" | head -n 1; }
prel_ok() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(a != "" && d <= t * m) }'; }

run "pca --json" 0 $T pca $G/pca_cli_X.npy --json
check "pca --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
for k in n d k explained_variance explained_variance_ratio iterations; do
  check "pca --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "pca n d k" test "$(json_field n "$TMP/out") $(json_field d "$TMP/out") $(json_field k "$TMP/out")" = "60 4 4"
ev=$(sed -n 's/.*"explained_variance": \[\([-0-9.e+]*\).*/\1/p' "$TMP/out")
check "pca first eigenvalue = sklearn (1e-12)" prel_ok "$ev" "$(pgold '"explained_variance":\[')" 1e-12
evr=$(sed -n 's/.*"explained_variance_ratio": \[\([-0-9.e+]*\).*/\1/p' "$TMP/out")
check "pca first ratio = sklearn (1e-12)" prel_ok "$evr" "$(pgold '"explained_variance_ratio":\[')" 1e-12

rm -rf "$TMP/pcaout"
run "pca --k 2 --out" 0 $T pca $G/pca_cli_X.npy --k 2 --out "$TMP/pcaout" --json
check "pca --k 2 keeps 2" test "$(json_field k "$TMP/out")" = 2
check "pca wrote components.npy" test -f "$TMP/pcaout/components.npy"
check "pca wrote scores.npy" test -f "$TMP/pcaout/scores.npy"
# 128-byte header + data: components 2 x 4, scores 60 x 2 doubles
check "components.npy is 2 x 4 f64" test "$(wc -c < "$TMP/pcaout/components.npy")" -eq $((128 + 2 * 4 * 8))
check "scores.npy is 60 x 2 f64" test "$(wc -c < "$TMP/pcaout/scores.npy")" -eq $((128 + 60 * 2 * 8))
check "components.npy header shape" grep -q "'shape': (2, 4)" "$TMP/pcaout/components.npy"
check "no temporary directory left" test -z "$(ls -d "$TMP"/pcaout.tmp.* 2>/dev/null)"
run "pca --out into an existing directory" 0 $T pca $G/pca_cli_X.npy --k 1 --out "$TMP/pcaout"
check "components.npy rewritten" grep -q "'shape': (1, 4)" "$TMP/pcaout/components.npy"
run "pca --var 0.9" 0 $T pca $G/pca_cli_X.npy --var 0.9 --json
run "pca human output" 0 $T pca $G/pca_cli_X.npy
check "pca human output lists pc 1" grep -q "^ *1 " "$TMP/out"

expect_err "pca --k beyond d is a usage error" 2 "exceeds" $T pca $G/pca_cli_X.npy --k 9
expect_err "pca needs a 2-D array" 1 "must be \\(n, d\\)" $T pca $G/ols_cli_y.npy
expect_err "pca missing file" 1 "nope.npy" $T pca $TMP/nope.npy
expect_err "pca --out under a missing directory" 1 "no/such" $T pca $G/pca_cli_X.npy --out "$TMP/no/such/dir"
check "pca left nothing under the missing directory" test ! -e "$TMP/no"
expect_err "pca --max-iter 1 does not converge" 1 "no convergence after 1 iteration" $T pca $G/pca_cli_X.npy --k 1 --method subspace --block 2 --max-iter 1
run "pca --method subspace" 0 $T pca $G/pca_cli_X.npy --k 2 --method subspace --block 3 --json
ev2=$(sed -n 's/.*"explained_variance": \[\([-0-9.e+]*\).*/\1/p' "$TMP/out")
check "pca subspace first eigenvalue = sklearn (1e-10)" prel_ok "$ev2" "$(pgold '"explained_variance":\[')" 1e-10
check "pca subspace method reported" grep -q '"method": "subspace"' "$TMP/out"
expect_err "pca bad --method" 2 "auto, dense or subspace" $T pca $G/pca_cli_X.npy --method lanczos
