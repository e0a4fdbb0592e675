# tests/cli/explain.sh -- `tpe explain`: the derivation's steps on the shipped
# demo models (golden/demo), the exact law on one position, a GPT-J's bias,
# the hidden-state file path, --out, and bad input.

D=golden/demo
X=$TMP/explain
rm -rf "$X"
mkdir -p "$X"
# sub_field OBJECT KEY FILE: the raw value of KEY inside "OBJECT": { ... } of a one-line JSON object
sub_field() { sed -n "s/.*\"$1\": {//p" "$3" | sed -n "s/^\(.*, \)\{0,1\}\"$2\": \(\"[^\"]*\"\|[^,}]*\).*/\2/p" | head -n 1; }

# ---- the demo GPT-2 (tied) over the detect set, with the Python-side alpha ----------
# Under emulation (TPE_TEST_QUICK) the runs use the first 12 samples, and the checks
# against the Python side's alpha of the whole set are skipped.
if [ -z "${TPE_TEST_QUICK:-}" ]; then
  DATA=$D/corpus/detect.ids
  run "explain demo gpt2 --ids-file --alpha --json" 0 $T explain $D/gpt2 $DATA --ids-file --alpha $D/check/alpha-gpt2.npy --json
else
  DATA=$X/detect12.ids
  head -n 12 $D/corpus/detect.ids > "$DATA"
  run "explain demo gpt2 --ids-file --json (12 samples)" 0 $T explain $D/gpt2 $DATA --ids-file --json
fi
cp "$TMP/out" "$X/gpt2.json"
check "explain --json is one line" test "$(wc -l < "$X/gpt2.json")" -eq 1
for k in model model_type tied head_bias source positions vocab dim precision alpha_check step1 step2 step3 step4 step5 out seconds; do
  check "explain --json has $k" grep -q "\"$k\":" "$X/gpt2.json"
done
check "gpt2: V 2048, C 64" test "$(json_field vocab "$X/gpt2.json") $(json_field dim "$X/gpt2.json")" = "2048 64"
check "gpt2: no head bias, step 4 null" test "$(json_field step4 "$X/gpt2.json")" = null
if [ -z "${TPE_TEST_QUICK:-}" ]; then
  check "gpt2: 19976 positions" test "$(json_field positions "$X/gpt2.json")" = 19976
  # the Python side's alpha (float64, torch) against ours (float forward): ~1e-5 relative at most
  check "gpt2: --alpha agrees to 1e-4" num_cmp "$(sub_field alpha_check max_rel_diff "$X/gpt2.json")" "<" 1e-4
  # golden/demo/README.md: statsmodels' adjusted R^2 on that alpha is 0.948 (R^2 0.950)
  check "gpt2: Table 1's adjusted R^2 on the given alpha is 0.948" num_cmp "$(awk -v a="$(sub_field alpha_check adj_r2 "$X/gpt2.json")" 'BEGIN { print (a - 0.948 < 0 ? 0.948 - a : a - 0.948) }')" "<" 0.0006
else
  skip "explain: the Python side's alpha of the whole detect set" "TPE_TEST_QUICK"
fi
check "gpt2: Eq. 1 averaged holds to float rounding" num_cmp "$(sub_field step1 eq1_max_err "$X/gpt2.json")" "<" 1e-5
check "gpt2: no negative Jensen gap" test "$(sub_field step2 gap_negative "$X/gpt2.json")" = 0
check "gpt2: the gap bounds hold for every token" test "$(sub_field step2 bounds_violated "$X/gpt2.json")" = 0
check "gpt2: smallest Jensen gap > 0" num_cmp "$(sub_field step2 gap_min "$X/gpt2.json")" ">" 0
check "gpt2: coef(-log alpha) + coef(g) = coef(-m) to 1e-9" num_cmp "$(sub_field step3 decomposition_err "$X/gpt2.json")" "<" 1e-9
check "gpt2: R^2 with g added back is 1" num_cmp "$(sub_field step3 r2_gap_added "$X/gpt2.json")" ">" 0.999999
check "gpt2: 1 - R^2 = RSS(g)/TSS to 1e-6" num_cmp "$(awk -v a="$(sub_field step3 unexplained "$X/gpt2.json")" -v b="$(sub_field step3 unexplained_from_gap "$X/gpt2.json")" 'BEGIN { d = a - b; print (d < 0 ? -d : d) }')" "<" 1e-6
check "gpt2: Algorithm 1's identity to 1e-12" num_cmp "$(awk -v a="$(sub_field step5 identity "$X/gpt2.json")" 'BEGIN { print (a < 0 ? -a : a) }')" "<" 1e-12
check "gpt2: step 5's split adds up to 1e-9" num_cmp "$(awk -v a="$(sub_field step5 residual "$X/gpt2.json")" 'BEGIN { print (a < 0 ? -a : a) }')" "<" 1e-9

