# tests/cli/prune.sh -- `tpe prune` and `tpe prune-curve` (Fig. 6) on the
# shipped demo models: ratio 0 changes nothing, --drop gives the zeroed
# model's logits bit for bit (f64), tied models refuse --drop without
# --untie, KL is 0 at ratio 0 and never negative, the cached and the given
# hidden states agree, MAUVE of the unpruned model is 1; bad inputs.

D=golden/demo
if [ ! -d "$D/neox" ] || [ ! -d "$D/gpt2" ]; then
  skip "prune" "golden/demo is missing"
else
A_N=$D/check/alpha-neox.npy
A_G=$D/check/alpha-gpt2.npy
IDS="5 17 300 1024 7 2000 64"
P=$TMP/prune
rm -rf "$P"; mkdir -p "$P"
# logits64 MODEL OUT: f64 reference logits of $IDS
# small test sets keep this quick (under qemu too); the checks do not depend on size
head -n 40 $D/corpus/test-id.txt > $P/test.txt
head -n 40 $D/corpus/test-ood.txt > $P/ood.txt
logits64() { $T logits "$1" --ids "$IDS" --out "$2" --precision f64 > /dev/null 2>&1; }
same() { $T compare "$1" "$2" --rtol 0 --atol 0 > /dev/null 2>&1; }

run "prune --help" 0 $T prune --help
run "prune ratio 0" 0 $T prune $D/neox --alpha $A_N --ratio 0 --out-model $P/n0
logits64 $D/neox $P/orig.npy; logits64 $P/n0 $P/n0.npy
check "prune ratio 0: logits unchanged (f64, bit for bit)" same $P/orig.npy $P/n0.npy

run "prune neox 30% zeroed" 0 $T prune $D/neox --alpha $A_N --ratio 0.3 --out-model $P/nz --json
check "prune: 19 of 64 removed" test "$(json_field kept_dims "$TMP/out")" = 45
run "prune neox 30% dropped" 0 $T prune $D/neox --alpha $A_N --ratio 0.3 --drop --out-model $P/nd --json
check "prune --drop: the head is 45 wide" test "$(json_field head_width "$TMP/out")" = 45
check "prune --drop: config.json has tpe_head_dims" grep -q '"tpe_head_dims": \[0, 1, 2, 4,' $P/nd/config.json
check "prune --drop: the file is smaller" test "$(wc -c < $P/nd/model.safetensors)" -lt "$(wc -c < $P/nz/model.safetensors)"
logits64 $P/nz $P/nz.npy; logits64 $P/nd $P/nd.npy
check "prune --drop = zeroing (f64 logits, bit for bit)" same $P/nz.npy $P/nd.npy
check "prune 30% changes the logits" sh -c "! $T compare $P/orig.npy $P/nz.npy --rtol 0 --atol 0 > /dev/null 2>&1"
$T logits $P/nz --ids "$IDS" --out $P/nz32.npy > /dev/null 2>&1
$T logits $P/nd --ids "$IDS" --out $P/nd32.npy > /dev/null 2>&1
# f32: the dot products may split into SIMD lanes differently once terms are
# gone: |error| <= 2 C u32 sum_c |E_vc h_c|, and sum_c |E_vc h_c| <= 44 for
# this model over the whole test-id set: 2 * 64 * 2^-24 * 44 = 3.4e-4
check "prune --drop = zeroing (f32 logits within 2 C u32 sum |E h|)" sh -c "$T compare $P/nz32.npy $P/nd32.npy --rtol 0 --atol 4e-4 > /dev/null"
run "prune --drop model probes" 0 $T probe $P/nd $P/test.txt --out $P/a.npy --max-len 64 --json
check "prune --drop model: alpha sums to 1" awk -v s="$(json_field alpha_sum "$TMP/out")" 'BEGIN { exit !(s > 0.999999 && s < 1.000001) }'

run "prune tied gpt2 zeroes the shared matrix" 0 $T prune $D/gpt2 --alpha $A_G --ratio 0.3 --out-model $P/gz
check "prune tied: stays tied" grep -q '"tie_word_embeddings": true' $P/gz/config.json
expect_err "prune --drop on a tied model is refused" 1 "not exact" $T prune $D/gpt2 --alpha $A_G --ratio 0.3 --drop --out-model $P/gd
check "prune refused: nothing written" test ! -e $P/gd
run "prune --drop --untie on a tied model" 0 $T prune $D/gpt2 --alpha $A_G --ratio 0.3 --drop --untie --out-model $P/gdu
logits64 $P/gz $P/gz.npy; logits64 $P/gdu $P/gdu.npy
check "prune --drop --untie = zeroing the shared matrix (f64, bit for bit)" same $P/gz.npy $P/gdu.npy
run "prune descending" 0 $T prune $D/neox --alpha $A_N --ratio 0.1 --order descending --out-model $P/ndesc --json
check "prune descending removes the largest |A_D| first (dim 28)" grep -q '"removed": \[28, 2, 13, 53, 15, 21\]' "$TMP/out"

