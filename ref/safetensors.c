/*
 * safetensors.c -- the safetensors reader (validated, memory-mapped), the
 * sharded-checkpoint index, element conversion and the writer.
 */
#include "safetensors.h"
#include "io.h"
#include "json.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- dtypes ------------------------------------------------------------- */
typedef struct st_dtype {
    const char *name;
    int known;
    tpe_dtype dtype;
    size_t size;
} st_dtype;

static const st_dtype st_dtypes[] = {
    {"F64", 1, TPE_F64, 8}, {"F32", 1, TPE_F32, 4},   {"F16", 1, TPE_F16, 2},     {"BF16", 1, TPE_BF16, 2},
    {"I64", 1, TPE_I64, 8}, {"I32", 1, TPE_I32, 4},   {"I16", 1, TPE_I16, 2},     {"I8", 1, TPE_I8, 1},
    {"U64", 1, TPE_U64, 8}, {"U32", 1, TPE_U32, 4},   {"U16", 1, TPE_U16, 2},     {"U8", 1, TPE_U8, 1},
    {"BOOL", 1, TPE_BOOL, 1}, {"F8_E4M3", 0, TPE_U8, 1}, {"F8_E5M2", 0, TPE_U8, 1},
};

static const char *st_name_of(tpe_dtype t)
{
    size_t i;
    for (i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (st_dtypes[i].known && st_dtypes[i].dtype == t) return st_dtypes[i].name;
    return NULL;
}

/* ---- reader ------------------------------------------------------------- */
static int cmp_tensor_name(const void *a, const void *b)
{
    const tpe_st_tensor *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int cmp_tensor_begin(const void *a, const void *b)
{
    const tpe_st_tensor *const *x = a, *const *y = b;
    if ((*x)->begin != (*y)->begin) return (*x)->begin < (*y)->begin ? -1 : 1;
    return ((*x)->end > (*y)->end) - ((*x)->end < (*y)->end);
}

static void free_tensors(tpe_st_tensor *t, size_t n)
{
    size_t i;
    if (!t) return;
    for (i = 0; i < n; i++) free(t[i].name);
    free(t);
}

/* One header entry: {"dtype": ..., "shape": [...], "data_offsets": [b, e]}. */
static int parse_entry(const char *file, const char *name, const tpe_json *v, size_t data_len, tpe_st_tensor *t)
{
    const tpe_json *dt, *sh, *off;
    size_t i, bytes;
    uint64_t b, e;
    if (v->type != TPE_JSON_OBJECT) return tpe_error(TPE_EFORMAT, "%s: tensor '%s': header entry is not an object", file, name);
    if (tpe_json_duplicate_key(v)) return tpe_error(TPE_EFORMAT, "%s: tensor '%s': duplicate key '%s'", file, name, tpe_json_duplicate_key(v));
    for (i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], "dtype") && strcmp(v->keys[i], "shape") && strcmp(v->keys[i], "data_offsets"))
            return tpe_error(TPE_EFORMAT, "%s: tensor '%s': unexpected key '%s'", file, name, v->keys[i]);
    dt = tpe_json_get(v, "dtype");
    sh = tpe_json_get(v, "shape");
    off = tpe_json_get(v, "data_offsets");
    if (!dt || dt->type != TPE_JSON_STRING) return tpe_error(TPE_EFORMAT, "%s: tensor '%s': missing or non-string \"dtype\"", file, name);
    if (!sh || sh->type != TPE_JSON_ARRAY) return tpe_error(TPE_EFORMAT, "%s: tensor '%s': missing or non-array \"shape\"", file, name);
    if (!off || off->type != TPE_JSON_ARRAY || off->count != 2)
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s': \"data_offsets\" must be an array of two integers", file, name);
    for (i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dt->str, st_dtypes[i].name) == 0) break;
    if (i == sizeof st_dtypes / sizeof st_dtypes[0])
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s': unknown dtype \"%.16s\"", file, name, dt->str);
    strcpy(t->dtype_name, st_dtypes[i].name);
    t->dtype_known = st_dtypes[i].known;
    t->dtype = st_dtypes[i].dtype;
    t->elem_size = st_dtypes[i].size;
    if (sh->count > TPE_MAXDIM)
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s': %zu dimensions (at most %d)", file, name, sh->count, TPE_MAXDIM);
    t->ndim = (int)sh->count;
    t->count = 1;
    for (i = 0; i < sh->count; i++) {
        uint64_t d;
        if (tpe_json_u64(&sh->items[i], &d))
            return tpe_error(TPE_EFORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative integer", file, name, i);
        if (d > (uint64_t)SIZE_MAX)
            return tpe_error(TPE_EFORMAT, "%s: tensor '%s': shape[%zu] = %llu overflows the address space", file, name, i,
                             (unsigned long long)d);
        t->shape[i] = (size_t)d;
        if (tpe_size_mul(t->count, t->shape[i], &t->count))
            return tpe_error(TPE_EFORMAT, "%s: tensor '%s': shape overflows the address space", file, name);
    }
    if (tpe_json_u64(&off->items[0], &b) || tpe_json_u64(&off->items[1], &e))
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s': data_offsets are not non-negative integers", file, name);
    if (b > e) return tpe_error(TPE_EFORMAT, "%s: tensor '%s': data_offsets [%llu, %llu) run backwards", file, name, (unsigned long long)b, (unsigned long long)e);
    if (e > (uint64_t)data_len)
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s': data_offsets [%llu, %llu) end past the data section (%zu bytes; file truncated?)",
                         file, name, (unsigned long long)b, (unsigned long long)e, data_len);
    if (tpe_size_mul(t->count, t->elem_size, &bytes) || bytes != (size_t)(e - b)) {
        char dims[160];
        size_t at = 0;
        dims[0] = '\0';
        for (i = 0; i < (size_t)t->ndim && at + 24 < sizeof dims; i++)
            at += (size_t)snprintf(dims + at, sizeof dims - at, "%s%zu", i ? ", " : "", t->shape[i]);
        if (tpe_size_mul(t->count, t->elem_size, &bytes))
            return tpe_error(TPE_EFORMAT, "%s: tensor '%s': %s shape [%s] overflows the address space", file, name, t->dtype_name, dims);
        return tpe_error(TPE_EFORMAT, "%s: tensor '%s': %s shape [%s] needs %zu bytes but data_offsets [%llu, %llu) hold %llu",
                         file, name, t->dtype_name, dims, bytes, (unsigned long long)b, (unsigned long long)e,
                         (unsigned long long)(e - b));
    }
    t->begin = (size_t)b;
    t->end = (size_t)e;
    return TPE_OK;
}

