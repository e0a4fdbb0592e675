/*
 * test_safetensors.c -- the safetensors reader against hand-built files
 * (valid and malformed), the writer's round trip, sharded indexes, element
 * conversion and the rounding of the encoder.
 */
#include "io.h"
#include "platform.h"
#include "safetensors.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tt_tmpdir(), name);
    return buf[k];
}

/* A safetensors image from a header text and `data_len` bytes of data
 * (byte i = i mod 251). Returns a malloc'd buffer of *len bytes. */
static unsigned char *image(const char *header, size_t data_len, size_t *len)
{
    size_t hl = strlen(header);
    unsigned char *b = malloc(8 + hl + data_len + 1);
    size_t i;
    tpe_store_le64(b, (uint64_t)hl);
    memcpy(b + 8, header, hl);
    for (i = 0; i < data_len; i++) b[8 + hl + i] = (unsigned char)(i % 251);
    *len = 8 + hl + data_len;
    return b;
}

static int parse_header(const char *header, size_t data_len, tpe_st_file *f)
{
    size_t len;
    unsigned char *b = image(header, data_len, &len);
    int rc = tpe_st_parse(b, len, "t.safetensors", f);
    if (rc == TPE_OK) tpe_st_close(f);
    free(b);
    return rc;
}

TEST(st_parses_valid_header)
{
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[24,30]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                    "\"s\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[30,38]},"
                    "\"z\":{\"dtype\":\"BF16\",\"shape\":[0,4],\"data_offsets\":[38,38]}}  ";
    size_t len;
    unsigned char *b = image(h, 38, &len);
    tpe_st_file f;
    const tpe_st_tensor *t;
    CHECK_OK(tpe_st_parse(b, len, "ok.safetensors", &f));
    CHECK(f.n == 4);
    t = tpe_st_find(&f, "a");
    CHECK(t && t->dtype == TPE_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->count == 6);
    CHECK(t && t->data == b + 8 + strlen(h));
    t = tpe_st_find(&f, "s");
    CHECK(t && t->ndim == 0 && t->count == 1 && t->dtype == TPE_I64);
    t = tpe_st_find(&f, "z");
    CHECK(t && t->count == 0 && t->dtype == TPE_BF16);
    CHECK(tpe_st_find(&f, "missing") == NULL);
    /* sorted by name */
    CHECK(strcmp(f.tensors[0].name, "a") == 0 && strcmp(f.tensors[3].name, "z") == 0);
    tpe_st_close(&f);
    free(b);
}

/* Every malformed header is an error that names the problem (and the tensor). */
TEST(st_rejects_malformed_headers)
{
    tpe_st_file f;
    unsigned char small[8] = {2, 0, 0, 0, 0, 0, 0, 0};
    size_t len;
    unsigned char *b;
    /* fewer than 8 bytes */
    CHECK_ERR(tpe_st_parse(small, 5, "t.safetensors", &f), TPE_EFORMAT, "too short");
    /* absurd and oversized header lengths */
    b = image("{}", 0, &len);
    tpe_store_le64(b, 0xffffffffffffff00ull);
    CHECK_ERR(tpe_st_parse(b, len, "t.safetensors", &f), TPE_EFORMAT, "absurd");
    tpe_store_le64(b, 1000);
    CHECK_ERR(tpe_st_parse(b, len, "t.safetensors", &f), TPE_EFORMAT, "exceeds");
    free(b);
    CHECK_ERR(parse_header("[1,2]", 0, &f), TPE_EFORMAT, "start with '{'");
    CHECK_ERR(parse_header("{\"a\":", 0, &f), TPE_EFORMAT, "t.safetensors (header): invalid JSON");
    CHECK_ERR(parse_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                           "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, &f),
              TPE_EFORMAT, "'a' appears twice");
    CHECK_ERR(parse_header("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &f), TPE_EFORMAT, "'w': missing or non-string \"dtype\"");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &f), TPE_EFORMAT, "unknown dtype");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, &f), TPE_EFORMAT, "shape[0]");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, &f), TPE_EFORMAT, "shape[0]");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, &f), TPE_EFORMAT, "two integers");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, &f), TPE_EFORMAT, "backwards");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, &f), TPE_EFORMAT,
              "'w': data_offsets [0, 8) end past the data section");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, &f), TPE_EFORMAT,
              "'w': F32 shape [3] needs 12 bytes");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[2097152,2097152,2097152],\"data_offsets\":[0,8]}}", 8, &f),
              TPE_EFORMAT, "overflows");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[18446744073709551615],\"data_offsets\":[0,8]}}", 8, &f),
              TPE_EFORMAT, "overflows");
    CHECK_ERR(parse_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                           "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, &f),
              TPE_EFORMAT, "overlap");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 4, &f), TPE_EFORMAT,
              "unexpected key 'extra'");
    CHECK_ERR(parse_header("{\"__metadata__\":{\"format\":1}}", 0, &f), TPE_EFORMAT, "__metadata__['format']");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, &f), TPE_EFORMAT,
              "dimensions");
    CHECK_ERR(parse_header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]}}", 4, &f),
              TPE_EFORMAT, "data_offsets");
}

