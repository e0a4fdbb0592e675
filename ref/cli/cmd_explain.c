/*
 * cmd_explain.c -- `tpe explain MODEL (DATA [--ids-file] [--max-len N] |
 * --hidden H.npy) [--alpha A.npy] [--token W] [--scale R] [--b B]
 * [--precision f32|f64] [--out DIR] [--json]`: the steps of Cho et al.
 * (2024)'s derivation, each measured on the model over a dataset, in order
 * (explain.h; docs/derivation.md walks through them with these numbers).
 *
 * The final hidden states come from a forward pass over DATA (through
 * probe.h's hidden-state sink) or from a file written by
 * `tpe probe --save-hidden` ((N, C) <f4 or <f8). They are kept in memory
 * (N x C values), since step 5 revisits them.
 */
#include "array.h"
#include "cli.h"
#include "explain.h"
#include "io.h"
#include "json.h"
#include "model.h"
#include "outdir.h"
#include "platform.h"
#include "probe.h"
#include "runtime_cli.h"
#include "svg.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --alpha must be the alpha of the same model and dataset: float and
 * double passes differ by ~1e-5 relative; another dataset by far more. */
#define ALPHA_AGREEMENT 1e-3

typedef struct collect {
    float *h32;   /* (N, C) */
    double *h64;  /* (N, C) */
    size_t N, C, done;
    tpe_progress *bar;
} collect;

/* probe.h's hidden-state sink: copy each window's final hidden states */
static int on_window(void *ctx, size_t sample, size_t pos0, const int32_t *ids, const float *h32, const double *h64, size_t T,
                     size_t C)
{
    collect *c = ctx;
    (void)sample;
    (void)pos0;
    (void)ids;
    if (C != c->C || T > c->N - c->done) return tpe_error(TPE_EINVAL, "hidden states: more positions than counted");
    if (h32) memcpy(c->h32 + c->done * C, h32, T * C * sizeof *h32);
    else memcpy(c->h64 + c->done * C, h64, T * C * sizeof *h64);
    c->done += T;
    tpe_progress_update(c->bar, (double)c->done);
    return TPE_OK;
}

static int hidden_from_data(tpe_model *m, const char *data, int ids_file, const char *model_dir, size_t max_len, int f64,
                            collect *c)
{
    tpe_samples s;
    tpe_probe *p = NULL;
    tpe_progress bar;
    size_t i, k, V = m->cfg.n_vocab;
    int rc;
    if (max_len == 0) max_len = m->cfg.n_ctx;
    if (max_len > m->cfg.n_ctx)
        return tpe_error(TPE_EINVAL, "--max-len %zu exceeds the model's %zu positions", max_len, m->cfg.n_ctx);
    if ((rc = tpe_samples_read(data, ids_file, model_dir, &s))) return rc;
    for (i = 0; i < s.nsamples; i++)
        for (k = s.start[i]; k < s.start[i + 1]; k++)
            if ((size_t)s.ids[k] >= V) {
                rc = tpe_error(TPE_EINVAL, "%s: line %zu: token id %ld is outside the vocabulary [0, %zu)", data, s.line[i],
                               (long)s.ids[k], V);
                goto done;
            }
    if (s.ntokens == 0) {
        rc = tpe_error(TPE_EINVAL, "%s: no samples (every line is empty)", data);
        goto done;
    }
    c->N = s.ntokens;
    c->C = m->cfg.d_out;
    if (f64) c->h64 = tpe_alloc_array(c->N * c->C, sizeof *c->h64, "hidden states");
    else c->h32 = tpe_alloc_array(c->N * c->C, sizeof *c->h32, "hidden states");
    if (!c->h64 && !c->h32) {
        rc = TPE_ENOMEM;
        goto done;
    }
    if ((rc = tpe_probe_new(m, max_len, f64, &p))) goto done;
    tpe_progress_begin(&bar, "explain: forward", (double)s.ntokens);
    c->bar = &bar;
    tpe_probe_set_hidden_sink(p, on_window, c);
    for (i = 0; i < s.nsamples && !rc; i++)
        if ((rc = tpe_probe_sample(p, i, s.ids + s.start[i], s.start[i + 1] - s.start[i]))) {
            tpe_error_prefix(rc, "%s: line %zu: ", data, s.line[i]);
            if (bar.enabled && bar.drawn) fputc('\n', stderr);
        }
    if (!rc) tpe_progress_end(&bar);
    c->bar = NULL;
done:
    tpe_probe_free(p);
    tpe_samples_free(&s);
    return rc;
}

