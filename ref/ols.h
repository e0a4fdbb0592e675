/*
 * ols.h -- ordinary least squares with the full statistics, by Householder
 * QR (qr.h): the engine of `tpe ols` and of the paper's multiple linear
 * regression (Cho et al. 2024, Eq. 2: -log alpha_w ~ A_D . E_w + B_D,
 * regressed over the vocabulary).
 *
 * Model: y = [1, X] beta + e (or y = X beta + e without an intercept), X is
 * n x k row-major. Conventions are statsmodels' OLS (SPEC.md):
 *   coef      beta, the intercept first when present
 *   se        sigma sqrt(diag((R^T R)^-1)), through R^-1 (never X^T X)
 *   t, p      coef / se, two-sided p from Student's t with df_resid
 *   df_resid  n - rank
 *   sigma     sqrt(RSS / df_resid)
 *   r2        1 - RSS / TSS, TSS centred with an intercept, uncentred without
 *   adj_r2    1 - (n - c) / df_resid (1 - r2), c = 1 with an intercept else 0
 *
 * Rank deficiency: columns are equilibrated by powers of two (exact), X is
 * factored, and column j is declared collinear when |R[j,j]| <= tol ||x_j||,
 * i.e. when its distance to the span of the columns before it is below tol
 * times its length, with
 *     tol = max(n, p) * 2^-52   (TPE_OLS_RANK_TOL_AUTO; p = k + intercept),
 * the order of the rounding that Householder QR itself leaves in R (LAPACK's
 * and numpy.linalg.matrix_rank's choice of max(n, p) eps). Collinear columns
 * are dropped (coef, se, t, p = NaN, dropped[j] = 1, written as null in
 * JSON), the fit is redone without them, and each dropped column is checked
 * to lie within tol of the span of the kept ones (one is put back if not).
 * A column of zeros, a duplicated column, or a constant column next to the
 * intercept is dropped; the earlier of two equal columns is kept.
 */
#ifndef TPE_OLS_H
#define TPE_OLS_H

#include <stddef.h>

#include "io.h"

typedef enum tpe_ols_precision {
    TPE_OLS_F64 = 0,    /* blocked Householder QR in double                      */
    TPE_OLS_DD = 1,     /* the whole QR and statistics in double-double (dd.h)    */
    TPE_OLS_REFINE = 2  /* double QR + Bjorck's augmented-system refinement of the
                         * coefficients and residual (residuals in double-double);
                         * standard errors as in f64. For comparison: see
                         * docs/numerics.md for why dd is the accurate mode. */
} tpe_ols_precision;

#define TPE_OLS_RANK_TOL_AUTO 0.0

typedef struct tpe_ols_opts {
    int intercept;         /* 1: prepend a column of ones (default 1)            */
    int precision;         /* tpe_ols_precision (default TPE_OLS_F64)             */
    int equilibrate;       /* power-of-two column scaling (default 1; dd forces it) */
    double rank_tol;       /* relative tolerance, TPE_OLS_RANK_TOL_AUTO = default  */
    int refine_steps;      /* TPE_OLS_REFINE: refinement steps (default 5)         */
    tpe_progress *progress;/* advanced through the factorization (NULL: none; the
                            * caller begins it with total = k + intercept)       */
} tpe_ols_opts;

void tpe_ols_opts_default(tpe_ols_opts *o);

typedef struct tpe_ols_result {
    size_t n;          /* observations                                         */
    size_t k;          /* regressors, not counting the intercept               */
    size_t p;          /* parameters: k + intercept                            */
    int intercept;
    size_t rank;       /* parameters estimated (p minus dropped columns)       */
    double *coef;      /* p entries, the intercept first; NaN when dropped     */
    double *se;        /* p */
    double *t;         /* p */
    double *pvalue;    /* p: two-sided, Student's t with df_resid               */
    double *log_pvalue;/* p: natural log of pvalue, finite where pvalue underflows */
    int *dropped;      /* p: 1 when the column was found collinear             */
    double r2, adj_r2;
    double sigma;      /* residual standard deviation (NaN when df_resid = 0)  */
    double rss, tss;   /* residual and total sums of squares                   */
    size_t df_resid;   /* n - rank                                             */
    double rank_tol;   /* the tolerance used                                   */
    int precision;     /* the mode used                                        */
} tpe_ols_result;

/*
 * Fit y (n) on X (n x k, row-major) with or without an intercept, in
 * precision TPE_OLS_F64 or TPE_OLS_DD (or TPE_OLS_REFINE). Data must be
 * finite (else TPE_EINVAL naming the row and column); n must exceed 0 and
 * p = k + intercept must be at least 1. Rank deficiency is not an error
 * (see above). Fills *out (free with tpe_ols_free); on failure *out holds
 * no memory.
 */
int tpe_ols_fit(const double *X, size_t n, size_t k, const double *y, int intercept, int precision,
                tpe_ols_result *out);

/* The same with all options (opts NULL: defaults). */
int tpe_ols_fit_opts(const double *X, size_t n, size_t k, const double *y, const tpe_ols_opts *opts,
                     tpe_ols_result *out);

/*
 * Several responses on one design, factoring X once: Y holds nrhs vectors
 * of n entries one after another (Y[r * n + i]); out has nrhs results
 * (each freed with tpe_ols_free). For the paper's random baselines: the
 * same embedding against -log alpha and against random vectors.
 */
int tpe_ols_fit_many(const double *X, size_t n, size_t k, const double *Y, size_t nrhs, const tpe_ols_opts *opts,
                     tpe_ols_result *out);

void tpe_ols_free(tpe_ols_result *r);

#endif