int tpe_st_parse(const unsigned char *buf, size_t len, const char *name, tpe_st_file *f)
{
    uint64_t n64;
    size_t hl, i, k;
    tpe_json_doc *doc = NULL;
    const tpe_json *root;
    tpe_st_tensor **order = NULL;
    int rc;

    memset(f, 0, sizeof *f);
    if (len < 8) return tpe_error(TPE_EFORMAT, "%s: %zu bytes, too short for a safetensors file (truncated?)", name, len);
    n64 = tpe_load_le64(buf);
    if (n64 > TPE_ST_MAX_HEADER)
        return tpe_error(TPE_EFORMAT, "%s: header length %llu is absurd (limit %llu bytes)", name, (unsigned long long)n64,
                         (unsigned long long)TPE_ST_MAX_HEADER);
    if (n64 > (uint64_t)(len - 8))
        return tpe_error(TPE_EFORMAT, "%s: header length %llu exceeds the %zu bytes after it (truncated?)", name,
                         (unsigned long long)n64, len - 8);
    if (n64 < 2) return tpe_error(TPE_EFORMAT, "%s: header length %llu is too short for a JSON object", name, (unsigned long long)n64);
    hl = (size_t)n64;
    if (buf[8] != '{') return tpe_error(TPE_EFORMAT, "%s: header does not start with '{'", name);
    {
        char hname[600];
        snprintf(hname, sizeof hname, "%s (header)", name);
        rc = tpe_json_parse((const char *)buf + 8, hl, hname, &doc);
        if (rc) return rc;
    }
    root = tpe_json_root(doc);
    if (root->type != TPE_JSON_OBJECT) {
        tpe_json_free(doc);
        return tpe_error(TPE_EFORMAT, "%s: header is not a JSON object", name);
    }
    if (tpe_json_duplicate_key(root)) {
        rc = tpe_error(TPE_EFORMAT, "%s: tensor '%s' appears twice in the header", name, tpe_json_duplicate_key(root));
        tpe_json_free(doc);
        return rc;
    }
    f->path = tpe_strdup(name);
    f->header_len = hl;
    f->data_len = len - 8 - hl;
    f->tensors = calloc(root->count ? root->count : 1, sizeof *f->tensors);
    if (!f->path || !f->tensors) {
        rc = tpe_error(TPE_ENOMEM, "%s: out of memory for %zu tensors", name, root->count);
        goto fail;
    }
    for (i = 0; i < root->count; i++) {
        const char *key = root->keys[i];
        const tpe_json *v = &root->items[i];
        if (strcmp(key, "__metadata__") == 0) {
            if (v->type != TPE_JSON_OBJECT) {
                rc = tpe_error(TPE_EFORMAT, "%s: __metadata__ is not an object", name);
                goto fail;
            }
            for (k = 0; k < v->count; k++)
                if (v->items[k].type != TPE_JSON_STRING) {
                    rc = tpe_error(TPE_EFORMAT, "%s: __metadata__['%s'] is not a string", name, v->keys[k]);
                    goto fail;
                }
            continue;
        }
        if (root->key_lens[i] == 0 || strlen(key) != root->key_lens[i]) {
            rc = tpe_error(TPE_EFORMAT, "%s: header entry %zu has an empty name or one containing NUL", name, i);
            goto fail;
        }
        rc = parse_entry(name, key, v, f->data_len, &f->tensors[f->n]);
        if (rc) goto fail;
        f->tensors[f->n].name = tpe_strdup(key);
        if (!f->tensors[f->n].name) {
            rc = TPE_ENOMEM;
            goto fail;
        }
        f->tensors[f->n].data = buf + 8 + hl + f->tensors[f->n].begin;
        f->n++;
    }
    tpe_json_free(doc);
    doc = NULL;

    /* no two byte ranges may overlap (empty tensors overlap nothing) */
    order = malloc((f->n ? f->n : 1) * sizeof *order);
    if (!order) {
        rc = tpe_error(TPE_ENOMEM, "%s: out of memory", name);
        goto fail;
    }
    for (i = k = 0; i < f->n; i++)
        if (f->tensors[i].end > f->tensors[i].begin) order[k++] = &f->tensors[i];
    qsort(order, k, sizeof *order, cmp_tensor_begin);
    for (i = 1; i < k; i++)
        if (order[i]->begin < order[i - 1]->end) {
            rc = tpe_error(TPE_EFORMAT, "%s: tensor '%s': data_offsets [%zu, %zu) overlap '%s' [%zu, %zu)", name, order[i]->name,
                           order[i]->begin, order[i]->end, order[i - 1]->name, order[i - 1]->begin, order[i - 1]->end);
            goto fail;
        }
    free(order);
    qsort(f->tensors, f->n, sizeof *f->tensors, cmp_tensor_name);
    f->map.data = buf;
    f->map.size = len;
    return TPE_OK;
fail:
    free(order);
    tpe_json_free(doc);
    free_tensors(f->tensors, f->n);
    free(f->path);
    memset(f, 0, sizeof *f);
    return rc;
}

