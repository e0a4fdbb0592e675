# tests/cli/tokenize.sh -- tpe tokenize (SPEC: ids of all of stdin, separated
# by single spaces, then a newline) and tpe count (token counts of a corpus).

TINY=golden/tokenizer/tiny-bpe      # vocab.json + merges.txt
TINYJ=golden/tokenizer/tiny-json    # the same model as a tokenizer.json
NEOX=golden/tokenizer/tiny-neox     # Pythia's layout: NFC, added tokens

# a text across scripts, marks, emoji, whitespace runs, apostrophes, digits
printf 'Hello, world! It'"'"'s 3.14 -- caf\303\251 e\314\201 \316\261\316\262\316\263 \320\264\320\260 \344\270\255\346\226\207 \360\237\230\200\n\n  tabs\t\tand   spaces <|endoftext|> don'"'"'t  \r\n' > "$TMP/mixed.txt"

run "tokenize reads stdin" 0 sh -c "$T tokenize $TINY < $TMP/mixed.txt"
cp "$TMP/out" "$TMP/ids_tiny"
check "tokenize prints one line of ids separated by single spaces" \
  sh -c "test \$(wc -l < $TMP/ids_tiny) -eq 1 && grep -Eq '^[0-9]+( [0-9]+)*\$' $TMP/ids_tiny"
run "tokenize reads tokenizer.json" 0 sh -c "$T tokenize $TINYJ < $TMP/mixed.txt"
check "tokenizer.json gives the ids of vocab.json + merges.txt" cmp -s "$TMP/out" "$TMP/ids_tiny"

run "tokenize --decode" 0 sh -c "$T tokenize $TINY --decode < $TMP/ids_tiny"
check "decode(encode(text)) == text" cmp -s "$TMP/out" "$TMP/mixed.txt"
run "tokenize --json" 0 sh -c "$T tokenize $TINY --json < $TMP/mixed.txt"
check "tokenize --json is one line with tokens and ids" \
  sh -c "test \$(wc -l < $TMP/out) -eq 1 && grep -q '\"tokens\": [0-9]' $TMP/out && grep -q '\"ids\": \[' $TMP/out"
run "tokenize --decode --json" 0 sh -c "$T tokenize $TINY --decode --json < $TMP/ids_tiny"
check "decode --json has the text" grep -q '"text": "Hello, world!' "$TMP/out"

printf '' > "$TMP/empty.txt"
run "tokenize of empty stdin" 0 sh -c "$T tokenize $TINY < $TMP/empty.txt"
check "empty stdin prints an empty line" sh -c "test \"\$(od -An -c $TMP/out | tr -d ' ')\" = '\\n'"

# added tokens and NFC (Pythia's layout): <|endoftext|> is id 0, e + U+0301 is NFC'd to U+00E9
printf '<|endoftext|>' > "$TMP/eot.txt"
run "tokenize with added tokens" 0 sh -c "$T tokenize $NEOX < $TMP/eot.txt"
check "<|endoftext|> is the added token 0 in tokenizer.json" test "$(cat "$TMP/out")" = "0"
printf 'e\314\201' > "$TMP/decomposed.txt"
printf '\303\251' > "$TMP/composed.txt"
$T tokenize $NEOX < "$TMP/decomposed.txt" > "$TMP/nfc1" 2>&1
$T tokenize $NEOX < "$TMP/composed.txt" > "$TMP/nfc2" 2>&1
check "the NFC normalizer makes e+U+0301 and U+00E9 the same ids" cmp -s "$TMP/nfc1" "$TMP/nfc2"
$T tokenize $TINY < "$TMP/decomposed.txt" > "$TMP/nfc3" 2>&1
check "without a normalizer they differ" sh -c "! cmp -s $TMP/nfc1 $TMP/nfc3"

# errors
printf 'ok \377 no' > "$TMP/bad.txt"
expect_err "invalid UTF-8 is an error naming the byte offset" 1 "stdin: invalid UTF-8 at byte offset 3" \
  sh -c "$T tokenize $TINY < $TMP/bad.txt"
check "nothing is printed for invalid UTF-8" test ! -s "$TMP/out"
printf '5 999999\n' > "$TMP/badids.txt"
expect_err "decoding an unknown id is an error" 1 "id 999999 \(position 1\) is not in the vocabulary" \
  sh -c "$T tokenize $TINY --decode < $TMP/badids.txt"
