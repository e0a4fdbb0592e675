# tests/cli/dynamics.sh -- `tpe dynamics` (Fig. 7) on the demo's GPT-NeoX
# checkpoints: the adjusted R^2 against what Python (statsmodels) measured
# from the same counts and weights (golden/demo/check/check.json), the
# convergence rate 0 at theta_0 and 1 at theta*, sorting by step, errors.

D=golden/demo
CK=$D/neox-checkpoints
if [ ! -d "$CK/step0" ] || [ ! -f "$D/check/check.json" ]; then
  skip "dynamics" "golden/demo is missing"
else
Y=$TMP/dyn
rm -rf "$Y"; mkdir -p "$Y"
run "dynamics --help" 0 $T dynamics --help
# shell glob order (step0 step1 step1024 step128 ...): sorted by step inside
run "dynamics on the demo checkpoints" 0 $T dynamics --freq $D/check/counts-train.npy $CK/step* --final $D/neox --svg $Y/fig7.svg --json
cp "$TMP/out" $Y/d.json
check "dynamics --json is one line" test "$(wc -l < $Y/d.json)" -eq 1
check "dynamics: sorted by step" sh -c "test \"\$(grep -o '\"step\": [0-9]*' $Y/d.json | awk '{ printf \"%s \", \$2 }')\" = '0 1 2 4 8 16 32 64 128 256 512 1024 2000 '"
# check.json's "train" values (statsmodels OLS, same counts, same F16 weights);
# both sides solve the same least squares in double: agreement to ~1e-14
# (measured 3e-15), so 1e-10 leaves room for other BLAS/libm roundings
grep -A3 '"step": ' $D/check/check.json | sed -n 's/.*"train": \([-0-9.e]*\).*/\1/p' > $Y/want
grep -o '"adj_r2": [-0-9.e]*' $Y/d.json | awk '{ print $2 }' > $Y/got
check "dynamics: 13 checkpoints" test "$(wc -l < $Y/got)" -eq 13
check "dynamics: adjusted R^2 = Python's statsmodels (1e-10)" \
  sh -c "paste $Y/got $Y/want | awk '{ d = \$1 - \$2; if (d < 0) d = -d; if (d > 1e-10 || NF != 2) bad = 1 } END { exit bad || NR != 13 }'"
check "dynamics: step 256 adj. R^2 = 0.9613 (4 digits)" num_cmp "$(sed -n 10p $Y/got | awk '{ printf "%.4f", $1 }')" == 0.9613
check "dynamics: convergence 0 at theta_0" grep -q '"step": 0, "adj_r2": [-0-9.e]*, "r2": [-0-9.e]*, "convergence": \[0, 0, 0, 0, 0, 0\]' $Y/d.json
check "dynamics: Fig. 7 written" grep -q "Fig. 7" $Y/fig7.svg
run "dynamics with theta* the last checkpoint" 0 $T dynamics --freq $D/check/counts-train.npy $CK/step0 $CK/step256 $CK/step2000 --json
check "dynamics: convergence 1 at theta*" grep -q '"step": 2000, "adj_r2": [-0-9.e]*, "r2": [-0-9.e]*, "convergence": \[1, 1, 1, 1, 1, 1\]' "$TMP/out"
run "dynamics human output" 0 $T dynamics --freq $D/check/counts-count.npy $CK/step0 $CK/step2000
check "dynamics human output has the table" grep -q "output_embedding" "$TMP/out"

expect_err "dynamics needs --freq" 2 "freq" $T dynamics $CK/step0
expect_err "dynamics needs checkpoints" 2 "CKPT_DIR" $T dynamics --freq $D/check/counts-train.npy
expect_err "dynamics counts of another vocabulary" 1 "counts" $T dynamics --freq golden/numerics/ols_cli_y.npy $CK/step0
expect_err "dynamics a gpt2 among neox checkpoints" 1 "gpt2" $T dynamics --freq $D/check/counts-train.npy $CK/step0 $D/gpt2 $CK/step2000
expect_err "dynamics two checkpoints of one step" 1 "both step 0" $T dynamics --freq $D/check/counts-train.npy $CK/step0 $CK/step0
expect_err "dynamics missing directory" 1 "nope" $T dynamics --freq $D/check/counts-train.npy $CK/step0 $Y/nope1
fi
