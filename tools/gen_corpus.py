#!/usr/bin/env python3
"""tools/gen_corpus.py -- the synthetic language of the shipped demo (golden/demo/).

Nobody else's text may be shipped, so the demo model learns a language made
up here, from a seed. It is built to have what the paper's analyses need:

* Zipf-distributed word frequencies: inside every word class the word of rank
  r (1-based) has weight 1 / (r + ZIPF_SHIFT) ** ZIPF_S (Zipf-Mandelbrot), so
  token frequencies span several orders of magnitude, as in natural text.
* Topics: every topic has its own nouns, verbs, adjectives and names, mixed
  with a shared general vocabulary; the topic of a sample decides the words.
  Topics 0..N_TOPICS_ID-1 are "in-domain" (the detect set D and test-id come
  from them); the last topic is "out-of-domain" (test-ood). The OOD topic is
  in the training mixture at a small share (OOD_TRAIN_SHARE) so the model can
  read it, as a web-trained LM has seen some of every domain; it also differs
  in style (mostly past tense, more questions).
* Local structure a small model can learn: function words (determiners,
  prepositions, conjunctions, pronouns), agreement (a plural determiner goes
  with a plural noun and a plural verb form), morphology (plural -s/-es, verb
  endings, adverbs derived from adjectives with -mo, possessive 's), word
  order, punctuation (sentence-final . ? !, a comma or semicolon before a
  conjunction, reported speech in quotes after a colon, asides in
  parentheses, hyphenated compounds), numerals and years, capitalised
  sentence starts, and collocations (every noun prefers a few verbs and
  adjectives, every verb prefers a few objects).
* A long tail: each topic spells its own words with some letters of its own
  (non-ASCII in topics 1-5, so UTF-8 and the tokenizer's \p{L} matter), and
  P_NOVEL of the nouns, adjectives and names are words made up on the spot,
  a quarter of them with rare letters (Latin-1, Greek, Cyrillic), so rare
  tokens occur rarely rather than never.

Only Python's `random.Random(seed).random()` is used for randomness (its
stream is fixed for an integer seed across Python versions), with our own
cumulative-weight lookup, so the corpus regenerates byte for byte.

Writes (one sample per line, UTF-8, '\n'-terminated, no empty lines):
  OUT/detect.txt    the paper's detect dataset D (in-domain)
  OUT/test-id.txt   other in-domain samples
  OUT/test-ood.txt  samples of the out-of-domain topic
  OUT/prefixes.txt  the first two words of each test-id sample (App. A.3)
  OUT/count.txt     the first lines of the training split, for `tpe count`
  OUT/lexicon.json  the generated lexicon (for readers; not needed to run)
  TRAIN             the training split (not committed: regenerate it)

Usage:
  python3 tools/gen_corpus.py --out golden/demo/corpus --train build/demo/train.txt
"""

import argparse
import bisect
import hashlib
import json
import os
import random
import sys

SEED = 20240602          # the corpus seed (recorded in golden/demo/README.md)
N_TOPICS_ID = 5          # in-domain topics 0..4
OOD_TOPIC = 5            # the out-of-domain topic
OOD_TRAIN_SHARE = 0.03   # its share of the training samples
ZIPF_S = 1.1             # Zipf-Mandelbrot exponent
ZIPF_SHIFT = 1.7         # Zipf-Mandelbrot shift
P_TOPIC_WORD = 0.55      # a content word comes from the topic's own list with this probability
P_COLLOCATION = 0.5      # ... and follows its head's preferences with this one
P_NOVEL = 0.03           # a noun, adjective or name is a new word, made up on the spot

# Sizes of the word lists.
N_SHARED = {"noun": 700, "verb_t": 200, "verb_i": 80, "adj": 200}
N_TOPIC = {"noun": 250, "verb_t": 60, "verb_i": 25, "adj": 60, "name": 40}

# Split sizes in samples, and the size of count.txt in bytes.
N_TRAIN = 300000
N_DETECT = 400
N_TEST_ID = 200
N_TEST_OOD = 200
COUNT_BYTES = 1000000


