/*
 * shard.c -- part files of sharded runs (shard.h): fingerprints, writing,
 * reading with every field and size checked, same-run checks, the exact
 * merge, and the reassembly of the shards' hidden-state files.
 */
#include "shard.h"
#include "hiddencache.h"
#include "array.h"
#include "cpu.h"
#include "io.h"
#include "json.h"
#include "platform.h"
#include "tpe.h"
#include "unicode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LIMBS TPE_XSUM_LIMBS
/* a JSON header longer than this is not ours */
#define MAX_HEADER (16u << 20)

void tpe_part_init(tpe_part *p) { memset(p, 0, sizeof *p); }

void tpe_part_free(tpe_part *p)
{
    size_t i;
    for (i = 0; i < p->nfiles; i++) free(p->files[i].name);
    free(p->files);
    free(p->model_dir);
    free(p->data_path);
    free(p->hidden_path);
    free(p->hidden_tokens_path);
    tpe_xsum_free(&p->sums);
    memset(p, 0, sizeof *p);
}

int tpe_shard_parse(const char *s, uint64_t *i, uint64_t *n)
{
    const char *p = s;
    uint64_t v[2] = {0, 0};
    int k;
    for (k = 0; k < 2; k++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (v[k] > (UINT64_C(1) << 40)) return tpe_error(TPE_EINVAL, "--shard '%s': number too large", s);
            v[k] = v[k] * 10 + (uint64_t)(*p++ - '0');
            digits++;
        }
        if (!digits || (k == 0 && *p++ != '/') || (k == 1 && *p))
            return tpe_error(TPE_EINVAL, "--shard '%s': expected I/N, e.g. 0/4 (shards are numbered from 0)", s);
    }
    if (v[1] == 0) return tpe_error(TPE_EINVAL, "--shard '%s': N must be at least 1", s);
    if (v[0] >= v[1])
        return tpe_error(TPE_EINVAL, "--shard '%s': I must be below N (shards are numbered 0 .. %llu)", s,
                         (unsigned long long)(v[1] - 1));
    *i = v[0];
    *n = v[1];
    return TPE_OK;
}

void tpe_part_platform(char *buf, size_t cap)
{
    tpe_cpu_info ci;
    tpe_cpu_detect(&ci);
    snprintf(buf, cap, "%s/%s", ci.arch, tpe_kernels_get()->name);
}

/* ---- fingerprints ----------------------------------------------------------- */
static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int add_file(tpe_part *p, const char *name, const unsigned char *data, size_t n, tpe_progress *bar, double *done)
{
    tpe_part_file *f = realloc(p->files, (p->nfiles + 1) * sizeof *f);
    tpe_sha256 h;
    unsigned char d[32];
    size_t at;
    if (!f) return tpe_error(TPE_ENOMEM, "out of memory");
    p->files = f;
    f += p->nfiles;
    memset(f, 0, sizeof *f);
    if (!(f->name = tpe_strdup(name))) return TPE_ENOMEM;
    p->nfiles++;
    f->bytes = (uint64_t)n;
    tpe_sha256_init(&h);
    for (at = 0; at < n;) {
        size_t k = n - at < ((size_t)1 << 24) ? n - at : ((size_t)1 << 24);
        tpe_sha256_update(&h, data + at, k);
        at += k;
        *done += (double)k;
        tpe_progress_update(bar, *done);
    }
    tpe_sha256_final(&h, d);
    tpe_sha256_hex(d, f->sha256);
    return TPE_OK;
}

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const tpe_part_file *)a)->name, ((const tpe_part_file *)b)->name);
}

/* model sha256 = SHA-256 of "name\0bytes\0sha256\n" for each file by name */
static void model_digest(tpe_part *p)
{
    tpe_sha256 h;
    unsigned char d[32];
    size_t i;
    tpe_sha256_init(&h);
    for (i = 0; i < p->nfiles; i++) {
        char line[96];
        int n = snprintf(line, sizeof line, "%llu", (unsigned long long)p->files[i].bytes);
        tpe_sha256_update(&h, p->files[i].name, strlen(p->files[i].name) + 1);
        tpe_sha256_update(&h, line, (size_t)n + 1);
        tpe_sha256_update(&h, p->files[i].sha256, 64);
        tpe_sha256_update(&h, "\n", 1);
    }
    tpe_sha256_final(&h, d);
    tpe_sha256_hex(d, p->model_sha256);
}

int tpe_part_hash_model(tpe_part *p, const tpe_model *m)
{
    tpe_progress bar;
    double total = (double)m->config_len, done = 0.0;
    tpe_mapping idx;
    char *index_path = NULL;
    size_t i;
    int rc = TPE_OK, has_index = 0;
    memset(&idx, 0, sizeof idx);
    for (i = 0; i < m->st.nfiles; i++) total += (double)m->st.files[i].map.size;
    /* a checkpoint in shards was opened through its index */
    if (!(m->st.nfiles == 1 && strcmp(base_name(m->st.files[0].path), "model.safetensors") == 0)) {
        if (!(index_path = tpe_path_join(m->dir, "model.safetensors.index.json"))) return TPE_ENOMEM;
        rc = tpe_map_file(index_path, &idx);
        free(index_path);
        if (rc) return rc;
        has_index = 1;
    }
    tpe_progress_begin(&bar, "hashing the model", total);
    rc = add_file(p, "config.json", (const unsigned char *)m->config_text, m->config_len, &bar, &done);
    if (!rc && has_index) rc = add_file(p, "model.safetensors.index.json", idx.data, idx.size, &bar, &done);
    for (i = 0; !rc && i < m->st.nfiles; i++)
        rc = add_file(p, base_name(m->st.files[i].path), m->st.files[i].map.data, m->st.files[i].map.size, &bar, &done);
    tpe_progress_end(&bar);
    if (has_index) tpe_unmap_file(&idx);
    if (rc) return rc;
    qsort(p->files, p->nfiles, sizeof *p->files, cmp_files);
    model_digest(p);
    snprintf(p->model_type, sizeof p->model_type, "%s", m->cfg.model_type);
    p->vocab = m->cfg.n_vocab;
    p->width = m->cfg.d_out;
    free(p->model_dir);
    return (p->model_dir = tpe_strdup(m->dir)) ? TPE_OK : TPE_ENOMEM;
}

