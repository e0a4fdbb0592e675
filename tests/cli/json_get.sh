# tests/cli/json_get.sh -- `tpe json-get`: paths through objects and arrays,
# number formats, --len, --null, --json, and errors naming the path.

J=$TMP/jg.json
printf '%s\n' '{"a": {"b": [10, 2.5, {"c": "x y"}], "n": null, "t": true},' \
  ' "big": 9007199254740993, "neg": -3, "e": 1e-300, "s": "caf\u00e9", "nl": "a\nb",' \
  ' "arr": [], "dup": 1, "dup": 2, "1": "key one"}' > "$J"

run "json-get values" 0 $T json-get "$J" a.b.0 a.b.1 a.b.2.c a.n a.t neg e s 1
check "json-get prints one line per path" test "$(wc -l < "$TMP/out")" -eq 9
check "json-get values in order" test "$(tr '\n' '|' < "$TMP/out")" = "10|2.5|x y|null|true|-3|1e-300|café|key one|"
run "json-get exact integers" 0 $T json-get "$J" big
check "json-get integer above 2^53 exact" test "$(cat "$TMP/out")" = 9007199254740993
run "json-get negative index" 0 $T json-get "$J" a.b.-1.c a.b.-3
check "json-get -1 is the last element" test "$(tr '\n' '|' < "$TMP/out")" = "x y|10|"
run "json-get --fixed" 0 $T json-get "$J" a.b.1 neg --fixed 3
check "json-get --fixed 3" test "$(tr '\n' '|' < "$TMP/out")" = "2.500|-3.000|"
run "json-get --sig" 0 $T json-get "$J" a.b.1 e --sig 2
check "json-get --sig 2" test "$(tr '\n' '|' < "$TMP/out")" = "2.5|1e-300|"
run "json-get --null" 0 $T json-get "$J" a.n --null -
check "json-get --null text" test "$(cat "$TMP/out")" = "-"
run "json-get --len" 0 $T json-get "$J" a.b arr a s --len
check "json-get --len counts" test "$(tr '\n' '|' < "$TMP/out")" = "3|0|3|5|"
run "json-get whole subtree" 0 $T json-get "$J" a.b
check "json-get array as compact JSON" test "$(cat "$TMP/out")" = '[10, 2.5, {"c": "x y"}]'
run "json-get --json" 0 $T json-get "$J" a.b.0 nl --json
check "json-get --json is one line" test "$(wc -l < "$TMP/out")" -eq 1
check "json-get --json values" grep -qF '"values": [10, "a\nb"]' "$TMP/out"
# the values must agree with what the writing command meant: a real --json output
run "json-get on tpe cpu --json" 0 $T cpu --json
cp "$TMP/out" "$TMP/cpu.json"
run "json-get reads cpu.json" 0 $T json-get "$TMP/cpu.json" simd
check "json-get simd = json_field simd" test "\"$(cat "$TMP/out")\"" = "$(json_field simd "$TMP/cpu.json")"

expect_err "json-get missing key" 1 "no key 'zz' at 'a.zz'" $T json-get "$J" a.b.0 a.zz
check "json-get prints nothing when a path fails" test ! -s "$TMP/out"
expect_err "json-get index out of range" 1 "index 3 out of range at 'a.b.3' \\(the array has 3 elements\\)" $T json-get "$J" a.b.3
expect_err "json-get index -4 out of range" 1 "index -4 out of range" $T json-get "$J" a.b.-4
expect_err "json-get non-index in an array" 1 "'a.b' is an array .*'x' is not an index" $T json-get "$J" a.b.x
expect_err "json-get through a scalar" 1 "'neg' is a scalar; cannot take 'x' of it" $T json-get "$J" neg.x
expect_err "json-get duplicate key" 1 "key 'dup' occurs more than once" $T json-get "$J" dup
expect_err "json-get string with a newline" 1 "holds a newline" $T json-get "$J" nl
expect_err "json-get --len of a number" 1 "not an array, object or string" $T json-get "$J" neg --len
expect_err "json-get empty segment" 2 "empty segment" $T json-get "$J" a..b
expect_err "json-get needs a path" 2 "" $T json-get "$J"
expect_err "json-get --fixed and --sig" 2 "not both" $T json-get "$J" neg --fixed 2 --sig 2
expect_err "json-get missing file" 1 "nope.json" $T json-get "$TMP/nope.json" a
printf '{"a": [1, 2,]}' > "$TMP/bad.json"
expect_err "json-get invalid JSON names line and column" 1 "bad.json: invalid JSON at line 1, column" $T json-get "$TMP/bad.json" a
run "json-get --help" 0 $T json-get --help
check "json-get --help names the path syntax" grep -q "dot-separated" "$TMP/out"
