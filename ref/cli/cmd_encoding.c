/*
 * cmd_encoding.c -- `tpe encoding MODEL --alpha alpha.npy [--embedding
 * output|input] [--out DIR] [--json]`: Eq. 2 of Cho et al. (2024),
 *     -log alpha_w ~ A_D . E_w + B_D,
 * as a multiple linear regression with an intercept over the vocabulary
 * (encoding.h), and Table 1 for the model: R^2 and adjusted R^2 on E^(o),
 * of a normalized random vector on E^(o) (the baseline), and on E^(i).
 * A head bias (GPT-J) is one more regressor; its slope is reported beside
 * the theory's -1 on -log alpha (+1 on log alpha, Sec. 2.1).
 *
 * JSON (SPEC.md): n, k, r2, adj_r2, random_adj_r2, intercept, and more.
 * --out DIR: slope.npy (A_D, (k,)), se.npy, p.npy (SPEC.md).
 */
#include "array.h"
#include "cli.h"
#include "encoding.h"
#include "json.h"
#include "model.h"
#include "paper_cli.h"
#include "runtime_cli.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [E, b] as one design (b may be NULL: then E itself is returned). */
static double *design(const double *E, const double *b, size_t V, size_t C)
{
    size_t w, c;
    double *X;
    if (!b) return NULL;
    X = tpe_alloc_array(V, (C + 1) * sizeof *X, "design [E, b]");
    if (!X) return NULL;
    for (w = 0; w < V; w++) {
        for (c = 0; c < C; c++) X[w * (C + 1) + c] = E[w * C + c];
        X[w * (C + 1) + C] = b[w];
    }
    return X;
}

/* Table 1's random row: a normalized random vector on [E, b] (the same design). */
static int random_row(const double *E, const double *b, size_t V, size_t C, uint64_t seed, double *adj)
{
    double *X = design(E, b, V, C);
    int rc;
    if (b && !X) return TPE_ENOMEM;
    rc = tpe_encoding_random_baseline(X ? X : E, V, b ? C + 1 : C, seed, 1, adj);
    tpe_free(X);
    return rc;
}

