/*
 * cmd_mauve.c -- `tpe mauve P Q (--featurizer MODEL | --features) [--json]`:
 * MAUVE (Pillutla et al. 2021) between two sets of texts, as the reference
 * package mauve-text computes it (mauve.h): features from a model of ours
 * (the final hidden state after the last norm at each text's last token),
 * unit rows, PCA to 90 % of the variance, k-means, histograms, the
 * divergence curve and its area.
 *
 * P and Q hold one text per non-empty line (UTF-8), or with --features
 * feature matrices as .npy (n x d, any float or integer dtype).
 */
#include "array.h"
#include "cli.h"
#include "io.h"
#include "json.h"
#include "mauve.h"
#include "platform.h"
#include "runtime_cli.h"
#include "tokenizer.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Features of the texts of one file. */
static int featurize_file(const char *path, const tpe_model *m, tpe_tokenizer *tok, size_t max_len, double **F, size_t *n)
{
    tpe_lines l;
    int rc = tpe_lines_read(path, &l);
    *F = NULL;
    *n = 0;
    if (rc) return rc;
    if (l.n == 0) {
        tpe_lines_free(&l);
        return tpe_error(TPE_EINVAL, "%s: no texts (every line is empty)", path);
    }
    *F = tpe_alloc_array(l.n, m->cfg.d_out * sizeof **F, "features");
    if (!*F) {
        rc = TPE_ENOMEM;
    } else {
        tpe_progress bar;
        tpe_progress_begin(&bar, path, (double)l.n);
        rc = tpe_mauve_featurize(m, tok, (const char *const *)l.text, l.len, l.n, max_len, *F, &bar);
        if (rc && bar.enabled && bar.drawn) fputc('\n', stderr); /* the error on its own line */
        if (!rc) tpe_progress_end(&bar);
        if (rc) {
            tpe_error_prefix(rc, "%s: ", path);
            tpe_free(*F);
            *F = NULL;
        }
    }
    if (!rc) *n = l.n;
    tpe_lines_free(&l);
    return rc;
}

static int read_features(const char *path, tpe_array *a)
{
    int rc = tpe_npy_read_f64(path, a);
    if (rc) return rc;
    if (a->ndim != 2 || a->shape[0] == 0 || a->shape[1] == 0) {
        tpe_array_free(a);
        return tpe_error(TPE_EINVAL, "%s: features must be a non-empty 2-D array (n, d)", path);
    }
    return TPE_OK;
}


static void print_json(tpe_jw *w, const tpe_mauve_result *r)
{
    size_t i;
    tpe_jw_key(w, "mauve");
    tpe_jw_number(w, r->mauve);
    tpe_jw_key(w, "mauve_star");
    tpe_jw_number(w, r->mauve_star);
    tpe_jw_key(w, "frontier_integral");
    tpe_jw_number(w, r->frontier_integral);
    tpe_jw_key(w, "frontier_integral_star");
    tpe_jw_number(w, r->frontier_integral_star);
    tpe_jw_key(w, "n_p");
    tpe_jw_int(w, (long long)r->n_p);
    tpe_jw_key(w, "n_q");
    tpe_jw_int(w, (long long)r->n_q);
    tpe_jw_key(w, "buckets");
    tpe_jw_int(w, (long long)r->buckets);
    tpe_jw_key(w, "pca_dims");
    tpe_jw_int(w, (long long)r->pca_dims);
    tpe_jw_key(w, "pca_explained");
    tpe_jw_number(w, r->pca_explained);
    tpe_jw_key(w, "kmeans_inertia");
    tpe_jw_number(w, r->inertia);
    tpe_jw_key(w, "kmeans_iterations");
    tpe_jw_int(w, (long long)r->kmeans_iterations);
    tpe_jw_key(w, "p_hist");
    tpe_jw_f64s(w, r->p_hist, r->buckets);
    tpe_jw_key(w, "q_hist");
    tpe_jw_f64s(w, r->q_hist, r->buckets);
    tpe_jw_key(w, "divergence_curve");
    tpe_jw_array(w);
    for (i = 0; i < r->curve_len; i++) tpe_jw_f64s(w, r->curve + 2 * i, 2);
    tpe_jw_array_end(w);
}

