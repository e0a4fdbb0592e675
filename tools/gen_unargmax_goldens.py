#!/usr/bin/python3
"""Goldens for tests/test_unargmax.c: random output layers (W, b) and, for
every token, the optimum r* of the full Chebyshev-ball LP (Grivas et al.
2022, eq. 4) with every constraint, solved by HiGHS through
scipy.optimize.linprog (a brute-force reference, not a tpe dependency):

    maximize r  s.t.  (W_j - W_i) . x + ||W_j - W_i|| r <= b_i - b_j  (all j != i)
                      -B <= x_k <= B,  r free

Token i is argmaxable (with radius eps = 1e-8) iff r* >= eps. Cases are
redrawn until no r* lies within a factor 100 of eps, so the verdict does
not hinge on solver tolerances. Each r* is cross-checked with GLPK's
glpsol when it is installed (both must agree to 1e-7 relative).

Writes golden/unargmax/<case>_W.npy (V, d) f64, <case>_b.npy (V,) f64 (all
zeros for the no-bias cases, whose name ends in _nobias), <case>_rstar.npy
(V,) f64, <case>_unargmaxable.txt (the ids with r* < eps, one line, for
the command-line tests), the small inputs of tests/cli/unargmax.sh
(cli_*.npy, and model_{gpt2,gptj,neox}/: the 2-D example as each
architecture stores its output layer) and golden/unargmax/VERSIONS.

usage: /usr/bin/python3 tools/gen_unargmax_goldens.py [outdir]
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np
import scipy
from scipy.optimize import linprog

BOX = 100.0
EPS = 1e-8


def rstar(W, b, i):
    V, d = W.shape
    A = np.delete(W - W[i], i, axis=0)
    nrm = np.linalg.norm(A, axis=1)
    c = np.delete(b[i] - b, i)
    A_ub = np.hstack([A, nrm[:, None]])
    cost = np.zeros(d + 1)
    cost[d] = -1.0
    bounds = [(-BOX, BOX)] * d + [(None, None)]
    res = linprog(cost, A_ub=A_ub, b_ub=c, bounds=bounds, method="highs",
                  options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10})
    if res.status != 0:
        raise RuntimeError("HiGHS status %d for token %d" % (res.status, i))
    return -res.fun


def glpk_rstar(W, b, i):
    """The same LP through glpsol (CPLEX LP format); None when absent."""
    if not shutil.which("glpsol"):
        return None
    V, d = W.shape
    lines = ["Maximize", " obj: r", "Subject To"]
    for j in range(V):
        if j == i:
            continue
        a = W[j] - W[i]
        n = np.linalg.norm(a)
        terms = " ".join("%+.17g x%d" % (a[k], k) for k in range(d))
        lines.append(" c%d: %s %+.17g r <= %.17g" % (j, terms, n, b[i] - b[j]))
    lines.append("Bounds")
    for k in range(d):
        lines.append(" %.17g <= x%d <= %.17g" % (-BOX, k, BOX))
    lines.append(" r free")
    lines.append("End")
    with tempfile.TemporaryDirectory() as t:
        lp = os.path.join(t, "p.lp")
        out = os.path.join(t, "p.out")
        with open(lp, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(["glpsol", "--lp", lp, "-o", out], check=True, capture_output=True)
        with open(out) as f:
            for line in f:
                if line.startswith("Objective:"):
                    return float(line.split("=")[1].split()[0])
    return None


def make_case(rng, V, d, bias, planted):
    while True:
        W = rng.standard_normal((V, d))
        b = rng.standard_normal(V) * 0.5 if bias else np.zeros(V)
        # planted interior points: convex combinations of a few others
        for p in range(planted):
            idx = rng.choice(V - planted, size=min(d + 1, V - planted), replace=False)
            lam = rng.random(len(idx)) + 0.1
            lam /= lam.sum()
            W[V - 1 - p] = lam @ W[idx]
            if bias:
                b[V - 1 - p] = lam @ b[idx] - 0.3
        r = np.array([rstar(W, b, i) for i in range(V)])
        # no verdict may hinge on the tolerance: r* far from eps (or <= 0)
        if np.all((r >= 100 * EPS) | (r <= EPS / 100)):
            return W, b, r


def write_safetensors(path, tensors):
    """safetensors by hand: u64 LE header length, JSON header, raw LE data"""
    header, blobs, off = {}, [], 0
    for name, arr, dt in tensors:
        b = np.ascontiguousarray(arr).astype({"F32": "<f4", "F64": "<f8", "F16": "<f2"}[dt]).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_example_models(out, ex):
    """GPT-2 (tied: the head is wte), GPT-J (lm_head weight + a bias that
    lifts token 3) and GPT-NeoX (untied embed_out, stored F16)."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPTJConfig, GPTJForCausalLM, GPTNeoXConfig, GPTNeoXForCausalLM
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hfdir
    torch.manual_seed(20240607)
    W = torch.tensor(ex, dtype=torch.float32)
    with torch.no_grad():
        g = GPT2LMHeadModel(GPT2Config(vocab_size=4, n_positions=8, n_embd=2, n_layer=1, n_head=1))
        g.transformer.wte.weight.copy_(W)
        hfdir.save_model_dir(g, os.path.join(out, "model_gpt2"), "float32")
        j = GPTJForCausalLM(GPTJConfig(vocab_size=4, n_positions=8, n_embd=2, n_layer=1, n_head=1, rotary_dim=2))
        j.lm_head.weight.copy_(W)
        j.lm_head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 5.0]))
        hfdir.save_model_dir(j, os.path.join(out, "model_gptj"), "float32")
        n = GPTNeoXForCausalLM(GPTNeoXConfig(vocab_size=4, max_position_embeddings=8, hidden_size=2, num_hidden_layers=1,
                                             num_attention_heads=1, intermediate_size=8, rotary_pct=1.0,
                                             tie_word_embeddings=False))
        n.embed_out.weight.copy_(W)
        hfdir.save_model_dir(n, os.path.join(out, "model_neox"), "float16")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "golden/unargmax"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20240607)
    cases = [("bias_v12_d2", 12, 2, True, 1), ("bias_v20_d3", 20, 3, True, 2), ("bias_v30_d4", 30, 4, True, 2),
             ("bias_v40_d5", 40, 5, True, 3), ("bias_v50_d6", 50, 6, True, 3), ("bias_v80_d3", 80, 3, True, 0),
             ("v60_d5_nobias", 60, 5, False, 3), ("v40_d6_nobias", 40, 6, False, 2)]
    worst_glpk = 0.0
    for name, V, d, bias, planted in cases:
        W, b, r = make_case(rng, V, d, bias, planted)
        for i in range(V):
            g = glpk_rstar(W, b, i)
            if g is not None:
                dev = abs(g - r[i]) / max(1.0, abs(r[i]))
                worst_glpk = max(worst_glpk, dev)
                if dev > 1e-7:
                    raise RuntimeError("%s token %d: HiGHS %.17g, glpsol %.17g" % (name, i, r[i], g))
        np.save(os.path.join(out, name + "_W.npy"), W)
        np.save(os.path.join(out, name + "_b.npy"), b)
        np.save(os.path.join(out, name + "_rstar.npy"), r)
        with open(os.path.join(out, name + "_unargmaxable.txt"), "w") as f:
            f.write(" ".join(str(i) for i in np.nonzero(r < EPS)[0]) + "\n")
        print("%-16s V=%3d d=%d bias=%d: %d of %d tokens unargmaxable (r* < eps)" % (name, V, d, bias, int(np.sum(r < EPS)), V))
    # inputs of the command-line tests
    ex = np.array([[-2, -2], [1, 2], [1.8, -0.8], [0.9, 0.2]], dtype=np.float64)
    np.save(os.path.join(out, "cli_example_W.npy"), ex)
    np.save(os.path.join(out, "cli_example_W32.npy"), ex.astype(np.float32))
    np.save(os.path.join(out, "cli_dup_W.npy"), np.array([[1, 0], [1, 0], [0, 1], [-1, -1]], dtype=np.float64))
    np.save(os.path.join(out, "cli_dup_b.npy"), np.array([0.5, 0.2, 0.0, 0.0]))
    bad = ex.copy()
    bad[1, 0] = np.nan
    np.save(os.path.join(out, "cli_nan_W.npy"), bad)
    np.save(os.path.join(out, "cli_3d_W.npy"), np.zeros((2, 2, 2)))
    np.save(os.path.join(out, "cli_short_b.npy"), np.zeros(3))
    # model directories: real (tiny, random) GPT-2 / GPT-J / GPT-NeoX models
    # of width 2 whose output layer is the 2-D example, written by
    # transformers 4.29.2 (PYTHONPATH=/work/pyenv) through tools/hfdir.py
    write_example_models(out, ex)
    glpk = subprocess.run(["glpsol", "--version"], capture_output=True, text=True).stdout.splitlines()[0] if shutil.which("glpsol") else "absent"
    with open(os.path.join(out, "VERSIONS"), "w") as f:
        f.write("generator: tools/gen_unargmax_goldens.py (seed 20240607)\n")
        f.write("python %s\nnumpy %s\nscipy %s (linprog method='highs')\nglpsol cross-check: %s (worst relative deviation %.3g)\n"
                % (sys.version.split()[0], np.__version__, scipy.__version__, glpk, worst_glpk))
        f.write("box %g, eps %g\n" % (BOX, EPS))
    print("worst HiGHS/glpsol relative deviation %.3g" % worst_glpk)


if __name__ == "__main__":
    main()
