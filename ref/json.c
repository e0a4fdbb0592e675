/*
 * json.c -- strict JSON parsing into an arena, and a streaming writer.
 */
#include "json.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 512

/* ---- arena ------------------------------------------------------------- */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    /* data follows, max-aligned */
} arena_block;

struct tpe_json_doc {
    arena_block *blocks;
    tpe_json root;
};

static void *arena_alloc(tpe_json_doc *d, size_t n)
{
    arena_block *b = d->blocks;
    size_t header = (sizeof(arena_block) + 15) / 16 * 16;
    n = (n + 15) / 16 * 16;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(header + cap);
        if (!b) return NULL;
        b->next = d->blocks;
        b->used = 0;
        b->cap = cap;
        d->blocks = b;
    }
    {
        void *p = (unsigned char *)b + header + b->used;
        b->used += n;
        return p;
    }
}

void tpe_json_free(tpe_json_doc *d)
{
    arena_block *b;
    if (!d) return;
    b = d->blocks;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(d);
}

const tpe_json *tpe_json_root(const tpe_json_doc *d) { return &d->root; }

/* ---- parser ------------------------------------------------------------ */
typedef struct parser {
    const char *s, *p, *end;
    const char *name;
    tpe_json_doc *doc;
    size_t line;
    const char *line_start;
} parser;

static int perr(parser *ps, const char *what)
{
    size_t col = (size_t)(ps->p - ps->line_start) + 1;
    return tpe_error(TPE_EFORMAT, "%s: invalid JSON at line %zu, column %zu: %s", ps->name, ps->line, col, what);
}

static int perr_oom(parser *ps)
{
    return tpe_error(TPE_ENOMEM, "%s: out of memory parsing JSON", ps->name);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == '\n') {
            ps->line++;
            ps->line_start = ps->p + 1;
        } else if (c != ' ' && c != '\t' && c != '\r') {
            break;
        }
        ps->p++;
    }
}

/* Length of a valid UTF-8 sequence starting at p (0 when invalid). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n, i;
    unsigned cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07; }
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

static int hex4(parser *ps, unsigned *out)
{
    unsigned v = 0;
    int i;
    if (ps->end - ps->p < 4) return perr(ps, "truncated \\u escape");
    for (i = 0; i < 4; i++) {
        char c = ps->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return perr(ps, "bad hex digit in \\u escape");
    }
    ps->p += 4;
    *out = v;
    return TPE_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parse a string starting at the opening quote. Decoded output is never
 * longer than the escaped input, so one allocation of that size suffices. */
static int parse_string(parser *ps, const char **out, size_t *outlen)
{
    const char *q;
    char *buf, *o;
    ps->p++; /* opening quote */
    /* find the closing quote to size the buffer */
    for (q = ps->p; q < ps->end && *q != '"'; q++)
        if (*q == '\\' && q + 1 < ps->end) q++;
    if (q >= ps->end) return perr(ps, "unterminated string");
    buf = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1);
    if (!buf) return perr_oom(ps);
    o = buf;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) return perr(ps, "control character in string");
        if (c == '\\') {
            char e;
            ps->p++;
            e = *ps->p++;
            switch (e) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '/': *o++ = '/'; break;
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (hex4(ps, &cp)) return TPE_EFORMAT;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
                        return perr(ps, "unpaired high surrogate in \\u escape");
                    ps->p += 2;
                    if (hex4(ps, &lo)) return TPE_EFORMAT;
                    if (lo < 0xdc00 || lo > 0xdfff) return perr(ps, "bad low surrogate in \\u escape");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return perr(ps, "unpaired low surrogate in \\u escape");
                }
                o += put_utf8(o, cp);
                break;
            }
            default:
                ps->p--;
                return perr(ps, "invalid escape in string");
            }
        } else if (c < 0x80) {
            *o++ = (char)c;
            ps->p++;
        } else {
            size_t n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)q);
            if (!n) return perr(ps, "invalid UTF-8 in string");
            memcpy(o, ps->p, n);
            o += n;
            ps->p += n;
        }
    }
    ps->p++; /* closing quote */
    *o = '\0';
    *out = buf;
    *outlen = (size_t)(o - buf);
    return TPE_OK;
}

