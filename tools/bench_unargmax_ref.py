#!/usr/bin/python3
"""Times the reference braid-reflect (Grivas et al. 2022,
github.com/andreasgrv/unargmaxable, stollen.candidate_is_bounded: numpy,
one process) on tokens of a head stored as .npy, for tools/bench_unargmax.sh.

The reference is NOT part of tpe: pass the directory of a checkout of it
(the one holding stollen/). Its module imports gurobipy at load time (for
its exact pass, which is not timed here); a stand-in module with the two
names it reads lets it load without Gurobi. Nothing of it is copied here.

usage: bench_unargmax_ref.py CHECKOUT HEAD.npy N [PATIENCE]
Prints one line: tokens, seconds, seconds_per_token, bounded (= tokens the
braid reflect could not prove argmaxable), the ids of those, and versions.
"""
import os
import sys
import time
import types

import numpy as np


def main():
    checkout, head, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    patience = int(sys.argv[4]) if len(sys.argv) > 4 else 2500
    stub = types.ModuleType("gurobipy")
    stub.GRB = types.SimpleNamespace(MAXIMIZE=-1, OPTIMAL=2)
    sys.modules.setdefault("gurobipy", stub)
    sys.path.insert(0, checkout)
    import stollen  # the reference, from the checkout

    W = np.load(head)
    V = W.shape[0]
    ids = np.unique(np.linspace(0, V - 1, n).round().astype(int))
    # warm-up (page in W), not timed
    stollen.candidate_is_bounded(int(ids[0]), W, b=None, lb=-100, ub=100, patience=patience)
    bounded = []
    t0 = time.perf_counter()
    for i in ids:
        r = stollen.candidate_is_bounded(int(i), W, b=None, lb=-100, ub=100, patience=patience)
        if r["is_bounded"]:
            bounded.append(int(i))
    t = time.perf_counter() - t0
    print("tokens %d seconds %.6f seconds_per_token %.6e bounded %d ids %s numpy %s dtype %s threads %s"
          % (len(ids), t, t / len(ids), len(bounded), ",".join(map(str, bounded)) or "-", np.__version__, W.dtype,
             os.environ.get("OPENBLAS_NUM_THREADS", "default")))


if __name__ == "__main__":
    main()
