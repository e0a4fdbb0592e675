/*
 * test_ols.c -- least squares with statistics (ols.c) against statsmodels
 * (well-conditioned designs regenerated bit for bit from tpe_rng), against
 * the exact truth of hard problems (golden/numerics/ols_hard.json), and on
 * rank deficiency, scaling and bad input.
 *
 * Accuracy asked by the issue: 1e-10 relative on well-conditioned problems
 * (p compared through log p when tiny); on the hard problems at least 6
 * correct digits of every coefficient and standard error in double (for
 * condition numbers up to ~1e15; beyond 1/u, as many as numpy's LAPACK QR
 * less one), at least 12 in double-double when the data are exactly
 * representable, and double-double never a digit (0.5 here) below double.
 */
#include "golden.h"
#include "ols.h"
#include "rng.h"
#include "test.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define U TT_EPS64

/* the designs of tools/gen_numerics_goldens.py's wellcond_design, same
 * operations in the same order */
static void wellcond_design(uint64_t seed, size_t n, size_t k, int intercept, double noise, double beta_scale,
                            double *X, double *y)
{
    tpe_rng r;
    double *beta = malloc((k ? k : 1) * sizeof *beta);
    size_t i, j;
    tpe_rng_seed(&r, seed);
    for (j = 0; j < k; j++) beta[j] = (double)((int)(j % 5) - 2) * 0.5 * beta_scale + 0.125 * beta_scale;
    for (i = 0; i < n; i++) {
        double acc = intercept ? 1.5 : 0.0;
        for (j = 0; j < k; j++) {
            X[i * k + j] = (2.0 * tpe_rng_uniform(&r) - 1.0) * (double)(1 + j % 4) + 0.25 * (double)(j % 3);
            acc += beta[j] * X[i * k + j];
        }
        y[i] = acc + noise * (2.0 * tpe_rng_uniform(&r) - 1.0);
    }
    free(beta);
}

/* relative error, or absolute when the reference is below `floor` */
static double err_rel(double a, double b, double floor) { return fabs(a - b) / fmax(fabs(b), floor); }

TEST(ols_matches_statsmodels)
{
    tpe_json_doc *doc;
    const tpe_json *cases = golden_cases("ols_wellcond.json", &doc);
    double worst = 0.0;
    size_t c;
    int prec;
    if (!cases) return;
    for (c = 0; c < cases->count; c++) {
        const tpe_json *g = &cases->items[c];
        size_t n = (size_t)gnum(g, "n"), k = (size_t)gnum(g, "k"), p, np_, j;
        int intercept = gbool(g, "intercept");
        double *X, *y, *coef = garr(g, "coef", &p), *se = garr(g, "se", &np_), *t = garr(g, "t", &np_);
        double *pv = garr(g, "p", &np_), *lp = garr(g, "log_p", &np_);
        if (tt_quick() && n * k > 100000) {
            free(coef), free(se), free(t), free(pv), free(lp);
            continue;
        }
        X = malloc(n * k * sizeof *X);
        y = malloc(n * sizeof *y);
        wellcond_design((uint64_t)gnum(g, "seed"), n, k, intercept, gnum(g, "noise"), gnum(g, "beta_scale"), X, y);
        for (prec = TPE_OLS_F64; prec <= TPE_OLS_DD; prec++) {
            tpe_ols_result r;
            double e = 0.0;
            CHECK_OK(tpe_ols_fit(X, n, k, y, intercept, prec, &r));
            if (!r.coef) continue;
            CHECK(r.p == p && r.rank == p && r.df_resid == (size_t)gnum(g, "df_resid"));
            for (j = 0; j < p; j++) {
                e = fmax(e, err_rel(r.coef[j], coef[j], 0.0));
                e = fmax(e, err_rel(r.se[j], se[j], 0.0));
                e = fmax(e, err_rel(r.t[j], t[j], 0.0));
                /* p: relative while representable well above underflow, else
                 * through log p (relative error of p = absolute error of log p) */
                if (pv[j] >= 1e-300) e = fmax(e, err_rel(r.pvalue[j], pv[j], 0.0));
                e = fmax(e, fabs(r.log_pvalue[j] - lp[j]) / fmax(1.0, fabs(lp[j])));
            }
            e = fmax(e, err_rel(r.r2, gnum(g, "r2"), 1.0));
            e = fmax(e, err_rel(r.adj_r2, gnum(g, "adj_r2"), 1.0));
            e = fmax(e, err_rel(r.sigma, gnum(g, "sigma"), 0.0));
            CHECKF(e <= 1e-10, "%s (%s): worst relative difference from statsmodels %.3g", gstr(g, "name"),
                   prec == TPE_OLS_DD ? "dd" : "f64", e);
            if (e > worst) worst = e;
            tpe_ols_free(&r);
        }
        free(X), free(y), free(coef), free(se), free(t), free(pv), free(lp);
    }
    NOTE("worst relative difference from statsmodels over coef, se, t, p, R2, sigma (f64 and dd): %.3g", worst);
    tpe_json_free(doc);
}

