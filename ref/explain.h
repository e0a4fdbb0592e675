/*
 * explain.h -- the steps of Cho et al. (2024)'s derivation, each measured on
 * a model's final hidden states over a dataset (`tpe explain`; the
 * derivation itself, step by step, is docs/derivation.md). Positions x_n,
 * n < N, hidden states h_n after the last norm, logits l_n = E h_n + b:
 *
 *  1. Eq. 1:  log p(w|x) = E_w . h(x) + b_w - log Z(x), so its mean over
 *             the dataset is exactly  m_w = E_w . hbar + b_w - c,
 *             hbar = mean h, c = mean log Z.
 *  2. alpha_w = mean p(w|x) and the Jensen gap g_w = log alpha_w - m_w >= 0,
 *             ~ Var_x(log p(w|x)) / 2 when log p(w|x) is concentrated, with
 *             log(1 + V/2 e^{dmin}) <= g_w <= min(log(1 + V/2 e^{dmax}), R^2/8)
 *             (V the variance, dmin/dmax the extremes of log p(w|x) - m_w,
 *             R = dmax - dmin); log p(w|x) - m_w = E_w.(h - hbar) - (log Z - c),
 *             so with a steady log Z, V ~ E_w^T Sigma_h E_w: g_w depends on
 *             E_w; and alpha_w against softmax(E hbar + b)_w.
 *  3. Eq. 2:  -log alpha_w = -E_w . hbar - b_w + c - g_w exactly, so the
 *             regression -log alpha ~ A_D . E + B_D (with b as a regressor
 *             when the head has one) gives A_D = -hbar - A_g, where A_g is
 *             the regression of g on the same design: how much "B_D"
 *             varies with E_w.
 *  4. bias:   the bias's slope is -1 - (g's slope on b).
 *  5. Alg. 1: Omega = |A|^b S / || |A|^b S ||_1 (S = 1 here) and
 *             E'_w = E_w - log(r) Omega / A give A . dE = -log r; the
 *             head-only edit's measured log(alpha'_w / alpha_w) is
 *             log r + (hbar + A) . dE - (c' - c) + (g'_w - g_w) exactly
 *             (A = A_D, the paper's choice, or -hbar with along_hbar).
 */
#ifndef TPE_EXPLAIN_H
#define TPE_EXPLAIN_H

#include <stddef.h>

typedef struct tpe_explain_input {
    size_t V, C, N;             /* vocabulary, width, positions                  */
    const double *E;            /* (V, C) output embedding E^(o)                  */
    const double *bias;         /* (V) head bias, or NULL                         */
    const float *H32;           /* (N, C) hidden states (float), or NULL          */
    const double *H64;          /* (N, C) hidden states (double), or NULL         */
    int f64;                    /* logits in double (tpe_dgemm) even from H32     */
    const double *alpha_given;  /* (V) an alpha to check against, or NULL          */
    long token;                 /* step 5's token; < 0: the token of median alpha */
    double scale;               /* step 5's r (> 0)                               */
    double b;                   /* Algorithm 1's exponent b (finite)              */
    int along_hbar;             /* step 5 steers with A = -hbar (the theory's      *
                                 * slope) instead of the fitted A_D               */
} tpe_explain_input;

/* Tokens at these alpha quantiles form step 5's summary. */
#define TPE_EXPLAIN_QUANTILES 11

typedef struct tpe_explain_steer {
    long token;
    double alpha, alpha_new;    /* alpha_w before and after (rank-one evaluation) */
    double log_r, log_r_hat;    /* log r and log(alpha'_w / alpha_w)              */
    double identity;            /* A . dE + log r (0 up to rounding)              */
    double slope_term;          /* (hbar + A) . dE = (gain - 1) log r             */
    double gain;                /* -sum_c Omega_c hbar_c / A_c: 1 when A = -hbar  */
    double normalizer_term;     /* -(c' - c)                                      */
    double gap_term;            /* g'_w - g_w                                     */
    double residual;            /* log_r_hat - (log r + the three terms)           */
} tpe_explain_steer;

