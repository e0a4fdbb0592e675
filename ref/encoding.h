/*
 * encoding.h -- the paper's log-linear probability encoding (Cho et al.
 * 2024, Sec. 2, Eq. 2):
 *
 *     -log alpha_w  ~  A_D . E_w + B_D          over the vocabulary w
 *
 * a multiple linear regression (with an intercept) of the negative log of
 * the averaged probability alpha (probe.h) on the rows of an embedding
 * (the output embedding E^(o) by default; Table 1's last row uses the input
 * embedding). A_D is the slope (one per dimension), B_D the intercept.
 *
 * For a head with a bias b (GPT-J), the logit of w is E_w . h + b_w, so the
 * same derivation gives -log alpha_w ~ A_D . E_w - b_w + B_D: b enters as
 * one more regressor whose fitted slope theory puts at -1 on -log alpha
 * (slope +1 on log alpha, Sec. 2.1). `bias_slope` is that fitted slope on
 * -log alpha as estimated; callers report it next to the theoretical -1.
 */
#ifndef TPE_ENCODING_H
#define TPE_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "ols.h"

typedef struct tpe_encoding {
    size_t V, C;          /* vocabulary, dimensions                               */
    int has_bias;         /* the head bias was a regressor                        */
    double intercept;     /* B_D                                                  */
    double *slope;        /* A_D (C); NaN for a dimension found collinear         */
    double *slope_se;     /* (C)                                                  */
    double *slope_p;      /* (C) two-sided p of each slope                        */
    double bias_slope, bias_slope_se; /* has_bias only                            */
    double r2, adj_r2, sigma;
    size_t rank, df_resid;
    tpe_ols_result ols;   /* everything, coefficients in the order [1, E, b]      */
} tpe_encoding;

/*
 * Fit Eq. 2. E is (V, C) row-major in double, alpha (V) must be positive
 * and finite (an error names the first token that is not), bias (V) or
 * NULL. precision: TPE_OLS_F64 or TPE_OLS_DD. On failure *out holds nothing.
 */
int tpe_encoding_fit(const double *E, size_t V, size_t C, const double *alpha, const double *bias, int precision,
                     tpe_encoding *out);
void tpe_encoding_free(tpe_encoding *e);

/*
 * The random baseline of Table 1: the adjusted R^2 of `count` vectors of V
 * independent standard normal entries, each scaled to unit norm, regressed
 * on E (with an intercept), from the portable generator seeded with `seed`.
 * R^2 does not depend on the scaling; the unit norm only keeps the numbers
 * tidy. Writes count values to adj_r2.
 */
int tpe_encoding_random_baseline(const double *E, size_t V, size_t C, uint64_t seed, size_t count, double *adj_r2);

#endif