static int hidden_from_file(const char *path, size_t C, collect *c)
{
    tpe_array a;
    int rc;
    if ((rc = tpe_npy_read(path, &a))) return rc;
    if (a.ndim != 2 || a.shape[1] != C || a.shape[0] == 0) {
        char shape[128] = "(";
        int d;
        for (d = 0; d < a.ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%zu", d ? ", " : "", a.shape[d]);
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s)", a.ndim == 1 ? "," : "");
        rc = tpe_error(TPE_EINVAL, "%s: hidden states must be (N, %zu) with N >= 1 (C = the model's width), got %s", path, C,
                       shape);
        tpe_array_free(&a);
        return rc;
    }
    if (a.dtype != TPE_F64 && a.dtype != TPE_F32 && (rc = tpe_array_convert(&a, TPE_F32, path))) {
        tpe_array_free(&a);
        return rc;
    }
    c->N = a.shape[0];
    c->C = C;
    if (a.dtype == TPE_F64) c->h64 = a.data;
    else c->h32 = a.data;
    return TPE_OK; /* the data now belong to c (tpe_alloc'd) */
}

/* ---- output files ------------------------------------------------------------ */

static int write_vec(const tpe_outdir *od, const char *name, const double *v, size_t n)
{
    char *path = tpe_outdir_file(od, name);
    int rc;
    if (!path) return TPE_ENOMEM;
    rc = tpe_npy_write(path, TPE_F64, 1, &n, v);
    free(path);
    return rc;
}

static int write_figure(const tpe_outdir *od, const char *name, tpe_figure *f)
{
    char *path;
    int rc;
    if (!f) return tpe_error(TPE_ENOMEM, "out of memory for a figure");
    path = tpe_outdir_file(od, name);
    rc = path ? tpe_figure_write(f, path) : TPE_ENOMEM;
    free(path);
    tpe_figure_free(f);
    return rc;
}

