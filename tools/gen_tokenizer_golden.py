#!/usr/bin/python3
"""gen_tokenizer_golden.py -- the tokenizer fixtures and goldens under
golden/tokenizer/, computed by an independent Python tokenizer.

    /usr/bin/python3 tools/gen_tokenizer_golden.py [GPT2_DIR]

GPT2_DIR (default ../shared/reference/gpt2-tokenizer) holds OpenAI's GPT-2
vocab.json + merges.txt and encodings.jsonl. The oracle here is written from
the algorithm's description, not from tpe's C: pre-tokenization is the GPT-2
pattern run by the `regex` module (the engine OpenAI's encoder.py uses), BPE
is encoder.py's rule (merge every occurrence of the lowest-ranked pair, repeat),
NFC is Python's unicodedata.normalize, and added tokens are cut out the way
Hugging Face tokenizers does (leftmost-longest; normalized ones after the
normalizer; ByteLevel's add_prefix_space per remaining piece). The oracle must
first reproduce every line of encodings.jsonl, or nothing is written.

Writes (all small):
  tiny-bpe/vocab.json, tiny-bpe/merges.txt   GPT-2's 256 byte tokens and its
                                             first MERGES merges (same ids)
  tiny-json/tokenizer.json                   the same model as a tokenizer.json
                                             (GPT-2 layout, merges as "a b")
  tiny-neox/tokenizer.json                   Pythia's layout: <|endoftext|> = 0 and
                                             <|padding|> = 1 in the vocabulary
                                             (special, not normalized), NFC,
                                             added tokens for runs of 2..24 spaces
                                             (normalized), merges as ["a", "b"]
  tiny-prefix/tokenizer.json                 add_prefix_space true, one special
                                             token "<|endoftext|>"
  random.jsonl    {"text", "gpt2", "tiny", "neox", "prefix"}: random texts
                  across scripts, combining marks, emoji, whitespace runs,
                  apostrophes, digits and special-token look-alikes, with each
                  tokenizer's ids ("gpt2" needs GPT2_DIR at test time)
  nfc.jsonl       {"text", "nfc"}: short strings of characters NFC touches
  VERSIONS        what produced these files
"""
import hashlib
import json
import os
import random
import sys
import unicodedata

import regex

PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
MERGES = 1500
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "tokenizer")


def bytes_to_unicode():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    m, n = {}, 0
    for b in range(256):
        if b in keep:
            m[b] = chr(b)
        else:
            m[b] = chr(256 + n)
            n += 1
    return m


B2U = bytes_to_unicode()


