/*
 * steer.c -- Algorithm 1 of Cho et al. (2024): probability steering
 * (steer.h).
 */
#include "steer.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const sig_names[] = {"one-minus-p", "neg-log-p", "p", "none"};

int tpe_significance_parse(const char *s, tpe_significance *out)
{
    int i;
    for (i = 0; i < 4; i++)
        if (strcmp(s, sig_names[i]) == 0) {
            *out = (tpe_significance)i;
            return 0;
        }
    return -1;
}

const char *tpe_significance_name(tpe_significance s) { return (unsigned)s < 4 ? sig_names[s] : "?"; }

void tpe_steer_significance(const tpe_encoding *enc, tpe_significance kind, double *S)
{
    size_t c;
    for (c = 0; c < enc->C; c++) {
        double p = enc->slope_p[c];
        if (isnan(enc->slope[c])) {
            S[c] = 0.0;
            continue;
        }
        switch (kind) {
        case TPE_SIG_ONE_MINUS_P: S[c] = 1.0 - p; break;
        /* log p from the regression: finite where p itself underflows to 0 */
        case TPE_SIG_NEG_LOG_P: S[c] = -enc->ols.log_pvalue[1 + c]; break;
        case TPE_SIG_P: S[c] = p; break;
        default: S[c] = 1.0; break;
        }
    }
}

/* A dimension takes part when its slope is finite and non-zero and its
 * significance is finite and positive (steer.h). */
static int usable_dim(double a, double s) { return isfinite(a) && a != 0.0 && isfinite(s) && s > 0.0; }

int tpe_steer_omega(const double *A, const double *S, size_t C, double b, double *omega, size_t *usable)
{
    size_t c, n = 0;
    double top = -HUGE_VAL, total = 0.0;
    if (isnan(b)) return tpe_error(TPE_EINVAL, "steering: b is NaN");
    for (c = 0; c < C; c++) {
        omega[c] = 0.0;
        if (usable_dim(A[c], S[c])) n++;
    }
    if (usable) *usable = n;
    if (n == 0)
        return tpe_error(TPE_EINVAL, "steering: none of the %zu dimensions has a finite non-zero slope with positive significance", C);
    if (b == -HUGE_VAL) {
        /* Table 3's b = -inf: uniform over the usable dimensions */
        for (c = 0; c < C; c++)
            if (usable_dim(A[c], S[c])) omega[c] = 1.0 / (double)n;
        return TPE_OK;
    }
    if (b == HUGE_VAL) {
        /* b = +inf: all on the largest |A_c| (ties share) */
        size_t ties = 0;
        for (c = 0; c < C; c++)
            if (usable_dim(A[c], S[c]) && fabs(A[c]) > top) top = fabs(A[c]);
        for (c = 0; c < C; c++)
            if (usable_dim(A[c], S[c]) && fabs(A[c]) == top) ties++;
        for (c = 0; c < C; c++)
            if (usable_dim(A[c], S[c]) && fabs(A[c]) == top) omega[c] = 1.0 / (double)ties;
        return TPE_OK;
    }
    /* Alg. 1: Omega = |A|^b (.) S / || |A|^b (.) S ||_1, in logs:
     * log w_c = b log|A_c| + log S_c, shifted by the largest so exp cannot overflow */
    for (c = 0; c < C; c++)
        if (usable_dim(A[c], S[c])) {
            double lw = (b == 0.0 ? 0.0 : b * log(fabs(A[c]))) + log(S[c]);
            omega[c] = lw;
            if (lw > top) top = lw;
        }
    for (c = 0; c < C; c++)
        if (usable_dim(A[c], S[c])) total += omega[c] = exp(omega[c] - top);
    for (c = 0; c < C; c++) omega[c] /= total;
    return TPE_OK;
}

int tpe_steer_direction(const double *A, const double *S, size_t C, double b, double *u)
{
    size_t c;
    int rc = tpe_steer_omega(A, S, C, b, u, NULL);
    if (rc) return rc;
    /* Alg. 1: Omega (/) A, element-wise; unusable dimensions have Omega_c = 0
     * and stay 0 (never 0 / 0) */
    for (c = 0; c < C; c++) u[c] = u[c] != 0.0 ? u[c] / A[c] : 0.0;
    return TPE_OK;
}

int tpe_steer_delta(const double *A, const double *S, size_t C, double b, double r, double *delta)
{
    size_t c;
    double lr;
    int rc;
    if (!(r > 0.0) || !isfinite(r)) return tpe_error(TPE_EINVAL, "steering: the scale r = %g must be positive and finite", r);
    if ((rc = tpe_steer_direction(A, S, C, b, delta))) return rc;
    /* Alg. 1: E'_w = E_w - log(r) Omega (/) A */
    lr = log(r);
    for (c = 0; c < C; c++) delta[c] = -lr * delta[c];
    return TPE_OK;
}

int tpe_steer_apply(tpe_model *m, int32_t w, const double *delta, int untie)
{
    const tpe_weight *head = tpe_model_output_embedding(m);
    size_t V = m->cfg.n_vocab, C = m->cfg.d_out, c;
    tpe_dtype store = head->dtype == TPE_F64 ? TPE_F64 : TPE_F32;
    double *E;
    int rc;
    if (w < 0 || (size_t)w >= V) return tpe_error(TPE_EINVAL, "token %ld is outside the vocabulary [0, %zu)", (long)w, V);
    if ((rc = tpe_check_finite_f64(delta, C, 0, "steering change"))) return rc;
    E = tpe_alloc_array(V, C * sizeof *E, "output embedding (double)");
    if (!E) return TPE_ENOMEM;
    if ((rc = tpe_weight_to_f64(head, E))) {
        tpe_free(E);
        return rc;
    }
    for (c = 0; c < C; c++) E[(size_t)w * C + c] += delta[c];
    if (m->cfg.tied && !untie) rc = tpe_model_set_tied_embedding(m, E, store);
    else rc = tpe_model_set_output_embedding(m, E, NULL, store);
    tpe_free(E);
    return rc;
}