static int parse_number(parser *ps, tpe_json *v)
{
    const char *start = ps->p;
    char tmp[64];
    int integer = 1;
    uint64_t mag = 0;
    int exact = 1;
    v->type = TPE_JSON_NUMBER;
    v->is_negative = 0;
    if (ps->p < ps->end && *ps->p == '-') { v->is_negative = 1; ps->p++; }
    if (ps->p >= ps->end) return perr(ps, "truncated number");
    if (*ps->p == '0') {
        ps->p++;
    } else if (*ps->p >= '1' && *ps->p <= '9') {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            unsigned d = (unsigned)(*ps->p - '0');
            if (mag > (UINT64_MAX - d) / 10) exact = 0;
            else mag = mag * 10 + d;
            ps->p++;
        }
    } else {
        return perr(ps, "invalid number");
    }
    if (ps->p < ps->end && *ps->p == '.') {
        integer = 0;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return perr(ps, "digit expected after '.'");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integer = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return perr(ps, "digit expected in exponent");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if ((size_t)(ps->p - start) >= sizeof tmp) {
        /* very long literal: strtod needs a NUL-terminated copy */
        size_t n = (size_t)(ps->p - start);
        char *big = malloc(n + 1);
        if (!big) return perr_oom(ps);
        memcpy(big, start, n);
        big[n] = '\0';
        v->number = strtod(big, NULL);
        free(big);
    } else {
        memcpy(tmp, start, (size_t)(ps->p - start));
        tmp[ps->p - start] = '\0';
        v->number = strtod(tmp, NULL);
    }
    v->is_integer = integer;
    v->magnitude = mag;
    v->magnitude_exact = integer && exact;
    return TPE_OK;
}

static int parse_value(parser *ps, tpe_json *v, int depth);

/* Items are collected in a growable temporary array, then copied into the
 * arena once their count is known. */
typedef struct collect {
    tpe_json *items;
    const char **keys;
    size_t *klens;
    size_t n, cap;
} collect;

static int collect_push(collect *c, int with_keys)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        tpe_json *ni = realloc(c->items, nc * sizeof *ni);
        if (!ni) return 1;
        c->items = ni;
        if (with_keys) {
            const char **nk = realloc((void *)c->keys, nc * sizeof *nk);
            size_t *nl;
            if (!nk) return 1;
            c->keys = nk;
            nl = realloc(c->klens, nc * sizeof *nl);
            if (!nl) return 1;
            c->klens = nl;
        }
        c->cap = nc;
    }
    c->n++;
    return 0;
}

static void collect_free(collect *c)
{
    free(c->items);
    free((void *)c->keys);
    free(c->klens);
}

static int collect_finish(parser *ps, collect *c, tpe_json *v, int with_keys)
{
    v->count = c->n;
    v->items = NULL;
    v->keys = NULL;
    v->key_lens = NULL;
    if (c->n) {
        v->items = arena_alloc(ps->doc, c->n * sizeof *v->items);
        if (!v->items) return perr_oom(ps);
        memcpy(v->items, c->items, c->n * sizeof *v->items);
        if (with_keys) {
            v->keys = arena_alloc(ps->doc, c->n * sizeof *v->keys);
            v->key_lens = arena_alloc(ps->doc, c->n * sizeof *v->key_lens);
            if (!v->keys || !v->key_lens) return perr_oom(ps);
            memcpy((void *)v->keys, c->keys, c->n * sizeof *v->keys);
            memcpy(v->key_lens, c->klens, c->n * sizeof *v->key_lens);
        }
    }
    return TPE_OK;
}

static int parse_container(parser *ps, tpe_json *v, int depth, int object)
{
    collect c;
    int rc = TPE_OK;
    char close = object ? '}' : ']';
    memset(&c, 0, sizeof c);
    v->type = object ? TPE_JSON_OBJECT : TPE_JSON_ARRAY;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return collect_finish(ps, &c, v, object);
    }
    for (;;) {
        skip_ws(ps);
        if (collect_push(&c, object)) { rc = perr_oom(ps); break; }
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') { rc = perr(ps, "object key (a string) expected"); break; }
            if ((rc = parse_string(ps, &c.keys[c.n - 1], &c.klens[c.n - 1])) != 0) break;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { rc = perr(ps, "':' expected after object key"); break; }
            ps->p++;
            skip_ws(ps);
        }
        if ((rc = parse_value(ps, &c.items[c.n - 1], depth + 1)) != 0) break;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
        rc = perr(ps, object ? "',' or '}' expected" : "',' or ']' expected");
        break;
    }
    if (!rc) rc = collect_finish(ps, &c, v, object);
    collect_free(&c);
    return rc;
}