static int write_outputs(const char *dir, const tpe_explain *x)
{
    tpe_outdir od;
    tpe_figure *f;
    tpe_plot *p;
    char note[160];
    double *neg_alpha = NULL, *mean_logit = NULL;
    size_t V = x->V, w;
    int rc;
    if ((rc = tpe_outdir_open(&od, dir))) return rc;
    if ((rc = write_vec(&od, "alpha.npy", x->alpha, V)) || (rc = write_vec(&od, "mean_logp.npy", x->mean_logp, V)) ||
        (rc = write_vec(&od, "gap.npy", x->gap, V)) || (rc = write_vec(&od, "half_var.npy", x->half_var, V)) ||
        (rc = write_vec(&od, "gap_lower.npy", x->gap_lower, V)) || (rc = write_vec(&od, "gap_upper.npy", x->gap_upper, V)) ||
        (rc = write_vec(&od, "logit_half_var.npy", x->logit_half_var, V)) ||
        (rc = write_vec(&od, "fitted.npy", x->fitted, V)) || (rc = write_vec(&od, "hbar.npy", x->hbar, x->C)) ||
        (rc = write_vec(&od, "slope.npy", x->slope, x->C)) || (rc = write_vec(&od, "slope_gap.npy", x->slope_gap, x->C)))
        goto fail;
    neg_alpha = tpe_alloc_array(V, sizeof *neg_alpha, "-log alpha");
    mean_logit = tpe_alloc_array(V, sizeof *mean_logit, "mean logits");
    if (!neg_alpha || !mean_logit) {
        rc = TPE_ENOMEM;
        goto fail;
    }
    for (w = 0; w < V; w++) {
        neg_alpha[w] = -log(x->alpha[w]);
        /* -(E_w . hbar + b_w) = -(m_w + c) by step 1 */
        mean_logit[w] = -(x->mean_logp[w] + x->mean_logz);
    }

    /* step 2: g_w against Var/2 */
    f = tpe_figure_new(1, 1, "Step 2: the Jensen gap and its local approximation");
    if (f) {
        p = tpe_figure_panel(f, 0, 0);
        tpe_plot_labels(p, "g_w = log alpha_w - mean log p(w|x)", "Var_x log p(w|x) / 2", "g_w");
        rc = tpe_plot_scatter(p, x->half_var, x->gap, V, NULL, NULL, "#4477aa", 1.5, "tokens");
        if (!rc) rc = tpe_plot_refline(p, 1.0, 0.0, "#cc3311", "g = Var/2 (second order)");
        snprintf(note, sizeof note, "median |g - Var/2| / g = %.3g; bounds violated by %zu of %zu tokens",
                 x->half_var_median_rel_err, x->bounds_violated, V);
        tpe_plot_note(p, note);
    }
    if (rc || (rc = write_figure(&od, "step2-jensen.svg", f))) goto fail;

    /* step 3: Eq. 2, g against the fitted values, the theory's single regressor */
    f = tpe_figure_new(1, 3, "Step 3: Eq. 2 and the Jensen gap");
    if (f) {
        p = tpe_figure_panel(f, 0, 0);
        tpe_plot_labels(p, "(a) Eq. 2", "fitted A_D . E_w + B_D", "-log alpha_w");
        rc = tpe_plot_scatter(p, x->fitted, neg_alpha, V, NULL, NULL, "#4477aa", 1.5, "tokens");
        if (!rc) rc = tpe_plot_refline(p, 1.0, 0.0, "#cc3311", "y = x");
        snprintf(note, sizeof note, "R^2 = %.4f, adjusted %.4f", x->r2, x->adj_r2);
        tpe_plot_note(p, note);
        p = tpe_figure_panel(f, 0, 1);
        tpe_plot_labels(p, "(b) g_w against the fit", "fitted A_D . E_w + B_D", "g_w");
        if (!rc) rc = tpe_plot_scatter(p, x->fitted, x->gap, V, NULL, NULL, "#228833", 1.5, "tokens");
        snprintf(note, sizeof note, "r(g, fitted) = %.3f; R^2 of g on E = %.3f", x->gap_fitted_corr, x->gap_r2);
        tpe_plot_note(p, note);
        p = tpe_figure_panel(f, 0, 2);
        tpe_plot_labels(p, "(c) A_D = -hbar alone", "-(E_w . hbar + b_w)", "-log alpha_w");
        if (!rc) rc = tpe_plot_scatter(p, mean_logit, neg_alpha, V, NULL, NULL, "#aa3377", 1.5, "tokens");
        if (!rc) rc = tpe_plot_refline(p, x->single_slope, x->single_intercept, "#cc3311", "least squares");
        snprintf(note, sizeof note, "slope %.3f (theory 1), R^2 = %.4f", x->single_slope, x->single_r2);
        tpe_plot_note(p, note);
    }
    if (rc || (rc = write_figure(&od, "step3-eq2.svg", f))) goto fail;
    tpe_free(neg_alpha);
    tpe_free(mean_logit);
    return tpe_outdir_commit(&od);
fail:
    tpe_free(neg_alpha);
    tpe_free(mean_logit);
    tpe_outdir_abort(&od);
    return rc ? rc : TPE_ENOMEM;
}

/* ---- printing ------------------------------------------------------------------ */

static void json_steer(tpe_jw *w, const tpe_explain_steer *s)
{
    tpe_jw_key(w, "token");
    tpe_jw_int(w, s->token);
    tpe_jw_key(w, "alpha");
    tpe_jw_number(w, s->alpha);
    tpe_jw_key(w, "alpha_new");
    tpe_jw_number(w, s->alpha_new);
    tpe_jw_key(w, "log_r");
    tpe_jw_number(w, s->log_r);
    tpe_jw_key(w, "log_r_hat");
    tpe_jw_number(w, s->log_r_hat);
    tpe_jw_key(w, "identity");
    tpe_jw_number(w, s->identity);
    tpe_jw_key(w, "gain");
    tpe_jw_number(w, s->gain);
    tpe_jw_key(w, "slope_term");
    tpe_jw_number(w, s->slope_term);
    tpe_jw_key(w, "normalizer_term");
    tpe_jw_number(w, s->normalizer_term);
    tpe_jw_key(w, "gap_term");
    tpe_jw_number(w, s->gap_term);
    tpe_jw_key(w, "residual");
    tpe_jw_number(w, s->residual);
}

