/*
 * qr_dd.c -- Householder QR, Q^T b, back substitution and the triangular
 * inverse in double-double arithmetic (dd.h): the engine of
 * `tpe ols --precision dd` (see docs/numerics.md for why this and not
 * iterative refinement). The algorithms are those of qr.c, unblocked;
 * matrices are kept in two planes, hi and lo, with the same layout
 * (column-major, leading dimension lda), so the inner loops are the
 * kernel table's dd_dot and dd_axpy.
 */
#include "qr.h"

#include "dd.h"
#include "tpe.h"

#include <math.h>

#define DD(h, l) tpe_dd_make((h), (l))

/* Reflector in double-double (tpe_householder's recipe). Columns reach here
 * equilibrated (largest entry in [0.5, 1)), so the sums of squares neither
 * overflow nor lose anything that matters to underflow. */
static void householder_dd(const tpe_kernels *kt, size_t n, double *ah, double *al, double *xh, double *xl,
                           double *tauh, double *taul)
{
    double sh, sl;
    tpe_dd alpha = DD(*ah, *al), norm, beta, tau, rcp;
    size_t i;
    *tauh = *taul = 0.0;
    if (n <= 1) return;
    kt->dd_dot(n - 1, xh, xl, xh, xl, &sh, &sl);
    if (sh == 0.0) return; /* H = I */
    norm = tpe_dd_sqrt(tpe_dd_add(tpe_dd_mul(alpha, alpha), DD(sh, sl)));
    beta = alpha.hi >= 0.0 ? tpe_dd_neg(norm) : norm;
    tau = tpe_dd_div(tpe_dd_sub(beta, alpha), beta);
    rcp = tpe_dd_div(tpe_dd_from(1.0), tpe_dd_sub(alpha, beta));
    for (i = 0; i < n - 1; i++) {
        tpe_dd v = tpe_dd_mul(DD(xh[i], xl[i]), rcp);
        xh[i] = v.hi;
        xl[i] = v.lo;
    }
    *ah = beta.hi;
    *al = beta.lo;
    *tauh = tau.hi;
    *taul = tau.lo;
}

/* Apply H = I - tau v v^T (v[0] = 1 implicit, v[1..len-1] at vh/vl + 1) to
 * one column c (len entries). */
static void apply_reflector_dd(const tpe_kernels *kt, size_t len, const double *vh, const double *vl, tpe_dd tau,
                               double *ch, double *cl)
{
    double sh = 0.0, sl = 0.0;
    tpe_dd w;
    if (len > 1) kt->dd_dot(len - 1, vh + 1, vl + 1, ch + 1, cl + 1, &sh, &sl);
    w = tpe_dd_add(DD(ch[0], cl[0]), DD(sh, sl));
    if (w.hi == 0.0) return;
    w = tpe_dd_neg(tpe_dd_mul(tau, w));
    {
        tpe_dd c0 = tpe_dd_add(DD(ch[0], cl[0]), w);
        ch[0] = c0.hi;
        cl[0] = c0.lo;
    }
    if (len > 1) kt->dd_axpy(len - 1, w.hi, w.lo, vh + 1, vl + 1, ch + 1, cl + 1);
}

void tpe_qr_dd(size_t m, size_t n, double *Ah, double *Al, size_t lda, double *tauh, double *taul,
               tpe_progress *progress)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t k = m < n ? m : n, j, c;
    for (j = 0; j < k; j++) {
        size_t d = j + j * lda;
        householder_dd(kt, m - j, Ah + d, Al + d, Ah + d + 1, Al + d + 1, tauh + j, taul + j);
        if (tauh[j] == 0.0) continue;
        for (c = j + 1; c < n; c++)
            apply_reflector_dd(kt, m - j, Ah + d, Al + d, DD(tauh[j], taul[j]), Ah + j + c * lda, Al + j + c * lda);
        if (progress) {
            double left = (double)(n - j - 1) / (double)n;
            tpe_progress_update(progress, (double)n * (1.0 - left * left));
        }
    }
}

void tpe_qr_dd_apply_qt(size_t m, size_t k, const double *Ah, const double *Al, size_t lda, const double *tauh,
                        const double *taul, double *ch, double *cl)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t j;
    if (k > m) k = m;
    for (j = 0; j < k; j++) {
        size_t d = j + j * lda;
        if (tauh[j] == 0.0) continue;
        apply_reflector_dd(kt, m - j, Ah + d, Al + d, DD(tauh[j], taul[j]), ch + j, cl + j);
    }
}

static int check_diag_dd(size_t n, const double *Rh, size_t ldr, double rtol, size_t *bad, const char *what)
{
    double rmax = 0.0, thresh;
    size_t j;
    for (j = 0; j < n; j++)
        if (fabs(Rh[j + j * ldr]) > rmax) rmax = fabs(Rh[j + j * ldr]);
    thresh = rtol * rmax;
    for (j = 0; j < n; j++) {
        double d = Rh[j + j * ldr];
        if (!isfinite(d) || d == 0.0 || !(fabs(d) > thresh)) {
            if (bad) *bad = j;
            return tpe_error(TPE_ENUMERIC,
                             "%s (double-double): column %zu is (near-)singular: |R[%zu,%zu]| = %.3g is not above %.3g",
                             what, j, j, j, fabs(d), thresh);
        }
    }
    return TPE_OK;
}

int tpe_tri_solve_dd(size_t n, const double *Rh, const double *Rl, size_t ldr, double *bh, double *bl, double rtol,
                     size_t *bad)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t j;
    int rc = check_diag_dd(n, Rh, ldr, rtol, bad, "back substitution");
    if (rc) return rc;
    for (j = n; j-- > 0;) {
        tpe_dd x = tpe_dd_div(DD(bh[j], bl[j]), DD(Rh[j + j * ldr], Rl[j + j * ldr]));
        bh[j] = x.hi;
        bl[j] = x.lo;
        if (j > 0) kt->dd_axpy(j, -x.hi, -x.lo, Rh + j * ldr, Rl + j * ldr, bh, bl);
    }
    return TPE_OK;
}

int tpe_tri_inverse_dd(size_t n, double *Rh, double *Rl, size_t ldr, double rtol, size_t *bad)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t j, c;
    int rc = check_diag_dd(n, Rh, ldr, rtol, bad, "triangular inverse");
    if (rc) return rc;
    for (j = 0; j < n; j++) {
        double *xh = Rh + j * ldr, *xl = Rl + j * ldr;
        tpe_dd inv = tpe_dd_div(tpe_dd_from(1.0), DD(xh[j], xl[j])), ajj = tpe_dd_neg(inv);
        xh[j] = inv.hi;
        xl[j] = inv.lo;
        /* x[0:j] <- Rinv[0:j, 0:j] x[0:j], column by column, then times -Rinv[j,j] */
        for (c = 0; c < j; c++) {
            tpe_dd t = DD(xh[c], xl[c]), d;
            if (t.hi == 0.0) continue;
            if (c > 0) kt->dd_axpy(c, t.hi, t.lo, Rh + c * ldr, Rl + c * ldr, xh, xl);
            d = tpe_dd_mul(t, DD(Rh[c + c * ldr], Rl[c + c * ldr]));
            xh[c] = d.hi;
            xl[c] = d.lo;
        }
        for (c = 0; c < j; c++) {
            tpe_dd d = tpe_dd_mul(DD(xh[c], xl[c]), ajj);
            xh[c] = d.hi;
            xl[c] = d.lo;
        }
    }
    return TPE_OK;
}
