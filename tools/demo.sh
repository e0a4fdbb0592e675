#!/bin/sh
# tools/demo.sh -- `make demo`: the whole pipeline on the shipped default.
# The shipped model and corpus are not there yet (see the demo issue); until
# they are, this says so plainly and shows what does run.
set -u
echo "tpe demo: the shipped default model (golden/demo/) is not there yet, so the"
echo "paper's pipeline cannot run. What this build can do now:"
echo
./tpe cpu
echo
./tpe bench gemm 256 768 768 --reps 1
exit 0
