#!/usr/bin/env python3
"""gen_mauve_goldens.py -- goldens for MAUVE (ref/mauve.c, tests/test_mauve.c,
tests/cli/mauve.sh), computed the way the reference package mauve-text
(Pillutla et al. 2021, compute_mauve.py) computes MAUVE, with scikit-learn's
PCA and KMeans and numpy.

    /usr/bin/python3 tools/gen_mauve_goldens.py --out golden/mauve

What mauve-text does (and this script does, written from its description):
  * features: stack [Q; P], scale rows to unit L2 norm (sklearn normalize);
  * PCA(n_components=None) on them; keep components up to the first index
    where the running sum of explained_variance_ratio_ reaches 0.9;
    transform, cast to float32;
  * cluster into k = max(2, round(min(n_p, n_q) / 10)) clusters (mauve-text
    uses faiss.Kmeans, 5 redos, 500 iterations; here sklearn's KMeans with
    n_init=5, max_iter=500 -- faiss is not installed, and the fixtures are
    built so that every reasonable k-means finds the same partition);
  * histograms count / total, and (count + 0.5) normalized for MAUVE*;
  * divergence curve at numpy.linspace(1e-6, 1 - 1e-6, 25): the points
    exp(-5 [KL(Q||R), KL(P||R)]) for R = w P + (1 - w) Q between [0, inf]
    and [inf, 0] (before the exponential); MAUVE = mean of sklearn's auc of
    y over x sorted by x and of x over y sorted by y;
  * the frontier integral.

Outputs (small): mauve.json with "cases" of two kinds, and the feature
matrices of the feature cases as <case>_P.npy / <case>_Q.npy (float64):
  {"kind": "counts", "name", "p_counts", "q_counts", "curve" (27 x 2 flat),
   "mauve", "mauve_star", "frontier_integral", "frontier_integral_star", and
   the same keys + "_libm" computed with the C library's log and exp}
  {"kind": "features", "name", "n_p", "n_q", "d", "buckets", "pca_dims",
   "explained_variance_ratio" (all), "p_counts", "q_counts" (sklearn's
   clusters, in its label order), "mauve", "mauve_star", ..., "margin"
   (how far the running variance sums stay from 0.9), "min_gap" (the ratio
   of the closest between-cluster distance to the widest within-cluster one)}
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import auc
from sklearn.preprocessing import normalize

C_SCALE = 5.0
POINTS = 25


# numpy's own log and exp (on x86-64, numpy 1.24 has SIMD versions that differ
# from glibc's by an ulp for about a fifth of the arguments), or the C
# library's through math.log / math.exp element by element (LIBM = True):
# with those, tpe's curve must agree to the last bit, which checks that every
# operation and summation order is mauve-text's.
LIBM = False


def log_(x):
    return np.array([math.log(v) for v in x]) if LIBM else np.log(x)


def exp_(x):
    return np.vectorize(math.exp)(x) if LIBM else np.exp(x)


def kl(a, b):
    """KL(a || b) over the entries where both are non-zero; inf when a > 0 = b."""
    if np.any((a != 0) & (b == 0)):
        return np.inf
    m = (a != 0) & (b != 0)
    return np.sum(a[m] * log_(a[m] / b[m]))


def curve_of(p, q):
    pts = [[0.0, np.inf]]
    for w in np.linspace(1e-6, 1 - 1e-6, POINTS):
        r = w * p + (1 - w) * q
        pts.append([kl(q, r), kl(p, r)])
    pts.append([np.inf, 0.0])
    return exp_(-C_SCALE * np.asarray(pts))


def area(curve):
    x, y = curve[:, 0], curve[:, 1]
    i, j = np.argsort(x), np.argsort(y)
    return 0.5 * (auc(x[i], y[i]) + auc(y[j], x[j]))


def frontier(p, q):
    total = 0.0
    for a, b in zip(p, q):
        if a == 0 and b == 0:
            continue
        if a == 0:
            total += b / 4
        elif b == 0:
            total += a / 4
        elif abs(a - b) > 1e-8:
            # a Python loop with math.log, as mauve-text's get_fronter_integral
            total += 0.25 * (a + b) - 0.5 * (a * b * (math.log(a) - math.log(b)) / (a - b))
    return 2 * total


def scores(pc, qc):
    pc = np.asarray(pc, dtype=np.int64)
    qc = np.asarray(qc, dtype=np.int64)
    p, q = pc / pc.sum(), qc / qc.sum()
    ps, qs = (pc + 0.5) / (pc + 0.5).sum(), (qc + 0.5) / (qc + 0.5).sum()
    cv = curve_of(p, q)
    return {"curve": cv.reshape(-1).tolist(), "mauve": float(area(cv)), "mauve_star": float(area(curve_of(ps, qs))),
            "frontier_integral": float(frontier(p, q)), "frontier_integral_star": float(frontier(ps, qs))}


def buckets(n_p, n_q):
    return max(2, int(round(min(n_p, n_q) / 10)))


def mauve_features(P, Q, seed):
    X = normalize(np.vstack([Q, P]), norm="l2", axis=1)
    pca = PCA(n_components=None, whiten=False, random_state=seed + 1).fit(X)
    s = np.cumsum(pca.explained_variance_ratio_)
    j = int(np.argmax(s >= 0.9))
    Y = pca.transform(X)[:, : j + 1].astype(np.float32)
    k = buckets(len(P), len(Q))
    km = KMeans(n_clusters=k, n_init=5, max_iter=500, random_state=seed + 2).fit(Y)
    lab = km.labels_
    qc = np.bincount(lab[: len(Q)], minlength=k)
    pc = np.bincount(lab[len(Q):], minlength=k)
    # how unambiguous the fixture is: distances in the projected space
    within = max(np.max(np.linalg.norm(Y[lab == c] - Y[lab == c].mean(0), axis=1)) for c in range(k))
    cents = np.array([Y[lab == c].mean(0) for c in range(k)])
    between = min(np.linalg.norm(cents[a] - cents[b]) for a in range(k) for b in range(a + 1, k))
    out = {"n_p": len(P), "n_q": len(Q), "d": P.shape[1], "buckets": k, "pca_dims": j + 1,
           "explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
           "margin": float(np.min(np.abs(s - 0.9))), "min_gap": float(between / within),
           "p_counts": pc.tolist(), "q_counts": qc.tolist()}
    out.update({k2: v for k2, v in scores(pc, qc).items() if k2 != "curve"})
    return out


def clustered(rng, centers, counts, spread):
    rows = [c + spread * rng.standard_normal((n, len(c))) for c, n in zip(centers, counts)]
    X = np.vstack(rows)
    return X[rng.permutation(len(X))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(20240606)
    cases = []

    # ---- curves from counts: the quantization-independent part ----------------
    count_cases = [
        ("equal", [5, 3, 0, 2], [5, 3, 0, 2]),
        ("disjoint", [4, 6, 0, 0], [0, 0, 7, 3]),
        ("one_zero", [10, 0, 5, 5, 1, 9, 2], [3, 4, 5, 6, 0, 1, 1]),
        ("nearby", [100, 101, 99, 100, 100, 98, 102, 100, 100], [101, 100, 100, 99, 100, 100, 100, 101, 99]),
    ]
    for k in (2, 13, 50, 200):
        pc = rng.integers(0, 30, size=k)
        qc = rng.integers(0, 30, size=k)
        pc[0] += 1
        qc[0] += 1
        count_cases.append((f"random_k{k}", pc.tolist(), qc.tolist()))
    global LIBM
    for name, pc, qc in count_cases:
        c = {"kind": "counts", "name": name, "p_counts": pc, "q_counts": qc}
        c.update(scores(pc, qc))
        LIBM = True
        c.update({k + "_libm": v for k, v in scores(pc, qc).items()})
        LIBM = False
        cases.append(c)

    # ---- feature fixtures with unambiguous clusters -----------------------------
    d = 16
    centers = rng.standard_normal((6, d))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    fixtures = {
        # 6 tight clusters, P and Q weighting them differently; k = round(60/10) = 6
        "clusters": (clustered(rng, centers, [24, 16, 16, 8, 8, 8], 0.01),
                     clustered(rng, centers, [3, 9, 12, 12, 12, 12], 0.01)),
        # P and Q on disjoint pairs of clusters; k = round(40/10) = 4
        "disjoint": (clustered(rng, centers[:2], [20, 20], 0.01), clustered(rng, centers[2:4], [25, 15], 0.01)),
    }
    same = clustered(rng, centers[:5], [10, 10, 10, 10, 10], 0.01)
    fixtures["identical"] = (same, same.copy())
    for name, (P, Q) in fixtures.items():
        res = mauve_features(P, Q, seed=25)
        if res["margin"] < 1e-6 or res["min_gap"] < 10:
            sys.exit(f"{name}: ambiguous fixture (margin {res['margin']}, gap {res['min_gap']})")
        np.save(os.path.join(args.out, f"{name}_P.npy"), P.astype("<f8"))
        np.save(os.path.join(args.out, f"{name}_Q.npy"), Q.astype("<f8"))
        c = {"kind": "features", "name": name}
        c.update(res)
        cases.append(c)
        print(f"{name}: k {res['buckets']}, {res['pca_dims']} components, MAUVE {res['mauve']:.17g}, "
              f"gap {res['min_gap']:.1f}")

    with open(os.path.join(args.out, "mauve.json"), "w") as f:
        json.dump({"generator": "tools/gen_mauve_goldens.py", "cases": cases}, f, indent=0)
        f.write("\n")
    with open(os.path.join(args.out, "VERSIONS"), "w") as f:
        f.write(f"python {sys.version.split()[0]}\nnumpy {np.__version__}\nscikit-learn {sklearn.__version__}\n"
                "generator tools/gen_mauve_goldens.py\n")


if __name__ == "__main__":
    main()