expect_err "prune needs --alpha" 2 "required" $T prune $D/neox --ratio 0.3 --out-model $P/x
expect_err "prune --ratio in [0, 1]" 2 "ratio" $T prune $D/neox --alpha $A_N --ratio 1.5 --out-model $P/x
expect_err "prune --order" 2 "ascending or descending" $T prune $D/neox --alpha $A_N --ratio 0.3 --order up --out-model $P/x
expect_err "prune alpha of the wrong shape" 1 "shape \\(2048,\\)" $T prune $D/neox --alpha golden/mauve/clusters_P.npy --ratio 0.3 --out-model $P/x
expect_err "prune --untie on an untied model" 1 "not tied" $T prune $D/neox --alpha $A_N --ratio 0.3 --untie --out-model $P/x
expect_err "prune into an existing directory" 1 "nd" $T prune $D/neox --alpha $A_N --ratio 0.3 --out-model $P/nd
expect_err "prune --drop of everything" 1 "no head" $T prune $D/neox --alpha $A_N --ratio 1 --drop --out-model $P/x

# ---- prune-curve -------------------------------------------------------------------
# kl ORDER FILE: the KL array of one order
kl_of() { sed -n "s/.*\"$1\": {\"kl\": \[\([^]]*\)\].*/\1/p" "$2"; }
run "prune-curve --help" 0 $T prune-curve --help
run "prune-curve untied (cached hidden states)" 0 $T prune-curve $D/neox --alpha $A_N --test $P/test.txt --no-mauve --step 25 --json
check "prune-curve untied: mode cached-hidden" test "$(json_field kl_mode "$TMP/out")" = '"cached-hidden"'
cp "$TMP/out" $P/curve.json
check "prune-curve: KL 0 at ratio 0, both orders" sh -c "kl_a=\$(sed -n 's/.*\"ascending\": {\"kl\": \[\([^],]*\).*/\1/p' $P/curve.json); test \"\$kl_a\" = 0"
check "prune-curve: KL never negative" sh -c "sed -n 's/.*\"kl\": \[\([^]]*\)\].*/\1/p' $P/curve.json | tr ',' '\n' | awk '\$1 < 0 { bad = 1 } END { exit bad }'"
check "prune-curve: 100% is the same point in both orders" sh -c "test \"\$(sed -n 's/.*\"ascending\": {\"kl\": \[[^]]*, \([^],]*\)\].*/\1/p' $P/curve.json)\" = \"\$(sed -n 's/.*\"descending\": {\"kl\": \[[^]]*, \([^],]*\)\].*/\1/p' $P/curve.json)\""
run "probe --save-hidden for prune-curve" 0 $T probe $D/neox $P/test.txt --out $P/alpha-test.npy --save-hidden $P/h.npy
run "prune-curve --hidden" 0 $T prune-curve $D/neox --alpha $A_N --hidden $P/h.npy --no-mauve --step 25 --json
check "prune-curve --hidden: the same KL as its own pass" test "$(kl_of ascending "$TMP/out")" = "$(kl_of ascending $P/curve.json)"
run "prune-curve tied (re-run)" 0 $T prune-curve $D/gpt2 --alpha $A_G --test $P/ood.txt --no-mauve --step 50 --max-len 64 --json
check "prune-curve tied: mode re-run" test "$(json_field kl_mode "$TMP/out")" = '"re-run"'
check "prune-curve tied: KL 0 at ratio 0" sh -c "sed -n 's/.*\"ascending\": {\"kl\": \[\([^],]*\).*/\1/p' $TMP/out | grep -qx 0"
run "prune-curve with MAUVE and the figure" 0 $T prune-curve $D/neox --alpha $A_N --test $P/test.txt \
  --prefixes $D/corpus/prefixes.txt --samples 20 --gen-tokens 8 --step 50 --svg $P/fig6.svg --json
check "prune-curve: MAUVE of the unpruned model is 1" sh -c "sed -n 's/.*\"ascending\": {\"kl\": \[[^]]*\], \"mauve\": \[\([^],]*\).*/\1/p' $TMP/out | awk '{ exit !(\$1 > 0.999999999999 && \$1 <= 1) }'"
check "prune-curve: 20 generations" grep -q '"samples": 20' "$TMP/out"
check "prune-curve: Fig. 6 written" grep -q "Fig. 6" $P/fig6.svg
run "prune-curve human output" 0 $T prune-curve $D/neox --alpha $A_N --test $P/test.txt --no-mauve --step 50
check "prune-curve human output says the mode" grep -q "cached hidden states: exact" "$TMP/out"

expect_err "prune-curve needs --test or --hidden" 2 "give .-test" $T prune-curve $D/neox --alpha $A_N --no-mauve
expect_err "prune-curve tied needs --test" 1 "tied" $T prune-curve $D/gpt2 --alpha $A_G --hidden $P/h.npy --no-mauve
expect_err "prune-curve --step 0" 2 "step" $T prune-curve $D/neox --alpha $A_N --test $P/test.txt --step 0
expect_err "prune-curve hidden states of another width" 1 "\\(N, 64\\)" $T prune-curve $D/neox --alpha $A_N --hidden golden/mauve/clusters_P.npy --no-mauve
expect_err "prune-curve MAUVE needs text prefixes" 2 "prefixes" $T prune-curve $D/neox --alpha $A_N --test $D/corpus/test-id.ids --ids-file
expect_err "prune-curve one prefix is too few" 1 "at least 2 prefixes" $T prune-curve $D/neox --alpha $A_N --test $P/test.txt --samples 1 --step 50
fi