int tpe_st_open(const char *path, tpe_st_file *f)
{
    tpe_mapping m;
    int rc = tpe_map_file(path, &m);
    memset(f, 0, sizeof *f);
    if (rc) return rc;
    rc = tpe_st_parse(m.data, m.size, path, f);
    if (rc) {
        tpe_unmap_file(&m);
        return rc;
    }
    f->map = m;
    f->owns_map = 1;
    return TPE_OK;
}

void tpe_st_close(tpe_st_file *f)
{
    free_tensors(f->tensors, f->n);
    free(f->path);
    if (f->owns_map) tpe_unmap_file(&f->map);
    memset(f, 0, sizeof *f);
}

const tpe_st_tensor *tpe_st_find(const tpe_st_file *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, f->tensors[mid].name);
        if (c == 0) return &f->tensors[mid];
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* ---- sets of files ------------------------------------------------------- */
typedef struct set_ref {
    const tpe_st_tensor *t;
    const char *file;
} set_ref;

static int cmp_set_ref(const void *a, const void *b)
{
    const set_ref *x = a, *y = b;
    return strcmp(x->t->name, y->t->name);
}

void tpe_st_set_close(tpe_st_set *s)
{
    size_t i;
    for (i = 0; i < s->nfiles; i++) tpe_st_close(&s->files[i]);
    free(s->files);
    free((void *)s->tensors);
    free((void *)s->file_of);
    memset(s, 0, sizeof *s);
}

