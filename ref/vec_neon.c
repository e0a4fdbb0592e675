/*
 * vec_neon.c -- AArch64 Advanced SIMD vector kernels; scalar twins in vec.c.
 */
#include "kernels_impl.h"

#if TPE_BUILD_NEON
#include <arm_neon.h>

float tpe_sdot_neon(const float *x, const float *y, size_t n)
{
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f), s2 = vdupq_n_f32(0.0f), s3 = vdupq_n_f32(0.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(x + i), vld1q_f32(y + i));
        s1 = vfmaq_f32(s1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(x + i), vld1q_f32(y + i));
    return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3))) + tpe_sdot_scalar(x + i, y + i, n - i);
}

double tpe_ddot_neon(const double *x, const double *y, size_t n)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0), s2 = vdupq_n_f64(0.0), s3 = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f64(s0, vld1q_f64(x + i), vld1q_f64(y + i));
        s1 = vfmaq_f64(s1, vld1q_f64(x + i + 2), vld1q_f64(y + i + 2));
        s2 = vfmaq_f64(s2, vld1q_f64(x + i + 4), vld1q_f64(y + i + 4));
        s3 = vfmaq_f64(s3, vld1q_f64(x + i + 6), vld1q_f64(y + i + 6));
    }
    for (; i + 2 <= n; i += 2) s0 = vfmaq_f64(s0, vld1q_f64(x + i), vld1q_f64(y + i));
    return vaddvq_f64(vaddq_f64(vaddq_f64(s0, s1), vaddq_f64(s2, s3))) + tpe_ddot_scalar(x + i, y + i, n - i);
}

void tpe_saxpy_neon(size_t n, float a, const float *x, float *y)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    tpe_saxpy_scalar(n - i, a, x + i, y + i);
}

void tpe_daxpy_neon(size_t n, double a, const double *x, double *y)
{
    size_t i = 0;
    for (; i + 2 <= n; i += 2) vst1q_f64(y + i, vfmaq_n_f64(vld1q_f64(y + i), vld1q_f64(x + i), a));
    tpe_daxpy_scalar(n - i, a, x + i, y + i);
}

#else
typedef int tpe_vec_neon_not_built; /* ISO C forbids an empty translation unit */
#endif
