#!/usr/bin/env python3
"""tools/gen_model_goldens.py [--out golden/models] [--check-shared ../shared/reference/hf-tiny]

Makes tpe's own model goldens: tiny randomly initialised GPT-2, GPT-NeoX and
GPT-J checkpoints in Hugging Face layout (config.json, model.safetensors or
an index and shards) covering configurations the shared reference does not
(other head counts, rotary fractions and bases, sequential residual, F16 and
BF16 storage, names with and without the prefix, a sharded checkpoint, tied
and untied heads, stray buffers), with what Hugging Face transformers 4.29.2
computes for them in float64:

  ids.npy       (2, T) int64 token ids
  logits64.npy  (2, T, V) float64
  hidden.npy    (2, T, C) float64, the final hidden state after the last norm

Run with the real transformers:
  PYTHONPATH=/work/pyenv HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 /usr/bin/python3 tools/gen_model_goldens.py

float64 throughout: transformers 4.29.2 keeps some constants in float32 even
after .double(); as ../shared/README.md describes, they are rebuilt here in
float64 before the pass:
  GPT-J     the sin/cos table (embed_positions), the attention scale
            (scale_attn), the cast of q and k to float32 in _attn (made a
            no-op while _attn runs), and the cast of the logits to float32
            (the logits are taken from lm_head directly);
  GPT-NeoX  the rotary inverse frequencies and sin/cos caches, and the
            attention norm_factor.
The reference runs from the stored weights (F16/BF16 rounding included).
--check-shared reruns the shared hf-tiny checkpoints through the same code
and prints the largest difference from their logits64.npy, to show that the
fixes reproduce that reference.
"""
import argparse
import json
import os
import platform
import struct
import sys

import numpy as np
import torch

import transformers
from transformers.models.gptj import modeling_gptj

torch.set_default_dtype(torch.float32)

# ---- safetensors by hand (there is no safetensors package here) -------------
ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "BOOL": np.bool_}


def st_encode(arr, dtype):
    """(dtype name, raw little-endian bytes) of a float64/float32 array stored as dtype."""
    if dtype == "BF16":
        f = np.ascontiguousarray(arr, dtype=np.float32).view(np.uint32).astype(np.uint64)
        # round to nearest even on the 16 dropped bits (no NaN here)
        r = ((f + 0x7FFF + ((f >> 16) & 1)) >> 16).astype("<u2")
        return r.tobytes()
    np_dt = np.dtype(ST_DTYPES[dtype]).newbyteorder("<")
    return np.ascontiguousarray(arr).astype(np_dt).tobytes()


def st_decode(raw, dtype, shape):
    if dtype == "BF16":
        u = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return u.view(np.float32).astype(np.float64).reshape(shape)
    np_dt = np.dtype(ST_DTYPES[dtype]).newbyteorder("<")
    a = np.frombuffer(raw, dtype=np_dt).reshape(shape)
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def st_write(path, tensors):
    """tensors: list of (name, dtype, shape, raw bytes), in file order."""
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + len(raw)]}
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, _, raw in tensors:
            f.write(raw)


def st_read(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = (e["dtype"], st_decode(data[8 + n + b:8 + n + end], e["dtype"], e["shape"]))
    return out


def read_checkpoint(d):
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return st_read(os.path.join(d, "model.safetensors"))
    index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    out = {}
    for shard in sorted(set(index["weight_map"].values())):
        out.update(st_read(os.path.join(d, shard)))
    return out


# ---- transformers in float64, with its float32 constants rebuilt -----------
def make_model(cfg_dict):
    kind = cfg_dict["model_type"]
    args = {k: v for k, v in cfg_dict.items() if k not in ("model_type", "transformers_version", "architectures")}
    if kind == "gpt2":
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(**args))
    if kind == "gpt_neox":
        return transformers.GPTNeoXForCausalLM(transformers.GPTNeoXConfig(**args))
    if kind == "gptj":
        return transformers.GPTJForCausalLM(transformers.GPTJConfig(**args))
    raise SystemExit("unknown model_type " + kind)


