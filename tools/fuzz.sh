#!/bin/sh
# tools/fuzz.sh [SECONDS] [TARGET...] -- `make fuzz`: builds every
# tests/fuzz/fuzz_*.c with clang's libFuzzer + ASan + UBSan against the
# library and runs each for SECONDS (default 60) from its seed corpus in
# tests/fuzz/corpus/<name>/ (new inputs go to build/fuzz/corpus-<name>, not
# into the repository). Exits non-zero on the first finding.
set -eu
secs=${1:-60}
shift 2>/dev/null || true
targets=${*:-$(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_\(.*\)\.c|\1|')}
mkdir -p build/fuzz
make -s --no-print-directory CC=clang SANITIZE_TAG=-fuzz OPT=-O1 \
  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" build/clang-fuzz/libtpe.a
for t in $targets; do
  clang -std=c99 -O1 -g -Iref -isystem "${STB_INCLUDE:-/usr/include/stb}" -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=all tests/fuzz/fuzz_$t.c build/clang-fuzz/libtpe.a -lm -o build/fuzz/fuzz_$t
  mkdir -p build/fuzz/corpus-$t
  echo "== fuzzing $t for ${secs}s"
  mkdir -p build/fuzz/findings-$t
  build/fuzz/fuzz_$t -max_total_time="$secs" -max_len=65536 -print_final_stats=1 -artifact_prefix=build/fuzz/findings-$t/ \
    build/fuzz/corpus-$t tests/fuzz/corpus/$t 2>&1 | grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|crash-|Done" || true
  if ls build/fuzz/findings-$t/* >/dev/null 2>&1; then
    ls build/fuzz/findings-$t/
    echo "fuzz_$t: finding above (inputs kept in build/fuzz/findings-$t/)"
    exit 1
  fi
done
echo "fuzzing: no findings"
