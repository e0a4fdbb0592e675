#!/usr/bin/env python3
"""tools/train_bpe.py -- the byte-level BPE tokenizer of the shipped demo (golden/demo/).

GPT-2's scheme (Radford et al. 2019; Sennrich et al. 2016 for BPE):
  1. pre-tokenization: the text is split by GPT-2's pattern
        's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
     (a word keeps its leading space; merges never cross these pieces);
  2. each piece's UTF-8 bytes are written as printable characters by GPT-2's
     byte<->unicode table (bytes 33..126, 161..172, 174..255 stand for
     themselves; the other 68 bytes, in increasing order, for U+0100, U+0101, ...);
  3. training: start from the 256 byte symbols and repeatedly merge the most
     frequent adjacent pair (ties: the smallest pair in code-point order),
     counting over the pieces of the training split weighted by frequency;
  4. encoding a piece: repeatedly merge the adjacent pair with the lowest
     merge rank until none is left.
Ids: 0..255 the byte symbols (in the table's order, as GPT-2's encoder.json),
then one id per merge in merge order, then the special token <|endoftext|>
(the last id, as in GPT-2). Samples are separated by <|endoftext|> in the
training stream; it never comes out of pre-tokenization.

Writes into OUT:
  vocab.json + merges.txt   GPT-2's file format ("#version: 0.2" first line)
  tokenizer.json            the same tokenizer in Hugging Face `tokenizers` layout
                            (model BPE, ByteLevel pre-tokenizer/decoder), as Pythia ships it
and checks that transformers' own GPT2Tokenizer (the slow, pure-Python one;
4.29.2 from /work/pyenv) encodes the given check files to the same ids.

Usage:
  PYTHONPATH=/work/pyenv python3 tools/train_bpe.py --train build/demo/train.txt \\
      --vocab-size 2048 --out golden/demo/tokenizer --check golden/demo/corpus/detect.txt ...
"""

import argparse
import collections
import heapq
import json
import os
import sys

import regex

PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"


def byte_table():
    """GPT-2's byte -> printable character table, in GPT-2's id order:
    returns (list of the 256 bytes in id order, dict byte -> character)."""
    printable = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    order = list(printable)
    char = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in char:
            char[b] = chr(256 + extra)
            order.append(b)
            extra += 1
    return order, char


BYTE_ORDER, BYTE_CHAR = byte_table()
CHAR_BYTE = {c: b for b, c in BYTE_CHAR.items()}
SPLIT = regex.compile(PATTERN)


def pieces(text):
    """Pre-tokenize and map each piece to its byte characters."""
    return ["".join(BYTE_CHAR[b] for b in p.encode("utf-8")) for p in SPLIT.findall(text)]


# ---- training ------------------------------------------------------------------------------

def train(lines, n_merges, log=None):
    counts = collections.Counter()
    for line in lines:
        counts.update(pieces(line))
    words = [list(w) for w in counts]          # each distinct piece as a symbol list
    freq = [counts[w] for w in counts]
    pair_count = collections.Counter()
    where = collections.defaultdict(set)        # pair -> indices of words holding it
    for i, w in enumerate(words):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += freq[i]
            where[(a, b)].add(i)
    # max-heap on (count, then smallest pair) with lazy deletion
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc or negc == 0:
            continue                              # stale entry
        merges.append(pair)
        a, b = pair
        ab = a + b
        touched = set()
        for i in list(where[pair]):
            w, f = words[i], freq[i]
            for x, y in zip(w, w[1:]):            # remove this word's pairs
                pair_count[(x, y)] -= f
                where[(x, y)].discard(i)
                touched.add((x, y))
            j, out = 0, []
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(ab)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for x, y in zip(out, out[1:]):        # add the new ones
                pair_count[(x, y)] += f
                where[(x, y)].add(i)
                touched.add((x, y))
        for p in touched:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_count.pop(p, None)
        pair_count.pop(pair, None)
        if log and len(merges) % 500 == 0:
            log(f"  {len(merges)} merges, last {a!r}+{b!r} ({-negc})")
    return merges


# ---- the tokenizer -------------------------------------------------------------------------

