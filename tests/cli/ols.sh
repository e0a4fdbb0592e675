# tests/cli/ols.sh -- `tpe ols`: the SPEC keys, values against statsmodels
# (golden/numerics/cli_expect.json), the precisions, and errors.

G=golden/numerics
EXP=$G/cli_expect.json
# gold PATH: the first number after the key path given as a sed prefix
gold() { sed -n "s/.*$1\([-0-9.e+]*\).*/\1/p" "$EXP" | head -n 1; }
# rel_ok A B TOL: |A - B| <= TOL |B|
rel_ok() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(a != "" && d <= t * m) }'; }
first_of() { sed -n "s/.*\"$1\": \[\([-0-9.e+]*\).*/\1/p" "$2" | head -n 1; }

run "ols --json" 0 $T ols $G/ols_cli_X.npy $G/ols_cli_y.npy --json
check "ols --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
for k in n k intercept rank coef se t p r2 adj_r2 sigma df_resid; do
  check "ols --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "ols n = 40" test "$(json_field n "$TMP/out")" = 40
check "ols k = 2" test "$(json_field k "$TMP/out")" = 2
check "ols intercept true" test "$(json_field intercept "$TMP/out")" = true
check "ols rank 3" test "$(json_field rank "$TMP/out")" = 3
check "ols df_resid = statsmodels" test "$(json_field df_resid "$TMP/out")" = "$(gold '"df_resid":')"
check "ols r2 = statsmodels (1e-12)" rel_ok "$(json_field r2 "$TMP/out")" "$(gold '"ols":{"coef":\[[^]]*\],"se":\[[^]]*\],"r2":')" 1e-12
check "ols sigma = statsmodels (1e-12)" rel_ok "$(json_field sigma "$TMP/out")" "$(gold '"sigma":')" 1e-12
check "ols intercept coef = statsmodels (1e-12)" rel_ok "$(first_of coef "$TMP/out")" "$(gold '"ols":{"coef":\[')" 1e-12
check "ols intercept se = statsmodels (1e-12)" rel_ok "$(first_of se "$TMP/out")" "$(gold '"ols":{"coef":\[[^]]*\],"se":\[')" 1e-12

run "ols --no-intercept" 0 $T ols $G/ols_cli_X.npy $G/ols_cli_y.npy --no-intercept --json
check "ols --no-intercept uncentred r2 = statsmodels" rel_ok "$(json_field r2 "$TMP/out")" "$(gold '"ols_no_intercept":{"coef":\[[^]]*\],"r2":')" 1e-12
check "ols --no-intercept intercept false" test "$(json_field intercept "$TMP/out")" = false

run "ols --precision dd" 0 $T ols $G/ols_cli_X.npy $G/ols_cli_y.npy --precision dd --json
check "ols dd r2 = statsmodels" rel_ok "$(json_field r2 "$TMP/out")" "$(gold '"ols":{"coef":\[[^]]*\],"se":\[[^]]*\],"r2":')" 1e-12
run "ols --precision refine" 0 $T ols $G/ols_cli_X.npy $G/ols_cli_y.npy --precision refine --json
run "ols human output" 0 $T ols $G/ols_cli_X.npy $G/ols_cli_y.npy
check "ols human output has R^2" grep -q "R^2 = 0.97711895879846" "$TMP/out"

expect_err "ols bad precision is a usage error" 2 "f64, dd or refine" $T ols $G/ols_cli_X.npy $G/ols_cli_y.npy --precision f32
expect_err "ols needs two files" 2 "expected X.npy y.npy" $T ols $G/ols_cli_X.npy
expect_err "ols missing file" 1 "nope.npy" $T ols $TMP/nope.npy $G/ols_cli_y.npy
expect_err "ols y must be a vector" 1 "y must be \\(n,\\) or \\(n, 1\\)" $T ols $G/ols_cli_X.npy $G/pca_cli_X.npy
expect_err "ols rank tolerance range" 2 "rank-tol" $T ols $G/ols_cli_X.npy $G/ols_cli_y.npy --rank-tol 3

# a (4, 1) float64 array [1, NaN, 2, 3] written by hand (npy 1.0, 128-byte header)
npy_nan() {
  hdr="{'descr': '<f8', 'fortran_order': False, 'shape': (4, 1), }"
  while [ ${#hdr} -lt 117 ]; do hdr="$hdr "; done
  { printf '\223NUMPY\001\000\166\000'; printf '%s\n' "$hdr";
    printf '\000\000\000\000\000\000\360\077\000\000\000\000\000\000\370\177';
    printf '\000\000\000\000\000\000\000\100\000\000\000\000\000\000\010\100'; } > "$1"
}
npy_nan "$TMP/nan.npy"
expect_err "ols rejects NaN with its index" 1 "nan.npy: X: element 1 is NaN" $T ols "$TMP/nan.npy" "$TMP/nan.npy"
expect_err "ols row mismatch" 1 "40 rows but .* has 4" $T ols $G/ols_cli_X.npy "$TMP/nan.npy"
