# tests/cli/shard.sh -- tpe probe --shard I/N and tpe merge: merged alpha and
# hidden states equal the single run's bytes for N = 1, 2, 3, 7 (some shards
# empty), f32 and f64, ids and text; parts of other runs, duplicate and
# missing shards, truncated and corrupt parts are refused with the file named.

SH=$TMP/shard
rm -rf "$SH"
mkdir -p "$SH/parts"
run "shard: random-model" 0 $T random-model "$SH/m" --type gpt_neox --vocab 50 --width 16 --heads 2 --layers 2 --ctx 16 \
  --seed 5 --scale 0.4
# 6 samples: windows of 8 cut the long ones; with N = 7 shard 6 is empty
printf '1 2 3 4 5\n%s\n\n7\n3 4 5 6 7 8 9 10 11\n  12 13  \n%s\n' "$(seq -s ' ' 10 30)" "$(seq -s ' ' 20 -1 1)" > "$SH/data.ids"
run "shard: the single run" 0 $T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --out "$SH/alpha.npy" \
  --save-hidden "$SH/h.npy"

# N shards, each with its own hidden-state files; merged in reverse order
for N in 1 2 3 7; do
  parts=""
  i=0
  ok_all=1
  while [ $i -lt $N ]; do
    $T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --shard $i/$N --out "$SH/parts/n$N-$i.part" \
      --save-hidden "$SH/parts/h$N-$i.npy" --json > "$TMP/out" 2> "$TMP/err" || ok_all=0
    parts="$SH/parts/n$N-$i.part $parts"
    i=$((i + 1))
  done
  check "shard: N = $N: every shard ran" test $ok_all = 1
  run "shard: N = $N: merge (parts in reverse order) with --hidden" 0 $T merge $parts --out "$SH/m$N.npy" \
    --hidden "$SH/hm$N.npy" --json
  check "shard: N = $N: merged alpha is the single run's, byte for byte" cmp -s "$SH/alpha.npy" "$SH/m$N.npy"
  check "shard: N = $N: merged hidden states are the single run's" cmp -s "$SH/h.npy" "$SH/hm$N.npy"
  check "shard: N = $N: merged token rows are the single run's" cmp -s "$SH/h.tokens.npy" "$SH/hm$N.tokens.npy"
done
check "shard: merge --json: 6 samples, 58 tokens" sh -c "grep -q '\"samples\": 6' '$TMP/out' && grep -q '\"tokens\": 58' '$TMP/out'"
check "shard: merge --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
$T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --shard 6/7 --out "$SH/parts/empty.part" --json > "$TMP/out" 2>&1
check "shard: shard 6 of 7 is empty" test "$(json_field samples "$TMP/out")" = 0
check "shard: the part records the sha256 of DATA" grep -aq "$(sha256sum "$SH/data.ids" | cut -c1-64)" "$SH/parts/n2-0.part"

G=golden/models/neox-full-rotary-tied-sharded
echo "1 2 3" > "$SH/d3.ids"
run "shard: a checkpoint in shards" 0 $T probe "$G" "$SH/d3.ids" --ids-file --shard 0/1 --out "$SH/g.part"
for f in config.json model.safetensors.index.json model-00001-of-00002.safetensors model-00002-of-00002.safetensors; do
  check "shard: the part records $f with the digest sha256sum gives" \
    grep -aq "{\"name\": \"$f\", \"bytes\": $(wc -c < "$G/$f"), \"sha256\": \"$(sha256sum "$G/$f" | cut -c1-64)\"}" "$SH/g.part"
done

# f64, and text through the tokenizer
run "shard: single run, f64" 0 $T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --precision f64 --out "$SH/a64.npy"
for i in 0 1 2; do
  $T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --precision f64 --shard $i/3 --out "$SH/parts/f64-$i.part" > /dev/null 2>&1
done
run "shard: single run, f64, --save-hidden" 0 $T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --precision f64 \
  --out "$SH/a64h.npy" --save-hidden "$SH/h64.npy"
