/*
 * test_io.c -- .npy files, JSON, half precision, byte order, stb_ds.
 */
#include "array.h"
#include "io.h"
#include "json.h"
#include "platform.h"
#include "stbds.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tt_tmpdir(), name);
    return buf;
}

TEST(npy_roundtrip_every_dtype)
{
    const tpe_dtype types[] = {TPE_F16, TPE_F32, TPE_F64, TPE_I8, TPE_U8, TPE_I16, TPE_U16,
                               TPE_I32, TPE_U32, TPE_I64, TPE_U64, TPE_BOOL};
    size_t shape[3] = {2, 3, 5}, t, i;
    unsigned char data[2 * 3 * 5 * 8];
    for (i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i * 37 + 11);
    for (t = 0; t < sizeof types / sizeof types[0]; t++) {
        tpe_array a;
        int nd;
        size_t esz = tpe_dtype_size(types[t]);
        if (types[t] == TPE_BOOL)
            for (i = 0; i < 30; i++) data[i] = (unsigned char)(i & 1);
        for (nd = 0; nd <= 3; nd++) {
            size_t count = 1;
            int d;
            for (d = 0; d < nd; d++) count *= shape[d];
            CHECK_OK(tpe_npy_write(tmp_path("rt.npy"), types[t], nd, shape, data));
            CHECK_OK(tpe_npy_read(tmp_path("rt.npy"), &a));
            CHECK(a.dtype == types[t]);
            CHECK(a.ndim == nd);
            CHECK(a.count == count);
            for (d = 0; d < nd; d++) CHECK(a.shape[d] == shape[d]);
            CHECK(a.data && memcmp(a.data, data, count * esz) == 0);
            tpe_array_free(&a);
        }
    }
}

/* A file written by NumPy itself (big-endian '>f8', version 2.0 header). */
TEST(npy_reads_big_endian_and_v2)
{
    unsigned char buf[256];
    const char *hdr = "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }";
    size_t hl = strlen(hdr), n;
    tpe_array a;
    memcpy(buf, "\x93NUMPY\x02\x00", 8);
    tpe_store_le32(buf + 8, (uint32_t)hl);
    memcpy(buf + 12, hdr, hl);
    n = 12 + hl;
    /* 1.5 and -2.25 in big-endian IEEE double */
    memcpy(buf + n, "\x3f\xf8\x00\x00\x00\x00\x00\x00\xc0\x02\x00\x00\x00\x00\x00\x00", 16);
    n += 16;
    CHECK_OK(tpe_npy_parse(buf, n, "be.npy", &a));
    CHECK(a.dtype == TPE_F64 && a.count == 2);
    if (a.data) {
        CHECK(((double *)a.data)[0] == 1.5);
        CHECK(((double *)a.data)[1] == -2.25);
    }
    tpe_array_free(&a);
}

TEST(npy_rejects_malformed)
{
    unsigned char good[128 + 24];
    size_t shape[1] = {3};
    double v[3] = {1, 2, 3};
    tpe_mapping m;
    tpe_array a;
    unsigned char bad[200];
    CHECK_OK(tpe_npy_write(tmp_path("good.npy"), TPE_F64, 1, shape, v));
    CHECK_OK(tpe_map_file(tmp_path("good.npy"), &m));
    if (m.size > sizeof good) {
        tpe_unmap_file(&m);
        CHECK(0);
        return;
    }
    memcpy(good, m.data, m.size);
    CHECK(m.size == 128 + 24); /* preamble + header padded to a multiple of 64 bytes */
    CHECK_ERR(tpe_npy_parse(good, m.size - 1, "t.npy", &a), TPE_EFORMAT, "data is 23 bytes");
    CHECK_ERR(tpe_npy_parse(good, 9, "t.npy", &a), TPE_EFORMAT, "not a .npy");
    memcpy(bad, good, m.size);
    bad[8] = 0xff;
    bad[9] = 0xff; /* header length past the end */
    CHECK_ERR(tpe_npy_parse(bad, m.size, "t.npy", &a), TPE_EFORMAT, "runs past the end");
    memcpy(bad, good, m.size);
    bad[0] = 'X';
    CHECK_ERR(tpe_npy_parse(bad, m.size, "t.npy", &a), TPE_EFORMAT, "bad magic");
    memcpy(bad, good, m.size);
    memcpy(strstr((char *)bad + 10, "False"), "True ", 5);
    /* 1-D Fortran order is the same as C order */
    CHECK_OK(tpe_npy_parse(bad, m.size, "t.npy", &a));
    tpe_array_free(&a);
    memcpy(bad, good, m.size);
    memcpy(strstr((char *)bad + 10, "<f8"), "<c8", 3);
    CHECK_ERR(tpe_npy_parse(bad, m.size, "t.npy", &a), TPE_EFORMAT, "unsupported dtype");
    memcpy(bad, good, m.size);
    memcpy(strstr((char *)bad + 10, "(3,)"), "(9,)", 4);
    CHECK_ERR(tpe_npy_parse(bad, m.size, "t.npy", &a), TPE_EFORMAT, "shape and dtype need 72");
    tpe_unmap_file(&m);
    {
        /* a shape whose product overflows */
        const char *hdr = "{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536, 65536, 65536, 65536), }";
        size_t hl = strlen(hdr);
        memcpy(bad, "\x93NUMPY\x01\x00", 8);
        bad[8] = (unsigned char)hl;
        bad[9] = 0;
        memcpy(bad + 10, hdr, hl);
        CHECK_ERR(tpe_npy_parse(bad, 10 + hl, "t.npy", &a), TPE_EFORMAT, "overflow");
    }
    CHECK_ERR(tpe_npy_read(tmp_path("does-not-exist.npy"), &a), TPE_EIO, "cannot open");
}

