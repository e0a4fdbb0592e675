/*
 * cmd_steer.c -- `tpe steer MODEL --alpha A --token W --scale R [--b 2]
 * [--significance S] [--untie] --out-model DIR2 [--json]`: Algorithm 1 of
 * Cho et al. (2024) (steer.h). Fits Eq. 2 on alpha, moves row W of the
 * output embedding by
 *     E'_W = E_W - log(R) Omega (/) A,   Omega = |A|^b (.) S / || |A|^b (.) S ||_1
 * so that A . (E'_W - E_W) = -log R (alpha_W should become about R alpha_W),
 * and writes the edited model as a new model directory.
 */
#include "array.h"
#include "cli.h"
#include "encoding.h"
#include "json.h"
#include "model.h"
#include "paper_cli.h"
#include "runtime_cli.h"
#include "steer.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON cannot hold +-inf: b is a number when finite, else "inf" / "-inf". */
static void json_b(tpe_jw *w, double b)
{
    if (isfinite(b)) tpe_jw_number(w, b);
    else tpe_jw_string(w, b > 0 ? "inf" : "-inf");
}

int tpe_cmd_steer(int argc, char **argv)
{
    const char *alpha_path = NULL, *out_model = NULL, *sig_name = NULL, *prec = "f64";
    size_t token = (size_t)-1, npos, V, C, c, usable = 0, top[5], ntop = 0;
    double scale = (double)NAN, b = 2.0, identity = 0.0, dnorm = 0.0;
    int json = 0, untie = 0, no_bias = 0, rc, precision;
    tpe_significance sig = TPE_SIG_DEFAULT;
    const tpe_opt opts[] = {
        {"--alpha", TPE_OPT_STR, &alpha_path, "alpha.npy", "averaged probabilities (V,) on the detect set, from `tpe probe` (required)"},
        {"--token", TPE_OPT_SIZE, &token, "W", "the token id to steer (required)"},
        {"--scale", TPE_OPT_F64, &scale, "R", "multiply alpha_W by R > 0 (required; R < 1 lowers it)"},
        {"--b", TPE_OPT_F64, &b, "B", "Omega's exponent: any real, inf (all on the largest |A|) or -inf (uniform) (default 2)"},
        {"--significance", TPE_OPT_STR, &sig_name, "S", "one-minus-p | neg-log-p | p | none (default: see docs/paper.md)"},
        {"--untie", TPE_OPT_FLAG, &untie, NULL, "tied model: edit only the head (default: the shared matrix, as the paper)"},
        {"--out-model", TPE_OPT_STR, &out_model, "DIR2", "write the edited model directory here (required; must not exist)"},
        {"--precision", TPE_OPT_STR, &prec, "f64|dd", "least squares of Eq. 2 in double (default) or double-double"},
        {"--no-bias", TPE_OPT_FLAG, &no_bias, NULL, "leave a head bias (GPT-J) out of Eq. 2's regressors"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "steer", "MODEL", "Probability steering (Algorithm 1): scale one token's averaged probability by R.",
        "Fits Eq. 2 (-log alpha_w ~ A . E_w + B) on alpha, then moves row W of the output embedding:\n"
        "  Omega = |A|^b (.) S / || |A|^b (.) S ||_1,   E'_W = E_W - log(R) Omega (/) A,\n"
        "so that A . (E'_W - E_W) = -log R. S is the significance of each slope (--significance).\n"
        "Dimensions whose slope is 0 or NaN (collinear) get no weight. In a tied model the shared\n"
        "matrix is edited (the input embedding of W moves too) unless --untie. The edited matrix is\n"
        "stored in F32 (F64 when it was F64); everything else is copied as it is. See docs/paper.md.",
        opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    tpe_model *m = NULL;
    double *alpha = NULL, *E = NULL, *bias = NULL, *S = NULL, *omega = NULL, *delta = NULL;
    tpe_encoding enc;
    int have_enc = 0;

    memset(&enc, 0, sizeof enc);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!alpha_path) return tpe_cli_usage(spec.cmd, "--alpha is required");
    if (!out_model) return tpe_cli_usage(spec.cmd, "--out-model is required");
    if (token == (size_t)-1) return tpe_cli_usage(spec.cmd, "--token is required");
    if (isnan(scale)) return tpe_cli_usage(spec.cmd, "--scale is required");
    if (!(scale > 0.0) || !isfinite(scale)) return tpe_cli_usage(spec.cmd, "--scale must be positive and finite, got %g", scale);
    if (sig_name && tpe_significance_parse(sig_name, &sig))
        return tpe_cli_usage(spec.cmd, "--significance must be one-minus-p, neg-log-p, p or none, got '%s'", sig_name);
    if (strcmp(prec, "f64") == 0) precision = TPE_OLS_F64;
    else if (strcmp(prec, "dd") == 0) precision = TPE_OLS_DD;
    else return tpe_cli_usage(spec.cmd, "--precision must be f64 or dd, got '%s'", prec);

    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    V = m->cfg.n_vocab;
    C = m->cfg.d_out;
    if (token >= V) {
        tpe_error(TPE_EINVAL, "--token %zu is outside the vocabulary [0, %zu)", token, V);
        goto fail;
    }
    if ((rc = tpe_paper_read_alpha(alpha_path, V, &alpha))) goto fail;
    if ((rc = tpe_paper_embedding(m, 'o', &E))) goto fail;
    if (!no_bias && (rc = tpe_paper_head_bias(m, &bias))) goto fail;
    if ((rc = tpe_encoding_fit(E, V, C, alpha, bias, precision, &enc))) goto fail;
    have_enc = 1;
    S = malloc(C * sizeof *S);
    omega = malloc(C * sizeof *omega);
    delta = malloc(C * sizeof *delta);
    if (!S || !omega || !delta) {
        tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    /* Alg. 1: S, Omega, and E'_W - E_W = -log(R) Omega (/) A */
    tpe_steer_significance(&enc, sig, S);
    if ((rc = tpe_steer_omega(enc.slope, S, C, b, omega, &usable))) goto fail;
    if ((rc = tpe_steer_delta(enc.slope, S, C, b, scale, delta))) goto fail;
    /* the identity A . delta = -log R, as computed */
    for (c = 0; c < C; c++) {
        if (delta[c] != 0.0) identity += enc.slope[c] * delta[c];
        dnorm += delta[c] * delta[c];
    }
    identity += log(scale);
    dnorm = sqrt(dnorm);
    /* the (at most 5) largest weights */
    for (ntop = 0; ntop < 5 && ntop < C; ntop++) {
        size_t best = (size_t)-1, k;
        for (c = 0; c < C; c++) {
            int taken = 0;
            for (k = 0; k < ntop; k++) taken |= top[k] == c;
            if (!taken && omega[c] > 0.0 && (best == (size_t)-1 || omega[c] > omega[best])) best = c;
        }
        if (best == (size_t)-1) break;
        top[ntop] = best;
    }
    if ((rc = tpe_steer_apply(m, (int32_t)token, delta, untie))) goto fail;
    if ((rc = tpe_model_save(m, out_model))) goto fail;

    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "token");
        tpe_jw_int(&w, (long long)token);
        tpe_jw_key(&w, "scale");
        tpe_jw_number(&w, scale);
        tpe_jw_key(&w, "b");
        json_b(&w, b);
        tpe_jw_key(&w, "significance");
        tpe_jw_string(&w, tpe_significance_name(sig));
        tpe_jw_key(&w, "edited");
        tpe_jw_string(&w, m->cfg.tied ? "shared" : "head");
        tpe_jw_key(&w, "alpha_w");
        tpe_jw_number(&w, alpha[token]);
        tpe_jw_key(&w, "predicted_alpha_w");
        tpe_jw_number(&w, scale * alpha[token]);
        tpe_jw_key(&w, "r2");
        tpe_jw_number(&w, enc.r2);
        tpe_jw_key(&w, "adj_r2");
        tpe_jw_number(&w, enc.adj_r2);
        tpe_jw_key(&w, "usable_dims");
        tpe_jw_int(&w, (long long)usable);
        tpe_jw_key(&w, "delta_norm");
        tpe_jw_number(&w, dnorm);
        tpe_jw_key(&w, "identity_error");
        tpe_jw_number(&w, identity);
        tpe_jw_key(&w, "omega_top");
        tpe_jw_array(&w);
        for (c = 0; c < ntop; c++) {
            tpe_jw_object(&w);
            tpe_jw_key(&w, "dim");
            tpe_jw_int(&w, (long long)top[c]);
            tpe_jw_key(&w, "omega");
            tpe_jw_number(&w, omega[top[c]]);
            tpe_jw_key(&w, "slope");
            tpe_jw_number(&w, enc.slope[top[c]]);
            tpe_jw_object_end(&w);
        }
        tpe_jw_array_end(&w);
        tpe_jw_key(&w, "out_model");
        tpe_jw_string(&w, out_model);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("Algorithm 1 on %s: token %zu, r = %g, b = %g, S = %s (%zu of %zu dimensions usable)\n", pos[0], token, scale, b,
               tpe_significance_name(sig), usable, C);
        printf("Eq. 2 fitted on %s: R^2 = %.6f, adj. R^2 = %.6f\n", alpha_path, enc.r2, enc.adj_r2);
        printf("alpha_W = %.6g -> about %.6g expected (r alpha_W)\n", alpha[token], scale * alpha[token]);
        printf("||E'_W - E_W|| = %.6g; A . (E'_W - E_W) + log r = %.3g\n", dnorm, identity);
        printf("largest weights Omega_c:");
        for (c = 0; c < ntop; c++) printf(" d%zu %.3f", top[c], omega[top[c]]);
        printf("\nedited the %s; wrote %s\n", m->cfg.tied ? "shared (tied) embedding" : "output embedding (head)", out_model);
    }
    tpe_encoding_free(&enc);
    tpe_free(alpha);
    tpe_free(E);
    tpe_free(bias);
    free(S);
    free(omega);
    free(delta);
    tpe_model_free(m);
    return 0;
fail:
    if (have_enc) tpe_encoding_free(&enc);
    tpe_free(alpha);
    tpe_free(E);
    tpe_free(bias);
    free(S);
    free(omega);
    free(delta);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
