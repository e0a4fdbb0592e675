#!/bin/sh
# tools/demo_data.sh -- regenerate golden/demo/ (the shipped default) from nothing.
#
# Python is needed here only (tpe itself never needs it): Debian's python3 with
# python3-torch 1.13, numpy, statsmodels, python3-regex, and Hugging Face
# transformers 4.29.2 on PYTHONPATH. About 10 minutes of wall time on 2 free
# cores: the two models train side by side, one core each. Run it niced; the
# numbers it prints are the ones golden/demo/README.md records.
#
#   PYTHONPATH=/path/to/transformers-4.29.2 tools/demo_data.sh [OUT]
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-/usr/bin/python3}
OUT=${1:-golden/demo}
WORK=${WORK:-build/demo}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
NICE="nice -n 10"
mkdir -p "$OUT/check" "$WORK"

$NICE "$PY" tools/gen_corpus.py --out "$OUT/corpus" --train "$WORK/train.txt"
$NICE "$PY" tools/train_bpe.py --train "$WORK/train.txt" --vocab-size 2048 --out "$OUT/tokenizer" \
    --check "$OUT/corpus/detect.txt" "$OUT/corpus/test-id.txt" "$OUT/corpus/test-ood.txt" \
    --ids-out "$OUT/corpus"

# The checkpoint series (Fig. 7) is kept for the NeoX model only, as the
# paper follows Pythia's revisions.
$NICE "$PY" tools/train_demo.py --arch gpt2 --train "$WORK/train.txt" --tokenizer "$OUT/tokenizer" \
    --out "$OUT/gpt2" --eval "$OUT/corpus/test-id.txt" "$OUT/corpus/test-ood.txt" \
    --log "$OUT/check/train-gpt2.json" > "$WORK/train-gpt2.log" 2>&1 &
gpt2=$!
$NICE "$PY" tools/train_demo.py --arch neox --train "$WORK/train.txt" --tokenizer "$OUT/tokenizer" \
    --out "$OUT/neox" --checkpoints "$OUT/neox-checkpoints" \
    --eval "$OUT/corpus/test-id.txt" "$OUT/corpus/test-ood.txt" \
    --log "$OUT/check/train-neox.json" > "$WORK/train-neox.log" 2>&1 &
neox=$!
status=0
wait $gpt2 || status=1
wait $neox || status=1
grep -h -E "^train_demo|step +[0-9]+ +loss" "$WORK/train-gpt2.log" "$WORK/train-neox.log" | grep -E "train_demo|step +(1000|2000) " || true
[ $status -eq 0 ] || { echo "demo_data: training failed; see $WORK/train-*.log" >&2; exit 1; }

$NICE "$PY" tools/check_demo.py --demo "$OUT" --train "$WORK/train.txt" \
    --json "$OUT/check/check.json" --save "$OUT/check"
du -sh "$OUT"

# A manifest of the data (not of this run's timings), checked by
# tests/cli/demo_data.sh; on the same machine and library build a rerun
# reproduces every file in it byte for byte.
(cd "$OUT" && find . -type f ! -name README.md ! -name SHA256SUMS ! -path './check/train-*.json' \
    | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
