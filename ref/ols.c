/*
 * ols.c -- least squares with statsmodels' statistics by Householder QR
 * (see ols.h for the model, conventions and the rank test).
 *
 * With X_s = [1, X] diag(2^shift) (equilibrated) and y_s = 2^sy y:
 *   X_s = Q R                       (qr.c: blocked, or qr_dd.c in dd mode)
 *   z = Q^T y_s;  b_s = R^-1 z[0:q]  (the least-squares solution)
 *   RSS_s = ||z[q:n]||^2            (no cancellation in y - X b)
 *   se_s[j] = sigma_s ||row j of R^-1||, since (X^T X)^-1 = R^-1 R^-T
 * and everything is scaled back exactly by powers of two.
 */
#include "ols.h"

#include "array.h"
#include "dd.h"
#include "gemm.h"
#include "qr.h"
#include "stats.h"
#include "tpe.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))

void tpe_ols_opts_default(tpe_ols_opts *o)
{
    o->intercept = 1;
    o->precision = TPE_OLS_F64;
    o->equilibrate = 1;
    o->rank_tol = TPE_OLS_RANK_TOL_AUTO;
    o->refine_steps = 5;
    o->progress = NULL;
}

void tpe_ols_free(tpe_ols_result *r)
{
    if (!r) return;
    tpe_free(r->coef);
    tpe_free(r->se);
    tpe_free(r->t);
    tpe_free(r->pvalue);
    tpe_free(r->log_pvalue);
    tpe_free(r->dropped);
    memset(r, 0, sizeof *r);
}

/* ---- the design ----------------------------------------------------------- */

typedef struct design {
    const double *X;  /* n x k row-major (the caller's)                     */
    size_t n, k, p;   /* p = k + intercept                                  */
    int intercept, dd;
    double tol;
    int *shift;       /* p: column j of the design is scaled by 2^shift[j]  */
    int *dropped;     /* p                                                  */
    size_t *kept;     /* q columns in use, increasing                       */
    size_t q;
    double *colnorm;  /* p: ||scaled column j||                             */
    /* the factorization of the kept columns, n x q column-major */
    double *A, *tau;              /* f64 and refine                          */
    double *Ah, *Al, *tauh, *taul;/* dd                                      */
    /* ||row j of R^-1||, j < q (hi, and lo in dd mode) */
    double *rn, *rnl;
    tpe_progress *progress;
} design;

static void design_free(design *d)
{
    tpe_free(d->shift);
    tpe_free(d->dropped);
    tpe_free(d->kept);
    tpe_free(d->colnorm);
    tpe_free(d->A);
    tpe_free(d->tau);
    tpe_free(d->Ah);
    tpe_free(d->Al);
    tpe_free(d->tauh);
    tpe_free(d->taul);
    tpe_free(d->rn);
    tpe_free(d->rnl);
}

/* entry i of design column j (unscaled): 1 for the intercept, else X[i, j'] */
static double design_at(const design *d, size_t i, size_t j)
{
    if (d->intercept) return j == 0 ? 1.0 : d->X[i * d->k + j - 1];
    return d->X[i * d->k + j];
}

/* column j of the design, scaled, into out (n) */
static void design_column(const design *d, size_t j, double *out)
{
    size_t i;
    double s = ldexp(1.0, d->shift[j]);
    for (i = 0; i < d->n; i++) out[i] = design_at(d, i, j) * s;
}

/* Column shifts (powers of two bringing each column's largest entry into
 * [0.5, 1)), from one pass over the rows of X. */
static int compute_shifts(design *d, int equilibrate)
{
    double *amax = tpe_calloc_array(d->p, sizeof *amax, "column maxima");
    size_t i, j;
    if (!amax) return TPE_ENOMEM;
    if (d->intercept) amax[0] = 1.0;
    for (i = 0; i < d->n; i++) {
        const double *row = d->X + i * d->k;
        double *am = amax + d->intercept;
        for (j = 0; j < d->k; j++) {
            double a = fabs(row[j]);
            if (a > am[j]) am[j] = a;
        }
    }
    for (j = 0; j < d->p; j++) d->shift[j] = equilibrate ? tpe_pow2_shift(amax[j]) : 0;
    tpe_free(amax);
    return TPE_OK;
}

