#!/usr/bin/python3
"""Golden values for tpe's numerics (issue 3): OLS, the t distribution, the
incomplete beta function, correlation and PCA.

    /usr/bin/python3 tools/gen_numerics_goldens.py [golden/numerics]

Writes into golden/numerics/ (small files only):
  VERSIONS            the library versions used
  ols_wellcond.json   statsmodels OLS on designs that tests/test_ols.c
                      regenerates bit for bit from tpe_rng (xoshiro256**,
                      re-implemented below), so no design is stored
  ols_hard.json       hard least-squares problems, stored in full, with the
                      truth from exact rational arithmetic (fractions) and
                      mpmath (60 digits), and the digits numpy.linalg.qr,
                      numpy.linalg.lstsq and statsmodels obtain on them
  t_pvalues.json      two-sided Student t p-values (and log p) from mpmath
  betainc.json        regularized incomplete beta values from mpmath
  corr.json           Pearson and Spearman (scipy.stats) with ties
  pca.json            eigenvalues and eigenvectors (numpy.linalg.eigh) of
                      designed spectra that tests/test_pca.c regenerates
  ols_cli_X.npy, ols_cli_y.npy, pca_cli_X.npy and cli_expect.json
                      small inputs and expected values for tests/cli/*.sh

Design matrices of the hard problems are built in exact rational arithmetic
and rounded once: NumPy 1.24's float64 power is not correctly rounded
(13.0**4 gives 28560.999999999996), so no power is taken in floating point.
"""
import json
import os
import platform
import sys
from fractions import Fraction as F

import mpmath as mp
import numpy as np
import scipy
import scipy.linalg as sl
import scipy.stats as ss
import sklearn
import statsmodels
import statsmodels.api as sm

mp.mp.dps = 60
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "golden", "numerics")
MASK = (1 << 64) - 1


# ---- tpe_rng (ref/rng.c), bit for bit --------------------------------------
class Rng:
    def __init__(self, seed):
        self.s = []
        x = seed & MASK
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return float(self.next() >> 11) * 2.0**-53


def hadamard(i, j):
    """Sylvester Hadamard entry (-1)^popcount(i & j)."""
    return -1.0 if bin(i & j).count("1") % 2 else 1.0


def mpf(q):
    return mp.mpf(q.numerator) / q.denominator if isinstance(q, F) else mp.mpf(q)


def fl(x):
    """mpf / Fraction -> nearest double (mpmath rounds to nearest)."""
    return float(x)


# ---- exact OLS ----------------------------------------------------------------
def exact_ols(Xq, yq, intercept):
    """Exact least squares on rational data: Gauss-Jordan on the normal
    equations in Fractions (exact, so conditioning does not matter), then
    sqrt and the t distribution in mpmath."""
    rows = [([F(1)] if intercept else []) + list(r) for r in Xq]
    n, p = len(rows), len(rows[0])
    G = [[sum(rows[i][a] * rows[i][b] for i in range(n)) for b in range(p)] for a in range(p)]
    r = [sum(rows[i][a] * yq[i] for i in range(n)) for a in range(p)]
    M = [G[a][:] + [r[a]] + [F(int(a == b)) for b in range(p)] for a in range(p)]
    for c in range(p):
        piv = next(i for i in range(c, p) if M[i][c] != 0)
        M[c], M[piv] = M[piv], M[c]
        inv = 1 / M[c][c]
        M[c] = [v * inv for v in M[c]]
        for i in range(p):
            if i != c and M[i][c] != 0:
                f = M[i][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[c])]
    coef = [M[a][p] for a in range(p)]
    ginv = [M[a][p + 1 + a] for a in range(p)]
    res = [yq[i] - sum(rows[i][a] * coef[a] for a in range(p)) for i in range(n)]
    rss = sum(v * v for v in res)
    ybar = sum(yq) / n
    tss = sum((v - ybar) ** 2 for v in yq) if intercept else sum(v * v for v in yq)
    df = n - p
    s2 = mpf(rss) / df
    se = [mp.sqrt(s2 * mpf(g)) for g in ginv]
    cf = [mpf(c) for c in coef]
    t = [c / s for c, s in zip(cf, se)]
    logp = [log_t_pvalue(tt, df) for tt in t]
    r2 = 1 - mpf(rss) / mpf(tss)
    c = 1 if intercept else 0
    adj = 1 - mp.mpf(n - c) / df * (1 - r2)
    return {
        "coef": [fl(v) for v in cf], "se": [fl(v) for v in se], "t": [fl(v) for v in t],
        "p": [fl(mp.exp(v)) for v in logp], "log_p": [fl(v) for v in logp],
        "r2": fl(r2), "adj_r2": fl(adj), "sigma": fl(mp.sqrt(s2)), "df_resid": df,
    }


