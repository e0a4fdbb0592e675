/*
 * numk_neon.c -- AArch64 Advanced SIMD kernels of the numerics; scalar twins
 * in numk.c (see numk_avx2.c for which give the same bits).
 */
#include "kernels_impl.h"

#if TPE_BUILD_NEON
#include <arm_neon.h>

void tpe_dd_dot_neon(size_t n, const double *xh, const double *xl, const double *yh, const double *yl, double *sh,
                     double *sl)
{
    float64x2_t h = vdupq_n_f64(0.0), l = vdupq_n_f64(0.0);
    double hv[2], lv[2], rh, rl, th;
    size_t i = 0;
    int j;
    for (; i + 2 <= n; i += 2) {
        float64x2_t a = vld1q_f64(xh + i), b = vld1q_f64(yh + i), al = vld1q_f64(xl + i), bl = vld1q_f64(yl + i);
        float64x2_t ph = vmulq_f64(a, b);
        /* fma(a, b, -ph): vfmaq computes acc + a*b with one rounding */
        float64x2_t pl = vaddq_f64(vfmaq_f64(vnegq_f64(ph), a, b), vaddq_f64(vmulq_f64(a, bl), vmulq_f64(al, b)));
        float64x2_t s = vaddq_f64(h, ph), bb = vsubq_f64(s, h);
        float64x2_t e = vaddq_f64(vsubq_f64(h, vsubq_f64(s, bb)), vsubq_f64(ph, bb));
        l = vaddq_f64(l, vaddq_f64(e, pl));
        h = s;
    }
    vst1q_f64(hv, h);
    vst1q_f64(lv, l);
    tpe_dd_dot_scalar(n - i, xh + i, xl + i, yh + i, yl + i, &rh, &rl);
    for (j = 0; j < 2; j++) {
        double s = rh + hv[j], bb = s - rh;
        rl += ((rh - (s - bb)) + (hv[j] - bb)) + lv[j];
        rh = s;
    }
    th = rh + rl;
    *sl = rl - (th - rh);
    *sh = th;
}

void tpe_dd_axpy_neon(size_t n, double ah, double al, const double *xh, const double *xl, double *yh, double *yl)
{
    const float64x2_t vah = vdupq_n_f64(ah), val = vdupq_n_f64(al);
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        float64x2_t x = vld1q_f64(xh + i), xlo = vld1q_f64(xl + i), y = vld1q_f64(yh + i), ylo = vld1q_f64(yl + i);
        float64x2_t ph = vmulq_f64(vah, x);
        float64x2_t pl = vaddq_f64(vfmaq_f64(vnegq_f64(ph), vah, x), vaddq_f64(vmulq_f64(vah, xlo), vmulq_f64(val, x)));
        float64x2_t s = vaddq_f64(y, ph), bb = vsubq_f64(s, y);
        float64x2_t e = vaddq_f64(vsubq_f64(y, vsubq_f64(s, bb)), vsubq_f64(ph, bb));
        float64x2_t t = vaddq_f64(ylo, pl), cc = vsubq_f64(t, ylo);
        float64x2_t f = vaddq_f64(vsubq_f64(ylo, vsubq_f64(t, cc)), vsubq_f64(pl, cc)), u;
        e = vaddq_f64(e, t);
        u = vaddq_f64(s, e);
        e = vsubq_f64(e, vsubq_f64(u, s));
        e = vaddq_f64(e, f);
        s = vaddq_f64(u, e);
        vst1q_f64(yl + i, vsubq_f64(e, vsubq_f64(s, u)));
        vst1q_f64(yh + i, s);
    }
    tpe_dd_axpy_scalar(n - i, ah, al, xh + i, xl + i, yh + i, yl + i);
}

void tpe_drot_seq_neon(size_t rows, size_t nrot, const double *c, const double *s, double *Z, size_t ldz)
{
    size_t i = 0, k;
    for (; i + 8 <= rows; i += 8) {
        double *z = Z + i;
        float64x2_t x0 = vld1q_f64(z), x1 = vld1q_f64(z + 2), x2 = vld1q_f64(z + 4), x3 = vld1q_f64(z + 6);
        for (k = 0; k < nrot; k++) {
            double *zk = z + k * ldz, *zn = zk + ldz;
            float64x2_t ck = vdupq_n_f64(c[k]), sk = vdupq_n_f64(s[k]);
            float64x2_t y0 = vld1q_f64(zn), y1 = vld1q_f64(zn + 2), y2 = vld1q_f64(zn + 4), y3 = vld1q_f64(zn + 6);
            vst1q_f64(zk, vaddq_f64(vmulq_f64(ck, x0), vmulq_f64(sk, y0)));
            vst1q_f64(zk + 2, vaddq_f64(vmulq_f64(ck, x1), vmulq_f64(sk, y1)));
            vst1q_f64(zk + 4, vaddq_f64(vmulq_f64(ck, x2), vmulq_f64(sk, y2)));
            vst1q_f64(zk + 6, vaddq_f64(vmulq_f64(ck, x3), vmulq_f64(sk, y3)));
            x0 = vsubq_f64(vmulq_f64(ck, y0), vmulq_f64(sk, x0));
            x1 = vsubq_f64(vmulq_f64(ck, y1), vmulq_f64(sk, x1));
            x2 = vsubq_f64(vmulq_f64(ck, y2), vmulq_f64(sk, x2));
            x3 = vsubq_f64(vmulq_f64(ck, y3), vmulq_f64(sk, x3));
        }
        z += nrot * ldz;
        vst1q_f64(z, x0);
        vst1q_f64(z + 2, x1);
        vst1q_f64(z + 4, x2);
        vst1q_f64(z + 6, x3);
    }
    if (i < rows) tpe_drot_seq_scalar(rows - i, nrot, c, s, Z + i, ldz);
}

#else
typedef int tpe_numk_neon_not_built; /* ISO C forbids an empty translation unit */
#endif