int tpe_part_hash_data(tpe_part *p, const char *data_path, const int32_t *ids, const size_t *start, size_t nsamples)
{
    tpe_mapping map;
    tpe_sha256 h;
    unsigned char d[32], buf[4096];
    size_t i, k;
    int rc;
    /* a pipe could not be read again for its digest */
    if (!tpe_is_file(data_path))
        return tpe_error(TPE_EINVAL, "%s: not a regular file: a sharded run hashes DATA into its fingerprint", data_path);
    if ((rc = tpe_map_file(data_path, &map))) return rc;
    tpe_sha256_hex_of(map.data, map.size, p->data_sha256);
    tpe_unmap_file(&map);
    tpe_sha256_init(&h);
    for (i = 0; i < nsamples; i++) {
        size_t n = start[i + 1] - start[i], b = 0;
        tpe_store_le64(buf, (uint64_t)n);
        tpe_sha256_update(&h, buf, 8);
        for (k = 0; k < n; k++) {
            tpe_store_le32(buf + b, (uint32_t)ids[start[i] + k]);
            if ((b += 4) == sizeof buf) {
                tpe_sha256_update(&h, buf, b);
                b = 0;
            }
        }
        tpe_sha256_update(&h, buf, b);
    }
    tpe_sha256_final(&h, d);
    tpe_sha256_hex(d, p->tokens_sha256);
    p->samples = (uint64_t)nsamples;
    p->tokens = nsamples ? (uint64_t)(start[nsamples] - start[0]) : 0;
    free(p->data_path);
    return (p->data_path = tpe_strdup(data_path)) ? TPE_OK : TPE_ENOMEM;
}

/* the canonical text of the run's identity, hashed into the fingerprint */
void tpe_part_seal(tpe_part *p)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "tpe-part %d\nkind %s\nmodel %s\nvocab %llu\nwidth %llu\ndata %s\ntokens %s\nsamples %llu\n"
                     "token_count %llu\nids_file %d\nmax_len %llu\nprecision %s\nshards %llu\n",
                     TPE_PART_VERSION, p->kind, p->model_sha256, (unsigned long long)p->vocab, (unsigned long long)p->width,
                     p->data_sha256, p->tokens_sha256, (unsigned long long)p->samples, (unsigned long long)p->tokens,
                     p->ids_file, (unsigned long long)p->max_len, p->precision, (unsigned long long)p->shards);
    tpe_sha256_hex_of(text, (size_t)n, p->fingerprint);
}

/* ---- writing ------------------------------------------------------------------ */
typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 1024;
        char *t;
        while (nc < b->len + n + 1) nc *= 2;
        if (!(t = realloc(b->s, nc))) {
            b->oom = 1;
            return;
        }
        b->s = t;
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

#define SB_LIT(b, s) sb_put((b), (s), sizeof(s) - 1)

static void sb_printf(sbuf *b, const char *fmt, ...) TPE_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        b->oom = 1;
        return;
    }
    sb_put(b, tmp, (size_t)n);
}

/* a JSON string; bytes that are not UTF-8 (a path may hold them) become U+FFFD */
static void sb_jstr(sbuf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)u), at = 0;
    SB_LIT(b, "\"");
    while (at < n) {
        size_t ok = tpe_utf8_check(u + at, n - at), i;
        for (i = 0; i < ok; i++) {
            unsigned char c = u[at + i];
            if (c == '"' || c == '\\') {
                char e[2];
                e[0] = '\\', e[1] = (char)c;
                sb_put(b, e, 2);
            } else if (c < 0x20) {
                sb_printf(b, "\\u%04x", c);
            } else {
                sb_put(b, (const char *)u + at + i, 1);
            }
        }
        at += ok;
        if (at < n) {
            SB_LIT(b, "\\ufffd");
            at++;
        }
    }
    SB_LIT(b, "\"");
}

static void sb_u64(sbuf *b, const char *key, uint64_t v) { sb_printf(b, "\"%s\": %llu", key, (unsigned long long)v); }

static int header_json(const tpe_part *p, sbuf *b)
{
    size_t i;
    sb_printf(b, "{\"format\": \"tpe-part\", \"version\": %d, \"kind\": ", TPE_PART_VERSION);
    sb_jstr(b, p->kind);
    sb_printf(b, ",\n \"fingerprint\": \"%s\",\n \"run\": {\"model\": {\"sha256\": \"%s\", \"model_type\": ", p->fingerprint,
              p->model_sha256);
    sb_jstr(b, p->model_type);
    SB_LIT(b, ", ");
    sb_u64(b, "vocab", p->vocab);
    SB_LIT(b, ", ");
    sb_u64(b, "width", p->width);
    SB_LIT(b, ", \"files\": [");
    for (i = 0; i < p->nfiles; i++) {
        sb_printf(b, "%s\n   {\"name\": ", i ? "," : "");
        sb_jstr(b, p->files[i].name);
        sb_printf(b, ", \"bytes\": %llu, \"sha256\": \"%s\"}", (unsigned long long)p->files[i].bytes, p->files[i].sha256);
    }
    sb_printf(b, "]},\n  \"data\": {\"sha256\": \"%s\", \"tokens_sha256\": \"%s\", ", p->data_sha256, p->tokens_sha256);
    sb_u64(b, "samples", p->samples);
    SB_LIT(b, ", ");
    sb_u64(b, "tokens", p->tokens);
    sb_printf(b, ", \"ids_file\": %s},\n  ", p->ids_file ? "true" : "false");
    sb_u64(b, "max_len", p->max_len);
    sb_printf(b, ", \"precision\": ");
    sb_jstr(b, p->precision);
    SB_LIT(b, ", ");
    sb_u64(b, "shards", p->shards);
    sb_printf(b, ", \"platform\": ");
    sb_jstr(b, p->platform);
    SB_LIT(b, "},\n ");
    sb_u64(b, "shard", p->shard);
    SB_LIT(b, ",\n \"local\": {");
    sb_u64(b, "samples", p->local_samples);
    SB_LIT(b, ", ");
    sb_u64(b, "tokens", p->local_tokens);
    SB_LIT(b, ", ");
    sb_u64(b, "windows", p->local_windows);
    SB_LIT(b, "},\n \"hidden\": ");
    if (p->has_hidden) {
        SB_LIT(b, "{\"path\": ");
        sb_jstr(b, p->hidden_path);
        SB_LIT(b, ", ");
        sb_u64(b, "rows", p->hidden_rows);
        sb_printf(b, ", \"dtype\": \"%s\", \"sha256\": \"%s\",\n  \"tokens_path\": ", strcmp(p->precision, "f64") ? "<f4" : "<f8",
                  p->hidden_sha256);
        sb_jstr(b, p->hidden_tokens_path);
        sb_printf(b, ", \"tokens_sha256\": \"%s\"}", p->hidden_tokens_sha256);
    } else {
        SB_LIT(b, "null");
    }
    SB_LIT(b, ",\n \"info\": {\"model_dir\": ");
    sb_jstr(b, p->model_dir);
    SB_LIT(b, ", \"data_path\": ");
    sb_jstr(b, p->data_path);
    SB_LIT(b, "},\n \"sums\": {");
    sb_u64(b, "count", p->sums.n);
    sb_printf(b, ", \"limbs\": %d, \"limb_bytes\": 8, \"lsb_exponent\": %d, ", LIMBS, TPE_XSUM_LSB_EXP);
    sb_u64(b, "positions", p->positions);
    SB_LIT(b, "}}");
    /* pad with spaces to a multiple of 8 (counting the 16 leading bytes), end in '\n' */
    while ((16 + b->len + 1) % 8) SB_LIT(b, " ");
    SB_LIT(b, "\n");
    return b->oom ? tpe_error(TPE_ENOMEM, "out of memory writing a part header") : TPE_OK;
}