for i in 0 1; do
  $T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --precision f64 --shard $i/2 --out "$SH/parts/f64h-$i.part" \
    --save-hidden "$SH/parts/h64-$i.npy" > /dev/null 2>&1
done
run "shard: merge f64 parts with --hidden" 0 $T merge "$SH/parts/f64h-1.part" "$SH/parts/f64h-0.part" --out "$SH/m64h.npy" \
  --hidden "$SH/hm64.npy"
check "shard: f64: merged hidden states (<f8) are the single run's" cmp -s "$SH/h64.npy" "$SH/hm64.npy"
check "shard: f64: merged alpha is the single run's (with --save-hidden)" cmp -s "$SH/a64h.npy" "$SH/m64h.npy"
run "shard: merge f64 parts" 0 $T merge "$SH/parts/f64-1.part" "$SH/parts/f64-0.part" "$SH/parts/f64-2.part" --out "$SH/m64.npy"
check "shard: f64: merged alpha is the single run's" cmp -s "$SH/a64.npy" "$SH/m64.npy"

run "shard: random-model with the tiny BPE's vocabulary" 0 $T random-model "$SH/tm" --vocab 1756 --width 16 --heads 2 \
  --layers 1 --ctx 16 --scale 0.3
cp golden/tokenizer/tiny-bpe/vocab.json golden/tokenizer/tiny-bpe/merges.txt "$SH/tm/"
printf 'hello world\nthe quick brown fox\njumps over the lazy dog, again and again\n' > "$SH/text.txt"
run "shard: text, single run" 0 $T probe "$SH/tm" "$SH/text.txt" --max-len 8 --out "$SH/at.npy"
$T probe "$SH/tm" "$SH/text.txt" --max-len 8 --shard 0/2 --out "$SH/parts/t-0.part" > /dev/null 2>&1
$T probe "$SH/tm" "$SH/text.txt" --max-len 8 --shard 1/2 --out "$SH/parts/t-1.part" > /dev/null 2>&1
run "shard: text, merge" 0 $T merge "$SH/parts/t-0.part" "$SH/parts/t-1.part" --out "$SH/mt.npy"
check "shard: text: merged alpha is the single run's" cmp -s "$SH/at.npy" "$SH/mt.npy"

# ---- refusals -------------------------------------------------------------------------
P=$SH/parts
rm -f "$SH/x.npy"
expect_err "shard: merge refuses a duplicate shard" 1 "n3-1.part and .*n3-1b.part are both shard 1 of 3" \
  sh -c "cp '$P/n3-1.part' '$P/n3-1b.part' && $T merge '$P/n3-0.part' '$P/n3-1.part' '$P/n3-1b.part' --out '$SH/x.npy'"
expect_err "shard: merge refuses a part given twice" 1 "n3-1.part is given twice" \
  $T merge "$P/n3-0.part" "$P/n3-1.part" "$P/n3-1.part" --out "$SH/x.npy"
expect_err "shard: merge names the missing shards" 1 "2 of 7 shards missing: 3, 6 \\(5 parts given\\)" \
  $T merge "$P/n7-0.part" "$P/n7-1.part" "$P/n7-2.part" "$P/n7-4.part" "$P/n7-5.part" --out "$SH/x.npy"
expect_err "shard: merge refuses parts of runs split differently" 1 "n2-1.part: shard 1 of 2; .*n3-0.part: shard 0 of 3" \
  $T merge "$P/n3-0.part" "$P/n2-1.part" "$P/n3-2.part" --out "$SH/x.npy"
head -c 3000 "$P/n3-1.part" > "$P/trunc.part"
expect_err "shard: merge names a truncated part" 1 "trunc.part: truncated: 3000 bytes, expected" \
  $T merge "$P/n3-0.part" "$P/trunc.part" "$P/n3-2.part" --out "$SH/x.npy"
