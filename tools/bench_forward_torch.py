#!/usr/bin/env python3
"""tools/bench_forward_torch.py MODEL [--tokens T] [--reps R]

The PyTorch side of `tpe bench forward`: the same model directory (read by
hand from model.safetensors), the same work -- one forward pass of T tokens,
softmax over the vocabulary at every position, alpha += p in float64 -- on
one thread (torch.set_num_threads(1)), best of R timed runs after one
warm-up run. Prints one JSON line like `tpe bench forward --json`.

Needs Debian's python3-torch (1.13) and transformers 4.29.2 on PYTHONPATH
(PYTHONPATH=/work/pyenv); only used for benchmarks, never by the build.
"""
import argparse
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "F64": np.float64, "F16": np.float16}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        if e["dtype"] == "BF16":
            raw = np.frombuffer(data, dtype="<u2", count=(end - b) // 2, offset=base + b).astype(np.uint32) << 16
            arr = raw.view(np.float32)
        else:
            dt = np.dtype(dtypes[e["dtype"]]).newbyteorder("<")
            arr = np.frombuffer(data, dtype=dt, count=(end - b) // dt.itemsize, offset=base + b)
        out[name] = torch.from_numpy(np.array(arr, dtype=np.float32).reshape(e["shape"]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    import transformers
    cfg = json.load(open(os.path.join(a.model, "config.json")))
    if cfg["model_type"] != "gpt2":
        sys.exit("bench_forward_torch.py: only gpt2 model directories")
    config = transformers.GPT2Config(**{k: v for k, v in cfg.items() if k != "model_type"})
    model = transformers.GPT2LMHeadModel(config)
    sd = read_safetensors(os.path.join(a.model, "model.safetensors"))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("attn.bias") and not k.endswith("attn.masked_bias") and k != "lm_head.weight"]
    if missing or unexpected:
        sys.exit("bench_forward_torch.py: missing %s unexpected %s" % (missing, unexpected))
    model.tie_weights()
    model.eval()
    g = torch.Generator().manual_seed(1234)
    ids = torch.randint(0, config.vocab_size, (1, a.tokens), generator=g)
    alpha = torch.zeros(config.vocab_size, dtype=torch.float64)
    best = float("inf")
    with torch.no_grad():
        for r in range(a.reps + 1):
            t0 = time.perf_counter()
            logits = model(ids).logits[0]                 # (T, V) float32
            p = torch.softmax(logits, dim=-1)             # over the vocabulary
            alpha += p.sum(dim=0, dtype=torch.float64)    # accumulated in float64
            t = time.perf_counter() - t0
            if r > 0:
                best = min(best, t)
    print(json.dumps({"tokens": a.tokens, "seconds": best, "tokens_per_s": a.tokens / best,
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