/* write n bytes to f and add them to h */
static void put_hashed(FILE *f, tpe_sha256 *h, const void *data, size_t n)
{
    fwrite(data, 1, n, f);
    tpe_sha256_update(h, data, n);
}

void tpe_fwrite_le_hashed(FILE *f, tpe_sha256 *h, const void *data, size_t count, size_t size)
{
    unsigned char tmp[4096];
    size_t per, done = 0;
    if (count == 0) return;
    if (tpe_host_little_endian() || size < 2 || size > sizeof tmp) {
        put_hashed(f, h, data, count * size);
        return;
    }
    per = sizeof tmp / size;
    while (done < count) {
        size_t m = count - done < per ? count - done : per;
        memcpy(tmp, (const unsigned char *)data + done * size, m * size);
        tpe_bswap_inplace(tmp, m, size);
        put_hashed(f, h, tmp, m * size);
        done += m;
    }
}

int tpe_part_write(const char *path, const tpe_part *p)
{
    sbuf b = {NULL, 0, 0, 0};
    unsigned char fixed[16], d[32];
    tpe_sha256 h;
    tpe_outfile o;
    int rc;
    if (p->sums.n != p->vocab) return tpe_error(TPE_EINVAL, "%s: %zu sums for a vocabulary of %llu", path, p->sums.n,
                                                (unsigned long long)p->vocab);
    if ((rc = header_json(p, &b))) {
        free(b.s);
        return rc;
    }
    if (b.len > MAX_HEADER) {
        free(b.s);
        return tpe_error(TPE_EINVAL, "%s: part header of %zu bytes is too long", path, b.len);
    }
    if ((rc = tpe_out_open(&o, path))) {
        free(b.s);
        return rc;
    }
    memcpy(fixed, TPE_PART_MAGIC, 8);
    tpe_store_le32(fixed + 8, TPE_PART_VERSION);
    tpe_store_le32(fixed + 12, (uint32_t)b.len);
    tpe_sha256_init(&h);
    put_hashed(o.f, &h, fixed, sizeof fixed);
    put_hashed(o.f, &h, b.s, b.len);
    tpe_fwrite_le_hashed(o.f, &h, p->sums.limb, p->sums.n * LIMBS, sizeof *p->sums.limb);
    tpe_sha256_final(&h, d);
    fwrite(d, 1, sizeof d, o.f);
    free(b.s);
    return tpe_out_commit(&o);
}

/* ---- reading ------------------------------------------------------------------ */
typedef struct reader {
    const char *path;
    const tpe_json *root;
} reader;

static const tpe_json *field(const reader *r, const tpe_json *obj, const char *key, tpe_json_type t, const char *where, int *rc)
{
    const tpe_json *v = tpe_json_get(obj, key);
    static const char *const names[] = {"null", "false", "true", "a number", "a string", "an array", "an object"};
    if (*rc) return NULL;
    if (!v || (v->type != t && !(t == TPE_JSON_TRUE && v->type == TPE_JSON_FALSE))) {
        *rc = tpe_error(TPE_EFORMAT, "%s: part header: %s\"%s\" %s (expected %s)", r->path, where, key,
                        v ? "has the wrong type" : "is missing", t == TPE_JSON_TRUE ? "true or false" : names[t]);
        return NULL;
    }
    return v;
}

static uint64_t get_u64(const reader *r, const tpe_json *obj, const char *key, const char *where, int *rc)
{
    const tpe_json *v = field(r, obj, key, TPE_JSON_NUMBER, where, rc);
    uint64_t x = 0;
    if (v && tpe_json_u64(v, &x)) *rc = tpe_error(TPE_EFORMAT, "%s: part header: %s\"%s\" is not a non-negative integer", r->path, where, key);
    return x;
}

static void get_str(const reader *r, const tpe_json *obj, const char *key, const char *where, char *buf, size_t cap, int *rc)
{
    const tpe_json *v = field(r, obj, key, TPE_JSON_STRING, where, rc);
    if (!v) return;
    if (v->len >= cap || memchr(v->str, '\0', v->len)) {
        *rc = tpe_error(TPE_EFORMAT, "%s: part header: %s\"%s\" is too long", r->path, where, key);
        return;
    }
    memcpy(buf, v->str, v->len + 1);
}

static char *get_dup(const reader *r, const tpe_json *obj, const char *key, const char *where, int *rc)
{
    const tpe_json *v = field(r, obj, key, TPE_JSON_STRING, where, rc);
    char *s;
    if (!v) return NULL;
    if (memchr(v->str, '\0', v->len)) {
        *rc = tpe_error(TPE_EFORMAT, "%s: part header: %s\"%s\" holds a NUL", r->path, where, key);
        return NULL;
    }
    if (!(s = tpe_strdup(v->str))) *rc = TPE_ENOMEM;
    return s;
}

static void get_sha(const reader *r, const tpe_json *obj, const char *key, const char *where, char hex[65], int *rc)
{
    size_t i;
    get_str(r, obj, key, where, hex, 65, rc);
    if (*rc) return;
    for (i = 0; hex[i]; i++)
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) break;
    if (i != 64 || hex[i]) *rc = tpe_error(TPE_EFORMAT, "%s: part header: %s\"%s\" is not 64 hex digits", r->path, where, key);
}

