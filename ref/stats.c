/*
 * stats.c -- log-beta, the regularized incomplete beta function, Student's
 * t p-values, and Pearson / Spearman correlation (see stats.h).
 *
 * References: DLMF 5.11 (Stirling's series for log Gamma), 8.17 (the
 * incomplete beta function; 8.17.22 its continued fraction), 8.17.4 (the
 * symmetry I_x(a,b) = 1 - I_{1-x}(b,a)); Lentz, Appl. Opt. 15 (1976) and
 * Thompson & Barnett, J. Comput. Phys. 64 (1986) (the modified Lentz
 * method); DiDonato & Morris, ACM TOMS 18 (1992), "Algorithm 708" (log
 * Gamma differences without cancellation).
 */
#include "stats.h"

#include "dd.h"
#include "tpe.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define LN_SQRT_2PI 0.91893853320467274178 /* log(sqrt(2 pi)) */

/* ---- log Gamma pieces --------------------------------------------------- */

/* Stirling's correction: lgamma(x) = (x - 1/2) log x - x + log sqrt(2 pi) +
 * corr(x), corr(x) = sum_k B_2k / (2k (2k-1) x^(2k-1)) (DLMF 5.11.1), for
 * x >= 10, where seven terms leave an error below 1e-17 * corr(x). */
static double stirling_corr(double x)
{
    static const double c[7] = {1.0 / 12.0,  -1.0 / 360.0,     1.0 / 1260.0, -1.0 / 1680.0,
                                1.0 / 1188.0, -691.0 / 360360.0, 1.0 / 156.0};
    double r = 1.0 / x, r2 = r * r, s = 0.0;
    int k;
    for (k = 6; k >= 0; k--) s = s * r2 + c[k];
    return s * r;
}

/* lgamma(b + a) - lgamma(b) for b >= 10, a > 0, without cancellation:
 * (b - 1/2) log1p(a/b) + a log(a + b) - a + corr(a + b) - corr(b). */
static double lgamma_diff(double b, double a)
{
    return (b - 0.5) * log1p(a / b) + a * log(a + b) - a + (stirling_corr(a + b) - stirling_corr(b));
}

double tpe_lbeta(double a, double b)
{
    double lo = a < b ? a : b, hi = a < b ? b : a;
    if (!(lo > 0.0) || !isfinite(hi)) return (double)NAN;
    if (hi < 10.0) return lgamma(lo) + lgamma(hi) - lgamma(lo + hi); /* all terms moderate */
    if (lo < 10.0) return lgamma(lo) - lgamma_diff(hi, lo);
    /* both large: log B = log sqrt(2 pi) - log(hi)/2 - (lo - 1/2) log1p(hi/lo)
     *                     - hi log1p(lo/hi) + corr(lo) + corr(hi) - corr(lo + hi) */
    return LN_SQRT_2PI - 0.5 * log(hi) - (lo - 0.5) * log1p(hi / lo) - hi * log1p(lo / hi) + stirling_corr(lo) +
           stirling_corr(hi) - stirling_corr(lo + hi);
}

/* ---- the continued fraction ---------------------------------------------- */

/*
 * 1 / (1 + d1/(1 + d2/(1 + ...))) of DLMF 8.17.22, by the modified Lentz
 * method (each convergent from the previous through C_m = 1 + d_m / C_{m-1},
 * D_m = 1 / (1 + d_m D_{m-1}), f_m = f_{m-1} C_m D_m, with tiny values
 * replacing zeros), where
 *     d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
 *     d_{2m}   =  m (b - m) x / ((a + 2m - 1)(a + 2m)).
 * It converges quickly for x < (a + 1)/(a + b + 2), in a few dozen terms
 * even for a = 5e6, but near that point the convergents come from
 * cancellation: the value grows like a/2 while the recurrences stay O(1),
 * so a double evaluation loses log10(a) digits (6 for df = 1e7). It is
 * therefore evaluated in double-double, with x itself exact: x = 1 - xc
 * is formed in double-double when x > 1/2 (xc carries the information
 * there). Returns NaN when it did not converge within the cap.
 */
