/*
 * golden.h -- small helpers for tests that read the golden/numerics JSON files
 * (made by tools/gen_numerics_goldens.py) and other golden JSON: load a file, fetch numbers, and
 * count correct digits. Header-only (static inline) so each test file can
 * take what it uses.
 */
#ifndef TPE_TEST_GOLDEN_H
#define TPE_TEST_GOLDEN_H

#include "io.h"
#include "json.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse the JSON file at path (relative to the repo root, where tests run);
 * returns its root (NULL after a failed CHECK). Free *doc with tpe_json_free. */
static inline const tpe_json *golden_json(const char *path, tpe_json_doc **doc)
{
    char *text = NULL;
    size_t len = 0;
    *doc = NULL;
    if (tpe_read_text(path, &text, &len) != TPE_OK) {
        tt_fail(__FILE__, __LINE__, "cannot read %s: %s", path, tpe_errmsg());
        return NULL;
    }
    if (tpe_json_parse(text, len, path, doc) != TPE_OK) {
        tt_fail(__FILE__, __LINE__, "cannot parse %s: %s", path, tpe_errmsg());
        free(text);
        return NULL;
    }
    free(text);
    return tpe_json_root(*doc);
}

/* The "cases" array of the golden file at path (NULL after a failed CHECK). */
static inline const tpe_json *golden_cases_at(const char *path, tpe_json_doc **doc)
{
    const tpe_json *root = golden_json(path, doc), *cases;
    if (!root) return NULL;
    cases = tpe_json_get(root, "cases");
    if (!cases || cases->type != TPE_JSON_ARRAY) {
        tt_fail(__FILE__, __LINE__, "%s has no \"cases\" array", path);
        return NULL;
    }
    return cases;
}

/* The "cases" array of golden/numerics/<name>. */
static inline const tpe_json *golden_cases(const char *name, tpe_json_doc **doc)
{
    char path[512];
    snprintf(path, sizeof path, "golden/numerics/%s", name);
    return golden_cases_at(path, doc);
}

/* a number member (NaN when absent or null) */
static inline double gnum(const tpe_json *obj, const char *key)
{
    const tpe_json *v = tpe_json_get(obj, key);
    return v && v->type == TPE_JSON_NUMBER ? v->number : (double)NAN;
}

/* an array member of numbers into a new malloc'd array; *n its length */
static inline double *garr(const tpe_json *obj, const char *key, size_t *n)
{
    const tpe_json *v = tpe_json_get(obj, key);
    double *out;
    size_t i;
    *n = 0;
    if (!v || v->type != TPE_JSON_ARRAY) return NULL;
    out = malloc((v->count ? v->count : 1) * sizeof *out);
    for (i = 0; i < v->count; i++) out[i] = v->items[i].type == TPE_JSON_NUMBER ? v->items[i].number : (double)NAN;
    *n = v->count;
    return out;
}

/* a 2-D array (list of rows) into a new row-major array */
static inline double *garr2(const tpe_json *obj, const char *key, size_t *rows, size_t *cols)
{
    const tpe_json *v = tpe_json_get(obj, key);
    double *out;
    size_t i, j;
    *rows = *cols = 0;
    if (!v || v->type != TPE_JSON_ARRAY || v->count == 0 || v->items[0].type != TPE_JSON_ARRAY) return NULL;
    *rows = v->count;
    *cols = v->items[0].count;
    out = malloc(*rows * *cols * sizeof *out);
    for (i = 0; i < *rows; i++)
        for (j = 0; j < *cols; j++) out[i * *cols + j] = v->items[i].items[j].number;
    return out;
}

static inline const char *gstr(const tpe_json *obj, const char *key)
{
    const tpe_json *v = tpe_json_get(obj, key);
    return v && v->type == TPE_JSON_STRING ? v->str : "?";
}

static inline int gbool(const tpe_json *obj, const char *key)
{
    const tpe_json *v = tpe_json_get(obj, key);
    return v && v->type == TPE_JSON_TRUE;
}

/* |a - b| / |b| (0 when both are 0, inf when only b is) */
static inline double relerr(double a, double b)
{
    if (a == b) return 0.0;
    if (b == 0.0) return (double)INFINITY;
    return fabs(a - b) / fabs(b);
}

/* correct significant digits of a against b, in [0, 17] */
static inline double digits_of(double a, double b)
{
    double e = relerr(a, b);
    if (e == 0.0) return 17.0;
    if (!(e < 1.0)) return 0.0;
    e = -log10(e);
    return e > 17.0 ? 17.0 : e;
}

/* the fewest digits over a vector */
static inline double min_digits(const double *a, const double *b, size_t n)
{
    double m = 17.0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = digits_of(a[i], b[i]);
        if (d < m) m = d;
    }
    return m;
}

#endif
