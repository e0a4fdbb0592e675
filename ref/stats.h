/*
 * stats.h -- the distribution functions behind the OLS p-values, and rank
 * and linear correlation.
 *
 * Accuracy (tests/test_stats.c against mpmath at 60 digits, golden/numerics/):
 *   tpe_t_pvalue    |log p - log p_true| <= 1e-13 max(1, |log p_true|), i.e. a
 *                   relative error of p of 1e-13 near 1 growing with |log p|
 *                   (7e-11 allowed at p = 1e-300, where rounding the exponent
 *                   alone costs ~u |log p|), for df from 1 to 1e7 and |t| up to
 *                   1e300; the worst seen is 4% of that bound
 *   tpe_betainc     within 8 u (|a log x| + |b log(1-x)| + |log B| + |log a| + 1)
 *                   relative (the size of the exponent it is formed from)
 */
#ifndef TPE_STATS_H
#define TPE_STATS_H

#include <stddef.h>

/* log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b) for a, b > 0, without
 * the cancellation of the plain formula when a or b is large (Stirling
 * series with its correction terms, as TOMS 708's betaln / algdiv). */
double tpe_lbeta(double a, double b);

/*
 * Regularized incomplete beta function I_x(a, b) (a, b > 0, 0 <= x <= 1)
 * and its complement 1 - I_x(a, b), each without cancellation:
 *     I_x(a,b) = x^a (1-x)^b / (a B(a,b)) * 1/(1+ d1/(1+ d2/(1+ ...)))
 * (the continued fraction of DLMF 8.17.22, evaluated by the modified Lentz
 * method), used directly when x < (a+1)/(a+b+2) and through the symmetry
 * I_x(a,b) = 1 - I_{1-x}(b,a) otherwise. The prefactor is formed in logs.
 * `xc` = 1 - x is passed separately so callers that know it exactly (the t
 * distribution does) lose nothing forming it. Returns NaN for bad arguments.
 */
double tpe_betainc(double a, double b, double x, double xc);
double tpe_betainc_upper(double a, double b, double x, double xc); /* 1 - I_x(a, b) */
/* log I_x(a, b): finite even where I_x underflows (used for tiny p-values). */
double tpe_betainc_log(double a, double b, double x, double xc);

/*
 * Two-sided p-value of Student's t with df degrees of freedom (df > 0, any
 * real): p = P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2), with x and 1 - x
 * formed from df and t^2 without cancellation or overflow (|t| up to 1e308).
 * tpe_t_pvalue_log returns log p, accurate where p underflows (p < 1e-308).
 * NaN t or df <= 0 give NaN; t = +-inf gives 0 (log: -inf).
 */
double tpe_t_pvalue(double t, double df);
double tpe_t_pvalue_log(double t, double df);

/*
 * Pearson's correlation of x and y (n >= 2): two passes (means, then the
 * centered sums of products), r clamped to [-1, 1]. A constant x or y gives
 * NaN and TPE_ENUMERIC. Non-finite data give TPE_EINVAL naming the index.
 */
int tpe_pearson(const double *x, const double *y, size_t n, double *r);

/*
 * Average ranks (1-based; ties share the mean of the ranks they span, as
 * scipy.stats.rankdata(method='average')). rank has n entries. Non-finite
 * data give TPE_EINVAL naming the index.
 */
int tpe_rank_average(const double *x, size_t n, double *rank);

/* Spearman's rank correlation: Pearson's r of the average ranks. */
int tpe_spearman(const double *x, const double *y, size_t n, double *rho);

/* Two-sided p-value of a correlation r over n pairs through Student's t with
 * n - 2 degrees of freedom, t = r sqrt((n-2) / (1 - r^2)) (scipy's
 * pearsonr/spearmanr use the same t for Spearman; for Pearson scipy uses
 * the exact beta distribution, which is the same function of r). */
double tpe_corr_pvalue(double r, size_t n);

#endif
