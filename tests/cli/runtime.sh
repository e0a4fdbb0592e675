# tests/cli/runtime.sh -- the model commands: random-model, logits, the
# malformed-input set, probe, generate, trace, compare, bench forward.

M=$TMP/rt-models
rm -rf "$M"
mkdir -p "$M"
IDS7="1 2 3 4 5 6 7"

run "random-model gpt2" 0 $T random-model "$M/gpt2" --vocab 40 --width 16 --heads 2 --layers 2 --ctx 24 --seed 3 --scale 0.3
run "random-model gpt_neox (sequential, bf16)" 0 $T random-model "$M/neox" --type gpt_neox --vocab 40 --width 16 --heads 2 \
  --layers 2 --ctx 24 --sequential --rotary-pct 0.5 --dtype bf16 --scale 0.3
run "random-model gptj (f16)" 0 $T random-model "$M/gptj" --type gptj --vocab 40 --width 16 --heads 2 --layers 2 --ctx 24 \
  --rotary-dim 4 --dtype f16 --scale 0.3 --json
check "random-model --json names the directory" grep -q "\"dir\": \"$M/gptj\"" "$TMP/out"
expect_err "random-model refuses an existing directory" 1 "not empty" $T random-model "$M/gpt2"
expect_err "random-model rejects an unknown type" 2 "must be gpt2, gpt_neox or gptj" $T random-model "$M/x" --type llama

# ---- logits ------------------------------------------------------------------
for a in gpt2 neox gptj; do
  run "logits $a f32" 0 $T logits "$M/$a" --ids "$IDS7" --out "$TMP/l32.npy" --hidden "$TMP/h32.npy"
  run "logits $a f64 --json" 0 $T logits "$M/$a" --ids "$IDS7" --out "$TMP/l64.npy" --hidden "$TMP/h64.npy" --precision f64 --json
  check "logits $a --json says f64" grep -q '"precision": "f64"' "$TMP/out"
  check "logits $a --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
  run "logits $a: f32 within 1e-4 of the f64 reference" 0 $T compare "$TMP/l32.npy" "$TMP/l64.npy" --atol 1e-4 --rtol 0
  run "logits $a: hidden states within 1e-4" 0 $T compare "$TMP/h32.npy" "$TMP/h64.npy" --atol 1e-4 --rtol 0
done
TPE_NO_MMAP=1 $T logits "$M/gptj" --ids "$IDS7" --out "$TMP/read.npy" > /dev/null 2>&1
$T logits "$M/gptj" --ids "$IDS7" --out "$TMP/mmap.npy" > /dev/null 2>&1
check "logits: mmap and the read() fallback give the same bytes" cmp -s "$TMP/read.npy" "$TMP/mmap.npy"
TPE_WIDEN_LIMIT_MB=0 $T logits "$M/gptj" --ids "$IDS7" --out "$TMP/storage.npy" > /dev/null 2>&1
check "logits: weights kept in storage form give the same bytes" cmp -s "$TMP/storage.npy" "$TMP/mmap.npy"
rm -f "$TMP/x.npy"
expect_err "logits rejects an id outside the vocabulary" 1 "token id 40 at index 1 is outside the vocabulary" \
  $T logits "$M/gpt2" --ids "1 40" --out "$TMP/x.npy"
check "logits leaves no output after a failure" test ! -e "$TMP/x.npy"
expect_err "logits rejects a word that is not an id" 2 "word 1 \\('x'\\) is not a token id" $T logits "$M/gpt2" --ids "1 x" --out "$TMP/x.npy"
expect_err "logits needs --out" 2 "[-][-]out is required" $T logits "$M/gpt2" --ids 1
expect_err "logits rejects more tokens than positions" 1 "exceed the model's 24 positions" \
  $T logits "$M/gpt2" --ids "$(seq -s ' ' 1 25)" --out "$TMP/x.npy"
expect_err "logits rejects a bad precision" 2 "f32 or f64" $T logits "$M/gpt2" --ids 1 --out "$TMP/x.npy" --precision f16
expect_err "logits on a missing directory" 1 "not a directory" $T logits "$M/nothing" --ids 1 --out "$TMP/x.npy"

# ---- the committed malformed inputs ------------------------------------------------
while IFS='|' read -r name pat; do
  case "$name" in '' | '#'*) continue ;; esac
  expect_err "malformed input: $name" 1 "$pat" $T logits "golden/malformed/$name" --ids "1 2" --out "$TMP/x.npy"
done < golden/malformed/CASES
run "malformed input set: its valid base loads" 0 $T logits golden/malformed/valid --ids "1 2" --out "$TMP/x.npy"

# ---- golden models through the command line --------------------------------------
run "logits reads a sharded, prefixless, tied checkpoint" 0 $T logits golden/models/neox-full-rotary-tied-sharded --ids "$IDS7" \
  --out "$TMP/x.npy" --precision f64