/* A (n x q, column-major) <- the kept columns, scaled: a transpose of the
 * row-major X in tiles of 16 rows x 64 columns (row tiles outermost), so X
 * is streamed once and each tile's 16-entry column pieces are written in
 * cache lines. */
static int build_matrix(const design *d, double *A)
{
    const size_t RB = 16, CB = 64;
    size_t i0, c0, i, c, n = d->n, q = d->q, k = d->k;
    double *s = tpe_alloc_array(q, sizeof *s, "column scales");
    size_t *src = tpe_alloc_array(q, sizeof *src, "column sources");
    if (!s || !src) {
        tpe_free(s);
        tpe_free(src);
        return TPE_ENOMEM;
    }
    for (c = 0; c < q; c++) {
        size_t j = d->kept[c];
        s[c] = ldexp(1.0, d->shift[j]);
        src[c] = d->intercept && j == 0 ? (size_t)-1 : d->intercept ? j - 1 : j; /* -1: the column of ones */
    }
    for (i0 = 0; i0 < n; i0 += RB) {
        size_t i1 = MIN(i0 + RB, n);
        for (c0 = 0; c0 < q; c0 += CB) {
            size_t c1 = MIN(c0 + CB, q);
            for (c = c0; c < c1; c++) {
                double *col = A + c * n, sc = s[c];
                if (src[c] == (size_t)-1) {
                    for (i = i0; i < i1; i++) col[i] = sc;
                } else {
                    const double *x = d->X + src[c];
                    for (i = i0; i < i1; i++) col[i] = x[i * k] * sc;
                }
            }
        }
    }
    tpe_free(s);
    tpe_free(src);
    return TPE_OK;
}

/* Factor the kept columns; on return the flagged (collinear) columns are
 * marked in `flag` (q entries) and their count returned in *nflag. */
static int factor_kept(design *d, int *flag, size_t *nflag)
{
    size_t n = d->n, q = d->q, c, kmin = MIN(n, q), sz;
    int rc;
    tpe_free(d->A);
    tpe_free(d->tau);
    tpe_free(d->Ah);
    tpe_free(d->Al);
    tpe_free(d->tauh);
    tpe_free(d->taul);
    d->A = d->tau = d->Ah = d->Al = d->tauh = d->taul = NULL;
    *nflag = 0;
    if (q == 0) return TPE_OK;
    if (tpe_size_mul(n, q, &sz)) return tpe_error(TPE_ENOMEM, "ols: %zu x %zu design is too large", n, q);
    if (!d->dd) {
        d->A = tpe_alloc_array(sz, sizeof(double), "OLS design copy");
        d->tau = tpe_alloc_array(kmin, sizeof(double), "OLS reflector scales");
        if (!d->A || !d->tau) return TPE_ENOMEM;
        if ((rc = build_matrix(d, d->A))) return rc;
        for (c = 0; c < q; c++) d->colnorm[d->kept[c]] = tpe_nrm2(n, d->A + c * n, 1);
        rc = tpe_qr_ex(n, q, d->A, n, d->tau, 0, d->progress);
        if (rc) return rc;
    } else {
        d->Ah = tpe_alloc_array(sz, sizeof(double), "OLS design copy (dd, high)");
        d->Al = tpe_calloc_array(sz, sizeof(double), "OLS design copy (dd, low)");
        d->tauh = tpe_alloc_array(kmin, sizeof(double), "OLS reflector scales");
        d->taul = tpe_alloc_array(kmin, sizeof(double), "OLS reflector scales");
        if (!d->Ah || !d->Al || !d->tauh || !d->taul) return TPE_ENOMEM;
        if ((rc = build_matrix(d, d->Ah))) return rc;
        for (c = 0; c < q; c++) d->colnorm[d->kept[c]] = tpe_nrm2(n, d->Ah + c * n, 1);
        tpe_qr_dd(n, q, d->Ah, d->Al, n, d->tauh, d->taul, d->progress);
    }
    for (c = 0; c < q; c++) {
        double r = c < n ? fabs(d->dd ? d->Ah[c + c * n] : d->A[c + c * n]) : 0.0;
        /* |R[c,c]| = distance of column c from the span of the columns before
         * it; past row n every column is in the span of the first n */
        flag[c] = !(r > d->tol * d->colnorm[d->kept[c]]);
        *nflag += (size_t)flag[c];
    }
    return TPE_OK;
}

