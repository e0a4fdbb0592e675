/*
 * bpe.c -- GPT-2 byte-level BPE (Radford et al. 2019, OpenAI's encoder.py;
 * the same model Hugging Face tokenizers loads from a tokenizer.json).
 *
 * encode(text):
 *   1. text must be valid UTF-8 (else an error naming the byte offset);
 *   2. tokenizer.json only: added tokens with "normalized": false are cut
 *      out first (leftmost-longest match, as tokenizers' AddedVocabulary
 *      does), the rest is NFC-normalized when the normalizer says so, and the
 *      added tokens with "normalized": true are cut out of that;
 *   3. each remaining piece (with a space in front when the ByteLevel
 *      pre-tokenizer has add_prefix_space and the piece does not start with
 *      one) is split by the GPT-2 pattern
 *          's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *      implemented by hand in pretok_end() (classes from unicode.c);
 *   4. each pre-token ("word") starts as one symbol per UTF-8 byte -- the
 *      vocabulary spells byte b as the character bytes_to_unicode(b), so the
 *      symbol is the id of that one-character token -- and adjacent symbols
 *      are merged by rank as encoder.py's bpe() does: repeatedly take the
 *      lowest-ranked adjacent pair present and merge every occurrence of it,
 *      left to right, until no pair has a rank (bpe_word()). A min-heap keyed
 *      by (rank, position) finds the pairs; a round pops every entry of one
 *      rank before the pairs it creates go in, so the result equals
 *      encoder.py's even for merge lists whose ranks are not in training
 *      order (tokenizers, which merges one pair at a time, agrees on lists in
 *      training order, which every published one is).
 *   5. words are cached (word bytes -> ids) in an stb_ds string map.
 *
 * decode(ids): each id's token string, read back through the byte map
 * (a token with a character outside the map, e.g. an added token written
 * in plain text, is taken as its own UTF-8 bytes, as tokenizers' ByteLevel
 * decoder does); the bytes are returned as they are.
 */
#include "tokenizer.h"
#include "io.h"
#include "json.h"
#include "platform.h"
#include "stbds.h"
#include "tpe.h"
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ID 16777215          /* ids above this are refused (sizes tables by the largest id) */
#define CACHE_MAX_WORD 48        /* longer words are not cached                                 */
#define CACHE_MAX_WORDS 131072   /* the cache is emptied when it holds this many words          */
#define NO_TOKEN UINT32_MAX

typedef struct merge_val {
    int32_t rank, id; /* rank in the merge list, id of the merged token */
} merge_val;
typedef struct merge_entry {
    uint64_t key; /* left id << 32 | right id */
    merge_val value;
} merge_entry;
typedef struct vocab_entry {
    char *key;
    int32_t value;
} vocab_entry;
typedef struct cache_val {
    uint32_t off, n; /* ids in cache_ids[off .. off + n) */
} cache_val;
typedef struct cache_entry {
    char *key;
    cache_val value;
} cache_entry;

typedef struct added_token {
    char *content; /* as matched: NFC-normalized when normalized and the normalizer is NFC */
    size_t len;
    int32_t id;
    int normalized;
} added_token;

typedef struct sym {
    int32_t id;         /* token id; -1 once merged into its left neighbour */
    int32_t prev, next; /* neighbours, -1 at the ends                         */
} sym;
typedef struct heap_item {
    int32_t rank, pos;
} heap_item;

struct tpe_tokenizer {
    const char *source;  /* "tokenizer.json" or "vocab.json + merges.txt" */
    size_t vocab_size;   /* largest id + 1                                */
    uint32_t *tok_off;   /* (vocab_size): offset of the token string in strs, NO_TOKEN for a gap */
    uint32_t *dec_off;   /* (vocab_size + 1): decoded bytes of id i are dec[dec_off[i] .. dec_off[i+1]) */
    char *strs;          /* stb array: token strings, each NUL-terminated  */
    unsigned char *dec;  /* stb array: decoded bytes of every token       */
    vocab_entry *vocab;  /* stb_ds map: token string -> id                */
    merge_entry *merges; /* stb_ds map: pair of ids -> rank and merged id */
    int32_t byte_id[256];      /* id of the token spelling byte b            */
    int16_t byte_of_cp[324];   /* the byte map inverted: byte of U+0000..U+0143, or -1 */
    /* tokenizer.json pipeline */
    int nfc, add_prefix_space;
    added_token *added;            /* stb array, longest first              */
    unsigned char added_first[2][256]; /* [normalized][first byte]: some token starts so */
    const char *stream_unsafe;     /* an added token a stream cut could split, or NULL */
    /* word cache */
    cache_entry *cache;
    int32_t *cache_ids;
    /* scratch, reused by every call (the tokenizer is not thread-safe) */
    sym *syms;
    heap_item *heap;
    int32_t *pending;
    char *keybuf;
    unsigned char *piece;
    int32_t *ids;
};

/* ---- the byte <-> unicode map of encoder.py's bytes_to_unicode() --------
 * Printable bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) stand for themselves;
 * the other 68 become U+0100, U+0101, ... in byte order. */
static uint32_t byte_to_cp(unsigned b)
{
    unsigned i, n = 0;
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE) return b;
    for (i = 0; i < b; i++)
        if (!((i >= 0x21 && i <= 0x7E) || (i >= 0xA1 && i <= 0xAC) || i >= 0xAE)) n++;
    return 256 + n;
}

/* byte of a byte-level character, or -1 */
static int cp_to_byte(const tpe_tokenizer *t, uint32_t cp) { return cp < 324 ? t->byte_of_cp[cp] : -1; }

/* ---- classes of the GPT-2 pattern ----------------------------------------- */
/* Class of the character at s[i] (valid UTF-8), its length in *n. */
static int class_at(const unsigned char *s, size_t len, size_t i, size_t *n)
{
    uint32_t cp;
    if (s[i] < 0x80) {
        *n = 1;
        return tpe_uc_ascii_class[s[i]];
    }
    *n = tpe_utf8_decode(s + i, len - i, &cp);
    return tpe_unicode_class(cp);
}

/* End of the class-`c` run starting at s[i]. */
static size_t run_end(const unsigned char *s, size_t len, size_t i, int c)
{
    size_t n;
    while (i < len && class_at(s, len, i, &n) == c) i += n;
    return i;
}

/* End of the GPT-2 pattern's match starting at s[i] (i < len; s valid UTF-8).
 * The alternatives are tried in the pattern's order, as a backtracking
 * regex engine does, so the first that matches wins (not the longest). */
