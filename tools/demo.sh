#!/bin/sh
# tools/demo.sh -- `make demo`: the paper's whole pipeline on the shipped default
# (golden/demo: the tied `gpt2` and untied `neox` demo models, V = 2048, d = 64),
# written to out/demo/: report.md, fig1-*.svg ... fig7-*.svg, json/ (every
# command's --json output), logs/ (every command's stderr), data/ (alpha, slopes,
# the numbers behind the figures).
#
# POSIX sh; needs only ./tpe (no Python, no jq): the report's numbers are read
# from the commands' JSON with `tpe json-get`.
#
# Environment:
#   TPE=path        the tpe binary (default ./tpe); RUNNER prefixes it (qemu)
#   TPE_DEMO_OUT    the output directory (default out/demo)
#   TPE_DEMO_QUICK=1  a reduced run for the tests (set too by TPE_TEST_QUICK=1):
#                   the first 20/10/10 samples of the three sets, 2 tokens, scales 1 and 2,
#                   a 3-point pruning curve with 10 short generations
#
# The run goes to a temporary directory beside the output, renamed at the end:
# a failed run leaves the previous report as it was and says which step failed.
# shellcheck disable=SC2046  # the report splits `tpe json-get` output into words on purpose (set -f)
set -u

TPE=${TPE:-./tpe}
RUNNER=${RUNNER:-}
OUT=${TPE_DEMO_OUT:-out/demo}
QUICK=${TPE_DEMO_QUICK:-}
[ -n "${TPE_TEST_QUICK:-}" ] && QUICK=1
G=golden/demo
C=$G/corpus

die() { echo "tpe demo: $*" >&2; exit 1; }
[ -d "$G/gpt2" ] && [ -d "$G/neox" ] || die "golden/demo is missing (run from the repository root)"
[ -x "$TPE" ] || [ -n "$RUNNER" ] || die "no tpe binary at $TPE (run 'make' first)"

parent=$(dirname "$OUT")
mkdir -p "$parent" || die "cannot create $parent"
TMP="$OUT.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP/json" "$TMP/logs" "$TMP/data" || die "cannot create $TMP"
trap 'rm -rf "$TMP"' EXIT
trap 'rm -rf "$TMP"; exit 130' INT TERM

# ---- timing: milliseconds (GNU date's %N when there, else whole seconds) ----
now_ms() {
  _t=$(date +%s%N 2>/dev/null)
  case $_t in
    *N*|'') echo $(( $(date +%s) * 1000 )) ;;
    *) echo $(( _t / 1000000 )) ;;
  esac
}
fmt_ms() { printf '%d.%02d' $(( $1 / 1000 )) $(( ($1 % 1000) / 10 )); }

# ---- the steps ----------------------------------------------------------------
NSTEPS=18
[ -n "$QUICK" ] && NSTEPS=16
n=0
TIMES="$TMP/logs/times.txt"
: > "$TIMES"
START=$(now_ms)

# step NAME CMD...: runs `tpe CMD... --json` (stdout -> json/NAME.json, stderr ->
# logs/NAME.txt), prints one line with its time; stops the demo on failure.
step() {
  _name=$1; shift
  n=$((n + 1))
  _t0=$(now_ms)
  $RUNNER "$TPE" "$@" --json > "$TMP/json/$_name.json" 2> "$TMP/logs/$_name.txt"
  _rc=$?
  _dt=$(( $(now_ms) - _t0 ))
  if [ "$_rc" -ne 0 ]; then
    printf '[%2d/%d] %-22s FAILED (exit %d after %s s)\n' "$n" "$NSTEPS" "$_name" "$_rc" "$(fmt_ms "$_dt")" >&2
    echo "tpe demo: step '$_name' failed: tpe $*" >&2
    sed 's/^/    /' "$TMP/logs/$_name.txt" | tail -n 5 >&2
    echo "tpe demo: no report written (the previous $OUT, if any, is unchanged)" >&2
    exit 1
  fi
  printf '[%2d/%d] %-22s %7s s\n' "$n" "$NSTEPS" "$_name" "$(fmt_ms "$_dt")"
  printf '%s\t%s\ttpe %s\n' "$_name" "$(fmt_ms "$_dt")" "$*" >> "$TIMES"
}