static int parse_value(parser *ps, tpe_json *v, int depth)
{
    memset(v, 0, sizeof *v);
    skip_ws(ps);
    v->line = ps->line;
    v->col = (size_t)(ps->p - ps->line_start) + 1;
    if (depth > JSON_MAX_DEPTH) return perr(ps, "nesting deeper than 512 levels");
    if (ps->p >= ps->end) return perr(ps, "value expected, found end of input");
    switch (*ps->p) {
    case '{': return parse_container(ps, v, depth, 1);
    case '[': return parse_container(ps, v, depth, 0);
    case '"': v->type = TPE_JSON_STRING; return parse_string(ps, &v->str, &v->len);
    case 't':
        if (ps->end - ps->p >= 4 && memcmp(ps->p, "true", 4) == 0) { ps->p += 4; v->type = TPE_JSON_TRUE; return TPE_OK; }
        return perr(ps, "invalid literal");
    case 'f':
        if (ps->end - ps->p >= 5 && memcmp(ps->p, "false", 5) == 0) { ps->p += 5; v->type = TPE_JSON_FALSE; return TPE_OK; }
        return perr(ps, "invalid literal");
    case 'n':
        if (ps->end - ps->p >= 4 && memcmp(ps->p, "null", 4) == 0) { ps->p += 4; v->type = TPE_JSON_NULL; return TPE_OK; }
        return perr(ps, "invalid literal");
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
        return perr(ps, "unexpected character");
    }
}

int tpe_json_parse(const char *text, size_t len, const char *name, tpe_json_doc **out)
{
    parser ps;
    tpe_json_doc *d = calloc(1, sizeof *d);
    int rc;
    *out = NULL;
    if (!d) return tpe_error(TPE_ENOMEM, "%s: out of memory", name);
    ps.s = ps.p = text;
    ps.end = text + len;
    ps.name = name;
    ps.doc = d;
    ps.line = 1;
    ps.line_start = text;
    /* a UTF-8 byte order mark is tolerated */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) ps.p += 3;
    rc = parse_value(&ps, &d->root, 0);
    if (!rc) {
        skip_ws(&ps);
        if (ps.p != ps.end) rc = perr(&ps, "trailing characters after the JSON value");
    }
    if (rc) {
        tpe_json_free(d);
        return rc;
    }
    *out = d;
    return TPE_OK;
}

const tpe_json *tpe_json_get(const tpe_json *obj, const char *key)
{
    size_t i, kl;
    if (!obj || obj->type != TPE_JSON_OBJECT) return NULL;
    kl = strlen(key);
    for (i = 0; i < obj->count; i++)
        if (obj->key_lens[i] == kl && memcmp(obj->keys[i], key, kl) == 0) return &obj->items[i];
    return NULL;
}

int tpe_json_u64(const tpe_json *v, uint64_t *out)
{
    if (!v || v->type != TPE_JSON_NUMBER || !v->is_integer || !v->magnitude_exact) return 1;
    if (v->is_negative && v->magnitude != 0) return 1;
    *out = v->magnitude;
    return 0;
}

typedef struct keyref {
    const char *k;
    size_t n;
} keyref;

static int cmp_keyref(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->k, y->k, m);
    if (c) return c;
    return (x->n > y->n) - (x->n < y->n);
}

const char *tpe_json_duplicate_key(const tpe_json *obj)
{
    keyref *v;
    size_t i;
    const char *dup = NULL;
    if (!obj || obj->type != TPE_JSON_OBJECT || obj->count < 2) return NULL;
    v = malloc(obj->count * sizeof *v);
    if (!v) return NULL;
    for (i = 0; i < obj->count; i++) {
        v[i].k = obj->keys[i];
        v[i].n = obj->key_lens[i];
    }
    qsort(v, obj->count, sizeof *v, cmp_keyref);
    for (i = 1; i < obj->count && !dup; i++)
        if (cmp_keyref(&v[i - 1], &v[i]) == 0) dup = v[i].k;
    free(v);
    return dup;
}

