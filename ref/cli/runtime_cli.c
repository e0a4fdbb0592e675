/*
 * runtime_cli.c -- helpers shared by the model commands.
 */
#include "runtime_cli.h"
#include "io.h"
#include "tokenizer.h"
#include "unicode.h"
#include "tpe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tpe_parse_ids(const char *s, const char *what, int32_t **ids, size_t *n)
{
    size_t cap = 0, k = 0, word = 0;
    int32_t *v = NULL;
    *ids = NULL;
    *n = 0;
    while (*s) {
        char *end;
        unsigned long long x;
        if (*s == ' ' || *s == '\t' || *s == ',' || *s == '\n' || *s == '\r') {
            s++;
            continue;
        }
        if (*s < '0' || *s > '9') {
            free(v);
            return tpe_error(TPE_EINVAL, "%s: word %zu ('%.20s') is not a token id", what, word, s);
        }
        errno = 0;
        x = strtoull(s, &end, 10);
        if (errno || x > 0x7fffffffULL || (*end && *end != ' ' && *end != '\t' && *end != ',' && *end != '\n' && *end != '\r')) {
            free(v);
            return tpe_error(TPE_EINVAL, "%s: word %zu ('%.20s') is not a token id", what, word, s);
        }
        if (k == cap) {
            size_t nc = cap ? 2 * cap : 64;
            int32_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                return tpe_error(TPE_ENOMEM, "out of memory reading %s", what);
            }
            v = nv;
            cap = nc;
        }
        v[k++] = (int32_t)x;
        word++;
        s = end;
    }
    *ids = v;
    *n = k;
    return TPE_OK;
}

int tpe_cli_load_model(const char *dir, tpe_model **m)
{
    tpe_model_options o;
    tpe_model_options_default(&o);
    return tpe_model_load(dir, &o, m);
}

int tpe_cli_precision(const char *s)
{
    if (strcmp(s, "f32") == 0) return 0;
    if (strcmp(s, "f64") == 0) return 1;
    return -1;
}

void tpe_samples_free(tpe_samples *s)
{
    free(s->ids);
    free(s->start);
    free(s->line);
    s->ids = NULL;
    s->start = s->line = NULL;
    s->nsamples = s->ntokens = 0;
}

static int samples_push(tpe_samples *s, size_t *cap_ids, size_t *cap_s, const int32_t *ids, size_t n, size_t line)
{
    if (s->ntokens + n > *cap_ids) {
        size_t nc = *cap_ids ? *cap_ids : 4096;
        int32_t *v;
        while (nc < s->ntokens + n) nc *= 2;
        v = realloc(s->ids, nc * sizeof *v);
        if (!v) return tpe_error(TPE_ENOMEM, "out of memory for %zu token ids", nc);
        s->ids = v;
        *cap_ids = nc;
    }
    if (s->nsamples + 2 > *cap_s) {
        size_t nc = *cap_s ? 2 * *cap_s : 256;
        size_t *a = realloc(s->start, nc * sizeof *a), *b;
        if (!a) return tpe_error(TPE_ENOMEM, "out of memory");
        s->start = a;
        b = realloc(s->line, nc * sizeof *b);
        if (!b) return tpe_error(TPE_ENOMEM, "out of memory");
        s->line = b;
        *cap_s = nc;
    }
    if (n) memcpy(s->ids + s->ntokens, ids, n * sizeof *ids);
    s->start[s->nsamples] = s->ntokens;
    s->line[s->nsamples] = line;
    s->nsamples++;
    s->ntokens += n;
    s->start[s->nsamples] = s->ntokens;
    return TPE_OK;
}