class ByteBPE:
    """Encoder/decoder for a vocab.json + merges.txt pair (GPT-2 semantics)."""

    def __init__(self, vocab, merges):
        self.vocab = vocab                           # token string -> id
        self.inv = {i: t for t, i in vocab.items()}
        self.rank = {tuple(m): r for r, m in enumerate(merges)}
        self.cache = {}
        self.eot = vocab.get(EOT)

    @classmethod
    def load(cls, d):
        with open(os.path.join(d, "vocab.json"), encoding="utf-8") as f:
            vocab = json.load(f)
        with open(os.path.join(d, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        assert lines[0].startswith("#version")
        merges = [tuple(x.split(" ")) for x in lines[1:] if x]
        return cls(vocab, merges)

    def bpe(self, piece):
        out = self.cache.get(piece)
        if out is not None:
            return out
        w = list(piece)
        while len(w) > 1:
            best, bi = None, -1
            for i in range(len(w) - 1):
                r = self.rank.get((w[i], w[i + 1]))
                if r is not None and (best is None or r < best):
                    best, bi = r, i
            if best is None:
                break
            a, b = w[bi], w[bi + 1]
            j, out2 = 0, []
            while j < len(w):                      # merge every occurrence of the pair
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out2.append(a + b)
                    j += 2
                else:
                    out2.append(w[j])
                    j += 1
            w = out2
        out = [self.vocab[t] for t in w]
        self.cache[piece] = out
        return out

    def encode(self, text):
        ids = []
        for p in pieces(text):
            ids.extend(self.bpe(p))
        return ids

    def decode(self, ids):
        s = "".join(self.inv[i] if i != self.eot else "" for i in ids)
        return bytes(CHAR_BYTE[c] for c in s).decode("utf-8", errors="replace")


def tokenizer_json(vocab, merges, eot_id):
    """The Hugging Face `tokenizers` serialization of the same tokenizer."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": eot_id, "content": EOT, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": dict(byte_level, trim_offsets=False),
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }


def write_atomic(path, text):
    tmp = path + ".tmp." + str(os.getpid())
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True, help="training text, one sample per line")
    ap.add_argument("--vocab-size", type=int, default=2048, help="ids in all: 256 bytes + merges + <|endoftext|>")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", nargs="*", default=[], help="files whose encoding is checked against transformers")
    ap.add_argument("--ids-out", help="write each check file's ids here as <name>.ids (a line of space-separated ids per sample)")
    args = ap.parse_args()

    with open(args.train, encoding="utf-8") as f:
        lines = f.read().split("\n")
    lines = [x for x in lines if x]
    n_merges = args.vocab_size - 256 - 1
    merges = train(lines, n_merges, log=print)
    if len(merges) != n_merges:
        sys.exit(f"train_bpe: only {len(merges)} merges possible, {n_merges} asked")
    vocab = {}
    for b in BYTE_ORDER:
        vocab[BYTE_CHAR[b]] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    eot_id = len(vocab)
    vocab[EOT] = eot_id
    assert len(vocab) == args.vocab_size

    os.makedirs(args.out, exist_ok=True)
    write_atomic(os.path.join(args.out, "vocab.json"), json.dumps(vocab, ensure_ascii=False) + "\n")
    write_atomic(os.path.join(args.out, "merges.txt"),
                 "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))
    write_atomic(os.path.join(args.out, "tokenizer.json"),
                 json.dumps(tokenizer_json(vocab, merges, eot_id), ensure_ascii=False, indent=2) + "\n")

    tok = ByteBPE.load(args.out)
    n_tok = sum(len(tok.encode(x)) for x in lines[:20000])
    n_words = sum(len(x.split(" ")) for x in lines[:20000])
    print(f"train_bpe: vocab {len(vocab)} ({n_merges} merges), python {sys.version.split()[0]}, "
          f"regex {regex.__version__}; {n_tok / n_words:.3f} tokens per word on the first 20000 training lines")

    if args.check:
        from transformers import GPT2Tokenizer
        import transformers
        hf = GPT2Tokenizer(os.path.join(args.out, "vocab.json"), os.path.join(args.out, "merges.txt"))
        n = 0
        for path in args.check:
            rows = []
            with open(path, encoding="utf-8") as f:
                for line in f.read().split("\n"):
                    if not line:
                        continue
                    ours = tok.encode(line)
                    theirs = hf.encode(line)
                    if ours != theirs:
                        sys.exit(f"train_bpe: {path}: our ids differ from transformers' for {line[:60]!r}")
                    if tok.decode(ours) != line:
                        sys.exit(f"train_bpe: {path}: decoding does not give the text back: {line[:60]!r}")
                    n += len(ours)
                    rows.append(" ".join(map(str, ours)))
            if args.ids_out:
                name = os.path.splitext(os.path.basename(path))[0] + ".ids"
                write_atomic(os.path.join(args.ids_out, name), "".join(r + "\n" for r in rows))
        print(f"train_bpe: {n} tokens of {len(args.check)} check files equal transformers "
              f"{transformers.__version__} GPT2Tokenizer's, and decode back to the text")


if __name__ == "__main__":
    main()
