#!/bin/sh
# tools/bench_tokenizer.sh -- GPT-2 encode throughput of tpe beside Hugging
# Face transformers' GPT2Tokenizer (the pure-Python "slow" tokenizer, which is
# OpenAI's encoder.py algorithm: the `regex` module plus BPE with a word
# cache), run side by side on the same text, rounds alternating; and a check
# that both give the same ids.
#
#   sh tools/bench_tokenizer.sh [GPT2_DIR] [CORPUS]
#
# GPT2_DIR: vocab.json + merges.txt (default ../shared/reference/gpt2-tokenizer).
# CORPUS: UTF-8 text (default: Vim's documentation, /usr/share/vim/vim*/doc/*.txt
# concatenated, when installed). transformers comes from PYTHONPATH
# (default /work/pyenv); without it only tpe is timed.
# tpe's time is tokenization only ("seconds" of `tpe count --json`: the file
# streamed through the tokenizer, without loading it); the whole command's
# wall time is shown too.
set -u
TPE=${TPE:-./tpe}
ROUNDS=${ROUNDS:-3}
G=${1:-../shared/reference/gpt2-tokenizer}
CORPUS=${2:-}
label=$CORPUS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tpe-bench-tok.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ -z "$CORPUS" ]; then
  set -- /usr/share/vim/vim*/doc/*.txt
  [ -f "$1" ] || { echo "no CORPUS given and Vim's documentation is not installed"; exit 2; }
  cat "$@" > "$tmp/corpus.txt"
  CORPUS=$tmp/corpus.txt
  label="Vim's documentation ($# files)"
fi
bytes=$(wc -c < "$CORPUS" | tr -d ' ')
export PYTHONPATH=${PYTHONPATH:-/work/pyenv} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
cat > "$tmp/hf.py" <<'EOF'
import sys, time
from transformers import GPT2Tokenizer
import transformers
tok = GPT2Tokenizer(sys.argv[1] + "/vocab.json", sys.argv[1] + "/merges.txt")
text = open(sys.argv[2], encoding="utf-8").read()
t0 = time.perf_counter()
ids = tok.encode(text)
t = time.perf_counter() - t0
sys.stderr.write("%s %.6f\n" % (transformers.__version__, t))
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as f:
        f.write(" ".join(map(str, ids)) + "\n")
EOF
# GPT-2's model in Pythia's tokenizer.json layout (NFC normalizer, <|endoftext|>
# and runs of 2..24 spaces as added tokens), to time those steps
mkdir -p "$tmp/neox"
cat > "$tmp/neox.py" <<'EOF'
import json, sys
d, out = sys.argv[1], sys.argv[2]
v = json.load(open(d + "/vocab.json", encoding="utf-8"))
m = [l for l in open(d + "/merges.txt", encoding="utf-8").read().split("\n")[1:] if l]
added = [{"id": v["<|endoftext|>"], "content": "<|endoftext|>", "special": True, "normalized": False}]
for k in range(24, 1, -1):
    added.append({"id": len(v) + 24 - k, "content": " " * k, "special": False, "normalized": True})
bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True}
json.dump({"version": "1.0", "added_tokens": added, "normalizer": {"type": "NFC"}, "pre_tokenizer": bl,
           "post_processor": bl, "decoder": bl, "model": {"type": "BPE", "vocab": v, "merges": m}},
          open(out, "w", encoding="utf-8"), ensure_ascii=False)
EOF
/usr/bin/python3 "$tmp/neox.py" "$G" "$tmp/neox/tokenizer.json" || echo "(could not build the Pythia-layout tokenizer.json)"
HAVE_HF=1
/usr/bin/python3 -c "import transformers" 2>/dev/null || HAVE_HF=0
best_t=1e30 best_w=1e30 best_h=1e30 best_l=1e30 best_n=1e30 r=0 hfv=""
while [ $r -lt "$ROUNDS" ]; do
  t0=$(date +%s.%N)
  s=$($TPE count "$G" "$CORPUS" --out "$tmp/freq.npy" --json --quiet | sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p')
  t1=$(date +%s.%N)
  best_t=$(awk -v a="$best_t" -v b="$s" 'BEGIN { print (b < a ? b : a) }')
  best_w=$(awk -v a="$best_w" -v b="$t0" -v c="$t1" 'BEGIN { d = c - b; print (d < a ? d : a) }')
  s=$($TPE count "$G" "$CORPUS" --out "$tmp/freq.npy" --json --quiet --lines)
  texts=$(echo "$s" | sed -n 's/.*"texts": \([0-9]*\).*/\1/p')
  s=$(echo "$s" | sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p')
  best_l=$(awk -v a="$best_l" -v b="$s" 'BEGIN { print (b < a ? b : a) }')
  if [ -f "$tmp/neox/tokenizer.json" ]; then
    s=$($TPE count "$tmp/neox" "$CORPUS" --out "$tmp/freq.npy" --json --quiet | sed -n 's/.*"seconds": \([0-9.e+-]*\).*/\1/p')
    best_n=$(awk -v a="$best_n" -v b="$s" 'BEGIN { print (b < a ? b : a) }')
  fi
  if [ $HAVE_HF = 1 ]; then
    out=$(/usr/bin/python3 "$tmp/hf.py" "$G" "$CORPUS" 2>&1 >/dev/null | tail -n 1)
    hfv=${out% *}
    best_h=$(awk -v a="$best_h" -v b="${out#* }" 'BEGIN { print (b < a ? b : a) }')
  fi
  r=$((r + 1))
done
echo "GPT-2 encode, $bytes bytes of $label, best of $ROUNDS alternating rounds, one thread"
echo
printf "| %-44s | %9s | %8s |\n" "tokenizer" "seconds" "MB/s"
printf "|%s|%s|%s|\n" "----------------------------------------------" "-----------" "----------"
printf "| %-44s | %9.3f | %8.2f |\n" "tpe (tokenization)" "$best_t" "$(awk -v b="$bytes" -v t="$best_t" 'BEGIN { print b / t / 1e6 }')"
printf "| %-44s | %9.3f | %8.2f |\n" "tpe, each of $texts lines a text (--lines)" "$best_l" "$(awk -v b="$bytes" -v t="$best_l" 'BEGIN { print b / t / 1e6 }')"
[ -f "$tmp/neox/tokenizer.json" ] && printf "| %-44s | %9.3f | %8.2f |\n" "tpe, Pythia layout (NFC + added tokens)" "$best_n" "$(awk -v b="$bytes" -v t="$best_n" 'BEGIN { print b / t / 1e6 }')"
printf "| %-44s | %9.3f | %8.2f |\n" "tpe count (whole command, with loading)" "$best_w" "$(awk -v b="$bytes" -v t="$best_w" 'BEGIN { print b / t / 1e6 }')"
if [ $HAVE_HF = 1 ]; then
  printf "| %-44s | %9.3f | %8.2f |\n" "transformers $hfv GPT2Tokenizer (Python)" "$best_h" "$(awk -v b="$bytes" -v t="$best_h" 'BEGIN { print b / t / 1e6 }')"
  echo
  echo "ratio tpe / transformers: $(awk -v a="$best_h" -v b="$best_t" 'BEGIN { printf "%.1f", a / b }')x"
  $TPE tokenize "$G" < "$CORPUS" > "$tmp/tpe.ids"
  /usr/bin/python3 "$tmp/hf.py" "$G" "$CORPUS" "$tmp/hf.ids" 2>/dev/null
  if cmp -s "$tmp/tpe.ids" "$tmp/hf.ids"; then
    echo "ids: identical ($(wc -w < "$tmp/tpe.ids" | tr -d ' ') tokens)"
  else
    echo "ids: DIFFER"; exit 1
  fi
fi