# The data: the whole shipped corpus, or in quick mode the first lines of each set.
DATA=$C
if [ -n "$QUICK" ]; then
  DATA=$TMP/data/corpus
  mkdir -p "$DATA"
  head -n 20 "$C/detect.ids" > "$DATA/detect.ids"
  head -n 10 "$C/test-id.ids" > "$DATA/test-id.ids"
  head -n 10 "$C/test-ood.ids" > "$DATA/test-ood.ids"
  head -n 10 "$C/prefixes.txt" > "$DATA/prefixes.txt"
fi
SETS="--detect $DATA/detect.ids --test-id $DATA/test-id.ids --test-ood $DATA/test-ood.ids --ids-file"
if [ -n "$QUICK" ]; then
  SE_NEOX="--tokens 2 --scales 1,2 --b=2,-inf,inf --sizes 1,4"
  SE_GPT2="--tokens 2 --scales 1,2 --no-sweep"
  PC="--step 50 --samples 10 --gen-tokens 8"
else
  SE_NEOX="--b=2,-inf,0,1,4,inf"
  SE_GPT2="--no-sweep --max-samples 100"
  PC="--step 10 --samples 100 --gen-tokens 24"
fi
D=$TMP/data
echo "tpe demo: the paper's pipeline on golden/demo (gpt2 tied, neox untied)${QUICK:+ -- QUICK mode}; output $OUT"

for m in gpt2 neox; do
  step "probe-$m" probe $G/$m "$DATA/detect.ids" --ids-file --out "$D/alpha-$m.npy" --quiet
done
if [ -z "$QUICK" ]; then
  for m in gpt2 neox; do
    step "compare-alpha-$m" compare "$D/alpha-$m.npy" $G/check/alpha-$m.npy --rtol 1e-4 --atol 0 --quiet
  done
fi
for m in gpt2 neox; do
  step "encoding-$m" encoding $G/$m --alpha "$D/alpha-$m.npy" --out "$D/encoding-$m" --quiet
done
for m in gpt2 neox; do
  step "sparsity-$m" sparsity $G/$m --alpha "$D/alpha-$m.npy" --out "$D/sparsity-$m" --quiet
done
# Tables 2-3, Figs. 4-5. neox (untied): the transformer runs once per set and every
# edit is exact on the cached hidden states. gpt2 (tied, the shared matrix edited as
# the paper did): every edit re-runs the windows holding the token -- subsampled.
# shellcheck disable=SC2086
step steer-eval-neox steer-eval $G/neox $SETS $SE_NEOX --out "$D/steer-neox" --quiet
# shellcheck disable=SC2086
step steer-eval-gpt2 steer-eval $G/gpt2 $SETS $SE_GPT2 --out "$D/steer-gpt2" --quiet
for m in neox gpt2; do
  # shellcheck disable=SC2086
  step "prune-curve-$m" prune-curve $G/$m --alpha "$D/alpha-$m.npy" --test "$DATA/test-id.ids" --ids-file \
    --prefixes "$DATA/prefixes.txt" $PC --svg "$TMP/fig6-prune-$m.svg" --quiet
done
# every checkpoint directory (tpe dynamics orders them by the step in the name)
step dynamics-neox dynamics --freq $G/check/counts-train.npy $G/neox-checkpoints/step* \
  --final $G/neox --svg "$TMP/fig7-dynamics-neox.svg" --quiet
for m in gpt2 neox; do
  step "unargmax-$m" unargmax $G/$m --exact --quiet
done
for m in gpt2 neox; do
  step "explain-$m" explain $G/$m "$DATA/detect.ids" --ids-file --alpha "$D/alpha-$m.npy" --out "$D/explain-$m" --quiet
done

# ---- figures ------------------------------------------------------------------
for m in gpt2 neox; do
  cp "$D/sparsity-$m/fig1.svg" "$TMP/fig1-pca-$m.svg" &&
  cp "$D/sparsity-$m/fig2.svg" "$TMP/fig2-sparsity-$m.svg" &&
  cp "$D/sparsity-$m/fig3.svg" "$TMP/fig3-fit-$m.svg" &&
  cp "$D/steer-$m/fig5.svg" "$TMP/fig5-steer-scale-$m.svg" || die "copying the figures of $m failed"
done
cp "$D/steer-neox/fig4.svg" "$TMP/fig4-detect-size-neox.svg" || die "copying Fig. 4 failed"

# ---- the report ---------------------------------------------------------------
set -f   # values are split into words below: no pathname expansion
n=$((n + 1))
_t0=$(now_ms)
R=$TMP/report.md
FAILMARK=$TMP/logs/report-errors.txt
: > "$FAILMARK"

