/*
 * act_neon.c -- AArch64 Advanced SIMD versions of the fast path's vector
 * kernels (act.h); scalar twins in act.c. Four floats at a time; the same
 * float operations in the same order as the scalar code (separate multiply
 * and add, no fused multiply-add), remainders to the twin.
 */
#include "act.h"

#if TPE_BUILD_NEON
#include <arm_neon.h>

static float32x4_t mul_add(float32x4_t a, float32x4_t b, float32x4_t c) { return vaddq_f32(vmulq_f32(a, b), c); }

/* e^x on four lanes: act.c's exp_core, lane by lane */
static float32x4_t exp4(float32x4_t x)
{
    const float32x4_t lo = vdupq_n_f32(TPE_EXP_LO), hi = vdupq_n_f32(TPE_EXP_HI), magic = vdupq_n_f32(TPE_EXP_MAGIC);
    uint32x4_t under = vcltq_f32(x, lo);
    float32x4_t xc = vminq_f32(vmaxq_f32(x, lo), hi);
    float32x4_t n = vsubq_f32(mul_add(xc, vdupq_n_f32(TPE_EXP_LOG2E), magic), magic);
    float32x4_t r = vsubq_f32(xc, vmulq_f32(n, vdupq_n_f32(TPE_EXP_LN2_HI)));
    float32x4_t p = vdupq_n_f32(1.0f / 5040.0f);
    int32x4_t e;
    r = vsubq_f32(r, vmulq_f32(n, vdupq_n_f32(TPE_EXP_LN2_LO)));
    p = mul_add(p, r, vdupq_n_f32(1.0f / 720.0f));
    p = mul_add(p, r, vdupq_n_f32(1.0f / 120.0f));
    p = mul_add(p, r, vdupq_n_f32(1.0f / 24.0f));
    p = mul_add(p, r, vdupq_n_f32(1.0f / 6.0f));
    p = mul_add(p, r, vdupq_n_f32(0.5f));
    p = mul_add(p, r, vdupq_n_f32(1.0f));
    p = mul_add(p, r, vdupq_n_f32(1.0f));
    e = vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23);
    p = vmulq_f32(p, vreinterpretq_f32_s32(e));
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(p), under));
}

float tpe_smax_neon(size_t n, const float *x)
{
    size_t i;
    float m;
    float32x4_t v;
    if (n < 4) return tpe_smax_scalar(n, x);
    v = vld1q_f32(x);
    for (i = 4; i + 4 <= n; i += 4) v = vmaxq_f32(v, vld1q_f32(x + i));
    m = vmaxvq_f32(v);
    if (i < n) {
        float r = tpe_smax_scalar(n - i, x + i);
        if (r > m) m = r;
    }
    return m;
}

double tpe_sexp_sum_neon(size_t n, float shift, const float *x, float *y)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
    float32x4_t sh = vdupq_n_f32(shift);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i), sh));
        vst1q_f32(y + i, e);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
    }
    return vaddvq_f64(vaddq_f64(s0, s1)) + tpe_sexp_sum_scalar(n - i, shift, x + i, y + i);
}

void tpe_sgelu_tanh_neon(size_t n, float *x)
{
    const float32x4_t k0 = vdupq_n_f32(TPE_GELU_K0), k1 = vdupq_n_f32(TPE_GELU_K1);
    const float32x4_t m2 = vdupq_n_f32(-2.0f), one = vdupq_n_f32(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        float32x4_t v3 = vmulq_f32(vmulq_f32(v, v), v);
        float32x4_t u = vmulq_f32(k0, vaddq_f32(v, vmulq_f32(k1, v3)));
        float32x4_t e = exp4(vmulq_f32(m2, u));
        vst1q_f32(x + i, vdivq_f32(v, vaddq_f32(one, e)));
    }
    tpe_sgelu_tanh_scalar(n - i, x + i);
}

void tpe_acc_f64_neon(size_t n, double a, const float *x, double *acc)
{
    float64x2_t va = vdupq_n_f64(a);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        vst1q_f64(acc + i, vaddq_f64(vld1q_f64(acc + i), vmulq_f64(va, vcvt_f64_f32(vget_low_f32(v)))));
        vst1q_f64(acc + i + 2, vaddq_f64(vld1q_f64(acc + i + 2), vmulq_f64(va, vcvt_high_f64_f32(v))));
    }
    tpe_acc_f64_scalar(n - i, a, x + i, acc + i);
}

void tpe_sscal_neon(size_t n, float a, float *x)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), a));
    tpe_sscal_scalar(n - i, a, x + i);
}

void tpe_smax_into_neon(size_t n, const float *x, float *m)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(m + i);
        vst1q_f32(m + i, vbslq_f32(vcgtq_f32(a, b), a, b)); /* x > m ? x : m, as the twin */
    }
    tpe_smax_into_scalar(n - i, x + i, m + i);
}

void tpe_sexp_sub_acc_neon(size_t n, const float *x, const float *m, float *y, double *z)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i), vld1q_f32(m + i)));
        vst1q_f32(y + i, e);
        vst1q_f64(z + i, vaddq_f64(vld1q_f64(z + i), vcvt_f64_f32(vget_low_f32(e))));
        vst1q_f64(z + i + 2, vaddq_f64(vld1q_f64(z + i + 2), vcvt_high_f64_f32(e)));
    }
    tpe_sexp_sub_acc_scalar(n - i, x + i, m + i, y + i, z + i);
}

double tpe_sdot_f64_neon(size_t n, const float *x, const double *w)
{
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        s0 = vaddq_f64(s0, vmulq_f64(vcvt_f64_f32(vget_low_f32(v)), vld1q_f64(w + i)));
        s1 = vaddq_f64(s1, vmulq_f64(vcvt_high_f64_f32(v), vld1q_f64(w + i + 2)));
    }
    return vaddvq_f64(vaddq_f64(s0, s1)) + tpe_sdot_f64_scalar(n - i, x + i, w + i);
}

#else
typedef int tpe_act_neon_not_built; /* ISO C forbids an empty translation unit */
#endif
