"""tools/hfdir.py -- Hugging Face model directories written and read by hand.

There is no Python `safetensors` package here, so the format is written out
directly (https://github.com/huggingface/safetensors, "Format"):
  8 bytes     N, the header length, unsigned little-endian
  N bytes     a JSON object: {"__metadata__": {"format": "pt"},
              name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}
              padded with spaces to a multiple of 8 bytes, as the library does
  the rest    the tensors' bytes, little-endian, C order; offsets count from here
Tensors are laid out as the safetensors library lays them out: in descending
order of its Dtype enum (U64, I64, F64, F32, U32, I32, BF16, F16, U16, I16,
I8, U8, BOOL: the widest first), then by name; the header lists
"__metadata__" first, then the tensors in that order.

`save_model_dir` mirrors what `save_pretrained(..., safe_serialization=True)`
of transformers 4.29.2 writes for GPT2LMHeadModel and GPTNeoXForCausalLM:
  - config.json and generation_config.json are written by transformers itself
    (save_pretrained into a scratch directory; it sets `torch_dtype` and
    `architectures` as it does for any save);
  - model.safetensors holds model.state_dict() with the names transformers
    uses (GPT-2: "transformer.h.0...", NeoX: "gpt_neox.layers.0...",
    "embed_out.weight"), including the buffers 4.29.2 registers as persistent
    (GPT-2: attn.bias (BOOL causal mask) and attn.masked_bias; NeoX:
    attention.bias, attention.masked_bias, rotary_emb.inv_freq), and with a
    tensor shared by two names kept under one name only: the tied GPT-2's
    lm_head.weight is dropped, transformer.wte.weight kept (4.29.2 drops the
    alias that matches `_keys_to_ignore_on_load_missing`).
"""

import json
import os
import shutil
import struct
import tempfile

import numpy as np

# safetensors dtype name <-> numpy dtype (little-endian), in layout order
# (BF16 has no numpy dtype: neither written nor read here)
DTYPES = [("U64", "<u8"), ("I64", "<i8"), ("F64", "<f8"), ("F32", "<f4"), ("U32", "<u4"), ("I32", "<i4"),
          ("BF16", None), ("F16", "<f2"), ("U16", "<u2"), ("I16", "<i2"), ("I8", "i1"), ("U8", "u1"),
          ("BOOL", "?")]
RANK = {name: i for i, (name, _) in enumerate(DTYPES)}
NP = {name: np.dtype(d) for name, d in DTYPES if d is not None}


def np_to_st(a):
    for name, d in NP.items():
        if a.dtype == d.newbyteorder("=") or a.dtype == d:
            return name
    raise ValueError(f"no safetensors dtype for {a.dtype}")


def write_safetensors(path, tensors, metadata=None):
    """tensors: dict name -> numpy array (any byte order; written little-endian)."""
    items = []
    for name, a in tensors.items():
        st = np_to_st(a)
        # np.array, not np.ascontiguousarray: that would make a 0-d tensor 1-d
        items.append((RANK[st], name, st, np.array(a, dtype=NP[st], order="C")))
    items.sort(key=lambda x: (x[0], x[1]))
    header, off = {"__metadata__": metadata or {"format": "pt"}}, 0
    for _, name, st, a in items:
        header[name] = {"dtype": st, "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp." + str(os.getpid())
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, _, _, a in items:
            f.write(a.tobytes())
    os.replace(tmp, path)


def read_safetensors(path):
    """dict name -> numpy array (native byte order), checking the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out, spans = {}, []
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        d = NP[t["dtype"]]
        count = int(np.prod(t["shape"], dtype=np.int64))
        if e - b != count * d.itemsize or e > len(data) or b < 0:
            raise ValueError(f"{path}: tensor {name!r}: bad data_offsets {b, e}")
        spans.append((b, e, name))
        out[name] = np.frombuffer(data[b:e], dtype=d).reshape(t["shape"]).astype(d.newbyteorder("="))
    spans.sort()
    pos = 0
    for b, e, name in spans:
        if b != pos:
            raise ValueError(f"{path}: tensor {name!r} starts at {b}, expected {pos} (gap or overlap)")
        pos = e
    if pos != len(data):
        raise ValueError(f"{path}: {len(data) - pos} bytes after the last tensor")
    return out


def state_dict_for_safetensors(model):
    """model.state_dict() with aliases removed as transformers 4.29.2's
    save_pretrained(safe_serialization=True) removes them; numpy arrays."""
    import re
    sd = model.state_dict()
    if model._keys_to_ignore_on_save is not None:
        for k in model._keys_to_ignore_on_save:
            sd.pop(k, None)
    groups = {}
    for name, t in sd.items():
        groups.setdefault((t.data_ptr(), tuple(t.shape), t.stride()), []).append(name)
    drop = set()
    patterns = model._keys_to_ignore_on_load_missing or []
    for names in groups.values():
        if len(names) < 2:
            continue
        keep = [n for n in sorted(names) if not any(re.search(p, n) for p in patterns)]
        if len(keep) != 1:
            raise ValueError(f"cannot tell which alias to keep among {names}")
        drop.update(n for n in names if n != keep[0])
    return {k: v.detach().cpu().numpy() for k, v in sd.items() if k not in drop}


def save_model_dir(model, out_dir, dtype, extra_files=()):
    """Write an ordinary Hugging Face model directory for `model` (a
    transformers PreTrainedModel) with its floating tensors stored as `dtype`
    ("float32" or "float16"). The directory is built under a temporary name
    and renamed at the end. extra_files: tokenizer files copied in."""
    import copy
    import torch
    m = copy.deepcopy(model).to({"float32": torch.float32, "float16": torch.float16}[dtype])
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp.", dir=parent)
    scratch = tempfile.mkdtemp(prefix=".scratch.", dir=parent)
    try:
        m.save_pretrained(scratch)          # transformers writes config.json (+ a .bin we discard)
        for f in ("config.json", "generation_config.json"):
            if os.path.exists(os.path.join(scratch, f)):
                shutil.copy(os.path.join(scratch, f), os.path.join(tmp, f))
        write_safetensors(os.path.join(tmp, "model.safetensors"), state_dict_for_safetensors(m))
        for f in extra_files:
            shutil.copy(f, os.path.join(tmp, os.path.basename(f)))
        os.chmod(tmp, 0o755)                 # mkdtemp made it private
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.rename(tmp, out_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def load_model_dir(d, torch_dtype=None):
    """Load a directory written above with transformers' own from_pretrained,
    from a state dict read by read_safetensors (no safetensors package).
    Returns (model, loading_info)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    config = AutoConfig.from_pretrained(d)
    cls = AutoModelForCausalLM._model_mapping[type(config)]
    sd = {k: torch.from_numpy(np.array(v)) for k, v in read_safetensors(os.path.join(d, "model.safetensors")).items()}
    model, info = cls.from_pretrained(None, config=config, state_dict=sd, output_loading_info=True,
                                      torch_dtype=torch_dtype)
    model.eval()
    return model, info
