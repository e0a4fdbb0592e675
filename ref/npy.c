/*
 * npy.c -- reading and writing NumPy .npy files, any host byte order.
 */
#include "array.h"
#include "io.h"
#include "platform.h"
#include "tpe.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t tpe_dtype_size(tpe_dtype t)
{
    switch (t) {
    case TPE_I8: case TPE_U8: case TPE_BOOL: return 1;
    case TPE_F16: case TPE_BF16: case TPE_I16: case TPE_U16: return 2;
    case TPE_F32: case TPE_I32: case TPE_U32: return 4;
    case TPE_F64: case TPE_I64: case TPE_U64: return 8;
    }
    return 0;
}

const char *tpe_dtype_name(tpe_dtype t)
{
    static const char *const names[] = {"f16", "bf16", "f32", "f64", "i8", "u8", "i16", "u16",
                                        "i32", "u32", "i64", "u64", "bool"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

void tpe_array_free(tpe_array *a)
{
    tpe_free(a->data);
    a->data = NULL;
    a->count = 0;
    a->ndim = 0;
}

/* ---- header parsing: a Python dict literal with three known keys ------- */
typedef struct hdr_cursor {
    const char *s, *end;
} hdr_cursor;

static void hdr_skip(hdr_cursor *c)
{
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')) c->s++;
}

static int hdr_lit(hdr_cursor *c, char ch)
{
    hdr_skip(c);
    if (c->s < c->end && *c->s == ch) { c->s++; return 1; }
    return 0;
}

/* A quoted string ('...' or "...") of at most cap-1 characters. */
static int hdr_str(hdr_cursor *c, char *out, size_t cap)
{
    char q;
    size_t n = 0;
    hdr_skip(c);
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"')) return 0;
    q = *c->s++;
    while (c->s < c->end && *c->s != q) {
        if (n + 1 >= cap) return 0;
        out[n++] = *c->s++;
    }
    if (c->s >= c->end) return 0;
    c->s++;
    out[n] = '\0';
    return 1;
}

static int parse_descr(const char *d, tpe_dtype *t, int *swap, const char *name)
{
    char order = d[0];
    const char *k = d + 1;
    int little = tpe_host_little_endian();
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return tpe_error(TPE_EFORMAT, "%s: unsupported dtype '%s' (expected e.g. '<f8')", name, d);
    if (strcmp(k, "f2") == 0) *t = TPE_F16;
    else if (strcmp(k, "f4") == 0) *t = TPE_F32;
    else if (strcmp(k, "f8") == 0) *t = TPE_F64;
    else if (strcmp(k, "i1") == 0) *t = TPE_I8;
    else if (strcmp(k, "u1") == 0) *t = TPE_U8;
    else if (strcmp(k, "b1") == 0) *t = TPE_BOOL;
    else if (strcmp(k, "i2") == 0) *t = TPE_I16;
    else if (strcmp(k, "u2") == 0) *t = TPE_U16;
    else if (strcmp(k, "i4") == 0) *t = TPE_I32;
    else if (strcmp(k, "u4") == 0) *t = TPE_U32;
    else if (strcmp(k, "i8") == 0) *t = TPE_I64;
    else if (strcmp(k, "u8") == 0) *t = TPE_U64;
    else return tpe_error(TPE_EFORMAT, "%s: unsupported dtype '%s' (tpe reads f2 f4 f8 i1 u1 b1 i2 u2 i4 u4 i8 u8)", name, d);
    if (order == '|' || order == '=') *swap = 0;
    else *swap = (order == '<') != little;
    if (tpe_dtype_size(*t) == 1) *swap = 0;
    return TPE_OK;
}

int tpe_npy_parse(const unsigned char *buf, size_t len, const char *name, tpe_array *a)
{
    size_t hlen, hstart, data_bytes, i;
    int major, swap = 0, have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    char key[32], descr[32];
    hdr_cursor c;
    tpe_dtype t = TPE_F64;
    size_t shape[TPE_MAXDIM];
    int ndim = 0;

    memset(a, 0, sizeof *a);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return tpe_error(TPE_EFORMAT, "%s: not a .npy file (bad magic)", name);
    major = buf[6];
    if (major == 1) {
        hlen = tpe_load_le16(buf + 8);
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return tpe_error(TPE_EFORMAT, "%s: truncated .npy header", name);
        hlen = tpe_load_le32(buf + 8);
        hstart = 12;
    } else {
        return tpe_error(TPE_EFORMAT, "%s: unsupported .npy version %d.%d", name, major, buf[7]);
    }
    if (hlen > len - hstart) return tpe_error(TPE_EFORMAT, "%s: header length %zu runs past the end of the file (%zu bytes)", name, hlen, len);

    c.s = (const char *)buf + hstart;
    c.end = c.s + hlen;
    if (!hdr_lit(&c, '{')) return tpe_error(TPE_EFORMAT, "%s: header is not a dict", name);
    for (;;) {
        if (hdr_lit(&c, '}')) break;
        if (!hdr_str(&c, key, sizeof key) || !hdr_lit(&c, ':'))
            return tpe_error(TPE_EFORMAT, "%s: malformed header dict", name);
        if (strcmp(key, "descr") == 0) {
            if (!hdr_str(&c, descr, sizeof descr)) return tpe_error(TPE_EFORMAT, "%s: 'descr' is not a simple dtype string (structured arrays are not supported)", name);
            if (parse_descr(descr, &t, &swap, name)) return TPE_EFORMAT;
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            hdr_skip(&c);
            if ((size_t)(c.end - c.s) >= 4 && memcmp(c.s, "True", 4) == 0) { fortran = 1; c.s += 4; }
            else if ((size_t)(c.end - c.s) >= 5 && memcmp(c.s, "False", 5) == 0) { fortran = 0; c.s += 5; }
            else return tpe_error(TPE_EFORMAT, "%s: 'fortran_order' is not True or False", name);
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (!hdr_lit(&c, '(')) return tpe_error(TPE_EFORMAT, "%s: 'shape' is not a tuple", name);
            for (;;) {
                size_t v = 0;
                int digits = 0;
                if (hdr_lit(&c, ')')) break;
                hdr_skip(&c);
                while (c.s < c.end && *c.s >= '0' && *c.s <= '9') {
                    size_t d = (size_t)(*c.s - '0');
                    if (v > ((size_t)-1 - d) / 10) return tpe_error(TPE_EFORMAT, "%s: shape dimension too large", name);
                    v = v * 10 + d;
                    c.s++;
                    digits++;
                }
                if (c.s < c.end && *c.s == 'L') c.s++; /* Python 2 long */
                if (!digits) return tpe_error(TPE_EFORMAT, "%s: malformed shape", name);
                if (ndim == TPE_MAXDIM) return tpe_error(TPE_EFORMAT, "%s: more than %d dimensions", name, TPE_MAXDIM);
                shape[ndim++] = v;
                if (hdr_lit(&c, ')')) break;
                if (!hdr_lit(&c, ',')) return tpe_error(TPE_EFORMAT, "%s: malformed shape", name);
            }
            have_shape = 1;
        } else {
            return tpe_error(TPE_EFORMAT, "%s: unexpected header key '%s'", name, key);
        }
        if (hdr_lit(&c, '}')) break;
        if (!hdr_lit(&c, ',')) return tpe_error(TPE_EFORMAT, "%s: malformed header dict", name);
    }
    if (!have_descr || !have_order || !have_shape)
        return tpe_error(TPE_EFORMAT, "%s: header lacks %s", name, !have_descr ? "'descr'" : !have_order ? "'fortran_order'" : "'shape'");
    if (fortran && ndim > 1)
        return tpe_error(TPE_EFORMAT, "%s: Fortran-order arrays are not supported; save with np.ascontiguousarray", name);

    a->count = 1;
    for (i = 0; i < (size_t)ndim; i++)
        if (tpe_size_mul(a->count, shape[i], &a->count)) return tpe_error(TPE_EFORMAT, "%s: shape overflows", name);
    if (tpe_size_mul(a->count, tpe_dtype_size(t), &data_bytes))
        return tpe_error(TPE_EFORMAT, "%s: data size overflows", name);
    if (data_bytes != len - hstart - hlen)
        return tpe_error(TPE_EFORMAT, "%s: data is %zu bytes, shape and dtype need %zu", name, len - hstart - hlen, data_bytes);

    a->dtype = t;
    a->ndim = ndim;
    for (i = 0; i < (size_t)ndim; i++) a->shape[i] = shape[i];
    a->data = tpe_alloc(data_bytes ? data_bytes : 1, name);
    if (!a->data) return TPE_ENOMEM;
    if (data_bytes) memcpy(a->data, buf + hstart + hlen, data_bytes);
    if (swap) tpe_bswap_inplace(a->data, a->count, tpe_dtype_size(t));
    return TPE_OK;
}

int tpe_npy_read(const char *path, tpe_array *a)
{
    tpe_mapping m;
    int rc = tpe_map_file(path, &m);
    if (rc) { memset(a, 0, sizeof *a); return rc; }
    rc = tpe_npy_parse(m.data, m.size, path, a);
    tpe_unmap_file(&m);
    return rc;
}

static double elem_as_f64(const void *data, tpe_dtype t, size_t i)
{
    const unsigned char *p = (const unsigned char *)data + i * tpe_dtype_size(t);
    switch (t) {
    case TPE_F16: { uint16_t v; memcpy(&v, p, 2); return (double)tpe_f16_to_f32(v); }
    case TPE_BF16: { uint16_t v; memcpy(&v, p, 2); return (double)tpe_bf16_to_f32(v); }
    case TPE_F32: { float v; memcpy(&v, p, 4); return (double)v; }
    case TPE_F64: { double v; memcpy(&v, p, 8); return v; }
    case TPE_I8: { int8_t v; memcpy(&v, p, 1); return (double)v; }
    case TPE_U8: case TPE_BOOL: return (double)*p;
    case TPE_I16: { int16_t v; memcpy(&v, p, 2); return (double)v; }
    case TPE_U16: { uint16_t v; memcpy(&v, p, 2); return (double)v; }
    case TPE_I32: { int32_t v; memcpy(&v, p, 4); return (double)v; }
    case TPE_U32: { uint32_t v; memcpy(&v, p, 4); return (double)v; }
    case TPE_I64: { int64_t v; memcpy(&v, p, 8); return (double)v; }
    case TPE_U64: { uint64_t v; memcpy(&v, p, 8); return (double)v; }
    }
    return 0.0;
}

static int is_int_dtype(tpe_dtype t) { return t >= TPE_I8 && t <= TPE_U64; }

int tpe_array_convert(tpe_array *a, tpe_dtype to, const char *name)
{
    size_t i, n = a->count;
    void *out;
    if (a->dtype == to) return TPE_OK;
    out = tpe_alloc_array(n ? n : 1, tpe_dtype_size(to), name);
    if (!out) return TPE_ENOMEM;
    for (i = 0; i < n; i++) {
        double v;
        /* 64-bit integers are converted directly to keep them exact */
        if ((a->dtype == TPE_I64 || a->dtype == TPE_U64) && (to == TPE_I64 || to == TPE_I32)) {
            int64_t iv;
            uint64_t uv;
            if (a->dtype == TPE_I64) memcpy(&iv, (char *)a->data + 8 * i, 8);
            else {
                memcpy(&uv, (char *)a->data + 8 * i, 8);
                if (uv > (uint64_t)INT64_MAX) { tpe_free(out); return tpe_error(TPE_EFORMAT, "%s: element %zu (%llu) does not fit %s", name, i, (unsigned long long)uv, tpe_dtype_name(to)); }
                iv = (int64_t)uv;
            }
            if (to == TPE_I32) {
                int32_t v32;
                if (iv < INT32_MIN || iv > INT32_MAX) { tpe_free(out); return tpe_error(TPE_EFORMAT, "%s: element %zu (%lld) does not fit i32", name, i, (long long)iv); }
                v32 = (int32_t)iv;
                memcpy((char *)out + 4 * i, &v32, 4);
            } else {
                memcpy((char *)out + 8 * i, &iv, 8);
            }
            continue;
        }
        v = elem_as_f64(a->data, a->dtype, i);
        switch (to) {
        case TPE_F64: memcpy((char *)out + 8 * i, &v, 8); break;
        case TPE_F32: { float f = (float)v; memcpy((char *)out + 4 * i, &f, 4); break; }
        case TPE_I32: case TPE_I64: {
            if (!is_int_dtype(a->dtype) && a->dtype != TPE_BOOL && (v != floor(v) || !isfinite(v))) {
                tpe_free(out);
                return tpe_error(TPE_EFORMAT, "%s: element %zu (%g) is not an integer", name, i, v);
            }
            if (to == TPE_I32) {
                int32_t v32;
                if (v < -2147483648.0 || v > 2147483647.0) { tpe_free(out); return tpe_error(TPE_EFORMAT, "%s: element %zu (%g) does not fit i32", name, i, v); }
                v32 = (int32_t)v;
                memcpy((char *)out + 4 * i, &v32, 4);
            } else {
                int64_t v64;
                if (v < -9223372036854775808.0 || v >= 9223372036854775808.0) { tpe_free(out); return tpe_error(TPE_EFORMAT, "%s: element %zu (%g) does not fit i64", name, i, v); }
                v64 = (int64_t)v;
                memcpy((char *)out + 8 * i, &v64, 8);
            }
            break;
        }
        default:
            tpe_free(out);
            return tpe_error(TPE_EINVAL, "%s: cannot convert to %s", name, tpe_dtype_name(to));
        }
    }
    tpe_free(a->data);
    a->data = out;
    a->dtype = to;
    return TPE_OK;
}

int tpe_npy_read_f64(const char *path, tpe_array *a)
{
    int rc = tpe_npy_read(path, a);
    if (!rc) rc = tpe_array_convert(a, TPE_F64, path);
    if (rc) tpe_array_free(a);
    return rc;
}

int tpe_npy_read_f32(const char *path, tpe_array *a)
{
    int rc = tpe_npy_read(path, a);
    if (!rc) rc = tpe_array_convert(a, TPE_F32, path);
    if (rc) tpe_array_free(a);
    return rc;
}

static const char *descr_of(tpe_dtype t)
{
    switch (t) {
    case TPE_F16: return "<f2";
    case TPE_F32: return "<f4";
    case TPE_F64: return "<f8";
    case TPE_I8: return "|i1";
    case TPE_U8: return "|u1";
    case TPE_BOOL: return "|b1";
    case TPE_I16: return "<i2";
    case TPE_U16: return "<u2";
    case TPE_I32: return "<i4";
    case TPE_U32: return "<u4";
    case TPE_I64: return "<i8";
    case TPE_U64: return "<u8";
    case TPE_BF16: return NULL;
    }
    return NULL;
}

int tpe_npy_header(char *buf, size_t cap, tpe_dtype t, int ndim, const size_t *shape, size_t *len)
{
    char header[512];
    char dims[256];
    size_t n = 1, i, hl, total;
    const char *descr = descr_of(t);
    *len = 0;
    if (!descr) return tpe_error(TPE_EINVAL, "cannot write dtype %s to .npy", tpe_dtype_name(t));
    if (ndim < 0 || ndim > TPE_MAXDIM) return tpe_error(TPE_EINVAL, "%d dimensions", ndim);
    dims[0] = '\0';
    for (i = 0; i < (size_t)ndim; i++) {
        char one[32];
        if (tpe_size_mul(n, shape[i], &n)) return tpe_error(TPE_EINVAL, "shape overflows");
        /* Python tuple syntax: "(3, 4)", "(3,)", "()" */
        snprintf(one, sizeof one, "%s%zu", i ? ", " : "", shape[i]);
        strcat(dims, one);
    }
    if (ndim == 1) strcat(dims, ",");
    hl = (size_t)snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims);
    total = 10 + hl + 1;
    total = (total + 63) / 64 * 64;
    hl = total - 10; /* header length including padding and '\n' */
    if (hl > 65535 || hl >= sizeof header || total > cap) return tpe_error(TPE_EINVAL, "header too long");
    memset(header + strlen(header), ' ', hl - strlen(header));
    header[hl - 1] = '\n';
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hl & 0xff);
    buf[9] = (char)(hl >> 8);
    memcpy(buf + 10, header, hl);
    *len = total;
    return TPE_OK;
}