static double beta_cf(double a, double b, double x, double xc)
{
    const double tiny = 1e-300;
    tpe_dd f = tpe_dd_from(1.0), C = f, D = tpe_dd_from(0.0), one = f;
    tpe_dd X = x <= 0.5 ? tpe_dd_from(x) : tpe_dd_two_sum(1.0, -xc);
    tpe_dd ab = tpe_dd_two_sum(a, b);
    long m;
    for (m = 0; m < 100000; m++) {
        double dm = (double)m;
        tpe_dd num, den, d, delta;
        int k;
        for (k = 0; k < 2; k++) {
            if (k == 0) {
                /* d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
                num = tpe_dd_mul(tpe_dd_mul(tpe_dd_two_sum(a, dm), tpe_dd_add_d(ab, dm)), X);
                den = tpe_dd_mul(tpe_dd_two_sum(a, 2.0 * dm), tpe_dd_two_sum(a, 2.0 * dm + 1.0));
                d = tpe_dd_neg(tpe_dd_div(num, den));
            } else {
                /* d_{2m+2} = (m+1)(b - m - 1) x / ((a + 2m + 1)(a + 2m + 2)) */
                num = tpe_dd_mul(tpe_dd_mul_d(tpe_dd_two_sum(b, -(dm + 1.0)), dm + 1.0), X);
                den = tpe_dd_mul(tpe_dd_two_sum(a, 2.0 * dm + 1.0), tpe_dd_two_sum(a, 2.0 * dm + 2.0));
                d = tpe_dd_div(num, den);
            }
            D = tpe_dd_add(one, tpe_dd_mul(d, D));
            if (fabs(D.hi) < tiny) D = tpe_dd_from(tiny);
            C = tpe_dd_add(one, tpe_dd_div(d, C));
            if (fabs(C.hi) < tiny) C = tpe_dd_from(tiny);
            D = tpe_dd_div(one, D);
            delta = tpe_dd_mul(C, D);
            f = tpe_dd_mul(f, delta);
            /* |delta - 1| below 1e-30: the remaining terms change nothing a
             * double result can hold, even after the cancellation above */
            if (k == 1 && fabs(tpe_dd_to_double(tpe_dd_sub(delta, one))) <= 1e-30)
                return tpe_dd_to_double(tpe_dd_div(one, f));
        }
    }
    return (double)NAN;
}

enum { WANT_VALUE, WANT_UPPER, WANT_LOG };

/*
 * The regularized incomplete beta function given x, 1 - x and their logs
 * (callers compute those without cancellation). want: I_x, 1 - I_x, or
 * log I_x.
 */
static double betainc_impl(double a, double b, double x, double xc, double lnx, double lnxc, int want)
{
    double lnpre, h, direct, t;
    int swap;
    if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0) || !(xc >= 0.0) || isnan(lnx) || isnan(lnxc)) return (double)NAN;
    if (lnx == -(double)INFINITY) return want == WANT_VALUE ? 0.0 : want == WANT_UPPER ? 1.0 : -(double)INFINITY;
    if (lnxc == -(double)INFINITY) return want == WANT_VALUE ? 1.0 : want == WANT_UPPER ? 0.0 : 0.0;
    /* DLMF 8.17.4: evaluate the side where the continued fraction converges */
    swap = x > (a + 1.0) / (a + b + 2.0);
    if (swap) {
        t = a, a = b, b = t;
        t = x, x = xc, xc = t;
        t = lnx, lnx = lnxc, lnxc = t;
    }
    /* log of x^a (1-x)^b / (a B(a, b)) */
    lnpre = a * lnx + b * lnxc - tpe_lbeta(a, b) - log(a);
    h = beta_cf(a, b, x, xc);
    if (isnan(h) || !(h > 0.0)) return (double)NAN;
    /* direct = I_x(a, b) on the (possibly swapped) convergent side */
    if (!swap) {
        if (want == WANT_LOG) return lnpre + log(h);
        direct = exp(lnpre) * h;
        return want == WANT_VALUE ? direct : 1.0 - direct;
    }
    direct = exp(lnpre) * h; /* = 1 - I of the caller's arguments */
    if (want == WANT_VALUE) return 1.0 - direct;
    if (want == WANT_UPPER) return direct;
    return log1p(-direct);
}