# ---- probe ---------------------------------------------------------------------
printf '1 2 3 4 5\n\n%s\n  9  \n' "$(seq -s ' ' 10 39)" > "$TMP/data.ids"
run "probe --ids-file --save-hidden" 0 $T probe "$M/neox" "$TMP/data.ids" --ids-file --out "$TMP/alpha32.npy" --max-len 8 \
  --save-hidden "$TMP/hid.npy" --json
check "probe counts 3 samples" test "$(json_field samples "$TMP/out")" = 3
check "probe counts 36 tokens" test "$(json_field tokens "$TMP/out")" = 36
check "probe cuts 1 + 4 + 1 windows of 8" test "$(json_field windows "$TMP/out")" = 6
check "probe: alpha sums to 1" num_cmp "$(json_field alpha_sum "$TMP/out" | awk '{ d = $1 - 1; print d < 0 ? -d : d }')" "<" 1e-12
check "probe --save-hidden: (36, 16) float32 states" sh -c "head -c 128 '$TMP/hid.npy' | grep -q \"'descr': '<f4', 'fortran_order': False, 'shape': (36, 16)\""
check "probe --save-hidden: (36, 3) token rows" sh -c "head -c 128 '$TMP/hid.tokens.npy' | grep -q \"'shape': (36, 3)\""
run "probe --precision f64" 0 $T probe "$M/neox" "$TMP/data.ids" --ids-file --out "$TMP/alpha64.npy" --max-len 8 --precision f64
run "probe: f32 alpha within 1e-6 of f64" 0 $T compare "$TMP/alpha32.npy" "$TMP/alpha64.npy" --atol 1e-6 --rtol 0
printf '1 2\n3 99\n' > "$TMP/bad.ids"
rm -f "$TMP/x.npy"
expect_err "probe names a bad id and its line" 1 "line 2: token id 99 is outside the vocabulary" \
  $T probe "$M/neox" "$TMP/bad.ids" --ids-file --out "$TMP/x.npy"
check "probe leaves no output after a failure" test ! -e "$TMP/x.npy"
printf 'not an id\n' > "$TMP/words.ids"
expect_err "probe --ids-file rejects words" 1 "line 1.*not a token id" $T probe "$M/neox" "$TMP/words.ids" --ids-file --out "$TMP/x.npy"
printf '\n\n' > "$TMP/empty.ids"
expect_err "probe on a dataset of empty lines" 1 "no samples" $T probe "$M/neox" "$TMP/empty.ids" --ids-file --out "$TMP/x.npy"
expect_err "probe rejects --max-len beyond the context" 1 "exceeds the model's 24 positions" \
  $T probe "$M/neox" "$TMP/data.ids" --ids-file --out "$TMP/x.npy" --max-len 25
printf 'some text\n' > "$TMP/data.txt"
expect_err "probe: text needs the model's tokenizer" 1 "tokenizer" $T probe "$M/neox" "$TMP/data.txt" --out "$TMP/x.npy"

# ---- generate ------------------------------------------------------------------
run "generate (seeded)" 0 $T generate "$M/gpt2" --ids "1 2 3" --max-new 12 --seed 7 --temperature 0.8 --top-k 10 --top-p 0.9
cp "$TMP/out" "$TMP/gen1"
run "generate again with the same seed" 0 $T generate "$M/gpt2" --ids "1 2 3" --max-new 12 --seed 7 --temperature 0.8 --top-k 10 --top-p 0.9
check "generate: the same seed gives the same tokens" cmp -s "$TMP/out" "$TMP/gen1"
check "generate: 12 new tokens" test "$(wc -w < "$TMP/gen1")" -eq 12
run "generate greedy f32 (KV cache)" 0 $T generate "$M/gptj" --ids "4 5" --max-new 10 --temperature 0
cp "$TMP/out" "$TMP/greedy32"
run "generate greedy f64 (reference)" 0 $T generate "$M/gptj" --ids "4 5" --max-new 10 --temperature 0 --precision f64
check "generate: greedy f32 with cache = greedy f64 reference" cmp -s "$TMP/out" "$TMP/greedy32"
run "generate --json stops at the context" 0 $T generate "$M/neox" --ids "$(seq -s ' ' 1 20)" --max-new 10 --json
check "generate --json: stopped at the context" grep -q '"stopped": "context"' "$TMP/out"
expect_err "generate wants one of --prompt and --ids" 2 "exactly one of --prompt and --ids" $T generate "$M/gpt2"
expect_err "generate rejects top-p 0" 2 "top-p" $T generate "$M/gpt2" --ids 1 --top-p 0
expect_err "generate rejects a negative temperature" 2 "temperature" $T generate "$M/gpt2" --ids 1 --temperature -1

