#!/bin/sh
# tools/bench_forward.sh -- `tpe bench forward` beside PyTorch on the same
# GPT-2-124M-shaped model with random weights, T = 256 tokens, one thread,
# the same work (forward pass, softmax over the 50257-token vocabulary at
# every position, alpha accumulated in double). The two alternate for
# ROUNDS rounds so that machine noise hits both; the best of each is kept.
# PyTorch: Debian's python3-torch 1.13 with transformers 4.29.2 from
# PYTHONPATH (default /work/pyenv), torch.set_num_threads(1) and
# OPENBLAS_NUM_THREADS=1 (torch's thread setting does not reach the
# OpenBLAS thread pool it calls for matrix products).
set -u
TPE=${TPE:-./tpe}
ROUNDS=${ROUNDS:-3}
TOKENS=${TOKENS:-256}
MODEL=${MODEL:-build/bench/gpt2-124m}
PY=${PY:-/usr/bin/python3}
export PYTHONPATH=${PYTHONPATH:-/work/pyenv} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TPE_THREADS=1
if [ ! -d "$MODEL" ]; then
  mkdir -p "$(dirname "$MODEL")"
  $TPE random-model "$MODEL" --seed 1 || exit 1
fi
torch_ok=1
$PY -c "import torch, transformers" 2>/dev/null || { torch_ok=0; echo "(python3-torch or transformers not found: tpe only)"; }
num() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p"; }
best_t=0 best_p=0 rss=0 wb=0 r=0
while [ $r -lt "$ROUNDS" ]; do
  out=$($TPE bench forward "$MODEL" --tokens "$TOKENS" --json) || exit 1
  t=$(echo "$out" | num tokens_per_s)
  best_t=$(awk -v a="$best_t" -v b="$t" 'BEGIN { print (b > a ? b : a) }')
  rss=$(echo "$out" | num peak_rss_bytes)
  wb=$(echo "$out" | num weight_bytes)
  simd=$(echo "$out" | sed -n 's/.*"simd": "\([a-z0-9]*\)".*/\1/p')
  if [ $torch_ok = 1 ]; then
    p=$($PY tools/bench_forward_torch.py "$MODEL" --tokens "$TOKENS" | num tokens_per_s)
    best_p=$(awk -v a="$best_p" -v b="$p" 'BEGIN { print (b > a ? b : a) }')
  fi
  r=$((r + 1))
done
echo "forward pass + alpha over the vocabulary, GPT-2-124M shapes, T = $TOKENS, one thread (best of $ROUNDS alternating rounds)"
echo
printf "| %-28s | %12s |\n" "implementation" "tokens/s"
printf "|%s|%s|\n" "------------------------------" "--------------"
printf "| %-28s | %12.1f |\n" "tpe ($simd)" "$best_t"
if [ $torch_ok = 1 ]; then
  printf "| %-28s | %12.1f |\n" "PyTorch $($PY -c 'import torch; print(torch.__version__)')" "$best_p"
  echo
  awk -v a="$best_t" -v b="$best_p" 'BEGIN { printf "ratio tpe / PyTorch: %.2f\n", a / b }'
fi
awk -v r="$rss" -v w="$wb" 'BEGIN { printf "tpe peak RSS %.1f MB = weights %.1f MB + %.1f MB\n", r / 1048576, w / 1048576, (r - w) / 1048576 }'
