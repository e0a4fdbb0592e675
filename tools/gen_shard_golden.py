#!/usr/bin/python3
"""gen_shard_golden.py -- goldens for exact sums (ref/exactsum.c) and for the
part-file format of sharded probes (ref/shard.h, docs/formats.md).

  golden/shard/fsum_values.npy   (4, 500) <f8  non-negative doubles, four kinds
  golden/shard/fsum_expected.npy (4,)     <f8  math.fsum of each row: the
                                              correctly rounded exact sum
  golden/shard/golden.part       a part file written here, independently of
                                 tpe's writer, from the documented format
                                 (Python integers for the long accumulators,
                                 hashlib for SHA-256), read by the C tests on
                                 every platform (little- and big-endian, 32-bit)
  golden/shard/part_expected.npy (7,) <f8  the part's sums, correctly rounded
  golden/shard/VERSIONS          what produced them

Run: /usr/bin/python3 tools/gen_shard_golden.py
"""
import hashlib
import json
import math
import os
import platform
import struct
import sys
from fractions import Fraction

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "shard")
LIMBS, LSB = 18, -1074


def fsum_rows():
    rng = np.random.default_rng(20240615)
    rows = []
    # 1. uniform [0, 1)
    rows.append(rng.random(500))
    # 2. wide exponents, from subnormals to 2^40
    e = rng.integers(-1074, 41, 500)
    m = rng.random(500) + 1.0
    rows.append(np.array([math.ldexp(float(a), int(b)) if b > -1022 else math.ldexp(float(rng.integers(1, 2**52)), -1074)
                          for a, b in zip(m, e)]))
    # 3. next-token distributions: softmax of random logits (tiny to ~1)
    logits = rng.normal(0, 8, 500)
    p = np.exp(logits - logits.max())
    rows.append(p / p.sum())
    # 4. sums that fall on ties and need the sticky bit: 1, 2^-53, 2^-1074 and their multiples
    base = [1.0, 2.0**-53, 2.0**-1074, 3 * 2.0**-60, 2.0**52, 0.5, 2.0**-1022]
    rows.append(np.array([base[i] for i in rng.integers(0, len(base), 500)]))
    vals = np.array(rows, dtype="<f8")
    assert (vals >= 0).all() and np.isfinite(vals).all()
    expect = np.array([math.fsum(r) for r in vals.tolist()], dtype="<f8")
    return vals, expect


def limbs_of(values):
    """the long accumulator of a list of doubles: sum x * 2^1074 as integers"""
    total = sum(Fraction(x) * (Fraction(2) ** -LSB) for x in values)
    assert total.denominator == 1
    n = total.numerator
    assert n < 2 ** (64 * LIMBS)
    return [(n >> (64 * k)) & (2**64 - 1) for k in range(LIMBS)]


def golden_part():
    rng = np.random.default_rng(7)
    V = 7
    sums = []
    for v in range(V):
        xs = [float(x) for x in rng.random(40) * 10.0 ** int(rng.integers(-300, 1))]
        xs += [2.0**-1074] * (v + 1)
        sums.append(xs)
    hexes = [hashlib.sha256(("golden %d" % i).encode()).hexdigest() for i in range(8)]
    header = {
        "format": "tpe-part", "version": 1, "kind": "probe", "fingerprint": hexes[0],
        "run": {"model": {"sha256": hexes[1], "model_type": "gpt_neox", "vocab": V, "width": 3,
                          "files": [{"name": "config.json", "bytes": 321, "sha256": hexes[2]},
                                    {"name": "model.safetensors", "bytes": 4321, "sha256": hexes[3]}]},
                "data": {"sha256": hexes[4], "tokens_sha256": hexes[5], "samples": 11, "tokens": 100, "ids_file": False},
                "max_len": 16, "precision": "f64", "shards": 5, "platform": "x86_64/avx2"},
        "shard": 2,
        "local": {"samples": 2, "tokens": 40, "windows": 3},
        "hidden": {"path": "dir/h2.npy", "rows": 40, "dtype": "<f8", "sha256": hexes[6],
                   "tokens_path": "dir/h2.tokens.npy", "tokens_sha256": hexes[7]},
        "info": {"model_dir": "models/x", "data_path": "data.txt"},
        "sums": {"count": V, "limbs": LIMBS, "limb_bytes": 8, "lsb_exponent": LSB, "positions": 40},
        "a_key_from_the_future": [1, 2, 3],
    }
    text = json.dumps(header, indent=1).encode()
    while (16 + len(text) + 1) % 8:
        text += b" "
    text += b"\n"
    body = b"\x93TPEPART" + struct.pack("<II", 1, len(text)) + text
    for xs in sums:
        body += struct.pack("<%dQ" % LIMBS, *limbs_of(xs))
    body += hashlib.sha256(body).digest()
    expect = np.array([math.fsum(xs) for xs in sums], dtype="<f8")
    return body, expect


def main():
    os.makedirs(OUT, exist_ok=True)
    vals, expect = fsum_rows()
    np.save(os.path.join(OUT, "fsum_values.npy"), vals)
    np.save(os.path.join(OUT, "fsum_expected.npy"), expect)
    part, pexp = golden_part()
    with open(os.path.join(OUT, "golden.part"), "wb") as f:
        f.write(part)
    np.save(os.path.join(OUT, "part_expected.npy"), pexp)
    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        f.write("generator: tools/gen_shard_golden.py\n")
        f.write("python %s, numpy %s (math.fsum, fractions, hashlib)\n" % (platform.python_version(), np.__version__))
        f.write("golden.part: %d bytes, sha256 %s\n" % (len(part), hashlib.sha256(part).hexdigest()))
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
