/*
 * encoding.c -- Eq. 2 of Cho et al. (2024) as a multiple linear regression.
 */
#include "encoding.h"
#include "rng.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tpe_encoding_free(tpe_encoding *e)
{
    if (!e) return;
    free(e->slope);
    free(e->slope_se);
    free(e->slope_p);
    tpe_ols_free(&e->ols);
    memset(e, 0, sizeof *e);
}

int tpe_encoding_fit(const double *E, size_t V, size_t C, const double *alpha, const double *bias, int precision,
                     tpe_encoding *out)
{
    size_t w, c, k = C + (bias ? 1 : 0);
    double *X = NULL, *y = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (V == 0 || C == 0) return tpe_error(TPE_EINVAL, "encoding: empty embedding (%zu x %zu)", V, C);
    for (w = 0; w < V; w++)
        if (!(alpha[w] > 0.0) || !isfinite(alpha[w]))
            return tpe_error(TPE_EINVAL, "alpha[%zu] = %g: -log alpha needs every alpha positive and finite", w, alpha[w]);
    y = tpe_alloc_array(V, sizeof *y, "-log alpha");
    X = bias ? tpe_alloc_array(V, k * sizeof *X, "regressors [E, b]") : NULL;
    if (!y || (bias && !X)) {
        tpe_free(y);
        tpe_free(X);
        return TPE_ENOMEM;
    }
    /* Eq. 2's response: -log alpha_w */
    for (w = 0; w < V; w++) y[w] = -log(alpha[w]);
    if (bias)
        for (w = 0; w < V; w++) {
            for (c = 0; c < C; c++) X[w * k + c] = E[w * C + c];
            X[w * k + C] = bias[w];
        }
    rc = tpe_ols_fit(bias ? X : E, V, k, y, 1, precision, &out->ols);
    tpe_free(X);
    tpe_free(y);
    if (rc) return rc;
    out->V = V;
    out->C = C;
    out->has_bias = bias != NULL;
    out->slope = malloc(C * sizeof *out->slope);
    out->slope_se = malloc(C * sizeof *out->slope_se);
    out->slope_p = malloc(C * sizeof *out->slope_p);
    if (!out->slope || !out->slope_se || !out->slope_p) {
        tpe_encoding_free(out);
        return tpe_error(TPE_ENOMEM, "out of memory for the encoding's %zu slopes", C);
    }
    /* coefficients are [B_D, A_D (C), bias slope] */
    out->intercept = out->ols.coef[0];
    for (c = 0; c < C; c++) {
        out->slope[c] = out->ols.coef[1 + c];
        out->slope_se[c] = out->ols.se[1 + c];
        out->slope_p[c] = out->ols.pvalue[1 + c];
    }
    if (bias) {
        out->bias_slope = out->ols.coef[1 + C];
        out->bias_slope_se = out->ols.se[1 + C];
    }
    out->r2 = out->ols.r2;
    out->adj_r2 = out->ols.adj_r2;
    out->sigma = out->ols.sigma;
    out->rank = out->ols.rank;
    out->df_resid = out->ols.df_resid;
    return TPE_OK;
}

int tpe_encoding_random_baseline(const double *E, size_t V, size_t C, uint64_t seed, size_t count, double *adj_r2)
{
    tpe_rng rng;
    double *Y;
    tpe_ols_result *res;
    tpe_ols_opts opts;
    size_t r, w;
    int rc;
    if (count == 0) return TPE_OK;
    Y = tpe_alloc_array(V, count * sizeof *Y, "random baseline responses");
    res = calloc(count, sizeof *res);
    if (!Y || !res) {
        tpe_free(Y);
        free(res);
        return tpe_error(TPE_ENOMEM, "out of memory for %zu random baselines", count);
    }
    tpe_rng_seed(&rng, seed);
    for (r = 0; r < count; r++) {
        double *y = Y + r * V, norm = 0.0;
        for (w = 0; w < V; w++) {
            y[w] = tpe_rng_normal(&rng);
            norm += y[w] * y[w];
        }
        norm = sqrt(norm);
        for (w = 0; w < V; w++) y[w] /= norm;
    }
    tpe_ols_opts_default(&opts);
    rc = tpe_ols_fit_many(E, V, C, Y, count, &opts, res);
    tpe_free(Y);
    if (rc == TPE_OK)
        for (r = 0; r < count; r++) {
            adj_r2[r] = res[r].adj_r2;
            tpe_ols_free(&res[r]);
        }
    free(res);
    return rc;
}