/* Truncating a valid file anywhere, or corrupting its header bytes, gives
 * an error or a file whose every range still lies inside it -- never a
 * read out of bounds (run under ASan in CI). */
TEST(st_truncation_and_corruption_never_crash)
{
    const char *h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                    "\"b\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[24,34]}}";
    size_t len, cut, i, iters = tt_quick() ? 2000 : 20000, accepted = 0;
    unsigned char *b = image(h, 34, &len), *c = malloc(len);
    tpe_st_file f;
    tpe_rng *r = tt_rng();
    for (cut = 0; cut < len; cut++) {
        memcpy(c, b, cut);
        CHECKF(tpe_st_parse(c, cut, "cut.safetensors", &f) != TPE_OK, "a file cut to %zu of %zu bytes was accepted", cut, len);
    }
    CHECK_OK(tpe_st_parse(b, len, "whole.safetensors", &f));
    tpe_st_close(&f);
    for (i = 0; i < iters; i++) {
        size_t k, flips = 1 + tpe_rng_below(r, 3);
        memcpy(c, b, len);
        for (k = 0; k < flips; k++) c[8 + tpe_rng_below(r, strlen(h))] = (unsigned char)tpe_rng_below(r, 256);
        if (tpe_st_parse(c, len, "fuzz.safetensors", &f) == TPE_OK) {
            size_t j;
            accepted++;
            for (j = 0; j < f.n; j++)
                CHECK(f.tensors[j].data >= c + 8 && f.tensors[j].data + (f.tensors[j].end - f.tensors[j].begin) <= c + len);
            tpe_st_close(&f);
        } else {
            CHECK(tpe_errmsg()[0] != '\0');
        }
    }
    NOTE("%zu of %zu corrupted headers still valid", accepted, iters);
    free(b);
    free(c);
}