# ---- the t distribution and the incomplete beta in mpmath --------------------
def series_log_betainc(a, b, x):
    """log I_x(a, b) from DLMF 8.17.8 (hypergeometric series in x), summed
    directly: x^a (1-x)^b / (a B(a,b)) sum_n (a+b)_n / (a+1)_n x^n."""
    s, term, n = mp.mpf(0), mp.mpf(1), 0
    while True:
        s += term
        term *= (a + b + n) / (a + 1 + n) * x
        n += 1
        if term < s * mp.mpf(10) ** (-50):
            break
    return a * mp.log(x) + b * mp.log1p(-x) - mp.log(a) - mp.log(mp.beta(a, b)) + mp.log(s)


def log_betainc(a, b, x):
    a, b, x = mp.mpf(a), mp.mpf(b), mp.mpf(x)
    if x == 0:
        return -mp.inf
    if x == 1:
        return mp.mpf(0)
    # the side of a/(a+b) where the series converges fast; the complement
    # only when it does not cancel (then I is not tiny)
    if x <= a / (a + b) or a * (1 - x) > 50:
        try:
            v = mp.betainc(a, b, 0, x, regularized=True)
            if v > 0:
                return mp.log(v)
        except Exception:  # mpmath's hypercomb gives up on some huge arguments
            pass
        return series_log_betainc(a, b, x)
    return mp.log1p(-mp.exp(series_log_betainc(b, a, 1 - x)))


def log_t_pvalue(t, df):
    t, df = mp.mpf(t), mp.mpf(df)
    if t == 0:
        return mp.mpf(0)
    return log_betainc(df / 2, mp.mpf(1) / 2, df / (df + t * t))


# ---- the golden sets ------------------------------------------------------------
def wellcond_design(seed, n, k, intercept, noise, beta_scale):
    """The designs of tests/test_ols.c (same operations, same order)."""
    r = Rng(seed)
    X = [[0.0] * k for _ in range(n)]
    y = [0.0] * n
    beta = [((j % 5) - 2) * 0.5 * beta_scale + 0.125 * beta_scale for j in range(k)]
    for i in range(n):
        acc = 1.5 if intercept else 0.0
        for j in range(k):
            X[i][j] = (2.0 * r.uniform() - 1.0) * float(1 + j % 4) + 0.25 * float(j % 3)
            acc += beta[j] * X[i][j]
        y[i] = acc + noise * (2.0 * r.uniform() - 1.0)
    return np.array(X), np.array(y)


