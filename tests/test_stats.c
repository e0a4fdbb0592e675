/*
 * test_stats.c -- log-beta, the regularized incomplete beta function, the
 * Student t p-values and correlation, against golden/numerics/ (mpmath at
 * 60 digits; scipy.stats for correlation).
 *
 * Tolerances are derived from how the values are formed: I_x(a,b) =
 * exp(E) h with E = a log x + b log(1-x) - log B(a,b) - log a, each term
 * with a relative error of a few u, so the relative error of I is about
 * 8 u (|a log x| + |b log(1-x)| + |log B| + |log a| + 1), plus the continued
 * fraction's (evaluated in double-double, negligible). Tiny p-values are
 * compared through log p, as the issue asks.
 */
#include "golden.h"
#include "stats.h"
#include "test.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define U TT_EPS64

TEST(stats_t_pvalues_match_mpmath)
{
    tpe_json_doc *doc;
    const tpe_json *cases = golden_cases("t_pvalues.json", &doc);
    double worst_p = 0.0, worst_log = 0.0;
    size_t i, checked = 0;
    if (!cases) return;
    for (i = 0; i < cases->count; i++) {
        const tpe_json *c = &cases->items[i];
        double df = gnum(c, "df"), t = gnum(c, "t"), p_true = gnum(c, "p"), lp_true = gnum(c, "log_p");
        double p = tpe_t_pvalue(t, df), lp = tpe_t_pvalue_log(t, df);
        double pn = tpe_t_pvalue(-t, df);
        /* log p: relative error of p = absolute error of log p; the exponent
         * itself carries ~u |log p|, hence the max(1, |log p|) scale */
        double bound = 1e-13 * fmax(1.0, fabs(lp_true)), e = fabs(lp - lp_true) / bound;
        if (e > worst_log) worst_log = e;
        CHECKF(e <= 1.0, "df %g t %g: log p %.17g, mpmath %.17g", df, t, lp, lp_true);
        if (p_true >= 1e-300) {
            e = relerr(p, p_true) / bound;
            if (e > worst_p) worst_p = e;
            CHECKF(e <= 1.0, "df %g t %g: p %.17g, mpmath %.17g", df, t, p, p_true);
        } else {
            CHECKF(p >= 0.0 && p < 1e-290, "df %g t %g: p %g for a true p below 1e-300", df, t, p);
        }
        CHECKF(pn == p, "df %g: p(-t) %g != p(t) %g", df, pn, p);
        checked++;
    }
    NOTE("%zu (df, t) pairs, df 1..1e7, p down to 1e-300 (log p beyond): worst error / (1e-13 max(1, |log p|)) = "
         "%.3g (p), %.3g (log p)",
         checked, worst_p, worst_log);
    tpe_json_free(doc);
}

TEST(stats_t_pvalue_edges)
{
    CHECK(tpe_t_pvalue(0.0, 5.0) == 1.0);
    CHECK(tpe_t_pvalue_log(0.0, 5.0) == 0.0);
    CHECK(tpe_t_pvalue((double)INFINITY, 5.0) == 0.0);
    CHECK(isinf(tpe_t_pvalue_log(-(double)INFINITY, 5.0)) && tpe_t_pvalue_log(-(double)INFINITY, 5.0) < 0.0);
    CHECK(isnan(tpe_t_pvalue((double)NAN, 5.0)));
    CHECK(isnan(tpe_t_pvalue(1.0, 0.0)));
    CHECK(isnan(tpe_t_pvalue(1.0, -3.0)));
    /* df = 1 is the Cauchy distribution: p = 1 - 2 atan(|t|)/pi */
    CHECK(relerr(tpe_t_pvalue(1.0, 1.0), 0.5) <= 4.0 * U);
    CHECK(relerr(tpe_t_pvalue(2.0, 2.0), 1.0 - 2.0 / sqrt(6.0)) <= 16.0 * U); /* df 2: 1 - t/sqrt(2+t^2) */
    /* df = inf is the normal: p = erfc(|t|/sqrt 2) */
    CHECK(relerr(tpe_t_pvalue(3.0, (double)INFINITY), erfc(3.0 / sqrt(2.0))) <= 4.0 * U);
    /* df = 1e7 is nearly normal */
    CHECK(relerr(tpe_t_pvalue(3.0, 1e7), erfc(3.0 / sqrt(2.0))) < 1e-5);
}