int tpe_npy_write(const char *path, tpe_dtype t, int ndim, const size_t *shape, const void *data)
{
    char header[600];
    size_t n = 1, i, hl, esz = tpe_dtype_size(t), bytes;
    tpe_outfile o;
    int rc;

    if ((rc = tpe_npy_header(header, sizeof header, t, ndim, shape, &hl))) return tpe_error_prefix(rc, "%s: ", path);
    for (i = 0; i < (size_t)ndim; i++) n *= shape[i];
    if (tpe_size_mul(n, esz, &bytes)) return tpe_error(TPE_EINVAL, "%s: data size overflows", path);
    rc = tpe_out_open(&o, path);
    if (rc) return rc;
    fwrite(header, 1, hl, o.f);
    tpe_fwrite_le(o.f, data, n, esz);
    return tpe_out_commit(&o);
}

static int report_nonfinite(double v, size_t i, size_t ncols, const char *what)
{
    if (ncols > 1)
        return tpe_error(TPE_EFORMAT, "%s: element [%zu, %zu] is %s", what, i / ncols, i % ncols, isnan(v) ? "NaN" : "infinite");
    return tpe_error(TPE_EFORMAT, "%s: element %zu is %s", what, i, isnan(v) ? "NaN" : "infinite");
}

int tpe_check_finite_f64(const double *x, size_t n, size_t ncols, const char *what)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i])) return report_nonfinite(x[i], i, ncols, what);
    return TPE_OK;
}

int tpe_check_finite_f32(const float *x, size_t n, size_t ncols, const char *what)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i])) return report_nonfinite((double)x[i], i, ncols, what);
    return TPE_OK;
}