int tpe_samples_read(const char *path, int ids_file, const char *model_dir, tpe_samples *s)
{
    char *text = NULL;
    size_t len, at = 0, line = 0, cap_ids = 0, cap_s = 0;
    tpe_tokenizer *tok = NULL;
    int rc;
    memset(s, 0, sizeof *s);
    if ((rc = tpe_read_text(path, &text, &len))) return rc;
    if (!ids_file && (rc = tpe_tokenizer_load(model_dir, &tok))) {
        free(text);
        return tpe_error_prefix(rc, "text input needs the model's tokenizer (or use --ids-file): ");
    }
    while (at < len && !rc) {
        size_t end = at, n = 0, bad;
        char *ln;
        int32_t *ids = NULL;
        while (end < len && text[end] != '\n') end++;
        line++;
        ln = text + at;
        if (end > at && text[end - 1] == '\r') text[end - 1] = '\0', n = end - 1 - at;
        else n = end - at;
        text[end < len ? end : len] = '\0';
        at = end + 1;
        if (n == 0) continue;
        if (memchr(ln, '\0', n)) {
            rc = tpe_error(TPE_EFORMAT, "%s: line %zu: contains a NUL byte", path, line);
            break;
        }
        if (ids_file) {
            size_t k;
            char what[64];
            snprintf(what, sizeof what, "line %zu", line);
            if ((rc = tpe_parse_ids(ln, what, &ids, &k))) {
                rc = tpe_error_prefix(rc, "%s: ", path);
                break;
            }
            n = k;
        } else {
            if ((bad = tpe_utf8_check((const unsigned char *)ln, n)) != n) {
                rc = tpe_error(TPE_EFORMAT, "%s: line %zu: invalid UTF-8 at byte %zu", path, line, bad);
                break;
            }
            if ((rc = tpe_tokenizer_encode(tok, ln, n, &ids, &n))) {
                rc = tpe_error_prefix(rc, "%s: line %zu: ", path, line);
                break;
            }
        }
        if (n) rc = samples_push(s, &cap_ids, &cap_s, ids, n, line);
        free(ids);
    }
    tpe_tokenizer_free(tok);
    free(text);
    if (rc) tpe_samples_free(s);
    return rc;
}

void tpe_lines_free(tpe_lines *l)
{
    free(l->buf);
    free(l->text);
    free(l->len);
    free(l->lineno);
    memset(l, 0, sizeof *l);
}

int tpe_lines_read(const char *path, tpe_lines *l)
{
    size_t len, at = 0, line = 0, cap = 0;
    int rc;
    memset(l, 0, sizeof *l);
    if ((rc = tpe_read_text(path, &l->buf, &len))) return rc;
    while (at < len) {
        size_t end = at, n, bad;
        char *ln = l->buf + at;
        while (end < len && l->buf[end] != '\n') end++;
        line++;
        n = end - at;
        if (n && ln[n - 1] == '\r') n--;
        ln[n] = '\0';
        at = end + 1;
        if (n == 0) continue;
        if (memchr(ln, '\0', n)) {
            tpe_lines_free(l);
            return tpe_error(TPE_EFORMAT, "%s: line %zu: contains a NUL byte", path, line);
        }
        if ((bad = tpe_utf8_check((const unsigned char *)ln, n)) != n) {
            tpe_lines_free(l);
            return tpe_error(TPE_EFORMAT, "%s: line %zu: invalid UTF-8 at byte %zu", path, line, bad);
        }
        if (l->n == cap) {
            size_t nc = cap ? 2 * cap : 256;
            char **t = realloc(l->text, nc * sizeof *t);
            size_t *a = t ? realloc(l->len, nc * sizeof *a) : NULL, *b = a ? realloc(l->lineno, nc * sizeof *b) : NULL;
            if (t) l->text = t;
            if (a) l->len = a;
            if (b) l->lineno = b;
            if (!t || !a || !b) {
                tpe_lines_free(l);
                return tpe_error(TPE_ENOMEM, "out of memory reading %s", path);
            }
            cap = nc;
        }
        l->text[l->n] = ln;
        l->len[l->n] = n;
        l->lineno[l->n] = line;
        l->n++;
    }
    return TPE_OK;
}
