#!/usr/bin/env python3
"""tools/gen_malformed.py [--out golden/malformed]

A committed set of broken model directories, each of which `tpe logits` must
refuse with exit status 1 and a clear message (tests/cli/runtime.sh checks
the message against the pattern in golden/malformed/CASES). They start from
one tiny valid GPT-2 directory (golden/malformed/valid, also checked to
load) and break one thing each: the safetensors framing (truncated file,
absurd or oversized header length, invalid header JSON, offsets past the end,
overlapping tensors, dtype/shape size mismatch, duplicate names), the
weights (NaN, Inf, wrong shape, integer dtype, missing tensor), the config
(unknown model_type, missing field, invalid JSON) and a shard index that
points outside the directory. Python is only used to make these files.
"""
import argparse
import json
import os
import shutil
import struct

import numpy as np

CONFIG = {"model_type": "gpt2", "vocab_size": 8, "n_embd": 4, "n_head": 1, "n_layer": 1, "n_positions": 8,
          "n_inner": 8, "layer_norm_epsilon": 1e-05, "activation_function": "gelu_new"}


def tensors():
    rng = np.random.default_rng(5)
    C, F, V, P = 4, 8, 8, 8
    shapes = [("transformer.wte.weight", (V, C)), ("transformer.wpe.weight", (P, C)),
              ("transformer.h.0.ln_1.weight", (C,)), ("transformer.h.0.ln_1.bias", (C,)),
              ("transformer.h.0.attn.c_attn.weight", (C, 3 * C)), ("transformer.h.0.attn.c_attn.bias", (3 * C,)),
              ("transformer.h.0.attn.c_proj.weight", (C, C)), ("transformer.h.0.attn.c_proj.bias", (C,)),
              ("transformer.h.0.ln_2.weight", (C,)), ("transformer.h.0.ln_2.bias", (C,)),
              ("transformer.h.0.mlp.c_fc.weight", (C, F)), ("transformer.h.0.mlp.c_fc.bias", (F,)),
              ("transformer.h.0.mlp.c_proj.weight", (F, C)), ("transformer.h.0.mlp.c_proj.bias", (C,)),
              ("transformer.ln_f.weight", (C,)), ("transformer.ln_f.bias", (C,))]
    return [(n, "F32", list(s), rng.normal(0, 0.3, s).astype("<f4")) for n, s in shapes]


def encode(ts, offsets=None, header_len=None, header_text=None, cut=None):
    header, off, raw = {"__metadata__": {"format": "pt"}}, 0, b""
    for i, (n, dt, shape, arr) in enumerate(ts):
        b = arr.tobytes()
        o = offsets[i] if offsets and i in offsets else [off, off + len(b)]
        header[n] = {"dtype": dt, "shape": shape, "data_offsets": o}
        off += len(b)
        raw += b
    h = header_text.encode() if header_text is not None else json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    data = struct.pack("<Q", len(h) if header_len is None else header_len) + h + raw
    return data[:cut] if cut is not None else data


def write(out, name, st_bytes=None, config=None, config_text=None, files=None):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        f.write(config_text if config_text is not None else json.dumps(config or CONFIG, indent=1))
    if st_bytes is not None:
        with open(os.path.join(d, "model.safetensors"), "wb") as f:
            f.write(st_bytes)
    for fname, content in (files or {}).items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(content)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="golden/malformed")
    a = ap.parse_args()
    if os.path.isdir(a.out):
        shutil.rmtree(a.out)
    os.makedirs(a.out)
    ts = tensors()
    good = encode(ts)
    cases = []

    def case(name, pattern, **kw):
        write(a.out, name, **kw)
        cases.append((name, pattern))

    write(a.out, "valid", st_bytes=good)
    case("truncated-file", "end past the data section .*truncated", st_bytes=good[:len(good) - 10])
    case("truncated-to-5-bytes", "too short", st_bytes=good[:5])
    case("absurd-header-length", "header length [0-9]+ is absurd", st_bytes=encode(ts, header_len=1 << 62))
    case("header-longer-than-file", "header length [0-9]+ exceeds", st_bytes=encode(ts, header_len=len(good)))
    case("header-not-json", "model.safetensors \\(header\\): invalid JSON at line 1", st_bytes=encode(ts, header_text='{"a": [1, 2,}'))
    last = len(ts) - 1
    end = sum(t[3].nbytes for t in ts)
    case("offsets-past-end", "'transformer.ln_f.bias': data_offsets \\[[0-9]+, [0-9]+\\) end past",
         st_bytes=encode(ts, offsets={last: [end - 16 + 8, end + 8]}))
    case("overlapping-tensors", "overlap", st_bytes=encode(ts, offsets={1: [0, 128]}))
    bad = list(ts)
    bad[4] = (bad[4][0], "F32", [4, 13], bad[4][3])
    case("dtype-shape-mismatch", "'transformer.h.0.attn.c_attn.weight': F32 shape \\[4, 13\\] needs 208 bytes", st_bytes=encode(bad))
    bad = [(n, d, s, a.copy()) for n, d, s, a in ts]
    bad[10][3][2, 5] = np.nan
    case("nan-weight", "'transformer.h.0.mlp.c_fc.weight': element \\[2, 5\\] is NaN", st_bytes=encode(bad))
    bad = [(n, d, s, a.copy()) for n, d, s, a in ts]
    bad[0][3][7, 1] = np.inf
    case("inf-weight", "'transformer.wte.weight': element \\[7, 1\\] is infinite", st_bytes=encode(bad))
    bad = list(ts)
    bad[10] = (bad[10][0], "F32", [8, 4], bad[10][3].reshape(8, 4))
    case("wrong-shape", "'transformer.h.0.mlp.c_fc.weight' has shape \\[8, 4\\], expected \\[4, 8\\]", st_bytes=encode(bad))
    bad = list(ts)
    bad[10] = (bad[10][0], "I32", bad[10][2], bad[10][3].view("<i4"))
    case("integer-weight", "has dtype I32", st_bytes=encode(bad))
    case("missing-tensor", "missing tensor 'transformer.h.0.mlp.c_fc.weight'", st_bytes=encode(ts[:10] + ts[11:]))
    hdr = json.dumps({ts[0][0]: {"dtype": "F32", "shape": [8, 4], "data_offsets": [0, 128]}}, separators=(",", ":"))
    case("duplicate-name", "appears twice", st_bytes=encode(ts, header_text=hdr[:-1] + "," + hdr[1:]))
    cfg = dict(CONFIG, model_type="llama")
    case("config-unknown-model-type", "unknown model_type \"llama\"", st_bytes=good, config=cfg)
    cfg = dict(CONFIG)
    del cfg["n_head"]
    case("config-missing-field", "missing field \"n_head\"", st_bytes=good, config=cfg)
    case("config-not-json", "config.json", st_bytes=good, config_text='{"model_type": "gpt2", ')
    case("index-outside-dir", "must be a file name inside the model directory", st_bytes=None,
         files={"model.safetensors.index.json": json.dumps({"weight_map": {ts[0][0]: "../valid/model.safetensors"}})})
    case("no-weights", "neither model.safetensors nor model.safetensors.index.json", st_bytes=None)
    with open(os.path.join(a.out, "CASES"), "w") as f:
        f.write("# directory|pattern (grep -E) the error line of `tpe logits DIR --ids \"1 2\"` must match\n")
        for name, pattern in cases:
            f.write("%s|%s\n" % (name, pattern))
    print("%d malformed model directories in %s" % (len(cases), a.out))


if __name__ == "__main__":
    main()