typedef struct tpe_explain {
    size_t V, C, N;
    int has_bias, f64;
    /* per token (V) */
    double *alpha;       /* mean_x p(w|x), recomputed from the hidden states  */
    double *mean_logp;   /* m_w = mean_x log p(w|x)                           */
    double *gap;         /* g_w = log alpha_w - m_w                           */
    double *half_var;    /* Var_x(log p(w|x)) / 2                             */
    double *gap_lower;   /* log(1 + half_var e^{dmin})                        */
    double *gap_upper;   /* min(log(1 + half_var e^{dmax}), R^2 / 8)          */
    double *range;       /* R = max_x - min_x of log p(w|x)                   */
    double *logit_half_var; /* Var_x(E_w . h(x)) / 2 = E_w^T Sigma_h E_w / 2, the
                          * centered logit's share (Sigma_h: covariance of h)   */
    double *fitted;      /* Eq. 2's fitted -log alpha_w                       */
    /* per dimension (C) */
    double *hbar;        /* mean hidden state                                 */
    double *slope;       /* A_D                                               */
    double *slope_gap;   /* A_g: the slope of g on the same design            */

    /* step 1 */
    double mean_logz;    /* c = mean_x log Z(x)                               */
    double logz_hbar;    /* log Z at hbar: log sum_w exp(E_w . hbar + b_w)    */
    double hbar_norm;
    double eq1_max_err;  /* max_w |m_w - (E_w . hbar + b_w - c)|              */
    /* step 2 */
    double gap_min, gap_median, gap_max, gap_mean, gap_sd;
    size_t gap_negative;       /* tokens with g_w < -tol (rounding)            */
    size_t bounds_violated;    /* tokens outside [gap_lower, gap_upper] +- tol */
    double half_var_median_rel_err; /* median |g - V/2| / g                    */
    double half_var_corr;      /* Pearson r of g and V/2 (NaN if constant)    */
    double range_median;
    size_t concentrated;       /* tokens with R <= 1                          */
    double concentrated_max_rel_err; /* max |g - V/2| / g over them (NaN if none) */
    double jensen_logz;        /* J = c - log Z(hbar) >= 0                    */
    double var_logz;           /* Var_x log Z(x)                              */
    double logit_var_median;   /* median_w Var_x(E_w . h(x))                  */
    double gap_logit_corr;     /* r(g_w, Var_x(E_w . h(x)) / 2)               */
    double hbar_max_err;       /* max_w |log alpha_w - log softmax(E hbar + b)_w - (g_w - J)| */
    /* step 3 */
    double r2, adj_r2, intercept;
    double slope_norm, cos_slope_hbar; /* |A_D|, cos(A_D, -hbar)                */
    double gap_r2, gap_intercept;      /* g on the design                       */
    double r2_added;           /* R^2 of -log alpha + g = -m on the design (1)  */
    double y_sd, gap_fitted_corr;      /* sd of -log alpha; r(g, fitted)       */
    double decomposition_err;  /* max |coef(y) + coef(g) - coef(-m)|           */
    double eq1_coef_err;       /* max |coef(-m) - (c, -hbar, -1)|              */
    double unexplained, unexplained_from_gap; /* 1 - R^2 and RSS(g) / TSS(y)   */
    double single_slope, single_intercept, single_r2; /* -log alpha on -(E . hbar + b) alone */
    /* step 4 (has_bias) */
    double bias_slope, bias_slope_se;  /* on -log alpha; theory -1             */
    double gap_bias_slope;             /* g's slope on b                       */
    double bias_identity_err;          /* |bias_slope + gap_bias_slope - coef(-m)_b| */
    double bias_slope_bound;           /* |gap_bias_slope| <= sqrt(RSS(g|E) / RSS(b|E)) */
    /* the given alpha */
    int has_given;
    double given_max_rel;      /* max_w |given / alpha - 1|                   */
    long given_worst;
    double given_r2, given_adj_r2;
    /* step 5 */
    double steer_b;
    int along_hbar;
    tpe_explain_steer steer;   /* the chosen token                            */
    tpe_explain_steer quantile[TPE_EXPLAIN_QUANTILES];
    double q_mean_abs_err, q_mean_abs_slope, q_mean_abs_normalizer, q_mean_abs_gap;
} tpe_explain;

/*
 * Measure the five steps. The hidden states stay the caller's; on failure
 * *out holds no memory. Errors: shapes, N too small (N >= 1; V > C + 1 + bias
 * for the regression), a bad token or scale, non-finite data.
 */
int tpe_explain_run(const tpe_explain_input *in, tpe_explain *out);
void tpe_explain_free(tpe_explain *x);

/*
 * Algorithm 1 with S = 1: Omega_c = |A_c|^b / sum_c' |A_c'|^b over the
 * dimensions with a finite non-zero A_c, dE_c = -log(r) Omega_c / A_c (0 on
 * the others). Writes dE (C); returns A . dE + log r, computed in double
 * (0 up to rounding), or NaN when no dimension qualifies.
 */
double tpe_explain_alg1(const double *A, size_t C, double log_r, double b, double *dE);

/*
 * Step 5's evaluation of a head whose row w moved by dE, on cached hidden
 * states, in double: only logit w changes, by dE . h_n, so
 *     log Z'_n = log Z_n + log1p(p_n(w) expm1(dE . h_n))
 * and alpha'_w, mean log p'(w|x), c' follow without another pass over the
 * vocabulary. H32 or H64 (N, C); logz (N) from tpe_head_logp_acc; Ew the
 * row (C), bw its bias (0 without). Fills alpha/alpha_new and the gap and
 * normalizer terms of s (not the slope term).
 */
int tpe_explain_rank_one(const float *H32, const double *H64, size_t N, size_t C, const double *logz, const double *Ew,
                         double bw, const double *dE, tpe_explain_steer *s);

#endif