/* distance of scaled design column j from the span of the kept columns,
 * relative to its length: ||(Q^T x_j)[q:n]|| / ||x_j|| */
static int dropped_distance(const design *d, size_t j, double *rel)
{
    size_t n = d->n, q = d->q;
    double *v = tpe_alloc_array(n, sizeof *v, "OLS column"), *vl = NULL, norm;
    int rc = TPE_OK;
    if (!v) return TPE_ENOMEM;
    design_column(d, j, v);
    norm = tpe_nrm2(n, v, 1);
    if (q == 0) {
        *rel = norm > 0.0 ? 1.0 : 0.0;
    } else if (!d->dd) {
        rc = tpe_qr_apply(1, n, 1, MIN(n, q), d->A, n, d->tau, v, n);
        *rel = q < n && norm > 0.0 ? tpe_nrm2(n - q, v + q, 1) / norm : 0.0;
    } else {
        vl = tpe_calloc_array(n, sizeof *vl, "OLS column (dd)");
        if (!vl) rc = TPE_ENOMEM;
        else {
            tpe_qr_dd_apply_qt(n, MIN(n, q), d->Ah, d->Al, n, d->tauh, d->taul, v, vl);
            *rel = q < n && norm > 0.0 ? tpe_nrm2(n - q, v + q, 1) / norm : 0.0;
        }
    }
    tpe_free(v);
    tpe_free(vl);
    return rc;
}

/* Decide the kept columns and factor them (see ols.h). */
static int factor_design(design *d)
{
    int *flag = tpe_alloc_array(d->p, sizeof *flag, "OLS flags");
    size_t iter, j, c, nflag;
    int rc = TPE_OK;
    if (!flag) return TPE_ENOMEM;
    d->q = d->p;
    for (j = 0; j < d->p; j++) d->kept[j] = j;
    for (iter = 0; iter <= d->p + 1; iter++) {
        int readded = 0;
        if ((rc = factor_kept(d, flag, &nflag))) break;
        if (nflag > 0) {
            size_t q2 = 0;
            for (c = 0; c < d->q; c++) {
                if (flag[c]) d->dropped[d->kept[c]] = 1;
                else d->kept[q2++] = d->kept[c];
            }
            d->q = q2;
            continue;
        }
        /* every dropped column must lie within tol of the kept span */
        for (j = 0; j < d->p && !readded; j++) {
            double rel;
            if (!d->dropped[j]) continue;
            if ((rc = dropped_distance(d, j, &rel))) break;
            if (rel > d->tol) {
                /* independent after all: put it back in order */
                size_t pos = d->q;
                d->dropped[j] = 0;
                while (pos > 0 && d->kept[pos - 1] > j) {
                    d->kept[pos] = d->kept[pos - 1];
                    pos--;
                }
                d->kept[pos] = j;
                d->q++;
                readded = 1;
            }
        }
        if (rc || !readded) break;
    }
    if (!rc && iter > d->p + 1)
        rc = tpe_error(TPE_ENUMERIC, "ols: the rank decision did not settle after %zu factorizations", iter);
    tpe_free(flag);
    return rc;
}

/* ||row j of R^-1|| for the kept columns (f64 / refine). */
static int row_norms_f64(design *d)
{
    size_t q = d->q, n = d->n, j;
    double *Ri;
    int rc;
    if (q == 0) return TPE_OK;
    Ri = tpe_alloc_array(q * q, sizeof *Ri, "R inverse");
    d->rn = tpe_alloc_array(q, sizeof *d->rn, "R inverse row norms");
    if (!Ri || !d->rn) {
        tpe_free(Ri);
        return TPE_ENOMEM;
    }
    for (j = 0; j < q; j++) memcpy(Ri + j * q, d->A + j * n, (j + 1) * sizeof *Ri);
    rc = tpe_tri_inverse(q, Ri, q, 0.0, NULL);
    if (!rc)
        for (j = 0; j < q; j++) d->rn[j] = tpe_nrm2(q - j, Ri + j + j * q, q);
    tpe_free(Ri);
    return rc;
}

