/*
 * numk.c -- scalar kernels of the numerics (QR in double-double, the
 * symmetric eigensolver): the portable path and the oracle twins of
 * numk_avx2.c and numk_neon.c.
 *
 * Double-double numbers are kept in two planes, hi[] and lo[] (see dd.h for
 * the arithmetic; the steps are written out here so the SIMD twins can
 * mirror them operation for operation).
 */
#include "kernels_impl.h"

#include <math.h>

/* (sh, sl) = sum_i x_i y_i in double-double: each product exact through
 * fma plus its cross terms, accumulated with TwoSum on the high parts and
 * a plain sum of the low parts (Ogita, Rump & Oishi's Dot2 idea); the
 * error is about n u^2 sum |x_i y_i| + u^2 |result|. */
void tpe_dd_dot_scalar(size_t n, const double *xh, const double *xl, const double *yh, const double *yl, double *sh,
                       double *sl)
{
    double h = 0.0, l = 0.0, t;
    size_t i;
    for (i = 0; i < n; i++) {
        double ph = xh[i] * yh[i];
        double pl = fma(xh[i], yh[i], -ph) + (xh[i] * yl[i] + xl[i] * yh[i]);
        double s = h + ph, bb = s - h;
        l += ((h - (s - bb)) + (ph - bb)) + pl;
        h = s;
    }
    t = h + l;
    *sl = l - (t - h);
    *sh = t;
}

/* y += a x in double-double (a = ah + al), elementwise: the product exact
 * through fma plus cross terms, then the accurate double-double addition
 * (TwoSum of the high parts and of the low parts). */
void tpe_dd_axpy_scalar(size_t n, double ah, double al, const double *xh, const double *xl, double *yh, double *yl)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double ph = ah * xh[i];
        double pl = fma(ah, xh[i], -ph) + (ah * xl[i] + al * xh[i]);
        double s = yh[i] + ph, bb = s - yh[i], e = (yh[i] - (s - bb)) + (ph - bb);
        double t = yl[i] + pl, cc = t - yl[i], f = (yl[i] - (t - cc)) + (pl - cc), u;
        e += t;
        u = s + e;
        e = e - (u - s);
        e += f;
        s = u + e;
        yl[i] = e - (s - u);
        yh[i] = s;
    }
}

/* A sequence of plane rotations on adjacent columns of Z (rows x (nrot+1),
 * column-major, ldz): for k = 0 .. nrot-1,
 *     (z_k, z_{k+1}) <- (c_k z_k + s_k z_{k+1},  c_k z_{k+1} - s_k z_k)
 * (LAPACK dlasr, side R, pivot V, direction F). */
void tpe_drot_seq_scalar(size_t rows, size_t nrot, const double *c, const double *s, double *Z, size_t ldz)
{
    size_t k, i;
    for (k = 0; k < nrot; k++) {
        double *x = Z + k * ldz, *y = x + ldz, ck = c[k], sk = s[k];
        if (ck == 1.0 && sk == 0.0) continue;
        for (i = 0; i < rows; i++) {
            double t = x[i];
            x[i] = ck * t + sk * y[i];
            y[i] = ck * y[i] - sk * t;
        }
    }
}