class Rng:
    """random.Random restricted to .random() (a stream fixed by the seed)."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def u(self):
        return self.r.random()

    def coin(self, p):
        return self.r.random() < p

    def below(self, n):
        return min(int(self.r.random() * n), n - 1)

    def pick(self, items):
        return items[self.below(len(items))]

    def pick_cum(self, items, cum):
        """items[i] with probability (cum[i] - cum[i-1]) / cum[-1]."""
        x = self.r.random() * cum[-1]
        return items[min(bisect.bisect_right(cum, x), len(items) - 1)]


def zipf_cum(n):
    """Cumulative Zipf-Mandelbrot weights for ranks 1..n."""
    cum, s = [], 0.0
    for r in range(1, n + 1):
        s += 1.0 / (r + ZIPF_SHIFT) ** ZIPF_S
        cum.append(s)
    return cum


class ZipfList:
    def __init__(self, words):
        self.words = list(words)
        self.cum = zipf_cum(len(self.words))

    def draw(self, rng):
        return rng.pick_cum(self.words, self.cum)


# ---- the lexicon ---------------------------------------------------------------------------

# Function words: fixed, short, invented here.
FUNC = {
    "det_def": ("le", "lei"),        # (singular, plural)
    "det_indef": ("un", "sim"),
    "det_dem": ("ko", "koi"),
    "poss": ("mi", "tu", "su"),      # possessive determiners, no agreement
    "pron": ("ha", "hon"),           # 3sg, 3pl subject pronouns
    "prep": ("na", "ve", "doro", "pa", "ilu", "sek", "tam", "ur"),
    "conj": ("e", "mas", "ku", "ol"),
    "rel": "ke",
    "neg": "nu",
    "yesno": "esk",
    "wh": ("ken", "kel"),            # who, what: 3sg subjects
    "excl": "ai",
    "say": "dik",                    # a verb stem: diket, diken, dikri
}
ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
          "ch", "sh", "th", "br", "dr", "gr", "kl", "pl", "st", "tr"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ou", "ei"]
CODAS = ["", "", "", "", "n", "r", "l", "s", "m", "k"]
# Each topic's own words have their own orthography (extra onsets, extra
# vowels; non-ASCII letters, so UTF-8 and the tokenizer's \p{L} matter).
# The out-of-domain topic (last) has the most foreign one.
TOPIC_LETTERS = [([], []), ([], ["é", "è"]), (["ç"], ["ö", "ü"]), ([], ["å", "ø"]), (["ñ"], ["á"]),
                 (["þ", "ð", "θ", "λ"], ["æ", "ω"])]
# Letters only words made up on the spot may use, for a long, rare tail of
# tokens: the Latin-1 letters, Greek and Cyrillic lower case, and a few from
# Latin Extended (between them every UTF-8 continuation byte occurs).
RARE_LETTERS = ([chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7, 0xDF)]
                + [chr(c) for c in range(0x3B1, 0x3CA)] + [chr(c) for c in range(0x430, 0x450)]
                + ["ł", "ğ", "ı", "ň", "ő", "ŵ", "ỳ", "ɛ", "ŋ"])
P_RARE_WORD = 0.25       # a made-up word is "foreign" with this probability ...
P_RARE_LETTER = 0.3      # ... and then each of its vowels is a rare letter with this one


def make_word(rng, syl_min, syl_max, onsets=ONSETS, vowels=VOWELS):
    k = syl_min + rng.below(syl_max - syl_min + 1)
    return "".join(rng.pick(onsets) + rng.pick(vowels) + rng.pick(CODAS) for _ in range(k))


def make_words(rng, n, syl_min, syl_max, taken, onsets=ONSETS, vowels=VOWELS):
    """n new pseudo-words of syl_min..syl_max syllables, none in `taken`."""
    out = []
    while len(out) < n:
        w = make_word(rng, syl_min, syl_max, onsets, vowels)
        # morphology must stay unambiguous: no stem may already look inflected
        if w in taken or w.endswith(("s", "mo", "ri")) or len(w) < 3:
            continue
        taken.add(w)
        out.append(w)
    return out


def topic_letters(t):
    """(onsets, vowels) of topic t: the common ones, the topic's own twice."""
    on, vo = TOPIC_LETTERS[t]
    return ONSETS + on * 2, VOWELS + vo * 2


def plural(noun):
    return noun + ("s" if noun[-1] in "aeiou" else "es")