const tpe_st_tensor *tpe_st_set_find(const tpe_st_set *s, const char *name, size_t *index)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, s->tensors[mid]->name);
        if (c == 0) {
            if (index) *index = mid;
            return s->tensors[mid];
        }
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* Build the sorted table over all files; a name in two files is an error. */
static int set_index(tpe_st_set *s)
{
    size_t i, j, n = 0, k = 0;
    set_ref *refs;
    for (i = 0; i < s->nfiles; i++) n += s->files[i].n;
    refs = malloc((n ? n : 1) * sizeof *refs);
    s->tensors = malloc((n ? n : 1) * sizeof *s->tensors);
    s->file_of = malloc((n ? n : 1) * sizeof *s->file_of);
    if (!refs || !s->tensors || !s->file_of) {
        free(refs);
        return tpe_error(TPE_ENOMEM, "out of memory indexing %zu tensors", n);
    }
    for (i = 0; i < s->nfiles; i++)
        for (j = 0; j < s->files[i].n; j++) {
            refs[k].t = &s->files[i].tensors[j];
            refs[k].file = s->files[i].path;
            k++;
        }
    qsort(refs, n, sizeof *refs, cmp_set_ref);
    for (i = 0; i < n; i++) {
        if (i && strcmp(refs[i].t->name, refs[i - 1].t->name) == 0) {
            int rc = tpe_error(TPE_EFORMAT, "tensor '%s' is stored twice: in %s and in %s", refs[i].t->name, refs[i - 1].file, refs[i].file);
            free(refs);
            return rc;
        }
        s->tensors[i] = refs[i].t;
        s->file_of[i] = refs[i].file;
    }
    s->n = n;
    free(refs);
    return TPE_OK;
}

static int plain_file_name(const char *s)
{
    if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (; *s; s++)
        if (*s == '/' || *s == '\\') return 0;
    return 1;
}

static int open_index(const char *dir, const char *index_path, tpe_st_set *s)
{
    char *text = NULL;
    size_t len, i, j;
    tpe_json_doc *doc = NULL;
    const tpe_json *root, *map;
    const char **names = NULL;
    int rc = tpe_read_text(index_path, &text, &len);
    if (rc) return rc;
    rc = tpe_json_parse(text, len, index_path, &doc);
    if (rc) goto done;
    root = tpe_json_root(doc);
    map = tpe_json_get(root, "weight_map");
    if (!map || map->type != TPE_JSON_OBJECT) {
        rc = tpe_error(TPE_EFORMAT, "%s: missing or non-object \"weight_map\"", index_path);
        goto done;
    }
    if (tpe_json_duplicate_key(map)) {
        rc = tpe_error(TPE_EFORMAT, "%s: weight_map lists '%s' twice", index_path, tpe_json_duplicate_key(map));
        goto done;
    }
    /* the distinct shard names, in order of first appearance */
    names = malloc((map->count ? map->count : 1) * sizeof *names);
    if (!names) {
        rc = tpe_error(TPE_ENOMEM, "%s: out of memory", index_path);
        goto done;
    }
    for (i = 0; i < map->count; i++) {
        const tpe_json *v = &map->items[i];
        if (v->type != TPE_JSON_STRING || !plain_file_name(v->str) || strlen(v->str) != v->len) {
            rc = tpe_error(TPE_EFORMAT, "%s: weight_map['%s'] must be a file name inside the model directory", index_path, map->keys[i]);
            goto done;
        }
        for (j = 0; j < s->nfiles; j++)
            if (strcmp(names[j], v->str) == 0) break;
        if (j == s->nfiles) names[s->nfiles++] = v->str;
    }
    s->files = calloc(s->nfiles ? s->nfiles : 1, sizeof *s->files);
    if (!s->files) {
        s->nfiles = 0;
        rc = tpe_error(TPE_ENOMEM, "%s: out of memory", index_path);
        goto done;
    }
    {
        size_t nopen = s->nfiles;
        s->nfiles = 0;
        for (j = 0; j < nopen; j++) {
            char *p = tpe_path_join(dir, names[j]);
            if (!p) {
                rc = TPE_ENOMEM;
                goto done;
            }
            rc = tpe_st_open(p, &s->files[j]);
            free(p);
            if (rc) goto done;
            s->nfiles++;
        }
    }
    rc = set_index(s);
    if (rc) goto done;
    /* the index and the shards must agree exactly */
    for (i = 0; i < map->count; i++) {
        size_t at;
        const tpe_st_tensor *t = tpe_st_set_find(s, map->keys[i], &at);
        if (!t) {
            rc = tpe_error(TPE_EFORMAT, "%s: tensor '%s' is listed in shard %s but not stored there", index_path, map->keys[i], map->items[i].str);
            goto done;
        }
        {
            const char *f = s->file_of[at], *slash = strrchr(f, '/');
            if (strcmp(slash ? slash + 1 : f, map->items[i].str) != 0) {
                rc = tpe_error(TPE_EFORMAT, "%s: tensor '%s' is listed in %s but stored in %s", index_path, map->keys[i], map->items[i].str, f);
                goto done;
            }
        }
    }
    if (s->n != map->count) {
        for (i = 0; i < s->n; i++)
            if (!tpe_json_get(map, s->tensors[i]->name)) break;
        rc = tpe_error(TPE_EFORMAT, "%s: tensor '%s' in %s is not listed in the weight_map", index_path,
                       i < s->n ? s->tensors[i]->name : "?", i < s->n ? s->file_of[i] : "?");
        goto done;
    }
done:
    free((void *)names);
    tpe_json_free(doc);
    free(text);
    return rc;
}