def gen_wellcond():
    cases = [
        dict(name="small_intercept", seed=11, n=50, k=3, intercept=True, noise=1.0, beta_scale=1.0),
        dict(name="medium_intercept", seed=12, n=200, k=10, intercept=True, noise=2.0, beta_scale=1.0),
        dict(name="no_intercept", seed=13, n=30, k=4, intercept=False, noise=1.0, beta_scale=1.0),
        dict(name="weak_signal", seed=14, n=120, k=2, intercept=True, noise=4.0, beta_scale=0.05),
        dict(name="tiny_p", seed=15, n=400, k=5, intercept=True, noise=0.05, beta_scale=1.0),
        dict(name="blocked_path", seed=16, n=1500, k=130, intercept=True, noise=1.0, beta_scale=1.0),
    ]
    out = []
    for c in cases:
        X, y = wellcond_design(c["seed"], c["n"], c["k"], c["intercept"], c["noise"], c["beta_scale"])
        Xd = sm.add_constant(X, has_constant="add") if c["intercept"] else X
        r = sm.OLS(y, Xd).fit()
        # log p from mpmath (scipy's logsf gives -inf once p underflows)
        logp = [fl(log_t_pvalue(float(t), float(r.df_resid))) for t in r.tvalues]
        e = dict(c)
        e.update(coef=list(map(float, r.params)), se=list(map(float, r.bse)), t=list(map(float, r.tvalues)),
                 p=list(map(float, r.pvalues)), log_p=logp, r2=float(r.rsquared), adj_r2=float(r.rsquared_adj),
                 sigma=float(np.sqrt(r.scale)), df_resid=int(r.df_resid))
        out.append(e)
    return out


def digits(v, t):
    v, t = mp.mpf(float(v)), mp.mpf(t)
    if t == 0:
        return 17.0 if v == 0 else 0.0
    e = abs((v - t) / t)
    return float(max(0, min(17, -mp.log10(e)))) if e > 0 else 17.0


def reference_digits(Xd, yd, truth, intercept):
    """Digits (min over coefficients / standard errors) of numpy.linalg.qr
    (+ triangular solves, se through R^-1), numpy.linalg.lstsq and
    statsmodels OLS (default pinv), against the truth."""
    A = sm.add_constant(Xd, has_constant="add") if intercept else Xd
    n, p = A.shape
    Q, R = np.linalg.qr(A, mode="complete")
    qty = Q.T @ yd
    b = sl.solve_triangular(R[:p], qty[:p])
    Ri = sl.solve_triangular(R[:p], np.eye(p))
    sig = np.sqrt(np.sum(qty[p:] ** 2) / (n - p))
    se = sig * np.sqrt(np.sum(Ri**2, axis=1))
    bl = np.linalg.lstsq(A, yd, rcond=None)[0]
    r = sm.OLS(yd, A).fit()
    dmin = lambda vs, ts: min(digits(v, t) for v, t in zip(vs, ts))
    return {
        "numpy_qr": {"coef": dmin(b, truth["coef"]), "se": dmin(se, truth["se"])},
        "numpy_lstsq": {"coef": dmin(bl, truth["coef"])},
        "statsmodels": {"coef": dmin(r.params, truth["coef"]), "se": dmin(r.bse, truth["se"])},
        "cond": float(np.linalg.cond(A)),
    }


def hard_problem(name, desc, Xq, yq, intercept=True):
    Xd = np.array([[float(v) for v in row] for row in Xq])
    yd = np.array([float(v) for v in yq])
    representable = all(F(float(v)) == v for row in Xq for v in row) and all(F(float(v)) == v for v in yq)
    truth = exact_ols(Xq, yq, intercept)
    e = {"name": name, "description": desc, "representable": representable, "intercept": intercept,
         "n": len(Xq), "k": len(Xq[0]), "X": Xd.tolist(), "y": yd.tolist(), "truth": truth}
    if not representable:
        # what the rounded doubles themselves determine, for reference
        rq = exact_ols([[F(float(v)) for v in row] for row in Xq], [F(float(v)) for v in yq], intercept)
        e["truth_of_rounded"] = {"coef": rq["coef"], "se": rq["se"]}
    e["reference_digits"] = reference_digits(Xd, yd, truth, intercept)
    return e