TEST(ols_hard_problems_keep_their_digits)
{
    tpe_json_doc *doc;
    const tpe_json *cases = golden_cases("ols_hard.json", &doc);
    size_t c;
    char notes[1024] = "";
    if (!cases) return;
    for (c = 0; c < cases->count; c++) {
        const tpe_json *g = &cases->items[c], *truth = tpe_json_get(g, "truth");
        const tpe_json *ref = tpe_json_get(tpe_json_get(g, "reference_digits"), "numpy_qr");
        size_t n, k, p, ns, j;
        double *X = garr2(g, "X", &n, &k), *y = garr(g, "y", &ns), *coef = garr(truth, "coef", &p),
               *se = garr(truth, "se", &ns);
        const tpe_json *rounded = tpe_json_get(g, "truth_of_rounded");
        double *rcoef = NULL, *rse = NULL, rdig[2] = {17.0, 17.0};
        double dig[3][2], lapack = fmin(gnum(ref, "coef"), gnum(ref, "se"));
        int prec, representable = gbool(g, "representable"), beyond = gbool(g, "beyond");
        const char *name = gstr(g, "name");
        for (prec = 0; prec < 3; prec++) {
            tpe_ols_result r;
            tpe_ols_opts o;
            tpe_ols_opts_default(&o);
            o.precision = prec;
            o.intercept = gbool(g, "intercept");
            dig[prec][0] = dig[prec][1] = 0.0;
            CHECK_OK(tpe_ols_fit_opts(X, n, k, y, &o, &r));
            if (!r.coef) continue;
            CHECKF(r.rank == p, "%s: rank %zu, expected %zu", name, r.rank, p);
            dig[prec][0] = min_digits(r.coef, coef, p);
            dig[prec][1] = min_digits(r.se, se, p);
            if (prec == TPE_OLS_DD && rounded) {
                /* what the rounded inputs themselves determine: dd must get it */
                rcoef = garr(rounded, "coef", &ns);
                rse = garr(rounded, "se", &ns);
                rdig[0] = min_digits(r.coef, rcoef, p);
                rdig[1] = min_digits(r.se, rse, p);
            }
            for (j = 0; j < p; j++) CHECK(r.dropped[j] == 0);
            tpe_ols_free(&r);
        }
        if (!beyond)
            CHECKF(dig[0][0] >= 6.0 && dig[0][1] >= 6.0, "%s: double keeps %.2f / %.2f digits (coef / se), need 6", name,
                   dig[0][0], dig[0][1]);
        else
            CHECKF(fmin(dig[0][0], dig[0][1]) >= lapack - 1.0, "%s: double keeps %.2f / %.2f digits, LAPACK QR %.2f",
                   name, dig[0][0], dig[0][1], lapack);
        if (representable)
            CHECKF(dig[1][0] >= 12.0 && dig[1][1] >= 12.0, "%s: dd keeps %.2f / %.2f digits, need 12", name, dig[1][0],
                   dig[1][1]);
        else
            CHECKF(rdig[0] >= 12.0 && rdig[1] >= 12.0,
                   "%s: dd keeps %.2f / %.2f digits of the solution the rounded data determine, need 12", name, rdig[0],
                   rdig[1]);
        CHECKF(dig[1][0] >= dig[0][0] - 0.5 && dig[1][1] >= dig[0][1] - 0.5,
               "%s: dd (%.2f / %.2f) loses against double (%.2f / %.2f)", name, dig[1][0], dig[1][1], dig[0][0],
               dig[0][1]);
        snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "%s%s f64 %.1f/%.1f dd %.1f/%.1f refine %.1f/%.1f",
                 c ? "; " : "", name, dig[0][0], dig[0][1], dig[1][0], dig[1][1], dig[2][0], dig[2][1]);
        free(X), free(y), free(coef), free(se), free(rcoef), free(rse);
    }
    NOTE("digits coef/se: %s", notes);
    tpe_json_free(doc);
}