# v FILE [options] PATH...: values from json/FILE.json, one per line (4 decimals
# unless options say otherwise); an error is recorded and shows as "?".
v() {
  _f=$1; shift
  if ! $RUNNER "$TPE" json-get "$TMP/json/$_f.json" --fixed 4 --null - "$@" 2>> "$FAILMARK"; then
    echo "json-get $_f $*" >> "$FAILMARK"
    echo "?"
  fi
}
# vr FILE PATH...: the raw value (shortest round-trip decimal, exact integers)
vr() {
  _f=$1; shift
  if ! $RUNNER "$TPE" json-get "$TMP/json/$_f.json" --null - "$@" 2>> "$FAILMARK"; then
    echo "json-get $_f $*" >> "$FAILMARK"
    echo "?"
  fi
}
# vs FILE N PATH...: N significant digits
vs() {
  _f=$1 _s=$2; shift 2
  if ! $RUNNER "$TPE" json-get "$TMP/json/$_f.json" --sig "$_s" --null - "$@" 2>> "$FAILMARK"; then
    echo "json-get $_f $*" >> "$FAILMARK"
    echo "?"
  fi
}
# vlen FILE PATH: the number of elements
vlen() {
  if ! $RUNNER "$TPE" json-get "$TMP/json/$1.json" --len "$2" 2>> "$FAILMARK"; then
    echo "json-get --len $1 $2" >> "$FAILMARK"
    echo 0
  fi
}