int tpe_st_set_open_dir(const char *dir, tpe_st_set *s)
{
    char *single = tpe_path_join(dir, "model.safetensors");
    char *index = tpe_path_join(dir, "model.safetensors.index.json");
    int rc;
    memset(s, 0, sizeof *s);
    if (!single || !index) {
        free(single);
        free(index);
        return TPE_ENOMEM;
    }
    if (tpe_is_file(single)) {
        s->files = calloc(1, sizeof *s->files);
        if (!s->files) rc = tpe_error(TPE_ENOMEM, "out of memory");
        else rc = tpe_st_open(single, &s->files[0]);
        if (!rc) {
            s->nfiles = 1;
            rc = set_index(s);
        }
    } else if (tpe_is_file(index)) {
        rc = open_index(dir, index, s);
    } else {
        rc = tpe_error(TPE_EIO, "%s: neither model.safetensors nor model.safetensors.index.json found", dir);
    }
    free(single);
    free(index);
    if (rc) tpe_st_set_close(s);
    return rc;
}

/* ---- element conversion (little-endian storage, any host) ---------------- */
double tpe_st_elem_f64(tpe_dtype t, const unsigned char *data, size_t i)
{
    switch (t) {
    case TPE_F16: return (double)tpe_f16_to_f32(tpe_load_le16(data + 2 * i));
    case TPE_BF16: return (double)tpe_bf16_to_f32(tpe_load_le16(data + 2 * i));
    case TPE_F32: {
        uint32_t u = tpe_load_le32(data + 4 * i);
        float f;
        memcpy(&f, &u, sizeof f);
        return (double)f;
    }
    case TPE_F64: {
        uint64_t u = tpe_load_le64(data + 8 * i);
        double d;
        memcpy(&d, &u, sizeof d);
        return d;
    }
    default: return 0.0;
    }
}

void tpe_st_to_f32(tpe_dtype t, const unsigned char *data, size_t first, size_t count, float *out)
{
    size_t i;
    if (t == TPE_F32 && tpe_host_little_endian()) {
        memcpy(out, data + 4 * first, count * sizeof *out);
        return;
    }
    switch (t) {
    case TPE_F16:
        for (i = 0; i < count; i++) out[i] = tpe_f16_to_f32(tpe_load_le16(data + 2 * (first + i)));
        return;
    case TPE_BF16:
        for (i = 0; i < count; i++) out[i] = tpe_bf16_to_f32(tpe_load_le16(data + 2 * (first + i)));
        return;
    default:
        for (i = 0; i < count; i++) out[i] = (float)tpe_st_elem_f64(t, data, first + i);
        return;
    }
}

void tpe_st_to_f64(tpe_dtype t, const unsigned char *data, size_t first, size_t count, double *out)
{
    size_t i;
    if (t == TPE_F64 && tpe_host_little_endian()) {
        memcpy(out, data + 8 * first, count * sizeof *out);
        return;
    }
    for (i = 0; i < count; i++) out[i] = tpe_st_elem_f64(t, data, first + i);
}