/* y on [1, x1, x2, x3] where one column repeats another, is constant next to
 * the intercept, or is zero: the column is dropped and the fit equals the fit
 * without it. */
TEST(ols_rank_deficiency_is_detected_and_reported)
{
    const size_t n = 40, k = 3;
    double X[40 * 4], Xr[40 * 3], y[40];
    size_t i, j, kind;
    for (i = 0; i < n; i++) {
        for (j = 0; j < k; j++) X[i * 4 + j] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
        y[i] = 1.0 + X[i * 4] - 2.0 * X[i * 4 + 2] + 0.1 * (2.0 * tpe_rng_uniform(tt_rng()) - 1.0);
    }
    for (kind = 0; kind < 3; kind++) {
        tpe_ols_result full, red;
        int prec;
        for (i = 0; i < n; i++) {
            X[i * 4 + 3] = kind == 0 ? X[i * 4 + 1] : kind == 1 ? 7.0 : 0.0;
            for (j = 0; j < k; j++) Xr[i * 3 + j] = X[i * 4 + j];
        }
        for (prec = TPE_OLS_F64; prec <= TPE_OLS_DD; prec++) {
            CHECK_OK(tpe_ols_fit(X, n, 4, y, 1, prec, &full));
            CHECK_OK(tpe_ols_fit(Xr, n, 3, y, 1, prec, &red));
            if (!full.coef || !red.coef) continue;
            CHECKF(full.rank == 4 && full.dropped[4] == 1 && full.df_resid == n - 4, "kind %zu: rank %zu, dropped %d",
                   kind, full.rank, full.dropped[4]);
            CHECK(isnan(full.coef[4]) && isnan(full.se[4]) && isnan(full.pvalue[4]));
            for (j = 0; j < 4; j++) {
                CHECKF(relerr(full.coef[j], red.coef[j]) <= 64.0 * U, "kind %zu coef %zu: %.17g vs %.17g", kind, j,
                       full.coef[j], red.coef[j]);
                CHECKF(relerr(full.se[j], red.se[j]) <= 64.0 * U, "kind %zu se %zu", kind, j);
            }
            CHECK(relerr(full.r2, red.r2) <= 64.0 * U && relerr(full.adj_r2, red.adj_r2) <= 64.0 * U);
            tpe_ols_free(&full);
            tpe_ols_free(&red);
        }
    }
    /* a near-collinear column (distance 1e-9 of its length) is kept by the
     * default tolerance and dropped by a looser one */
    {
        tpe_ols_result r;
        tpe_ols_opts o;
        for (i = 0; i < n; i++) X[i * 4 + 3] = X[i * 4 + 1] + 1e-9 * (2.0 * tpe_rng_uniform(tt_rng()) - 1.0);
        CHECK_OK(tpe_ols_fit(X, n, 4, y, 1, TPE_OLS_F64, &r));
        CHECK(r.rank == 5);
        NOTE("default rank tolerance at n = %zu: %.3g", n, r.rank_tol);
        CHECK(r.rank_tol == (double)n * DBL_EPSILON);
        tpe_ols_free(&r);
        tpe_ols_opts_default(&o);
        o.rank_tol = 1e-6;
        CHECK_OK(tpe_ols_fit_opts(X, n, 4, y, &o, &r));
        CHECK(r.rank == 4 && r.dropped[4] == 1);
        tpe_ols_free(&r);
    }
}

/* More columns than rows: the columns past the n-th are dropped. */
TEST(ols_wide_design_and_zero_df)
{
    double X[4 * 6], y[4] = {1.0, 3.0, 2.0, 5.0};
    tpe_ols_result r;
    size_t i;
    for (i = 0; i < 24; i++) X[i] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
    CHECK_OK(tpe_ols_fit(X, 4, 6, y, 1, TPE_OLS_F64, &r));
    if (r.coef) {
        CHECK(r.rank == 4 && r.df_resid == 0);
        CHECK(isnan(r.sigma) && isnan(r.adj_r2) && isnan(r.se[0]));
        CHECKF(fabs(r.r2 - 1.0) <= 1e-12, "r2 %.17g with a perfect fit", r.r2);
        CHECK(r.dropped[4] && r.dropped[5] && r.dropped[6]);
    }
    tpe_ols_free(&r);
}

/* Columns scaled by 1e300 or 1e-300 (and y by 1e-200): the equilibration
 * keeps everything finite; t, p, R2 are unchanged and coefficients scale. */