static int parse_header(const reader *r, tpe_part *p, uint64_t *count)
{
    const tpe_json *root = r->root, *run, *model, *files, *data, *local, *hidden, *info, *sums, *v;
    uint64_t version, limbs, limb_bytes;
    int rc = TPE_OK, ids;
    size_t i;
    if (root->type != TPE_JSON_OBJECT) return tpe_error(TPE_EFORMAT, "%s: part header is not a JSON object", r->path);
    v = field(r, root, "format", TPE_JSON_STRING, "", &rc);
    if (v && strcmp(v->str, "tpe-part") != 0) return tpe_error(TPE_EFORMAT, "%s: part header: format is not \"tpe-part\"", r->path);
    version = get_u64(r, root, "version", "", &rc);
    if (!rc && version != TPE_PART_VERSION)
        return tpe_error(TPE_EFORMAT, "%s: part header says version %llu, the file says %d", r->path, (unsigned long long)version,
                         TPE_PART_VERSION);
    get_str(r, root, "kind", "", p->kind, sizeof p->kind, &rc);
    get_sha(r, root, "fingerprint", "", p->fingerprint, &rc);
    run = field(r, root, "run", TPE_JSON_OBJECT, "", &rc);
    model = field(r, run, "model", TPE_JSON_OBJECT, "run.", &rc);
    get_sha(r, model, "sha256", "run.model.", p->model_sha256, &rc);
    get_str(r, model, "model_type", "run.model.", p->model_type, sizeof p->model_type, &rc);
    p->vocab = get_u64(r, model, "vocab", "run.model.", &rc);
    p->width = get_u64(r, model, "width", "run.model.", &rc);
    files = field(r, model, "files", TPE_JSON_ARRAY, "run.model.", &rc);
    if (rc) return rc;
    if (files->count) {
        p->files = calloc(files->count, sizeof *p->files);
        if (!p->files) return tpe_error(TPE_ENOMEM, "out of memory");
    }
    for (i = 0; i < files->count && !rc; i++) {
        const tpe_json *f = &files->items[i];
        if (f->type != TPE_JSON_OBJECT) return tpe_error(TPE_EFORMAT, "%s: part header: run.model.files[%zu] is not an object", r->path, i);
        p->nfiles++;
        p->files[i].name = get_dup(r, f, "name", "run.model.files[]: ", &rc);
        p->files[i].bytes = get_u64(r, f, "bytes", "run.model.files[]: ", &rc);
        get_sha(r, f, "sha256", "run.model.files[]: ", p->files[i].sha256, &rc);
    }
    data = field(r, run, "data", TPE_JSON_OBJECT, "run.", &rc);
    get_sha(r, data, "sha256", "run.data.", p->data_sha256, &rc);
    get_sha(r, data, "tokens_sha256", "run.data.", p->tokens_sha256, &rc);
    p->samples = get_u64(r, data, "samples", "run.data.", &rc);
    p->tokens = get_u64(r, data, "tokens", "run.data.", &rc);
    v = field(r, data, "ids_file", TPE_JSON_TRUE, "run.data.", &rc);
    ids = v && v->type == TPE_JSON_TRUE;
    p->ids_file = ids;
    p->max_len = get_u64(r, run, "max_len", "run.", &rc);
    get_str(r, run, "precision", "run.", p->precision, sizeof p->precision, &rc);
    p->shards = get_u64(r, run, "shards", "run.", &rc);
    get_str(r, run, "platform", "run.", p->platform, sizeof p->platform, &rc);
    p->shard = get_u64(r, root, "shard", "", &rc);
    local = field(r, root, "local", TPE_JSON_OBJECT, "", &rc);
    p->local_samples = get_u64(r, local, "samples", "local.", &rc);
    p->local_tokens = get_u64(r, local, "tokens", "local.", &rc);
    p->local_windows = get_u64(r, local, "windows", "local.", &rc);
    if (rc) return rc;
    hidden = tpe_json_get(root, "hidden");
    if (!hidden) return tpe_error(TPE_EFORMAT, "%s: part header: \"hidden\" is missing (expected null or an object)", r->path);
    if (hidden->type == TPE_JSON_OBJECT) {
        char dtype[4];
        p->has_hidden = 1;
        p->hidden_path = get_dup(r, hidden, "path", "hidden.", &rc);
        p->hidden_tokens_path = get_dup(r, hidden, "tokens_path", "hidden.", &rc);
        p->hidden_rows = get_u64(r, hidden, "rows", "hidden.", &rc);
        get_str(r, hidden, "dtype", "hidden.", dtype, sizeof dtype, &rc);
        get_sha(r, hidden, "sha256", "hidden.", p->hidden_sha256, &rc);
        get_sha(r, hidden, "tokens_sha256", "hidden.", p->hidden_tokens_sha256, &rc);
        if (!rc && strcmp(dtype, strcmp(p->precision, "f64") ? "<f4" : "<f8") != 0)
            rc = tpe_error(TPE_EFORMAT, "%s: part header: hidden.dtype \"%s\" does not match precision %s", r->path, dtype, p->precision);
    } else if (hidden->type != TPE_JSON_NULL) {
        return tpe_error(TPE_EFORMAT, "%s: part header: \"hidden\" has the wrong type (expected null or an object)", r->path);
    }
    info = tpe_json_get(root, "info");
    if (info && info->type == TPE_JSON_OBJECT) {
        const tpe_json *s = tpe_json_get(info, "model_dir");
        if (s && s->type == TPE_JSON_STRING && !(p->model_dir = tpe_strdup(s->str))) rc = TPE_ENOMEM;
        s = tpe_json_get(info, "data_path");
        if (!rc && s && s->type == TPE_JSON_STRING && !(p->data_path = tpe_strdup(s->str))) rc = TPE_ENOMEM;
    }
    sums = field(r, root, "sums", TPE_JSON_OBJECT, "", &rc);
    *count = get_u64(r, sums, "count", "sums.", &rc);
    limbs = get_u64(r, sums, "limbs", "sums.", &rc);
    limb_bytes = get_u64(r, sums, "limb_bytes", "sums.", &rc);
    v = field(r, sums, "lsb_exponent", TPE_JSON_NUMBER, "sums.", &rc);
    p->positions = get_u64(r, sums, "positions", "sums.", &rc);
    if (rc) return rc;
    /* the values the rest of the file is read with */
    if (limbs != LIMBS || limb_bytes != 8 || !v->is_integer || v->number != (double)TPE_XSUM_LSB_EXP)
        return tpe_error(TPE_EFORMAT, "%s: part header: sums are not %d limbs of 8 bytes from 2^%d", r->path, LIMBS, TPE_XSUM_LSB_EXP);
    if (*count != p->vocab)
        return tpe_error(TPE_EFORMAT, "%s: part header: %llu sums for a vocabulary of %llu", r->path, (unsigned long long)*count,
                         (unsigned long long)p->vocab);
    if (p->vocab == 0 || p->width == 0) return tpe_error(TPE_EFORMAT, "%s: part header: empty vocabulary or width", r->path);
    if (strcmp(p->precision, "f32") != 0 && strcmp(p->precision, "f64") != 0)
        return tpe_error(TPE_EFORMAT, "%s: part header: precision \"%s\" (expected f32 or f64)", r->path, p->precision);
    if (p->shards == 0 || p->shard >= p->shards)
        return tpe_error(TPE_EFORMAT, "%s: part header: shard %llu of %llu", r->path, (unsigned long long)p->shard,
                         (unsigned long long)p->shards);
    if (p->positions != p->local_tokens || p->local_tokens > p->tokens || p->local_samples > p->samples ||
        (p->has_hidden && p->hidden_rows != p->local_tokens))
        return tpe_error(TPE_EFORMAT, "%s: part header: inconsistent counts (%llu positions, %llu tokens of %llu, %llu samples of %llu)",
                         r->path, (unsigned long long)p->positions, (unsigned long long)p->local_tokens, (unsigned long long)p->tokens,
                         (unsigned long long)p->local_samples, (unsigned long long)p->samples);
    return TPE_OK;
}