def gen_hard():
    out = []
    # 1. degree 5 on clustered integers 70..90 (cond ~3e15, the issue's "~1e15")
    xs = [F(70 + i) for i in range(21)]
    X = [[x**j for j in range(1, 6)] for x in xs]
    y = [1 + x + x**2 + x**3 + x**4 + x**5 + F((-1) ** i * 7 * (i % 5)) for i, x in enumerate(xs)]
    out.append(hard_problem("poly5_int_cluster", "degree-5 polynomial, x = 70..90, small integer residual "
                            "(exact in double; cond ~3e15 in the raw basis)", X, y))
    # 2. beyond: the same on 100..120 (cond ~6e16), LAPACK-style QR keeps ~6 digits at best
    xs = [F(100 + i) for i in range(21)]
    X = [[x**j for j in range(1, 6)] for x in xs]
    y = [1 + x + x**2 + x**3 + x**4 + x**5 + F((-1) ** i * 7 * (i % 5)) for i, x in enumerate(xs)]
    h = hard_problem("poly5_int_extreme", "degree-5 polynomial, x = 100..120 (exact in double; cond ~6e16: "
                     "beyond 1/u, where double QR keeps ~6 digits at best)", X, y)
    h["beyond"] = True
    out.append(h)
    # 3. the same design with a residual that is large next to the fit
    y = [1 + x + x**2 + x**3 + x**4 + x**5 + F((-1) ** i * 10**9 * (i % 5)) for i, x in enumerate(xs)]
    out.append(hard_problem("poly5_big_residual", "degree-5 polynomial on x = 100..120, residual ~1e9 next to a "
                            "fit ~1e10 (exact in double)", X, y))
    # 4. Wampler-style degree 5 on 0..20 with a small residual (moderate)
    xs = [F(i) for i in range(21)]
    X = [[x**j for j in range(1, 6)] for x in xs]
    y = [1 + x + x**2 + x**3 + x**4 + x**5 + F((-1) ** i * (i % 3), 4) for i, x in enumerate(xs)]
    out.append(hard_problem("poly5_int_0_20", "degree-5 polynomial, x = 0..20 (Wampler-like), residual 1/4 "
                            "(exact in double; cond ~6e6)", X, y))
    # 5. degree 10 on clustered dyadic x = (8+i)/8: exactly representable
    xs = [F(8 + i, 8) for i in range(32)]
    X = [[x**j for j in range(1, 11)] for x in xs]
    y = [F(int(1000 * np.sin(i)), 8) for i in range(32)]
    out.append(hard_problem("poly10_dyadic", "degree-10 polynomial, x = (8+i)/8, i < 32 (every power exact "
                            "in double; cond ~5e11)", X, y))
    # 6. degree 10 on clustered x = 3/2 + i/16: powers rounded once
    xs = [F(3, 2) + F(i, 16) for i in range(40)]
    X = [[x**j for j in range(1, 11)] for x in xs]
    y = [F(int(1000 * np.sin(i)), 1000) for i in range(40)]
    out.append(hard_problem("poly10_cluster_rounded", "degree-10 polynomial, x = 3/2 + i/16, i < 40: powers and "
                            "y = sin-like decimals not representable, rounded once (cond ~5e12)", X, y))
    # 7. Longley (1967): near-collinear economic regressors, decimal data
    d = sm.datasets.longley.load_pandas()
    exog = d.exog.values
    X = [[F(str(v)) for v in row] for row in exog]
    y = [F(str(v)) for v in d.endog.values]
    out.append(hard_problem("longley", "Longley (1967) employment data: six near-collinear economic "
                            "regressors, decimal data (NIST StRD certified problem)", X, y))
    # 8. near-collinear synthetic, exact dyadic, large residual
    r = Rng(7)
    X, y = [], []
    for i in range(60):
        a = F(int(r.next() % 2001) - 1000, 64)
        b = F(int(r.next() % 2001) - 1000, 64)
        e1 = F(int(r.next() % 3) - 1, 2**20)
        e2 = F(int(r.next() % 3) - 1, 2**20)
        X.append([a, b, a + b + e1, a - b + e2])
        y.append(3 * a - 2 * b + F(int(r.next() % 20001) - 10000, 4))
    out.append(hard_problem("collinear_dyadic", "four regressors, the last two equal to a+b and a-b up to "
                            "2^-20 perturbations; residual large next to the fit (exact dyadic data)", X, y))
    return out