/* log x and log(1 - x) from whichever of x, 1 - x is small */
static void logs_of(double x, double xc, double *lnx, double *lnxc)
{
    if (x <= 0.5) {
        *lnx = log(x);
        *lnxc = log1p(-x);
    } else {
        *lnx = log1p(-xc);
        *lnxc = log(xc);
    }
}

static int check_x(double x, double xc)
{
    return x >= 0.0 && x <= 1.0 && xc >= 0.0 && xc <= 1.0 && fabs(x + xc - 1.0) <= 4.0 * DBL_EPSILON;
}

double tpe_betainc(double a, double b, double x, double xc)
{
    double lx, lxc;
    if (!check_x(x, xc)) return (double)NAN;
    logs_of(x, xc, &lx, &lxc);
    return betainc_impl(a, b, x, xc, lx, lxc, WANT_VALUE);
}

double tpe_betainc_upper(double a, double b, double x, double xc)
{
    double lx, lxc;
    if (!check_x(x, xc)) return (double)NAN;
    logs_of(x, xc, &lx, &lxc);
    return betainc_impl(a, b, x, xc, lx, lxc, WANT_UPPER);
}

double tpe_betainc_log(double a, double b, double x, double xc)
{
    double lx, lxc;
    if (!check_x(x, xc)) return (double)NAN;
    logs_of(x, xc, &lx, &lxc);
    return betainc_impl(a, b, x, xc, lx, lxc, WANT_LOG);
}

/* ---- Student's t ------------------------------------------------------------ */

/*
 * p = I_x(df/2, 1/2), x = df/(df + t^2), 1 - x = t^2/(df + t^2). With
 * s = t^2/df when t^2 <= df:  x = 1/(1+s), 1-x = s/(1+s),
 *     log x = -log1p(s), log(1-x) = log s - log1p(s);
 * with r = df/t^2 otherwise:  x = r/(1+r), 1-x = 1/(1+r),
 *     log x = log r - log1p(r), log(1-x) = -log1p(r),
 * r formed as (df/|t|)/|t| (no overflow), and log r as log df - 2 log|t|
 * when r underflows. Every quantity has a small relative error, so the
 * exponent a log x + b log(1-x) has an absolute error ~ u |exponent|, which
 * is a relative error of p of the same size even for p = 1e-300.
 */
static double t_pvalue(double t, double df, int want_log)
{
    double at = fabs(t), x, xc, lnx, lnxc;
    if (isnan(t) || !(df > 0.0) || isnan(df)) return (double)NAN;
    if (isinf(at)) return want_log ? -(double)INFINITY : 0.0;
    if (isinf(df)) {
        /* the normal limit: p = erfc(|t| / sqrt 2) */
        double p = erfc(at / sqrt(2.0));
        return want_log ? log(p) : p;
    }
    if (at * at <= df || at <= 1.0) {
        double s = at / sqrt(df);
        s *= s;
        x = 1.0 / (1.0 + s);
        xc = s / (1.0 + s);
        lnx = -log1p(s);
        lnxc = log(s) - log1p(s);
    } else {
        double r = (df / at) / at;
        double lnr = r >= DBL_MIN ? log(r) : log(df) - 2.0 * log(at);
        x = r / (1.0 + r);
        xc = 1.0 / (1.0 + r);
        lnx = lnr - log1p(r);
        lnxc = -log1p(r);
    }
    if (at == 0.0) return want_log ? 0.0 : 1.0;
    return betainc_impl(0.5 * df, 0.5, x, xc, lnx, lnxc, want_log ? WANT_LOG : WANT_VALUE);
}

double tpe_t_pvalue(double t, double df) { return t_pvalue(t, df, 0); }
double tpe_t_pvalue_log(double t, double df) { return t_pvalue(t, df, 1); }

/* ---- correlation ---------------------------------------------------------------- */