simd=$($RUNNER "$TPE" cpu --json > "$TMP/json/cpu.json" 2>> "$FAILMARK" && vr cpu simd)
version=$($RUNNER "$TPE" version 2>/dev/null)
{
echo "# tpe demo report"
echo
echo "The paper's pipeline -- Cho et al. 2024, *Understanding Token Probability Encoding in Output"
echo "Embeddings* (arXiv 2406.01468), and Grivas et al. 2022 for unargmaxable tokens -- run by"
echo "\`make demo\` (\`tools/demo.sh\`) with $version (kernel path \`$simd\`) on the shipped default"
echo "\`golden/demo\`: two 4-layer models trained here on a made-up language, **gpt2** (GPT-2"
echo "architecture, tied embeddings) and **neox** (GPT-NeoX architecture as Pythia, untied), each"
echo "with V = 2048 tokens and d = 64 dimensions (golden/demo/README.md). Every number below is"
echo "read from the JSON a command printed (\`json/<step>.json\`, with \`tpe json-get\`); the"
echo "commands are listed at the end. The paper's values come from docs/paper.md and"
echo "docs/paper-part2.md (the project's summary of the paper); where those give no number, the"
echo "report says where to look in the paper instead of quoting one."
echo
if [ -n "$QUICK" ]; then
  echo "**QUICK MODE (TPE_DEMO_QUICK=1, for the tests): only the first 20 detect, 10 test-id,"
  echo "10 test-ood samples and a few tokens and scales are used; the numbers are not the"
  echo "demo's.**"
  echo
fi
echo "The demo models are tiny (64 dimensions against the paper's 768-4096) and trained for"
echo "2000 steps on 8 M tokens, so they show *whether* each effect appears, not the paper's sizes."
echo

# ---- alpha
echo "## 1. Averaged probability alpha (\`tpe probe\`)"
echo
echo "alpha_w is the model's probability of token w averaged over every position of the"
echo "detect set D (App. A.1). Computed here, not copied:"
echo
echo "| | gpt2 | neox |"
echo "|---|---|---|"
echo "| samples / positions of D | $(vr probe-gpt2 samples) / $(vr probe-gpt2 tokens) | $(vr probe-neox samples) / $(vr probe-neox tokens) |"
echo "| sum of alpha (must be 1) | $(vs probe-gpt2 16 alpha_sum) | $(vs probe-neox 16 alpha_sum) |"
if [ -z "$QUICK" ]; then
  echo "| largest relative difference from the Python check (\`golden/demo/check/alpha-*.npy\`, float64 PyTorch) | $(vs compare-alpha-gpt2 2 max_rel) | $(vs compare-alpha-neox 2 max_rel) |"
  echo
  echo "The last row is tpe's float32 forward pass against PyTorch in float64: agreement to a few"
  echo "parts in a million is float32 rounding (\`tpe compare\` passes at rtol 1e-4)."
fi
echo

# ---- Table 1
echo "## 2. Table 1: the log-linear encoding, Eq. 2 (\`tpe encoding\`)"
echo
echo "Eq. 2 regresses -log alpha_w on the output-embedding row E^(o)_w over all V tokens (OLS with"
echo "an intercept). Its adjusted R^2 says how much of the (log) probability of every token is"
echo "linear in its output embedding; the random row regresses a normalized random vector on the"
echo "same rows (what chance gives); the E^(i) row uses the input embedding instead."
echo
echo "| adjusted R^2 | gpt2 (tied) | neox (untied) | paper: GPT-2 / Pythia / GPT-J |"
echo "|---|---|---|---|"
echo "| -log alpha on E^(o) | **$(v encoding-gpt2 table1.output_adj_r2)** | **$(v encoding-neox table1.output_adj_r2)** | about 0.8-0.95 (exact values: the paper, Table 1) |"
echo "| normalized random vector on E^(o) | $(v encoding-gpt2 table1.random_adj_r2) | $(v encoding-neox table1.random_adj_r2) | about 0 |"
echo "| -log alpha on E^(i) | $(v encoding-gpt2 table1.input_adj_r2) (tied: the same matrix) | $(v encoding-neox table1.input_adj_r2) | lower than on E^(o) |"
echo
echo "- E^(o) row: $(v encoding-neox table1.output_adj_r2) (neox) means about that share of the variance of -log alpha over"
echo "  the vocabulary is explained by a single linear function of the output embedding -- the"
echo "  paper's finding, reproduced on both models."
echo "- Random row: a random target explains nothing ($(v encoding-gpt2 table1.random_adj_r2), $(v encoding-neox table1.random_adj_r2)), so the fit above is"
echo "  not an artefact of regressing on 64 columns."
echo "- E^(i) row: the untied neox's input embedding encodes alpha far less ($(v encoding-neox table1.input_adj_r2)): the"
echo "  encoding lives in the output embedding, as the paper reports for untied models. For the"
echo "  tied gpt2 the two are one matrix, so the row repeats."
echo "- Intercept B_D: $(v encoding-gpt2 intercept) (gpt2), $(v encoding-neox intercept) (neox); the slope A_D is in \`data/encoding-<m>/slope.npy\`."
echo

# ---- sparsity
echo "## 3. Figs. 1-3: the encoding is sparse (\`tpe sparsity\`)"
echo
echo "| | gpt2 | neox | paper |"
echo "|---|---|---|---|"
echo "| Spearman rho of PC $(vr sparsity-gpt2 best_pc) / PC $(vr sparsity-neox best_pc) scores with alpha | $(v sparsity-gpt2 best_pc_spearman) | $(v sparsity-neox best_pc_spearman) | one leading direction carries alpha (Fig. 1) |"
echo "| its explained-variance ratio | $(v sparsity-gpt2 best_pc_variance_ratio) | $(v sparsity-neox best_pc_variance_ratio) | |"
echo "| share of sum \\|A_D\\| held by the top 10 % of dimensions ($(vr sparsity-gpt2 top10pct_dims) of $(vr sparsity-gpt2 d)) | $(v sparsity-gpt2 top10pct_slope_share) | $(v sparsity-neox top10pct_slope_share) | a few dimensions carry most of it (Fig. 2) |"
echo "| dimensions holding half of sum \\|A_D\\| | $(vr sparsity-gpt2 dims_for_half_slope) | $(vr sparsity-neox dims_for_half_slope) | |"
echo
echo "The first row: how strongly the tokens' order along the best principal component follows"
echo "their alpha (|rho| = 1 would be a perfect ordering). The share rows: with no sparsity the top"
echo "10 % of dimensions would hold 10 % of the slope and half would need 32 dimensions; a larger"
echo "share / fewer dimensions means the encoding is concentrated. On these 64-dimensional models"
echo "it is concentrated only moderately."
echo "Figures: \`fig1-pca-<m>.svg\` (tokens on PC 1-2 coloured by alpha percentile),"
echo "\`fig2-sparsity-<m>.svg\` (per component and per dimension), \`fig3-fit-<m>.svg\` (Eq. 2's"
echo "fitted against the actual -log alpha)."
echo

# ---- steering
echo "## 4. Tables 2-3, Figs. 4-5: steering with Algorithm 1 (\`tpe steer-eval\`)"
echo
echo "Algorithm 1 moves one token's output embedding along A_D to multiply its alpha by r. The"
echo "scale error e = |log r - log r_hat| (natural log) measures how far the measured ratio r_hat"
echo "= alpha'_w / alpha_w lands from r, on the detect set (e_local), other in-domain samples"
echo "(e_id) and out-of-domain samples (e_ood). **Doing nothing gives e = |log r|**; a working"
echo "method gives e near 0. The paper reports that Algorithm 1 steers accurately on GPT-2 and"
echo "GPT-J (its errors: the paper, Tables 2-3)."
echo
echo "**On these demo models steering works only weakly.** \`tpe explain\` (step 5: a head-only"
echo "edit, b = $(vr explain-neox step5.b), S: $(vr explain-neox step5.significance); docs/derivation.md) measures the gain of Algorithm 1's step -- the"
echo "share of log r left after the slope term, which is the same for every token:"
echo "**$(v explain-gpt2 step5.gain)** (gpt2) and **$(v explain-neox step5.gain)** (neox), against 1 for exact steering. Asked for"
echo "r = $(vr explain-neox step5.scale) (log r = $(v explain-neox step5.log_r)), neox's token $(vr explain-neox step5.token) moved by log r_hat = $(v explain-neox step5.log_r_hat). In the tables below the"
echo "errors of Algorithm 1 are at best a little below doing nothing (and above it for the"
echo "strongest down-scalings), and the random and shuffled A_D baselines come close to"
echo "Algorithm 1: the regression's direction is not what moves these models' probabilities"
echo "(docs/paper.md, \"What the demo models show\", measures why). This is not the paper's result."
echo
ntok=$(vlen steer-eval-neox tokens)
echo "Table 2, neox: $ntok tokens drawn with seed $(vr steer-eval-neox seed), b = $(vr steer-eval-neox variants.0.b), S = $(vr steer-eval-neox variants.0.significance); mean +- sd over tokens;"
echo "d_KL^r = KL divergence of the averaged distributions before and after, steered token removed."
echo
table2() { # FILE: the Algorithm 1 rows beside the unedited, random and shuffled e_id
  _f=$1
  _rows=$(vlen "$_f" table2)
  _per=$(vlen "$_f" scales)
  echo "| r | unedited e = \\|log r\\| | e_local | e_id | e_ood | d_KL^r (id) | random A_D, e_id | shuffled A_D, e_id |"
  echo "|---|---|---|---|---|---|---|---|"
  _i=0
  while [ "$_i" -lt "$_per" ]; do
    # the rows: steer (0..per-1), random, shuffled, unedited (json: method names checked)
    set -- $(vs "$_f" 4 "table2.$_i.scale") \
           $(v "$_f" "table2.$_i.method" "table2.$_i.e_local.mean" "table2.$_i.e_local.sd" "table2.$_i.e_id.mean" \
               "table2.$_i.e_id.sd" "table2.$_i.e_ood.mean" "table2.$_i.e_ood.sd") \
           $(vs "$_f" 2 "table2.$_i.kl_id.mean")
    _r=$1 _meth=$2
    _rand=$((_i + _per)) _shuf=$((_i + 2 * _per)) _unch=$((_i + 3 * _per))
    set -- "$@" $(v "$_f" "table2.$_rand.method" "table2.$_rand.e_id.mean" "table2.$_shuf.method" "table2.$_shuf.e_id.mean" \
                     "table2.$_unch.method" "table2.$_unch.e_id.mean")
    if [ "$_meth" != steer ] || [ "${10}" != random ] || [ "${12}" != shuffled ] || [ "${14}" != unedited ] || [ "$_rows" -ne $((4 * _per)) ]; then
      echo "table2 of $_f: unexpected row order at $_i" >> "$FAILMARK"
    fi
    if [ "$_r" != 1 ]; then
      echo "| $_r | ${15} | $3 +- $4 | $5 +- $6 | $7 +- $8 | $9 | ${11} | ${13} |"
    fi
    _i=$((_i + 1))
  done
}
table2 steer-eval-neox
echo
echo "(r = 1 rows left out: r_hat = 1 exactly. r < 1 rows steer down by 1/r.) Read each row"
echo "against its second column: an e_id close to |log r| means the probability hardly moved."
echo
echo "Table 2, gpt2 (tied; the shared matrix is edited as the paper did, so the input embedding"
echo "moves too and the windows holding the token are re-run exactly per edit -- mode"
echo "\`$(vr steer-eval-gpt2 mode)\`). To fit the time budget this run is **subsampled**: $(vr steer-eval-gpt2 sets.local.samples) detect,"
echo "$(vr steer-eval-gpt2 sets.id.samples) test-id and $(vr steer-eval-gpt2 sets.ood.samples) test-ood samples (seeded), $(vlen steer-eval-gpt2 tokens) tokens, b = $(vr steer-eval-gpt2 variants.0.b) only, no Fig. 4 sweep:"
echo
table2 steer-eval-gpt2
echo
echo "Table 3 (neox): each row aggregates all tokens and all scales r != 1 (mean +- sd of e);"
echo "S = $(vr steer-eval-neox variants.0.significance); -inf is the uniform weighting, +inf all weight on the largest |A_D,c|."
echo
echo "| method | b | e_local | e_id | e_ood | d_KL^r (id) |"
echo "|---|---|---|---|---|---|"
i=0
rows=$(vlen steer-eval-neox table3)
while [ "$i" -lt "$rows" ]; do
  set -- $(vs steer-eval-neox 4 "table3.$i.method" "table3.$i.b") \
         $(v steer-eval-neox "table3.$i.e_local.mean" "table3.$i.e_local.sd" "table3.$i.e_id.mean" "table3.$i.e_id.sd" \
             "table3.$i.e_ood.mean" "table3.$i.e_ood.sd") $(vs steer-eval-neox 2 "table3.$i.kl_id.mean")
  echo "| $1 | $2 | $3 +- $4 | $5 +- $6 | $7 +- $8 | $9 |"
  i=$((i + 1))
done
echo
echo "The paper's Table 3 compares the same choices of b on GPT-2/GPT-J (see the paper, Table 3);"
echo "here no b brings the error far below doing nothing."
echo
nf4=$(vlen steer-eval-neox fig4)
last=$((nf4 - 1))
echo "Fig. 4 (\`fig4-detect-size-neox.svg\`): the fit and the steering redone with the first n"
echo "detect samples. With n = $(vr steer-eval-neox fig4.0.samples): adjusted R^2 $(v steer-eval-neox fig4.0.adj_r2), e_id $(v steer-eval-neox fig4.0.e_id.mean); with"
echo "n = $(vr steer-eval-neox fig4.$last.samples): $(v steer-eval-neox fig4.$last.adj_r2) and $(v steer-eval-neox fig4.$last.e_id.mean). Fig. 5"
echo "(\`fig5-steer-scale-<m>.svg\`): measured against asked-for scale on log-log axes; exact"
echo "steering would lie on the dashed diagonal; with a gain of about a third these models'"
echo "points lie much flatter."
echo

# ---- pruning
echo "## 5. Fig. 6: removing output-embedding dimensions (\`tpe prune-curve\`)"
echo
echo "Dimensions of E^(o) are zeroed in ascending order of importance |A_D,c| (least important"
echo "first: the paper's pruning) and descending (most important first: the control). KL ="
echo "KL(alpha original || alpha pruned) on the test-id set (0 = unchanged); MAUVE compares"
echo "texts generated by the original and the pruned model from the same prefixes and seeds"
echo "(1 = indistinguishable; two runs of the *same* neox model score about 0.976, the noise"
echo "floor, docs/paper-part2.md)."
echo
pc_g=$(vr prune-curve-gpt2 generation.samples) pc_t=$(vr prune-curve-gpt2 generation.new_tokens)
echo "Reduced for the time budget: every $(vr prune-curve-neox ratios.1) % of dimensions, $pc_g prefixes, $pc_t new tokens"
echo "per generation, MAUVE with $(vr prune-curve-neox generation.mauve_buckets) k-means buckets."
echo
for m in neox gpt2; do
  echo "$m (KL mode \`$(vr prune-curve-$m kl_mode)\`):"
  echo
  echo "| removed | KL asc. | KL desc. | MAUVE asc. | MAUVE desc. |"
  echo "|---|---|---|---|---|"
  i=0
  rows=$(vlen prune-curve-$m ratios)
  while [ "$i" -lt "$rows" ]; do
    set -- $(vr prune-curve-$m "ratios.$i" "removed.$i") \
           $(v prune-curve-$m "ascending.kl.$i" "descending.kl.$i" "ascending.mauve.$i" "descending.mauve.$i")
    echo "| $1 % ($2) | $3 | $4 | $5 | $6 |"
    i=$((i + 1))
  done
  echo
done
echo "The paper (GPT-2, GPT-J): more than 30 % of the dimensions can be removed in ascending order"
echo "with the generated text hardly changed, while descending removal hurts sooner (Fig. 6)."
for m in neox gpt2; do
  i=0
  rows=$(vlen prune-curve-$m ratios)
  while [ "$i" -lt "$rows" ]; do
    if [ "$(vr prune-curve-$m "ratios.$i")" = 30 ]; then
      echo "Here, at 30 % ($m): MAUVE $(v prune-curve-$m "ascending.mauve.$i") ascending, $(v prune-curve-$m "descending.mauve.$i") descending;"
      echo "KL $(v prune-curve-$m "ascending.kl.$i") and $(v prune-curve-$m "descending.kl.$i")."
    fi
    i=$((i + 1))
  done
done
echo "Values near the noise floor (about 0.95-0.98 here) mean the texts cannot be told apart at"
echo "this sample size. The two orders differ less than in the paper: on 64 dimensions |A_D| is"
echo "less concentrated (section 3), and KL grows almost as fast in both orders."
echo "Figures: \`fig6-prune-<m>.svg\`."
echo

# ---- dynamics
echo "## 6. Fig. 7: the encoding during training (\`tpe dynamics\`)"
echo
echo "For each saved checkpoint of neox: the adjusted R^2 of -log(token frequency in the training"
echo "split) on that checkpoint's E^(o) (does the embedding already encode frequency?), and the"
echo "convergence rate 1 - ||E* - E_t|| / ||E* - E_0|| of E^(o) (0 at the start, 1 at the final"
echo "model: how far the embedding has travelled)."
echo
echo "| step | adjusted R^2 | convergence of E^(o) | of E^(i) |"
echo "|---|---|---|---|"
i=0
rows=$(vlen dynamics-neox checkpoints)
while [ "$i" -lt "$rows" ]; do
  set -- $(vr dynamics-neox "checkpoints.$i.step") \
         $(v dynamics-neox "checkpoints.$i.adj_r2" "checkpoints.$i.convergence.1" "checkpoints.$i.convergence.0")
  echo "| $1 | $2 | $3 | $4 |"
  i=$((i + 1))
done
echo
echo "(convergence columns: params \`$(vr dynamics-neox params.1)\` and \`$(vr dynamics-neox params.0)\` of the JSON.) The paper"
echo "(Pythia): the frequency encoding appears early in training, long before the embeddings have"
i=0
rows=$(vlen dynamics-neox checkpoints)
while [ "$i" -lt "$rows" ]; do
  if [ "$(vr dynamics-neox "checkpoints.$i.step")" = 128 ]; then
    echo "converged (Fig. 7). Here, at step 128 of 2000 the adjusted R^2 is already"
    echo "$(v dynamics-neox "checkpoints.$i.adj_r2") (final: $(v dynamics-neox checkpoints.-1.adj_r2)) while E^(o) has covered $(v dynamics-neox "checkpoints.$i.convergence.1") of its way."
  fi
  i=$((i + 1))
done
echo "Figure: \`fig7-dynamics-neox.svg\`."
echo

# ---- unargmax
echo "## 7. Unargmaxable tokens (\`tpe unargmax --exact\`, Grivas et al. 2022)"
echo
box=$(vs unargmax-neox 6 box)
echo "A token is unargmaxable when no hidden state (in the box [-$box, $box]^d) makes it the model's"
echo "top prediction. Every verdict is certified (a checked witness, or a checked Farkas"
echo "certificate); failures are tokens the LP could not decide."
echo
echo "| | gpt2 | neox | Grivas et al. |"
echo "|---|---|---|---|"
echo "| unargmaxable tokens | **$(vlen unargmax-gpt2 unargmaxable)** of $(vr unargmax-gpt2 vocab) | **$(vlen unargmax-neox unargmaxable)** of $(vr unargmax-neox vocab) | possible in theory, rare in practice (their title; details in their paper) |"
echo "| undecided (failures) | $(vlen unargmax-gpt2 failures) | $(vlen unargmax-neox failures) | |"
echo "| rank of the head | $(vr unargmax-gpt2 rank) | $(vr unargmax-neox rank) | |"
echo "| proven argmaxable by the fast pass / by the LP | $(vr unargmax-gpt2 fast.argmaxable) / $(vr unargmax-gpt2 lp.argmaxable) | $(vr unargmax-neox fast.argmaxable) / $(vr unargmax-neox lp.argmaxable) | |"
echo
ug=$(vlen unargmax-gpt2 unargmaxable) un=$(vlen unargmax-neox unargmaxable)
if [ "$ug" = 0 ] && [ "$un" = 0 ]; then
  echo "Both demo heads have no unargmaxable token although d = 64 is far below V = 2048 (a"
  echo "low-rank softmax): every token is the top prediction for some hidden state, as Grivas et"
  echo "al. find for real models."
else
  echo "Unargmaxable tokens found: $ug (gpt2), $un (neox); their ids are in"
  echo "\`json/unargmax-<m>.json\` (\`unargmaxable\`)."
fi
echo

# ---- explain
echo "## 8. The derivation, measured (\`tpe explain\`, docs/derivation.md)"
echo
echo "| step | gpt2 | neox | what it says |"
echo "|---|---|---|---|"
echo "| 1. max error of Eq. 1 (mean log p against E_w . hbar - c) | $(vs explain-gpt2 2 step1.eq1_max_err) | $(vs explain-neox 2 step1.eq1_max_err) | the averaged log-probability is exactly linear in E_w (rounding only) |"
echo "| 2. Jensen gap g_w: median, sd; tokens with g_w < 0 | $(v explain-gpt2 step2.gap_median), $(v explain-gpt2 step2.gap_sd); $(vr explain-gpt2 step2.gap_negative) | $(v explain-neox step2.gap_median), $(v explain-neox step2.gap_sd); $(vr explain-neox step2.gap_negative) | log alpha differs from mean log p by a token-dependent gap, never negative |"
echo "| 3. R^2 of Eq. 2; cos(A_D, -hbar) | $(v explain-gpt2 step3.r2); $(v explain-gpt2 step3.cos_slope_neg_hbar) | $(v explain-neox step3.r2); $(v explain-neox step3.cos_slope_neg_hbar) | the fit is good, but its slope is not -hbar: the gap bends it |"
echo "| 5. steering gain (1 = exact) | $(v explain-gpt2 step5.gain) | $(v explain-neox step5.gain) | why steering is weak here (section 4) |"
echo
echo "Per-token arrays and the step-2/3 figures: \`data/explain-<m>/\`."
echo
} > "$R"

