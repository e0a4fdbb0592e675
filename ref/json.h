/*
 * json.h -- a small strict JSON parser (RFC 8259) and a JSON writer.
 *
 * The parser builds a read-only tree in one arena. It is written for
 * hostile input: depth is limited, every string escape is checked, strings
 * are decoded to UTF-8 (with their length, since "\u0000" is legal), invalid
 * UTF-8 in the input is rejected, and errors give line and column.
 * Integers are also kept exactly (as int64/uint64) when they fit, so
 * safetensors offsets above 2^53 are not rounded.
 */
#ifndef TPE_JSON_H
#define TPE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum tpe_json_type {
    TPE_JSON_NULL, TPE_JSON_FALSE, TPE_JSON_TRUE, TPE_JSON_NUMBER,
    TPE_JSON_STRING, TPE_JSON_ARRAY, TPE_JSON_OBJECT
} tpe_json_type;

typedef struct tpe_json {
    tpe_json_type type;
    double number;          /* NUMBER                                     */
    int is_integer;         /* NUMBER written without fraction/exponent   */
    int is_negative;
    uint64_t magnitude;     /* |value| when is_integer and it fits u64    */
    int magnitude_exact;    /* 1 when magnitude holds the exact |value|   */
    const char *str;        /* STRING: UTF-8, NUL-terminated, len bytes   */
    size_t len;
    size_t count;           /* ARRAY/OBJECT: number of items              */
    struct tpe_json *items; /* ARRAY/OBJECT: values                       */
    const char **keys;      /* OBJECT: keys (NUL-terminated)              */
    size_t *key_lens;       /* OBJECT: key lengths                        */
    size_t line, col;       /* where the value starts (1-based)           */
} tpe_json;

typedef struct tpe_json_doc tpe_json_doc;

/* Parse `len` bytes; `name` (a file name) goes into error messages. */
int tpe_json_parse(const char *text, size_t len, const char *name, tpe_json_doc **doc);
const tpe_json *tpe_json_root(const tpe_json_doc *doc);
void tpe_json_free(tpe_json_doc *doc);

/* Object member by key (NULL when absent or not an object). Linear. */
const tpe_json *tpe_json_get(const tpe_json *obj, const char *key);
/* Exact unsigned integer value: 0 on success. */
int tpe_json_u64(const tpe_json *v, uint64_t *out);
/* Key with an exact duplicate in the object, or NULL (sorts a copy). */
const char *tpe_json_duplicate_key(const tpe_json *obj);

/* ---- writer ------------------------------------------------------------ */
typedef struct tpe_jw {
    FILE *f;
    int depth;
    int need_comma[64];
    int after_key;
} tpe_jw;

void tpe_jw_init(tpe_jw *w, FILE *f);
void tpe_jw_object(tpe_jw *w);
void tpe_jw_object_end(tpe_jw *w);
void tpe_jw_array(tpe_jw *w);
void tpe_jw_array_end(tpe_jw *w);
void tpe_jw_key(tpe_jw *w, const char *key);
void tpe_jw_string(tpe_jw *w, const char *s);
void tpe_jw_string_n(tpe_jw *w, const char *s, size_t n);
/* Shortest decimal that reads back to the same double; NaN/Inf -> null. */
void tpe_jw_number(tpe_jw *w, double v);
void tpe_jw_int(tpe_jw *w, long long v);
void tpe_jw_bool(tpe_jw *w, int v);
void tpe_jw_null(tpe_jw *w);
void tpe_jw_f64s(tpe_jw *w, const double *v, size_t n);
void tpe_jw_ints(tpe_jw *w, const long long *v, size_t n);
/* Finish the document with a newline. */
void tpe_jw_end(tpe_jw *w);

/* Shortest round-trip formatting of a double into buf (>= 32 bytes). */
void tpe_format_double(char *buf, size_t cap, double v);

#endif