static int check_data(const double *x, size_t n, const char *what)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i])) return tpe_error(TPE_EINVAL, "%s[%zu] = %g is not finite", what, i, x[i]);
    return TPE_OK;
}

/* mean in two passes: the plain mean, then the mean of the deviations */
static double mean2(const double *x, size_t n)
{
    double s = 0.0, m, c = 0.0;
    size_t i;
    for (i = 0; i < n; i++) s += x[i];
    m = s / (double)n;
    for (i = 0; i < n; i++) c += x[i] - m;
    return m + c / (double)n;
}

static int pearson_core(const double *x, const double *y, size_t n, double *r)
{
    double mx, my, sxx = 0.0, syy = 0.0, sxy = 0.0, v;
    size_t i;
    *r = (double)NAN;
    if (n < 2) return tpe_error(TPE_EINVAL, "correlation needs at least 2 pairs, got %zu", n);
    mx = mean2(x, n);
    my = mean2(y, n);
    for (i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if (sxx == 0.0 || syy == 0.0)
        return tpe_error(TPE_ENUMERIC, "correlation is undefined: %s is constant", sxx == 0.0 ? "x" : "y");
    v = sxy / (sqrt(sxx) * sqrt(syy));
    *r = v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v;
    return TPE_OK;
}

int tpe_pearson(const double *x, const double *y, size_t n, double *r)
{
    int rc;
    *r = (double)NAN;
    if ((rc = check_data(x, n, "x")) || (rc = check_data(y, n, "y"))) return rc;
    return pearson_core(x, y, n, r);
}

typedef struct ranked {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = (const ranked *)pa, *b = (const ranked *)pb;
    if (a->v < b->v) return -1;
    if (a->v > b->v) return 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

int tpe_rank_average(const double *x, size_t n, double *rank)
{
    ranked *r;
    size_t i, j;
    int rc = check_data(x, n, "value");
    if (rc) return rc;
    if (n == 0) return TPE_OK;
    r = tpe_alloc_array(n, sizeof *r, "ranks");
    if (!r) return TPE_ENOMEM;
    for (i = 0; i < n; i++) {
        r[i].v = x[i];
        r[i].i = i;
    }
    qsort(r, n, sizeof *r, cmp_ranked);
    /* a run of ties at sorted positions i..j-1 (0-based) shares the mean of
     * the 1-based ranks i+1 .. j, which is (i + 1 + j) / 2 */
    for (i = 0; i < n; i = j) {
        double avg;
        for (j = i + 1; j < n && r[j].v == r[i].v; j++) {
        }
        avg = 0.5 * ((double)i + 1.0 + (double)j);
        while (i < j) rank[r[i++].i] = avg;
    }
    tpe_free(r);
    return TPE_OK;
}

int tpe_spearman(const double *x, const double *y, size_t n, double *rho)
{
    double *rx, *ry;
    int rc;
    *rho = (double)NAN;
    if (n < 2) return tpe_error(TPE_EINVAL, "correlation needs at least 2 pairs, got %zu", n);
    rx = tpe_alloc_array(n, sizeof *rx, "ranks of x");
    ry = tpe_alloc_array(n, sizeof *ry, "ranks of y");
    if (!rx || !ry) {
        tpe_free(rx);
        tpe_free(ry);
        return TPE_ENOMEM;
    }
    if (!(rc = check_data(x, n, "x")) && !(rc = check_data(y, n, "y")) && !(rc = tpe_rank_average(x, n, rx)) &&
        !(rc = tpe_rank_average(y, n, ry)))
        rc = pearson_core(rx, ry, n, rho);
    tpe_free(rx);
    tpe_free(ry);
    return rc;
}

double tpe_corr_pvalue(double r, size_t n)
{
    double df, t;
    if (n < 3 || isnan(r) || fabs(r) > 1.0) return (double)NAN;
    if (fabs(r) == 1.0) return 0.0;
    df = (double)(n - 2);
    t = r * sqrt(df / ((1.0 - r) * (1.0 + r)));
    return tpe_t_pvalue(t, df);
}