printf '5 x\n' > "$TMP/badids.txt"
expect_err "decoding a non-number is an error" 1 "expected token ids" sh -c "$T tokenize $TINY --decode < $TMP/badids.txt"
expect_err "tokenize needs DIR" 2 "expected DIR" $T tokenize
expect_err "--decode and --verify together" 2 "do not go together" $T tokenize $TINY --decode --verify x
expect_err "tokenize of a directory without a tokenizer" 1 "no tokenizer.json, and no vocab.json" $T tokenize tests

mkdir -p "$TMP/tokbad"
head -c 5000 $TINY/vocab.json > "$TMP/tokbad/vocab.json"
cp $TINY/merges.txt "$TMP/tokbad/merges.txt"
expect_err "a truncated vocab.json is an error" 1 "vocab.json: invalid JSON" sh -c "$T tokenize $TMP/tokbad < $TMP/mixed.txt"
cp $TINY/vocab.json "$TMP/tokbad/vocab.json"
printf '#version: 0.2\n\304\240 t\nxyzzy q\n' > "$TMP/tokbad/merges.txt"
expect_err "a merge of an unknown token is an error" 1 "merges.txt: line 3: merge 'xyzzy q': 'xyzzy' is not in the vocabulary" \
  sh -c "$T tokenize $TMP/tokbad < $TMP/mixed.txt"
printf '#version: 1.0\n\304\240 t\n' > "$TMP/tokbad/merges.txt"
expect_err "a bad merges header is an error" 1 "merges.txt: line 1: unsupported header" \
  sh -c "$T tokenize $TMP/tokbad < $TMP/mixed.txt"

# --verify, and every line of the shared GPT-2 encodings
printf '{"text": "x", "ids": [1, 2]}\n' > "$TMP/wrong.jsonl"
expect_err "--verify reports a difference" 1 "1 of 1 encodings in .* differ" $T tokenize $TINY --verify "$TMP/wrong.jsonl"
if [ -n "$SHARED" ]; then
  G=$SHARED/reference/gpt2-tokenizer
  run "tokenize --verify every shared GPT-2 encoding" 0 $T tokenize $G --verify $G/encodings.jsonl
  check "all shared encodings match" grep -q '^56 texts, 56 match, 0 differ' "$TMP/out"
  run "tokenize --verify --json" 0 $T tokenize $G --verify $G/encodings.jsonl --json
  check "--verify --json: no mismatches" grep -q '"mismatches": 0' "$TMP/out"
  printf 'Hello world' > "$TMP/hw.txt"
  run "tokenize Hello world" 0 sh -c "$T tokenize $G < $TMP/hw.txt"
  check "Hello world is 15496 995 (SPEC format)" test "$(cat "$TMP/out")" = "15496 995"
  # through stdin: each line's text is rebuilt by --decode, then tokenized
  # from stdin and compared with the line's ids (every 4th line natively,
  # every 14th under emulation; --verify above read them all)
  step=4
  [ -n "$RUNNER" ] && step=14
  n=0 bad=0 tried=0
  while IFS= read -r line; do
    n=$((n + 1))
    [ $(( (n - 1) % step )) -eq 0 ] || continue
    want=$(printf '%s\n' "$line" | sed 's/.*"ids": \[\(.*\)\]}$/\1/' | tr -d ',')
    printf '%s\n' "$want" | $T tokenize $G --decode > "$TMP/line.txt" 2>/dev/null
    got=$($T tokenize $G < "$TMP/line.txt" 2>/dev/null)
    tried=$((tried + 1))
    [ "$got" = "$want" ] || { bad=$((bad + 1)); echo "    line $n: got '$got', want '$want'"; }
  done < "$G/encodings.jsonl"
  check "shared encodings through stdin ($tried lines)" test "$bad" -eq 0 -a "$tried" -gt 0
else
  skip "shared GPT-2 encodings" "../shared absent"
fi