#define JNUM(k, v)                                                                                                   \
    do {                                                                                                             \
        tpe_jw_key(&w, k);                                                                                           \
        tpe_jw_number(&w, v);                                                                                        \
    } while (0)
#define JINT(k, v)                                                                                                   \
    do {                                                                                                             \
        tpe_jw_key(&w, k);                                                                                           \
        tpe_jw_int(&w, (long long)(v));                                                                              \
    } while (0)

static void print_json(const tpe_explain *x, const tpe_model *m, const char *model_dir, const char *source, const char *out,
                       double scale, double seconds)
{
    tpe_jw w;
    size_t i;
    tpe_jw_init(&w, stdout);
    tpe_jw_object(&w);
    tpe_jw_key(&w, "model");
    tpe_jw_string(&w, model_dir);
    tpe_jw_key(&w, "model_type");
    tpe_jw_string(&w, m->cfg.model_type);
    tpe_jw_key(&w, "tied");
    tpe_jw_bool(&w, m->cfg.tied);
    tpe_jw_key(&w, "head_bias");
    tpe_jw_bool(&w, x->has_bias);
    tpe_jw_key(&w, "source");
    tpe_jw_string(&w, source);
    JINT("positions", x->N);
    JINT("vocab", x->V);
    JINT("dim", x->C);
    tpe_jw_key(&w, "precision");
    tpe_jw_string(&w, x->f64 ? "f64" : "f32");
    tpe_jw_key(&w, "alpha_check");
    if (x->has_given) {
        tpe_jw_object(&w);
        JNUM("max_rel_diff", x->given_max_rel);
        JINT("worst_token", x->given_worst);
        JNUM("r2", x->given_r2);
        JNUM("adj_r2", x->given_adj_r2);
        tpe_jw_object_end(&w);
    } else {
        tpe_jw_null(&w);
    }
    tpe_jw_key(&w, "step1");
    tpe_jw_object(&w);
    JNUM("mean_log_z", x->mean_logz);
    JNUM("log_z_at_hbar", x->logz_hbar);
    JNUM("hbar_norm", x->hbar_norm);
    JNUM("eq1_max_err", x->eq1_max_err);
    tpe_jw_object_end(&w);
    tpe_jw_key(&w, "step2");
    tpe_jw_object(&w);
    JNUM("gap_min", x->gap_min);
    JNUM("gap_median", x->gap_median);
    JNUM("gap_mean", x->gap_mean);
    JNUM("gap_max", x->gap_max);
    JNUM("gap_sd", x->gap_sd);
    JINT("gap_negative", x->gap_negative);
    JINT("bounds_violated", x->bounds_violated);
    JNUM("half_var_median_rel_err", x->half_var_median_rel_err);
    JNUM("half_var_corr", x->half_var_corr);
    JNUM("range_median", x->range_median);
    JINT("concentrated", x->concentrated);
    JNUM("concentrated_max_rel_err", x->concentrated_max_rel_err);
    JNUM("jensen_log_z", x->jensen_logz);
    JNUM("var_log_z", x->var_logz);
    JNUM("logit_var_median", x->logit_var_median);
    JNUM("gap_logit_corr", x->gap_logit_corr);
    tpe_jw_object_end(&w);
    tpe_jw_key(&w, "step3");
    tpe_jw_object(&w);
    JNUM("r2", x->r2);
    JNUM("adj_r2", x->adj_r2);
    JNUM("intercept", x->intercept);
    JNUM("slope_norm", x->slope_norm);
    JNUM("cos_slope_neg_hbar", x->cos_slope_hbar);
    JNUM("gap_r2", x->gap_r2);
    JNUM("gap_intercept", x->gap_intercept);
    JNUM("r2_gap_added", x->r2_added);
    JNUM("y_sd", x->y_sd);
    JNUM("gap_fitted_corr", x->gap_fitted_corr);
    JNUM("decomposition_err", x->decomposition_err);
    JNUM("eq1_coef_err", x->eq1_coef_err);
    JNUM("unexplained", x->unexplained);
    JNUM("unexplained_from_gap", x->unexplained_from_gap);
    JNUM("single_slope", x->single_slope);
    JNUM("single_r2", x->single_r2);
    tpe_jw_object_end(&w);
    tpe_jw_key(&w, "step4");
    if (x->has_bias) {
        tpe_jw_object(&w);
        JNUM("bias_slope", x->bias_slope);
        JNUM("bias_slope_se", x->bias_slope_se);
        JNUM("theory", -1.0);
        JNUM("gap_bias_slope", x->gap_bias_slope);
        JNUM("identity_err", x->bias_identity_err);
        JNUM("gap_bias_slope_bound", x->bias_slope_bound);
        tpe_jw_object_end(&w);
    } else {
        tpe_jw_null(&w);
    }
    tpe_jw_key(&w, "step5");
    tpe_jw_object(&w);
    JNUM("b", x->steer_b);
    JNUM("scale", scale);
    tpe_jw_key(&w, "significance");
    tpe_jw_string(&w, "none");
    tpe_jw_key(&w, "along");
    tpe_jw_string(&w, x->along_hbar ? "hbar" : "fit");
    tpe_jw_key(&w, "edit");
    tpe_jw_string(&w, "head");
    json_steer(&w, &x->steer);
    tpe_jw_key(&w, "quantiles");
    tpe_jw_array(&w);
    for (i = 0; i < TPE_EXPLAIN_QUANTILES; i++) {
        tpe_jw_object(&w);
        json_steer(&w, &x->quantile[i]);
        tpe_jw_object_end(&w);
    }
    tpe_jw_array_end(&w);
    JNUM("mean_abs_err", x->q_mean_abs_err);
    JNUM("mean_abs_slope_term", x->q_mean_abs_slope);
    JNUM("mean_abs_normalizer_term", x->q_mean_abs_normalizer);
    JNUM("mean_abs_gap_term", x->q_mean_abs_gap);
    tpe_jw_object_end(&w);
    tpe_jw_key(&w, "out");
    if (out) tpe_jw_string(&w, out);
    else tpe_jw_null(&w);
    JNUM("seconds", seconds);
    tpe_jw_object_end(&w);
    tpe_jw_end(&w);
}