int tpe_cmd_mauve(int argc, char **argv)
{
    const char *featurizer = NULL;
    size_t max_len = 1024, buckets = 0, restarts = 5, max_iter = 500, npos, n_p = 0, n_q = 0, d = 0;
    long seed = TPE_MAUVE_SEED;
    double explained = TPE_MAUVE_EXPLAINED_VAR, t0 = tpe_now();
    int json = 0, features = 0, rc;
    const tpe_opt opts[] = {
        {"--featurizer", TPE_OPT_STR, &featurizer, "MODEL", "model directory whose final hidden states are the features"},
        {"--features", TPE_OPT_FLAG, &features, NULL, "P and Q are feature matrices (.npy, n x d), not texts"},
        {"--max-len", TPE_OPT_SIZE, &max_len, "N", "tokens per text: the first N (default 1024, at most the context)"},
        {"--buckets", TPE_OPT_SIZE, &buckets, "K", "k-means clusters (default max(2, round(min(n_p, n_q) / 10)))"},
        {"--explained-var", TPE_OPT_F64, &explained, "F", "PCA keeps components up to this share of the variance (0.9)"},
        {"--restarts", TPE_OPT_SIZE, &restarts, "R", "k-means restarts, the lowest inertia kept (5)"},
        {"--max-iter", TPE_OPT_SIZE, &max_iter, "I", "Lloyd iterations per restart (500)"},
        {"--seed", TPE_OPT_INT, &seed, "S", "k-means seed (default 25, mauve-text's)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "mauve", "P Q", "MAUVE between two sets of texts (Pillutla et al. 2021), as mauve-text computes it.",
        "P and Q: one text per non-empty line. Features: the featurizer's final hidden state after\n"
        "the last norm at each text's last token (texts cut to --max-len tokens). Rows scaled to\n"
        "unit norm, PCA keeping components up to --explained-var of the variance, k-means\n"
        "(greedy k-means++ seeding, --restarts runs of at most --max-iter Lloyd iterations, the\n"
        "lowest inertia kept), histograms, the divergence curve exp(-5 KL) at 25 mixture weights\n"
        "and its area. MAUVE* uses histograms smoothed by +1/2 (Pillutla et al. 2023). See\n"
        "docs/paper-part2.md.",
        opts, TPE_NOPTS(opts), 2, 2};
    char *pos[2];
    tpe_model *m = NULL;
    tpe_tokenizer *tok = NULL;
    tpe_array Pa, Qa;
    double *P = NULL, *Q = NULL;
    tpe_mauve_opts mo;
    tpe_mauve_result r;
    memset(&Pa, 0, sizeof Pa);
    memset(&Qa, 0, sizeof Qa);
    memset(&r, 0, sizeof r);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!features && !featurizer) return tpe_cli_usage(spec.cmd, "give --featurizer MODEL (or --features for .npy features)");
    if (features && featurizer) return tpe_cli_usage(spec.cmd, "--features and --featurizer exclude each other");
    if (!(explained > 0.0 && explained < 1.0)) return tpe_cli_usage(spec.cmd, "--explained-var must be in (0, 1)");
    if (restarts == 0 || max_iter == 0) return tpe_cli_usage(spec.cmd, "--restarts and --max-iter must be at least 1");
    if (seed < 0) return tpe_cli_usage(spec.cmd, "--seed must be >= 0");
    if (max_len == 0) return tpe_cli_usage(spec.cmd, "--max-len must be at least 1");
    if (features) {
        if ((rc = read_features(pos[0], &Pa)) || (rc = read_features(pos[1], &Qa))) goto fail;
        if (Pa.shape[1] != Qa.shape[1]) {
            tpe_error(TPE_EINVAL, "P has %zu feature dimensions, Q %zu", Pa.shape[1], Qa.shape[1]);
            goto fail;
        }
        P = Pa.data;
        Q = Qa.data;
        n_p = Pa.shape[0];
        n_q = Qa.shape[0];
        d = Pa.shape[1];
    } else {
        if ((rc = tpe_cli_load_model(featurizer, &m))) goto fail;
        if ((rc = tpe_tokenizer_load(featurizer, &tok))) {
            tpe_error_prefix(rc, "the featurizer needs its tokenizer: ");
            goto fail;
        }
        if (max_len > m->cfg.n_ctx) max_len = m->cfg.n_ctx;
        if ((rc = featurize_file(pos[0], m, tok, max_len, &P, &n_p)) || (rc = featurize_file(pos[1], m, tok, max_len, &Q, &n_q)))
            goto fail;
        d = m->cfg.d_out;
    }
    tpe_mauve_opts_default(&mo);
    mo.buckets = buckets;
    mo.explained_var = explained;
    mo.restarts = restarts;
    mo.max_iter = max_iter;
    mo.seed = (uint64_t)seed;
    if (buckets > n_p + n_q) {
        tpe_error(TPE_EINVAL, "--buckets %zu exceeds the %zu texts", buckets, n_p + n_q);
        goto fail;
    }
    if ((rc = tpe_mauve_features(P, n_p, Q, n_q, d, &mo, &r))) goto fail;
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        print_json(&w, &r);
        tpe_jw_key(&w, "featurizer");
        if (featurizer) tpe_jw_string(&w, featurizer);
        else tpe_jw_null(&w);
        tpe_jw_key(&w, "max_len");
        if (featurizer) tpe_jw_int(&w, (long long)max_len);
        else tpe_jw_null(&w);
        tpe_jw_key(&w, "seed");
        tpe_jw_int(&w, seed);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, tpe_now() - t0);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("MAUVE %.6f (MAUVE* %.6f; frontier integral %.6f): %zu vs %zu texts, %zu buckets, %zu PCA components "
               "(%.1f%% of the variance)\n",
               r.mauve, r.mauve_star, r.frontier_integral, n_p, n_q, r.buckets, r.pca_dims, 100.0 * r.pca_explained);
    }
    tpe_mauve_free(&r);
    if (!features) {
        tpe_free(P);
        tpe_free(Q);
    }
    tpe_array_free(&Pa);
    tpe_array_free(&Qa);
    tpe_tokenizer_free(tok);
    tpe_model_free(m);
    return 0;
fail:
    tpe_mauve_free(&r);
    if (!features) {
        tpe_free(P);
        tpe_free(Q);
    }
    tpe_array_free(&Pa);
    tpe_array_free(&Qa);
    tpe_tokenizer_free(tok);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