# ---- the same from the hidden-state file of tpe probe -----------------------------------
run "probe --save-hidden for explain" 0 $T probe $D/gpt2 $DATA --ids-file --out "$X/alpha.npy" --save-hidden "$X/h.npy"
run "explain --hidden (the probe's file)" 0 $T explain $D/gpt2 --hidden "$X/h.npy" --alpha "$X/alpha.npy" --json
check "explain --hidden: source hidden" test "$(json_field source "$TMP/out")" = '"hidden"'
check "explain --hidden: the same R^2 as from DATA" test "$(sub_field step3 r2 "$TMP/out")" = "$(sub_field step3 r2 "$X/gpt2.json")"
check "explain --hidden: the same Jensen gaps as from DATA" test "$(sub_field step2 gap_median "$TMP/out")" = "$(sub_field step2 gap_median "$X/gpt2.json")"
check "explain: the probe's alpha agrees to 1e-5" num_cmp "$(sub_field alpha_check max_rel_diff "$TMP/out")" "<" 1e-5

run "explain human output" 0 $T explain $D/gpt2 --hidden "$X/h.npy" --token 100 --scale 0.5 --b 1
for s in "Step 1" "Step 2" "Step 3" "Step 4" "Step 5"; do check "human output has $s" grep -q "^$s\\." "$TMP/out"; done
check "human output: step 5 on token 100" grep -q "token 100 " "$TMP/out"

run "explain --along hbar" 0 $T explain $D/gpt2 --hidden "$X/h.npy" --along hbar --json
check "--along hbar: the gain is 1" num_cmp "$(awk -v a="$(sub_field step5 gain "$TMP/out")" 'BEGIN { d = a - 1; print (d < 0 ? -d : d) }')" "<" 1e-12
check "--along hbar: no slope term" num_cmp "$(awk -v a="$(sub_field step5 slope_term "$TMP/out")" 'BEGIN { print (a < 0 ? -a : a) }')" "<" 1e-12
check "--along hbar: named in the JSON" test "$(sub_field step5 along "$TMP/out")" = '"hbar"'

rm -rf "$X/dir"
run "explain --out DIR" 0 $T explain $D/gpt2 --hidden "$X/h.npy" --out "$X/dir" --json
for f in alpha.npy mean_logp.npy gap.npy half_var.npy gap_lower.npy gap_upper.npy logit_half_var.npy fitted.npy hbar.npy slope.npy slope_gap.npy step2-jensen.svg step3-eq2.svg; do
  check "explain --out wrote $f" test -s "$X/dir/$f"
done
check "explain --out: gap.npy is (2048,) f8" grep -q "'descr': '<f8', 'fortran_order': False, 'shape': (2048,)" "$X/dir/gap.npy"
run "explain --out: alpha.npy equals the probe's alpha to 1e-5" 0 $T compare "$X/dir/alpha.npy" "$X/alpha.npy" --rtol 1e-5 --atol 0
expect_err "explain --out refuses a directory that is not empty" 1 "not empty|exists" $T explain $D/gpt2 --hidden "$X/h.npy" --out "$X/dir"
check "no temporary directories left" test -z "$(ls "$X" | grep '\.tmp\.')"

# ---- the demo GPT-NeoX (untied), text input --------------------------------------------
if [ -z "${TPE_TEST_QUICK:-}" ]; then
  run "explain demo neox (text DATA)" 0 $T explain $D/neox $D/corpus/detect.txt --alpha $D/check/alpha-neox.npy --json
  check "neox: Table 1's adjusted R^2 on the given alpha is 0.907" num_cmp "$(awk -v a="$(sub_field alpha_check adj_r2 "$TMP/out")" 'BEGIN { print (a - 0.907 < 0 ? 0.907 - a : a - 0.907) }')" "<" 0.0006
  check "neox: no negative Jensen gap, bounds hold" test "$(sub_field step2 gap_negative "$TMP/out") $(sub_field step2 bounds_violated "$TMP/out")" = "0 0"
else
  skip "explain demo neox" "TPE_TEST_QUICK"
fi

# ---- the exact law: one position, so every position shares one hidden state -----------
rm -rf "$X/m"
run "random model for the exact law" 0 $T random-model "$X/m" --vocab 40 --width 16 --heads 2 --layers 2 --ctx 24 --seed 3 --scale 0.3
run "one hidden state (f64)" 0 $T logits "$X/m" --ids "5" --out "$X/l1.npy" --hidden "$X/h1.npy" --precision f64
run "explain on one position" 0 $T explain "$X/m" --hidden "$X/h1.npy" --json
check "exact law: double logits" test "$(json_field precision "$TMP/out")" = '"f64"'
check "exact law: g_w = 0 (max |g| <= 1e-13)" num_cmp "$(awk -v a="$(sub_field step2 gap_max "$TMP/out")" -v b="$(sub_field step2 gap_min "$TMP/out")" 'BEGIN { a = a < 0 ? -a : a; b = b < 0 ? -b : b; print (a > b ? a : b) }')" "<=" 1e-13
check "exact law: R^2 = 1" num_cmp "$(sub_field step3 r2 "$TMP/out")" ">=" 0.9999999999999
check "exact law: A_D = -h (cos 1)" num_cmp "$(sub_field step3 cos_slope_neg_hbar "$TMP/out")" ">=" 0.9999999999999
check "exact law: the single regressor's slope is 1" num_cmp "$(awk -v a="$(sub_field step3 single_slope "$TMP/out")" 'BEGIN { print (a - 1 < 0 ? 1 - a : a - 1) }')" "<" 1e-10
check "exact law: no gap term in step 5" num_cmp "$(awk -v a="$(sub_field step5 gap_term "$TMP/out")" 'BEGIN { print (a < 0 ? -a : a) }')" "<" 1e-12