def verb_form(stem, number, tense):
    """Present tense agrees with the subject's number; the past does not."""
    if tense == "past":
        return stem + "ri"
    if number == "sg":
        return stem + ("t" if stem[-1] in "aeiou" else "et")
    return stem + ("n" if stem[-1] in "aeiou" else "en")


def build_lexicon(rng):
    taken = set()
    for v in FUNC.values():
        taken.update(v if isinstance(v, tuple) else (v,))
    lex = {"shared": {}, "topics": []}
    for cls, n in N_SHARED.items():
        lex["shared"][cls] = make_words(rng, n, 2, 3, taken)
    for k in range(N_TOPICS_ID + 1):
        t = {}
        on, vo = topic_letters(k)
        for cls, n in N_TOPIC.items():
            if cls == "name":
                t[cls] = [w.capitalize() for w in make_words(rng, n, 2, 3, taken, on, vo)]
            else:
                t[cls] = make_words(rng, n, 2, 3, taken, on, vo)
        lex["topics"].append(t)
    return lex


class Topic:
    """Everything needed to draw words for one topic, with its collocations."""

    def __init__(self, lex, t, rng):
        shared, own = lex["shared"], lex["topics"][t]
        self.lists = {}
        for cls in ("noun", "verb_t", "verb_i", "adj"):
            self.lists[cls] = (ZipfList(own[cls]), ZipfList(shared[cls]))
        self.names = ZipfList(own["name"])
        self.letters = topic_letters(t)
        # Collocations: preferences drawn once per word from the topic's own
        # distribution (so frequent words are preferred more often).
        self.noun_verbs, self.noun_adjs, self.verb_objs = {}, {}, {}
        for n in own["noun"] + shared["noun"]:
            self.noun_verbs[n] = [self.draw_plain("verb_t", rng) for _ in range(3)]
            self.noun_adjs[n] = [self.draw_plain("adj", rng) for _ in range(2)]
        for v in own["verb_t"] + shared["verb_t"]:
            self.verb_objs[v] = [self.draw_plain("noun", rng) for _ in range(4)]

    def draw_plain(self, cls, rng):
        own, shared = self.lists[cls]
        return own.draw(rng) if rng.coin(P_TOPIC_WORD) else shared.draw(rng)


# ---- the grammar ---------------------------------------------------------------------------

