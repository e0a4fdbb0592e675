/*
 * act.h -- vector kernels of the transformer's fast path (internal): the
 * exponential behind every softmax, GELU (tanh form), and the double
 * accumulation of probabilities. Every SIMD kernel has a *_scalar twin in
 * act.c with the same contract; they sit in the kernel table (cpu.h).
 *
 * exp: Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, then the
 * degree-7 Taylor polynomial of e^r (truncation below 0.1 ulp), times 2^n.
 * The SIMD versions do the same float operations in the same order without
 * fused multiply-adds, so every path of a machine returns the same bits for
 * every finite input (sums of many terms differ only in summation order).
 * Where float expressions are evaluated in double (FLT_EVAL_METHOD 1, as on
 * s390x) the scalar results differ slightly, within the same error bounds.
 * Inputs below -87.33654 (e^x under the smallest normal float) give 0;
 * inputs above 88 are clamped to 88. NaN inputs give unspecified results:
 * callers check their data.
 */
#ifndef TPE_ACT_H
#define TPE_ACT_H

#include <stddef.h>

#include "kernels_impl.h"

/* constants shared by the scalar and SIMD versions */
#define TPE_EXP_LO (-87.33654f)
#define TPE_EXP_HI 88.0f
#define TPE_EXP_LOG2E 1.44269504088896341f
#define TPE_EXP_MAGIC 12582912.0f /* 1.5 * 2^23: x + MAGIC - MAGIC rounds x to an integer */
#define TPE_EXP_LN2_HI 0.693359375f
#define TPE_EXP_LN2_LO (-2.12194440e-4f)
#define TPE_GELU_K0 0.7978845608028654f /* sqrt(2/pi) */
#define TPE_GELU_K1 0.044715f

/* max of x[0..n) (n >= 1) */
float tpe_smax_scalar(size_t n, const float *x);
/* y[i] = exp(x[i] - shift); returns sum_i y[i] accumulated in double. y may be x. */
double tpe_sexp_sum_scalar(size_t n, float shift, const float *x, float *y);
/* x[i] = gelu_new(x[i]) = x / (1 + exp(-2 sqrt(2/pi) (x + 0.044715 x^3))), in place */
void tpe_sgelu_tanh_scalar(size_t n, float *x);
/* acc[i] += a * (double)x[i] */
void tpe_acc_f64_scalar(size_t n, double a, const float *x, double *acc);
/* x[i] *= a */
void tpe_sscal_scalar(size_t n, float a, float *x);
/* Column-wise softmax over a (V, T) block, one row of T at a time:
 * m[i] = max(m[i], x[i]); y[i] = exp(x[i] - m[i]) and z[i] += y[i] (double);
 * and the double dot product sum_i x[i] w[i]. */
void tpe_smax_into_scalar(size_t n, const float *x, float *m);
void tpe_sexp_sub_acc_scalar(size_t n, const float *x, const float *m, float *y, double *z);
double tpe_sdot_f64_scalar(size_t n, const float *x, const double *w);

#if TPE_BUILD_AVX2
float tpe_smax_avx2(size_t n, const float *x);
double tpe_sexp_sum_avx2(size_t n, float shift, const float *x, float *y);
void tpe_sgelu_tanh_avx2(size_t n, float *x);
void tpe_acc_f64_avx2(size_t n, double a, const float *x, double *acc);
void tpe_sscal_avx2(size_t n, float a, float *x);
void tpe_smax_into_avx2(size_t n, const float *x, float *m);
void tpe_sexp_sub_acc_avx2(size_t n, const float *x, const float *m, float *y, double *z);
double tpe_sdot_f64_avx2(size_t n, const float *x, const double *w);
#endif

#if TPE_BUILD_NEON
float tpe_smax_neon(size_t n, const float *x);
double tpe_sexp_sum_neon(size_t n, float shift, const float *x, float *y);
void tpe_sgelu_tanh_neon(size_t n, float *x);
void tpe_acc_f64_neon(size_t n, double a, const float *x, double *acc);
void tpe_sscal_neon(size_t n, float a, float *x);
void tpe_smax_into_neon(size_t n, const float *x, float *m);
void tpe_sexp_sub_acc_neon(size_t n, const float *x, const float *m, float *y, double *z);
double tpe_sdot_f64_neon(size_t n, const float *x, const double *w);
#endif

#endif
