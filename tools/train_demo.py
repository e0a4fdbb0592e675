#!/usr/bin/env python3
"""tools/train_demo.py -- the two small language models of the shipped demo (golden/demo/).

Trains, on the synthetic language of tools/gen_corpus.py tokenized by
tools/train_bpe.py, with PyTorch on the CPU, the real transformers 4.29.2
classes (so the saved weights mean exactly what Hugging Face means by them):
  gpt2  GPT2LMHeadModel, tied input/output embedding (as GPT-2)
  neox  GPTNeoXForCausalLM, untied, partial rotary, parallel residual (as Pythia)
and saves each as an ordinary Hugging Face model directory (tools/hfdir.py):
the final model in F32, and for --checkpoints the weights after 0, 1, 2, 4,
..., 2^k optimizer steps and after the last step (log-spaced, as Pythia's
revisions are used for the paper's Fig. 7) in F16.

Training: windows of CONTEXT+1 tokens drawn uniformly at random from the
training stream (the samples joined with <|endoftext|> after each), cross
entropy on every position, AdamW with decoupled weight decay on the matrices
(not on biases and layer norms), linear warm-up then cosine decay to
LR_FLOOR * lr, gradient norm clipped at 1. All randomness comes from --seed
(torch.manual_seed for the initialization, numpy RandomState for the windows).

Usage (see golden/demo/README.md for the exact commands and the numbers):
  PYTHONPATH=/work/pyenv python3 tools/train_demo.py --arch neox --train build/demo/train.txt \\
      --tokenizer golden/demo/tokenizer --out golden/demo/neox --checkpoints golden/demo/neox-checkpoints
"""

import argparse
import json
import math
import os
import platform
import resource
import sys
import time

# One thread for the BLAS under torch: with torch's own threads on top it
# only oversubscribes the cores (measured: slower, not faster). Set before
# numpy/torch load it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hfdir  # noqa: E402
from train_bpe import ByteBPE, EOT  # noqa: E402

# Defaults, recorded in golden/demo/README.md.
HP = {
    "gpt2": dict(d_model=64, n_layer=4, n_head=4, d_ff=256, context=128, batch=32, steps=2000,
                 lr=3e-3, warmup=100, weight_decay=0.1, seed=1),
    "neox": dict(d_model=64, n_layer=4, n_head=4, d_ff=256, context=128, batch=32, steps=2000,
                 lr=3e-3, warmup=100, weight_decay=0.1, seed=2),
}
BETAS = (0.9, 0.95)
EPS = 1e-8
LR_FLOOR = 0.1
CLIP = 1.0


def build_model(arch, hp, vocab_size, eot):
    import transformers
    if arch == "gpt2":
        cfg = transformers.GPT2Config(
            vocab_size=vocab_size, n_positions=hp["context"], n_embd=hp["d_model"], n_layer=hp["n_layer"],
            n_head=hp["n_head"], n_inner=hp["d_ff"], activation_function="gelu_new",
            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=eot, eos_token_id=eot)
        return transformers.GPT2LMHeadModel(cfg)
    cfg = transformers.GPTNeoXConfig(
        vocab_size=vocab_size, hidden_size=hp["d_model"], num_hidden_layers=hp["n_layer"],
        num_attention_heads=hp["n_head"], intermediate_size=hp["d_ff"], hidden_act="gelu",
        rotary_pct=0.25, rotary_emb_base=10000, max_position_embeddings=hp["context"],
        use_parallel_residual=True, tie_word_embeddings=False, bos_token_id=eot, eos_token_id=eot)
    return transformers.GPTNeoXForCausalLM(cfg)