TEST(ols_extreme_scales)
{
    const size_t n = 50, k = 3;
    double X[150], Xs[150], y[50], ys[50];
    const double sx[3] = {1e300, 1e-300, 1.0}, sy = 1e-200;
    tpe_ols_result a, b;
    size_t i, j;
    for (i = 0; i < n; i++) {
        for (j = 0; j < k; j++) {
            X[i * k + j] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
            Xs[i * k + j] = X[i * k + j] * sx[j];
        }
        y[i] = 0.5 + X[i * k] + X[i * k + 1] + 2.0 * tpe_rng_uniform(tt_rng());
        ys[i] = y[i] * sy;
    }
    CHECK_OK(tpe_ols_fit(X, n, k, y, 1, TPE_OLS_F64, &a));
    CHECK_OK(tpe_ols_fit(Xs, n, k, ys, 1, TPE_OLS_F64, &b));
    if (a.coef && b.coef) {
        double worst = 0.0;
        for (j = 0; j < k + 1; j++) {
            double s = j == 0 ? sy : sy / sx[j - 1];
            worst = fmax(worst, relerr(b.coef[j] / s, a.coef[j]));
            worst = fmax(worst, relerr(b.se[j] / s, a.se[j]));
            worst = fmax(worst, relerr(b.t[j], a.t[j]));
        }
        worst = fmax(worst, relerr(b.r2, a.r2));
        NOTE("worst relative change under extreme column scales: %.3g", worst);
        CHECK(worst <= 1e-13);
    }
    tpe_ols_free(&a);
    tpe_ols_free(&b);
}

TEST(ols_fit_many_equals_single_fits)
{
    const size_t n = 60, k = 4, nrhs = 3;
    double X[240], Y[180];
    tpe_ols_result many[3], one;
    tpe_ols_opts o;
    size_t i, r, j;
    for (i = 0; i < n * k; i++) X[i] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
    for (i = 0; i < n * nrhs; i++) Y[i] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0 + (double)(i % n) * 0.01;
    tpe_ols_opts_default(&o);
    CHECK_OK(tpe_ols_fit_many(X, n, k, Y, nrhs, &o, many));
    for (r = 0; r < nrhs; r++) {
        CHECK_OK(tpe_ols_fit(X, n, k, Y + r * n, 1, TPE_OLS_F64, &one));
        if (!one.coef || !many[r].coef) continue;
        for (j = 0; j < k + 1; j++)
            CHECK(one.coef[j] == many[r].coef[j] && one.se[j] == many[r].se[j] && one.pvalue[j] == many[r].pvalue[j]);
        CHECK(one.r2 == many[r].r2 && one.sigma == many[r].sigma);
        tpe_ols_free(&one);
        tpe_ols_free(&many[r]);
    }
}

TEST(ols_rejects_bad_input)
{
    double X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, y[6] = {1, 2, 3, 4, 5, 6};
    tpe_ols_result r;
    tpe_ols_opts o;
    X[5] = (double)NAN;
    CHECK_ERR(tpe_ols_fit(X, 6, 2, y, 1, TPE_OLS_F64, &r), TPE_EINVAL, "X: element [2, 1] is NaN");
    CHECK(r.coef == NULL);
    X[5] = 6.0;
    y[3] = (double)INFINITY;
    CHECK_ERR(tpe_ols_fit(X, 6, 2, y, 1, TPE_OLS_F64, &r), TPE_EINVAL, "y: element 3");
    y[3] = 4.0;
    CHECK_ERR(tpe_ols_fit(X, 0, 2, y, 1, TPE_OLS_F64, &r), TPE_EINVAL, "no observations");
    CHECK_ERR(tpe_ols_fit(X, 6, 0, y, 0, TPE_OLS_F64, &r), TPE_EINVAL, "nothing to fit");
    CHECK_ERR(tpe_ols_fit(X, 6, 2, y, 1, 7, &r), TPE_EINVAL, "precision");
    tpe_ols_opts_default(&o);
    o.rank_tol = 2.0;
    CHECK_ERR(tpe_ols_fit_opts(X, 6, 2, y, &o, &r), TPE_EINVAL, "rank tolerance");
    /* an intercept-only model is the mean */
    CHECK_OK(tpe_ols_fit(X, 6, 0, y, 1, TPE_OLS_F64, &r));
    if (r.coef) CHECK(relerr(r.coef[0], 3.5) <= 4.0 * U && fabs(r.r2) <= 1e-14);
    tpe_ols_free(&r);
}
