#!/usr/bin/python3
"""Golden values for `tpe encoding` (Cho et al. 2024, Eq. 2 and Table 1) from
statsmodels' OLS, for tests/test_steer.c and tests/cli/paper1.sh.

    /usr/bin/python3 tools/gen_encoding_goldens.py [golden/encoding]

Cases (each: -log alpha regressed with an intercept on the rows of an
embedding, plus the head bias as one more column when the head has one):
  gpt2.json   golden/demo/gpt2 (tied): E^(o) and alpha from
              golden/demo/check/alpha-gpt2.npy (the demo-sized problem:
              V = 2048, d = 64)
  neox.json   golden/demo/neox (untied): E^(o) and E^(i), alpha-neox.npy
  gptj.json   golden/models/gptj-rot6-noprefix (V = 90, d = 24, lm_head.bias):
              alpha = the mean of softmax(logits64.npy) over its 2 x 14
              positions (transformers' float64 logits), written as
              alpha-gptj.npy beside the JSON; regressors [E^(o), b]
Each JSON holds r2, adj_r2, intercept (B_D), slope (A_D), se, p (per
dimension), and for the bias case bias_slope, bias_se; neox.json also the
input-embedding regression (input_r2, input_adj_r2).

The weights are read from model.safetensors by hand (8-byte little-endian
header length, JSON header, raw little-endian data): there is no python
safetensors package here. VERSIONS records the library versions.
"""
import json
import os
import platform
import struct
import sys

import numpy as np
import statsmodels
import statsmodels.api as sm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "golden", "encoding")

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2"}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] not in DTYPES:
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(blob[base + a : base + b], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).astype(np.float64)
    return out


def tensor(weights, *names):
    for n in names:
        if n in weights:
            return weights[n]
    raise KeyError(names)


def fit(E, alpha, bias=None):
    X = E if bias is None else np.column_stack([E, bias])
    res = sm.OLS(-np.log(alpha), sm.add_constant(X, has_constant="add")).fit()
    C = E.shape[1]
    out = {
        "n": int(E.shape[0]),
        "k": int(C),
        "r2": float(res.rsquared),
        "adj_r2": float(res.rsquared_adj),
        "intercept": float(res.params[0]),
        "slope": [float(v) for v in res.params[1 : 1 + C]],
        "se": [float(v) for v in res.bse[1 : 1 + C]],
        "p": [float(v) for v in res.pvalues[1 : 1 + C]],
        "sigma": float(np.sqrt(res.scale)),
    }
    if bias is not None:
        out["bias_slope"] = float(res.params[1 + C])
        out["bias_se"] = float(res.bse[1 + C])
    return out


def write(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    demo = os.path.join(ROOT, "golden", "demo")
    # gpt2 (tied): E^(o) is wte
    w = read_safetensors(os.path.join(demo, "gpt2", "model.safetensors"))
    E = tensor(w, "transformer.wte.weight", "wte.weight")
    alpha = np.load(os.path.join(demo, "check", "alpha-gpt2.npy"))
    case = fit(E, alpha)
    case["model"] = "golden/demo/gpt2"
    case["alpha"] = "golden/demo/check/alpha-gpt2.npy"
    write("gpt2.json", case)
    # neox (untied): E^(o) = embed_out, E^(i) = embed_in
    w = read_safetensors(os.path.join(demo, "neox", "model.safetensors"))
    Eo = tensor(w, "embed_out.weight")
    Ei = tensor(w, "gpt_neox.embed_in.weight", "embed_in.weight")
    alpha = np.load(os.path.join(demo, "check", "alpha-neox.npy"))
    case = fit(Eo, alpha)
    inp = fit(Ei, alpha)
    case["input_r2"] = inp["r2"]
    case["input_adj_r2"] = inp["adj_r2"]
    case["model"] = "golden/demo/neox"
    case["alpha"] = "golden/demo/check/alpha-neox.npy"
    write("neox.json", case)
    # gptj with a head bias: alpha from the float64 reference logits
    d = os.path.join(ROOT, "golden", "models", "gptj-rot6-noprefix")
    w = read_safetensors(os.path.join(d, "model.safetensors"))
    E = tensor(w, "lm_head.weight")
    b = tensor(w, "lm_head.bias")
    L = np.load(os.path.join(d, "logits64.npy")).reshape(-1, E.shape[0])
    L = L - L.max(axis=1, keepdims=True)
    P = np.exp(L)
    P /= P.sum(axis=1, keepdims=True)
    alpha = P.mean(axis=0)
    np.save(os.path.join(OUT, "alpha-gptj.npy"), alpha)
    case = fit(E, alpha, b)
    nob = fit(E, alpha)
    case["no_bias_r2"] = nob["r2"]
    case["no_bias_adj_r2"] = nob["adj_r2"]
    case["model"] = "golden/models/gptj-rot6-noprefix"
    case["alpha"] = "golden/encoding/alpha-gptj.npy"
    write("gptj.json", case)
    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        f.write("generator: tools/gen_encoding_goldens.py\n")
        f.write("python %s, numpy %s, statsmodels %s\n" % (platform.python_version(), np.__version__, statsmodels.__version__))


if __name__ == "__main__":
    main()