def gen_t_pvalues():
    dfs = [1, 2, 3, 5, 7.5, 10, 30, 100, 1000, 1e4, 1e5, 1e6, 1e7]
    ts = [1e-8, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 8, 10, 15, 20, 30, 40, 60, 100, 300, 1e3, 1e4, 1e5, 1e8,
          1e12, 1e20, 1e50, 1e100, 1e150, 1e200, 1e300]
    out = []
    for df in dfs:
        for t in ts:
            lp = log_t_pvalue(t, df)
            if lp < -1e6:
                continue
            out.append({"df": df, "t": t, "p": fl(mp.exp(lp)), "log_p": fl(lp)})
    return out


def gen_betainc():
    out = []
    for a in [0.5, 1, 2.5, 10, 100, 1e4]:
        for b in [0.5, 1, 3, 20, 1e3]:
            for x in [1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-6]:
                v = mp.exp(log_betainc(a, b, x))
                out.append({"a": a, "b": b, "x": x, "xc": fl(1 - mp.mpf(x)), "I": fl(v),
                            "log_I": fl(mp.log(v)) if v > 0 else None})
    return out


def gen_corr():
    out = []
    r = Rng(21)
    for name, n, ties in [("continuous", 40, False), ("ties", 60, True), ("small", 5, True)]:
        x = [float(r.next() % 10) if ties else 2.0 * r.uniform() - 1.0 for _ in range(n)]
        y = [x[i] * 0.5 + (float(r.next() % 7) if ties else 2.0 * r.uniform() - 1.0) for i in range(n)]
        pr = ss.pearsonr(x, y)
        sr = ss.spearmanr(x, y)
        out.append({"name": name, "x": x, "y": y, "pearson": float(pr[0]), "pearson_p": float(pr[1]),
                    "spearman": float(sr.correlation), "spearman_p": float(sr.pvalue),
                    "rank_x": list(map(float, ss.rankdata(x)))})
    return out


def pca_design(kind, n, d, seed, s):
    """The PCA designs of tests/test_pca.c (same operations, same order):
    X[i, j] = sum_l (z[i, l] s[l]) (H[l, j] / sqrt(d)), z uniform in [-1, 1)
    or, for 'hadamard', z[i, l] = H_n[i, l + 1] (exactly orthogonal columns
    with mean zero, so the spectrum is exactly n d s_l^2 / ((n - 1) d))."""
    scale = {4: 0.5, 16: 0.25, 64: 0.125}[d]
    if kind == "hadamard":
        Z = np.array([[hadamard(i, l + 1) for l in range(d)] for i in range(n)])
    else:
        r = Rng(seed)
        Z = np.array([[2.0 * r.uniform() - 1.0 for _ in range(d)] for _ in range(n)])
    H = np.array([[hadamard(l, j) for j in range(d)] for l in range(d)])
    X = np.zeros((n, d))
    for l in range(d):
        X = X + np.outer(Z[:, l] * s[l], H[l, :] * scale)
    return X


def gen_pca():
    cases = [
        dict(name="separated", kind="uniform", n=1000, d=16, seed=31, s=[2.0 ** (-0.5 * l) * 10 for l in range(16)]),
        dict(name="mixed", kind="uniform", n=800, d=16, seed=32,
             s=[10.0, 9.999, 9.99, 9.9, 5.0, 4.9999, 3, 2, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5]),
        dict(name="close", kind="hadamard", n=512, d=16, seed=0,
             s=[10.0, 9.99999, 9.9, 5.0, 4.9999, 4.99, 3.0, 2.0, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5]),
        dict(name="repeated", kind="hadamard", n=256, d=16, seed=0,
             s=[8.0, 8.0, 8.0, 4.0, 4.0, 2.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.25, 0.25, 0.125, 0.0625, 0.03125]),
        dict(name="tall", kind="uniform", n=20000, d=64, seed=33, s=[float(64 - l) ** 1.5 / 100 for l in range(64)]),
    ]
    out = []
    for c in cases:
        X = pca_design(c["kind"], c["n"], c["d"], c["seed"], c["s"])
        C = np.cov(X, rowvar=False)
        w, V = np.linalg.eigh(C)
        w, V = w[::-1], V[:, ::-1]
        for i in range(V.shape[1]):
            j = np.argmax(np.abs(V[:, i]))
            V[:, i] *= np.sign(V[j, i])
        # relative gap of each eigenvalue to its neighbours
        gaps = []
        for i in range(len(w)):
            g = min([abs(w[i] - w[j]) for j in range(len(w)) if j != i])
            gaps.append(float(g / w[0]))
        e = dict(c)
        e.update(eigenvalues=list(map(float, w)), gaps=gaps, vectors=V[:, :8].T.tolist())
        out.append(e)
    return out