static int row_norms_dd(design *d)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t q = d->q, n = d->n, j, c;
    double *Rh, *Rl, *Th, *Tl;
    int rc;
    if (q == 0) return TPE_OK;
    Rh = tpe_calloc_array(q * q, sizeof *Rh, "R inverse (dd)");
    Rl = tpe_calloc_array(q * q, sizeof *Rl, "R inverse (dd)");
    Th = tpe_calloc_array(q * q, sizeof *Th, "R inverse rows (dd)");
    Tl = tpe_calloc_array(q * q, sizeof *Tl, "R inverse rows (dd)");
    d->rn = tpe_alloc_array(q, sizeof *d->rn, "R inverse row norms");
    d->rnl = tpe_alloc_array(q, sizeof *d->rnl, "R inverse row norms");
    rc = !Rh || !Rl || !Th || !Tl || !d->rn || !d->rnl ? TPE_ENOMEM : TPE_OK;
    if (!rc) {
        for (j = 0; j < q; j++) {
            memcpy(Rh + j * q, d->Ah + j * n, (j + 1) * sizeof *Rh);
            memcpy(Rl + j * q, d->Al + j * n, (j + 1) * sizeof *Rl);
        }
        rc = tpe_tri_inverse_dd(q, Rh, Rl, q, 0.0, NULL);
    }
    if (!rc) {
        /* rows of R^-1 made contiguous, then sum of squares in dd */
        for (c = 0; c < q; c++)
            for (j = 0; j <= c; j++) {
                Th[j * q + c] = Rh[j + c * q];
                Tl[j * q + c] = Rl[j + c * q];
            }
        for (j = 0; j < q; j++) {
            double sh, sl;
            tpe_dd r;
            kt->dd_dot(q - j, Th + j * q + j, Tl + j * q + j, Th + j * q + j, Tl + j * q + j, &sh, &sl);
            r = tpe_dd_sqrt(tpe_dd_make(sh, sl));
            d->rn[j] = r.hi;
            d->rnl[j] = r.lo;
        }
    }
    tpe_free(Rh);
    tpe_free(Rl);
    tpe_free(Th);
    tpe_free(Tl);
    return rc;
}

/* ---- one response ---------------------------------------------------------- */

static int alloc_result(tpe_ols_result *r, const design *d, int precision)
{
    size_t p = d->p, j;
    memset(r, 0, sizeof *r);
    r->coef = tpe_alloc_array(p, sizeof *r->coef, "OLS coefficients");
    r->se = tpe_alloc_array(p, sizeof *r->se, "OLS standard errors");
    r->t = tpe_alloc_array(p, sizeof *r->t, "OLS t values");
    r->pvalue = tpe_alloc_array(p, sizeof *r->pvalue, "OLS p values");
    r->log_pvalue = tpe_alloc_array(p, sizeof *r->log_pvalue, "OLS log p values");
    r->dropped = tpe_alloc_array(p, sizeof *r->dropped, "OLS dropped flags");
    if (!r->coef || !r->se || !r->t || !r->pvalue || !r->log_pvalue || !r->dropped) {
        tpe_ols_free(r);
        return TPE_ENOMEM;
    }
    for (j = 0; j < p; j++) {
        r->coef[j] = r->se[j] = r->t[j] = r->pvalue[j] = r->log_pvalue[j] = (double)NAN;
        r->dropped[j] = d->dropped[j];
    }
    r->n = d->n;
    r->k = d->k;
    r->p = p;
    r->intercept = d->intercept;
    r->rank = d->q;
    r->df_resid = d->n - d->q;
    r->rank_tol = d->tol;
    r->precision = precision;
    return TPE_OK;
}

/* the statistics shared by every mode, from the scaled quantities */
static void finish_stats(tpe_ols_result *r, const design *d)
{
    double c = d->intercept ? 1.0 : 0.0;
    size_t j;
    if (r->df_resid > 0) r->adj_r2 = 1.0 - ((double)d->n - c) / (double)r->df_resid * (1.0 - r->r2);
    else r->adj_r2 = (double)NAN;
    for (j = 0; j < d->p; j++) {
        if (d->dropped[j] || !(r->se[j] >= 0.0)) continue;
        r->t[j] = r->coef[j] / r->se[j];
        r->pvalue[j] = tpe_t_pvalue(r->t[j], (double)r->df_resid);
        r->log_pvalue[j] = tpe_t_pvalue_log(r->t[j], (double)r->df_resid);
    }
}

