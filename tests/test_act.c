/*
 * test_act.c -- the fast path's vector kernels (act.h): each SIMD kernel
 * against its scalar twin, and the scalar exp / GELU against libm in double.
 *
 * Bounds: the twins do the same float operations in the same order, so
 * elementwise results must be identical (bit for bit); sums of n terms in
 * double may differ by the summation order, at most gamma_n sum |y| in
 * double. exp: range reduction with a 2-part ln 2 and a degree-7 Taylor
 * polynomial evaluated in float; each of the ~10 operations adds at most
 * half an ulp, so we allow 4 ulp (relative 4 * 2^-23) against double exp.
 * GELU = x / (1 + e^(-2u)): the error of u (3 roundings) is amplified by the
 * derivative of the sigmoid times |u|, at most ~|2u| * 3u_32 relative, plus
 * the exp and the division; we allow (8 + 4|u|) ulp relative, against the
 * same identity in double (0.5 x (1 + tanh u) cancels for large negative x).
 */
#include "act.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double gamma64(size_t n) { return (double)n * TT_EPS64 / (1.0 - (double)n * TT_EPS64); }

static const tpe_kernels *scalar(void) { return tpe_kernels_for(TPE_SIMD_SCALAR); }

static void fill(float *x, size_t n, double lo, double hi)
{
    size_t i;
    for (i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * tpe_rng_uniform(tt_rng()));
}

TEST(act_simd_kernels_match_scalar_twins)
{
    const tpe_kernels *k = tt_kernels(), *s = scalar();
    static const size_t sizes[] = {1, 3, 7, 8, 9, 31, 33, 64, 100, 1027};
    size_t si, i;
    double worst_sum = 0.0;
    for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        float *x = malloc(n * sizeof *x), *y1 = malloc(n * sizeof *y1), *y2 = malloc(n * sizeof *y2);
        double *a1 = malloc(n * sizeof *a1), *a2 = malloc(n * sizeof *a2), z1, z2, mag = 0.0;
        fill(x, n, -120.0, 100.0); /* beyond both ends of exp's range */
        if (n > 4) x[0] = -87.33654f, x[1] = 88.0f, x[2] = 0.0f, x[3] = -0.0f;
        CHECK(k->smax(n, x) == s->smax(n, x));
        z1 = k->sexp_sum(n, 0.0f, x, y1);
        z2 = s->sexp_sum(n, 0.0f, x, y2);
        CHECKF(memcmp(y1, y2, n * sizeof *y1) == 0, "exp differs from its scalar twin (n = %zu)", n);
        for (i = 0; i < n; i++) mag += (double)y2[i];
        CHECKF(fabs(z1 - z2) <= (double)n * TT_EPS64 * 2.0 * mag, "exp sums differ: %.17g vs %.17g", z1, z2);
        if (mag > 0 && fabs(z1 - z2) / mag > worst_sum) worst_sum = fabs(z1 - z2) / mag;
        fill(x, n, -12.0, 12.0);
        memcpy(y1, x, n * sizeof *x);
        memcpy(y2, x, n * sizeof *x);
        k->sgelu_tanh(n, y1);
        s->sgelu_tanh(n, y2);
        CHECKF(memcmp(y1, y2, n * sizeof *y1) == 0, "GELU differs from its scalar twin (n = %zu)", n);
        for (i = 0; i < n; i++) a1[i] = a2[i] = (double)i;
        k->acc_f64(n, 0.3, x, a1);
        s->acc_f64(n, 0.3, x, a2);
        CHECK(memcmp(a1, a2, n * sizeof *a1) == 0);
        memcpy(y1, x, n * sizeof *x);
        memcpy(y2, x, n * sizeof *x);
        k->sscal(n, 1.7f, y1);
        s->sscal(n, 1.7f, y2);
        CHECK(memcmp(y1, y2, n * sizeof *y1) == 0);
        /* column-wise softmax pieces */
        fill(y1, n, -50.0, 50.0);
        memcpy(y2, y1, n * sizeof *y1);
        k->smax_into(n, x, y1);
        s->smax_into(n, x, y2);
        CHECK(memcmp(y1, y2, n * sizeof *y1) == 0);
        for (i = 0; i < n; i++) CHECK((double)y1[i] >= (double)x[i]);
        for (i = 0; i < n; i++) a1[i] = a2[i] = 0.5;
        {
            float *e1 = malloc(n * sizeof *e1), *e2 = malloc(n * sizeof *e2);
            double d1, d2, dm = 0.0;
            k->sexp_sub_acc(n, x, y1, e1, a1);
            s->sexp_sub_acc(n, x, y2, e2, a2);
            CHECK(memcmp(e1, e2, n * sizeof *e1) == 0 && memcmp(a1, a2, n * sizeof *a1) == 0);
            d1 = k->sdot_f64(n, e1, a1);
            d2 = s->sdot_f64(n, e2, a2);
            for (i = 0; i < n; i++) dm += fabs((double)e2[i] * a2[i]);
            CHECKF(fabs(d1 - d2) <= gamma64(n) * 2.0 * dm, "sdot_f64 differs: %.17g vs %.17g", d1, d2);
            free(e1);
            free(e2);
        }
        free(x);
        free(y1);
        free(y2);
        free(a1);
        free(a2);
    }
    NOTE("path %s: elementwise identical; worst relative difference of exp sums %.2e", k->name, worst_sum);
}