class Sampler:
    def __init__(self, lex, rng):
        self.lex = lex
        self.rng = rng
        self.topics = [Topic(lex, t, rng) for t in range(N_TOPICS_ID + 1)]
        self.adv = ZipfList([a + "mo" for a in lex["shared"]["adj"][:60]])

    def novel(self, top):
        """A word made up on the spot (hapaxes: names, coinages, typos)."""
        rng = self.rng
        on, vo = top.letters
        foreign = rng.coin(P_RARE_WORD)
        k = 2 + rng.below(3)
        w = ""
        for _ in range(k):
            v = rng.pick(RARE_LETTERS) if foreign and rng.coin(P_RARE_LETTER) else rng.pick(vo)
            w += rng.pick(on) + v + rng.pick(CODAS)
        return w + "a" if w.endswith(("s", "mo", "ri")) else w

    def noun_phrase(self, top, number, head=None, allow_pron=True):
        """Returns (words, number, head noun or None)."""
        rng = self.rng
        x = rng.u()
        if allow_pron and x < 0.12:
            return [FUNC["pron"][0 if number == "sg" else 1]], number, None
        if allow_pron and x < 0.20:
            name = self.novel(top).capitalize() if rng.coin(P_NOVEL) else top.names.draw(rng)
            return [name], "sg", None
        noun = head or (self.novel(top) if rng.coin(P_NOVEL) else top.draw_plain("noun", rng))
        words = []
        y = rng.u()
        if number == "pl" and y < 0.12:
            words.append(str(2 + rng.below(11)))          # a numeral: "7 balus"
        elif y < 0.55:
            words.append(FUNC["det_def"][0 if number == "sg" else 1])
        elif y < 0.75:
            words.append(FUNC["det_indef"][0 if number == "sg" else 1])
        elif y < 0.87:
            words.append(FUNC["det_dem"][0 if number == "sg" else 1])
        else:
            words.append(rng.pick(FUNC["poss"]))
        if rng.coin(0.35):
            if rng.coin(P_NOVEL):
                adj = self.novel(top)
            elif noun in top.noun_adjs and rng.coin(P_COLLOCATION):
                adj = rng.pick(top.noun_adjs[noun])
            else:
                adj = top.draw_plain("adj", rng)
            words.append(adj)
            if rng.coin(0.15):
                words.append(top.draw_plain("adj", rng))
            elif rng.coin(0.05):                                  # a compound: "shel-trouvin"
                words[-1] += "-" + top.draw_plain("adj", rng)
        words.append(noun if number == "sg" else plural(noun))
        return words, number, noun

    def number(self):
        return "sg" if self.rng.coin(0.65) else "pl"

    def verb_for(self, top, subj_head, transitive):
        rng = self.rng
        if transitive:
            if subj_head in top.noun_verbs and rng.coin(P_COLLOCATION):
                return rng.pick(top.noun_verbs[subj_head])
            return top.draw_plain("verb_t", rng)
        return top.draw_plain("verb_i", rng)

    def object_for(self, top, verb):
        """An object noun phrase for `verb`: (words, number)."""
        rng = self.rng
        head = rng.pick(top.verb_objs[verb]) if rng.coin(P_COLLOCATION) else None
        words, num, _ = self.noun_phrase(top, self.number(), head=head, allow_pron=False)
        return words, num

    def prep_phrase(self, top):
        words, _, _ = self.noun_phrase(top, self.number(), allow_pron=False)
        return [self.rng.pick(FUNC["prep"])] + words

    def clause(self, top, tense):
        """A declarative clause without final punctuation."""
        rng = self.rng
        subj, num, head = self.noun_phrase(top, self.number())
        out = list(subj)
        if rng.coin(0.08):
            out.append(FUNC["neg"])
        if rng.coin(0.7):
            if rng.coin(0.15):
                out.append(self.adv.draw(rng))
            verb = self.verb_for(top, head, True)
            out.append(verb_form(verb, num, tense))
            obj, obj_num = self.object_for(top, verb)
            out += obj
            if rng.coin(0.15):
                # relative clause on the object, agreeing with it: "... lei balus ke trimen un dore"
                v2 = top.draw_plain("verb_t", rng)
                out += [FUNC["rel"], verb_form(v2, obj_num, tense)] + self.object_for(top, v2)[0]
        else:
            out.append(verb_form(self.verb_for(top, head, False), num, tense))
            if rng.coin(0.4):
                out.append(self.adv.draw(rng))
        if rng.coin(0.35):
            pp = self.prep_phrase(top)
            if rng.coin(0.05):                                    # an aside: "(na le dore)"
                pp[0], pp[-1] = "(" + pp[0], pp[-1] + ")"
            out += pp
        elif rng.coin(0.04):
            out += [FUNC["prep"][0], str(1000 + rng.below(1100))]     # a year: "na 1873"
        return out

    def sentence(self, top, tense, ood):
        rng = self.rng
        x = rng.u()
        p_q = 0.25 if ood else 0.12
        if x < p_q:
            if rng.coin(0.6):                                   # yes/no question
                words = [FUNC["yesno"]] + self.clause(top, tense)
            else:                                               # wh-question, 3sg subject
                verb = top.draw_plain("verb_t", rng)
                words = [rng.pick(FUNC["wh"]), verb_form(verb, "sg", tense)] + self.object_for(top, verb)[0]
            end = "?"
        elif x < p_q + 0.03:                                    # exclamation
            words = [FUNC["excl"] + ","] + self.noun_phrase(top, self.number(), allow_pron=False)[0]
            end = "!"
        elif x < p_q + 0.09:                                    # possessive: "Tarin's balu ..."
            owner = top.names.draw(rng) + "'s"
            noun = top.draw_plain("noun", rng)
            verb = self.verb_for(top, noun, True)
            words = [owner, noun, verb_form(verb, "sg", tense)] + self.object_for(top, verb)[0]
            end = "."
        elif x < p_q + 0.13:                                    # reported speech: Ha diket: "..."
            subj, num, _ = self.noun_phrase(top, self.number())
            inner = self.clause(top, tense)
            inner[0] = '"' + inner[0][0].upper() + inner[0][1:]
            inner[-1] += '."'
            words = subj + [verb_form(FUNC["say"], num, tense) + ":"] + inner
            end = ""
        elif x < p_q + 0.31:                                    # two clauses joined
            words = self.clause(top, tense)
            words[-1] += ";" if rng.coin(0.1) else ","
            words += [rng.pick(FUNC["conj"])] + self.clause(top, tense)
            end = "."
        else:
            words = self.clause(top, tense)
            end = "."
        words[-1] += end
        words[0] = words[0][0].upper() + words[0][1:]
        return " ".join(words)

    def sample(self, topic):
        rng = self.rng
        ood = topic == OOD_TOPIC
        tense = "past" if rng.coin(0.7 if ood else 0.3) else "present"
        n = 2 + rng.below(3)                                     # 2..4 sentences
        top = self.topics[topic]
        return " ".join(self.sentence(top, tense, ood) for _ in range(n))