TEST(stats_betainc_matches_mpmath)
{
    tpe_json_doc *doc;
    const tpe_json *cases = golden_cases("betainc.json", &doc);
    double worst = 0.0;
    size_t i;
    if (!cases) return;
    for (i = 0; i < cases->count; i++) {
        const tpe_json *c = &cases->items[i];
        double a = gnum(c, "a"), b = gnum(c, "b"), x = gnum(c, "x"), xc = gnum(c, "xc"), I_true = gnum(c, "I");
        double lI_true = gnum(c, "log_I");
        double I = tpe_betainc(a, b, x, xc), Iu = tpe_betainc_upper(a, b, x, xc), lI = tpe_betainc_log(a, b, x, xc);
        double E = fabs(a * log(x)) + fabs(b * log1p(-x)) + fabs(tpe_lbeta(a, b)) + fabs(log(a)) + 1.0;
        double tol = 8.0 * U * E, e;
        if (I_true >= 1e-300) {
            /* near 1 the value is 1 - (the small side): its absolute error counts */
            e = fabs(I - I_true) / (tol * I_true + 4.0 * U);
            if (e > worst) worst = e;
            CHECKF(e <= 1.0, "I_%g(%g, %g) = %.17g, mpmath %.17g", x, a, b, I, I_true);
            e = fabs((I + Iu) - 1.0) / (4.0 * U + tol);
            CHECKF(e <= 1.0, "I + (1 - I) = %.17g at x %g a %g b %g", I + Iu, x, a, b);
        }
        if (!isnan(lI_true)) {
            e = fabs(lI - lI_true) / (tol * fmax(1.0, fabs(lI_true)) + 4.0 * U);
            if (e > worst) worst = e;
            CHECKF(e <= 1.0, "log I_%g(%g, %g) = %.17g, mpmath %.17g", x, a, b, lI, lI_true);
        }
    }
    NOTE("%zu cases: worst error / derived bound = %.3g", cases->count, worst);
    CHECK(isnan(tpe_betainc(-1.0, 1.0, 0.5, 0.5)));
    CHECK(isnan(tpe_betainc(1.0, 1.0, 0.7, 0.7)));   /* x + xc != 1 */
    CHECK(tpe_betainc(2.0, 3.0, 0.0, 1.0) == 0.0);
    CHECK(tpe_betainc(2.0, 3.0, 1.0, 0.0) == 1.0);
    CHECK(relerr(tpe_betainc(1.0, 1.0, 0.25, 0.75), 0.25) <= 4.0 * U); /* uniform */
    tpe_json_free(doc);
}

TEST(stats_lbeta_large_arguments)
{
    /* log B(a, 1/2) for large a (the t distribution's case, where plain
     * lgamma differences cancel): the recurrence B(a+1, 1/2) = B(a, 1/2) a /
     * (a + 1/2) must hold to rounding of the terms, up to a = 1e7 */
    double a;
    for (a = 12.0; a < 1e7; a *= 7.3) {
        double l0 = tpe_lbeta(a, 0.5), l1 = tpe_lbeta(a + 1.0, 0.5);
        CHECKF(fabs((l1 - l0) - log(a / (a + 0.5))) <= 64.0 * U * (fabs(l0) + 1.0), "a %g: %.17g vs %.17g", a,
               l1 - l0, log(a / (a + 0.5)));
    }
    CHECK(fabs(tpe_lbeta(1.0, 1.0)) <= 4.0 * U);
    CHECK(fabs(tpe_lbeta(0.5, 0.5) - log(3.14159265358979323846)) <= 8.0 * U);
    CHECK(fabs(tpe_lbeta(20.0, 30.0) - tpe_lbeta(30.0, 20.0)) == 0.0);
}