static size_t pretok_end(const unsigned char *s, size_t len, size_t i)
{
    size_t n, j, last;
    int c = class_at(s, len, i, &n);
    /* 's|'t|'re|'ve|'m|'ll|'d (case-sensitive, as in encoder.py) */
    if (s[i] == '\'' && i + 1 < len) {
        unsigned char a = s[i + 1];
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
        if (i + 2 < len) {
            unsigned char b = s[i + 2];
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
        }
    }
    /* ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+': the optional character is
     * U+0020 only; which alternative applies is fixed by the class of the
     * character after it, and each runs to the end of its class */
    if (s[i] == ' ' && i + 1 < len) {
        size_t m;
        int c2 = class_at(s, len, i + 1, &m);
        if (c2 != TPE_UC_SPACE) return run_end(s, len, i + 1, c2);
    }
    if (c != TPE_UC_SPACE) return run_end(s, len, i, c);
    /* '\s+(?!\S)': the whitespace run, less its last character when a
     * non-space follows (backtracking by one); '\s+' when that leaves nothing */
    j = i;
    last = i;
    while (j < len && class_at(s, len, j, &n) == TPE_UC_SPACE) {
        last = j;
        j += n;
    }
    if (j == len) return len;
    return last > i ? last : j;
}

/* ---- merges by rank ---------------------------------------------------------- */
static int merge_of(const tpe_tokenizer *t, int32_t a, int32_t b, merge_val *v)
{
    uint64_t key = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    merge_entry *m = t->merges; /* the macro assigns its table argument */
    ptrdiff_t k;
    if (!m) return 0; /* no merges: a look-up would allocate a table */
    k = hmgeti(m, key);
    if (k < 0) return 0;
    *v = m[k].value;
    return 1;
}

static int heap_less(heap_item x, heap_item y) { return x.rank < y.rank || (x.rank == y.rank && x.pos < y.pos); }

