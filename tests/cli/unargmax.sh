# tests/cli/unargmax.sh -- `tpe unargmax`: the SPEC's JSON keys, the issue's
# 2-D example, an LP golden with bias, identical rows, outputs, and errors.
# Inputs are in golden/unargmax (tools/gen_unargmax_goldens.py).

G=golden/unargmax
# ids_of KEY FILE: the integers of the array "KEY": [...] as "1 2 3"
ids_of() { sed -n "s/.*\"$1\": \[\([^]]*\)\].*/\1/p" "$2" | tr -d ','; }

run "unargmax --exact --json (2-D example)" 0 $T unargmax --w $G/cli_example_W.npy --exact --json
check "unargmax --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
for k in vocab dim bias exact unargmaxable unresolved seconds failures rank; do
  check "unargmax --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "2-D example: only token 3 is unargmaxable" test "$(ids_of unargmaxable "$TMP/out")" = "3"
check "2-D example: the fast pass leaves token 3" test "$(ids_of unresolved "$TMP/out")" = "3"
check "2-D example: vocab 4, dim 2, no bias, exact" test "$(json_field vocab "$TMP/out") $(json_field dim "$TMP/out") $(json_field bias "$TMP/out") $(json_field exact "$TMP/out")" = "4 2 false true"
check "2-D example: no failures" test -z "$(ids_of failures "$TMP/out")"
check "unargmax seconds >= 0" num_cmp "$(json_field seconds "$TMP/out")" ">=" 0

run "unargmax without --exact" 0 $T unargmax --w $G/cli_example_W.npy --json
check "without --exact: exact is false" test "$(json_field exact "$TMP/out")" = false
check "without --exact: the candidates are listed" test "$(ids_of unargmaxable "$TMP/out")" = "3"

run "unargmax on float32 input" 0 $T unargmax --w $G/cli_example_W32.npy --exact --json
check "float32 input: only token 3" test "$(ids_of unargmaxable "$TMP/out")" = "3"
run "unargmax --no-fast (LP for every token)" 0 $T unargmax --w $G/cli_example_W.npy --no-fast --json
check "--no-fast: only token 3" test "$(ids_of unargmaxable "$TMP/out")" = "3"
check "--no-fast: every token unresolved by the fast pass" test "$(ids_of unresolved "$TMP/out")" = "0 1 2 3"

run "unargmax human output" 0 $T unargmax --w $G/cli_example_W.npy --exact
check "human output names the certified set" grep -q "unargmaxable (certified) (1): 3" "$TMP/out"

rm -f "$TMP/wit.npy" "$TMP/cert.json"
run "unargmax --witnesses --certificates" 0 $T unargmax --w $G/cli_example_W.npy --exact --witnesses "$TMP/wit.npy" --certificates "$TMP/cert.json" --json
check "witnesses written as (4, 2) f8" grep -q "'descr': '<f8', 'fortran_order': False, 'shape': (4, 2)" "$TMP/wit.npy"
check "certificates written" grep -q '"token": 3, "kind": "farkas", "rows": \[' "$TMP/cert.json"
check "no temporary files left" test -z "$(ls "$TMP" | grep '\.tmp\.')"

for c in bias_v20_d3 bias_v50_d6; do
  run "LP golden $c (bias)" 0 $T unargmax --w $G/${c}_W.npy --b $G/${c}_b.npy --exact --json
  check "LP golden $c: same unargmaxable set as HiGHS" test "$(ids_of unargmaxable "$TMP/out")" = "$(cat $G/${c}_unargmaxable.txt)"
  check "LP golden $c: bias is true" test "$(json_field bias "$TMP/out")" = true
done

run "identical rows without bias" 0 $T unargmax --w $G/cli_dup_W.npy --exact --json
check "identical rows tie: tokens 0 and 1" test "$(ids_of unargmaxable "$TMP/out")" = "0 1"
check "identical rows reported" grep -q '"duplicates": {"groups": 1, "tokens": 2}' "$TMP/out"
run "identical rows with bias" 0 $T unargmax --w $G/cli_dup_W.npy --b $G/cli_dup_b.npy --exact --json --certificates "$TMP/cert.json"
check "the smaller bias loses: token 1" test "$(ids_of unargmaxable "$TMP/out")" = "1"
check "its certificate names the duplicate" grep -q '"token": 1, "kind": "duplicate", "of": 0' "$TMP/cert.json"

expect_err "NaN in W is an error" 1 'W\[1, 0\] is NaN' $T unargmax --w $G/cli_nan_W.npy
expect_err "3-D W is an error" 1 "2-D" $T unargmax --w $G/cli_3d_W.npy
expect_err "a bias of the wrong length" 1 "shape \(4,\)" $T unargmax --w $G/cli_example_W.npy --b $G/cli_short_b.npy
expect_err "a missing file" 1 "cannot open" $T unargmax --w $G/no_such_file.npy
expect_err "a directory that is not a model" 1 "config.json" $T unargmax $G
expect_err "MODEL and --w together" 2 "not both" $T unargmax $G --w $G/cli_example_W.npy
expect_err "no input" 2 "expected MODEL or --w" $T unargmax
expect_err "--b without --w" 2 "goes with --w" $T unargmax $G --b $G/cli_dup_b.npy
expect_err "a negative box" 2 "box" $T unargmax --w $G/cli_example_W.npy --box -1
expect_err "a bad patience" 2 "non-negative integer" $T unargmax --w $G/cli_example_W.npy --patience x

# model directories: the head as the model loader finds it
run "unargmax MODEL (gpt2: tied wte.weight)" 0 $T unargmax $G/model_gpt2 --exact --json
check "gpt2 model: only token 3, no bias" test "$(ids_of unargmaxable "$TMP/out") $(json_field bias "$TMP/out")" = "3 false"
run "unargmax MODEL (gptj: lm_head.weight and lm_head.bias)" 0 $T unargmax $G/model_gptj --exact --json
check "gptj model: the bias lifts token 3" test "x$(ids_of unargmaxable "$TMP/out") $(json_field bias "$TMP/out")" = "x true"
run "unargmax MODEL (gpt_neox: embed_out.weight, F16)" 0 $T unargmax $G/model_neox --exact --json
check "neox model: only token 3" test "$(ids_of unargmaxable "$TMP/out")" = "3"