TEST(npy_read_converts_and_checks_finite)
{
    size_t shape[2] = {2, 2};
    float f[4] = {1.0f, 2.5f, -3.0f, 4.0f};
    double d[4] = {1.0, 2.0, (double)NAN, 4.0};
    long long ii[4] = {1, 2, 3, 4};
    tpe_array a;
    CHECK_OK(tpe_npy_write(tmp_path("f.npy"), TPE_F32, 2, shape, f));
    CHECK_OK(tpe_npy_read_f64(tmp_path("f.npy"), &a));
    CHECK(a.dtype == TPE_F64 && ((double *)a.data)[1] == 2.5);
    tpe_array_free(&a);
    CHECK_OK(tpe_npy_read(tmp_path("f.npy"), &a));
    CHECK_ERR(tpe_array_convert(&a, TPE_I64, "f.npy"), TPE_EFORMAT, "element 1 (2.5) is not an integer");
    tpe_array_free(&a);
    CHECK_OK(tpe_npy_write(tmp_path("i.npy"), TPE_I64, 2, shape, ii));
    CHECK_OK(tpe_npy_read(tmp_path("i.npy"), &a));
    CHECK_OK(tpe_array_convert(&a, TPE_I32, "i.npy"));
    CHECK(a.dtype == TPE_I32 && ((int32_t *)a.data)[3] == 4);
    tpe_array_free(&a);
    CHECK_ERR(tpe_check_finite_f64(d, 4, 2, "X.npy"), TPE_EFORMAT, "X.npy: element [1, 0] is NaN");
}

TEST(outfile_is_whole_or_nothing)
{
    tpe_outfile o;
    const char *p = tmp_path("atomic.txt");
    remove(p);
    CHECK_OK(tpe_out_open(&o, p));
    fputs("half", o.f);
    CHECK(!tpe_is_file(p)); /* nothing under the final name yet */
    tpe_out_abort(&o);
    CHECK(!tpe_is_file(p));
    CHECK_OK(tpe_out_open(&o, p));
    fputs("whole", o.f);
    CHECK_OK(tpe_out_commit(&o));
    CHECK(tpe_is_file(p));
    CHECK_ERR(tpe_out_open(&o, "/nonexistent-dir/x.npy"), TPE_EIO, "cannot create");
}

