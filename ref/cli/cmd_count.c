/*
 * cmd_count.c -- `tpe count MODEL CORPUS --out freq.npy [--lines] [--json]`:
 * how often each token id occurs in a corpus tokenized with MODEL's
 * tokenizer (the frequencies of the paper's Section 5 / Fig. 7, which
 * `tpe dynamics` regresses on the output embedding).
 *
 * By default CORPUS is one text, tokenized exactly as `tpe tokenize` would
 * tokenize the whole file (newlines are tokens too), but streamed: it is
 * read 1 MiB at a time and cut only where no token can straddle the cut
 * (tpe_tokenizer_encode_stream), so memory stays constant whatever its
 * size. With --lines every non-empty line is one text, as `tpe probe`
 * reads its DATA: the line break (and a CR before it) is not part of it.
 *
 * freq.npy: <i8 (exact counts), shape (V,) with V = config.json's vocab_size
 * when MODEL has a config.json (the rows of the embedding matrices, which
 * may exceed the tokenizer's ids, as Pythia's 50304 > 50277), else the
 * tokenizer's largest id + 1.
 */
#include "array.h"
#include "cli.h"
#include "io.h"
#include "json.h"
#include "platform.h"
#include "tokenizer.h"
#include "tpe.h"
#include "unicode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct count_state {
    int64_t *counts; /* (V) */
    size_t vocab;
    uint64_t tokens, bytes, lines;
    int last; /* last byte seen */
    tpe_progress bar;
} count_state;

static void add_ids(count_state *st, const int32_t *ids, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) st->counts[ids[i]]++; /* ids < tokenizer vocab <= V */
    st->tokens += n;
}

/* the whole-text stream's sink */
static int add_piece(void *ctx, const int32_t *ids, size_t n, const char *text, size_t len)
{
    count_state *st = ctx;
    const char *p = text, *end = text + len;
    add_ids(st, ids, n);
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        st->lines++;
        p++;
    }
    st->bytes += len;
    if (len) st->last = (unsigned char)text[len - 1];
    tpe_progress_update(&st->bar, (double)st->bytes);
    return 0;
}

/* vocab_size from MODEL/config.json, 0 when there is no config.json. */
static int config_vocab(const char *dir, size_t *v)
{
    char *path = tpe_path_join(dir, "config.json"), *text;
    size_t len;
    tpe_json_doc *doc;
    const tpe_json *f;
    uint64_t x;
    int rc;
    *v = 0;
    if (!path) return TPE_ENOMEM;
    if (!tpe_is_file(path)) {
        free(path);
        return TPE_OK;
    }
    rc = tpe_read_text(path, &text, &len);
    if (!rc) {
        rc = tpe_json_parse(text, len, path, &doc);
        free(text);
    }
    if (!rc) {
        f = tpe_json_get(tpe_json_root(doc), "vocab_size");
        if (!f) rc = tpe_error(TPE_EFORMAT, "%s: no 'vocab_size'", path);
        else if (tpe_json_u64(f, &x) || x == 0 || x > 16777216)
            rc = tpe_error(TPE_EFORMAT, "%s: 'vocab_size' must be an integer in [1, 16777216]", path);
        else *v = (size_t)x;
        tpe_json_free(doc);
    }
    free(path);
    return rc;
}