/* mean-centred or plain sum of squares of y_s, in double (two passes) */
static double tss_f64(const double *y, size_t n, int centred)
{
    double m = 0.0, c = 0.0, s = 0.0;
    size_t i;
    if (centred) {
        for (i = 0; i < n; i++) m += y[i];
        m /= (double)n;
        for (i = 0; i < n; i++) c += y[i] - m;
        m += c / (double)n;
    }
    for (i = 0; i < n; i++) s += (y[i] - m) * (y[i] - m);
    return s;
}

static int solve_f64(const design *d, const double *y, int sy, tpe_ols_result *r)
{
    size_t n = d->n, q = d->q, j;
    double *z = tpe_alloc_array(n, sizeof *z, "OLS Q^T y"), rss_s, tss_s, sigma_s;
    int rc = TPE_OK;
    if (!z) return TPE_ENOMEM;
    for (j = 0; j < n; j++) z[j] = ldexp(y[j], sy);
    tss_s = tss_f64(z, n, d->intercept);
    if (q > 0) {
        if ((rc = tpe_qr_apply(1, n, 1, MIN(n, q), d->A, n, d->tau, z, n)) ||
            (rc = tpe_tri_solve(q, d->A, n, z, 0.0, NULL))) {
            tpe_free(z);
            return rc;
        }
    }
    rss_s = q < n ? tpe_nrm2(n - q, z + q, 1) : 0.0;
    rss_s *= rss_s;
    sigma_s = r->df_resid > 0 ? sqrt(rss_s / (double)r->df_resid) : (double)NAN;
    for (j = 0; j < q; j++) {
        size_t col = d->kept[j];
        r->coef[col] = ldexp(z[j], d->shift[col] - sy);
        r->se[col] = ldexp(sigma_s * d->rn[j], d->shift[col] - sy);
    }
    r->rss = ldexp(rss_s, -2 * sy);
    r->tss = ldexp(tss_s, -2 * sy);
    r->sigma = ldexp(sigma_s, -sy);
    r->r2 = 1.0 - rss_s / tss_s;
    tpe_free(z);
    finish_stats(r, d);
    return TPE_OK;
}

static int solve_dd(const design *d, const double *y, int sy, tpe_ols_result *r)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t n = d->n, q = d->q, j;
    double *zh = tpe_alloc_array(n, sizeof *zh, "OLS Q^T y"), *zl = tpe_calloc_array(n, sizeof *zl, "OLS Q^T y");
    tpe_dd rss = tpe_dd_from(0.0), tss = tpe_dd_from(0.0), sigma = tpe_dd_from((double)NAN), mean = tpe_dd_from(0.0);
    int rc = TPE_OK;
    if (!zh || !zl) {
        tpe_free(zh);
        tpe_free(zl);
        return TPE_ENOMEM;
    }
    for (j = 0; j < n; j++) zh[j] = ldexp(y[j], sy);
    /* TSS in dd: the mean as an exact-sum / n, then the centred squares */
    if (d->intercept) {
        for (j = 0; j < n; j++) mean = tpe_dd_add_d(mean, zh[j]);
        mean = tpe_dd_div(mean, tpe_dd_from((double)n));
    }
    for (j = 0; j < n; j++) {
        tpe_dd dev = tpe_dd_sub(tpe_dd_from(zh[j]), mean);
        tss = tpe_dd_add(tss, tpe_dd_mul(dev, dev));
    }
    if (q > 0) {
        tpe_qr_dd_apply_qt(n, MIN(n, q), d->Ah, d->Al, n, d->tauh, d->taul, zh, zl);
        if ((rc = tpe_tri_solve_dd(q, d->Ah, d->Al, n, zh, zl, 0.0, NULL))) {
            tpe_free(zh);
            tpe_free(zl);
            return rc;
        }
    }
    if (q < n) {
        double sh, sl;
        kt->dd_dot(n - q, zh + q, zl + q, zh + q, zl + q, &sh, &sl);
        rss = tpe_dd_make(sh, sl);
    }
    if (r->df_resid > 0) sigma = tpe_dd_sqrt(tpe_dd_div(rss, tpe_dd_from((double)r->df_resid)));
    for (j = 0; j < q; j++) {
        size_t col = d->kept[j];
        tpe_dd b = tpe_dd_make(zh[j], zl[j]);
        tpe_dd se = tpe_dd_mul(sigma, tpe_dd_make(d->rn[j], d->rnl[j]));
        r->coef[col] = ldexp(tpe_dd_to_double(b), d->shift[col] - sy);
        r->se[col] = ldexp(tpe_dd_to_double(se), d->shift[col] - sy);
    }
    r->rss = ldexp(tpe_dd_to_double(rss), -2 * sy);
    r->tss = ldexp(tpe_dd_to_double(tss), -2 * sy);
    r->sigma = ldexp(tpe_dd_to_double(sigma), -sy);
    r->r2 = tpe_dd_to_double(tpe_dd_sub(tpe_dd_from(1.0), tpe_dd_div(rss, tss)));
    tpe_free(zh);
    tpe_free(zl);
    /* t = coef / se from the correctly rounded coef and se: within 2 ulps */
    finish_stats(r, d);
    return TPE_OK;
}