def encode_file(tok, path, eot):
    """The training stream: every sample's ids followed by <|endoftext|>."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                out.extend(tok.encode(line))
                out.append(eot)
    return np.array(out, dtype=np.int32)


def checkpoint_steps(final):
    s, k = [0], 1
    while k < final:
        s.append(k)
        k *= 2
    return s + [final]


def lr_at(step, hp):
    """Learning rate of update number `step` (1-based)."""
    if step <= hp["warmup"]:
        return hp["lr"] * step / hp["warmup"]
    t = (step - hp["warmup"]) / max(1, hp["steps"] - hp["warmup"])
    return hp["lr"] * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * t)))


@torch.no_grad()
def eval_loss(model, tok, path, context):
    """Mean cross entropy (nats/token) of teacher forcing over each sample
    of a file, as `tpe probe` reads it (no <|endoftext|> before a sample,
    samples longer than the context cut into windows)."""
    total, n = 0.0, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            ids = tok.encode(line.rstrip("\n"))
            for b in range(0, len(ids), context):
                w = torch.tensor(ids[b:b + context]).unsqueeze(0)
                if w.shape[1] < 2:
                    continue
                logits = model(w).logits[0, :-1].double()
                total += torch.nn.functional.cross_entropy(logits, w[0, 1:], reduction="sum").item()
                n += w.shape[1] - 1
    return total / n


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=("gpt2", "neox"), required=True)
    ap.add_argument("--train", required=True, help="training text (tools/gen_corpus.py)")
    ap.add_argument("--tokenizer", required=True, help="directory with vocab.json, merges.txt, tokenizer.json")
    ap.add_argument("--out", required=True, help="the final model's directory (F32)")
    ap.add_argument("--checkpoints", help="directory for step<N>/ checkpoints (F16)")
    ap.add_argument("--eval", nargs="*", default=[], help="text files whose loss is reported at the end")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the two models train side by side)")
    ap.add_argument("--log", help="write the run's record (JSON) here")
    for k, v in HP["gpt2"].items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=None)
    args = ap.parse_args()
    hp = dict(HP[args.arch])
    for k in hp:
        v = getattr(args, k)
        if v is not None:
            hp[k] = v

    import transformers
    torch.set_num_threads(args.threads)
    wall0, cpu0 = time.time(), cpu_seconds()

    tok = ByteBPE.load(args.tokenizer)
    eot = tok.vocab[EOT]
    vocab_size = len(tok.vocab)
    stream = encode_file(tok, args.train, eot)
    t_encode = time.time() - wall0
    print(f"train_demo: {args.arch}, {len(stream)} training tokens (encoded in {t_encode:.1f} s), "
          f"torch {torch.__version__}, transformers {transformers.__version__}, threads {args.threads}", flush=True)

    torch.manual_seed(hp["seed"])
    model = build_model(args.arch, hp, vocab_size, eot)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=hp["lr"], betas=BETAS, eps=EPS)
    rs = np.random.RandomState(hp["seed"])
    tok_files = [os.path.join(args.tokenizer, f) for f in
                 (("vocab.json", "merges.txt") if args.arch == "gpt2" else ("tokenizer.json",))]
    ckpt = set(checkpoint_steps(hp["steps"])) if args.checkpoints else set()

    def save_ckpt(step):
        if step in ckpt:
            hfdir.save_model_dir(model, os.path.join(args.checkpoints, f"step{step}"), "float16")

    C, B = hp["context"], hp["batch"]
    save_ckpt(0)
    losses, t_train0, cpu_train0 = [], time.time(), cpu_seconds()
    for step in range(1, hp["steps"] + 1):
        starts = rs.randint(0, len(stream) - C - 1, size=B)
        x = torch.from_numpy(np.stack([stream[s:s + C + 1] for s in starts]).astype(np.int64))
        logits = model(x[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab_size), x[:, 1:].reshape(-1))
        for g in opt.param_groups:
            g["lr"] = lr_at(step, hp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        losses.append(loss.item())
        if step % 100 == 0 or step == hp["steps"]:
            el = time.time() - t_train0
            print(f"  step {step:5d}  loss {np.mean(losses[-100:]):.4f}  lr {lr_at(step, hp):.2e}  "
                  f"{el:.0f} s ({el / step * 1000:.0f} ms/step)", flush=True)
        save_ckpt(step)
    train_wall, train_cpu = time.time() - t_train0, cpu_seconds() - cpu_train0

    model.eval()
    hfdir.save_model_dir(model, args.out, "float32", tok_files)

    # Load the written directory back through transformers and compare.
    back, info = hfdir.load_model_dir(args.out)
    missing = [k for k in info["missing_keys"] if not (args.arch == "gpt2" and k == "lm_head.weight")]
    if missing or info["unexpected_keys"] or info["mismatched_keys"]:
        sys.exit(f"train_demo: loading {args.out} back: {info}")
    x = torch.from_numpy(stream[:C].astype(np.int64)).unsqueeze(0)
    with torch.no_grad():
        d = (back(x).logits - model(x).logits).abs().max().item()
    if d != 0.0:
        sys.exit(f"train_demo: {args.out} loaded back gives logits off by {d}")
    print(f"train_demo: {args.out} loads back through transformers' from_pretrained with identical logits")

    evals = {os.path.basename(p): eval_loss(model, tok, p, C) for p in args.eval}
    record = {
        "arch": args.arch, "hyper_parameters": hp, "betas": BETAS, "eps": EPS, "lr_floor": LR_FLOOR,
        "clip": CLIP, "parameters": n_params, "vocab_size": vocab_size, "training_tokens": int(len(stream)),
        "tokens_seen": hp["steps"] * B * C, "final_train_loss_last100": float(np.mean(losses[-100:])),
        "eval_loss": evals, "train_wall_s": train_wall, "train_cpu_s": train_cpu,
        "total_wall_s": time.time() - wall0, "total_cpu_s": cpu_seconds() - cpu0,
        "threads": args.threads, "checkpoint_steps": sorted(ckpt),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__},
        "machine": platform.machine(), "cpus": os.cpu_count(),
    }
    print(json.dumps(record, indent=1))
    if args.log:
        with open(args.log, "w") as f:
            json.dump(record, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