/* --lines: every non-empty line (without "\n" or "\r\n") is one text. */
static int count_lines(tpe_tokenizer *tok, FILE *f, const char *name, count_state *st, uint64_t *lines, uint64_t *texts,
                       uint64_t *bytes)
{
    size_t cap = 1 << 16, have = 0, start;
    char *buf = malloc(cap);
    int eof = 0, rc = TPE_OK;
    uint64_t off = 0; /* file offset of buf[0] */
    *lines = *texts = 0;
    if (!buf) return tpe_error(TPE_ENOMEM, "out of memory");
    while (!eof || have) {
        char *nl;
        if (!eof) {
            size_t got;
            if (cap - have < 4096) {
                char *nb = realloc(buf, cap * 2);
                if (!nb) {
                    rc = tpe_error(TPE_ENOMEM, "%s: out of memory (a line of %zu bytes)", name, have);
                    break;
                }
                buf = nb;
                cap *= 2;
            }
            got = fread(buf + have, 1, cap - have, f);
            have += got;
            if (got == 0) {
                if (ferror(f)) {
                    rc = tpe_error(TPE_EIO, "%s: read error: %s", name, strerror(errno));
                    break;
                }
                eof = 1;
            }
        }
        start = 0;
        while (start < have && ((nl = memchr(buf + start, '\n', have - start)) != NULL || eof)) {
            size_t end = nl ? (size_t)(nl - buf) : have, n = end - start;
            int32_t *ids;
            size_t nids;
            (*lines)++;
            if (n && buf[start + n - 1] == '\r') n--;
            if (n) {
                size_t bad = tpe_utf8_check((const unsigned char *)buf + start, n);
                if (bad != n) { /* named by its offset in the file */
                    rc = tpe_error(TPE_EINVAL, "%s: line %llu: invalid UTF-8 at byte offset %llu (byte 0x%02x)", name,
                                   (unsigned long long)*lines, (unsigned long long)(off + start + bad),
                                   (unsigned char)buf[start + bad]);
                    free(buf);
                    return rc;
                }
                if ((rc = tpe_tokenizer_encode(tok, buf + start, n, &ids, &nids)) != TPE_OK) {
                    tpe_error_prefix(rc, "%s: line %llu: ", name, (unsigned long long)*lines);
                    free(buf);
                    return rc;
                }
                (*texts)++;
                add_ids(st, ids, nids);
                free(ids);
            }
            tpe_progress_update(&st->bar, (double)(off + end));
            start = nl ? end + 1 : have;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        off += start;
    }
    *bytes = off;
    free(buf);
    return rc;
}

int tpe_cmd_count(int argc, char **argv)
{
    int json = 0, lines_mode = 0, rc = TPE_OK;
    const char *out = NULL;
    const tpe_opt opts[] = {
        {"--out", TPE_OPT_STR, &out, "FREQ.npy", "where the counts go: <i8, shape (V,) (required)"},
        {"--lines", TPE_OPT_FLAG, &lines_mode, NULL, "each non-empty line is one text (as probe reads DATA)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "count", "MODEL CORPUS", "Count how often each token id occurs in CORPUS, tokenized with MODEL's tokenizer.",
        "CORPUS ('-' for stdin) is one UTF-8 text, tokenized as `tpe tokenize` would tokenize it whole,\n"
        "streamed in constant memory; with --lines each non-empty line is a text of its own.\n"
        "FREQ.npy holds <i8 counts of length V: config.json's vocab_size when MODEL has one, else the\n"
        "tokenizer's number of ids. JSON: tokens, lines, texts, bytes, vocab, distinct, seconds.",
        opts, TPE_NOPTS(opts), 2, 2};
    char *pos[2];
    size_t npos, cfg_v, i, distinct = 0;
    tpe_tokenizer *tok = NULL;
    count_state st;
    FILE *f = NULL;
    uint64_t lines = 0, texts = 0, bytes = 0;
    double t0, secs, total = 0;
    int is_stdin;
    rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) return rc < 0 ? 0 : rc;
    if (!out) return tpe_cli_usage(spec.cmd, "--out FREQ.npy is required");
    memset(&st, 0, sizeof st);
    if (tpe_tokenizer_load(pos[0], &tok) || config_vocab(pos[0], &cfg_v)) goto fail;
    st.vocab = tpe_tokenizer_vocab_size(tok);
    if (cfg_v) {
        if (cfg_v < st.vocab) {
            tpe_error(TPE_EFORMAT, "%s/config.json: vocab_size %zu is smaller than the tokenizer's %zu ids", pos[0],
                      cfg_v, st.vocab);
            goto fail;
        }
        st.vocab = cfg_v;
    }
    st.counts = tpe_calloc_array(st.vocab, sizeof *st.counts, "token counts");
    if (!st.counts) goto fail;
    is_stdin = strcmp(pos[1], "-") == 0;
    f = is_stdin ? stdin : fopen(pos[1], "rb");
    if (!f) {
        tpe_error(TPE_EIO, "%s: cannot open: %s", pos[1], strerror(errno));
        goto fail;
    }
    if (!is_stdin && fseek(f, 0, SEEK_END) == 0) { /* the size, for the progress bar only */
        long sz = ftell(f);
        if (sz > 0) total = (double)sz;
        if (fseek(f, 0, SEEK_SET) != 0) {
            tpe_error(TPE_EIO, "%s: cannot seek: %s", pos[1], strerror(errno));
            goto fail;
        }
    }
    t0 = tpe_now();
    tpe_progress_begin(&st.bar, "count", total);
    if (lines_mode) {
        rc = count_lines(tok, f, pos[1], &st, &lines, &texts, &bytes);
    } else {
        /* lines and bytes: counted here, as the stream goes by */
        st.last = '\n';
        rc = tpe_tokenizer_encode_stream(tok, f, pos[1], 0, add_piece, &st);
        lines = st.lines + (st.last != '\n'); /* a last line without a newline counts */
        bytes = st.bytes;
        texts = bytes ? 1 : 0;
    }
    tpe_progress_end(&st.bar);
    if (rc) goto fail;
    secs = tpe_now() - t0;
    for (i = 0; i < st.vocab; i++) distinct += st.counts[i] != 0;
    if (tpe_npy_write(out, TPE_I64, 1, &st.vocab, st.counts)) goto fail;
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "tokens");
        tpe_jw_int(&w, (long long)st.tokens);
        tpe_jw_key(&w, "lines");
        tpe_jw_int(&w, (long long)lines);
        tpe_jw_key(&w, "texts");
        tpe_jw_int(&w, (long long)texts);
        tpe_jw_key(&w, "bytes");
        tpe_jw_int(&w, (long long)bytes);
        tpe_jw_key(&w, "vocab");
        tpe_jw_int(&w, (long long)st.vocab);
        tpe_jw_key(&w, "distinct");
        tpe_jw_int(&w, (long long)distinct);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, secs);
        tpe_jw_key(&w, "out");
        tpe_jw_string(&w, out);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("%llu tokens (%zu distinct ids of %zu) in %llu lines, %llu bytes, %.2f s; wrote %s\n",
               (unsigned long long)st.tokens, distinct, st.vocab, (unsigned long long)lines, (unsigned long long)bytes,
               secs, out);
    }
    if (!is_stdin) fclose(f);
    tpe_free(st.counts);
    tpe_tokenizer_free(tok);
    return 0;
fail:
    if (f && f != stdin) fclose(f);
    tpe_free(st.counts);
    tpe_tokenizer_free(tok);
    return tpe_cli_fail(spec.cmd);
}