static void print_human(const tpe_explain *x, const tpe_model *m, const char *model_dir, const char *source_path,
                        int from_hidden, const char *alpha_path, const char *out)
{
    const tpe_explain_steer *s = &x->steer;
    printf("tpe explain: %s (%s, %s head, %s) on %zu position%s of %s%s\n", model_dir, m->cfg.model_type,
           m->cfg.tied ? "tied" : "untied", x->has_bias ? "with a bias" : "no bias", x->N, x->N == 1 ? "" : "s", source_path,
           from_hidden ? " (hidden states)" : "");
    printf("V = %zu tokens, C = %zu dimensions; logits in %s, statistics in double. See docs/derivation.md.\n", x->V, x->C,
           x->f64 ? "double" : "float");
    if (x->has_given)
        printf("\n--alpha %s agrees with the alpha of these hidden states to %.2g (relative; worst token %ld).\n"
               "  Its Eq. 2 fit (Table 1): R^2 %.4f, adjusted %.4f.\n",
               alpha_path, x->given_max_rel, x->given_worst, x->given_r2, x->given_adj_r2);

    printf("\nStep 1. softmax -> Eq. 1: log p(w|x) = E_w.h(x) + b_w - log Z(x); averaged over the positions,\n"
           "        mean_x log p(w|x) = E_w.hbar + b_w - c exactly (hbar = mean h(x), c = mean log Z(x))\n");
    printf("  c = mean_x log Z(x)                          %.6g   (log V = %.6g)\n", x->mean_logz, log((double)x->V));
    printf("  |hbar|                                       %.6g\n", x->hbar_norm);
    printf("  max_w |mean log p - (E_w.hbar + b_w - c)|    %.2g   (rounding of the %s logits)\n", x->eq1_max_err,
           x->f64 ? "double" : "float");

    printf("\nStep 2. alpha_w = mean_x p(w|x); the Jensen gap g_w = log alpha_w - mean_x log p(w|x) >= 0\n");
    printf("  g_w over the %zu tokens: min %.4g, median %.4g, mean %.4g, max %.4g (sd %.4g)\n", x->V, x->gap_min,
           x->gap_median, x->gap_mean, x->gap_max, x->gap_sd);
    printf("  tokens with g_w < 0 beyond rounding          %zu\n", x->gap_negative);
    if (isnan(x->half_var_corr))
        printf("  local approximation g_w ~ Var_x(log p(w|x))/2: g_w and Var are constant (0) here\n");
    else
        printf("  local approximation g_w ~ Var_x(log p(w|x))/2: median relative error %.3g, correlation %.3g\n",
               x->half_var_median_rel_err, x->half_var_corr);
    printf("  bound log(1 + Var/2 e^dmin) <= g_w <= min(log(1 + Var/2 e^dmax), R^2/8): violated by %zu of %zu tokens\n",
           x->bounds_violated, x->V);
    printf("  concentration: median range R of log p(w|x) %.4g nats; %zu tokens have R <= 1", x->range_median,
           x->concentrated);
    if (x->concentrated) printf(" (there |g - Var/2|/g <= %.3g)", x->concentrated_max_rel_err);
    printf("\n  log p(w|x) - mean = E_w.(h(x) - hbar) - (log Z(x) - c): median Var_x of the centered logit %.4g,\n"
           "    Var_x log Z(x) %.4g; r(g_w, Var_x(E_w.h(x))/2) %.3g\n",
           x->logit_var_median, x->var_logz, x->gap_logit_corr);
    printf("  alpha_w = softmax(E hbar + b)_w exp(g_w - J) with J = c - log Z(hbar) = %.4g for every w\n",
           x->jensen_logz);

    printf("\nStep 3. Eq. 2: -log alpha_w ~ A_D.E_w + B_D%s (least squares over the vocabulary)\n",
           x->has_bias ? " + beta b_w" : "");
    printf("  R^2 %.4f, adjusted %.4f; B_D %.6g\n", x->r2, x->adj_r2, x->intercept);
    printf("  exactly -log alpha_w = -E_w.hbar - b_w + c - g_w, so A_D = -hbar - A_g and B_D = c - B_g,\n"
           "  (A_g, B_g) the same regression of g_w: ");
    if (isnan(x->half_var_corr)) printf("g_w = 0 up to rounding, so A_g = 0\n");
    else printf("R^2 of g on E %.4f\n", x->gap_r2);
    printf("  check: coefficients of -log alpha + those of g - those of (-log alpha + g): max %.2g;\n"
           "         those of (-log alpha + g) against (c, -hbar%s): max %.2g\n",
           x->decomposition_err, x->has_bias ? ", -1" : "", x->eq1_coef_err);
    printf("  how much B_D varies with E_w: sd(g) %.4g against sd(-log alpha) %.4g; r(g, fitted) %.3f\n", x->gap_sd,
           x->y_sd, x->gap_fitted_corr);
    printf("  R^2 with g_w added back (-log alpha_w + g_w)  %.9f\n", x->r2_added);
    printf("  1 - R^2 = %.4g; RSS(g on E) / TSS(-log alpha) = %.4g\n", x->unexplained, x->unexplained_from_gap);
    printf("  A_D against -hbar: cos %.3f, |A_D| %.4g, |hbar| %.4g\n", x->cos_slope_hbar, x->slope_norm, x->hbar_norm);
    printf("  -log alpha on the theory's one regressor -(E_w.hbar + b_w): slope %.4f (theory 1), R^2 %.4f\n",
           x->single_slope, x->single_r2);

    printf("\nStep 4. a head bias b enters with slope -1 on -log alpha (+1 on log alpha), less g's slope on b\n");
    if (x->has_bias) {
        printf("  bias slope %.6f (se %.2g; theory -1) = -1 - (%.6f), g's slope on b (|.| <= %.3g)\n", x->bias_slope,
               x->bias_slope_se, x->gap_bias_slope, x->bias_slope_bound);
        printf("  check: |bias slope + g's slope - (-log alpha + g)'s slope| %.2g\n", x->bias_identity_err);
    } else {
        printf("  this head has no bias (GPT-J's has; see docs/derivation.md)\n");
    }

    printf("\nStep 5. Algorithm 1 (b = %g, S = 1, A = %s): Omega = |A|^b S / || |A|^b S ||_1, E'_w = E_w - log(r) Omega / A\n",
           x->steer_b, x->along_hbar ? "-hbar" : "A_D");
    printf("  token %ld (alpha %.4g), r = %.6g: A.dE + log r = %.2g\n", s->token, s->alpha, exp(s->log_r), s->identity);
    printf("  head-only edit%s, evaluated exactly on the cached hidden states:\n",
           m->cfg.tied ? " (this head is tied: the input embedding is left as it is, as `tpe steer --untie`)" : "");
    printf("    log(alpha'_w / alpha_w) = %.6f = log r %.6f + (hbar + A).dE %.6f - (c' - c) %.6f + (g'_w - g_w) %.6f\n",
           s->log_r_hat, s->log_r, s->slope_term, s->normalizer_term, s->gap_term);
    printf("    so alpha'_w / alpha_w = %.6g for r = %.6g (residual of the split %.2g)\n", exp(s->log_r_hat), exp(s->log_r),
           s->residual);
    printf("    log r + slope term = gain x log r, gain = -sum_c Omega_c hbar_c / A_c = %.4f (1 when A = -hbar)\n", s->gain);
    printf("  over %d tokens at the alpha quantiles 0, 0.1, ..., 1: mean |log r_hat - log r| %.4g;\n"
           "    mean |slope term| %.4g, |normalizer term| %.4g, |gap term| %.4g\n",
           TPE_EXPLAIN_QUANTILES, x->q_mean_abs_err, x->q_mean_abs_slope, x->q_mean_abs_normalizer, x->q_mean_abs_gap);
    if (out) printf("\nwrote %s/ (per-token .npy files, step2-jensen.svg, step3-eq2.svg)\n", out);
}

