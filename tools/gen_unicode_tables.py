#!/usr/bin/python3
"""gen_unicode_tables.py -- writes ref/unicode_tables.c, the Unicode data the
tokenizer needs, from Python's unicodedata (the Unicode version is recorded in
the generated file). tpe never needs Python: the C file is committed.

    /usr/bin/python3 tools/gen_unicode_tables.py > ref/unicode_tables.c

Tables (all sorted, searched by binary search in ref/unicode.c):

  class ranges   the classes of the GPT-2 pre-tokenization pattern
                 `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+`:
                 LETTER = general category L* (Lu Ll Lt Lm Lo), NUMBER = N* (Nd Nl
                 No), SPACE = the White_Space property (what `\\s` means in the
                 `regex` module OpenAI's encoder.py used, and in Oniguruma, which
                 Hugging Face tokenizers uses), OTHER = everything else. Stored as a
                 partition of [0, 0x110000): entry = start << 2 | class.
  ccc ranges     canonical combining class, entry = start << 8 | ccc.
  decompositions full canonical decomposition (NFD of the single character) of
                 every character that has one, Hangul syllables excepted (those
                 are computed, UAX #15 section 1.3 / Unicode ch. 3.12).
  compositions   the primary composites: pairs (a, b) -> c with NFC(a b) == c and
                 c's canonical decomposition mapping == a b.
  nfc unstable   a partition of the code points into runs that toggle between
                 "NFC-stable" and not: a character is unstable when its ccc is not
                 0, or NFC changes it (NFC_QC=No), or it can combine with a
                 preceding character (NFC_QC=Maybe). Text made only of stable
                 characters is already in NFC.

The script also checks the facts ref/bpe.c relies on and fails if one is false
(every White_Space character is a stable starter that never combines with what
precedes it, so a stream may be cut before one), and reports how many code
points the `regex` module (when installed) classifies differently.
"""
import os
import sys
import textwrap
import unicodedata

MAXCP = 0x110000
SBASE, LBASE, VBASE, TBASE = 0xAC00, 0x1100, 0x1161, 0x11A7
LCOUNT, VCOUNT, TCOUNT = 19, 21, 28
NCOUNT = VCOUNT * TCOUNT
SCOUNT = LCOUNT * NCOUNT

# White_Space (PropList.txt). unicodedata has no such property; str.isspace()
# adds U+001C..U+001F (bidi class B/S) which are not White_Space.
WHITE_SPACE = set(list(range(0x09, 0x0E)) + [0x20, 0x85, 0xA0, 0x1680] + list(range(0x2000, 0x200B)) +
                  [0x2028, 0x2029, 0x202F, 0x205F, 0x3000])
OTHER, LETTER, NUMBER, SPACE = 0, 1, 2, 3


def is_surrogate(cp):
    return 0xD800 <= cp <= 0xDFFF


def klass(cp):
    if cp in WHITE_SPACE:
        return SPACE
    if is_surrogate(cp):
        return OTHER
    cat = unicodedata.category(chr(cp))
    if cat[0] == "L":
        return LETTER
    if cat[0] == "N":
        return NUMBER
    return OTHER


def partition(values):
    """[(start, value)] for the runs of a per-code-point list."""
    out = []
    prev = None
    for cp, v in enumerate(values):
        if v != prev:
            out.append((cp, v))
            prev = v
    return out


def emit_u32(name, vals, per_line=8, comment=None):
    lines = []
    if comment:
        lines.append("/* %s */" % comment)
    lines.append("const uint32_t %s[%d] = {" % (name, len(vals)))
    for i in range(0, len(vals), per_line):
        lines.append("    " + ", ".join("0x%x" % v for v in vals[i:i + per_line]) + ",")
    lines.append("};")
    lines.append("const size_t %s_count = %d;" % (name, len(vals)))
    return "\n".join(lines)