# ---- trace and compare --------------------------------------------------------------
rm -rf "$TMP/t64" "$TMP/t32"
run "trace f64" 0 $T trace "$M/neox" --ids "$IDS7" --out "$TMP/t64"
run "trace f32 --json" 0 $T trace "$M/neox" --ids "$IDS7" --out "$TMP/t32" --precision f32 --json
# embed + 2 layers x (ln_1 q k v q_rot k_rot attn_probs attn_heads attn_out ln_2 mlp_pre mlp_act mlp_out resid) + final_norm + logits
check "trace writes 31 tensors" test "$(json_field tensors "$TMP/out")" = 31
check "trace writes index.json and ids.npy" test -s "$TMP/t32/index.json" -a -s "$TMP/t32/ids.npy"
for f in embed layer.0.q_rot layer.0.attn_probs layer.1.mlp_act layer.1.resid final_norm logits; do
  run "trace: f32 $f within tolerance of f64" 0 $T compare "$TMP/t32/$f.npy" "$TMP/t64/$f.npy" --atol 1e-4 --rtol 1e-4
done
expect_err "trace refuses an existing directory" 1 "not empty" $T trace "$M/neox" --ids 1 --out "$TMP/t64"
expect_err "trace with a bad id" 1 "outside the vocabulary" $T trace "$M/neox" --ids "1 77" --out "$TMP/t-bad"
check "trace leaves no directory after a failure" test ! -e "$TMP/t-bad"
run "compare a file with itself" 0 $T compare "$TMP/t64/logits.npy" "$TMP/t64/logits.npy" --json
for k in max_abs max_rel max_ulp nmse worst_index failures pass; do
  check "compare --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "compare: zero error against itself" num_cmp "$(json_field max_abs "$TMP/out")" == 0
run "compare beyond tolerance exits 1" 1 $T compare "$TMP/t32/logits.npy" "$TMP/t64/logits.npy" --atol 0 --rtol 0
check "compare reports FAIL and the worst index" grep -q "^worst \[" "$TMP/out"
expect_err "compare: shapes differ" 1 "shapes differ" $T compare "$TMP/t32/logits.npy" "$TMP/t32/embed.npy"
expect_err "compare: missing file" 1 "cannot open" $T compare "$TMP/nothing.npy" "$TMP/t32/embed.npy"

# ---- bench forward -------------------------------------------------------------------
run "bench forward --json" 0 $T bench forward "$M/gpt2" --tokens 16 --reps 1 --json
for k in tokens seconds tokens_per_s simd; do
  check "bench forward --json has $k" grep -q "\"$k\":" "$TMP/out"
done
check "bench forward ran 16 tokens" test "$(json_field tokens "$TMP/out")" = 16
expect_err "bench forward rejects more tokens than positions" 1 "exceeds the model's 24 positions" \
  $T bench forward "$M/gpt2" --tokens 25

# ---- text input through the model's tokenizer (golden/tokenizer/tiny-bpe) ---------------
run "random-model with the tiny BPE's vocabulary" 0 $T random-model "$M/textm" --vocab 1756 --width 16 --heads 2 --layers 2 \
  --ctx 32 --scale 0.3
cp golden/tokenizer/tiny-bpe/vocab.json golden/tokenizer/tiny-bpe/merges.txt "$M/textm/"
printf 'hello world\r\nthe quick brown fox jumps over the lazy dog, again and again\n\n\n' > "$TMP/text.txt"
run "probe on UTF-8 text" 0 $T probe "$M/textm" "$TMP/text.txt" --out "$TMP/alpha_text.npy" --max-len 8 --json
check "probe on text: 2 samples" test "$(json_field samples "$TMP/out")" = 2
# the same samples as ids, from tpe tokenize, give the same alpha bit for bit
printf 'hello world' | $T tokenize "$M/textm" > "$TMP/text.ids"
printf 'the quick brown fox jumps over the lazy dog, again and again' | $T tokenize "$M/textm" >> "$TMP/text.ids"
run "probe on the same samples as ids" 0 $T probe "$M/textm" "$TMP/text.ids" --ids-file --out "$TMP/alpha_ids.npy" --max-len 8
check "probe: text and its ids give the same alpha" cmp -s "$TMP/alpha_text.npy" "$TMP/alpha_ids.npy"
printf 'fine\n\377\376 broken\n' > "$TMP/bad.txt"
expect_err "probe names the line with invalid UTF-8" 1 "line 2: invalid UTF-8 at byte 0" \
  $T probe "$M/textm" "$TMP/bad.txt" --out "$TMP/x.npy"
run "generate from a text prompt" 0 $T generate "$M/textm" --prompt "hello world" --max-new 6 --seed 3 --json
check "generate --prompt: the text starts with the prompt" grep -q '"text": "hello world' "$TMP/out"
check "generate --prompt: the prompt's ids" grep -q '"prompt_ids": \[258, 297, 78, 995\]' "$TMP/out"