/*
 * Bjorck's iterative refinement of the augmented system
 *     [ I    A ] [r]   [y]
 *     [ A^T  0 ] [x] = [0]
 * (Bjorck, BIT 7 (1967); Higham, Accuracy and Stability, 20.5): residuals
 * f = y - r - A x and g = -A^T r in double-double, the correction solved
 * with the double QR:  h = R^-T g,  d = Q^T f,  dx = R^-1 (d[0:q] - h),
 * dr = Q [h; d[q:n]].  Refines x and r; the standard errors keep the
 * double R's accuracy.
 */
static int solve_refine(const design *d, const double *y, int sy, int steps, tpe_ols_result *r)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t n = d->n, q = d->q, k = d->k, i, j, s;
    double *ys = NULL, *x = NULL, *res = NULL, *f = NULL, *w = NULL, *xfull = NULL, *zero = NULL, *gh = NULL,
           *gl = NULL, *hq = NULL;
    tpe_dd rss = tpe_dd_from(0.0);
    double sigma_s, tss_s, rss_s;
    int rc = TPE_OK;
    if (q == 0 || q >= n) return solve_f64(d, y, sy, r);
    ys = tpe_alloc_array(n, sizeof *ys, "refine y");
    x = tpe_alloc_array(q, sizeof *x, "refine x");
    res = tpe_alloc_array(n, sizeof *res, "refine r");
    f = tpe_alloc_array(n, sizeof *f, "refine f");
    w = tpe_alloc_array(n, sizeof *w, "refine work");
    xfull = tpe_calloc_array(k + 1, sizeof *xfull, "refine x");
    zero = tpe_calloc_array(k + 1, sizeof *zero, "refine zeros");
    gh = tpe_alloc_array(k + 1, sizeof *gh, "refine g");
    gl = tpe_alloc_array(k + 1, sizeof *gl, "refine g");
    hq = tpe_alloc_array(q, sizeof *hq, "refine h");
    if (!ys || !x || !res || !f || !w || !xfull || !zero || !gh || !gl || !hq) {
        rc = TPE_ENOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) ys[i] = ldexp(y[i], sy);
    /* x0 and r0 = Q [0; (Q^T y)[q:n]] from the QR */
    memcpy(w, ys, n * sizeof *w);
    if ((rc = tpe_qr_apply(1, n, 1, q, d->A, n, d->tau, w, n))) goto out;
    memcpy(x, w, q * sizeof *x);
    if ((rc = tpe_tri_solve(q, d->A, n, x, 0.0, NULL))) goto out;
    memset(w, 0, q * sizeof *w);
    if ((rc = tpe_qr_apply(0, n, 1, q, d->A, n, d->tau, w, n))) goto out;
    memcpy(res, w, n * sizeof *res);
    for (s = 0; s < (size_t)steps; s++) {
        double icpt = 0.0;
        int ic = d->intercept && !d->dropped[0];
        /* x in the units of X: x_orig[c] = x[c] 2^shift (exact) */
        memset(xfull, 0, (k + 1) * sizeof *xfull);
        for (j = 0; j < q; j++) {
            size_t col = d->kept[j];
            double v = ldexp(x[j], d->shift[col]);
            if (d->intercept && col == 0) icpt = v;
            else xfull[d->intercept ? col - 1 : col] = v;
        }
        /* f = y - r - A x and g = A^T r, both accumulated in dd */
        memset(gh, 0, (k + 1) * sizeof *gh);
        memset(gl, 0, (k + 1) * sizeof *gl);
        {
            tpe_dd gi = tpe_dd_from(0.0);
            for (i = 0; i < n; i++) {
                const double *row = d->X + i * k;
                double sh = 0.0, sl = 0.0;
                tpe_dd fi;
                if (k > 0) kt->dd_dot(k, row, zero, xfull, zero, &sh, &sl);
                fi = tpe_dd_add(tpe_dd_make(sh, sl), tpe_dd_from(ic ? icpt : 0.0));
                fi = tpe_dd_sub(tpe_dd_sub(tpe_dd_from(ys[i]), tpe_dd_from(res[i])), fi);
                f[i] = tpe_dd_to_double(fi);
                if (k > 0) kt->dd_axpy(k, res[i], 0.0, row, zero, gh, gl);
                if (ic) gi = tpe_dd_add_d(gi, res[i]);
            }
            if (ic) {
                gh[k] = gi.hi;
                gl[k] = gi.lo;
            }
        }
        /* g_s[j] = -(A_s^T r)[j] in the kept order, scaled */
        for (j = 0; j < q; j++) {
            size_t col = d->kept[j];
            size_t src = d->intercept ? (col == 0 ? k : col - 1) : col;
            hq[j] = -ldexp(gh[src] + gl[src], d->shift[col]);
        }
        /* h = R^-T g; d = Q^T f; dx = R^-1 (d1 - h); dr = Q [h; d2] */
        if ((rc = tpe_tri_solve_trans(q, d->A, n, hq, 0.0, NULL))) goto out;
        memcpy(w, f, n * sizeof *w);
        if ((rc = tpe_qr_apply(1, n, 1, q, d->A, n, d->tau, w, n))) goto out;
        for (j = 0; j < q; j++) {
            double d1 = w[j];
            w[j] = hq[j];
            hq[j] = d1 - hq[j];
        }
        if ((rc = tpe_tri_solve(q, d->A, n, hq, 0.0, NULL))) goto out;
        for (j = 0; j < q; j++) x[j] += hq[j];
        if ((rc = tpe_qr_apply(0, n, 1, q, d->A, n, d->tau, w, n))) goto out;
        for (i = 0; i < n; i++) res[i] += w[i];
    }
    for (i = 0; i < n; i++) rss = tpe_dd_add(rss, tpe_dd_two_prod(res[i], res[i]));
    rss_s = tpe_dd_to_double(rss);
    tss_s = tss_f64(ys, n, d->intercept);
    sigma_s = r->df_resid > 0 ? sqrt(rss_s / (double)r->df_resid) : (double)NAN;
    for (j = 0; j < q; j++) {
        size_t col = d->kept[j];
        r->coef[col] = ldexp(x[j], d->shift[col] - sy);
        r->se[col] = ldexp(sigma_s * d->rn[j], d->shift[col] - sy);
    }
    r->rss = ldexp(rss_s, -2 * sy);
    r->tss = ldexp(tss_s, -2 * sy);
    r->sigma = ldexp(sigma_s, -sy);
    r->r2 = 1.0 - rss_s / tss_s;
    finish_stats(r, d);