def main():
    classes = [klass(cp) for cp in range(MAXCP)]
    ccc = [0 if is_surrogate(cp) else unicodedata.combining(chr(cp)) for cp in range(MAXCP)]

    # full canonical decompositions (Hangul syllables are algorithmic)
    decomp = {}
    for cp in range(MAXCP):
        if is_surrogate(cp) or SBASE <= cp < SBASE + SCOUNT:
            continue
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        full = [ord(c) for c in unicodedata.normalize("NFD", chr(cp))]
        assert full != [cp]
        decomp[cp] = full

    # primary composites
    comps = []
    for cp in range(MAXCP):
        if is_surrogate(cp) or SBASE <= cp < SBASE + SCOUNT:
            continue
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) != 2:
            continue
        if unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(cp):
            comps.append((parts[0], parts[1], cp))
    comps.sort()
    seconds = set(b for _, b, _ in comps) | set(range(VBASE, VBASE + VCOUNT)) | set(range(TBASE + 1, TBASE + TCOUNT))

    unstable = []
    for cp in range(MAXCP):
        if is_surrogate(cp):
            unstable.append(0)
            continue
        c = chr(cp)
        u = ccc[cp] != 0 or cp in seconds or unicodedata.normalize("NFC", c) != c
        unstable.append(1 if u else 0)

    # Cross-check White_Space against PropList.txt when the Unicode data
    # files are installed (Debian's unicode-data puts them in /usr/share/unicode).
    proplist = "/usr/share/unicode/PropList.txt"
    ws_note = "White_Space not cross-checked (no %s)" % proplist
    if os.path.exists(proplist):
        ws = set()
        with open(proplist, encoding="utf-8") as f:
            for line in f:
                line = line.split("#")[0].strip()
                if not line:
                    continue
                rng, prop = [x.strip() for x in line.split(";")]
                if prop != "White_Space":
                    continue
                a, _, b = rng.partition("..")
                ws.update(range(int(a, 16), int(b or a, 16) + 1))
        assert ws == WHITE_SPACE, sorted(ws ^ WHITE_SPACE)
        ws_note = "White_Space equals %s" % proplist
    sys.stderr.write(ws_note + "\n")

    # The facts bpe.c relies on to cut a stream before a White_Space character.
    for cp in WHITE_SPACE:
        assert ccc[cp] == 0 and cp not in seconds, hex(cp)
        nfd = unicodedata.normalize("NFD", chr(cp))
        assert all(unicodedata.combining(ch) == 0 for ch in nfd), hex(cp)
        assert all(klass(ord(ch)) == SPACE for ch in unicodedata.normalize("NFC", chr(cp))), hex(cp)
    # unicode.c skips the look-ups below U+0300.
    assert all(unstable[cp] == 0 and ccc[cp] == 0 for cp in range(0x300))

    cls_part = partition(classes)
    ccc_part = partition(ccc)
    uns_part = partition(unstable)
    assert cls_part[0][0] == 0 and ccc_part[0][0] == 0 and uns_part[0] == (0, 0)

    # Disagreements with the `regex` module (a newer Unicode version in it
    # shows up here as newly assigned letters and digits).
    regex_note = "regex module not installed"
    try:
        import regex
        rl, rn, rs = regex.compile(r"\p{L}"), regex.compile(r"\p{N}"), regex.compile(r"\s")
        diff = assigned = 0
        for cp in range(MAXCP):
            if is_surrogate(cp):
                continue
            c = chr(cp)
            r = SPACE if rs.match(c) else LETTER if rl.match(c) else NUMBER if rn.match(c) else OTHER
            if r != classes[cp]:
                diff += 1
                assigned += unicodedata.category(c) != "Cn"
        regex_note = ("the regex module %s classifies %d code points differently, %d of them assigned in "
                      "Unicode %s (the rest are assigned only in its newer Unicode)" % (
                          regex.__version__, diff, assigned, unicodedata.unidata_version))
    except ImportError:
        pass

    pool = []
    dcp, doff = [], []
    for cp in sorted(decomp):
        dcp.append(cp)
        doff.append(len(pool))
        pool.extend(decomp[cp])
    doff.append(len(pool))
    assert len(pool) < 65536

    out = []
    out.append("/*")
    out.append(" * unicode_tables.c -- GENERATED by tools/gen_unicode_tables.py; do not edit.")
    out.append(" * Unicode %s (Python %s unicodedata)." % (unicodedata.unidata_version, sys.version.split()[0]))
    for line in textwrap.wrap(regex_note + ".", 96):
        out.append(" * " + line)
    out.append(" * Layout and meaning: see the generator and ref/unicode.c.")
    out.append(" */")
    out.append('#include "unicode_tables.h"')
    out.append("")
    out.append('const char tpe_unicode_data_version[] = "%s";' % unicodedata.unidata_version)
    out.append("")
    out.append("/* the class of each ASCII character (the tokenizer's fast path) */")
    out.append("const unsigned char tpe_uc_ascii_class[128] = {")
    for i in range(0, 128, 32):
        out.append("    " + ", ".join(str(c) for c in classes[i:i + 32]) + ",")
    out.append("};")
    out.append("")
    out.append(emit_u32("tpe_uc_class", [s << 2 | v for s, v in cls_part],
                        comment="GPT-2 classes, partition of the code points: start << 2 | class "
                                "(0 other, 1 letter, 2 number, 3 White_Space)"))
    out.append("")
    out.append(emit_u32("tpe_uc_ccc", [s << 8 | v for s, v in ccc_part],
                        comment="canonical combining class, partition: start << 8 | ccc"))
    out.append("")
    out.append(emit_u32("tpe_uc_nfc_unstable", [s for s, _ in uns_part],
                        comment="starts of alternating runs, stable first: a code point is NFC-unstable "
                                "when the number of starts <= it is even"))
    out.append("")
    out.append(emit_u32("tpe_uc_decomp_cp", dcp, comment="code points with a canonical decomposition (not Hangul)"))
    out.append("")
    out.append("/* decomposition of tpe_uc_decomp_cp[i] is tpe_uc_decomp_pool[off[i] .. off[i+1]) */")
    out.append("const uint16_t tpe_uc_decomp_off[%d] = {" % len(doff))
    for i in range(0, len(doff), 12):
        out.append("    " + ", ".join(str(v) for v in doff[i:i + 12]) + ",")
    out.append("};")
    out.append("")
    out.append(emit_u32("tpe_uc_decomp_pool", pool))
    out.append("")
    out.append(emit_u32("tpe_uc_comp_first", [a for a, _, _ in comps],
                        comment="primary composites, sorted by (first, second)"))
    out.append("")
    out.append("const uint32_t tpe_uc_comp_second[%d] = {" % len(comps))
    for i in range(0, len(comps), 8):
        out.append("    " + ", ".join("0x%x" % b for _, b, _ in comps[i:i + 8]) + ",")
    out.append("};")
    out.append("")
    out.append("const uint32_t tpe_uc_comp_result[%d] = {" % len(comps))
    for i in range(0, len(comps), 8):
        out.append("    " + ", ".join("0x%x" % c for _, _, c in comps[i:i + 8]) + ",")
    out.append("};")
    sys.stdout.write("\n".join(out) + "\n")
    sys.stderr.write("classes %d ranges, ccc %d, unstable %d, decompositions %d (pool %d), compositions %d; %s\n" % (
        len(cls_part), len(ccc_part), len(uns_part), len(dcp), len(pool), len(comps), regex_note))


if __name__ == "__main__":
    main()
