# tests/cli/paper1.sh -- the paper's Sections 2-3: `tpe encoding` (Eq. 2,
# Table 1) against statsmodels (golden/encoding, tools/gen_encoding_goldens.py),
# `tpe sparsity` (Figs. 1-3), `tpe steer` (Algorithm 1) and `tpe steer-eval`
# (Tables 2-3, Figs. 4-5), with their bad inputs.

GE=golden/encoding
DM=golden/demo
J=golden/models/gptj-rot6-noprefix
G2=golden/models/gpt2-h3-noprefix
P1=$TMP/paper1
rm -rf "$P1"
mkdir -p "$P1"

# gold FILE KEY: the first number after "KEY": in a golden JSON
gold() { sed -n "s/^ *\"$2\": \([-0-9.e+]*\).*/\1/p" "$1" | head -n 1; }
rel_ok() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(a != "" && b != "" && d <= t * m) }'; }
abs_le() { awk -v a="$1" -v t="$2" 'BEGIN { if (a < 0) a = -a; exit !(a != "" && a <= t) }'; }
# npy_f8 FILE N [NaN]: a (N,) <f8 array of zeros (the first entry NaN with a third argument)
npy_f8() {
  hdr="{'descr': '<f8', 'fortran_order': False, 'shape': ($2,), }"
  while [ ${#hdr} -lt 117 ]; do hdr="$hdr "; done
  { printf '\223NUMPY\001\000\166\000'; printf '%s\n' "$hdr"
    if [ -n "${3:-}" ]; then printf '\000\000\000\000\000\000\370\177'; head -c $((8 * ($2 - 1))) /dev/zero
    else head -c $((8 * $2)) /dev/zero; fi; } > "$1"
}

# ---- encoding --------------------------------------------------------------------
run "encoding neox --json" 0 $T encoding $DM/neox --alpha $DM/check/alpha-neox.npy --json
check "encoding --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
for k in n k r2 adj_r2 random_adj_r2 intercept; do
  check "encoding --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "encoding n = 2048" test "$(json_field n "$TMP/out")" = 2048
check "encoding k = 64" test "$(json_field k "$TMP/out")" = 64
check "encoding neox r2 = statsmodels (1e-12)" rel_ok "$(json_field r2 "$TMP/out")" "$(gold $GE/neox.json r2)" 1e-12
check "encoding neox adj_r2 = statsmodels (1e-12)" rel_ok "$(json_field adj_r2 "$TMP/out")" "$(gold $GE/neox.json adj_r2)" 1e-12
check "encoding neox intercept = statsmodels (1e-9)" rel_ok "$(json_field intercept "$TMP/out")" "$(gold $GE/neox.json intercept)" 1e-9
check "encoding neox adj_r2 = the demo's Python check (0.907)" rel_ok "$(json_field adj_r2 "$TMP/out")" 0.9073104622854729 1e-12
check "encoding random baseline near 0" abs_le "$(json_field random_adj_r2 "$TMP/out")" 0.02
run "encoding neox --embedding input" 0 $T encoding $DM/neox --alpha $DM/check/alpha-neox.npy --embedding input --json
check "encoding input adj_r2 = statsmodels (1e-12)" rel_ok "$(json_field adj_r2 "$TMP/out")" "$(gold $GE/neox.json input_adj_r2)" 1e-12
check "encoding --embedding input says so" grep -q '"embedding": "input"' "$TMP/out"
run "encoding gpt2 (tied)" 0 $T encoding $DM/gpt2 --alpha $DM/check/alpha-gpt2.npy --json
check "encoding gpt2 adj_r2 = statsmodels (0.948)" rel_ok "$(json_field adj_r2 "$TMP/out")" "$(gold $GE/gpt2.json adj_r2)" 1e-12
run "encoding gptj (head bias) --out" 0 $T encoding $J --alpha $GE/alpha-gptj.npy --out "$P1/enc" --json
check "encoding gptj r2 = statsmodels" rel_ok "$(json_field r2 "$TMP/out")" "$(gold $GE/gptj.json r2)" 1e-12
check "encoding gptj bias slope = statsmodels (1e-9)" rel_ok "$(json_field bias_slope "$TMP/out")" "$(gold $GE/gptj.json bias_slope)" 1e-9
check "encoding gptj reports the theory's -1" grep -q '"bias_slope_theory": -1' "$TMP/out"
for f in slope se p; do
  # (24,) <f8: a 128-byte header and 24 doubles
  check "encoding --out wrote $f.npy" test "$(wc -c < "$P1/enc/$f.npy")" -eq 320
done
run "encoding --no-bias" 0 $T encoding $J --alpha $GE/alpha-gptj.npy --no-bias --json
check "encoding --no-bias r2 = statsmodels without the column" rel_ok "$(json_field r2 "$TMP/out")" "$(gold $GE/gptj.json no_bias_r2)" 1e-12
run "encoding human output" 0 $T encoding $J --alpha $GE/alpha-gptj.npy
check "encoding prints Table 1" grep -q "Table 1" "$TMP/out"
check "encoding prints the bias slope beside the theory" grep -q "theory -1" "$TMP/out"
npy_f8 "$P1/zeros90.npy" 90
npy_f8 "$P1/nan90.npy" 90 nan
expect_err "encoding: alpha of the wrong length" 1 "has 90 entries but the model's vocabulary has 2048" \
  $T encoding $DM/neox --alpha $GE/alpha-gptj.npy
expect_err "encoding: a NaN in alpha" 1 "nan90.npy: element 0 is NaN" $T encoding $J --alpha "$P1/nan90.npy"
expect_err "encoding: a zero alpha" 1 "alpha\\[0\\] = 0" $T encoding $J --alpha "$P1/zeros90.npy"
expect_err "encoding: alpha must be a vector" 1 "must be a vector" $T encoding $J --alpha golden/numerics/pca_cli_X.npy
expect_err "encoding: a missing alpha file" 1 "nope.npy" $T encoding $J --alpha "$P1/nope.npy"
expect_err "encoding: a missing model" 1 "nomodel" $T encoding "$P1/nomodel" --alpha $GE/alpha-gptj.npy
expect_err "encoding needs --alpha" 2 "[-][-]alpha is required" $T encoding $J
expect_err "encoding: a bad --embedding" 2 "output or input" $T encoding $J --alpha $GE/alpha-gptj.npy --embedding both

# ---- sparsity ---------------------------------------------------------------------
run "sparsity --out --json" 0 $T sparsity $J --alpha $GE/alpha-gptj.npy --out "$P1/sp" --json
for k in explained_variance_ratio pc_spearman best_pc dim_slope dim_spearman top10pct_slope_share; do
  check "sparsity --json has $k" grep -q "\"$k\":" "$TMP/out"
done
for f in fig1.svg fig2.svg fig3.svg explained_variance_ratio.npy pc_spearman.npy pc_scores.npy dim_slope.npy dim_spearman.npy \
  neg_log_alpha.npy fitted.npy alpha_percentile.npy sparsity.json; do
  check "sparsity wrote $f" test -s "$P1/sp/$f"
done
check "sparsity: fig2.svg is an SVG with both panels" grep -q "(b) dimensions" "$P1/sp/fig2.svg"
check "sparsity: sparsity.json is the --json object" cmp -s "$TMP/out" "$P1/sp/sparsity.json"
run "sparsity human output" 0 $T sparsity $DM/neox --alpha $DM/check/alpha-neox.npy --k 8
check "sparsity prints the principal components" grep -q "most correlated: PC" "$TMP/out"
expect_err "sparsity: --k beyond d" 1 "[-][-]k 25 exceeds the 24 dimensions" $T sparsity $J --alpha $GE/alpha-gptj.npy --k 25
expect_err "sparsity needs --alpha" 2 "[-][-]alpha is required" $T sparsity $J
expect_err "sparsity: alpha of the wrong length" 1 "has 90 entries" $T sparsity $DM/neox --alpha $GE/alpha-gptj.npy
expect_err "sparsity refuses a file as --out" 1 "exists and is a file" $T sparsity $J --alpha $GE/alpha-gptj.npy --out "$P1/zeros90.npy"

# ---- steer ------------------------------------------------------------------------
run "steer gptj --json" 0 $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 3 --out-model "$P1/st-j" --json
for k in token scale b significance edited alpha_w predicted_alpha_w identity_error omega_top out_model; do
  check "steer --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "steer: A . delta = -log r (1e-12)" abs_le "$(json_field identity_error "$TMP/out")" 1e-12
check "steer edits the head of an untied model" grep -q '"edited": "head"' "$TMP/out"
run "steer: the model loads (logits)" 0 $T logits "$P1/st-j" --ids "1 2 5 7" --out "$P1/l1.npy"
run "steer: logits of the original" 0 $T logits $J --ids "1 2 5 7" --out "$P1/l0.npy"
$T compare "$P1/l1.npy" "$P1/l0.npy" --json > "$TMP/out" 2>&1
check "steer: the logits differ, worst in column 5" grep -q '"worst_index": "\[[0-9]*, 5\]"' "$TMP/out"
# alpha for the tied model from probe
printf '1 2 3 4 5 6 7 8 9 10\n11 12 13 14 15 16\n' > "$P1/g2.ids"
run "probe the tied model" 0 $T probe $G2 "$P1/g2.ids" --ids-file --out "$P1/a97.npy"
run "steer gpt2 (tied): the shared matrix" 0 $T steer $G2 --alpha "$P1/a97.npy" --token 3 --scale 0.5 --out-model "$P1/st-g2" --json
check "steer: tied model edited as shared" grep -q '"edited": "shared"' "$TMP/out"
check "steer: the tied model stays tied" grep -q '"tie_word_embeddings": true' "$P1/st-g2/config.json"
run "steer gpt2 --untie" 0 $T steer $G2 --alpha "$P1/a97.npy" --token 3 --scale 0.5 --untie --out-model "$P1/st-g3" --json
check "steer --untie edits only the head" grep -q '"edited": "head"' "$TMP/out"
check "steer --untie writes an untied model" grep -q '"tie_word_embeddings": false' "$P1/st-g3/config.json"
for b in inf -inf 0 -1.5; do
  run "steer --b $b" 0 $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 3 --b=$b --out-model "$P1/st-b$b" --json
  check "steer --b $b keeps the identity" abs_le "$(json_field identity_error "$TMP/out")" 1e-12
done
for s in one-minus-p neg-log-p p none; do
  run "steer --significance $s" 0 $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 3 --significance $s \
    --out-model "$P1/st-s$s" --json
done
expect_err "steer: token out of range" 1 "[-][-]token 90 is outside the vocabulary \\[0, 90\\)" \
  $T steer $J --alpha $GE/alpha-gptj.npy --token 90 --scale 2 --out-model "$P1/st-x"
check "steer leaves no model after a failure" test ! -e "$P1/st-x"
expect_err "steer: scale 0" 2 "positive and finite" $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 0 --out-model "$P1/st-x"
expect_err "steer: negative scale" 2 "positive and finite" $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale -2 --out-model "$P1/st-x"
expect_err "steer: NaN scale" 2 "wants a number" $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale nan --out-model "$P1/st-x"
expect_err "steer: NaN b" 2 "wants a number" $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 2 --b nan --out-model "$P1/st-x"
expect_err "steer: unknown significance" 2 "one-minus-p, neg-log-p, p or none" \
  $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 2 --significance pvalue --out-model "$P1/st-x"
expect_err "steer needs --token" 2 "[-][-]token is required" $T steer $J --alpha $GE/alpha-gptj.npy --scale 2 --out-model "$P1/st-x"
expect_err "steer needs --out-model" 2 "[-][-]out-model is required" $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 2
expect_err "steer refuses an existing model directory" 1 "not empty" \
  $T steer $J --alpha $GE/alpha-gptj.npy --token 5 --scale 2 --out-model "$P1/st-j"
expect_err "steer: NaN alpha" 1 "element 0 is NaN" $T steer $J --alpha "$P1/nan90.npy" --token 5 --scale 2 --out-model "$P1/st-x"
expect_err "steer: zero alpha" 1 "alpha\\[0\\] = 0" $T steer $J --alpha "$P1/zeros90.npy" --token 5 --scale 2 --out-model "$P1/st-x"

# ---- steer-eval -------------------------------------------------------------------
CO=$DM/corpus
NS=16; [ -n "${TPE_TEST_QUICK:-}" ] && NS=6
for s in detect test-id test-ood; do head -n $NS $CO/$s.ids > "$P1/$s.ids"; done
SE="--detect $P1/detect.ids --test-id $P1/test-id.ids --test-ood $P1/test-ood.ids --ids-file"
run "steer-eval neox --json" 0 $T steer-eval $DM/neox $SE --max-samples 12 --tokens 2 --scales 1,2 --sizes 1,4 --json
for k in mode evaluation sets tokens scales variants table2 table3 fig4 edits alpha_w rerun_tokens; do
  check "steer-eval --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "steer-eval --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
check "steer-eval: untied model evaluated from the cache" grep -q '"mode": "cached"' "$TMP/out"
check "steer-eval: 3 methods x 2 tokens x 4 scales = 24 edits" test "$(grep -o '"r_hat":' "$TMP/out" | wc -l)" -eq 24
check "steer-eval: scale 1 gives r_hat = 1" grep -q '"scale": 1, "r_hat": \[1, 1, 1\]' "$TMP/out"
check "steer-eval: the unedited baseline is in Table 2" grep -q '"method": "unedited"' "$TMP/out"
run "steer-eval --out" 0 $T steer-eval $DM/neox $SE --tokens 2 --scales 2 --no-sweep --out "$P1/se"
for f in fig5.svg steer-eval.json; do check "steer-eval wrote $f" test -s "$P1/se/$f"; done
check "steer-eval prints Table 2 and says how it evaluated" grep -q "evaluation: cached" "$TMP/out"
# hidden states from probe --save-hidden give the same numbers as the data files
for s in detect test-id test-ood; do
  $T probe $DM/neox "$P1/$s.ids" --ids-file --out "$P1/a-$s.npy" --save-hidden "$P1/h-$s.npy" > /dev/null 2>&1
done
run "steer-eval from data" 0 $T steer-eval $DM/neox $SE --token-ids 258 --scales 5 --no-sweep --no-baselines --json
sed -n 's/.*"edits": \[\(.*\)\], "edits_evaluated.*/\1/p' "$TMP/out" > "$P1/e-data"
run "steer-eval from probe --save-hidden files" 0 $T steer-eval $DM/neox --detect "$P1/h-detect.npy" --test-id "$P1/h-test-id.npy" \
  --test-ood "$P1/h-test-ood.npy" --token-ids 258 --scales 5 --no-sweep --no-baselines --json
sed -n 's/.*"edits": \[\(.*\)\], "edits_evaluated.*/\1/p' "$TMP/out" > "$P1/e-npy"
check "steer-eval: hidden-state files give the same r_hat and d_KL^r" cmp -s "$P1/e-data" "$P1/e-npy"
# the tied model: windows holding the token are re-run, exactly as a full re-run
run "steer-eval gpt2 (tied) auto" 0 $T steer-eval $DM/gpt2 $SE --token-ids 258 --scales 5 --no-sweep --no-baselines --json
check "steer-eval: tied model re-runs windows" grep -q '"mode": "cached+rerun"' "$TMP/out"
check "steer-eval: the model is reported tied" grep -q '"tied": true, "edited": "shared"' "$TMP/out"
a=$(sed -n 's/.*"r_hat": \[\([-0-9.e+]*\),.*/\1/p' "$TMP/out")
run "steer-eval gpt2 (tied) --mode full" 0 $T steer-eval $DM/gpt2 $SE --token-ids 258 --scales 5 --no-sweep --no-baselines --mode full --json
check "steer-eval --mode full says so" grep -q '"mode": "full"' "$TMP/out"
b=$(sed -n 's/.*"r_hat": \[\([-0-9.e+]*\),.*/\1/p' "$TMP/out")
check "steer-eval: cached + re-run = full re-run (1e-12)" rel_ok "$a" "$b" 1e-12
run "steer-eval gpt2 --untie" 0 $T steer-eval $DM/gpt2 $SE --token-ids 258 --scales 5 --no-sweep --no-baselines --untie --json
check "steer-eval --untie evaluates from the cache" grep -q '"mode": "cached"' "$TMP/out"
run "steer-eval gpt2 --mode head-only" 0 $T steer-eval $DM/gpt2 $SE --token-ids 258 --scales 5 --no-sweep --no-baselines --mode head-only
check "steer-eval --mode head-only is labelled approximate" grep -q "APPROXIMATE" "$TMP/out"
run "steer-eval: Table 3 over b and S" 0 $T steer-eval $DM/neox $SE --tokens 1 --scales 2 --no-sweep --no-baselines \
  --b=2,inf,-inf --significance one-minus-p,none --json
check "steer-eval: 6 variants in Table 3" test "$(grep -o '"significance":' "$TMP/out" | wc -l)" -eq 12
expect_err "steer-eval: scale 0" 2 "not a positive scale" $T steer-eval $DM/neox $SE --scales 0
expect_err "steer-eval: a scale that is not a number" 2 "'x' is not a finite number" $T steer-eval $DM/neox $SE --scales 1,x
expect_err "steer-eval: an infinite scale" 2 "'inf' is not a finite number" $T steer-eval $DM/neox $SE --scales inf
expect_err "steer-eval: b NaN" 2 "not a number" $T steer-eval $DM/neox $SE --b nan
expect_err "steer-eval: unknown significance" 2 "is not one of" $T steer-eval $DM/neox $SE --significance pval
expect_err "steer-eval: unknown mode" 2 "auto, full or head-only" $T steer-eval $DM/neox $SE --mode fast
expect_err "steer-eval: token out of range" 1 "token 5000 is outside the vocabulary \\[0, 2048\\)" \
  $T steer-eval $DM/neox $SE --token-ids 5000
expect_err "steer-eval: more tokens than the vocabulary" 1 "exceeds the vocabulary" $T steer-eval $J --detect "$P1/g2.ids" \
  --test-id "$P1/g2.ids" --test-ood "$P1/g2.ids" --ids-file --tokens 91
expect_err "steer-eval needs the three sets" 2 "are required" $T steer-eval $DM/neox --detect $CO/detect.ids --ids-file
expect_err "steer-eval: a missing set" 1 "nope.ids" $T steer-eval $DM/neox --detect "$P1/nope.ids" --test-id $CO/test-id.ids \
  --test-ood $CO/test-ood.ids --ids-file
printf '1 2 3\n4 2048 5\n' > "$P1/bad.ids"
expect_err "steer-eval: an id outside the vocabulary" 1 "bad.ids: line 2: token id 2048 is outside" \
  $T steer-eval $DM/neox --detect "$P1/bad.ids" --test-id $CO/test-id.ids --test-ood $CO/test-ood.ids --ids-file
expect_err "steer-eval: hidden states of another width" 1 "width 64, the model 24" \
  $T steer-eval $J --detect "$P1/h-detect.npy" --test-id "$P1/h-detect.npy" --test-ood "$P1/h-detect.npy" --max-len 32
expect_err "steer-eval: decreasing sizes" 2 "ascending" $T steer-eval $DM/neox $SE --sizes 4,2