TEST(stats_correlation_matches_scipy)
{
    tpe_json_doc *doc;
    const tpe_json *cases = golden_cases("corr.json", &doc);
    double worst = 0.0;
    size_t i, j;
    if (!cases) return;
    for (i = 0; i < cases->count; i++) {
        const tpe_json *c = &cases->items[i];
        size_t n, ny, nr;
        double *x = garr(c, "x", &n), *y = garr(c, "y", &ny), *rx = garr(c, "rank_x", &nr), *rank = malloc(n * sizeof *rank);
        double r, rho, e;
        CHECK(n == ny && n == nr);
        CHECK_OK(tpe_pearson(x, y, n, &r));
        CHECK_OK(tpe_spearman(x, y, n, &rho));
        CHECK_OK(tpe_rank_average(x, n, rank));
        for (j = 0; j < n; j++) CHECKF(rank[j] == rx[j], "%s: rank[%zu] %g, scipy %g", gstr(c, "name"), j, rank[j], rx[j]);
        /* sums of n products: relative error ~ n u on the correlation */
        e = fmax(relerr(r, gnum(c, "pearson")), relerr(rho, gnum(c, "spearman"))) / (8.0 * (double)n * U);
        if (e > worst) worst = e;
        CHECKF(e <= 1.0, "%s: r %.17g (scipy %.17g), rho %.17g (scipy %.17g)", gstr(c, "name"), r,
               gnum(c, "pearson"), rho, gnum(c, "spearman"));
        if (n > 2) {
            CHECKF(relerr(tpe_corr_pvalue(r, n), gnum(c, "pearson_p")) <= 1e-10, "%s: Pearson p %.17g, scipy %.17g",
                   gstr(c, "name"), tpe_corr_pvalue(r, n), gnum(c, "pearson_p"));
            CHECKF(relerr(tpe_corr_pvalue(rho, n), gnum(c, "spearman_p")) <= 1e-10,
                   "%s: Spearman p %.17g, scipy %.17g", gstr(c, "name"), tpe_corr_pvalue(rho, n),
                   gnum(c, "spearman_p"));
        }
        free(x);
        free(y);
        free(rx);
        free(rank);
    }
    NOTE("worst correlation error / (8 n u) = %.3g", worst);
    tpe_json_free(doc);
}

TEST(stats_correlation_edges)
{
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {2, 4, 6, 8, 10}, z[5] = {3, 3, 3, 3, 3}, w[5] = {5, 4, 3, 2, 1};
    double bad[5] = {1, 2, (double)NAN, 4, 5}, r = 0.0, rank[6];
    double ties[6] = {2.0, 1.0, 2.0, -0.0, 0.0, 2.0}, want[6] = {5.0, 3.0, 5.0, 1.5, 1.5, 5.0};
    size_t i;
    CHECK_OK(tpe_pearson(x, y, 5, &r));
    CHECK(fabs(r - 1.0) <= 4.0 * U);
    CHECK_OK(tpe_spearman(x, w, 5, &r));
    CHECK(fabs(r + 1.0) <= 4.0 * U);
    CHECK(tpe_corr_pvalue(1.0, 5) == 0.0);
    CHECK_ERR(tpe_pearson(x, z, 5, &r), TPE_ENUMERIC, "constant");
    CHECK(isnan(r));
    CHECK_ERR(tpe_spearman(x, bad, 5, &r), TPE_EINVAL, "y[2]");
    CHECK_ERR(tpe_pearson(x, y, 1, &r), TPE_EINVAL, "at least 2");
    CHECK_OK(tpe_rank_average(ties, 6, rank));
    for (i = 0; i < 6; i++) CHECKF(rank[i] == want[i], "rank[%zu] = %g, want %g", i, rank[i], want[i]);
}