cp "$P/n3-1.part" "$P/corrupt.part"
printf '\001' | dd of="$P/corrupt.part" bs=1 seek=2000 conv=notrunc 2> /dev/null
expect_err "shard: merge names a corrupt part" 1 "corrupt.part: checksum mismatch: the file is corrupt" \
  $T merge "$P/n3-0.part" "$P/corrupt.part" "$P/n3-2.part" --out "$SH/x.npy"
expect_err "shard: merge refuses a file that is not a part" 1 "data.ids: not a tpe part file" \
  $T merge "$P/n3-0.part" "$SH/data.ids" --out "$SH/x.npy"
run "shard: another model (other seed)" 0 $T random-model "$SH/m2" --type gpt_neox --vocab 50 --width 16 --heads 2 --layers 2 \
  --ctx 16 --seed 6 --scale 0.4
$T probe "$SH/m2" "$SH/data.ids" --ids-file --max-len 8 --shard 1/3 --out "$P/wm.part" > /dev/null 2>&1
expect_err "shard: merge refuses a part of another model, naming the file that differs" 1 \
  "wm.part: made from another model than .*n3-0.part \\(model.safetensors: sha256" \
  $T merge "$P/n3-0.part" "$P/wm.part" "$P/n3-2.part" --out "$SH/x.npy"
$T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 7 --shard 1/3 --out "$P/wl.part" > /dev/null 2>&1
expect_err "shard: merge refuses another --max-len" 1 "wl.part: --max-len 7; .*n3-0.part: --max-len 8" \
  $T merge "$P/n3-0.part" "$P/wl.part" "$P/n3-2.part" --out "$SH/x.npy"
expect_err "shard: merge refuses another --precision" 1 "f64-1.part: --precision f64; .*n3-0.part: --precision f32" \
  $T merge "$P/n3-0.part" "$P/f64-1.part" "$P/n3-2.part" --out "$SH/x.npy"
head -n 3 "$SH/data.ids" > "$SH/data2.ids"
$T probe "$SH/m" "$SH/data2.ids" --ids-file --max-len 8 --shard 1/3 --out "$P/wd.part" > /dev/null 2>&1
expect_err "shard: merge refuses another DATA file" 1 "wd.part: made from another DATA file than" \
  $T merge "$P/n3-0.part" "$P/wd.part" "$P/n3-2.part" --out "$SH/x.npy"
# the same text through a tokenizer with fewer merges: same model files, same DATA, other tokens
mkdir -p "$SH/tm2"
cp "$SH/tm/config.json" "$SH/tm/model.safetensors" "$SH/tm/vocab.json" "$SH/tm2/"
head -n 200 "$SH/tm/merges.txt" > "$SH/tm2/merges.txt"
$T probe "$SH/tm2" "$SH/text.txt" --max-len 8 --shard 1/2 --out "$P/wt.part" > /dev/null 2>&1
expect_err "shard: merge refuses parts whose tokenizer differs" 1 "wt.part: the same DATA gave other tokens .*the tokenizer differs" \
  $T merge "$P/t-0.part" "$P/wt.part" --out "$SH/x.npy"
check "shard: no output after a refused merge" test ! -e "$SH/x.npy"
simd=$($T cpu --json | sed -n 's/.*"simd": "\([a-z0-9]*\)".*/\1/p')
if [ "$simd" != scalar ]; then
  TPE_SIMD=scalar $T probe "$SH/m" "$SH/data.ids" --ids-file --max-len 8 --shard 1/3 --out "$P/ws.part" > /dev/null 2>&1
  expect_err "shard: merge refuses a part made on another kernel path" 1 "ws.part: made on [a-z0-9_]*/scalar; .* on [a-z0-9_]*/$simd" \
    $T merge "$P/n3-0.part" "$P/ws.part" "$P/n3-2.part" --out "$SH/x.npy"
  run "shard: --allow-mixed-platforms merges it" 0 $T merge "$P/n3-0.part" "$P/ws.part" "$P/n3-2.part" --out "$SH/x.npy" \
    --allow-mixed-platforms
  run "shard: ... within 1e-6 of the single run" 0 $T compare "$SH/x.npy" "$SH/alpha.npy" --atol 1e-6 --rtol 0
  rm -f "$SH/x.npy"