int tpe_part_read(const char *path, tpe_part *p, int with_sums)
{
    tpe_mapping map;
    tpe_json_doc *doc = NULL;
    reader r;
    unsigned char d[32];
    uint32_t version, hl;
    uint64_t count = 0, payload, expect;
    int rc;
    tpe_part_init(p);
    if ((rc = tpe_map_file(path, &map))) return rc;
    if (map.size < 16 || memcmp(map.data, TPE_PART_MAGIC, 8) != 0) {
        rc = tpe_error(TPE_EFORMAT, "%s: not a tpe part file (%s)", path, map.size < 16 ? "shorter than 16 bytes" : "bad magic");
        goto done;
    }
    version = tpe_load_le32(map.data + 8);
    hl = tpe_load_le32(map.data + 12);
    if (version != TPE_PART_VERSION) {
        rc = tpe_error(TPE_EFORMAT, "%s: part format version %lu; this tpe reads version %d", path, (unsigned long)version,
                       TPE_PART_VERSION);
        goto done;
    }
    if (hl > MAX_HEADER || (uint64_t)hl + 16 + 32 > (uint64_t)map.size) {
        rc = tpe_error(TPE_EFORMAT, "%s: truncated: %zu bytes cannot hold a header of %lu bytes", path, map.size, (unsigned long)hl);
        goto done;
    }
    if ((rc = tpe_json_parse((const char *)map.data + 16, hl, path, &doc))) {
        rc = tpe_error_prefix(rc, "%s: part header: ", path);
        goto done;
    }
    r.path = path;
    r.root = tpe_json_root(doc);
    if ((rc = parse_header(&r, p, &count))) goto done;
    /* V accumulators of LIMBS u64 and the checksum: the exact size (no overflow: V < 2^64 / 144 checked) */
    if (count > (UINT64_MAX - 1024 - MAX_HEADER) / (LIMBS * 8)) {
        rc = tpe_error(TPE_EFORMAT, "%s: part header: %llu sums", path, (unsigned long long)count);
        goto done;
    }
    payload = count * LIMBS * 8;
    expect = 16 + (uint64_t)hl + payload + 32;
    if ((uint64_t)map.size != expect) {
        rc = tpe_error(TPE_EFORMAT, "%s: %s: %zu bytes, expected %llu for %llu sums", path,
                       (uint64_t)map.size < expect ? "truncated" : "trailing bytes", map.size, (unsigned long long)expect,
                       (unsigned long long)count);
        goto done;
    }
    {
        tpe_sha256 h;
        tpe_sha256_init(&h);
        tpe_sha256_update(&h, map.data, map.size - 32);
        tpe_sha256_final(&h, d);
    }
    if (memcmp(d, map.data + map.size - 32, 32) != 0) {
        rc = tpe_error(TPE_EFORMAT, "%s: checksum mismatch: the file is corrupt", path);
        goto done;
    }
    if (with_sums) {
        size_t i, n = (size_t)count * LIMBS;
        const unsigned char *at = map.data + 16 + hl;
        if ((rc = tpe_xsum_init(&p->sums, (size_t)count))) goto done;
        for (i = 0; i < n; i++) p->sums.limb[i] = tpe_load_le64(at + 8 * i);
    }
done:
    tpe_json_free(doc);
    tpe_unmap_file(&map);
    if (rc) tpe_part_free(p);
    return rc;
}

/* ---- one run? ------------------------------------------------------------------- */
/* the first 12 hex digits, enough to tell digests apart in a message */
static const char *short_hex(const char *hex, char buf[16])
{
    memcpy(buf, hex, 12);
    memcpy(buf + 12, "...", 4);
    return buf;
}

static int model_differs(const tpe_part *a, const char *pa, const tpe_part *b, const char *pb)
{
    char x[16], y[16];
    size_t i, j;
    /* name the first file that differs, or is in one part only */
    for (i = 0; i < b->nfiles; i++) {
        for (j = 0; j < a->nfiles; j++)
            if (strcmp(a->files[j].name, b->files[i].name) == 0) break;
        if (j == a->nfiles)
            return tpe_error(TPE_EINVAL, "%s: made from another model than %s (its model has %s, the other none)", pb, pa,
                             b->files[i].name);
        if (strcmp(a->files[j].sha256, b->files[i].sha256) != 0 || a->files[j].bytes != b->files[i].bytes)
            return tpe_error(TPE_EINVAL, "%s: made from another model than %s (%s: sha256 %s, there %s)", pb, pa, b->files[i].name,
                             short_hex(b->files[i].sha256, x), short_hex(a->files[j].sha256, y));
    }
    for (j = 0; j < a->nfiles; j++) {
        for (i = 0; i < b->nfiles; i++)
            if (strcmp(a->files[j].name, b->files[i].name) == 0) break;
        if (i == b->nfiles)
            return tpe_error(TPE_EINVAL, "%s: made from another model than %s (the other has %s, this one none)", pb, pa,
                             a->files[j].name);
    }
    return tpe_error(TPE_EINVAL, "%s: made from another model than %s (model sha256 %s, there %s)", pb, pa,
                     short_hex(b->model_sha256, x), short_hex(a->model_sha256, y));
}