class Model:
    """A byte-level BPE model plus the tokenizer.json pipeline around it."""

    def __init__(self, vocab, merges, added=(), nfc=False, prefix=False):
        self.vocab = vocab
        self.ranks = {}
        for i, (a, b) in enumerate(merges):
            self.ranks[(a, b)] = i
        self.added = list(added)  # (content, id, normalized)
        self.nfc = nfc
        self.prefix = prefix
        self.cache = {}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        sym = list(word)
        while len(sym) > 1:
            best = None
            for i in range(len(sym) - 1):
                r = self.ranks.get((sym[i], sym[i + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, sym[i], sym[i + 1])
            if best is None:
                break
            _, a, b = best
            out, i = [], 0
            while i < len(sym):
                if i + 1 < len(sym) and sym[i] == a and sym[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            sym = out
        ids = [self.vocab[s] for s in sym]
        self.cache[word] = ids
        return ids

    def words(self, text):
        out = []
        for w in PAT.findall(text):
            out.extend(self.bpe("".join(B2U[b] for b in w.encode("utf-8"))))
        return out

    def split(self, text, normalized):
        """Leftmost-longest matches of the added tokens of one kind."""
        toks = sorted([(c, i) for c, i, n in self.added if n == normalized], key=lambda t: -len(t[0]))
        pieces, start, i = [], 0, 0
        while i < len(text):
            for c, tid in toks:
                if text.startswith(c, i):
                    if i > start:
                        pieces.append((text[start:i], None))
                    pieces.append((c, tid))
                    i += len(c)
                    start = i
                    break
            else:
                i += 1
        if start < len(text):
            pieces.append((text[start:], None))
        return pieces

    def encode(self, text):
        out = []
        for piece, tid in self.split(text, False):
            if tid is not None:
                out.append(tid)
                continue
            if self.nfc:
                piece = unicodedata.normalize("NFC", piece)
            for sub, tid2 in self.split(piece, True):
                if tid2 is not None:
                    out.append(tid2)
                    continue
                if self.prefix and not sub.startswith(" "):
                    sub = " " + sub
                out.extend(self.words(sub))
        return out


def load_gpt2(d):
    with open(os.path.join(d, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(d, "merges.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0].startswith("#version")
    merges = [tuple(l.split(" ")) for l in lines[1:] if l]
    return vocab, merges


def random_texts(rng, n):
    pools = {
        "latin": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "accents": "éèêëàâäïîôöùûüçñÉÀÇÑßøåæœ",
        "greek": "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΩάέήίόύώ",
        "cyrillic": "абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЁЖ",
        "cjk": "中文字符测试日本語のテキストですカタカナ漢字",
        "hangul": "한국어문장가나다라마바사\u1100\u1161\u11a8\u1112\u1175",
        "arabic": "العربيةمرحبا\u064b\u0650",
        "devanagari": "हिन्दीनमस्ते\u0958\u093c",
        "digits": "0123456789٠١٢٣٤٥٦٧٨٩²³¹½¼Ⅻⅻ①０１２",
        "combining": "\u0300\u0301\u0302\u0303\u0308\u0323\u0327\u0331\u0338\u05b4\u302a\u0345\u1dc0",
        "emoji": ["😀", "🎉", "👍🏽", "🇯🇵", "👨\u200d👩\u200d👧", "❤\ufe0f", "🏳\ufe0f\u200d🌈", "🤖"],
        "space": [" ", "  ", "   ", " " * 7, " " * 25, " " * 30, "\t", "\n", "\n\n", "\r\n", "\x0b", "\x0c", "\u00a0",
                  "\u3000", "\u2028", "\u2029", "\u0085", "\u2003", "\u202f", "\u200b", "\x1c", "\x1f", " \n ", "\t \t"],
        "apos": ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'RE", "''", "'", "’s", " 's", "'x"],
        "punct": list("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~") + ["...", "—", "«»", "¿¡", "€£¥", "∑∫√≈"],
        "special": ["<|endoftext|>", "<|padding|>", "<|endoftext", "|>", "<|endoftext|><|endoftext|>"],
        "ctrl": ["\x00", "\x01", "\x7f", "\ufffd", "\ue000", "\U0001d518", "\U0001f600"],
        "words": ["the", " the", "Hello", " world", "don't", "I'm", "café", "naïve", "über", "1,000", "3.14",
                  "e\u0301", "A\u030a", "\u212b", "\u2126", "\u1e0b\u0323", "q\u0307\u0323", "\uac00\u11a8"],
    }
    keys = list(pools)
    texts = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 24)):
            k = rng.choice(keys)
            p = pools[k]
            if isinstance(p, str):
                parts.append("".join(rng.choice(p) for _ in range(rng.randint(1, 6))))
            else:
                parts.append(rng.choice(p))
        texts.append("".join(parts))
    return texts


def nfc_texts(rng, n):
    interesting = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.combining(c) or (unicodedata.decomposition(c) and not unicodedata.decomposition(c).startswith("<")):
            interesting.append(c)
    interesting += [chr(c) for c in range(0x1100, 0x1113)] + [chr(c) for c in range(0x1161, 0x1176)]
    interesting += [chr(c) for c in range(0x11A8, 0x11C3)] + ["\uac00", "\uac01", "\ud7a3", "\uc544"]
    base = "aeiouAEIOUnNcCsSzZ"
    out = []
    for _ in range(n):
        s = "".join(rng.choice(interesting) if rng.random() < 0.7 else rng.choice(base) for _ in range(rng.randint(1, 6)))
        out.append(s)
    return out


def normalization_tests(rng):
    """Cases from the Unicode Consortium's NormalizationTest.txt when it is
    installed (Debian's unicode-data): parts 0, 2 and 3 whole, one line in 20
    of part 1, only lines whose characters Unicode %s assigns; NFC(c1..c3) ==
    c2 and NFC(c4, c5) == c4, and unicodedata must agree.""" % unicodedata.unidata_version
    import bz2
    path = "/usr/share/unicode/NormalizationTest.txt.bz2"
    if not os.path.exists(path):
        return ("no NormalizationTest.txt cases (%s not installed)" % path, [])
    out, version, part, kept, seen = [], "?", "", 0, 0
    with bz2.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("# NormalizationTest-"):
                version = line.split("-")[1].rsplit(".", 1)[0]
            if line.startswith("@Part"):
                part = line.split()[0]
                continue
            line = line.split("#")[0].strip()
            if not line:
                continue
            cols = ["".join(chr(int(h, 16)) for h in c.split()) for c in line.split(";")[:5]]
            if any(unicodedata.category(ch) == "Cn" for c in cols for ch in c):
                continue
            seen += 1
            if part == "@Part1" and seen % 20:
                continue
            for c in cols[:3]:
                assert unicodedata.normalize("NFC", c) == cols[1]
                out.append((c, cols[1]))
            for c in cols[3:5]:
                assert unicodedata.normalize("NFC", c) == cols[3]
                out.append((c, cols[3]))
            kept += 1
    uniq = sorted(set(out))
    return ("%d cases from %d lines of NormalizationTest-%s.txt" % (len(uniq), kept, version), uniq)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def tokenizer_json(vocab, merges, added, nfc, prefix, pair_merges):
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": norm, "special": not norm} for c, i, norm in added],
        "normalizer": {"type": "NFC"} if nfc else None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": prefix, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": [[a, b] for a, b in merges] if pair_merges else ["%s %s" % m for m in merges]},
    }


def main():
    gdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                              "shared", "reference", "gpt2-tokenizer")
    vocab, merges = load_gpt2(gdir)
    gpt2 = Model(vocab, merges)
    n = 0
    with open(os.path.join(gdir, "encodings.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                e = json.loads(line)
                got = gpt2.encode(e["text"])
                assert got == e["ids"], (e["text"], got, e["ids"])
                n += 1
    sys.stderr.write("oracle reproduces all %d lines of encodings.jsonl\n" % n)

    # tiny: the 256 byte tokens and the first MERGES merges, with GPT-2's ids
    inv = {v: k for k, v in vocab.items()}
    tv = {inv[i]: i for i in range(256)}
    tm = merges[:MERGES]
    for a, b in tm:
        assert a in tv and b in tv
        tv[a + b] = vocab[a + b]
    # dense ids: GPT-2 numbers merge results in merge order, so these are 0..255+MERGES
    assert sorted(tv.values()) == list(range(len(tv))), "tiny vocabulary ids are not dense"
    tiny = Model(tv, tm)

    # Pythia's layout: two specials first, everything else shifted by 2,
    # space-run tokens after the vocabulary
    nv = {"<|endoftext|>": 0, "<|padding|>": 1}
    for k, v in tv.items():
        nv[k] = v + 2
    nadded = [("<|endoftext|>", 0, False), ("<|padding|>", 1, False)]
    nxt = len(nv)
    for k in range(24, 1, -1):
        nadded.append((" " * k, nxt, True))
        nxt += 1
    neox = Model(nv, tm, nadded, nfc=True)

    padded = [("<|endoftext|>", len(tv), False)]
    prefix = Model(tv, tm, padded, prefix=True)

    write_json(os.path.join(OUT, "tiny-bpe", "vocab.json"), tv)
    with open(os.path.join(OUT, "tiny-bpe", "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in tm:
            f.write("%s %s\n" % (a, b))
    write_json(os.path.join(OUT, "tiny-json", "tokenizer.json"), tokenizer_json(tv, tm, [], False, False, False))
    write_json(os.path.join(OUT, "tiny-neox", "tokenizer.json"), tokenizer_json(nv, tm, nadded, True, False, True))
    write_json(os.path.join(OUT, "tiny-prefix", "tokenizer.json"), tokenizer_json(tv, tm, padded, False, True, False))

    rng = random.Random(20240601)
    edge = ["", " ", "a", "a  b", " \n x", "\u3000x", "x\u3000 y", "x'sy", "'", "'s'", "  ", "\n \n", "\x1c\x1d a",
            "\u00a0a", "a \u00a0b", "tab\t\tx", "  x", "x  ", "x\n", "\r\n\r\n", "''s", "1 2  3", " 1", " !x",
            " \u0301", "\u0301a", "e\u0301 e\u0301", "<|endoftext|>", " <|endoftext|> x", "<|endoftext|>\nx",
            "a" + " " * 30 + "b", " " * 24, " " * 25 + "x", "\U0001F600\U0001F600", "\x00a\x00", "don't", "DON'T"]
    texts = edge + random_texts(rng, 160)
    with open(os.path.join(OUT, "random.jsonl"), "w", encoding="utf-8") as f:
        for t in texts:
            rec = {"text": t, "gpt2": gpt2.encode(t), "tiny": tiny.encode(t), "neox": neox.encode(t),
                   "prefix": prefix.encode(t)}
            f.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    official = normalization_tests(rng)
    with open(os.path.join(OUT, "nfc.jsonl"), "w", encoding="utf-8") as f:
        for t in nfc_texts(rng, 600):
            f.write(json.dumps({"text": t, "nfc": unicodedata.normalize("NFC", t)}, ensure_ascii=False) + "\n")
        for t, want in official[1]:
            f.write(json.dumps({"text": t, "nfc": want}, ensure_ascii=False) + "\n")

    def sha(p):
        with open(p, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    with open(os.path.join(OUT, "VERSIONS"), "w") as f:
        f.write("generator: tools/gen_tokenizer_golden.py\n")
        f.write("python: %s\n" % sys.version.split()[0])
        f.write("regex module: %s\n" % regex.__version__)
        f.write("unicodedata: Unicode %s\n" % unicodedata.unidata_version)
        f.write("GPT-2 vocab.json sha256: %s\n" % sha(os.path.join(gdir, "vocab.json")))
        f.write("GPT-2 merges.txt sha256: %s\n" % sha(os.path.join(gdir, "merges.txt")))
        f.write("oracle check: all %d lines of encodings.jsonl reproduced\n" % n)
        f.write("tiny model: 256 byte tokens + first %d GPT-2 merges\n" % MERGES)
        f.write("nfc.jsonl: 600 random strings (unicodedata) + %s\n" % official[0])


if __name__ == "__main__":
    main()