TEST(half_precision_conversions)
{
    uint32_t h;
    size_t bad = 0;
    /* every binary16 value survives f16 -> f32 -> f16 (NaNs stay NaN) */
    for (h = 0; h < 65536; h++) {
        float f = tpe_f16_to_f32((uint16_t)h);
        uint16_t back = tpe_f32_to_f16(f);
        if (isnan(f)) {
            if ((back & 0x7c00u) != 0x7c00u || !(back & 0x3ffu)) bad++;
        } else if (back != h) {
            bad++;
        }
    }
    CHECKF(bad == 0, "%zu half values do not round-trip", bad);
    CHECK(tpe_f16_to_f32(0x3c00) == 1.0f);
    CHECK(tpe_f16_to_f32(0x0001) == 5.9604644775390625e-08f);
    CHECK(tpe_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(tpe_f32_to_f16(65520.0f) == 0x7c00);            /* rounds up to Inf */
    CHECK(tpe_f32_to_f16(1.0f + 0x1.0p-11f) == 0x3c00);   /* tie to even      */
    CHECK(tpe_f32_to_f16(1.0f + 0x1.8p-11f) == 0x3c01);
    CHECK(tpe_f32_to_f16(0x1.0p-25f) == 0x0000);          /* tie to even 0    */
    CHECK(tpe_f32_to_f16(0x1.8p-25f) == 0x0001);
    CHECK(tpe_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(tpe_f32_to_bf16(1.0f + 0x1.0p-8f) == 0x3f80);   /* tie to even      */
    CHECK(tpe_f32_to_bf16(1.0f + 0x1.8p-8f) == 0x3f81);
    CHECK(isnan(tpe_bf16_to_f32(tpe_f32_to_bf16(NAN))));
}

TEST(byte_order_helpers)
{
    unsigned char b[8];
    uint64_t v = 0x0102030405060708ull;
    uint32_t w = 0x11223344u;
    tpe_store_le64(b, v);
    CHECK(b[0] == 8 && b[7] == 1);
    CHECK(tpe_load_le64(b) == v);
    tpe_store_le32(b, w);
    CHECK(b[0] == 0x44 && tpe_load_le32(b) == w);
    tpe_bswap_inplace(b, 1, 4);
    CHECK(b[0] == 0x11 && b[3] == 0x44);
}

TEST(json_parses_valid_documents)
{
    const char *text = "{\"a\": [1, -2.5e3, 18446744073709551615, 9007199254740993], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\","
                       " \"t\": true, \"f\": false, \"n\": null, \"o\": {}, \"e\": [], \"z\": \"a\\u0000b\"}";
    tpe_json_doc *d;
    const tpe_json *r, *a, *s;
    uint64_t u;
    CHECK_OK(tpe_json_parse(text, strlen(text), "t.json", &d));
    if (!d) return;
    r = tpe_json_root(d);
    CHECK(r->type == TPE_JSON_OBJECT && r->count == 8);
    a = tpe_json_get(r, "a");
    CHECK(a && a->type == TPE_JSON_ARRAY && a->count == 4);
    if (a && a->count == 4) {
        CHECK(a->items[1].number == -2500.0 && !a->items[1].is_integer);
        CHECK(tpe_json_u64(&a->items[2], &u) == 0 && u == 18446744073709551615ull);
        CHECK(tpe_json_u64(&a->items[3], &u) == 0 && u == 9007199254740993ull); /* not rounded to 2^53 */
        CHECK(tpe_json_u64(&a->items[1], &u) != 0);
    }
    s = tpe_json_get(r, "s");
    CHECK(s && s->len == 8 && memcmp(s->str, "x\xc3\xa9\xf0\x9f\x98\x80\n", 8) == 0);
    s = tpe_json_get(r, "z");
    CHECK(s && s->len == 3 && s->str[1] == '\0');
    CHECK(tpe_json_get(r, "t")->type == TPE_JSON_TRUE);
    CHECK(tpe_json_get(r, "missing") == NULL);
    CHECK(tpe_json_duplicate_key(r) == NULL);
    tpe_json_free(d);
}

TEST(json_rejects_malformed_with_position)
{
    struct {
        const char *text, *msg;
    } bad[] = {
        {"", "end of input"},
        {"{\"a\":1,}", "object key"},
        {"[1 2]", "',' or ']'"},
        {"{\"a\" 1}", "':' expected"},
        {"\"abc", "unterminated"},
        {"\"a\\qb\"", "invalid escape"},
        {"\"\\ud800\"", "unpaired high surrogate"},
        {"\"\\udc00\"", "unpaired low surrogate"},
        {"\"\xff\"", "invalid UTF-8"},
        {"\"\xc0\x80\"", "invalid UTF-8"},
        {"\"\xed\xa0\x80\"", "invalid UTF-8"},
        {"01", "trailing"},
        {"1.", "digit expected"},
        {"-", "truncated"},
        {"tru", "invalid literal"},
        {"[1]x", "trailing"},
        {"\"a\tb\"", "control character"},
        {"{\n  \"a\": @}", "line 2, column 8"},
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tpe_json_doc *d = NULL;
        CHECK_ERR(tpe_json_parse(bad[i].text, strlen(bad[i].text), "bad.json", &d), TPE_EFORMAT, bad[i].msg);
        CHECK(d == NULL);
    }
    {
        /* 100000 nested arrays: an error, not a stack overflow */
        size_t n = 100000;
        char *deep = malloc(n + 1);
        tpe_json_doc *d = NULL;
        memset(deep, '[', n);
        deep[n] = '\0';
        CHECK_ERR(tpe_json_parse(deep, n, "deep.json", &d), TPE_EFORMAT, "nesting deeper");
        free(deep);
    }
    {
        const char *dup = "{\"a\":1,\"b\":2,\"a\":3}";
        tpe_json_doc *d = NULL;
        CHECK_OK(tpe_json_parse(dup, strlen(dup), "dup.json", &d));
        if (d) {
            const char *k = tpe_json_duplicate_key(tpe_json_root(d));
            CHECK(k && strcmp(k, "a") == 0);
            tpe_json_free(d);
        }
    }
}

TEST(json_writer_round_trips_doubles)
{
    double vals[] = {0.1, 1.0 / 3.0, 1e-300, 5e-324, 1.7976931348623157e308, -2.5, 123456789012345678.0, 0.0};
    size_t i;
    char buf[64];
    for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        tpe_format_double(buf, sizeof buf, vals[i]);
        CHECKF(strtod(buf, NULL) == vals[i], "%s does not read back as %.17g", buf, vals[i]);
    }
    tpe_format_double(buf, sizeof buf, 0.1);
    CHECK(strcmp(buf, "0.1") == 0);
    tpe_format_double(buf, sizeof buf, (double)NAN);
    CHECK(strcmp(buf, "null") == 0);
    /* whole numbers below 1e17 in plain notation, not %g's 1e+01 */
    {
        static const struct {
            double v;
            const char *s;
        } plain[] = {{10.0, "10"}, {-2000.0, "-2000"}, {1e16, "10000000000000000"}, {1.5e3, "1500"}, {1e17, "1e+17"}, {1e-5, "1e-05"}};
        for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
            tpe_format_double(buf, sizeof buf, plain[i].v);
            CHECKF(strcmp(buf, plain[i].s) == 0, "%.17g printed as %s, expected %s", plain[i].v, buf, plain[i].s);
        }
    }
    {
        FILE *f = fopen(tmp_path("w.json"), "w+b");
        tpe_jw w;
        char out[256];
        size_t n;
        tpe_json_doc *d = NULL;
        if (!f) {
            CHECK(f != NULL);
            return;
        }
        tpe_jw_init(&w, f);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "x");
        tpe_jw_f64s(&w, vals, 3);
        tpe_jw_key(&w, "s");
        tpe_jw_string(&w, "q\"\\\n\x01");
        tpe_jw_key(&w, "b");
        tpe_jw_bool(&w, 1);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
        rewind(f);
        n = fread(out, 1, sizeof out - 1, f);
        out[n] = '\0';
        fclose(f);
        CHECK_OK(tpe_json_parse(out, n, "w.json", &d));
        if (d) {
            const tpe_json *x = tpe_json_get(tpe_json_root(d), "x");
            const tpe_json *s = tpe_json_get(tpe_json_root(d), "s");
            CHECK(x && x->count == 3 && x->items[1].number == 1.0 / 3.0);
            CHECK(s && s->len == 5 && memcmp(s->str, "q\"\\\n\x01", 5) == 0);
            tpe_json_free(d);
        }
    }
}

/* stb_ds through the strict-C99 wrapper: a string-keyed hash map. */
TEST(stb_ds_hash_map_under_c99)
{
    struct {
        char *key;
        int value;
    } *map = NULL;
    int *arr = NULL;
    char key[32];
    int i, found = 0;
    sh_new_strdup(map);
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "tok%d", i);
        shput(map, key, i * 3);
        arrput(arr, i);
    }
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "tok%d", i);
        if (shgeti(map, key) >= 0 && shget(map, key) == i * 3) found++;
    }
    CHECK(found == 1000);
    CHECK(shgeti(map, "absent") < 0);
    CHECK(arrlen(arr) == 1000 && arr[999] == 999);
    shfree(map);
    arrfree(arr);
}