int tpe_part_same_run(const tpe_part *a, const char *pa, const tpe_part *b, const char *pb, int allow_mixed_platforms)
{
    char x[16], y[16];
    if (strcmp(a->kind, b->kind) != 0) return tpe_error(TPE_EINVAL, "%s: a '%s' part; %s is a '%s' part", pb, b->kind, pa, a->kind);
    if (strcmp(a->model_sha256, b->model_sha256) != 0) return model_differs(a, pa, b, pb);
    if (a->vocab != b->vocab || a->width != b->width || strcmp(a->model_type, b->model_type) != 0)
        return tpe_error(TPE_EINVAL, "%s: a %s model of vocabulary %llu and width %llu; %s: %s, %llu, %llu", pb, b->model_type,
                         (unsigned long long)b->vocab, (unsigned long long)b->width, pa, a->model_type, (unsigned long long)a->vocab,
                         (unsigned long long)a->width);
    if (strcmp(a->data_sha256, b->data_sha256) != 0)
        return tpe_error(TPE_EINVAL, "%s: made from another DATA file than %s (sha256 %s, there %s)", pb, pa,
                         short_hex(b->data_sha256, x), short_hex(a->data_sha256, y));
    if (a->ids_file != b->ids_file)
        return tpe_error(TPE_EINVAL, "%s: DATA read as %s; %s: as %s (--ids-file)", pb, b->ids_file ? "token ids" : "text", pa,
                         a->ids_file ? "token ids" : "text");
    if (strcmp(a->tokens_sha256, b->tokens_sha256) != 0 || a->samples != b->samples || a->tokens != b->tokens)
        return tpe_error(TPE_EINVAL,
                         "%s: the same DATA gave other tokens than in %s (%llu samples, %llu tokens, sha256 %s; there %llu, %llu, %s): "
                         "the tokenizer differs",
                         pb, pa, (unsigned long long)b->samples, (unsigned long long)b->tokens, short_hex(b->tokens_sha256, x),
                         (unsigned long long)a->samples, (unsigned long long)a->tokens, short_hex(a->tokens_sha256, y));
    if (a->max_len != b->max_len)
        return tpe_error(TPE_EINVAL, "%s: --max-len %llu; %s: --max-len %llu", pb, (unsigned long long)b->max_len, pa,
                         (unsigned long long)a->max_len);
    if (strcmp(a->precision, b->precision) != 0)
        return tpe_error(TPE_EINVAL, "%s: --precision %s; %s: --precision %s", pb, b->precision, pa, a->precision);
    if (a->shards != b->shards)
        return tpe_error(TPE_EINVAL, "%s: shard %llu of %llu; %s: shard %llu of %llu (parts of runs split differently)", pb,
                         (unsigned long long)b->shard, (unsigned long long)b->shards, pa, (unsigned long long)a->shard,
                         (unsigned long long)a->shards);
    if (strcmp(a->fingerprint, b->fingerprint) != 0)
        return tpe_error(TPE_EINVAL, "%s: fingerprint %s; %s: %s", pb, short_hex(b->fingerprint, x), pa, short_hex(a->fingerprint, y));
    if (strcmp(a->platform, b->platform) != 0 && !allow_mixed_platforms)
        return tpe_error(TPE_EINVAL,
                         "%s: made on %s; %s on %s: results differ in the last bits between kernel paths "
                         "(--allow-mixed-platforms merges them anyway)",
                         pb, b->platform, pa, a->platform);
    return TPE_OK;
}

/* ---- merging ------------------------------------------------------------------------ */
typedef struct shard_slot {
    uint64_t shard;
    size_t part; /* index into paths */
} shard_slot;

static int cmp_slots(const void *x, const void *y)
{
    const shard_slot *a = x, *b = y;
    if (a->shard != b->shard) return a->shard < b->shard ? -1 : 1;
    return a->part < b->part ? -1 : a->part > b->part;
}

/* every shard 0..N-1 exactly once */
static int check_shards(const char *const *paths, size_t n, shard_slot *slot, uint64_t N)
{
    size_t i, miss = 0;
    char list[200];
    uint64_t want = 0;
    qsort(slot, n, sizeof *slot, cmp_slots);
    for (i = 1; i < n; i++)
        if (slot[i].shard == slot[i - 1].shard && strcmp(paths[slot[i - 1].part], paths[slot[i].part]) == 0)
            return tpe_error(TPE_EINVAL, "%s is given twice", paths[slot[i].part]);
        else if (slot[i].shard == slot[i - 1].shard)
            return tpe_error(TPE_EINVAL, "%s and %s are both shard %llu of %llu", paths[slot[i - 1].part], paths[slot[i].part],
                             (unsigned long long)slot[i].shard, (unsigned long long)N);
    if ((uint64_t)n == N) return TPE_OK;
    list[0] = '\0';
    for (i = 0; i <= n && miss < 8; i++) {
        uint64_t upto = i < n ? slot[i].shard : N;
        for (; want < upto && miss < 8; want++, miss++) {
            size_t at = strlen(list);
            snprintf(list + at, sizeof list - at, "%s%llu", miss ? ", " : "", (unsigned long long)want);
        }
        want = upto + 1;
    }
    return tpe_error(TPE_EINVAL, "%llu of %llu shards missing: %s%s (%zu parts given)", (unsigned long long)(N - (uint64_t)n),
                     (unsigned long long)N, list, N - (uint64_t)n > miss ? ", ..." : "", n);
}

static int merge_hidden(const char *const *paths, const tpe_part *parts, const shard_slot *slot, size_t n, const char *out);

