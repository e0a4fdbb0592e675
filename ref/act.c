/*
 * act.c -- scalar vector kernels of the fast path: the portable path and the
 * oracle twins of act_avx2.c and act_neon.c (see act.h for the method).
 */
#include "act.h"

#include <stdint.h>
#include <string.h>

/* e^x for one float, exactly as the SIMD versions compute it lane by lane */
static float exp_core(float x)
{
    float t, n, r, p, scale;
    int32_t bits;
    if (x != x) return x;
    /* comparisons spelled in double: exact, and warning-free where float
     * expressions are evaluated in double (FLT_EVAL_METHOD 1, e.g. s390x) */
    if ((double)x < (double)TPE_EXP_LO) return 0.0f;
    if ((double)x > (double)TPE_EXP_HI) x = TPE_EXP_HI;
    t = x * TPE_EXP_LOG2E;
    t = t + TPE_EXP_MAGIC;
    n = t - TPE_EXP_MAGIC;           /* round(x / ln 2), ties to even */
    r = x - n * TPE_EXP_LN2_HI;      /* exact: n * LN2_HI has at most 16 bits */
    r = r - n * TPE_EXP_LN2_LO;
    p = 1.0f / 5040.0f;              /* e^r = sum_k r^k / k!, k <= 7 */
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    bits = ((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] */
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

float tpe_smax_scalar(size_t n, const float *x)
{
    float m = x[0];
    size_t i;
    for (i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    return m;
}

double tpe_sexp_sum_scalar(size_t n, float shift, const float *x, float *y)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        y[i] = exp_core(x[i] - shift);
        s += (double)y[i];
    }
    return s;
}

void tpe_sgelu_tanh_scalar(size_t n, float *x)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float v = x[i], v3 = v * v * v, u = v + TPE_GELU_K1 * v3;
        u = TPE_GELU_K0 * u;
        /* 0.5 v (1 + tanh u) = v sigmoid(2u) = v / (1 + e^(-2u)) */
        x[i] = v / (1.0f + exp_core(-2.0f * u));
    }
}

void tpe_acc_f64_scalar(size_t n, double a, const float *x, double *acc)
{
    size_t i;
    for (i = 0; i < n; i++) acc[i] += a * (double)x[i];
}

void tpe_sscal_scalar(size_t n, float a, float *x)
{
    size_t i;
    for (i = 0; i < n; i++) x[i] *= a;
}

void tpe_smax_into_scalar(size_t n, const float *x, float *m)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((double)x[i] > (double)m[i]) m[i] = x[i];
}

void tpe_sexp_sub_acc_scalar(size_t n, const float *x, const float *m, float *y, double *z)
{
    size_t i;
    for (i = 0; i < n; i++) {
        y[i] = exp_core(x[i] - m[i]);
        z[i] += (double)y[i];
    }
}

double tpe_sdot_f64_scalar(size_t n, const float *x, const double *w)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++) s += (double)x[i] * w[i];
    return s;
}
