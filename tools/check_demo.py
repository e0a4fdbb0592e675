#!/usr/bin/env python3
"""tools/check_demo.py -- does the shipped demo show the paper's phenomenon? (Python side)

Independent of tpe's C code, with transformers 4.29.2 and statsmodels:
  1. alpha, the averaged next-token distribution over the detect set D
     (Cho et al. 2024, Sec. 2): the mean of softmax(logits) over every position
     of every sample, teacher forcing, no token before a sample, samples
     longer than the context cut into consecutive windows; in float64.
  2. Eq. 2: OLS of -log(alpha) on the output embedding E^(o) (V x d) with an
     intercept; R^2 and adjusted R^2 (statsmodels' definitions) -- Table 1.
     The same on the input embedding E^(i) (Table 1's last row; the same
     matrix for the tied GPT-2), and the random baseline: a normalized random
     vector (standard normal, fixed seed, scaled to unit norm) regressed on E^(o).
     Also the same fit over only the tokens seen in training (the unseen ones,
     mostly unused bytes and BPE merges that only lead to longer ones, form
     one cluster that the fit gets almost exactly).
  3. Fig. 7: for each checkpoint, the adjusted R^2 of -log(frequency) on its
     E^(o), with frequency = (count + 1) / (N + V) (add-one smoothing; the
     constant cancels against the intercept), counted over the whole
     training split and over count.txt (what `tpe count` sees in the demo).
Writes the numbers as JSON (--json), and with --save DIR: alpha-<model>.npy
(float64, shape (V,)) and the token counts counts-train.npy (whole training
split) and counts-count.npy (count.txt) as int64 (V,) -- each sample
tokenized on its own, <|endoftext|> not counted.
Every checkpoint is also loaded through transformers' from_pretrained (no
missing or unexpected tensors allowed).

Usage:
  PYTHONPATH=/work/pyenv python3 tools/check_demo.py --demo golden/demo --train build/demo/train.txt
"""

import argparse
import glob
import json
import os
import re
import sys

import numpy as np
import statsmodels.api as sm
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hfdir  # noqa: E402
from train_bpe import ByteBPE, EOT  # noqa: E402

RANDOM_SEED = 0


def read_samples(tok, path):
    with open(path, encoding="utf-8") as f:
        return [tok.encode(x) for x in f.read().split("\n") if x]


@torch.no_grad()
def averaged_distribution(model, samples, context):
    """alpha: mean next-token distribution over every position (float64)."""
    total, n = None, 0
    for ids in samples:
        for b in range(0, len(ids), context):
            w = torch.tensor(ids[b:b + context], dtype=torch.long).unsqueeze(0)
            p = torch.softmax(model(w).logits[0].double(), dim=-1).sum(0)
            total = p if total is None else total + p
            n += w.shape[1]
    return (total / n).numpy()


def adj_r2(y, X):
    fit = sm.OLS(y, sm.add_constant(X, has_constant="add")).fit()
    return float(fit.rsquared), float(fit.rsquared_adj)


def output_embedding(sd):
    for k in ("embed_out.weight", "lm_head.weight", "transformer.wte.weight", "wte.weight"):
        if k in sd:
            return sd[k].astype(np.float64)
    raise KeyError("no output embedding")


def input_embedding(sd):
    for k in ("gpt_neox.embed_in.weight", "transformer.wte.weight", "wte.weight"):
        if k in sd:
            return sd[k].astype(np.float64)
    raise KeyError("no input embedding")