int tpe_part_merge(const char *const *paths, size_t n, int allow_mixed_platforms, tpe_part *out, const char *hidden_out)
{
    tpe_part *parts = NULL;
    shard_slot *slot = NULL;
    size_t i;
    uint64_t samples = 0, tokens = 0, windows = 0;
    int rc = TPE_OK;
    tpe_part_init(out);
    if (n == 0) return tpe_error(TPE_EINVAL, "no parts to merge");
    parts = calloc(n, sizeof *parts);
    slot = calloc(n, sizeof *slot);
    if (!parts || !slot) {
        free(parts);
        free(slot);
        return tpe_error(TPE_ENOMEM, "out of memory");
    }
    for (i = 0; i < n && !rc; i++) {
        if ((rc = tpe_part_read(paths[i], &parts[i], 1))) break;
        if (i == 0) {
            rc = tpe_xsum_init(&out->sums, parts[0].sums.n);
        } else {
            rc = tpe_part_same_run(&parts[0], paths[0], &parts[i], paths[i], allow_mixed_platforms);
        }
        /* integer addition: the order of the parts does not matter */
        if (!rc) rc = tpe_xsum_merge(&out->sums, &parts[i].sums);
        tpe_xsum_free(&parts[i].sums);
        slot[i].shard = parts[i].shard;
        slot[i].part = i;
        samples += parts[i].local_samples;
        tokens += parts[i].local_tokens;
        windows += parts[i].local_windows;
        out->positions += parts[i].positions;
    }
    if (!rc) rc = check_shards(paths, n, slot, parts[0].shards);
    if (!rc && (samples != parts[0].samples || tokens != parts[0].tokens))
        rc = tpe_error(TPE_EFORMAT, "the parts hold %llu samples and %llu tokens, the dataset %llu and %llu", (unsigned long long)samples,
                       (unsigned long long)tokens, (unsigned long long)parts[0].samples, (unsigned long long)parts[0].tokens);
    if (!rc && hidden_out) rc = merge_hidden(paths, parts, slot, n, hidden_out);
    if (!rc) {
        /* the run's fields, from the first part */
        tpe_xsum sums = out->sums;
        uint64_t positions = out->positions;
        *out = parts[0];
        memset(&parts[0], 0, sizeof parts[0]);
        out->sums = sums;
        out->positions = positions;
        out->shard = 0;
        out->local_samples = samples;
        out->local_tokens = tokens;
        out->local_windows = windows;
        out->has_hidden = hidden_out != NULL;
    }
    for (i = 0; i < n; i++) tpe_part_free(&parts[i]);
    free(parts);
    free(slot);
    if (rc) tpe_part_free(out);
    return rc;
}

int tpe_part_alpha(const tpe_part *p, double *alpha)
{
    size_t v;
    if (p->positions == 0) return tpe_error(TPE_EINVAL, "no tokens were probed (every part is empty)");
    for (v = 0; v < p->sums.n; v++) alpha[v] = tpe_xsum_round(&p->sums, v) / (double)p->positions;
    return TPE_OK;
}

/* ---- the hidden states ------------------------------------------------------------- */
typedef struct hid_in {
    FILE *h, *t;           /* the shard's hidden states and token rows   */
    char *hpath, *tpath;
    tpe_sha256 hh, th;
    uint64_t rows, read;   /* rows in the files, token rows read         */
    int pending;           /* row holds a token row not yet consumed     */
    unsigned char row[24];
} hid_in;

/* the part's file, or the file of the same name beside the part */
static int resolve(const char *recorded, const char *part_path, char **out)
{
    const char *slash = strrchr(part_path, '/');
    char *dir, *cand;
    *out = NULL;
    if (tpe_is_file(recorded)) return (*out = tpe_strdup(recorded)) ? TPE_OK : TPE_ENOMEM;
    if (!(dir = tpe_strdup(part_path))) return TPE_ENOMEM;
    if (slash) dir[slash - part_path] = '\0';
    else strcpy(dir, ".");
    cand = tpe_path_join(dir, base_name(recorded));
    free(dir);
    if (!cand) return TPE_ENOMEM;
    if (tpe_is_file(cand)) {
        *out = cand;
        return TPE_OK;
    }
    tpe_error(TPE_EIO, "%s: its hidden states %s are not there (nor %s)", part_path, recorded, cand);
    free(cand);
    return TPE_EIO;
}

/* read exactly n bytes (hashing them); error naming the file otherwise */
static int read_hashed(FILE *f, const char *path, tpe_sha256 *h, void *buf, size_t n)
{
    if (n && fread(buf, 1, n, f) != n)
        return tpe_error(TPE_EFORMAT, "%s: %s", path, ferror(f) ? strerror(errno) : "truncated");
    tpe_sha256_update(h, buf, n);
    return TPE_OK;
}

/* the .npy header the part's file must start with */
static int expect_header(FILE *f, const char *path, tpe_sha256 *h, tpe_dtype t, uint64_t rows, size_t cols)
{
    char want[600], got[600];
    size_t shape[2], len;
    int rc;
    if (rows > (uint64_t)SIZE_MAX) return tpe_error(TPE_ENOMEM, "%s: %llu rows do not fit this build", path, (unsigned long long)rows);
    shape[0] = (size_t)rows;
    shape[1] = cols;
    if ((rc = tpe_npy_header(want, sizeof want, t, 2, shape, &len))) return rc;
    if ((rc = read_hashed(f, path, h, got, len))) return rc;
    if (memcmp(want, got, len) != 0)
        return tpe_error(TPE_EFORMAT, "%s: not the (%llu, %zu) %s array the part records", path, (unsigned long long)rows, cols,
                         tpe_dtype_name(t));
    return TPE_OK;
}