# The steps and their times (the report's own step is added after it is written).
{
  echo "## Steps and times"
  echo
  echo "Wall time of each command on this machine (\`logs/times.txt\`; the build is not included):"
  echo
  echo "| step | seconds | command |"
  echo "|---|---|---|"
  while IFS="$(printf '\t')" read -r name secs cmd; do
    echo "| $name | $secs | \`$(echo "$cmd" | sed "s#$TMP#$OUT#g")\` |"
  done < "$TIMES"
  echo
  echo "Outputs: \`report.md\`, \`fig1-*.svg\` ... \`fig7-*.svg\`, \`json/<step>.json\` (each"
  echo "command's --json), \`logs/<step>.txt\` (its stderr), \`data/\` (alpha, A_D, per-token numbers)."
} >> "$R"

if [ -s "$FAILMARK" ]; then
  printf '[%2d/%d] %-22s FAILED\n' "$n" "$NSTEPS" report >&2
  echo "tpe demo: step 'report' failed: a value could not be read from the JSON:" >&2
  sed 's/^/    /' "$FAILMARK" | head -n 10 >&2
  exit 1
fi
_dt=$(( $(now_ms) - _t0 ))
printf '[%2d/%d] %-22s %7s s\n' "$n" "$NSTEPS" report "$(fmt_ms "$_dt")"
printf '%s\t%s\t%s\n' report "$(fmt_ms "$_dt")" "tools/demo.sh (tpe json-get)" >> "$TIMES"
rm -f "$FAILMARK"

# every figure must be there
for f in fig1-pca-gpt2 fig1-pca-neox fig2-sparsity-gpt2 fig2-sparsity-neox fig3-fit-gpt2 fig3-fit-neox \
         fig4-detect-size-neox fig5-steer-scale-gpt2 fig5-steer-scale-neox fig6-prune-gpt2 fig6-prune-neox \
         fig7-dynamics-neox; do
  [ -s "$TMP/$f.svg" ] || die "figure $f.svg was not written"
done

# ---- publish: rename the finished directory into place ----------------------
if [ -e "$OUT" ]; then
  rm -rf "$OUT.old.$$" && mv "$OUT" "$OUT.old.$$" || die "cannot move the old $OUT aside"
fi
mv "$TMP" "$OUT" || die "cannot rename $TMP to $OUT"
rm -rf "$OUT.old.$$"
trap - EXIT INT TERM
total=$(( $(now_ms) - START ))
echo "tpe demo: wrote $OUT/report.md and 12 figures (fig1 ... fig7) in $(fmt_ms "$total") s"