# ---- a GPT-J (head bias): step 4 -------------------------------------------------------------
rm -rf "$X/gj"
run "random GPT-J" 0 $T random-model "$X/gj" --type gptj --vocab 300 --width 16 --heads 2 --layers 2 --ctx 32 --seed 5 --scale 0.3
awk 'BEGIN { s = 12345; for (i = 0; i < 24; i++) { l = ""; for (j = 0; j < 32; j++) { s = (s * 1103515245 + 12345) % 2147483648; l = l (j ? " " : "") int(s / 2147483648 * 300) } print l } }' > "$X/gj.ids"
run "explain a GPT-J" 0 $T explain "$X/gj" "$X/gj.ids" --ids-file --json
check "GPT-J: head_bias true" test "$(json_field head_bias "$TMP/out")" = true
check "GPT-J: the bias slope's theory is -1" test "$(sub_field step4 theory "$TMP/out")" = -1
check "GPT-J: bias slope = -1 - g's slope (1e-12)" num_cmp "$(sub_field step4 identity_err "$TMP/out")" "<" 1e-12
check "GPT-J: |bias slope + 1| within g's bound" awk -v s="$(sub_field step4 bias_slope "$TMP/out")" -v b="$(sub_field step4 gap_bias_slope_bound "$TMP/out")" 'BEGIN { d = s + 1; d = d < 0 ? -d : d; exit !(d <= b + 1e-4) }'

# ---- bad input -------------------------------------------------------------------------------
expect_err "explain needs DATA or --hidden" 2 "either DATA or --hidden" $T explain $D/gpt2
expect_err "explain takes DATA or --hidden, not both" 2 "either DATA or --hidden" $T explain $D/gpt2 $D/corpus/detect.ids --hidden "$X/h.npy"
expect_err "explain: --ids-file goes with DATA" 2 "go with DATA" $T explain $D/gpt2 --hidden "$X/h.npy" --ids-file
expect_err "explain: bad --precision" 2 "f32 or f64" $T explain $D/gpt2 --hidden "$X/h.npy" --precision f16
expect_err "explain: bad --along" 2 "fit or hbar" $T explain $D/gpt2 --hidden "$X/h.npy" --along up
expect_err "explain: --scale must be positive" 2 "positive" $T explain $D/gpt2 --hidden "$X/h.npy" --scale 0
expect_err "explain: --scale must be a number" 2 "wants a number" $T explain $D/gpt2 --hidden "$X/h.npy" --scale x
expect_err "explain: --token outside the vocabulary" 1 "[-]-token 2048 is outside the vocabulary" $T explain $D/gpt2 --hidden "$X/h.npy" --token 2048
expect_err "explain: hidden states of another width" 1 "must be \\(N, 64\\)" $T explain $D/gpt2 --hidden "$X/h1.npy"
expect_err "explain: alpha of another length" 1 "alpha must have shape \\(2048,\\)" $T explain $D/gpt2 --hidden "$X/h.npy" --alpha "$X/dir/hbar.npy"
expect_err "explain: alpha of another dataset" 1 "differs from the alpha of these hidden states" $T explain $D/gpt2 --hidden "$X/h.npy" --alpha $D/check/alpha-neox.npy
expect_err "explain: a missing hidden-state file" 1 "nothing.npy" $T explain $D/gpt2 --hidden "$X/nothing.npy"
expect_err "explain: a missing model" 1 "not a directory" $T explain "$X/nothing" --hidden "$X/h.npy"
: > "$X/empty.txt"
expect_err "explain: an empty dataset" 1 "no samples" $T explain $D/gpt2 "$X/empty.txt"
printf 'ok text\n\377\376 bad\n' > "$X/bad.txt"
expect_err "explain: text that is not UTF-8" 1 "line 2: invalid UTF-8" $T explain $D/gpt2 "$X/bad.txt"
echo "1 2 2048" > "$X/oov.ids"
expect_err "explain: an id outside the vocabulary" 1 "token id 2048 is outside the vocabulary" $T explain $D/gpt2 "$X/oov.ids" --ids-file
# a (1, 64) <f4 hidden-state file holding NaN (npy 1.0 header padded to 128 bytes)
{ printf '\223NUMPY\001\000\166\000'
  printf "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 64), }%57s\n" ""
  i=0; while [ $i -lt 64 ]; do printf '\000\000\300\177'; i=$((i + 1)); done; } > "$X/nan.npy"
expect_err "explain: NaN hidden states" 1 "hidden states: element \\[0, 0\\] is NaN" $T explain $D/gpt2 --hidden "$X/nan.npy"
