# tests/cli/demo_data.sh -- the shipped default (golden/demo/, made by
# tools/demo_data.sh): intact, complete, and -- once `tpe tokenize` exists --
# tokenized by tpe exactly as by transformers' GPT2Tokenizer (corpus/*.ids).

D=golden/demo
if [ ! -f "$D/SHA256SUMS" ]; then
  skip "demo data" "$D/SHA256SUMS is missing"
elif ! command -v sha256sum >/dev/null 2>&1; then
  skip "demo data checksums" "no sha256sum"
else
  if (cd "$D" && sha256sum --quiet -c SHA256SUMS) > "$TMP/out" 2>&1; then
    ok "demo data: every file matches golden/demo/SHA256SUMS"
  else
    bad "demo data: files differ from golden/demo/SHA256SUMS" "$(head -c 300 "$TMP/out")"
  fi
  for m in gpt2 neox; do
    check "demo data: $m is a model directory" test -f "$D/$m/config.json" -a -f "$D/$m/model.safetensors"
  done
  check "demo data: one id line per detect sample" \
    test "$(wc -l < "$D/corpus/detect.ids")" -eq "$(wc -l < "$D/corpus/detect.txt")"

  if $T tokenize --help > /dev/null 2>&1; then
    n=40; [ -n "${TPE_TEST_QUICK:-}" ] && n=8
    # gpt2/ holds vocab.json + merges.txt, neox/ tokenizer.json: the same tokenizer
    for m in gpt2 neox; do
      i=0 diff=""
      while [ $i -lt $n ]; do
        i=$((i + 1))
        sed -n "${i}p" "$D/corpus/detect.txt" | tr -d '\n' > "$TMP/line"
        want=$(sed -n "${i}p" "$D/corpus/detect.ids")
        got=$($T tokenize "$D/$m" < "$TMP/line" 2>&1)
        if [ "$got" != "$want" ]; then diff="line $i: got '$(echo "$got" | head -c 120)', want '$(echo "$want" | head -c 120)'"; break; fi
      done
      if [ -z "$diff" ]; then ok "demo data: tpe tokenize $m/ gives corpus/detect.ids (first $n samples)"
      else bad "demo data: tpe tokenize $m/ differs from corpus/detect.ids" "$diff"; fi
    done
  else
    skip "demo data: tpe tokenize vs corpus/detect.ids" "no tokenize command in this build"
  fi
fi