int tpe_cmd_explain(int argc, char **argv)
{
    const char *hidden = NULL, *alpha_path = NULL, *out = NULL, *prec = "f32", *along = "fit";
    size_t max_len = 0, npos, V, C;
    long token = -1;
    double scale = 2.0, bexp = 2.0, t0 = tpe_now();
    int ids_file = 0, json = 0, f64, rc;
    const tpe_opt opts[] = {
        {"--ids-file", TPE_OPT_FLAG, &ids_file, NULL, "DATA lines are token ids separated by spaces, not text"},
        {"--max-len", TPE_OPT_SIZE, &max_len, "N", "window length, as tpe probe (default: the model's context)"},
        {"--hidden", TPE_OPT_STR, &hidden, "H.npy", "final hidden states (N, C) from tpe probe --save-hidden, instead of DATA"},
        {"--alpha", TPE_OPT_STR, &alpha_path, "A.npy", "alpha of the same dataset (tpe probe): checked, and its fit reported"},
        {"--token", TPE_OPT_INT, &token, "W", "step 5's token (default: the token of median alpha)"},
        {"--scale", TPE_OPT_F64, &scale, "R", "step 5's target ratio r = alpha'_w / alpha_w (default 2)"},
        {"--b", TPE_OPT_F64, &bexp, "B", "Algorithm 1's exponent b (default 2)"},
        {"--along", TPE_OPT_STR, &along, "fit|hbar", "step 5 steers along the fitted A_D (default, the paper's) or A = -hbar"},
        {"--precision", TPE_OPT_STR, &prec, "f32|f64", "f32: float forward and logits (default); f64: both in double"},
        {"--out", TPE_OPT_STR, &out, "DIR", "write per-token .npy files and the SVG figures of steps 2 and 3 (new directory)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "explain", "MODEL [DATA]", "The paper's derivation, step by step, measured on MODEL over a dataset.",
        "Cho et al. (2024): 1. softmax -> Eq. 1; 2. alpha and the Jensen gap g_w = log alpha_w -\n"
        "mean_x log p(w|x) >= 0, its local approximation Var/2 and bounds; 3. Eq. 2 -log alpha ~ A_D.E + B_D,\n"
        "A_D = -hbar - (g's slope): how much B_D varies with E_w; 4. a head bias's slope (-1 on -log alpha);\n"
        "5. Algorithm 1's identity A.dE = -log r and the measured alpha'_w / alpha_w of the head-only edit.\n"
        "The hidden states come from a forward pass over DATA (one sample per non-empty line, as tpe probe)\n"
        "or from --hidden. docs/derivation.md explains every number.",
        opts, TPE_NOPTS(opts), 1, 2};
    char *pos[2];
    tpe_model *m = NULL;
    collect col;
    tpe_array alpha;
    tpe_explain_input in;
    tpe_explain x;
    double *E = NULL, *bias = NULL;
    int have_alpha = 0, have_x = 0;
    memset(&col, 0, sizeof col);
    memset(&x, 0, sizeof x);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if ((f64 = tpe_cli_precision(prec)) < 0) return tpe_cli_usage(spec.cmd, "--precision must be f32 or f64, got '%s'", prec);
    if ((npos == 2) == (hidden != NULL)) return tpe_cli_usage(spec.cmd, "give either DATA or --hidden H.npy (exactly one)");
    if (hidden && (ids_file || max_len)) return tpe_cli_usage(spec.cmd, "--ids-file and --max-len go with DATA, not --hidden");
    if (!(scale > 0.0)) return tpe_cli_usage(spec.cmd, "--scale must be positive, got %g", scale);
    if (strcmp(along, "fit") != 0 && strcmp(along, "hbar") != 0)
        return tpe_cli_usage(spec.cmd, "--along must be fit or hbar, got '%s'", along);
    if (token < -1) return tpe_cli_usage(spec.cmd, "--token must be a token id, got %ld", token);
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    V = m->cfg.n_vocab;
    C = m->cfg.d_out;
    if (alpha_path) {
        if ((rc = tpe_npy_read_f64(alpha_path, &alpha))) goto fail;
        have_alpha = 1;
        if (alpha.ndim != 1 || alpha.shape[0] != V) {
            tpe_error(TPE_EINVAL, "%s: alpha must have shape (%zu,) (the model's vocabulary), got %zu values in %d dimensions",
                      alpha_path, V, alpha.count, alpha.ndim);
            goto fail;
        }
    }
    if (hidden) rc = hidden_from_file(hidden, C, &col);
    else rc = hidden_from_data(m, pos[1], ids_file, pos[0], max_len, f64, &col);
    if (rc) goto fail;
    E = tpe_alloc_array(V * C, sizeof *E, "output embedding");
    if (!E || (rc = tpe_weight_to_f64(tpe_model_output_embedding(m), E))) goto fail;
    if (tpe_model_head_bias(m)) {
        bias = tpe_alloc_array(V, sizeof *bias, "head bias");
        if (!bias || (rc = tpe_weight_to_f64(tpe_model_head_bias(m), bias))) goto fail;
    }
    memset(&in, 0, sizeof in);
    in.V = V;
    in.C = C;
    in.N = col.N;
    in.E = E;
    in.bias = bias;
    in.H32 = col.h32;
    in.H64 = col.h64;
    in.f64 = f64;
    in.alpha_given = have_alpha ? alpha.data : NULL;
    in.token = token;
    in.scale = scale;
    in.b = bexp;
    in.along_hbar = strcmp(along, "hbar") == 0;
    if ((rc = tpe_explain_run(&in, &x))) goto fail;
    have_x = 1;
    if (x.has_given && !(x.given_max_rel <= ALPHA_AGREEMENT)) {
        tpe_error(TPE_EINVAL,
                  "%s differs from the alpha of these hidden states by %.3g (relative, token %ld): not the same model and dataset?",
                  alpha_path, x.given_max_rel, x.given_worst);
        goto fail;
    }
    if (out && (rc = write_outputs(out, &x))) goto fail;
    if (json) print_json(&x, m, pos[0], hidden ? "hidden" : "data", out, scale, tpe_now() - t0);
    else print_human(&x, m, pos[0], hidden ? hidden : pos[1], hidden != NULL, alpha_path, out);
    tpe_explain_free(&x);
    tpe_free(E);
    tpe_free(bias);
    tpe_free(col.h32);
    tpe_free(col.h64);
    if (have_alpha) tpe_array_free(&alpha);
    tpe_model_free(m);
    return 0;
fail:
    if (have_x) tpe_explain_free(&x);
    tpe_free(E);
    tpe_free(bias);
    tpe_free(col.h32);
    tpe_free(col.h64);
    if (have_alpha) tpe_array_free(&alpha);
    tpe_model_free(m);
    return tpe_cli_fail(spec.cmd);
}