static int merge_hidden(const char *const *paths, const tpe_part *parts, const shard_slot *slot, size_t n, const char *out)
{
    const tpe_part *p0 = &parts[0];
    size_t i, C = (size_t)p0->width, esz = strcmp(p0->precision, "f64") ? 4 : 8, rowbytes = C * esz;
    tpe_dtype dt = esz == 4 ? TPE_F32 : TPE_F64;
    hid_in *in = calloc(n, sizeof *in);
    unsigned char *buf = NULL;
    size_t bufcap = (size_t)1 << 20;
    tpe_outfile oh, ot;
    char hdr[600], *tout = NULL;
    size_t shape[2], hl;
    uint64_t g, total = 0;
    tpe_progress bar;
    int rc = TPE_OK, open_h = 0, open_t = 0;
    if (!in) return tpe_error(TPE_ENOMEM, "out of memory");
    if (bufcap < rowbytes) bufcap = rowbytes;
    if (!(buf = malloc(bufcap))) rc = tpe_error(TPE_ENOMEM, "out of memory");
    /* in[I]: shard I's files, opened and their headers checked */
    for (i = 0; i < n && !rc; i++) {
        const tpe_part *p = &parts[slot[i].part];
        const char *pp = paths[slot[i].part];
        hid_in *s = &in[i];
        if (!p->has_hidden) {
            rc = tpe_error(TPE_EINVAL, "%s: written without --save-hidden: no hidden states to merge", pp);
            break;
        }
        if ((rc = resolve(p->hidden_path, pp, &s->hpath)) || (rc = resolve(p->hidden_tokens_path, pp, &s->tpath))) break;
        s->rows = p->hidden_rows;
        tpe_sha256_init(&s->hh);
        tpe_sha256_init(&s->th);
        if (!(s->h = fopen(s->hpath, "rb")) || !(s->t = fopen(s->tpath, "rb"))) {
            rc = tpe_error(TPE_EIO, "%s: cannot open: %s", s->h ? s->tpath : s->hpath, strerror(errno));
            break;
        }
        if ((rc = expect_header(s->h, s->hpath, &s->hh, dt, s->rows, C))) break;
        if ((rc = expect_header(s->t, s->tpath, &s->th, TPE_I64, s->rows, 3))) break;
    }
    if (!rc && !(tout = tpe_hidden_tokens_path(out))) rc = TPE_ENOMEM;
    if (!rc && !(rc = tpe_out_open(&oh, out))) open_h = 1;
    if (!rc && !(rc = tpe_out_open(&ot, tout))) open_t = 1;
    shape[0] = (size_t)p0->tokens;
    shape[1] = C;
    if (!rc && !(rc = tpe_npy_header(hdr, sizeof hdr, dt, 2, shape, &hl))) fwrite(hdr, 1, hl, oh.f);
    shape[1] = 3;
    if (!rc && !(rc = tpe_npy_header(hdr, sizeof hdr, TPE_I64, 2, shape, &hl))) fwrite(hdr, 1, hl, ot.f);
    tpe_progress_begin(&bar, "merging hidden states", (double)p0->samples);
    /* sample g was run by shard g mod N: its rows come next in that shard's files */
    for (g = 0; g < p0->samples && !rc; g++) {
        hid_in *s = &in[g % p0->shards];
        uint64_t count = 0, left;
        for (;;) {
            int64_t sample, pos;
            if (!s->pending) {
                if (s->read == s->rows) break;
                if ((rc = read_hashed(s->t, s->tpath, &s->th, s->row, 24))) break;
                s->read++;
                s->pending = 1;
            }
            sample = (int64_t)tpe_load_le64(s->row);
            pos = (int64_t)tpe_load_le64(s->row + 8);
            if (sample != (int64_t)g) {
                if (sample < (int64_t)g || (uint64_t)sample % p0->shards != g % p0->shards)
                    rc = tpe_error(TPE_EFORMAT, "%s: row %llu: sample %lld is out of order or not this shard's", s->tpath,
                                   (unsigned long long)(s->read - 1), (long long)sample);
                break;
            }
            if (pos != (int64_t)count) {
                rc = tpe_error(TPE_EFORMAT, "%s: row %llu: position %lld of sample %llu, expected %llu", s->tpath,
                               (unsigned long long)(s->read - 1), (long long)pos, (unsigned long long)g, (unsigned long long)count);
                break;
            }
            fwrite(s->row, 1, 24, ot.f);
            s->pending = 0;
            count++;
        }
        if (!rc && count == 0) rc = tpe_error(TPE_EFORMAT, "%s: no rows of sample %llu", s->tpath, (unsigned long long)g);
        /* the same number of rows of hidden states */
        for (left = count; !rc && left > 0;) {
            size_t rows = bufcap / rowbytes;
            if ((uint64_t)rows > left) rows = (size_t)left;
            if ((rc = read_hashed(s->h, s->hpath, &s->hh, buf, rows * rowbytes))) break;
            fwrite(buf, 1, rows * rowbytes, oh.f);
            left -= rows;
        }
        total += count;
        tpe_progress_update(&bar, (double)g);
    }
    tpe_progress_end(&bar);
    /* every row used, nothing after it, and the bytes the parts record */
    for (i = 0; i < n && !rc; i++) {
        hid_in *s = &in[i];
        const tpe_part *p = &parts[slot[i].part];
        unsigned char d[32];
        char hex[65];
        if (s->pending || s->read != s->rows) {
            rc = tpe_error(TPE_EFORMAT, "%s: rows of samples not in the dataset", s->tpath);
            break;
        }
        if (fgetc(s->h) != EOF || fgetc(s->t) != EOF) {
            rc = tpe_error(TPE_EFORMAT, "%s: trailing bytes", s->hpath);
            break;
        }
        tpe_sha256_final(&s->hh, d);
        tpe_sha256_hex(d, hex);
        if (strcmp(hex, p->hidden_sha256) != 0) {
            rc = tpe_error(TPE_EFORMAT, "%s: not the file %s records (SHA-256 differs: changed since, or from another run)", s->hpath,
                           paths[slot[i].part]);
            break;
        }
        tpe_sha256_final(&s->th, d);
        tpe_sha256_hex(d, hex);
        if (strcmp(hex, p->hidden_tokens_sha256) != 0)
            rc = tpe_error(TPE_EFORMAT, "%s: not the file %s records (SHA-256 differs: changed since, or from another run)", s->tpath,
                           paths[slot[i].part]);
    }
    if (!rc && total != p0->tokens)
        rc = tpe_error(TPE_EFORMAT, "hidden states of %llu positions, the dataset has %llu", (unsigned long long)total,
                       (unsigned long long)p0->tokens);
    if (!rc && open_h && ferror(oh.f)) rc = tpe_error(TPE_EIO, "%s: write error", out);
    if (!rc && open_t && ferror(ot.f)) rc = tpe_error(TPE_EIO, "%s: write error", tout);
    if (!rc) {
        open_h = 0;
        if ((rc = tpe_out_commit(&oh))) {
            tpe_out_abort(&ot);
            open_t = 0;
        }
    }
    if (!rc) {
        open_t = 0;
        rc = tpe_out_commit(&ot);
    }
    if (open_h) tpe_out_abort(&oh);
    if (open_t) tpe_out_abort(&ot);
    for (i = 0; i < n; i++) {
        if (in[i].h) fclose(in[i].h);
        if (in[i].t) fclose(in[i].t);
        free(in[i].hpath);
        free(in[i].tpath);
    }
    free(in);
    free(buf);
    free(tout);
    return rc;
}
