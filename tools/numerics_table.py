#!/usr/bin/python3
"""The measured-digits table of docs/numerics.md.

    /usr/bin/python3 tools/numerics_table.py [./tpe]

For every hard problem of golden/numerics/ols_hard.json, runs
`tpe ols X.npy y.npy --json` in each precision (f64, dd, refine), counts the
correct significant digits of every coefficient and standard error against
the exact truth (min over the vector, capped at 17), and prints a Markdown
table beside the digits numpy.linalg.qr, numpy.linalg.lstsq and statsmodels
obtained (recorded by tools/gen_numerics_goldens.py), with tpe's times.
"""
import json
import os
import subprocess
import sys
import tempfile

import mpmath as mp
import numpy as np

mp.mp.dps = 40
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TPE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tpe")


def digits(v, t):
    if v is None:
        return 0.0
    v, t = mp.mpf(v), mp.mpf(t)
    if t == 0:
        return 17.0 if v == 0 else 0.0
    e = abs((v - t) / t)
    return float(max(0, min(17, -mp.log10(e)))) if e > 0 else 17.0


def run(X, y, precision, intercept):
    with tempfile.TemporaryDirectory() as d:
        np.save(os.path.join(d, "X.npy"), X)
        np.save(os.path.join(d, "y.npy"), y)
        cmd = [TPE, "ols", os.path.join(d, "X.npy"), os.path.join(d, "y.npy"), "--json", "--precision", precision]
        if not intercept:
            cmd.append("--no-intercept")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        return json.loads(out)


def main():
    with open(os.path.join(ROOT, "golden", "numerics", "ols_hard.json")) as f:
        hard = json.load(f)["cases"]
    rows = []
    for h in hard:
        X, y = np.array(h["X"]), np.array(h["y"])
        t = h["truth"]
        mine = {}
        for prec in ("f64", "dd", "refine"):
            r = run(X, y, prec, h["intercept"])
            mine[prec] = (min(digits(v, w) for v, w in zip(r["coef"], t["coef"])),
                          min(digits(v, w) for v, w in zip(r["se"], t["se"])), r["seconds"])
        rd = h["reference_digits"]
        rows.append((h["name"], "yes" if h["representable"] else "no", rd["cond"], mine, rd))
    print("| problem | exact in double | cond | tpe f64 coef/se | tpe dd coef/se | tpe refine coef/se |"
          " numpy.linalg.qr coef/se | numpy lstsq coef | statsmodels coef/se |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rep, cond, mine, rd in rows:
        f = lambda p: f"{mine[p][0]:.1f} / {mine[p][1]:.1f}"
        print(f"| {name} | {rep} | {cond:.1e} | {f('f64')} | {f('dd')} | {f('refine')} | "
              f"{rd['numpy_qr']['coef']:.1f} / {rd['numpy_qr']['se']:.1f} | {rd['numpy_lstsq']['coef']:.1f} | "
              f"{rd['statsmodels']['coef']:.1f} / {rd['statsmodels']['se']:.1f} |")
    print()
    print("| problem | tpe f64 s | tpe dd s | tpe refine s |")
    print("|---|---|---|---|")
    for name, rep, cond, mine, rd in rows:
        print(f"| {name} | {mine['f64'][2]:.2e} | {mine['dd'][2]:.2e} | {mine['refine'][2]:.2e} |")


if __name__ == "__main__":
    main()