# ---- tpe count ---------------------------------------------------------------
{ cat "$TMP/mixed.txt"; printf 'second line\n\nthird  line with   spaces\nno newline at the end'; } > "$TMP/corpus.txt"
run "count --json" 0 $T count $TINY "$TMP/corpus.txt" --out "$TMP/freq.npy" --json
cp "$TMP/out" "$TMP/count.json"
$T tokenize $TINY < "$TMP/corpus.txt" > "$TMP/corpus.ids"
ntok=$(wc -w < "$TMP/corpus.ids" | tr -d ' ')
check "count --json is one line" test "$(wc -l < "$TMP/count.json")" -eq 1
check "count: tokens = tokenize of the whole file" test "$(json_field tokens "$TMP/count.json")" = "$ntok"
check "count: lines" test "$(json_field lines "$TMP/count.json")" = "7"
check "count: vocab is the tokenizer's" test "$(json_field vocab "$TMP/count.json")" = "1756"
check "count: freq.npy is <i8 of shape (1756,)" \
  sh -c "head -c 128 $TMP/freq.npy | grep -aq \"'descr': '<i8', 'fortran_order': False, 'shape': (1756,)\""
# the counts themselves against a histogram of the tokenize output (the
# header is padded to 64 bytes; od reads the <i8 values on little-endian hosts)
if [ "$(printf '\001\000' | od -An -t d2 | tr -d ' ')" = 1 ]; then
  hl=$(( $(wc -c < "$TMP/freq.npy") - 1756 * 8 ))
  od -An -v -t d8 -j "$hl" "$TMP/freq.npy" | tr -s ' ' '\n' | sed '/^$/d' | awk '$1 != 0 { print NR - 1, $1 }' > "$TMP/hist_count"
  tr ' ' '\n' < "$TMP/corpus.ids" | sort -n | uniq -c | awk '{ print $2, $1 }' > "$TMP/hist_tok"
  check "count: every id's count equals the tokenize histogram" cmp -s "$TMP/hist_count" "$TMP/hist_tok"
else
  skip "count: histogram check" "od reads <i8 only on a little-endian host"
fi
run "count from stdin" 0 sh -c "$T count $TINY - --out $TMP/freq2.npy < $TMP/corpus.txt"
check "count from stdin writes the same counts" cmp -s "$TMP/freq.npy" "$TMP/freq2.npy"

run "count --lines" 0 $T count $TINY "$TMP/corpus.txt" --out "$TMP/freq3.npy" --lines --json
nl=0
while IFS= read -r l || [ -n "$l" ]; do
  l=$(printf '%s' "$l" | tr -d '\r')
  [ -n "$l" ] && nl=$((nl + $(printf '%s' "$l" | $T tokenize $TINY | wc -w)))
done < "$TMP/corpus.txt"
check "count --lines: tokens = the lines tokenized one by one" test "$(json_field tokens "$TMP/out")" = "$nl"
check "count --lines: texts = non-empty lines" test "$(json_field texts "$TMP/out")" = "5"

mkdir -p "$TMP/cmodel"
cp $TINY/vocab.json $TINY/merges.txt "$TMP/cmodel/"
printf '{"model_type": "gpt2", "vocab_size": 1800}\n' > "$TMP/cmodel/config.json"
run "count with config.json" 0 $T count "$TMP/cmodel" "$TMP/corpus.txt" --out "$TMP/freq4.npy" --json
check "count: vocab is config.json's vocab_size" test "$(json_field vocab "$TMP/out")" = "1800"
printf '{"vocab_size": 100}\n' > "$TMP/cmodel/config.json"
expect_err "count: vocab_size below the tokenizer's ids" 1 "vocab_size 100 is smaller than the tokenizer's 1756 ids" \
  $T count "$TMP/cmodel" "$TMP/corpus.txt" --out "$TMP/freq5.npy"
check "count: no output file after an error" test ! -e "$TMP/freq5.npy"

printf 'good line\nanother\nbad \377 here\n' > "$TMP/badcorpus.txt"
expect_err "count: invalid UTF-8 names line and offset" 1 "line 3: invalid UTF-8 at byte offset 22" \
  $T count $TINY "$TMP/badcorpus.txt" --out "$TMP/freq6.npy"
check "count: no output file after invalid UTF-8" test ! -e "$TMP/freq6.npy"
expect_err "count --lines: invalid UTF-8 names line and offset" 1 "line 3: invalid UTF-8 at byte offset 22" \
  $T count $TINY "$TMP/badcorpus.txt" --out "$TMP/freq6.npy" --lines
expect_err "count needs --out" 2 "FREQ.npy is required" $T count $TINY "$TMP/corpus.txt"
expect_err "count of a missing corpus" 1 "cannot open" $T count $TINY "$TMP/nope.txt" --out "$TMP/freq7.npy"