def fix_float64(model):
    cfg = model.config
    if cfg.model_type == "gpt_neox":
        for layer in model.gpt_neox.layers:
            att = layer.attention
            dim = att.rotary_ndims
            inv = 1.0 / (cfg.rotary_emb_base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
            t = torch.arange(att.rotary_emb.max_seq_len_cached, dtype=torch.float64)
            freqs = torch.einsum("i,j->ij", t, inv)
            emb = torch.cat((freqs, freqs), dim=-1)
            att.rotary_emb.inv_freq = inv
            att.rotary_emb.cos_cached = emb.cos()[None, None, :, :]
            att.rotary_emb.sin_cached = emb.sin()[None, None, :, :]
            att.norm_factor = torch.sqrt(torch.tensor(att.head_size, dtype=torch.float64))
    if cfg.model_type == "gptj":
        for block in model.transformer.h:
            att = block.attn
            dim = att.rotary_dim or att.embed_dim
            inv = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
            sinusoid = torch.einsum("i,j->ij", torch.arange(cfg.n_positions, dtype=torch.float64), inv)
            att.embed_positions = torch.cat((torch.sin(sinusoid), torch.cos(sinusoid)), dim=1)
            att.scale_attn = torch.sqrt(torch.tensor(att.head_dim, dtype=torch.float64))


_orig_gptj_attn = modeling_gptj.GPTJAttention._attn


def _gptj_attn_float64(self, query, key, value, attention_mask=None, head_mask=None):
    """GPT-J's _attn with its `.to(torch.float32)` of q and k made a no-op."""
    real_to = torch.Tensor.to

    def keep64(t, *a, **k):
        if a and a[0] is torch.float32 and t.dtype == torch.float64:
            return t
        return real_to(t, *a, **k)

    torch.Tensor.to = keep64
    try:
        return _orig_gptj_attn(self, query, key, value, attention_mask, head_mask)
    finally:
        torch.Tensor.to = real_to


modeling_gptj.GPTJAttention._attn = _gptj_attn_float64


# non-persistent buffers some checkpoints carry (tpe ignores them)
BUFFERS = (".attn.bias", ".attn.masked_bias", ".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq")


def canonical(name, kind):
    """The name transformers uses, whatever prefix the file had."""
    prefix = "gpt_neox." if kind == "gpt_neox" else "transformer."
    if name.startswith(prefix) or name in ("lm_head.weight", "lm_head.bias", "embed_out.weight"):
        return name
    return prefix + name


def reference(d, ids):
    """(logits (B, T, V), hidden (B, T, C)) in float64 for the checkpoint in d."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    model = make_model(cfg).double().eval()
    state = {canonical(k, cfg["model_type"]): torch.from_numpy(np.array(v)) for k, (_, v) in read_checkpoint(d).items()}
    own = model.state_dict()
    for k, v in state.items():
        if k not in own:
            raise SystemExit("%s: unexpected tensor %s" % (d, k))
        if own[k].dtype.is_floating_point:
            own[k].copy_(v.to(torch.float64))
    missing = [k for k in own if k not in state and not k.endswith(BUFFERS)]
    if cfg.get("tie_word_embeddings", cfg["model_type"] == "gpt2"):
        missing = [k for k in missing if k not in ("lm_head.weight", "embed_out.weight")]
        model.tie_weights()
    if missing:
        raise SystemExit("%s: missing %s" % (d, missing))
    fix_float64(model)
    with torch.no_grad():
        body = model.gpt_neox if cfg["model_type"] == "gpt_neox" else model.transformer
        head = model.embed_out if cfg["model_type"] == "gpt_neox" else model.lm_head
        h = body(input_ids=torch.from_numpy(np.asarray(ids, dtype=np.int64))).last_hidden_state
        logits = head(h)
    assert h.dtype == torch.float64 and logits.dtype == torch.float64
    return logits.numpy(), h.numpy()


# ---- the configurations -------------------------------------------------------
CONFIGS = [
    # name, config.json fields, storage dtype, options
    ("gpt2-h3-noprefix", dict(model_type="gpt2", vocab_size=97, n_embd=24, n_head=3, n_layer=2, n_positions=80, n_inner=40,
                              activation_function="gelu_new", layer_norm_epsilon=1e-5),
     "F32", dict(prefix=False, T=70)),
    ("gpt2-layerscale-gelu-f16", dict(model_type="gpt2", vocab_size=64, n_embd=16, n_head=2, n_layer=3, n_positions=32,
                                      activation_function="gelu", layer_norm_epsilon=1e-6,
                                      scale_attn_by_inverse_layer_idx=True, tie_word_embeddings=False),
     "F16", dict(prefix=True, T=11)),
    ("neox-seq-pct04-base500-bf16", dict(model_type="gpt_neox", vocab_size=80, hidden_size=36, num_attention_heads=3,
                                         num_hidden_layers=2, intermediate_size=72, max_position_embeddings=40,
                                         rotary_pct=0.4, rotary_emb_base=500, use_parallel_residual=False,
                                         hidden_act="gelu", layer_norm_eps=1e-5, tie_word_embeddings=False),
     "BF16", dict(prefix=True, T=17, buffers=True)),
    ("neox-full-rotary-tied-sharded", dict(model_type="gpt_neox", vocab_size=72, hidden_size=32, num_attention_heads=2,
                                           num_hidden_layers=2, intermediate_size=64, max_position_embeddings=32,
                                           rotary_pct=1.0, rotary_emb_base=10000, use_parallel_residual=True,
                                           hidden_act="gelu_new", layer_norm_eps=1e-5, tie_word_embeddings=True),
     "F32", dict(prefix=False, T=9, shards=2)),
    # rotary_dim null rotates the whole head; transformers 4.29.2 builds its
    # sin/cos table for n_embd then, so it only runs with one head
    ("gptj-rotnull-h1-f16", dict(model_type="gptj", vocab_size=66, n_embd=32, n_head=1, n_layer=2, n_positions=32,
                              rotary_dim=None, activation_function="gelu_new", layer_norm_epsilon=1e-5,
                              tie_word_embeddings=False),
     "F16", dict(prefix=True, T=12)),
    ("gptj-rot6-noprefix", dict(model_type="gptj", vocab_size=90, n_embd=24, n_head=2, n_layer=3, n_positions=32, n_inner=56,
                                rotary_dim=6, activation_function="gelu_new", layer_norm_epsilon=1e-5,
                                tie_word_embeddings=False),
     "F32", dict(prefix=False, T=14, buffers=True)),
]


def build(outdir, name, fields, dtype, opt, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_model(dict(fields)).eval()
    kind = fields["model_type"]
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    with torch.no_grad():
        # move norms and biases off their initial 1 / 0, and make the weights
        # large enough that attention is far from uniform (so a wrong rotary
        # pairing, base or scale changes the logits well beyond round-off)
        for p in model.parameters():
            p.add_(0.25 * torch.randn_like(p))
    cfg = model.config.to_dict()
    cfg["transformers_version"] = transformers.__version__
    for k in ("architectures", "_name_or_path", "torch_dtype"):
        cfg.pop(k, None)
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2, sort_keys=True)
    tied = cfg.get("tie_word_embeddings", True)
    tensors = []
    for k, v in sorted(model.state_dict().items()):
        is_buffer = k.endswith(BUFFERS)
        if is_buffer and not opt.get("buffers"):
            continue
        if tied and k in ("lm_head.weight", "embed_out.weight"):
            continue
        name = k
        if not opt["prefix"]:
            for pre in ("transformer.", "gpt_neox."):
                if name.startswith(pre):
                    name = name[len(pre):]
        arr = v.numpy()
        if arr.dtype == np.bool_:
            tensors.append((name, "BOOL", arr.shape, arr.astype(np.uint8).tobytes()))
        else:
            tensors.append((name, dtype if not is_buffer else "F32", arr.shape, st_encode(arr, dtype if not is_buffer else "F32")))
    shards = opt.get("shards", 1)
    if shards == 1:
        st_write(os.path.join(d, "model.safetensors"), tensors)
    else:
        per = (len(tensors) + shards - 1) // shards
        weight_map, total = {}, 0
        for s in range(shards):
            part = tensors[s * per:(s + 1) * per]
            fname = "model-%05d-of-%05d.safetensors" % (s + 1, shards)
            st_write(os.path.join(d, fname), part)
            for t in part:
                weight_map[t[0]] = fname
                total += len(t[3])
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
                  open(os.path.join(d, "model.safetensors.index.json"), "w"), indent=2, sort_keys=True)
    ids = rng.integers(0, fields["vocab_size"], size=(2, opt["T"]), dtype=np.int64)
    logits, hidden = reference(d, ids)
    np.save(os.path.join(d, "ids.npy"), ids)
    np.save(os.path.join(d, "logits64.npy"), logits)
    np.save(os.path.join(d, "hidden.npy"), hidden)
    return logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="golden/models")
    ap.add_argument("--check-shared", default=None, help="hf-tiny directory to rerun and compare")
    a = ap.parse_args()
    lines = []
    if a.check_shared:
        for name in sorted(os.listdir(a.check_shared)):
            d = os.path.join(a.check_shared, name)
            ids = np.load(os.path.join(d, "ids.npy"))
            logits, hidden = reference(d, ids)
            dl = np.abs(logits - np.load(os.path.join(d, "logits64.npy"))).max()
            dh = np.abs(hidden - np.load(os.path.join(d, "hidden.npy"))).max()
            line = "check-shared %s: max |logits - logits64.npy| = %.3g, max |hidden - hidden.npy| = %.3g" % (name, dl, dh)
            print(line)
            lines.append(line)
        if not a.out or a.out == "-":
            return
    os.makedirs(a.out, exist_ok=True)
    for i, (name, fields, dtype, opt) in enumerate(CONFIGS):
        logits = build(a.out, name, fields, dtype, opt, 1000 + i)
        print("%s: %s storage, logits %s" % (name, dtype, "x".join(map(str, logits.shape))))
    with open(os.path.join(a.out, "VERSIONS"), "w") as f:
        f.write("generator: tools/gen_model_goldens.py\n")
        f.write("python %s, numpy %s, torch %s, transformers %s (float64, float32 constants rebuilt)\n"
                % (platform.python_version(), np.__version__, torch.__version__, transformers.__version__))
        for line in lines:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