static void heap_push(tpe_tokenizer *t, int32_t rank, int32_t pos)
{
    heap_item it;
    size_t i;
    it.rank = rank;
    it.pos = pos;
    arrput(t->heap, it);
    i = arrlenu(t->heap) - 1;
    while (i > 0 && heap_less(t->heap[i], t->heap[(i - 1) / 2])) {
        heap_item tmp = t->heap[i];
        t->heap[i] = t->heap[(i - 1) / 2];
        t->heap[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
}

static heap_item heap_pop(tpe_tokenizer *t)
{
    heap_item top = t->heap[0];
    size_t n = arrlenu(t->heap) - 1, i = 0;
    t->heap[0] = t->heap[n];
    arrsetlen(t->heap, n);
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        heap_item tmp;
        if (l < n && heap_less(t->heap[l], t->heap[m])) m = l;
        if (r < n && heap_less(t->heap[r], t->heap[m])) m = r;
        if (m == i) break;
        tmp = t->heap[i];
        t->heap[i] = t->heap[m];
        t->heap[m] = tmp;
        i = m;
    }
    return top;
}

static void push_pair(tpe_tokenizer *t, int32_t p)
{
    merge_val v;
    int32_t q = t->syms[p].next;
    if (q >= 0 && merge_of(t, t->syms[p].id, t->syms[q].id, &v)) heap_push(t, v.rank, p);
}

static void cache_reset(tpe_tokenizer *t)
{
    shfree(t->cache);
    sh_new_arena(t->cache);
    arrsetlen(t->cache_ids, 0);
}

/* Append the BPE ids of the word w[0..n) (n >= 1) to *out. */
static void bpe_word(tpe_tokenizer *t, const unsigned char *w, size_t n, int32_t **out)
{
    size_t i;
    int cacheable = n <= CACHE_MAX_WORD && !memchr(w, 0, n);
    int32_t p;
    if (n == 1) {
        arrput(*out, t->byte_id[w[0]]);
        return;
    }
    if (cacheable) {
        ptrdiff_t k;
        arrsetlen(t->keybuf, n + 1);
        memcpy(t->keybuf, w, n);
        t->keybuf[n] = '\0';
        k = shgeti(t->cache, t->keybuf);
        if (k >= 0) {
            cache_val v = t->cache[k].value;
            memcpy(arraddnptr(*out, v.n), t->cache_ids + v.off, v.n * sizeof(int32_t));
            return;
        }
    }
    arrsetlen(t->syms, n);
    for (i = 0; i < n; i++) {
        t->syms[i].id = t->byte_id[w[i]];
        t->syms[i].prev = (int32_t)i - 1;
        t->syms[i].next = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    arrsetlen(t->heap, 0);
    for (i = 0; i + 1 < n; i++) push_pair(t, (int32_t)i);
    while (arrlenu(t->heap)) {
        /* one round: every occurrence of the lowest-ranked pair, left to right */
        int32_t rank = t->heap[0].rank;
        size_t k;
        arrsetlen(t->pending, 0);
        while (arrlenu(t->heap) && t->heap[0].rank == rank) {
            heap_item it = heap_pop(t);
            int32_t q;
            merge_val v;
            p = it.pos;
            if (t->syms[p].id < 0 || (q = t->syms[p].next) < 0) continue;
            if (!merge_of(t, t->syms[p].id, t->syms[q].id, &v) || v.rank != rank) continue; /* stale */
            t->syms[p].id = v.id;
            t->syms[q].id = -1;
            t->syms[p].next = t->syms[q].next;
            if (t->syms[q].next >= 0) t->syms[t->syms[q].next].prev = p;
            arrput(t->pending, p);
        }
        /* the pairs this round created take part from the next round on */
        for (k = 0; k < arrlenu(t->pending); k++) {
            p = t->pending[k];
            if (t->syms[p].id < 0) continue;
            if (t->syms[p].prev >= 0) push_pair(t, t->syms[p].prev);
            push_pair(t, p);
        }
    }
    if (cacheable) {
        cache_val v;
        if (shlenu(t->cache) >= CACHE_MAX_WORDS) cache_reset(t);
        v.off = (uint32_t)arrlenu(t->cache_ids);
        v.n = 0;
        for (p = 0; p >= 0; p = t->syms[p].next) {
            arrput(t->cache_ids, t->syms[p].id);
            v.n++;
        }
        shput(t->cache, t->keybuf, v);
        memcpy(arraddnptr(*out, v.n), t->cache_ids + v.off, v.n * sizeof(int32_t));
        return;
    }
    for (p = 0; p >= 0; p = t->syms[p].next) arrput(*out, t->syms[p].id);
}

/* Pre-tokenize one piece and BPE each word. */
static void encode_words(tpe_tokenizer *t, const unsigned char *s, size_t len, int32_t **out)
{
    size_t i = 0;
    while (i < len) {
        size_t e = pretok_end(s, len, i);
        bpe_word(t, s + i, e - i, out);
        i = e;
    }
}

/* A piece between added tokens, after normalization: ByteLevel's
 * add_prefix_space puts a space in front unless it starts with one (or it
 * continues a piece begun in an earlier chunk of a stream). */
static void encode_piece(tpe_tokenizer *t, const unsigned char *s, size_t len, int *cont, int32_t **out)
{
    int prefix;
    if (len == 0 || len >= SIZE_MAX / 2) return; /* pieces are never empty */
    prefix = t->add_prefix_space && !*cont && s[0] != ' ';
    *cont = 0;
    if (!prefix) {
        encode_words(t, s, len, out);
        return;
    }
    arrsetlen(t->piece, len + 1);
    t->piece[0] = ' ';
    memcpy(t->piece + 1, s, len);
    encode_words(t, t->piece, len + 1, out);
}

/* The longest added token of kind `norm` matching at s[i], or -1. */
static ptrdiff_t added_at(const tpe_tokenizer *t, int norm, const unsigned char *s, size_t len, size_t i)
{
    size_t k;
    if (!t->added_first[norm][s[i]]) return -1;
    for (k = 0; k < arrlenu(t->added); k++) { /* longest first */
        const added_token *a = &t->added[k];
        if (a->normalized == norm && a->len <= len - i && memcmp(s + i, a->content, a->len) == 0) return (ptrdiff_t)k;
    }
    return -1;
}

/* Split s on the added tokens of kind `norm` (leftmost-longest, as
 * tokenizers' AhoCorasick with MatchKind::LeftmostLongest); the pieces
 * between go to encode_piece (normalized kind) or are normalized and split
 * again (raw kind). *last_added: the last thing emitted was an added token. */
static int split_added(tpe_tokenizer *t, int norm, const unsigned char *s, size_t len, int *cont, int *last_added,
                       int32_t **out);

static int plain_raw_piece(tpe_tokenizer *t, const unsigned char *s, size_t len, int *cont, int *last_added,
                           int32_t **out)
{
    char *nfc = NULL;
    size_t nlen;
    int rc;
    if (!t->nfc || tpe_unicode_nfc_quick((const char *)s, len)) return split_added(t, 1, s, len, cont, last_added, out);
    if ((rc = tpe_unicode_nfc((const char *)s, len, &nfc, &nlen)) != TPE_OK) return rc;
    rc = nlen ? split_added(t, 1, (const unsigned char *)nfc, nlen, cont, last_added, out) : TPE_OK;
    free(nfc);
    return rc;
}

static int split_added(tpe_tokenizer *t, int norm, const unsigned char *s, size_t len, int *cont, int *last_added,
                       int32_t **out)
{
    size_t i = 0, start = 0;
    int rc;
    while (i < len) {
        ptrdiff_t k = added_at(t, norm, s, len, i);
        if (k < 0) {
            i++; /* tokens are valid UTF-8, so matches fall on character boundaries */
            continue;
        }
        if (i > start) {
            if (norm) {
                encode_piece(t, s + start, i - start, cont, out);
            } else if ((rc = plain_raw_piece(t, s + start, i - start, cont, last_added, out)) != TPE_OK) {
                return rc;
            }
        }
        arrput(*out, t->added[k].id);
        *cont = 0;
        *last_added = 1;
        i += t->added[k].len;
        start = i;
    }
    if (len > start) {
        *last_added = 0;
        if (norm) encode_piece(t, s + start, len - start, cont, out);
        else return plain_raw_piece(t, s + start, len - start, cont, last_added, out);
    }
    return TPE_OK;
}

static int utf8_error(const unsigned char *s, size_t len, size_t at, uint64_t base)
{
    char hex[16];
    size_t k, n = len - at < 4 ? len - at : 4, w = 0;
    for (k = 0; k < n; k++) w += (size_t)snprintf(hex + w, sizeof hex - w, "%s%02x", k ? " " : "", s[at + k]);
    return tpe_error(TPE_EINVAL, "invalid UTF-8 at byte offset %llu (bytes %s)", (unsigned long long)(base + at), hex);
}

/* encode s[0..len) appending to *out; base: offset of s in a stream (for
 * messages); *cont: s continues a piece of an earlier chunk. */
static int encode_impl(tpe_tokenizer *t, const unsigned char *s, size_t len, uint64_t base, int *cont, int *last_added,
                       int32_t **out)
{
    size_t bad = tpe_utf8_check(s, len);
    if (bad != len) return utf8_error(s, len, bad, base);
    if (!len) return TPE_OK;
    if (!arrlenu(t->added) && !t->nfc) { /* vocab.json + merges.txt, or a plain tokenizer.json */
        *last_added = 0;
        encode_piece(t, s, len, cont, out);
        return TPE_OK;
    }
    return split_added(t, 0, s, len, cont, last_added, out);
}

int tpe_tokenizer_encode(tpe_tokenizer *tok, const char *text, size_t len, int32_t **ids, size_t *n)
{
    int cont = 0, last_added = 0, rc;
    size_t count;
    int32_t *res;
    *ids = NULL;
    *n = 0;
    arrsetlen(tok->ids, 0); /* scratch that keeps its capacity between calls */
    rc = encode_impl(tok, (const unsigned char *)text, len, 0, &cont, &last_added, &tok->ids);
    if (rc) return rc;
    count = arrlenu(tok->ids);
    res = malloc(count ? count * sizeof *res : 1);
    if (!res) return tpe_error(TPE_ENOMEM, "out of memory (%zu token ids)", count);
    if (count) memcpy(res, tok->ids, count * sizeof *res);
    *ids = res;
    *n = count;
    return TPE_OK;
}

/* ---- streams ---------------------------------------------------------------- */
/* Class of the character ending just before s[i] (0 < i), or -1 when the
 * bytes there are not valid UTF-8. */
static int class_before(const unsigned char *s, size_t i)
{
    size_t k = i - 1, n;
    uint32_t cp;
    while (k > 0 && i - k < 4 && (s[k] & 0xC0) == 0x80) k--;
    n = tpe_utf8_decode(s + k, i - k, &cp);
    if (n != i - k) return -1;
    return tpe_unicode_class(cp);
}

/* The last place in s[from..len) where a stream may be cut: just before
 * a White_Space character that follows a non-space one. There the pattern
 * always ends a pre-token and starts a new one (the word before cannot take
 * the space, and no alternative looks behind), NFC never combines across
 * (gen_unicode_tables.py checks White_Space characters are stable
 * starters), and no added token crosses it (streams are refused for
 * tokenizers whose added tokens could). 0 when there is none. */
static size_t last_cut(const unsigned char *s, size_t len, size_t from)
{
    size_t i = len;
    if (from < 1) from = 1;
    while (i > from) {
        size_t n;
        uint32_t cp;
        int c;
        i--;
        if ((s[i] & 0xC0) == 0x80) continue;
        n = tpe_utf8_decode(s + i, len - i, &cp);
        if (!n || tpe_unicode_class(cp) != TPE_UC_SPACE) continue;
        c = class_before(s, i);
        if (c >= 0 && c != TPE_UC_SPACE) return i;
    }
    return 0;
}

int tpe_tokenizer_encode_stream(tpe_tokenizer *tok, FILE *f, const char *name, size_t chunk, tpe_token_sink sink,
                                void *ctx)
{
    const size_t limit = (size_t)64 << 20; /* no cut within 64 MiB: give up */
    unsigned char *buf = NULL;
    size_t have = 0, cap = 0, scanned = 0;
    uint64_t done = 0, lines = 0;
    int32_t *out = NULL;
    int cont = 0, last_added = 0, eof = 0, rc = TPE_OK;
    if (!chunk) chunk = (size_t)1 << 20;
    if (tok->stream_unsafe)
        return tpe_error(TPE_EUNSUPPORTED, "%s: added token '%s' holds a space after a non-space, so the text cannot be "
                         "cut into pieces safely", name, tok->stream_unsafe);
    while (!eof || have) {
        size_t cut, bad, k;
        if (!eof) {
            size_t got;
            if (cap - have < chunk) {
                unsigned char *nb = realloc(buf, have + chunk);
                if (!nb) {
                    rc = tpe_error(TPE_ENOMEM, "%s: out of memory (%zu bytes of text)", name, have + chunk);
                    break;
                }
                buf = nb;
                cap = have + chunk;
            }
            got = fread(buf + have, 1, chunk, f); /* short only at the end or on an error */
            have += got;
            if (got < chunk) {
                if (ferror(f)) {
                    rc = tpe_error(TPE_EIO, "%s: read error after %llu bytes", name, (unsigned long long)(done + have));
                    break;
                }
                eof = 1;
            }
        }
        cut = eof ? have : last_cut(buf, have, scanned);
        if (!cut) {
            if (have >= limit) {
                rc = tpe_error(TPE_EFORMAT, "%s: bytes %llu to %llu hold no space after a non-space, so there is no "
                               "place to cut the text (tpe gives up after %zu MiB)", name, (unsigned long long)done,
                               (unsigned long long)(done + have), limit >> 20);
                break;
            }
            scanned = have > 4 ? have - 4 : 0; /* a character cut off at the end may complete */
            continue;
        }
        scanned = 0;
        bad = tpe_utf8_check(buf, cut);
        if (bad != cut) {
            uint64_t line = lines + 1;
            for (k = 0; k < bad; k++) line += buf[k] == '\n';
            utf8_error(buf, cut, bad, done);
            rc = tpe_error_prefix(TPE_EINVAL, "%s: line %llu: ", name, (unsigned long long)line);
            break;
        }
        arrsetlen(out, 0);
        if ((rc = encode_impl(tok, buf, cut, done, &cont, &last_added, &out)) != TPE_OK) break;
        if (sink && (rc = sink(ctx, out, arrlenu(out), (const char *)buf, cut)) != 0) break;
        for (k = 0; k < cut; k++) lines += buf[k] == '\n';
        done += cut;
        memmove(buf, buf + cut, have - cut);
        have -= cut;
        cont = !last_added; /* the next chunk starts inside the piece this one ended in */
    }
    free(buf);
    arrfree(out);
    return rc;
}

/* ---- decode --------------------------------------------------------------------- */
int tpe_tokenizer_decode(const tpe_tokenizer *tok, const int32_t *ids, size_t n, char **text, size_t *len)
{
    size_t i, total = 0;
    char *res;
    *text = NULL;
    *len = 0;
    for (i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= tok->vocab_size || tok->tok_off[id] == NO_TOKEN)
            return tpe_error(TPE_EINVAL, "id %ld (position %zu) is not in the vocabulary (%zu ids)", (long)id, i,
                             tok->vocab_size);
        total += tok->dec_off[id + 1] - tok->dec_off[id];
    }
    res = malloc(total + 1);
    if (!res) return tpe_error(TPE_ENOMEM, "out of memory (%zu bytes of decoded text)", total);
    total = 0;
    for (i = 0; i < n; i++) {
        size_t a = tok->dec_off[ids[i]], b = tok->dec_off[ids[i] + 1];
        memcpy(res + total, tok->dec + a, b - a);
        total += b - a;
    }
    res[total] = '\0';
    *text = res;
    *len = total;
    return TPE_OK;
}

size_t tpe_tokenizer_vocab_size(const tpe_tokenizer *tok) { return tok->vocab_size; }

const char *tpe_tokenizer_token(const tpe_tokenizer *tok, int32_t id)
{
    if (id < 0 || (size_t)id >= tok->vocab_size || tok->tok_off[id] == NO_TOKEN) return NULL;
    return tok->strs + tok->tok_off[id];
}

int32_t tpe_tokenizer_id(const tpe_tokenizer *tok, const char *token)
{
    vocab_entry *v = tok->vocab; /* the macro assigns its table argument */
    ptrdiff_t k = shgeti(v, token);
    return k < 0 ? -1 : v[k].value;
}

const char *tpe_tokenizer_source(const tpe_tokenizer *tok) { return tok->source; }

void tpe_tokenizer_free(tpe_tokenizer *t)
{
    size_t k;
    if (!t) return;
    free(t->tok_off);
    free(t->dec_off);
    arrfree(t->strs);
    arrfree(t->dec);
    shfree(t->vocab);
    hmfree(t->merges);
    for (k = 0; k < arrlenu(t->added); k++) free(t->added[k].content);
    arrfree(t->added);
    shfree(t->cache);
    arrfree(t->cache_ids);
    arrfree(t->syms);
    arrfree(t->heap);
    arrfree(t->pending);
    arrfree(t->keybuf);
    arrfree(t->piece);
    arrfree(t->ids);
    free(t);
}

/* ---- loading ------------------------------------------------------------------------ */
/* A short, printable excerpt of a token or line for messages. */
static const char *excerpt(const char *s, size_t len, char *buf, size_t cap)
{
    size_t n = len < cap - 4 ? len : cap - 4, k;
    for (k = 0; k < n; k++) buf[k] = (unsigned char)s[k] < 0x20 ? '?' : s[k];
    if (n < len) {
        while (n > 0 && ((unsigned char)buf[n - 1] & 0xC0) == 0x80) n--; /* whole characters */
        if (n > 0 && (unsigned char)buf[n - 1] >= 0xC0) n--;
        memcpy(buf + n, "...", 4);
    } else {
        buf[n] = '\0';
    }
    return buf;
}

/* Give id `id` the token string s[0..len); where: for messages. */
static int set_token(tpe_tokenizer *t, const char *s, size_t len, int32_t id, const char *where)
{
    char e1[64], e2[64];
    size_t off = arrlenu(t->strs);
    if (t->tok_off[id] != NO_TOKEN)
        return tpe_error(TPE_EFORMAT, "%s: tokens '%s' and '%s' share id %ld", where,
                         excerpt(t->strs + t->tok_off[id], strlen(t->strs + t->tok_off[id]), e1, sizeof e1),
                         excerpt(s, len, e2, sizeof e2), (long)id);
    if (off > 0xFFFFFFF0u - len) return tpe_error(TPE_ENOMEM, "%s: token strings exceed 4 GiB", where);
    memcpy(arraddnptr(t->strs, len + 1), s, len);
    t->strs[off + len] = '\0';
    t->tok_off[id] = (uint32_t)off;
    return TPE_OK;
}

/* Check an object of token -> id and find the largest id. */
static int scan_vocab(const tpe_json *v, const char *where, size_t *max_id)
{
    size_t i;
    const char *dup;
    char e[64];
    *max_id = 0;
    if (!v || v->type != TPE_JSON_OBJECT) return tpe_error(TPE_EFORMAT, "%s: expected an object of token -> id", where);
    if (v->count == 0) return tpe_error(TPE_EFORMAT, "%s: the vocabulary is empty", where);
    if ((dup = tpe_json_duplicate_key(v)) != NULL)
        return tpe_error(TPE_EFORMAT, "%s: token '%s' appears twice", where, excerpt(dup, strlen(dup), e, sizeof e));
    for (i = 0; i < v->count; i++) {
        uint64_t id;
        if (v->key_lens[i] == 0) return tpe_error(TPE_EFORMAT, "%s: entry %zu: the empty string is not a token", where, i);
        if (strlen(v->keys[i]) != v->key_lens[i])
            return tpe_error(TPE_EFORMAT, "%s: entry %zu: token contains U+0000", where, i);
        if (tpe_json_u64(&v->items[i], &id) || id > MAX_ID)
            return tpe_error(TPE_EFORMAT, "%s: token '%s': the id must be an integer in [0, %d]", where,
                             excerpt(v->keys[i], v->key_lens[i], e, sizeof e), MAX_ID);
        if (id > *max_id) *max_id = (size_t)id;
    }
    return TPE_OK;
}

static int fill_vocab(tpe_tokenizer *t, const tpe_json *v, const char *where)
{
    size_t i;
    for (i = 0; i < v->count; i++) {
        uint64_t id;
        int rc;
        tpe_json_u64(&v->items[i], &id);
        if ((rc = set_token(t, v->keys[i], v->key_lens[i], (int32_t)id, where)) != TPE_OK) return rc;
        shput(t->vocab, v->keys[i], (int32_t)id);
    }
    return TPE_OK;
}

static int alloc_ids(tpe_tokenizer *t, size_t vocab_size)
{
    size_t i;
    t->vocab_size = vocab_size;
    t->tok_off = malloc(vocab_size * sizeof *t->tok_off);
    t->dec_off = malloc((vocab_size + 1) * sizeof *t->dec_off);
    if (!t->tok_off || !t->dec_off) return tpe_error(TPE_ENOMEM, "out of memory (%zu ids)", vocab_size);
    for (i = 0; i < vocab_size; i++) t->tok_off[i] = NO_TOKEN;
    return TPE_OK;
}

/* After every token is in: byte ids, decoded bytes. */
static int finish(tpe_tokenizer *t, const char *where)
{
    size_t id;
    unsigned b;
    for (b = 0; b < 256; b++) {
        unsigned char u[4];
        char key[5];
        size_t n = tpe_utf8_encode(byte_to_cp(b), u);
        ptrdiff_t k;
        memcpy(key, u, n);
        key[n] = '\0';
        k = shgeti(t->vocab, key);
        if (k < 0)
            return tpe_error(TPE_EFORMAT, "%s: byte 0x%02x (token '%s') is not in the vocabulary; byte-level BPE needs "
                             "all 256", where, b, key);
        t->byte_id[b] = t->vocab[k].value;
    }
    for (id = 0; id < t->vocab_size; id++) {
        const unsigned char *s;
        size_t len, i, n;
        int bytewise = 1;
        t->dec_off[id] = (uint32_t)arrlenu(t->dec);
        if (t->tok_off[id] == NO_TOKEN) continue;
        s = (const unsigned char *)t->strs + t->tok_off[id];
        len = strlen((const char *)s);
        for (i = 0; i < len; i += n) {
            uint32_t cp;
            n = tpe_utf8_decode(s + i, len - i, &cp);
            if (!n || cp_to_byte(t, cp) < 0) {
                bytewise = 0;
                break;
            }
        }
        if (!bytewise) {
            memcpy(arraddnptr(t->dec, len), s, len);
            continue;
        }
        for (i = 0; i < len; i += n) {
            uint32_t cp;
            n = tpe_utf8_decode(s + i, len - i, &cp);
            arrput(t->dec, (unsigned char)cp_to_byte(t, cp));
        }
    }
    t->dec_off[t->vocab_size] = (uint32_t)arrlenu(t->dec);
    return TPE_OK;
}

/* One merge "a b" at rank `rank`; where names the line or entry. */
static int add_merge(tpe_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen, int32_t rank,
                     const char *where)
{
    ptrdiff_t ka, kb, kc;
    merge_entry e;
    char ea[64], eb[64];
    arrsetlen(t->keybuf, alen + blen + 1);
    memcpy(t->keybuf, a, alen);
    t->keybuf[alen] = '\0';
    ka = shgeti(t->vocab, t->keybuf);
    memcpy(t->keybuf, b, blen);
    t->keybuf[blen] = '\0';
    kb = shgeti(t->vocab, t->keybuf);
    memcpy(t->keybuf, a, alen);
    memcpy(t->keybuf + alen, b, blen);
    t->keybuf[alen + blen] = '\0';
    kc = shgeti(t->vocab, t->keybuf);
    if (ka < 0 || kb < 0 || kc < 0) {
        const char *what = ka < 0 ? excerpt(a, alen, ea, sizeof ea)
                         : kb < 0 ? excerpt(b, blen, ea, sizeof ea)
                                  : excerpt(t->keybuf, alen + blen, ea, sizeof ea);
        return tpe_error(TPE_EFORMAT, "%s: merge '%s %s': '%s' is not in the vocabulary", where,
                         excerpt(a, alen, eb, 32), excerpt(b, blen, eb + 32, 32), what);
    }
    /* a pair listed twice keeps its later rank, as in encoder.py (a dict
     * built in order) and tokenizers (a map filled in order) */
    e.key = (uint64_t)(uint32_t)t->vocab[ka].value << 32 | (uint32_t)t->vocab[kb].value;
    e.value.rank = rank;
    e.value.id = t->vocab[kc].value;
    hmputs(t->merges, e);
    return TPE_OK;
}

static tpe_tokenizer *tok_new(void)
{
    tpe_tokenizer *t = calloc(1, sizeof *t);
    unsigned b;
    if (!t) {
        tpe_error(TPE_ENOMEM, "out of memory (tokenizer)");
        return NULL;
    }
    sh_new_arena(t->vocab);
    sh_new_arena(t->cache);
    for (b = 0; b < 324; b++) t->byte_of_cp[b] = -1;
    for (b = 0; b < 256; b++) t->byte_of_cp[byte_to_cp(b)] = (int16_t)b;
    return t;
}

/* ---- vocab.json + merges.txt (OpenAI's files) ---------------------------------- */
static int parse_merges_txt(tpe_tokenizer *t, const char *text, size_t len, const char *name)
{
    size_t i = 0, line = 0, bad = tpe_utf8_check((const unsigned char *)text, len);
    int32_t rank = 0;
    char where[600], e[64];
    if (bad != len)
        return tpe_error(TPE_EFORMAT, "%s: invalid UTF-8 at byte offset %zu (byte 0x%02x)", name, bad,
                         (unsigned char)text[bad]);
    while (i < len) {
        const char *s = text + i, *nl = memchr(s, '\n', len - i), *sp;
        size_t n = nl ? (size_t)(nl - s) : len - i;
        int rc;
        i += n + (nl ? 1 : 0);
        line++;
        if (n && s[n - 1] == '\r') n--;
        if (line == 1 && n >= 8 && memcmp(s, "#version", 8) == 0) {
            /* "#version: 0.2" (GPT-2's reads "#version: 0.2 - Trained by ...") */
            if (n < 13 || memcmp(s, "#version: 0.2", 13) != 0 || (n > 13 && s[13] != ' '))
                return tpe_error(TPE_EFORMAT, "%s: line 1: unsupported header '%s' (tpe reads '#version: 0.2')", name,
                                 excerpt(s, n, e, sizeof e));
            continue;
        }
        if (n == 0) {
            size_t k;
            for (k = i; k < len && (text[k] == '\n' || text[k] == '\r'); k++) {}
            if (k == len) break; /* blank lines at the end */
            return tpe_error(TPE_EFORMAT, "%s: line %zu: empty line among the merges", name, line);
        }
        sp = memchr(s, ' ', n);
        if (!sp || sp == s || sp == s + n - 1 || memchr(sp + 1, ' ', (size_t)(s + n - sp - 1)))
            return tpe_error(TPE_EFORMAT, "%s: line %zu: expected two tokens separated by one space, got '%s'", name, line,
                             excerpt(s, n, e, sizeof e));
        if (rank == INT32_MAX) return tpe_error(TPE_EFORMAT, "%s: too many merges", name);
        snprintf(where, sizeof where, "%s: line %zu", name, line);
        if ((rc = add_merge(t, s, (size_t)(sp - s), sp + 1, (size_t)(s + n - sp - 1), rank++, where)) != TPE_OK) return rc;
    }
    return TPE_OK;
}

/* vocab.json and merges.txt given as text; the names go into messages. */
static int load_openai_mem(tpe_tokenizer *t, const char *vtext, size_t vlen, const char *vocab_name, const char *mtext,
                           size_t mlen, const char *merges_name)
{
    size_t max_id;
    tpe_json_doc *doc = NULL;
    int rc;
    t->source = "vocab.json + merges.txt";
    if ((rc = tpe_json_parse(vtext, vlen, vocab_name, &doc)) != TPE_OK) return rc;
    if ((rc = scan_vocab(tpe_json_root(doc), vocab_name, &max_id)) != TPE_OK ||
        (rc = alloc_ids(t, max_id + 1)) != TPE_OK || (rc = fill_vocab(t, tpe_json_root(doc), vocab_name)) != TPE_OK) {
        tpe_json_free(doc);
        return rc;
    }
    tpe_json_free(doc);
    if ((rc = parse_merges_txt(t, mtext, mlen, merges_name)) != TPE_OK) return rc;
    return finish(t, vocab_name);
}

static int load_openai(tpe_tokenizer *t, const char *vocab_path, const char *merges_path)
{
    char *vtext = NULL, *mtext = NULL;
    size_t vlen, mlen;
    int rc;
    if ((rc = tpe_read_text(vocab_path, &vtext, &vlen)) != TPE_OK) return rc;
    if ((rc = tpe_read_text(merges_path, &mtext, &mlen)) != TPE_OK) {
        free(vtext);
        return rc;
    }
    rc = load_openai_mem(t, vtext, vlen, vocab_path, mtext, mlen, merges_path);
    free(vtext);
    free(mtext);
    return rc;
}

/* ---- tokenizer.json (Hugging Face tokenizers) ------------------------------------- */
static const char *json_type_name(const tpe_json *v)
{
    const tpe_json *ty = v && v->type == TPE_JSON_OBJECT ? tpe_json_get(v, "type") : NULL;
    return ty && ty->type == TPE_JSON_STRING ? ty->str : NULL;
}

static int is_null(const tpe_json *v) { return !v || v->type == TPE_JSON_NULL; }

/* false-or-absent / true */
static int json_flag(const tpe_json *obj, const char *key, int dflt, int *out, const char *where)
{
    const tpe_json *v = tpe_json_get(obj, key);
    if (is_null(v)) {
        *out = dflt;
        return TPE_OK;
    }
    if (v->type != TPE_JSON_TRUE && v->type != TPE_JSON_FALSE)
        return tpe_error(TPE_EFORMAT, "%s: '%s' must be true or false", where, key);
    *out = v->type == TPE_JSON_TRUE;
    return TPE_OK;
}

/* Refuse what would change the ids without tpe doing it. */
static int check_pipeline(tpe_tokenizer *t, const tpe_json *root, const char *name)
{
    const tpe_json *v;
    const char *ty;
    char where[600];
    int flag = 0, rc;
    /* normalizer: none or NFC */
    v = tpe_json_get(root, "normalizer");
    if (!is_null(v)) {
        ty = json_type_name(v);
        if (!ty || strcmp(ty, "NFC") != 0)
            return tpe_error(TPE_EUNSUPPORTED, "%s: normalizer '%s' is not supported (tpe applies none or NFC)", name,
                             ty ? ty : "?");
        t->nfc = 1;
    }
    /* pre_tokenizer: ByteLevel with the GPT-2 pattern */
    v = tpe_json_get(root, "pre_tokenizer");
    ty = json_type_name(v);
    if (!ty || strcmp(ty, "ByteLevel") != 0)
        return tpe_error(TPE_EUNSUPPORTED, "%s: pre_tokenizer '%s' is not supported (tpe reads ByteLevel)", name,
                         ty ? ty : is_null(v) ? "null" : "?");
    snprintf(where, sizeof where, "%s: pre_tokenizer", name);
    if ((rc = json_flag(v, "add_prefix_space", 1, &t->add_prefix_space, where)) != TPE_OK) return rc;
    if ((rc = json_flag(v, "use_regex", 1, &flag, where)) != TPE_OK) return rc;
    if (!flag) return tpe_error(TPE_EUNSUPPORTED, "%s: use_regex false is not supported (tpe splits with the GPT-2 pattern)", where);
    /* post_processor: ByteLevel only trims offsets; others add tokens */
    v = tpe_json_get(root, "post_processor");
    ty = json_type_name(v);
    if (!is_null(v) && (!ty || strcmp(ty, "ByteLevel") != 0))
        return tpe_error(TPE_EUNSUPPORTED, "%s: post_processor '%s' is not supported (it would add tokens; tpe "
                         "supports none or ByteLevel)", name, ty ? ty : "?");
    /* decoder: byte-level (or none: tpe always decodes bytewise) */
    v = tpe_json_get(root, "decoder");
    ty = json_type_name(v);
    if (!is_null(v) && (!ty || strcmp(ty, "ByteLevel") != 0))
        return tpe_error(TPE_EUNSUPPORTED, "%s: decoder '%s' is not supported (tpe decodes byte-level)", name,
                         ty ? ty : "?");
    return TPE_OK;
}

static int check_model(const tpe_json *m, const char *name)
{
    const tpe_json *v;
    const char *ty = json_type_name(m);
    int flag = 0, rc;
    char where[600];
    if (!m || m->type != TPE_JSON_OBJECT) return tpe_error(TPE_EFORMAT, "%s: no 'model' object", name);
    if (ty && strcmp(ty, "BPE") != 0)
        return tpe_error(TPE_EUNSUPPORTED, "%s: model type '%s' is not supported (tpe reads BPE)", name, ty);
    snprintf(where, sizeof where, "%s: model", name);
    v = tpe_json_get(m, "dropout");
    if (!is_null(v) && !(v->type == TPE_JSON_NUMBER && v->number == 0.0))
        return tpe_error(TPE_EUNSUPPORTED, "%s: dropout is not supported (it makes encoding random)", where);
    v = tpe_json_get(m, "continuing_subword_prefix");
    if (!is_null(v) && !(v->type == TPE_JSON_STRING && v->len == 0))
        return tpe_error(TPE_EUNSUPPORTED, "%s: continuing_subword_prefix is not supported", where);
    v = tpe_json_get(m, "end_of_word_suffix");
    if (!is_null(v) && !(v->type == TPE_JSON_STRING && v->len == 0))
        return tpe_error(TPE_EUNSUPPORTED, "%s: end_of_word_suffix is not supported", where);
    if ((rc = json_flag(m, "byte_fallback", 0, &flag, where)) != TPE_OK) return rc;
    if (flag) return tpe_error(TPE_EUNSUPPORTED, "%s: byte_fallback is not supported", where);
    if ((rc = json_flag(m, "ignore_merges", 0, &flag, where)) != TPE_OK) return rc;
    if (flag) return tpe_error(TPE_EUNSUPPORTED, "%s: ignore_merges is not supported", where);
    /* unk_token is never needed: finish() requires all 256 byte tokens */
    return TPE_OK;
}

static int load_merges_json(tpe_tokenizer *t, const tpe_json *ms, const char *name)
{
    size_t i;
    char where[600], e[64];
    if (!ms || ms->type != TPE_JSON_ARRAY) return tpe_error(TPE_EFORMAT, "%s: model.merges: expected an array", name);
    if (ms->count > INT32_MAX) return tpe_error(TPE_EFORMAT, "%s: too many merges", name);
    for (i = 0; i < ms->count; i++) {
        const tpe_json *it = &ms->items[i];
        const char *a, *b;
        size_t alen, blen;
        int rc;
        snprintf(where, sizeof where, "%s: model.merges[%zu]", name, i);
        if (it->type == TPE_JSON_STRING) { /* "a b" */
            const char *sp = memchr(it->str, ' ', it->len);
            if (!sp || sp == it->str || sp == it->str + it->len - 1 ||
                memchr(sp + 1, ' ', (size_t)(it->str + it->len - sp - 1)))
                return tpe_error(TPE_EFORMAT, "%s: expected two tokens separated by one space, got '%s'", where,
                                 excerpt(it->str, it->len, e, sizeof e));
            a = it->str;
            alen = (size_t)(sp - a);
            b = sp + 1;
            blen = (size_t)(it->str + it->len - b);
        } else if (it->type == TPE_JSON_ARRAY && it->count == 2 && it->items[0].type == TPE_JSON_STRING &&
                   it->items[1].type == TPE_JSON_STRING && it->items[0].len && it->items[1].len) { /* ["a", "b"] */
            a = it->items[0].str;
            alen = it->items[0].len;
            b = it->items[1].str;
            blen = it->items[1].len;
        } else {
            return tpe_error(TPE_EFORMAT, "%s: expected \"a b\" or [\"a\", \"b\"]", where);
        }
        if (memchr(a, 0, alen) || memchr(b, 0, blen)) return tpe_error(TPE_EFORMAT, "%s: token contains U+0000", where);
        if ((rc = add_merge(t, a, alen, b, blen, (int32_t)i, where)) != TPE_OK) return rc;
    }
    return TPE_OK;
}

static int cmp_added_len(const void *x, const void *y)
{
    const added_token *a = x, *b = y;
    return a->len < b->len ? 1 : a->len > b->len ? -1 : 0;
}

/* 1 when the token holds a White_Space character right after a non-space
 * one: a stream cut (before such a character) could fall inside a match. */
static int crosses_cut(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i, n;
    int prev = -1;
    for (i = 0; i < len; i += n) {
        int c = class_at(u, len, i, &n);
        if (c == TPE_UC_SPACE && prev >= 0 && prev != TPE_UC_SPACE) return 1;
        prev = c;
    }
    return 0;
}

/* added_tokens: [{"id", "content", "single_word", "lstrip", "rstrip",
 * "normalized", "special"}]. Both special and ordinary added tokens are cut
 * out of the text, as tokenizers does. */
static int load_added(tpe_tokenizer *t, const tpe_json *arr, const char *name, size_t *max_id)
{
    size_t i;
    char where[600], e[64];
    if (is_null(arr)) return TPE_OK;
    if (arr->type != TPE_JSON_ARRAY) return tpe_error(TPE_EFORMAT, "%s: added_tokens: expected an array", name);
    for (i = 0; i < arr->count; i++) {
        const tpe_json *o = &arr->items[i], *c, *idv;
        uint64_t id;
        int special = 0, flag = 0, rc;
        added_token a;
        snprintf(where, sizeof where, "%s: added_tokens[%zu]", name, i);
        if (o->type != TPE_JSON_OBJECT) return tpe_error(TPE_EFORMAT, "%s: expected an object", where);
        c = tpe_json_get(o, "content");
        idv = tpe_json_get(o, "id");
        if (!c || c->type != TPE_JSON_STRING || c->len == 0 || strlen(c->str) != c->len)
            return tpe_error(TPE_EFORMAT, "%s: 'content' must be a non-empty string without U+0000", where);
        if (!idv || tpe_json_u64(idv, &id) || id > MAX_ID)
            return tpe_error(TPE_EFORMAT, "%s ('%s'): 'id' must be an integer in [0, %d]", where,
                             excerpt(c->str, c->len, e, sizeof e), MAX_ID);
        if ((rc = json_flag(o, "special", 0, &special, where)) != TPE_OK) return rc;
        if ((rc = json_flag(o, "normalized", !special, &flag, where)) != TPE_OK) return rc;
        a.normalized = flag;
        {
            static const char *const unsupported[] = {"single_word", "lstrip", "rstrip"};
            size_t k;
            for (k = 0; k < 3; k++) {
                if ((rc = json_flag(o, unsupported[k], 0, &flag, where)) != TPE_OK) return rc;
                if (flag)
                    return tpe_error(TPE_EUNSUPPORTED, "%s ('%s'): %s is not supported", where,
                                     excerpt(c->str, c->len, e, sizeof e), unsupported[k]);
            }
        }
        a.content = tpe_strdup(c->str);
        if (!a.content) return TPE_ENOMEM;
        a.len = c->len;
        a.id = (int32_t)id;
        arrput(t->added, a);
        if (id > *max_id) *max_id = (size_t)id;
    }
    return TPE_OK;
}

/* After the vocabulary: give added tokens their ids, normalize the
 * normalized ones, build the first-byte filters. */
static int place_added(tpe_tokenizer *t, const char *name)
{
    size_t i;
    char where[600], e1[64], e2[64];
    for (i = 0; i < arrlenu(t->added); i++) {
        added_token *a = &t->added[i];
        ptrdiff_t k = shgeti(t->vocab, a->content);
        int rc;
        snprintf(where, sizeof where, "%s: added_tokens[%zu]", name, i);
        if (k >= 0) { /* also in the model's vocabulary: the ids must agree */
            if (t->vocab[k].value != a->id)
                return tpe_error(TPE_EFORMAT, "%s: '%s' has id %ld but the vocabulary gives it %ld", where,
                                 excerpt(a->content, a->len, e1, sizeof e1), (long)a->id, (long)t->vocab[k].value);
        } else {
            if (t->tok_off[a->id] != NO_TOKEN)
                return tpe_error(TPE_EFORMAT, "%s: '%s' has id %ld, which is the vocabulary's '%s'", where,
                                 excerpt(a->content, a->len, e1, sizeof e1), (long)a->id,
                                 excerpt(t->strs + t->tok_off[a->id], strlen(t->strs + t->tok_off[a->id]), e2, sizeof e2));
            if ((rc = set_token(t, a->content, a->len, a->id, where)) != TPE_OK) return rc;
            shput(t->vocab, a->content, a->id);
        }
        if (tpe_utf8_check((const unsigned char *)a->content, a->len) != a->len)
            return tpe_error(TPE_EFORMAT, "%s: content is not valid UTF-8", where);
        if (a->normalized && t->nfc) { /* matched in normalized text, so by its normal form */
            char *n;
            size_t nl;
            if ((rc = tpe_unicode_nfc(a->content, a->len, &n, &nl)) != TPE_OK) return rc;
            free(a->content);
            a->content = n;
            a->len = nl;
            if (!nl) return tpe_error(TPE_EFORMAT, "%s: content is empty after NFC", where);
        }
        if (!t->stream_unsafe && crosses_cut(a->content, a->len)) t->stream_unsafe = a->content;
    }
    if (arrlenu(t->added)) qsort(t->added, arrlenu(t->added), sizeof *t->added, cmp_added_len);
    for (i = 0; i < arrlenu(t->added); i++)
        t->added_first[t->added[i].normalized][(unsigned char)t->added[i].content[0]] = 1;
    return TPE_OK;
}

static int load_json_mem(tpe_tokenizer *t, const char *text, size_t len, const char *path)
{
    size_t max_vocab = 0, max_added = 0;
    tpe_json_doc *doc = NULL;
    const tpe_json *root, *model;
    char where[600];
    int rc;
    t->source = "tokenizer.json";
    if ((rc = tpe_json_parse(text, len, path, &doc)) != TPE_OK) return rc;
    root = tpe_json_root(doc);
    if (root->type != TPE_JSON_OBJECT) {
        rc = tpe_error(TPE_EFORMAT, "%s: expected a JSON object", path);
        goto done;
    }
    model = tpe_json_get(root, "model");
    snprintf(where, sizeof where, "%s: model.vocab", path);
    if ((rc = check_pipeline(t, root, path)) != TPE_OK || (rc = check_model(model, path)) != TPE_OK ||
        (rc = scan_vocab(tpe_json_get(model, "vocab"), where, &max_vocab)) != TPE_OK ||
        (rc = load_added(t, tpe_json_get(root, "added_tokens"), path, &max_added)) != TPE_OK ||
        (rc = alloc_ids(t, (max_vocab > max_added ? max_vocab : max_added) + 1)) != TPE_OK ||
        (rc = fill_vocab(t, tpe_json_get(model, "vocab"), where)) != TPE_OK ||
        (rc = load_merges_json(t, tpe_json_get(model, "merges"), path)) != TPE_OK ||
        (rc = place_added(t, path)) != TPE_OK)
        goto done;
    rc = finish(t, where);
done:
    tpe_json_free(doc);
    return rc;
}

static int load_json(tpe_tokenizer *t, const char *path)
{
    char *text = NULL;
    size_t len;
    int rc;
    if ((rc = tpe_read_text(path, &text, &len)) != TPE_OK) return rc;
    rc = load_json_mem(t, text, len, path);
    free(text);
    return rc;
}

int tpe_tokenizer_load_json_mem(const char *text, size_t len, const char *name, tpe_tokenizer **out)
{
    tpe_tokenizer *t = tok_new();
    int rc;
    *out = NULL;
    if (!t) return TPE_ENOMEM;
    rc = load_json_mem(t, text, len, name);
    if (rc == TPE_OK) *out = t;
    else tpe_tokenizer_free(t);
    return rc;
}

int tpe_tokenizer_load_gpt2_mem(const char *vocab, size_t vlen, const char *merges, size_t mlen, const char *name,
                                tpe_tokenizer **out)
{
    tpe_tokenizer *t = tok_new();
    char vname[512], mname[512];
    int rc;
    *out = NULL;
    if (!t) return TPE_ENOMEM;
    snprintf(vname, sizeof vname, "%s/vocab.json", name);
    snprintf(mname, sizeof mname, "%s/merges.txt", name);
    rc = load_openai_mem(t, vocab, vlen, vname, merges, mlen, mname);
    if (rc == TPE_OK) *out = t;
    else tpe_tokenizer_free(t);
    return rc;
}

int tpe_tokenizer_load(const char *dir, tpe_tokenizer **out)
{
    char *tj = tpe_path_join(dir, "tokenizer.json");
    char *vj = tpe_path_join(dir, "vocab.json");
    char *mt = tpe_path_join(dir, "merges.txt");
    tpe_tokenizer *t = NULL;
    int rc;
    *out = NULL;
    if (!tj || !vj || !mt) {
        rc = tpe_error(TPE_ENOMEM, "out of memory");
        goto done;
    }
    if (!tpe_is_dir(dir)) {
        rc = tpe_error(TPE_EIO, "%s: not a directory", dir);
        goto done;
    }
    if (!(t = tok_new())) {
        rc = TPE_ENOMEM;
        goto done;
    }
    if (tpe_is_file(tj)) {
        rc = load_json(t, tj);
    } else if (tpe_is_file(vj) && tpe_is_file(mt)) {
        rc = load_openai(t, vj, mt);
    } else if (tpe_is_file(vj)) {
        rc = tpe_error(TPE_EIO, "%s: missing (next to vocab.json, and there is no tokenizer.json)", mt);
    } else {
        rc = tpe_error(TPE_EIO, "%s: no tokenizer.json, and no vocab.json + merges.txt", dir);
    }
done:
    if (rc == TPE_OK) *out = t;
    else tpe_tokenizer_free(t);
    free(tj);
    free(vj);
    free(mt);
    return rc;
}