else
  skip "shard: merge refuses a part made on another kernel path" "the default path is scalar here"
fi

# ---- hidden states ------------------------------------------------------------------------
expect_err "shard: merge --hidden needs parts written with --save-hidden" 1 "f64-0.part: written without --save-hidden" \
  $T merge "$P/f64-0.part" "$P/f64-1.part" "$P/f64-2.part" --out "$SH/x.npy" --hidden "$SH/hx.npy"
cp "$P/h3-1.npy" "$SH/h3-1.saved"
printf '\001' | dd of="$P/h3-1.npy" bs=1 seek=200 conv=notrunc 2> /dev/null
expect_err "shard: merge --hidden refuses a changed hidden-state file" 1 "h3-1.npy: not the file .*n3-1.part records" \
  $T merge "$P/n3-0.part" "$P/n3-1.part" "$P/n3-2.part" --out "$SH/x.npy" --hidden "$SH/hx.npy"
check "shard: no hidden output after a refused merge" test ! -e "$SH/hx.npy" -a ! -e "$SH/x.npy"
# moved together with their parts: found beside the part
mkdir -p "$SH/moved"
mv "$SH/h3-1.saved" "$SH/moved/h3-1.npy"
rm -f "$P/h3-1.npy"
for f in n3-0.part n3-1.part n3-2.part h3-0.npy h3-0.tokens.npy h3-1.tokens.npy h3-2.npy h3-2.tokens.npy; do mv "$P/$f" "$SH/moved/"; done
run "shard: merge --hidden finds the files beside moved parts" 0 $T merge "$SH/moved/n3-0.part" "$SH/moved/n3-1.part" \
  "$SH/moved/n3-2.part" --out "$SH/x.npy" --hidden "$SH/hx.npy"
check "shard: ... and they are the single run's" cmp -s "$SH/h.npy" "$SH/hx.npy"
rm -f "$SH/moved/h3-2.tokens.npy"
expect_err "shard: merge --hidden names a missing hidden-state file" 1 "n3-2.part: its hidden states .*h3-2.tokens.npy are not there" \
  $T merge "$SH/moved/n3-0.part" "$SH/moved/n3-1.part" "$SH/moved/n3-2.part" --out "$SH/y.npy" --hidden "$SH/hy.npy"

# ---- usage ------------------------------------------------------------------------------------
expect_err "shard: --shard must be I/N" 2 "expected I/N" $T probe "$SH/m" "$SH/data.ids" --ids-file --shard 1:3 --out "$SH/x.part"
expect_err "shard: --shard I below N" 2 "I must be below N" $T probe "$SH/m" "$SH/data.ids" --ids-file --shard 3/3 --out "$SH/x.part"
expect_err "shard: merge needs parts" 2 "" $T merge --out "$SH/x.npy"
expect_err "shard: merge needs --out" 2 "[-][-]out is required" $T merge "$P/n2-0.part"
if grep -aq MPI_Init "$TPE"; then
  skip "shard: a tpe without MPI refuses to run as one of several mpirun processes" "this is the MPI build (make test-mpi checks it)"
else
  expect_err "shard: a tpe without MPI refuses to run as one of several mpirun processes" 2 "built without MPI" \
    env OMPI_COMM_WORLD_SIZE=2 $T probe "$SH/m" "$SH/data.ids" --ids-file --out "$SH/x.npy"
fi
run "shard: merge --help" 0 $T merge --help
expect_err "shard: DATA must be a regular file (it is hashed)" 1 "not a regular file" \
  sh -c "cat '$SH/data.ids' | $T probe '$SH/m' /dev/stdin --ids-file --shard 0/2 --out '$SH/x.part'"
