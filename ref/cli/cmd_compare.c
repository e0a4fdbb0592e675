/*
 * cmd_compare.c -- `tpe compare A.npy B.npy [--rtol R] [--atol A] [--json]`:
 * how far A is from the reference B, element by element.
 *
 *   max_abs  = max |a - b|
 *   max_rel  = max |a - b| / |b|              (over b != 0)
 *   max_ulp  = max distance in units in the last place, counted in float
 *              when either file is <f4 (or narrower), else in double
 *   nmse     = sum (a - b)^2 / sum b^2
 *   worst    = the index maximizing |a - b| / (atol + rtol |b|)
 * A element passes when |a - b| <= atol + rtol |b| (numpy.isclose with B
 * as the reference; NaN equals NaN, infinities must match). Exit status 1
 * when any element fails (or the shapes differ).
 */
#include "array.h"
#include "cli.h"
#include "json.h"
#include "tpe.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* position on the ordered integer line of floats / doubles */
static int64_t ord32(float f)
{
    int32_t i;
    memcpy(&i, &f, sizeof i);
    return i < 0 ? (int64_t)INT32_MIN - (int64_t)i : (int64_t)i;
}

static double ulps(double a, double b, int in_float)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0.0 : HUGE_VAL;
    if (in_float) {
        int64_t d = ord32((float)a) - ord32((float)b);
        return (double)(d < 0 ? -d : d);
    } else {
        int64_t x, y;
        uint64_t ux, uy, d;
        memcpy(&x, &a, sizeof x);
        memcpy(&y, &b, sizeof y);
        ux = x < 0 ? (uint64_t)0x8000000000000000ull - (uint64_t)x : (uint64_t)x + 0x8000000000000000ull;
        uy = y < 0 ? (uint64_t)0x8000000000000000ull - (uint64_t)y : (uint64_t)y + 0x8000000000000000ull;
        d = ux > uy ? ux - uy : uy - ux;
        return (double)d;
    }
}

