/*
 * cmd_json_get.c -- `tpe json-get FILE PATH... [options]`: values out of a
 * JSON file (e.g. another command's --json output), one per line, so shell
 * scripts (tools/demo.sh) need no awk/sed on JSON and no jq.
 *
 * A PATH is a list of segments separated by '.': in an object a segment is
 * a key, in an array an index (0-based decimal; -1 is the last element).
 * "." alone is the whole document. Keys holding '.' cannot be named.
 * Parsing is ref/json.h's strict parser; nothing is guessed: a missing key,
 * an index out of range or a step into a scalar is an error naming the path.
 */
#include "cli.h"
#include "io.h"
#include "json.h"
#include "tpe.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Resolve `path` below `root`; on failure an error naming file and path. */
static int resolve(const tpe_json *root, const char *file, const char *path, const tpe_json **out)
{
    const tpe_json *v = root;
    const char *p = path;
    *out = NULL;
    if (strcmp(path, ".") == 0) {
        *out = root;
        return TPE_OK;
    }
    if (!*path) return tpe_error(TPE_EINVAL, "empty path (use '.' for the whole document)");
    {
        const char *q = path;
        for (; *q; q++)
            if (*q == '.' && (q == path || q[1] == '.' || q[1] == '\0'))
                return tpe_error(TPE_EINVAL, "path '%s': empty segment at character %zu", path, (size_t)(q - path) + 1);
    }
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        size_t done = (size_t)(p - path) + n;   /* path up to this segment   */
        int before = p > path ? (int)(p - path - 1) : 0; /* path up to the container */
        if (v->type == TPE_JSON_OBJECT) {
            size_t i;
            const tpe_json *hit = NULL;
            for (i = 0; i < v->count; i++)
                if (v->key_lens[i] == n && memcmp(v->keys[i], p, n) == 0) hit = &v->items[i];
            /* the parser keeps duplicate keys: refuse rather than pick one */
            if (!hit) return tpe_error(TPE_EFORMAT, "%s: no key '%.*s' at '%.*s'", file, (int)n, p, (int)done, path);
            for (i = 0; i < v->count; i++)
                if (v->key_lens[i] == n && memcmp(v->keys[i], p, n) == 0 && &v->items[i] != hit)
                    return tpe_error(TPE_EFORMAT, "%s: key '%.*s' occurs more than once at '%.*s'", file, (int)n, p,
                                     (int)done, path);
            v = hit;
        } else if (v->type == TPE_JSON_ARRAY) {
            char buf[32], *end;
            long idx;
            if (n >= sizeof buf) return tpe_error(TPE_EINVAL, "path '%s': index '%.*s' is too long", path, (int)n, p);
            memcpy(buf, p, n);
            buf[n] = '\0';
            errno = 0;
            idx = strtol(buf, &end, 10);
            if (*end || errno || !(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
                return tpe_error(TPE_EFORMAT, "path '%s': '%.*s' is an array in %s; '%s' is not an index", path, before,
                                 path, file, buf);
            if (idx < 0) idx += (long)v->count;
            if (idx < 0 || (size_t)idx >= v->count)
                return tpe_error(TPE_EFORMAT, "%s: index %s out of range at '%.*s' (the array has %zu elements)", file,
                                 buf, (int)done, path, v->count);
            v = &v->items[idx];
        } else {
            return tpe_error(TPE_EFORMAT, "%s: '%.*s' is a scalar; cannot take '%.*s' of it", file, before, path, (int)n, p);
        }
        if (!dot) break;
        p = dot + 1;
    }
    *out = v;
    return TPE_OK;
}

/* Write v as compact JSON through the writer (arrays and objects). */
static void write_json(tpe_jw *w, const tpe_json *v)
{
    size_t i;
    switch (v->type) {
    case TPE_JSON_NULL: tpe_jw_null(w); break;
    case TPE_JSON_FALSE: tpe_jw_bool(w, 0); break;
    case TPE_JSON_TRUE: tpe_jw_bool(w, 1); break;
    case TPE_JSON_NUMBER:
        if (v->is_integer && v->magnitude_exact && v->magnitude <= (uint64_t)LLONG_MAX)
            tpe_jw_int(w, v->is_negative ? -(long long)v->magnitude : (long long)v->magnitude);
        else tpe_jw_number(w, v->number);
        break;
    case TPE_JSON_STRING: tpe_jw_string_n(w, v->str, v->len); break;
    case TPE_JSON_ARRAY:
        tpe_jw_array(w);
        for (i = 0; i < v->count; i++) write_json(w, &v->items[i]);
        tpe_jw_array_end(w);
        break;
    case TPE_JSON_OBJECT:
        tpe_jw_object(w);
        for (i = 0; i < v->count; i++) {
            tpe_jw_key(w, v->keys[i]);
            write_json(w, &v->items[i]);
        }
        tpe_jw_object_end(w);
        break;
    }
}

typedef struct fmt_opts {
    long fixed, sig; /* -1: not given */
    const char *null_text;
    int len;
} fmt_opts;

/* Print one value as a line of plain text. */
static int print_plain(const tpe_json *v, const fmt_opts *o)
{
    char buf[64];
    if (o->len) {
        if (v->type == TPE_JSON_ARRAY || v->type == TPE_JSON_OBJECT) printf("%zu\n", v->count);
        else if (v->type == TPE_JSON_STRING) printf("%zu\n", v->len);
        else return tpe_error(TPE_EINVAL, "--len: the value is not an array, object or string");
        return TPE_OK;
    }
    switch (v->type) {
    case TPE_JSON_NULL: printf("%s\n", o->null_text); break;
    case TPE_JSON_FALSE: printf("false\n"); break;
    case TPE_JSON_TRUE: printf("true\n"); break;
    case TPE_JSON_NUMBER:
        if (o->fixed >= 0) printf("%.*f\n", (int)o->fixed, v->number);
        else if (o->sig >= 0) printf("%.*g\n", (int)o->sig, v->number);
        else if (v->is_integer && v->magnitude_exact) printf("%s%llu\n", v->is_negative ? "-" : "", (unsigned long long)v->magnitude);
        else {
            tpe_format_double(buf, sizeof buf, v->number);
            printf("%s\n", buf);
        }
        break;
    case TPE_JSON_STRING:
        if (memchr(v->str, '\n', v->len) || memchr(v->str, '\0', v->len))
            return tpe_error(TPE_EFORMAT, "the string holds a newline or NUL byte; use --json to get it escaped");
        fwrite(v->str, 1, v->len, stdout);
        putchar('\n');
        break;
    case TPE_JSON_ARRAY:
    case TPE_JSON_OBJECT: {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        write_json(&w, v);
        tpe_jw_end(&w);
        break;
    }
    }
    return TPE_OK;
}

int tpe_cmd_json_get(int argc, char **argv)
{
    int json = 0, len = 0;
    long fixed = -1, sig = -1;
    const char *null_text = "null";
    const tpe_opt opts[] = {
        {"--fixed", TPE_OPT_INT, &fixed, "N", "numbers with N digits after the point (printf %.Nf)"},
        {"--sig", TPE_OPT_INT, &sig, "N", "numbers with N significant digits (printf %.Ng)"},
        {"--null", TPE_OPT_STR, &null_text, "TEXT", "print TEXT for a JSON null (default: null)"},
        {"--len", TPE_OPT_FLAG, &len, NULL, "print the number of elements of an array or object (bytes of a string)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout: {file, paths, values}"},
    };
    const tpe_cmdspec spec = {
        "json-get", "FILE PATH...", "Print values from a JSON file, one line per PATH.",
        "A PATH is dot-separated: object keys and array indices (0-based; -1 is the last),\n"
        "e.g. table1.output_adj_r2, table2.3.e_id.mean, checkpoints.-1.adj_r2; '.' is the whole\n"
        "document. Numbers print as the shortest decimal that reads back to the same double\n"
        "(integers exactly) unless --fixed or --sig; strings print raw (UTF-8); arrays and objects\n"
        "as compact JSON; null as `null` (or --null TEXT). A missing key, an index out of range\n"
        "or a path through a scalar is an error (exit 1) naming the path. For shell scripts\n"
        "such as tools/demo.sh.",
        opts, TPE_NOPTS(opts), 2, 4096};
    char **pos = NULL;
    size_t npos = 0, i;
    char *text = NULL;
    size_t tlen = 0;
    tpe_json_doc *doc = NULL;
    const tpe_json **vals = NULL;
    fmt_opts fo;
    int rc;
    pos = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *pos);
    if (!pos) {
        tpe_error(TPE_ENOMEM, "out of memory");
        return tpe_cli_fail("json-get");
    }
    rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    if (rc) {
        free(pos);
        return rc < 0 ? 0 : rc;
    }
    if (fixed > 40 || sig > 40 || (fixed >= 0 && sig >= 0) || fixed < -1 || sig < -1 || (sig == 0)) {
        free(pos);
        return tpe_cli_usage("json-get", "--fixed takes 0..40 and --sig 1..40, not both");
    }
    if (len && (fixed >= 0 || sig >= 0)) {
        free(pos);
        return tpe_cli_usage("json-get", "--len takes no --fixed or --sig");
    }
    fo.fixed = fixed;
    fo.sig = sig;
    fo.null_text = null_text;
    fo.len = len;

    rc = tpe_read_text(pos[0], &text, &tlen);
    if (!rc) rc = tpe_json_parse(text, tlen, pos[0], &doc);
    if (!rc) {
        vals = malloc(npos * sizeof *vals);
        if (!vals) rc = tpe_error(TPE_ENOMEM, "out of memory");
    }
    /* resolve every path before printing anything: all or nothing */
    for (i = 1; !rc && i < npos; i++) {
        rc = resolve(tpe_json_root(doc), pos[0], pos[i], &vals[i]);
        if (rc == TPE_EINVAL) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", tpe_errmsg());
            free(vals);
            tpe_json_free(doc);
            free(text);
            free(pos);
            return tpe_cli_usage("json-get", "%s", msg);
        }
        if (!rc && len && vals[i]->type != TPE_JSON_ARRAY && vals[i]->type != TPE_JSON_OBJECT &&
            vals[i]->type != TPE_JSON_STRING)
            rc = tpe_error(TPE_EFORMAT, "%s: --len: '%s' is not an array, object or string", pos[0], pos[i]);
        if (!rc && !len && !json && vals[i]->type == TPE_JSON_STRING &&
            (memchr(vals[i]->str, '\n', vals[i]->len) || memchr(vals[i]->str, '\0', vals[i]->len)))
            rc = tpe_error(TPE_EFORMAT, "%s: '%s' holds a newline or NUL byte; use --json to get it escaped", pos[0],
                           pos[i]);
    }
    if (!rc) {
        if (json) {
            tpe_jw w;
            tpe_jw_init(&w, stdout);
            tpe_jw_object(&w);
            tpe_jw_key(&w, "file");
            tpe_jw_string(&w, pos[0]);
            tpe_jw_key(&w, "paths");
            tpe_jw_array(&w);
            for (i = 1; i < npos; i++) tpe_jw_string(&w, pos[i]);
            tpe_jw_array_end(&w);
            tpe_jw_key(&w, "values");
            tpe_jw_array(&w);
            for (i = 1; i < npos; i++) {
                if (len) tpe_jw_int(&w, (long long)(vals[i]->type == TPE_JSON_STRING ? vals[i]->len : vals[i]->count));
                else write_json(&w, vals[i]);
            }
            tpe_jw_array_end(&w);
            tpe_jw_object_end(&w);
            tpe_jw_end(&w);
        } else {
            for (i = 1; !rc && i < npos; i++) rc = print_plain(vals[i], &fo);
        }
    }
    free(vals);
    tpe_json_free(doc);
    free(text);
    free(pos);
    if (rc) return tpe_cli_fail("json-get");
    if (fflush(stdout) != 0) {
        tpe_error(TPE_EIO, "cannot write to stdout");
        return tpe_cli_fail("json-get");
    }
    return 0;
}