int tpe_cmd_encoding(int argc, char **argv)
{
    const char *alpha_path = NULL, *emb = "output", *outdir = NULL, *prec = "f64";
    size_t seed = 0, npos, V, C, Ci, Ck, c;
    int json = 0, no_bias = 0, rc, precision, input;
    const tpe_opt opts[] = {
        {"--alpha", TPE_OPT_STR, &alpha_path, "alpha.npy", "averaged probabilities (V,) from `tpe probe` (required)"},
        {"--embedding", TPE_OPT_STR, &emb, "output|input", "regress on E^(o) (default) or on the input embedding E^(i)"},
        {"--out", TPE_OPT_STR, &outdir, "DIR", "write DIR/slope.npy (A_D), se.npy, p.npy"},
        {"--precision", TPE_OPT_STR, &prec, "f64|dd", "least squares in double (default) or double-double"},
        {"--seed", TPE_OPT_SIZE, &seed, "S", "seed of the random baseline vector (default 0)"},
        {"--no-bias", TPE_OPT_FLAG, &no_bias, NULL, "leave a head bias (GPT-J) out of the regressors"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "encoding", "MODEL", "The log-linear probability encoding: -log alpha_w ~ A_D . E_w + B_D (Eq. 2), and Table 1.",
        "Multiple linear regression with an intercept, over the vocabulary, of -log alpha on the\n"
        "rows of the output embedding E^(o) (Cho et al. 2024, Eq. 2): slope A_D (one per dimension),\n"
        "intercept B_D, standard errors and two-sided p-values as statsmodels' OLS. Prints Table 1\n"
        "for the model: R^2 and adjusted R^2 on E^(o), of a normalized random vector on E^(o) (the\n"
        "baseline; portable generator, --seed), and on the input embedding E^(i). A head bias\n"
        "(GPT-J's lm_head.bias) enters as one more regressor in every row; theory gives it slope -1\n"
        "on -log alpha (+1 on log alpha). alpha comes from `tpe probe`. See docs/paper.md.",
        opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    tpe_model *m = NULL;
    double *alpha = NULL, *Eo = NULL, *Ei = NULL, *bias = NULL, rnd = (double)NAN, rnd_o = (double)NAN;
    tpe_encoding enc, enc_o, enc_i;
    tpe_paper_out out;
    int have_o = 0, have_i = 0;

    memset(&enc, 0, sizeof enc);
    memset(&enc_o, 0, sizeof enc_o);
    memset(&enc_i, 0, sizeof enc_i);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!alpha_path) return tpe_cli_usage(spec.cmd, "--alpha is required");
    if (strcmp(emb, "output") != 0 && strcmp(emb, "input") != 0)
        return tpe_cli_usage(spec.cmd, "--embedding must be output or input, got '%s'", emb);
    if (strcmp(prec, "f64") == 0) precision = TPE_OLS_F64;
    else if (strcmp(prec, "dd") == 0) precision = TPE_OLS_DD;
    else return tpe_cli_usage(spec.cmd, "--precision must be f64 or dd, got '%s'", prec);
    input = strcmp(emb, "input") == 0;
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    V = m->cfg.n_vocab;
    C = m->cfg.d_out;   /* E^(o): the head's width (less than d_model after `tpe prune --drop`) */
    Ci = m->cfg.d_model; /* E^(i) */
    Ck = input ? Ci : C;
    if ((rc = tpe_paper_read_alpha(alpha_path, V, &alpha))) goto fail;
    if ((rc = tpe_paper_embedding(m, 'o', &Eo))) goto fail;
    if ((rc = tpe_paper_embedding(m, 'i', &Ei))) goto fail;
    if (!no_bias && (rc = tpe_paper_head_bias(m, &bias))) goto fail;

    /* Table 1: Eq. 2 on E^(o) and on E^(i), the random row on E^(o) */
    if ((rc = tpe_encoding_fit(Eo, V, C, alpha, bias, precision, &enc_o))) goto fail;
    have_o = 1;
    if ((rc = tpe_encoding_fit(Ei, V, Ci, alpha, bias, precision, &enc_i))) goto fail;
    have_i = 1;
    if ((rc = random_row(Eo, bias, V, C, (uint64_t)seed, &rnd_o))) goto fail;
    /* the requested regression (JSON and --out) and its random baseline on the same design */
    enc = input ? enc_i : enc_o;
    if (input) {
        if ((rc = random_row(Ei, bias, V, Ci, (uint64_t)seed, &rnd))) goto fail;
    } else {
        rnd = rnd_o;
    }

    if (outdir) {
        if ((rc = tpe_paper_out_open(&out, outdir))) goto fail;
        if ((rc = tpe_paper_out_npy(&out, "slope.npy", 1, Ck, 0, enc.slope)) ||
            (rc = tpe_paper_out_npy(&out, "se.npy", 1, Ck, 0, enc.slope_se)) ||
            (rc = tpe_paper_out_npy(&out, "p.npy", 1, Ck, 0, enc.slope_p))) {
            tpe_paper_out_abort(&out);
            goto fail;
        }
        if ((rc = tpe_paper_out_commit(&out))) goto fail;
    }

    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "n");
        tpe_jw_int(&w, (long long)V);
        tpe_jw_key(&w, "k");
        tpe_jw_int(&w, (long long)Ck);
        tpe_jw_key(&w, "r2");
        tpe_jw_number(&w, enc.r2);
        tpe_jw_key(&w, "adj_r2");
        tpe_jw_number(&w, enc.adj_r2);
        tpe_jw_key(&w, "random_adj_r2");
        tpe_jw_number(&w, rnd);
        tpe_jw_key(&w, "intercept");
        tpe_jw_number(&w, enc.intercept);
        tpe_jw_key(&w, "embedding");
        tpe_jw_string(&w, input ? "input" : "output");
        tpe_jw_key(&w, "tied");
        tpe_jw_bool(&w, m->cfg.tied);
        tpe_jw_key(&w, "rank");
        tpe_jw_int(&w, (long long)enc.rank);
        tpe_jw_key(&w, "df_resid");
        tpe_jw_int(&w, (long long)enc.df_resid);
        tpe_jw_key(&w, "sigma");
        tpe_jw_number(&w, enc.sigma);
        tpe_jw_key(&w, "random_seed");
        tpe_jw_int(&w, (long long)seed);
        tpe_jw_key(&w, "bias");
        tpe_jw_bool(&w, enc.has_bias);
        if (enc.has_bias) {
            tpe_jw_key(&w, "bias_slope");
            tpe_jw_number(&w, enc.bias_slope);
            tpe_jw_key(&w, "bias_slope_se");
            tpe_jw_number(&w, enc.bias_slope_se);
            tpe_jw_key(&w, "bias_slope_theory");
            tpe_jw_number(&w, -1.0);
        }
        tpe_jw_key(&w, "table1");
        tpe_jw_object(&w);
        tpe_jw_key(&w, "output_r2");
        tpe_jw_number(&w, enc_o.r2);
        tpe_jw_key(&w, "output_adj_r2");
        tpe_jw_number(&w, enc_o.adj_r2);
        tpe_jw_key(&w, "random_adj_r2");
        tpe_jw_number(&w, rnd_o);
        tpe_jw_key(&w, "input_r2");
        tpe_jw_number(&w, enc_i.r2);
        tpe_jw_key(&w, "input_adj_r2");
        tpe_jw_number(&w, enc_i.adj_r2);
        tpe_jw_object_end(&w);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("Eq. 2 on %s (%s, %s): -log alpha_w ~ A_D . E_w + B_D over V = %zu tokens, d = %zu%s\n", pos[0],
               m->cfg.model_type, m->cfg.tied ? "tied" : "untied", V, Ck, bias ? ", head bias as a regressor" : "");
        printf("\n  Table 1 (Cho et al. 2024)                  R^2    adj. R^2\n");
        printf("  %-38s %9.6f  %10.6f\n", "-log alpha on E^(o) (Eq. 2)", enc_o.r2, enc_o.adj_r2);
        printf("  %-38s %9s  %10.6f   (seed %zu)\n", "normalized random vector on E^(o)", "-", rnd_o, seed);
        printf("  %-38s %9.6f  %10.6f\n", m->cfg.tied ? "-log alpha on E^(i) (tied: = E^(o))" : "-log alpha on E^(i)", enc_i.r2,
               enc_i.adj_r2);
        double norm = 0.0;
        for (c = 0; c < Ck; c++)
            if (isfinite(enc.slope[c])) norm += enc.slope[c] * enc.slope[c];
        printf("\n%s embedding: B_D = %.6g, ||A_D|| = %.6g, rank %zu of %zu, residual sd %.6g\n", input ? "input" : "output",
               enc.intercept, sqrt(norm), enc.rank, Ck + 1 + (size_t)enc.has_bias, enc.sigma);
        if (enc.has_bias)
            printf("head bias: fitted slope %.6g +- %.2g on -log alpha (theory -1; i.e. %+.6g on log alpha, theory +1)\n",
                   enc.bias_slope, enc.bias_slope_se, -enc.bias_slope);
        if (outdir) printf("wrote %s/slope.npy, se.npy, p.npy\n", outdir);
    }
    tpe_encoding_free(&enc_o);
    tpe_encoding_free(&enc_i);
    tpe_free(alpha);
    tpe_free(Eo);
    tpe_free(Ei);
    tpe_free(bias);
    tpe_model_free(m);
    return 0;
fail:
    if (have_o) tpe_encoding_free(&enc_o);
    if (have_i) tpe_encoding_free(&enc_i);
    tpe_free(alpha);
    tpe_free(Eo);
    tpe_free(Ei);
    tpe_free(bias);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