/* ---- writer ------------------------------------------------------------ */
void tpe_format_double(char *buf, size_t cap, double v)
{
    int prec;
    if (!isfinite(v)) {
        snprintf(buf, cap, "null");
        return;
    }
    if (v == 0.0) {
        snprintf(buf, cap, signbit(v) ? "-0" : "0"); /* as whole numbers print */
        return;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    /* %g takes the exponent form when the decimal exponent X >= prec, so the
     * shortest digits of 10 read "1e+01": below 1e17 write such numbers out
     * in full (%.{X+1}g is plain notation and exact: more digits than the
     * shortest round-trip) */
    {
        const char *e = strchr(buf, 'e');
        if (e) {
            long x = strtol(e + 1, NULL, 10);
            if (x >= 0 && x < 17) snprintf(buf, cap, "%.*g", (int)x + 1, v);
        }
    }
}

void tpe_jw_init(tpe_jw *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->need_comma[0] = 0;
    w->after_key = 0;
}

static void jw_pre(tpe_jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->need_comma[w->depth]) fputs(", ", w->f);
    w->need_comma[w->depth] = 1;
}

static void jw_open(tpe_jw *w, char c)
{
    jw_pre(w);
    fputc(c, w->f);
    if (w->depth < 63) w->depth++;
    w->need_comma[w->depth] = 0;
}

static void jw_close(tpe_jw *w, char c)
{
    if (w->depth > 0) w->depth--;
    fputc(c, w->f);
}

void tpe_jw_object(tpe_jw *w) { jw_open(w, '{'); }
void tpe_jw_object_end(tpe_jw *w) { jw_close(w, '}'); }
void tpe_jw_array(tpe_jw *w) { jw_open(w, '['); }
void tpe_jw_array_end(tpe_jw *w) { jw_close(w, ']'); }

void tpe_jw_string_n(tpe_jw *w, const char *s, size_t n)
{
    size_t i;
    jw_pre(w);
    fputc('"', w->f);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", w->f); break;
        case '\\': fputs("\\\\", w->f); break;
        case '\n': fputs("\\n", w->f); break;
        case '\r': fputs("\\r", w->f); break;
        case '\t': fputs("\\t", w->f); break;
        default:
            if (c < 0x20) fprintf(w->f, "\\u%04x", c);
            else fputc(c, w->f);
        }
    }
    fputc('"', w->f);
}

void tpe_jw_string(tpe_jw *w, const char *s) { tpe_jw_string_n(w, s, strlen(s)); }

void tpe_jw_key(tpe_jw *w, const char *key)
{
    tpe_jw_string(w, key);
    fputs(": ", w->f);
    w->after_key = 1;
}

void tpe_jw_number(tpe_jw *w, double v)
{
    char buf[40];
    jw_pre(w);
    tpe_format_double(buf, sizeof buf, v);
    fputs(buf, w->f);
}

void tpe_jw_int(tpe_jw *w, long long v)
{
    jw_pre(w);
    fprintf(w->f, "%lld", v);
}

void tpe_jw_bool(tpe_jw *w, int v)
{
    jw_pre(w);
    fputs(v ? "true" : "false", w->f);
}

void tpe_jw_null(tpe_jw *w)
{
    jw_pre(w);
    fputs("null", w->f);
}

void tpe_jw_f64s(tpe_jw *w, const double *v, size_t n)
{
    size_t i;
    tpe_jw_array(w);
    for (i = 0; i < n; i++) tpe_jw_number(w, v[i]);
    tpe_jw_array_end(w);
}

void tpe_jw_ints(tpe_jw *w, const long long *v, size_t n)
{
    size_t i;
    tpe_jw_array(w);
    for (i = 0; i < n; i++) tpe_jw_int(w, v[i]);
    tpe_jw_array_end(w);
}

void tpe_jw_end(tpe_jw *w)
{
    fputc('\n', w->f);
    fflush(w->f);
}
