# tests/cli/mauve.sh -- `tpe mauve`: against the scikit-learn pipeline's
# goldens (golden/mauve/, tools/gen_mauve_goldens.py) on feature matrices,
# MAUVE of a set against itself, texts through a featurizer, bad inputs.

G=golden/mauve
D=golden/demo
# golden_mauve CASE: the "mauve" of the feature case CASE in mauve.json
golden_mauve() {
  awk -v c="\"$1\"," '$0 == "\"name\": " c { on = 1 } on && /^"mauve": / { sub(/^"mauve": /, ""); sub(/,$/, ""); print; exit }' "$G/mauve.json"
}
abs_ok() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }

run "mauve --help" 0 $T mauve --help
for c in clusters disjoint identical; do
  run "mauve --features $c" 0 $T mauve --features $G/${c}_P.npy $G/${c}_Q.npy --json
  check "mauve --features $c: one JSON line" test "$(wc -l < "$TMP/out")" -eq 1
  # tolerance: tests/test_mauve.c (libm vs numpy's log/exp, summation order identical)
  check "mauve --features $c = mauve-text with sklearn ($(golden_mauve $c))" \
    abs_ok "$(json_field mauve "$TMP/out")" "$(golden_mauve $c)" 1e-12
done
check "mauve of disjoint sets is near 0" num_cmp "$(golden_mauve disjoint)" "<" 0.01
run "mauve --features P against itself" 0 $T mauve --features $G/clusters_P.npy $G/clusters_P.npy --json
check "mauve(P, P) = 1" abs_ok "$(json_field mauve "$TMP/out")" 1 1e-12
check "mauve --json has the curve and histograms" grep -q '"divergence_curve": \[\[1, 0\], ' "$TMP/out"
run "mauve human output" 0 $T mauve --features $G/clusters_P.npy $G/clusters_Q.npy
check "mauve human output names the buckets" grep -q "6 buckets, 4 PCA components" "$TMP/out"

if [ -d "$D/neox" ]; then
  head -n 40 $D/corpus/test-id.txt > "$TMP/p.txt"
  head -n 40 $D/corpus/test-ood.txt > "$TMP/q.txt"
  run "mauve texts: P against itself" 0 $T mauve "$TMP/p.txt" "$TMP/p.txt" --featurizer $D/neox --json
  check "mauve texts: MAUVE(P, P) = 1" abs_ok "$(json_field mauve "$TMP/out")" 1 1e-12
  check "mauve texts: 4 buckets for 40 texts" test "$(json_field buckets "$TMP/out")" = 4
  run "mauve texts: in-domain against out-of-domain" 0 $T mauve "$TMP/p.txt" "$TMP/q.txt" --featurizer $D/neox --json
  check "mauve texts: another domain scores lower" num_cmp "$(json_field mauve "$TMP/out")" "<" 0.9
  printf 'fine\n\n\nalso fine\n' > "$TMP/two.txt"
  run "mauve texts: empty lines are skipped" 0 $T mauve "$TMP/two.txt" "$TMP/two.txt" --featurizer $D/neox --json
  check "mauve texts: two texts each" test "$(json_field n_p "$TMP/out")" = 2
  printf '\n\n' > "$TMP/empty.txt"
  expect_err "mauve texts: a file of empty lines" 1 "no texts" $T mauve "$TMP/empty.txt" "$TMP/p.txt" --featurizer $D/neox
  printf 'ok\nbad \377 byte\n' > "$TMP/bad.txt"
  expect_err "mauve texts: invalid UTF-8 names the line" 1 "line 2: invalid UTF-8" $T mauve "$TMP/bad.txt" "$TMP/p.txt" --featurizer $D/neox
  expect_err "mauve: a featurizer without a tokenizer" 1 "tokenizer" $T mauve "$TMP/p.txt" "$TMP/p.txt" --featurizer $D/neox-checkpoints/step0
else
  skip "mauve texts" "golden/demo/neox is missing"
fi

expect_err "mauve needs P and Q" 2 "expected P Q" $T mauve --features $G/clusters_P.npy
expect_err "mauve needs a featurizer" 2 "featurizer" $T mauve $G/clusters_P.npy $G/clusters_Q.npy
expect_err "mauve --explained-var in (0, 1)" 2 "explained-var" $T mauve --features $G/clusters_P.npy $G/clusters_Q.npy --explained-var 1
expect_err "mauve --features: dimensions must agree" 1 "16 feature dimensions, Q 4" $T mauve --features $G/clusters_P.npy golden/numerics/pca_cli_X.npy
expect_err "mauve --features: a vector is not a feature matrix" 1 "2-D" $T mauve --features $D/check/alpha-neox.npy $G/clusters_Q.npy
expect_err "mauve --buckets beyond the samples" 1 "exceeds" $T mauve --features $G/clusters_P.npy $G/clusters_Q.npy --buckets 1000
expect_err "mauve missing file" 1 "nope.npy" $T mauve --features $TMP/nope.npy $G/clusters_Q.npy