void tpe_st_encode(tpe_dtype t, const double *x, size_t n, unsigned char *out)
{
    size_t i;
    for (i = 0; i < n; i++) {
        switch (t) {
        case TPE_F64: {
            uint64_t u;
            memcpy(&u, &x[i], sizeof u);
            tpe_store_le64(out + 8 * i, u);
            break;
        }
        case TPE_F32: {
            float f = (float)x[i];
            uint32_t u;
            memcpy(&u, &f, sizeof u);
            tpe_store_le32(out + 4 * i, u);
            break;
        }
        case TPE_F16:
        case TPE_BF16: {
            /* double -> float rounded to odd, then to half / bfloat16 to
             * nearest even: one correct rounding (round-to-odd with two or
             * more spare bits avoids the double-rounding error) */
            float f = (float)x[i];
            uint32_t u;
            if ((double)f != x[i] && isfinite(f)) {
                if (fabs((double)f) > fabs(x[i])) f = nextafterf(f, 0.0f);
                memcpy(&u, &f, sizeof u);
                u |= 1u;
                memcpy(&f, &u, sizeof f);
            }
            uint16_t h = t == TPE_F16 ? tpe_f32_to_f16(f) : tpe_f32_to_bf16(f);
            out[2 * i] = (unsigned char)(h & 0xff);
            out[2 * i + 1] = (unsigned char)(h >> 8);
            break;
        }
        default: break;
        }
    }
}

/* ---- writer ------------------------------------------------------------- */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    int oom;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        char *ns;
        while (nc < b->len + n + 1) nc *= 2;
        ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_string(strbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_put(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            sb_str(b, e);
        } else {
            sb_put(b, s, 1);
        }
    }
    sb_put(b, "\"", 1);
}

int tpe_st_write(const char *path, const tpe_st_entry *e, size_t n)
{
    strbuf h = {NULL, 0, 0, 0};
    size_t i, off = 0;
    unsigned char len8[8];
    tpe_outfile o;
    int rc, d;
    sb_str(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (i = 0; i < n; i++) {
        char num[64];
        size_t count = 1, bytes;
        const char *dn = st_name_of(e[i].dtype);
        if (!dn || (e[i].dtype != TPE_F16 && e[i].dtype != TPE_BF16 && e[i].dtype != TPE_F32 && e[i].dtype != TPE_F64 &&
                    e[i].dtype != TPE_I32 && e[i].dtype != TPE_I64)) {
            free(h.s);
            return tpe_error(TPE_EINVAL, "%s: tensor '%s': cannot write dtype %s", path, e[i].name, tpe_dtype_name(e[i].dtype));
        }
        if (e[i].ndim < 0 || e[i].ndim > TPE_MAXDIM) {
            free(h.s);
            return tpe_error(TPE_EINVAL, "%s: tensor '%s': %d dimensions", path, e[i].name, e[i].ndim);
        }
        sb_put(&h, ",", 1);
        sb_json_string(&h, e[i].name);
        sb_str(&h, ":{\"dtype\":\"");
        sb_str(&h, dn);
        sb_str(&h, "\",\"shape\":[");
        for (d = 0; d < e[i].ndim; d++) {
            snprintf(num, sizeof num, "%s%zu", d ? "," : "", e[i].shape[d]);
            sb_str(&h, num);
            if (tpe_size_mul(count, e[i].shape[d], &count)) {
                free(h.s);
                return tpe_error(TPE_EINVAL, "%s: tensor '%s': shape overflows", path, e[i].name);
            }
        }
        if (tpe_size_mul(count, tpe_dtype_size(e[i].dtype), &bytes) || tpe_size_add(off, bytes, &bytes)) {
            free(h.s);
            return tpe_error(TPE_EINVAL, "%s: tensor '%s': size overflows", path, e[i].name);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, bytes);
        sb_str(&h, num);
        off = bytes;
    }
    sb_put(&h, "}", 1);
    while (!h.oom && (8 + h.len) % 8 != 0) sb_put(&h, " ", 1);
    if (h.oom) {
        free(h.s);
        return tpe_error(TPE_ENOMEM, "%s: out of memory building the header", path);
    }
    rc = tpe_out_open(&o, path);
    if (rc) {
        free(h.s);
        return rc;
    }
    tpe_store_le64(len8, (uint64_t)h.len);
    fwrite(len8, 1, 8, o.f);
    fwrite(h.s, 1, h.len, o.f);
    free(h.s);
    for (i = 0; i < n; i++) {
        size_t esz = tpe_dtype_size(e[i].dtype), count = 1;
        for (d = 0; d < e[i].ndim; d++) count *= e[i].shape[d];
        if (e[i].data_is_le) fwrite(e[i].data, esz, count, o.f);
        else tpe_fwrite_le(o.f, e[i].data, count, esz);
    }
    return tpe_out_commit(&o);
}