out:
    tpe_free(ys);
    tpe_free(x);
    tpe_free(res);
    tpe_free(f);
    tpe_free(w);
    tpe_free(xfull);
    tpe_free(zero);
    tpe_free(gh);
    tpe_free(gl);
    tpe_free(hq);
    return rc;
}

/* ---- the drivers --------------------------------------------------------------- */

int tpe_ols_fit_many(const double *X, size_t n, size_t k, const double *Y, size_t nrhs, const tpe_ols_opts *opts,
                     tpe_ols_result *out)
{
    tpe_ols_opts o;
    design d;
    size_t r, nk, p;
    int rc;
    if (opts) o = *opts;
    else tpe_ols_opts_default(&o);
    for (r = 0; r < nrhs; r++) memset(&out[r], 0, sizeof out[r]);
    if (o.precision != TPE_OLS_F64 && o.precision != TPE_OLS_DD && o.precision != TPE_OLS_REFINE)
        return tpe_error(TPE_EINVAL, "ols: unknown precision %d", o.precision);
    if (n == 0) return tpe_error(TPE_EINVAL, "ols: no observations (n = 0)");
    p = k + (o.intercept ? 1 : 0);
    if (p == 0) return tpe_error(TPE_EINVAL, "ols: nothing to fit (no regressors and no intercept)");
    if (!(o.rank_tol >= 0.0) || !(o.rank_tol < 1.0))
        return tpe_error(TPE_EINVAL, "ols: rank tolerance %g is not in [0, 1)", o.rank_tol);
    if (tpe_size_mul(n, k, &nk)) return tpe_error(TPE_ENOMEM, "ols: %zu x %zu is too large", n, k);
    /* the message names the element; the status is a bad argument */
    if (tpe_check_finite_f64(X, nk, k, "X")) return TPE_EINVAL;
    for (r = 0; r < nrhs; r++)
        if (tpe_check_finite_f64(Y + r * n, n, 0, "y")) return TPE_EINVAL;
    memset(&d, 0, sizeof d);
    d.X = X;
    d.n = n;
    d.k = k;
    d.p = p;
    d.intercept = o.intercept ? 1 : 0;
    d.dd = o.precision == TPE_OLS_DD;
    d.progress = o.progress;
    d.tol = o.rank_tol > 0.0 ? o.rank_tol : (double)(n > p ? n : p) * DBL_EPSILON;
    d.shift = tpe_calloc_array(p, sizeof *d.shift, "OLS column shifts");
    d.dropped = tpe_calloc_array(p, sizeof *d.dropped, "OLS dropped flags");
    d.kept = tpe_alloc_array(p, sizeof *d.kept, "OLS kept columns");
    d.colnorm = tpe_calloc_array(p, sizeof *d.colnorm, "OLS column norms");
    if (!d.shift || !d.dropped || !d.kept || !d.colnorm) {
        design_free(&d);
        return TPE_ENOMEM;
    }
    rc = compute_shifts(&d, o.equilibrate || d.dd);
    if (!rc) rc = factor_design(&d);
    if (!rc) rc = d.dd ? row_norms_dd(&d) : row_norms_f64(&d);
    for (r = 0; r < nrhs && !rc; r++) {
        const double *y = Y + r * n;
        double ymax = 0.0;
        size_t i;
        int sy;
        for (i = 0; i < n; i++)
            if (fabs(y[i]) > ymax) ymax = fabs(y[i]);
        sy = (o.equilibrate || d.dd) ? tpe_pow2_shift(ymax) : 0;
        if ((rc = alloc_result(&out[r], &d, o.precision))) break;
        if (o.precision == TPE_OLS_DD) rc = solve_dd(&d, y, sy, &out[r]);
        else if (o.precision == TPE_OLS_REFINE) rc = solve_refine(&d, y, sy, o.refine_steps, &out[r]);
        else rc = solve_f64(&d, y, sy, &out[r]);
    }
    design_free(&d);
    if (rc)
        for (r = 0; r < nrhs; r++) tpe_ols_free(&out[r]);
    return rc;
}

int tpe_ols_fit_opts(const double *X, size_t n, size_t k, const double *y, const tpe_ols_opts *opts,
                     tpe_ols_result *out)
{
    return tpe_ols_fit_many(X, n, k, y, 1, opts, out);
}

int tpe_ols_fit(const double *X, size_t n, size_t k, const double *y, int intercept, int precision,
                tpe_ols_result *out)
{
    tpe_ols_opts o;
    tpe_ols_opts_default(&o);
    o.intercept = intercept;
    o.precision = precision;
    return tpe_ols_fit_many(X, n, k, y, 1, &o, out);
}