TEST(act_exp_is_accurate)
{
    const tpe_kernels *s = scalar();
    size_t n = tt_quick() ? 20000 : 400000, i;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double worst = 0.0;
    fill(x, n, -87.0, 88.0);
    s->sexp_sum(n, 0.0f, x, y);
    for (i = 0; i < n; i++) {
        double e = exp((double)x[i]), rel = fabs((double)y[i] - e) / e;
        if (rel > worst) worst = rel;
    }
    CHECKF(worst <= 4.0 * ldexp(1.0, -23), "exp relative error %.3g exceeds 4 ulp", worst);
    NOTE("exp: worst relative error %.3g = %.2f ulp over %zu points", worst, worst / ldexp(1.0, -23), n);
    /* below the smallest normal it flushes to zero; above 88 it clamps */
    x[0] = -100.0f, x[1] = -87.5f, x[2] = 1000.0f;
    s->sexp_sum(3, 0.0f, x, y);
    CHECK((double)y[0] == 0.0 && (double)y[1] == 0.0 && fabs((double)y[2] - exp(88.0)) <= 4.0 * ldexp(1.0, -23) * exp(88.0));
    free(x);
    free(y);
}

TEST(act_gelu_is_accurate)
{
    const tpe_kernels *s = scalar();
    size_t n = tt_quick() ? 20000 : 200000, i;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double worst = 0.0;
    fill(x, n, -10.0, 10.0);
    memcpy(y, x, n * sizeof *x);
    s->sgelu_tanh(n, y);
    for (i = 0; i < n; i++) {
        double v = (double)x[i], u = sqrt(2.0 / 3.141592653589793) * (v + 0.044715 * v * v * v);
        /* 0.5 v (1 + tanh u) = v / (1 + e^(-2u)) without cancellation in double;
         * below ~1e-37 the float result may flush (exp of < -87.3 is 0) */
        double g = v / (1.0 + exp(-2.0 * u)), err = fabs((double)y[i] - g);
        double allow = (8.0 + 4.0 * fabs(u)) * ldexp(1.0, -23) * fabs(g) + 1e-37;
        if (err / allow > worst) worst = err / allow;
    }
    CHECKF(worst <= 1.0, "GELU error / bound %.3g", worst);
    NOTE("gelu_new: worst error / bound %.3f over %zu points", worst, n);
    free(x);
    free(y);
}
