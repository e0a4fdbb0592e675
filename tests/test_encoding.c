/*
 * test_encoding.c -- Eq. 2 on data where it holds exactly, the random
 * baseline, the bias regressor, and the cached-head evaluator.
 */
#include "encoding.h"
#include "headeval.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>

/* -log alpha = A.E + B exactly (alpha normalized: only B moves): the fit
 * must return A and R^2 = 1 to rounding. */
TEST(encoding_recovers_an_exact_log_linear_law)
{
    size_t V = tt_quick() ? 300 : 2000, C = 24, w, c;
    double *E = malloc(V * C * sizeof *E), *alpha = malloc(V * sizeof *alpha), A[24], Z = 0.0, worst = 0.0;
    double rnd[3];
    tpe_encoding enc;
    for (c = 0; c < C; c++) A[c] = tpe_rng_normal(tt_rng());
    for (w = 0; w < V * C; w++) E[w] = 0.1 * tpe_rng_normal(tt_rng());
    for (w = 0; w < V; w++) {
        double s = 0.0;
        for (c = 0; c < C; c++) s += A[c] * E[w * C + c];
        alpha[w] = exp(-s);
        Z += alpha[w];
    }
    for (w = 0; w < V; w++) alpha[w] /= Z;
    CHECK_OK(tpe_encoding_fit(E, V, C, alpha, NULL, 0, &enc));
    if (enc.slope) {
        for (c = 0; c < C; c++) {
            double e = fabs(enc.slope[c] - A[c]) / (1.0 + fabs(A[c]));
            if (e > worst) worst = e;
        }
        /* the response is computed to ~1e-16 relative of |log alpha| ~ 10:
         * slopes, conditioned by ||E^+|| ~ 1/(0.1 sqrt V), keep ~1e-12 */
        CHECKF(worst < 1e-10, "worst slope error %g", worst);
        CHECKF(fabs(enc.intercept - log(Z)) < 1e-9, "B_D %.17g, expected log Z %.17g", enc.intercept, log(Z));
        CHECK(enc.r2 > 1.0 - 1e-12);
        CHECK(enc.rank == C + 1);
    }
    tpe_encoding_free(&enc);
    CHECK_OK(tpe_encoding_random_baseline(E, V, C, 7, 3, rnd));
    /* a random response: R^2 ~ C / V; adjusted R^2 ~ 0 +/- sqrt(2 C) / V */
    for (c = 0; c < 3; c++) CHECKF(fabs(rnd[c]) < 6.0 * sqrt(2.0 * (double)C) / (double)V, "random adj R^2 %g", rnd[c]);
    NOTE("worst slope error %.3g; random adjusted R^2 %.3g %.3g %.3g", worst, rnd[0], rnd[1], rnd[2]);
    free(E);
    free(alpha);
}

/* With a head bias: -log alpha = A.E - b + B, so the bias slope is -1. */
TEST(encoding_bias_regressor_has_slope_minus_one)
{
    size_t V = 500, C = 8, w, c;
    double *E = malloc(V * C * sizeof *E), *alpha = malloc(V * sizeof *alpha), *b = malloc(V * sizeof *b), A[8];
    tpe_encoding enc;
    for (c = 0; c < C; c++) A[c] = tpe_rng_normal(tt_rng());
    for (w = 0; w < V; w++) {
        double s = 0.0;
        b[w] = tpe_rng_normal(tt_rng());
        for (c = 0; c < C; c++) s += A[c] * (E[w * C + c] = tpe_rng_normal(tt_rng()));
        alpha[w] = exp(-(s - b[w]) - 3.0);
    }
    CHECK_OK(tpe_encoding_fit(E, V, C, alpha, b, 0, &enc));
    CHECK(enc.has_bias);
    CHECKF(fabs(enc.bias_slope + 1.0) < 1e-12, "bias slope %.17g", enc.bias_slope);
    tpe_encoding_free(&enc);
    alpha[17] = 0.0;
    CHECK_ERR(tpe_encoding_fit(E, V, C, alpha, b, 0, &enc), TPE_EINVAL, "alpha[17]");
    free(E);
    free(alpha);
    free(b);
}

/* The float head evaluator against the double one: the softmax sums agree
 * to float rounding of the logits (|E h| <= sum |E||h|). */
TEST(head_softmax_sum_matches_double)
{
    size_t N = 131, C = 40, V = 257, i, v;
    float *H = malloc(N * C * sizeof *H), *E = malloc(V * C * sizeof *E), *b = malloc(V * sizeof *b);
    double *H64 = malloc(N * C * sizeof *H64), *E64 = malloc(V * C * sizeof *E64), *b64 = malloc(V * sizeof *b64);
    double *s32 = calloc(V, sizeof *s32), *s64 = calloc(V, sizeof *s64), total = 0.0, worst = 0.0;
    for (i = 0; i < N * C; i++) H64[i] = (double)(H[i] = (float)tpe_rng_normal(tt_rng()));
    for (i = 0; i < V * C; i++) E64[i] = (double)(E[i] = (float)(0.3 * tpe_rng_normal(tt_rng())));
    for (i = 0; i < V; i++) b64[i] = (double)(b[i] = (float)tpe_rng_normal(tt_rng()));
    CHECK_OK(tpe_head_softmax_sum(H, N, C, E, b, V, s32));
    CHECK_OK(tpe_head_softmax_sum_f64(H64, N, C, E64, b64, V, s64));
    for (v = 0; v < V; v++) {
        /* logits of size ~ 0.3 sqrt(C) |h| carry ~ C eps32 * 10 absolute error:
         * probabilities move by that relative amount */
        double rel = fabs(s32[v] - s64[v]) / s64[v];
        if (rel > worst) worst = rel;
        total += s64[v];
    }
    CHECKF(fabs(total - (double)N) < 1e-9 * (double)N, "probabilities sum to %.17g over %zu positions", total, N);
    CHECKF(worst < 2e-4, "worst relative difference %g", worst);
    NOTE("worst relative difference of the sums %.3g", worst);
    free(H); free(E); free(b); free(H64); free(E64); free(b64); free(s32); free(s64);
}