static void format_index(char *buf, size_t cap, const tpe_array *a, size_t flat)
{
    size_t at = 0, strides[TPE_MAXDIM], s = 1;
    int d;
    for (d = a->ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= a->shape[d];
    }
    at += (size_t)snprintf(buf + at, cap - at, "[");
    for (d = 0; d < a->ndim && at + 24 < cap; d++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%zu", d ? ", " : "", (flat / strides[d]) % a->shape[d]);
    snprintf(buf + at, cap - at, "]");
}

int tpe_cmd_compare(int argc, char **argv)
{
    double rtol = 1e-5, atol = 1e-8;
    int json = 0, rc, d, in_float;
    const tpe_opt opts[] = {
        {"--rtol", TPE_OPT_F64, &rtol, "R", "relative tolerance (default 1e-5)"},
        {"--atol", TPE_OPT_F64, &atol, "A", "absolute tolerance (default 1e-8)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"compare", "A.npy B.npy", "Compare an array with a reference: errors, ULPs, NMSE, worst index.",
                              "B is the reference. An element passes when |a - b| <= atol + rtol |b| (NaN equals\n"
                              "NaN). Exit status 0 when all pass, 1 when any fails or the shapes differ. ULPs are\n"
                              "counted in float when either array is float32 or narrower, else in double.",
                              opts, TPE_NOPTS(opts), 2, 2};
    char *pos[2];
    size_t npos, i, worst = 0, fails = 0;
    tpe_array A, B;
    double max_abs = 0.0, max_rel = 0.0, max_ulp = 0.0, num = 0.0, den = 0.0, worst_ratio = -1.0;
    char idx[160];
    memset(&A, 0, sizeof A);
    memset(&B, 0, sizeof B);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!(rtol >= 0.0) || !(atol >= 0.0)) return tpe_cli_usage(spec.cmd, "--rtol and --atol must be >= 0");
    if ((rc = tpe_npy_read(pos[0], &A)) || (rc = tpe_npy_read(pos[1], &B))) goto fail;
    in_float = tpe_dtype_size(A.dtype) <= 4 && (A.dtype == TPE_F32 || A.dtype == TPE_F16 || A.dtype == TPE_BF16);
    in_float |= B.dtype == TPE_F32 || B.dtype == TPE_F16 || B.dtype == TPE_BF16;
    if (A.ndim != B.ndim || A.count != B.count) goto shape;
    for (d = 0; d < A.ndim; d++)
        if (A.shape[d] != B.shape[d]) goto shape;
    if ((rc = tpe_array_convert(&A, TPE_F64, pos[0])) || (rc = tpe_array_convert(&B, TPE_F64, pos[1]))) goto fail;
    for (i = 0; i < A.count; i++) {
        double a = ((double *)A.data)[i], b = ((double *)B.data)[i];
        double diff = fabs(a - b), tol = atol + rtol * fabs(b), ratio, u;
        int pass;
        if (isnan(a) || isnan(b)) {
            pass = isnan(a) && isnan(b);
            diff = pass ? 0.0 : HUGE_VAL;
        } else if (isinf(a) || isinf(b)) {
            pass = a == b;
            diff = pass ? 0.0 : HUGE_VAL;
        } else {
            pass = diff <= tol;
            num += (a - b) * (a - b);
            den += b * b;
        }
        if (!pass) fails++;
        if (diff > max_abs) max_abs = diff;
        if (b != 0.0 && diff / fabs(b) > max_rel) max_rel = diff / fabs(b);
        u = ulps(a, b, in_float);
        if (u > max_ulp) max_ulp = u;
        ratio = tol > 0.0 ? diff / tol : (diff > 0.0 ? HUGE_VAL : 0.0);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
    }
    format_index(idx, sizeof idx, &A, worst);
    {
        double nmse = den > 0.0 ? num / den : (num > 0.0 ? HUGE_VAL : 0.0);
        double wa = A.count ? ((double *)A.data)[worst] : 0.0, wb = A.count ? ((double *)B.data)[worst] : 0.0;
        if (json) {
            tpe_jw w;
            tpe_jw_init(&w, stdout);
            tpe_jw_object(&w);
            tpe_jw_key(&w, "count");
            tpe_jw_int(&w, (long long)A.count);
            tpe_jw_key(&w, "max_abs");
            tpe_jw_number(&w, max_abs);
            tpe_jw_key(&w, "max_rel");
            tpe_jw_number(&w, max_rel);
            tpe_jw_key(&w, "max_ulp");
            tpe_jw_number(&w, max_ulp);
            tpe_jw_key(&w, "ulp_in");
            tpe_jw_string(&w, in_float ? "f32" : "f64");
            tpe_jw_key(&w, "nmse");
            tpe_jw_number(&w, nmse);
            tpe_jw_key(&w, "worst_index");
            tpe_jw_string(&w, idx);
            tpe_jw_key(&w, "worst_a");
            tpe_jw_number(&w, wa);
            tpe_jw_key(&w, "worst_b");
            tpe_jw_number(&w, wb);
            tpe_jw_key(&w, "failures");
            tpe_jw_int(&w, (long long)fails);
            tpe_jw_key(&w, "rtol");
            tpe_jw_number(&w, rtol);
            tpe_jw_key(&w, "atol");
            tpe_jw_number(&w, atol);
            tpe_jw_key(&w, "pass");
            tpe_jw_bool(&w, fails == 0);
            tpe_jw_object_end(&w);
            tpe_jw_end(&w);
        } else {
            printf("%zu elements: max abs %.3e, max rel %.3e, max %s ULP %.0f, NMSE %.3e\n", A.count, max_abs, max_rel,
                   in_float ? "f32" : "f64", max_ulp, nmse);
            printf("worst %s: a = %.17g, b = %.17g\n", idx, wa, wb);
            printf("%s: %zu of %zu beyond atol %g + rtol %g |b|\n", fails ? "FAIL" : "ok", fails, A.count, atol, rtol);
        }
    }
    tpe_array_free(&A);
    tpe_array_free(&B);
    return fails ? 1 : 0;
shape:
    tpe_error(TPE_EINVAL, "%s has %zu elements in %d dimensions, %s has %zu in %d: shapes differ", pos[0], A.count, A.ndim, pos[1],
              B.count, B.ndim);
fail:
    tpe_array_free(&A);
    tpe_array_free(&B);
    return tpe_cli_fail(spec.cmd);
}