def counts(tok, path, V):
    c = np.zeros(V, dtype=np.int64)
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                np.add.at(c, tok.encode(line), 1)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--demo", required=True, help="golden/demo")
    ap.add_argument("--train", help="the training split (for frequencies over all of it)")
    ap.add_argument("--json", help="write the numbers here")
    ap.add_argument("--save", help="directory for alpha-<model>.npy and counts-*.npy")
    args = ap.parse_args()

    import transformers
    tok = ByteBPE.load(os.path.join(args.demo, "tokenizer"))
    V = len(tok.vocab)
    detect = read_samples(tok, os.path.join(args.demo, "corpus", "detect.txt"))
    rng = np.random.RandomState(RANDOM_SEED)
    rand = rng.standard_normal(V)
    rand /= np.linalg.norm(rand)
    out = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                        "numpy": np.__version__, "statsmodels": sm.__version__ if hasattr(sm, "__version__")
                        else __import__("statsmodels").__version__},
           "detect_samples": len(detect), "detect_tokens": int(sum(len(x) for x in detect)), "models": {}}

    freqs = {"count.txt": counts(tok, os.path.join(args.demo, "corpus", "count.txt"), V)}
    if args.train:
        freqs["train"] = counts(tok, args.train, V)
    seen = freqs.get("train", freqs["count.txt"]) > 0

    for name in ("gpt2", "neox"):
        d = os.path.join(args.demo, name)
        if not os.path.isdir(d):
            continue
        model, _ = hfdir.load_model_dir(d)
        model = model.double()
        ctx = model.config.max_position_embeddings if name == "neox" else model.config.n_positions
        alpha = averaged_distribution(model, detect, ctx)
        sd = hfdir.read_safetensors(os.path.join(d, "model.safetensors"))
        y = -np.log(alpha)
        r2_o, adj_o = adj_r2(y, output_embedding(sd))
        r2_i, adj_i = adj_r2(y, input_embedding(sd))
        _, adj_rand = adj_r2(rand, output_embedding(sd))
        # the tokens never seen in training sit in one tight cluster that is
        # fitted almost exactly; without them:
        _, adj_seen = adj_r2(y[seen], output_embedding(sd)[seen])
        # how far the test sets' averaged distributions are from D's
        kl = {}
        for split in ("test-id", "test-ood"):
            a = averaged_distribution(model, read_samples(tok, os.path.join(args.demo, "corpus", split + ".txt")), ctx)
            kl[split] = float(np.sum(alpha * np.log(alpha / a)))
        out["models"][name] = {"kl_detect_test_id": kl["test-id"], "kl_detect_test_ood": kl["test-ood"],
                               "r2": r2_o, "adj_r2": adj_o, "input_r2": r2_i, "input_adj_r2": adj_i,
                               "random_adj_r2": adj_rand, "adj_r2_seen_tokens": adj_seen,
                               "seen_tokens": int(seen.sum()), "alpha_sum": float(alpha.sum()),
                               "alpha_min": float(alpha.min()), "alpha_max": float(alpha.max())}
        print(f"{name}: -log(alpha) on E^(o): R^2 {r2_o:.4f}, adjusted {adj_o:.4f}; on E^(i): adjusted "
              f"{adj_i:.4f}; random vector on E^(o): adjusted {adj_rand:.4f}; on E^(o) over the "
              f"{int(seen.sum())} tokens seen in training: adjusted {adj_seen:.4f}; KL(alpha_D || alpha_test-id) "
              f"{kl['test-id']:.4f}, KL(alpha_D || alpha_test-ood) {kl['test-ood']:.4f}", flush=True)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            np.save(os.path.join(args.save, f"alpha-{name}.npy"), alpha)

    for ck_dir in sorted(glob.glob(os.path.join(args.demo, "*-checkpoints"))):
        series = []
        steps = sorted(int(re.sub(r"\D", "", os.path.basename(p))) for p in glob.glob(os.path.join(ck_dir, "step*")))
        Ef = output_embedding(hfdir.read_safetensors(
            os.path.join(args.demo, os.path.basename(ck_dir).split("-")[0], "model.safetensors")))
        E0 = output_embedding(hfdir.read_safetensors(os.path.join(ck_dir, f"step{steps[0]}", "model.safetensors")))
        for s in steps:
            _, info = hfdir.load_model_dir(os.path.join(ck_dir, f"step{s}"))
            if info["missing_keys"] or info["unexpected_keys"] or info["mismatched_keys"]:
                sys.exit(f"check_demo: {ck_dir}/step{s} does not load cleanly: {info}")
            sd = hfdir.read_safetensors(os.path.join(ck_dir, f"step{s}", "model.safetensors"))
            E = output_embedding(sd)
            row = {"step": s}
            for fname, c in freqs.items():
                y = -np.log((c + 1.0) / (c.sum() + V))
                row[fname] = adj_r2(y, E)[1]
            # Chen et al. 2022's convergence rate, of E^(o) only (a sanity check)
            row["convergence_output"] = float(1 - np.linalg.norm(Ef - E) / np.linalg.norm(Ef - E0))
            series.append(row)
            print(f"{os.path.basename(ck_dir)} step {s:5d}: adjusted R^2 of -log(freq) on E^(o): "
                  + ", ".join(f"{k} {row[k]:.4f}" for k in freqs) + f"; convergence {row['convergence_output']:.3f}",
                  flush=True)
        out["dynamics_" + os.path.basename(ck_dir)] = series
    if args.save:
        for k, c in freqs.items():
            np.save(os.path.join(args.save, "counts-" + k.replace(".txt", "") + ".npy"), c.astype("<i8"))
    out["frequency_tokens"] = {k: int(c.sum()) for k, c in freqs.items()}
    out["unseen_tokens"] = {k: int((c == 0).sum()) for k, c in freqs.items()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