TEST(st_write_roundtrip)
{
    float a[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
    double d[2] = {3.141592653589793, -1e300};
    uint16_t h[3] = {0x3c00, 0xc000, 0x7bff}, bf[2] = {0x3f80, 0xc040};
    int64_t s = -42;
    tpe_st_entry e[5];
    tpe_st_file f;
    const tpe_st_tensor *t;
    memset(e, 0, sizeof e);
    e[0].name = "layer.\"quoted\"\\name", e[0].dtype = TPE_F32, e[0].ndim = 2, e[0].shape[0] = 2, e[0].shape[1] = 3, e[0].data = a;
    e[1].name = "d", e[1].dtype = TPE_F64, e[1].ndim = 1, e[1].shape[0] = 2, e[1].data = d;
    e[2].name = "h", e[2].dtype = TPE_F16, e[2].ndim = 1, e[2].shape[0] = 3, e[2].data = h;
    e[3].name = "bf", e[3].dtype = TPE_BF16, e[3].ndim = 1, e[3].shape[0] = 2, e[3].data = bf;
    e[4].name = "scalar", e[4].dtype = TPE_I64, e[4].ndim = 0, e[4].data = &s;
    CHECK_OK(tpe_st_write(tmp_path("rt.safetensors"), e, 5));
    CHECK_OK(tpe_st_open(tmp_path("rt.safetensors"), &f));
    CHECK((8 + f.header_len) % 8 == 0);
    t = tpe_st_find(&f, "layer.\"quoted\"\\name");
    CHECK(t && t->count == 6);
    if (t) {
        size_t i;
        for (i = 0; i < 6; i++) CHECK(tpe_st_elem_f64(TPE_F32, t->data, i) == (double)a[i]);
        CHECK(signbit(tpe_st_elem_f64(TPE_F32, t->data, 4)));
    }
    t = tpe_st_find(&f, "d");
    CHECK(t && tpe_st_elem_f64(TPE_F64, t->data, 0) == d[0] && tpe_st_elem_f64(TPE_F64, t->data, 1) == d[1]);
    t = tpe_st_find(&f, "h");
    CHECK(t && tpe_st_elem_f64(TPE_F16, t->data, 0) == 1.0 && tpe_st_elem_f64(TPE_F16, t->data, 1) == -2.0 &&
          tpe_st_elem_f64(TPE_F16, t->data, 2) == 65504.0);
    t = tpe_st_find(&f, "bf");
    CHECK(t && tpe_st_elem_f64(TPE_BF16, t->data, 0) == 1.0 && tpe_st_elem_f64(TPE_BF16, t->data, 1) == -3.0);
    t = tpe_st_find(&f, "scalar");
    CHECK(t && t->ndim == 0 && t->count == 1 && (int64_t)tpe_load_le64(t->data) == -42);
    tpe_st_close(&f);
    /* a failed write leaves nothing behind */
    e[0].dtype = TPE_BOOL;
    CHECK_ERR(tpe_st_write(tmp_path("bad.safetensors"), e, 1), TPE_EINVAL, "cannot write dtype");
    CHECK(!tpe_is_file(tmp_path("bad.safetensors")));
}

/* Elements decode from little-endian bytes whatever the host order. */
TEST(st_element_conversion_is_byte_order_free)
{
    /* 1.0f, -2.5f as little-endian bytes; 0.1 as a little-endian double */
    const unsigned char f32[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0};
    const unsigned char f64[8] = {0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f};
    const unsigned char f16[4] = {0x00, 0x3c, 0x01, 0x00}; /* 1.0, smallest subnormal 2^-24 */
    const unsigned char bf16[2] = {0xc9, 0x40};            /* 0x40c9 = 6.28125 */
    float out32[2];
    double out64[2];
    tpe_st_to_f32(TPE_F32, f32, 0, 2, out32);
    CHECK((double)out32[0] == 1.0 && (double)out32[1] == -2.5);
    tpe_st_to_f64(TPE_F64, f64, 0, 1, out64);
    CHECK(out64[0] == 0.1);
    tpe_st_to_f64(TPE_F16, f16, 0, 2, out64);
    CHECK(out64[0] == 1.0 && out64[1] == ldexp(1.0, -24));
    tpe_st_to_f32(TPE_BF16, bf16, 0, 1, out32);
    CHECK((double)out32[0] == 6.28125);
    tpe_st_to_f32(TPE_F32, f32, 1, 1, out32);
    CHECK((double)out32[0] == -2.5);
}

/* tpe_st_encode rounds double -> F16 / BF16 once, to nearest even: the result
 * is never farther from x than its neighbours, and ties go to the even one. */
TEST(st_encode_rounds_once)
{
    size_t i, n = tt_quick() ? 20000 : 200000, bad = 0;
    tpe_rng *r = tt_rng();
    for (i = 0; i < n; i++) {
        int t;
        double x = ldexp(2.0 * tpe_rng_uniform(r) - 1.0, (int)tpe_rng_below(r, 30) - 15);
        if (i % 7 == 0) { /* exact ties and near-ties between half-precision neighbours */
            double lo = tpe_st_elem_f64(TPE_F16, (const unsigned char *)"\x00\x3c", 0);
            x = lo + ldexp(1.0, -11) + (i % 14 == 0 ? 0.0 : ldexp(1.0, -40));
        }
        for (t = 0; t < 2; t++) {
            tpe_dtype dt = t ? TPE_BF16 : TPE_F16;
            unsigned char raw[2], nb[2];
            uint16_t h, k;
            double v, best = HUGE_VAL;
            int dir;
            tpe_st_encode(dt, &x, 1, raw);
            v = tpe_st_elem_f64(dt, raw, 0);
            h = tpe_load_le16(raw);
            for (dir = -1; dir <= 1; dir += 2) {
                double w;
                k = (uint16_t)(h + dir);
                nb[0] = (unsigned char)(k & 0xff);
                nb[1] = (unsigned char)(k >> 8);
                w = tpe_st_elem_f64(dt, nb, 0);
                if (isfinite(w) && fabs(w - x) < best) best = fabs(w - x);
            }
            if (fabs(v - x) > best || (fabs(v - x) == best && (h & 1))) bad++;
        }
    }
    CHECKF(bad == 0, "%zu of %zu encodings were not the nearest (ties to even)", bad, 2 * n);
    NOTE("%zu doubles encoded to F16 and BF16", n);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* model.safetensors.index.json: shards found, names checked both ways. */
TEST(st_sharded_index)
{
    char dir[600];
    float a[2] = {1, 2}, b[3] = {3, 4, 5};
    tpe_st_entry e[2];
    tpe_st_set s;
    const tpe_st_tensor *t;
    snprintf(dir, sizeof dir, "%s", tmp_path("shards"));
    CHECK_OK(tpe_mkdir(dir));
    memset(e, 0, sizeof e);
    e[0].name = "a", e[0].dtype = TPE_F32, e[0].ndim = 1, e[0].shape[0] = 2, e[0].data = a;
    e[1].name = "b", e[1].dtype = TPE_F32, e[1].ndim = 1, e[1].shape[0] = 3, e[1].data = b;
    CHECK_OK(tpe_st_write(tmp_path("shards/one.safetensors"), &e[0], 1));
    CHECK_OK(tpe_st_write(tmp_path("shards/two.safetensors"), &e[1], 1));
    CHECK_ERR(tpe_st_set_open_dir(dir, &s), TPE_EIO, "neither model.safetensors nor");
    write_text(tmp_path("shards/model.safetensors.index.json"),
               "{\"metadata\":{},\"weight_map\":{\"a\":\"one.safetensors\",\"b\":\"two.safetensors\"}}");
    CHECK_OK(tpe_st_set_open_dir(dir, &s));
    CHECK(s.nfiles == 2 && s.n == 2);
    t = tpe_st_set_find(&s, "b", NULL);
    CHECK(t && tpe_st_elem_f64(TPE_F32, t->data, 2) == 5.0);
    tpe_st_set_close(&s);
    write_text(tmp_path("shards/model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"one.safetensors\",\"b\":\"one.safetensors\"}}");
    CHECK_ERR(tpe_st_set_open_dir(dir, &s), TPE_EFORMAT, "'b' is listed in shard one.safetensors but not stored there");
    /* an unlisted shard is not read; an unlisted tensor in a listed shard is an error */
    write_text(tmp_path("shards/model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"one.safetensors\"}}");
    CHECK_OK(tpe_st_set_open_dir(dir, &s));
    CHECK(s.n == 1);
    tpe_st_set_close(&s);
    write_text(tmp_path("shards/model.safetensors.index.json"), "{\"weight_map\":{\"b\":\"two.safetensors\"}}");
    CHECK_OK(tpe_st_write(tmp_path("shards/two.safetensors"), e, 2));
    CHECK_ERR(tpe_st_set_open_dir(dir, &s), TPE_EFORMAT, "tensor 'a' in");
    CHECK_OK(tpe_st_write(tmp_path("shards/two.safetensors"), &e[1], 1));
    write_text(tmp_path("shards/model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"../one.safetensors\"}}");
    CHECK_ERR(tpe_st_set_open_dir(dir, &s), TPE_EFORMAT, "file name inside the model directory");
    write_text(tmp_path("shards/model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"one.safetensors\",\"b\":\"three.safetensors\"}}");
    CHECK_ERR(tpe_st_set_open_dir(dir, &s), TPE_EIO, "three.safetensors");
    write_text(tmp_path("shards/model.safetensors.index.json"), "{\"weights\":{}}");
    CHECK_ERR(tpe_st_set_open_dir(dir, &s), TPE_EFORMAT, "weight_map");
    /* the same name in two shards */
    CHECK_OK(tpe_st_write(tmp_path("shards/two.safetensors"), e, 2));
    write_text(tmp_path("shards/model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"one.safetensors\",\"b\":\"two.safetensors\"}}");
    CHECK_ERR(tpe_st_set_open_dir(dir, &s), TPE_EFORMAT, "stored twice");
}