def draw_split(sampler, n, topics, avoid=None):
    out = []
    seen = set() if avoid is None else avoid
    while len(out) < n:
        s = sampler.sample(topics(sampler.rng))
        if s in seen:
            continue
        out.append(s)
    return out


def write_lines(path, lines):
    tmp = path + ".tmp." + str(os.getpid())
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the committed splits")
    ap.add_argument("--train", required=True, help="path of the training split (not committed)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--n-train", type=int, default=N_TRAIN)
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.train)), exist_ok=True)

    lex = build_lexicon(Rng(args.seed))
    # Separate streams, so each split is independent of the others' sizes.
    def sampler(stream):
        s = Sampler(lex, Rng(args.seed + 1))   # the same collocations for every stream
        s.rng = Rng(args.seed * 1000 + stream)
        return s

    in_domain = lambda rng: rng.below(N_TOPICS_ID)
    ood = lambda rng: OOD_TOPIC
    mixture = lambda rng: OOD_TOPIC if rng.coin(OOD_TRAIN_SHARE) else rng.below(N_TOPICS_ID)

    detect = draw_split(sampler(1), N_DETECT, in_domain)
    test_id = draw_split(sampler(2), N_TEST_ID, in_domain, avoid=set(detect))
    test_ood = draw_split(sampler(3), N_TEST_OOD, ood)
    held_out = set(detect) | set(test_id) | set(test_ood)
    train = []
    s = sampler(4)
    while len(train) < args.n_train:
        x = s.sample(mixture(s.rng))
        if x not in held_out:                 # no evaluation sample is trained on
            train.append(x)

    prefixes = [" ".join(x.split(" ")[:2]) for x in test_id]
    count, nbytes = [], 0
    for x in train:
        n = len(x.encode("utf-8")) + 1
        if nbytes + n > COUNT_BYTES:
            break
        count.append(x)
        nbytes += n

    write_lines(os.path.join(args.out, "detect.txt"), detect)
    write_lines(os.path.join(args.out, "test-id.txt"), test_id)
    write_lines(os.path.join(args.out, "test-ood.txt"), test_ood)
    write_lines(os.path.join(args.out, "prefixes.txt"), prefixes)
    write_lines(os.path.join(args.out, "count.txt"), count)
    write_lines(args.train, train)
    with open(os.path.join(args.out, "lexicon.json"), "w", encoding="utf-8") as f:
        json.dump({"seed": args.seed, "function_words": FUNC, "shared": lex["shared"],
                   "topics": lex["topics"], "in_domain_topics": list(range(N_TOPICS_ID)),
                   "ood_topic": OOD_TOPIC}, f, indent=1, sort_keys=True)
        f.write("\n")

    h = hashlib.sha256(open(args.train, "rb").read()).hexdigest()
    words = sum(len(x.split(" ")) for x in train)
    print(f"gen_corpus: seed {args.seed}, python {sys.version.split()[0]}")
    print(f"  train    {len(train)} samples, {words} words, {os.path.getsize(args.train)} bytes, sha256 {h}")
    for name, xs in (("detect", detect), ("test-id", test_id), ("test-ood", test_ood),
                     ("prefixes", prefixes), ("count", count)):
        print(f"  {name:8s} {len(xs)} lines, {sum(len(x.encode('utf-8')) + 1 for x in xs)} bytes")


if __name__ == "__main__":
    main()