def write_npy(path, a):
    np.save(path, np.ascontiguousarray(a, dtype="<f8"))


def gen_cli(outdir):
    r = Rng(41)
    n = 40
    X = np.array([[2.0 * r.uniform() - 1.0 + j for j in range(2)] for _ in range(n)])
    y = 1.0 + 2.0 * X[:, 0] - 0.5 * X[:, 1] + np.array([0.3 * (2.0 * r.uniform() - 1.0) for _ in range(n)])
    write_npy(os.path.join(outdir, "ols_cli_X.npy"), X)
    write_npy(os.path.join(outdir, "ols_cli_y.npy"), y)
    fit = sm.OLS(y, sm.add_constant(X)).fit()
    fit0 = sm.OLS(y, X).fit()
    P = pca_design("uniform", 60, 4, 42, [4.0, 2.0, 1.0, 0.5]) + 3.0
    write_npy(os.path.join(outdir, "pca_cli_X.npy"), P)
    from sklearn.decomposition import PCA
    pc = PCA().fit(P)
    comps = pc.components_.copy()
    for i in range(len(comps)):
        j = np.argmax(np.abs(comps[i]))
        comps[i] *= np.sign(comps[i, j])
    return {
        "ols": {"coef": list(map(float, fit.params)), "se": list(map(float, fit.bse)), "r2": float(fit.rsquared),
                "adj_r2": float(fit.rsquared_adj), "sigma": float(np.sqrt(fit.scale)), "df_resid": int(fit.df_resid)},
        "ols_no_intercept": {"coef": list(map(float, fit0.params)), "r2": float(fit0.rsquared)},
        "pca": {"explained_variance": list(map(float, pc.explained_variance_)),
                "explained_variance_ratio": list(map(float, pc.explained_variance_ratio_)),
                "components": comps.tolist()},
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    versions = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                "statsmodels": statsmodels.__version__, "sklearn": sklearn.__version__, "mpmath": mp.__version__,
                "generator": "tools/gen_numerics_goldens.py"}
    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        for k, v in versions.items():
            f.write(f"{k} {v}\n")

    def dump(name, obj):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump({"versions": versions, "cases": obj}, f, indent=None, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {name}")

    dump("ols_wellcond.json", gen_wellcond())
    hard = gen_hard()
    dump("ols_hard.json", hard)
    for h in hard:
        rd = h["reference_digits"]
        print(f"  {h['name']:24s} cond {rd['cond']:.1e}  qr {rd['numpy_qr']['coef']:.1f}/{rd['numpy_qr']['se']:.1f}"
              f"  lstsq {rd['numpy_lstsq']['coef']:.1f}  statsmodels {rd['statsmodels']['coef']:.1f}/"
              f"{rd['statsmodels']['se']:.1f}  representable {h['representable']}")
    dump("t_pvalues.json", gen_t_pvalues())
    dump("betainc.json", gen_betainc())
    dump("corr.json", gen_corr())
    dump("pca.json", gen_pca())
    dump("cli_expect.json", gen_cli(OUT))


if __name__ == "__main__":
    main()
