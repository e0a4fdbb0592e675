/*
 * cmd_steer_eval.c -- `tpe steer-eval MODEL --detect D --test-id I
 * --test-ood O [--tokens N --seed S --scales ... --b ... --significance ...]
 * [--out DIR] [--json]`: Tables 2-3 and Figs. 4-5 of Cho et al. (2024)
 * (steereval.h).
 *
 * For N tokens drawn with the seed, every scale r of --scales up (x r) and
 * down (/ r), and every method -- Algorithm 1 with each (b, S) variant, and
 * the baselines (the unedited model, a random A_D, a shuffled A_D) -- the
 * scale error e = |log r - log r_hat| with r_hat = alpha'_w / alpha_w on
 * the detect set (e_local), the in-domain test set (e_id) and the
 * out-of-domain test set (e_ood), and d_KL^r on each; mean and standard
 * deviation over the tokens. Fig. 4 repeats the primary variant with the
 * encoding fitted on the first n samples of the (shuffled) detect set.
 *
 * The transformer runs once per set; edits are evaluated on the cached
 * hidden states (exact when only the head changes); for a tied model whose
 * shared matrix is edited, the windows containing the steered token are
 * run again per edit (also exact). The output says which mode ran.
 */
#include "array.h"
#include "cli.h"
#include "hiddencache.h"
#include "json.h"
#include "model.h"
#include "paper_cli.h"
#include "platform.h"
#include "rng.h"
#include "runtime_cli.h"
#include "steereval.h"
#include "svg.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const set_names[TPE_NSETS] = {"local", "id", "ood"};

typedef struct stat2 {
    double mean, sd;
    size_t n;
} stat2;

/* mean and sample standard deviation (n - 1; 0 for one value) of the finite values */
static stat2 stats_of(const double *x, size_t n)
{
    stat2 s;
    size_t i, k = 0;
    double sum = 0.0, ss = 0.0;
    for (i = 0; i < n; i++)
        if (isfinite(x[i])) {
            sum += x[i];
            k++;
        }
    s.n = k;
    s.mean = k ? sum / (double)k : (double)NAN;
    for (i = 0; i < n; i++)
        if (isfinite(x[i])) ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.sd = k > 1 ? sqrt(ss / (double)(k - 1)) : k ? 0.0 : (double)NAN;
    return s;
}

static void jw_stat(tpe_jw *w, const char *key, stat2 s)
{
    tpe_jw_key(w, key);
    tpe_jw_object(w);
    tpe_jw_key(w, "mean");
    tpe_jw_number(w, s.mean);
    tpe_jw_key(w, "sd");
    tpe_jw_number(w, s.sd);
    tpe_jw_object_end(w);
}

static void jw_b(tpe_jw *w, double b)
{
    if (isfinite(b)) tpe_jw_number(w, b);
    else tpe_jw_string(w, b > 0 ? "inf" : "-inf");
}

static const char *fmt_b(double b, char *buf, size_t cap)
{
    if (isfinite(b)) snprintf(buf, cap, "%g", b);
    else snprintf(buf, cap, "%s", b > 0 ? "+inf" : "-inf");
    return buf;
}

/* Keep the first n samples of a cache (its arrays stay; only the counts shrink). */
static void cache_truncate(tpe_hidden_cache *c, size_t n)
{
    if (n >= c->nsamples) return;
    c->nsamples = n;
    c->nwin = c->sample_win[n];
    c->N = c->win[c->nwin];
}

/* A set: a hidden-state file (.npy from probe --save-hidden) or a data file. */
static int load_set(const tpe_model *m, const char *model_dir, const char *path, int ids_file, size_t window, size_t max_samples,
                    uint64_t seed, int shuffle, const char *label, tpe_hidden_cache *hc)
{
    size_t n = strlen(path), i;
    size_t *perm = NULL;
    tpe_rng rng;
    int rc;
    if (n > 4 && strcmp(path + n - 4, ".npy") == 0) {
        if ((rc = tpe_hidden_cache_read(path, window, hc))) return rc;
    } else {
        tpe_samples s;
        if ((rc = tpe_samples_read(path, ids_file, model_dir, &s))) return rc;
        if (s.ntokens == 0) {
            tpe_samples_free(&s);
            return tpe_error(TPE_EINVAL, "%s: no samples (every line is empty)", path);
        }
        for (i = 0; i < s.ntokens; i++)
            if ((size_t)s.ids[i] >= m->cfg.n_vocab) {
                size_t smp = 0;
                while (s.start[smp + 1] <= i) smp++;
                rc = tpe_error(TPE_EINVAL, "%s: line %zu: token id %ld is outside the vocabulary [0, %zu)", path, s.line[smp],
                               (long)s.ids[i], m->cfg.n_vocab);
                tpe_samples_free(&s);
                return rc;
            }
        {
            tpe_progress bar;
            tpe_progress_begin(&bar, label, (double)s.ntokens);
            rc = tpe_hidden_cache_build(m, s.ids, s.start, s.nsamples, window, &bar, hc);
            tpe_progress_end(&bar);
        }
        tpe_samples_free(&s);
        if (rc) return tpe_error_prefix(rc, "%s: ", path);
    }
    if (!shuffle && (max_samples == 0 || max_samples >= hc->nsamples)) return TPE_OK;
    /* a seeded order of the samples: the subsample and, for D, Fig. 4's subsets */
    perm = malloc(hc->nsamples * sizeof *perm);
    if (!perm) return tpe_error(TPE_ENOMEM, "out of memory");
    for (i = 0; i < hc->nsamples; i++) perm[i] = i;
    tpe_rng_seed(&rng, seed);
    for (i = hc->nsamples; i > 1; i--) {
        size_t r = (size_t)tpe_rng_below(&rng, i), t = perm[i - 1];
        perm[i - 1] = perm[r];
        perm[r] = t;
    }
    rc = tpe_hidden_cache_permute(hc, perm);
    free(perm);
    if (rc) return rc;
    if (max_samples) cache_truncate(hc, max_samples);
    return TPE_OK;
}

/* Table layout helpers over the sweep result */
static size_t idx(const tpe_steer_sweep *r, size_t m, size_t j, size_t s) { return (m * r->ntokens + j) * r->nr + s; }

/* e over tokens for (method, scale, set); unedited when m == (size_t)-1 */
static stat2 e_stat(const tpe_steer_sweep *r, size_t m, size_t s, size_t set, double *buf)
{
    size_t j;
    for (j = 0; j < r->ntokens; j++)
        buf[j] = m == (size_t)-1 ? fabs(log(r->r[s])) : fabs(log(r->r[s]) - log(r->r_hat[idx(r, m, j, s) * TPE_NSETS + set]));
    return stats_of(buf, r->ntokens);
}

static stat2 kl_stat(const tpe_steer_sweep *r, size_t m, size_t s, size_t set, double *buf)
{
    size_t j;
    for (j = 0; j < r->ntokens; j++) buf[j] = m == (size_t)-1 ? 0.0 : r->kl[idx(r, m, j, s) * TPE_NSETS + set];
    return stats_of(buf, r->ntokens);
}

/* e over tokens and every scale but r = 1, for a method (Table 3) */
static stat2 e_all(const tpe_steer_sweep *r, size_t m, size_t set, double *buf)
{
    size_t j, s, k = 0;
    for (j = 0; j < r->ntokens; j++)
        for (s = 0; s < r->nr; s++)
            if (r->r[s] != 1.0) buf[k++] = fabs(log(r->r[s]) - log(r->r_hat[idx(r, m, j, s) * TPE_NSETS + set]));
    return stats_of(buf, k);
}

static stat2 kl_all(const tpe_steer_sweep *r, size_t m, size_t set, double *buf)
{
    size_t j, s, k = 0;
    for (j = 0; j < r->ntokens; j++)
        for (s = 0; s < r->nr; s++)
            if (r->r[s] != 1.0) buf[k++] = r->kl[idx(r, m, j, s) * TPE_NSETS + set];
    return stats_of(buf, k);
}

static stat2 e_sweep(const tpe_steer_sweep *r, size_t i, size_t set, double *buf)
{
    size_t j, s, k = 0, K1 = r->ntokens * r->nr;
    for (j = 0; j < r->ntokens; j++)
        for (s = 0; s < r->nr; s++)
            if (r->r[s] != 1.0)
                buf[k++] = fabs(log(r->r[s]) - log(r->sweep_r_hat[(i * K1 + j * r->nr + s) * TPE_NSETS + set]));
    return stats_of(buf, k);
}

static const char *method_name(const tpe_steer_sweep *r, size_t nvariants, size_t m)
{
    (void)r;
    if (m < nvariants) return "steer";
    return m == nvariants ? "random" : "shuffled";
}

typedef struct run_info {
    const char *model;
    const tpe_model_config *cfg;
    int tied;                  /* as loaded (the evaluator may untie m in memory) */
    size_t V, C;
    const tpe_hidden_cache *hc[TPE_NSETS];
    const int32_t *tokens;
    size_t ntokens;
    const tpe_steer_variant *variants;
    size_t nvariants;
    int baselines, kl;
    size_t seed;
    const char *mode_name, *evaluation;
    double seconds_forward, seconds_eval;
} run_info;

static void write_json(FILE *f, const run_info *ri, const tpe_steer_sweep *r, double *buf)
{
    tpe_jw w;
    size_t m, s, set, j, i;
    char key[32];
    tpe_jw_init(&w, f);
    tpe_jw_object(&w);
    tpe_jw_key(&w, "model");
    tpe_jw_string(&w, ri->model);
    tpe_jw_key(&w, "vocab");
    tpe_jw_int(&w, (long long)ri->V);
    tpe_jw_key(&w, "dim");
    tpe_jw_int(&w, (long long)ri->C);
    tpe_jw_key(&w, "tied");
    tpe_jw_bool(&w, ri->tied);
    tpe_jw_key(&w, "edited");
    tpe_jw_string(&w, r->tied_shared ? "shared" : "head");
    tpe_jw_key(&w, "mode");
    tpe_jw_string(&w, ri->mode_name);
    tpe_jw_key(&w, "evaluation");
    tpe_jw_string(&w, ri->evaluation);
    tpe_jw_key(&w, "sets");
    tpe_jw_object(&w);
    for (set = 0; set < TPE_NSETS; set++) {
        tpe_jw_key(&w, set_names[set]);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "samples");
        tpe_jw_int(&w, (long long)ri->hc[set]->nsamples);
        tpe_jw_key(&w, "positions");
        tpe_jw_int(&w, (long long)ri->hc[set]->N);
        tpe_jw_object_end(&w);
    }
    tpe_jw_object_end(&w);
    tpe_jw_key(&w, "tokens");
    tpe_jw_array(&w);
    for (j = 0; j < ri->ntokens; j++) tpe_jw_int(&w, ri->tokens[j]);
    tpe_jw_array_end(&w);
    tpe_jw_key(&w, "seed");
    tpe_jw_int(&w, (long long)ri->seed);
    tpe_jw_key(&w, "scales");
    tpe_jw_f64s(&w, r->r, r->nr);
    tpe_jw_key(&w, "variants");
    tpe_jw_array(&w);
    for (m = 0; m < ri->nvariants; m++) {
        tpe_jw_object(&w);
        tpe_jw_key(&w, "b");
        jw_b(&w, ri->variants[m].b);
        tpe_jw_key(&w, "significance");
        tpe_jw_string(&w, tpe_significance_name(ri->variants[m].sig));
        tpe_jw_object_end(&w);
    }
    tpe_jw_array_end(&w);
    tpe_jw_key(&w, "r2");
    tpe_jw_number(&w, r->r2);
    tpe_jw_key(&w, "adj_r2");
    tpe_jw_number(&w, r->adj_r2);
    /* Table 2: variants[0], the baselines and the unedited model, per scale */
    tpe_jw_key(&w, "table2");
    tpe_jw_array(&w);
    for (m = 0; m <= r->nmethods; m++) {
        size_t mm;
        if (m == r->nmethods) mm = (size_t)-1;
        else if (m == 0 || m >= ri->nvariants) mm = m;
        else continue;
        for (s = 0; s < r->nr; s++) {
            tpe_jw_object(&w);
            tpe_jw_key(&w, "method");
            tpe_jw_string(&w, mm == (size_t)-1 ? "unedited" : method_name(r, ri->nvariants, mm));
            tpe_jw_key(&w, "scale");
            tpe_jw_number(&w, r->r[s]);
            for (set = 0; set < TPE_NSETS; set++) {
                snprintf(key, sizeof key, "e_%s", set_names[set]);
                jw_stat(&w, key, e_stat(r, mm, s, set, buf));
            }
            if (ri->kl)
                for (set = 0; set < TPE_NSETS; set++) {
                    snprintf(key, sizeof key, "kl_%s", set_names[set]);
                    jw_stat(&w, key, kl_stat(r, mm, s, set, buf));
                }
            tpe_jw_object_end(&w);
        }
    }
    tpe_jw_array_end(&w);
    /* Table 3: every method averaged over the tokens and the scales r != 1 */
    tpe_jw_key(&w, "table3");
    tpe_jw_array(&w);
    for (m = 0; m < r->nmethods; m++) {
        tpe_jw_object(&w);
        tpe_jw_key(&w, "method");
        tpe_jw_string(&w, method_name(r, ri->nvariants, m));
        tpe_jw_key(&w, "b");
        jw_b(&w, ri->variants[m < ri->nvariants ? m : 0].b);
        tpe_jw_key(&w, "significance");
        tpe_jw_string(&w, tpe_significance_name(ri->variants[m < ri->nvariants ? m : 0].sig));
        for (set = 0; set < TPE_NSETS; set++) {
            snprintf(key, sizeof key, "e_%s", set_names[set]);
            jw_stat(&w, key, e_all(r, m, set, buf));
        }
        if (ri->kl)
            for (set = 0; set < TPE_NSETS; set++) {
                snprintf(key, sizeof key, "kl_%s", set_names[set]);
                jw_stat(&w, key, kl_all(r, m, set, buf));
            }
        tpe_jw_object_end(&w);
    }
    tpe_jw_array_end(&w);
    tpe_jw_key(&w, "fig4");
    tpe_jw_array(&w);
    for (i = 0; i < r->nsizes; i++) {
        tpe_jw_object(&w);
        tpe_jw_key(&w, "samples");
        tpe_jw_int(&w, (long long)r->sweep_samples[i]);
        tpe_jw_key(&w, "adj_r2");
        tpe_jw_number(&w, r->sweep_adj_r2[i]);
        for (set = 0; set < TPE_NSETS; set++) {
            snprintf(key, sizeof key, "e_%s", set_names[set]);
            jw_stat(&w, key, e_sweep(r, i, set, buf));
        }
        tpe_jw_object_end(&w);
    }
    tpe_jw_array_end(&w);
    tpe_jw_key(&w, "alpha_w");
    tpe_jw_array(&w);
    for (j = 0; j < ri->ntokens; j++) tpe_jw_f64s(&w, r->alpha_w + j * TPE_NSETS, TPE_NSETS);
    tpe_jw_array_end(&w);
    /* every edit: r_hat (and d_KL^r) on local, id, ood */
    tpe_jw_key(&w, "edits");
    tpe_jw_array(&w);
    for (m = 0; m < r->nmethods; m++)
        for (j = 0; j < ri->ntokens; j++)
            for (s = 0; s < r->nr; s++) {
                size_t k = idx(r, m, j, s);
                tpe_jw_object(&w);
                tpe_jw_key(&w, "method");
                tpe_jw_int(&w, (long long)m);
                tpe_jw_key(&w, "token");
                tpe_jw_int(&w, ri->tokens[j]);
                tpe_jw_key(&w, "scale");
                tpe_jw_number(&w, r->r[s]);
                tpe_jw_key(&w, "r_hat");
                tpe_jw_f64s(&w, r->r_hat + k * TPE_NSETS, TPE_NSETS);
                if (ri->kl) {
                    tpe_jw_key(&w, "kl");
                    tpe_jw_f64s(&w, r->kl + k * TPE_NSETS, TPE_NSETS);
                }
                tpe_jw_object_end(&w);
            }
    tpe_jw_array_end(&w);
    tpe_jw_key(&w, "edits_evaluated");
    tpe_jw_int(&w, (long long)r->stats.cached_edits);
    tpe_jw_key(&w, "rerun_windows");
    tpe_jw_int(&w, (long long)r->stats.rerun_windows);
    tpe_jw_key(&w, "rerun_tokens");
    tpe_jw_int(&w, (long long)r->stats.rerun_tokens);
    tpe_jw_key(&w, "seconds_forward");
    tpe_jw_number(&w, ri->seconds_forward);
    tpe_jw_key(&w, "seconds_eval");
    tpe_jw_number(&w, ri->seconds_eval);
    tpe_jw_key(&w, "seconds_rerun");
    tpe_jw_number(&w, r->stats.seconds_rerun);
    tpe_jw_key(&w, "seconds_kl");
    tpe_jw_number(&w, r->stats.seconds_kl);
    tpe_jw_object_end(&w);
    tpe_jw_end(&w);
}

static int write_figures(const tpe_paper_out *o, const run_info *ri, const tpe_steer_sweep *r, double *buf)
{
    static const char *const colors[TPE_NSETS] = {"#4477aa", "#228833", "#ee6677"};
    tpe_figure *f = NULL;
    tpe_plot *p;
    double *x = malloc((r->nr + r->nsizes + 1) * sizeof *x), *y = malloc((r->nr + r->nsizes + 1) * sizeof *y);
    double *e = malloc((r->nr + r->nsizes + 1) * sizeof *e);
    size_t set, i, n, j;
    char *path = NULL, label[96];
    int rc = TPE_OK;
    if (!x || !y || !e) {
        rc = tpe_error(TPE_ENOMEM, "out of memory");
        goto done;
    }
    /* Fig. 5: expected against measured scale (variants[0]): every token on the
     * in-domain set as points, and per set the geometric mean over tokens */
    if (!(f = tpe_figure_new(1, 1, "Fig. 5: expected and measured scale"))) goto oom;
    p = tpe_figure_panel(f, 0, 0);
    tpe_plot_labels(p, ri->model, "expected scale r", "measured r_hat = alpha'_w / alpha_w");
    tpe_plot_log_x(p, 1);
    tpe_plot_log_y(p, 1);
    {
        size_t np = 0;
        double *px = malloc(r->nr * r->ntokens * sizeof *px), *py = malloc(r->nr * r->ntokens * sizeof *py);
        if (!px || !py) {
            free(px);
            free(py);
            goto oom;
        }
        for (i = 0; i < r->nr; i++)
            for (j = 0; j < r->ntokens; j++) {
                px[np] = r->r[i];
                py[np++] = r->r_hat[idx(r, 0, j, i) * TPE_NSETS + TPE_SET_ID];
            }
        rc = tpe_plot_scatter(p, px, py, np, NULL, NULL, "#bbbbbb", 1.8, "each token (id)");
        free(px);
        free(py);
        if (rc) goto done;
    }
    for (set = 0; set < TPE_NSETS; set++) {
        /* scales in increasing order: the downs (1/r) reversed, then the ups */
        n = 0;
        for (i = 0; i < r->nr; i++) {
            size_t half = r->nr / 2, si = i < half ? r->nr - 1 - i : i - half;
            stat2 st;
            for (j = 0; j < r->ntokens; j++) buf[j] = log(r->r_hat[idx(r, 0, j, si) * TPE_NSETS + set]);
            st = stats_of(buf, r->ntokens);
            x[n] = r->r[si];
            y[n] = exp(st.mean);
            n++;
        }
        snprintf(label, sizeof label, "geometric mean, %s", set_names[set]);
        if ((rc = tpe_plot_line(p, x, y, NULL, n, colors[set], 0, 1, label))) goto done;
    }
    if ((rc = tpe_plot_refline(p, 1.0, 0.0, NULL, "r_hat = r"))) goto done;
    snprintf(label, sizeof label, "%zu tokens; adj. R^2 %.3f on D; %s", r->ntokens, r->adj_r2, ri->mode_name);
    tpe_plot_note(p, label);
    if (!(path = tpe_paper_out_file(o, "fig5.svg"))) goto oom;
    if ((rc = tpe_figure_write(f, path))) goto done;
    free(path);
    path = NULL;
    tpe_figure_free(f);
    f = NULL;
    /* Fig. 4: scale error against the detect-set size */
    if (r->nsizes) {
        double lr = 0.0;
        size_t cnt = 0;
        if (!(f = tpe_figure_new(1, 1, "Fig. 4: scale error and detect-set size"))) goto oom;
        p = tpe_figure_panel(f, 0, 0);
        tpe_plot_labels(p, ri->model, "detect-set samples", "scale error e = |log r - log r_hat|");
        tpe_plot_log_x(p, 1);
        for (set = 0; set < TPE_NSETS; set++) {
            for (i = 0; i < r->nsizes; i++) {
                stat2 st = e_sweep(r, i, set, buf);
                x[i] = (double)r->sweep_samples[i];
                y[i] = st.mean;
                e[i] = st.sd;
            }
            snprintf(label, sizeof label, "e_%s", set_names[set]);
            if ((rc = tpe_plot_line(p, x, y, e, r->nsizes, colors[set], 0, 1, label))) goto done;
        }
        for (i = 0; i < r->nr; i++)
            if (r->r[i] != 1.0) {
                lr += fabs(log(r->r[i]));
                cnt++;
            }
        if (cnt && (rc = tpe_plot_refline(p, 0.0, lr / (double)cnt, NULL, "unedited (mean |log r|)"))) goto done;
        tpe_plot_note(p, "mean +- sd over tokens and scales r != 1");
        if (!(path = tpe_paper_out_file(o, "fig4.svg"))) goto oom;
        if ((rc = tpe_figure_write(f, path))) goto done;
    }
    goto done;
oom:
    rc = tpe_error(TPE_ENOMEM, "out of memory");
done:
    free(path);
    tpe_figure_free(f);
    free(x);
    free(y);
    free(e);
    return rc;
}

static void print_tables(const run_info *ri, const tpe_steer_sweep *r, double *buf)
{
    size_t m, s, set, i;
    char bb[32];
    printf("Steering (Algorithm 1) on %s: %s, V = %zu, d = %zu; Eq. 2 on the detect set: R^2 %.4f, adj. R^2 %.4f\n", ri->model,
           ri->tied ? (r->tied_shared ? "tied, shared matrix edited" : "tied, head edited (--untie)") : "untied", ri->V, ri->C,
           r->r2, r->adj_r2);
    printf("evaluation: %s\n", ri->evaluation);
    printf("sets: local %zu samples / %zu positions, id %zu / %zu, ood %zu / %zu; %zu tokens (seed %zu):", ri->hc[0]->nsamples,
           ri->hc[0]->N, ri->hc[1]->nsamples, ri->hc[1]->N, ri->hc[2]->nsamples, ri->hc[2]->N, ri->ntokens, ri->seed);
    for (i = 0; i < ri->ntokens && i < 20; i++) printf(" %ld", (long)ri->tokens[i]);
    printf("%s\n", ri->ntokens > 20 ? " ..." : "");
    for (m = 0; m <= r->nmethods; m++) {
        size_t mm;
        if (m == r->nmethods) {
            printf("\nunedited model: e = |log r|, d_KL^r = 0 at every scale\n");
            continue;
        }
        if (!(m == 0 || m >= ri->nvariants)) continue;
        mm = m;
        if (mm == 0)
            printf("\nTable 2: Algorithm 1 (b = %s, S = %s); mean +- sd over %zu tokens\n", fmt_b(ri->variants[0].b, bb, sizeof bb),
                   tpe_significance_name(ri->variants[0].sig), r->ntokens);
        else
            printf("\nbaseline: %s A_D (b = %s, S = %s)\n", method_name(r, ri->nvariants, mm) ,
                   fmt_b(ri->variants[0].b, bb, sizeof bb), tpe_significance_name(ri->variants[0].sig));
        printf("  scale    |log r|  e_local           e_id              e_ood          %s\n",
               ri->kl ? "  dKL_local          dKL_id             dKL_ood" : "");
        for (s = 0; s < r->nr; s++) {
            char sc[24];
            if (s < r->nr / 2) snprintf(sc, sizeof sc, "x%g", r->r[s]);
            else snprintf(sc, sizeof sc, "/%g", 1.0 / r->r[s]);
            printf("  %-7s %7.4f", sc, fabs(log(r->r[s])));
            for (set = 0; set < TPE_NSETS; set++) {
                stat2 st = e_stat(r, mm, s, set, buf);
                printf("  %7.4f+-%-7.4f", st.mean, st.sd);
            }
            if (ri->kl)
                for (set = 0; set < TPE_NSETS; set++) {
                    stat2 st = kl_stat(r, mm, s, set, buf);
                    printf("  %8.2e+-%-8.1e", st.mean, st.sd);
                }
            printf("\n");
        }
    }
    printf("\nTable 3: mean +- sd over tokens and scales (r != 1)\n");
    printf("  method    b       S             e_local           e_id              e_ood           %s\n", ri->kl ? "dKL_id" : "");
    for (m = 0; m < r->nmethods; m++) {
        const tpe_steer_variant *v = &ri->variants[m < ri->nvariants ? m : 0];
        printf("  %-9s %-7s %-12s", method_name(r, ri->nvariants, m), fmt_b(v->b, bb, sizeof bb), tpe_significance_name(v->sig));
        for (set = 0; set < TPE_NSETS; set++) {
            stat2 st = e_all(r, m, set, buf);
            printf("  %7.4f+-%-7.4f", st.mean, st.sd);
        }
        if (ri->kl) {
            stat2 st = kl_all(r, m, TPE_SET_ID, buf);
            printf("  %8.2e+-%-8.1e", st.mean, st.sd);
        }
        printf("\n");
    }
    if (r->nsizes) {
        printf("\nFig. 4: scale error with Eq. 2 fitted on the first n detect samples (b = %s, S = %s)\n",
               fmt_b(ri->variants[0].b, bb, sizeof bb), tpe_significance_name(ri->variants[0].sig));
        printf("  samples  adj. R^2   e_local           e_id              e_ood\n");
        for (i = 0; i < r->nsizes; i++) {
            printf("  %7zu  %8.4f", r->sweep_samples[i], r->sweep_adj_r2[i]);
            for (set = 0; set < TPE_NSETS; set++) {
                stat2 st = e_sweep(r, i, set, buf);
                printf("  %7.4f+-%-7.4f", st.mean, st.sd);
            }
            printf("%s\n", isnan(r->sweep_adj_r2[i]) ? "  (fit failed: too few samples)" : "");
        }
    }
    printf("\n%zu edits evaluated in %.2f s (%.2f s re-running %zu windows / %zu tokens, %.2f s for d_KL^r); forward passes %.2f s\n",
           r->stats.cached_edits, ri->seconds_eval, r->stats.seconds_rerun, r->stats.rerun_windows, r->stats.rerun_tokens,
           r->stats.seconds_kl, ri->seconds_forward);
}

int tpe_cmd_steer_eval(int argc, char **argv)
{
    const char *paths[TPE_NSETS] = {NULL, NULL, NULL}, *outdir = NULL, *scales_s = "1,1.1,1.2,1.5,2,5,10,20", *b_s = "2",
               *sig_s = NULL, *mode_s = "auto", *token_s = NULL, *sizes_s = NULL, *prec = "f64";
    size_t ntokens = 10, seed = 0, max_len = 0, max_samples = 0, npos, V, C, i, j, set;
    int json = 0, ids_file = 0, untie = 0, no_base = 0, no_kl = 0, no_sweep = 0, no_bias = 0, rc;
    const tpe_opt opts[] = {
        {"--detect", TPE_OPT_STR, &paths[0], "D", "the detect set: alpha_D, Eq. 2 and e_local come from it (required)"},
        {"--test-id", TPE_OPT_STR, &paths[1], "I", "other in-domain samples: e_id (required)"},
        {"--test-ood", TPE_OPT_STR, &paths[2], "O", "out-of-domain samples: e_ood (required)"},
        {"--ids-file", TPE_OPT_FLAG, &ids_file, NULL, "data lines are token ids, not text"},
        {"--max-len", TPE_OPT_SIZE, &max_len, "N", "window length (default: the model's context); a .npy set needs probe's"},
        {"--tokens", TPE_OPT_SIZE, &ntokens, "N", "tokens drawn uniformly from the vocabulary with --seed (default 10)"},
        {"--token-ids", TPE_OPT_STR, &token_s, "LIST", "steer these tokens instead (comma-separated ids)"},
        {"--seed", TPE_OPT_SIZE, &seed, "S", "seed of the token draw, the baselines and the sample order (default 0)"},
        {"--scales", TPE_OPT_STR, &scales_s, "LIST", "scales r, each steered up (x r) and down (/ r) (default 1,1.1,1.2,1.5,2,5,10,20)"},
        {"--b", TPE_OPT_STR, &b_s, "LIST", "Omega's exponents; the first is Table 2's, all are Table 3's (inf, -inf allowed; default 2)"},
        {"--significance", TPE_OPT_STR, &sig_s, "LIST", "one-minus-p,neg-log-p,p,none (combined with every b; default: docs/paper.md)"},
        {"--no-baselines", TPE_OPT_FLAG, &no_base, NULL, "skip the random and shuffled A_D baselines"},
        {"--no-kl", TPE_OPT_FLAG, &no_kl, NULL, "skip d_KL^r"},
        {"--sizes", TPE_OPT_STR, &sizes_s, "LIST", "Fig. 4's detect-set sizes in samples (default 1,2,4,... and all)"},
        {"--no-sweep", TPE_OPT_FLAG, &no_sweep, NULL, "skip Fig. 4's detect-set-size sweep"},
        {"--max-samples", TPE_OPT_SIZE, &max_samples, "N", "use at most N samples of each set (a seeded subsample)"},
        {"--mode", TPE_OPT_STR, &mode_s, "auto|full|head-only",
         "auto: cache + exact re-runs where needed; full: re-run everything; head-only: ignore input changes"},
        {"--untie", TPE_OPT_FLAG, &untie, NULL, "tied model: edit only the head (then the cache alone is exact)"},
        {"--precision", TPE_OPT_STR, &prec, "f64|dd", "least squares of Eq. 2 (default f64)"},
        {"--no-bias", TPE_OPT_FLAG, &no_bias, NULL, "leave a head bias out of Eq. 2's regressors"},
        {"--out", TPE_OPT_STR, &outdir, "DIR", "write fig4.svg, fig5.svg and steer-eval.json (the --json object)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "steer-eval", "MODEL", "Tables 2-3, Figs. 4-5: how accurately Algorithm 1 steers, on three test sets.",
        "Draws --tokens tokens; for each, each scale up and down, and each method (Algorithm 1 per (b, S)\n"
        "variant, the random and shuffled A_D baselines; the unedited model is e = |log r|), measures\n"
        "r_hat = alpha'_w / alpha_w on the detect set (local), the in-domain and the out-of-domain test\n"
        "sets, e = |log r - log r_hat| and d_KL^r (the averaged distributions before and after, the\n"
        "steered token removed, renormalized). Mean +- sd over tokens. Sets are text (or --ids-file)\n"
        "files, or hidden-state files from `tpe probe --save-hidden` (.npy). The transformer runs once\n"
        "per set; edits use the cached hidden states, exactly; for a tied model the windows holding the\n"
        "steered token are re-run per edit (the input embedding moves too). See docs/paper.md.",
        opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1], bad[64];
    tpe_model *m = NULL;
    tpe_steer_evaluator *ev = NULL;
    tpe_steer_set sets[TPE_NSETS];
    tpe_steer_set *setp[TPE_NSETS];
    tpe_steer_sweep res;
    tpe_steer_sweep_opts so;
    tpe_steer_variant *variants = NULL;
    tpe_eval_mode mode;
    tpe_progress bar;
    tpe_paper_out out;
    run_info ri;
    double *scales = NULL, *bs = NULL, *list = NULL, *buf = NULL, *bias = NULL, t0;
    size_t nscales = 0, nb = 0, nsig = 0, nlist = 0, nsizes = 0, *sizes = NULL, nv;
    tpe_significance sigs[4];
    int32_t *tokens = NULL;
    int have_res = 0;
    char evaluation[400];

    memset(sets, 0, sizeof sets);
    memset(&res, 0, sizeof res);
    memset(&ri, 0, sizeof ri);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    for (set = 0; set < TPE_NSETS; set++)
        if (!paths[set]) return tpe_cli_usage(spec.cmd, "--detect, --test-id and --test-ood are required");
    if (strcmp(mode_s, "auto") == 0) mode = TPE_EVAL_AUTO;
    else if (strcmp(mode_s, "full") == 0) mode = TPE_EVAL_FULL;
    else if (strcmp(mode_s, "head-only") == 0) mode = TPE_EVAL_HEAD_ONLY;
    else return tpe_cli_usage(spec.cmd, "--mode must be auto, full or head-only, got '%s'", mode_s);
    if (strcmp(prec, "f64") != 0 && strcmp(prec, "dd") != 0) return tpe_cli_usage(spec.cmd, "--precision must be f64 or dd");
    if (tpe_paper_parse_list(scales_s, 0, &scales, &nscales, bad, sizeof bad))
        return tpe_cli_usage(spec.cmd, "--scales: '%s' is not a finite number", bad);
    for (i = 0; i < nscales; i++)
        if (!(scales[i] > 0.0)) {
            double bad_scale = scales[i];
            free(scales);
            return tpe_cli_usage(spec.cmd, "--scales: %g is not a positive scale", bad_scale);
        }
    if (tpe_paper_parse_list(b_s, 1, &bs, &nb, bad, sizeof bad)) {
        free(scales);
        return tpe_cli_usage(spec.cmd, "--b: '%s' is not a number (inf and -inf are allowed)", bad);
    }
    if (sig_s) {
        const char *at = sig_s;
        while (1) {
            const char *end = strchr(at, ',');
            size_t len = end ? (size_t)(end - at) : strlen(at);
            char word[32];
            snprintf(word, sizeof word, "%.*s", (int)(len < 31 ? len : 31), at);
            if (nsig == 4 || len >= sizeof word || tpe_significance_parse(word, &sigs[nsig])) {
                free(scales);
                free(bs);
                return tpe_cli_usage(spec.cmd, "--significance: '%s' is not one of one-minus-p, neg-log-p, p, none", word);
            }
            nsig++;
            if (!end) break;
            at = end + 1;
        }
    } else {
        sigs[0] = TPE_SIG_DEFAULT;
        nsig = 1;
    }
    if (sizes_s && !no_sweep) {
        if (tpe_paper_parse_list(sizes_s, 0, &list, &nlist, bad, sizeof bad)) {
            free(scales);
            free(bs);
            return tpe_cli_usage(spec.cmd, "--sizes: '%s' is not a number", bad);
        }
        sizes = malloc((nlist ? nlist : 1) * sizeof *sizes);
        if (!sizes) {
            free(list);
            tpe_error(TPE_ENOMEM, "out of memory");
            rc = -1;
            goto usage_out;
        }
        for (i = 0; i < nlist; i++) {
            if (!(list[i] >= 1.0) || list[i] != floor(list[i]) || (i && list[i] <= list[i - 1])) {
                free(scales);
                free(bs);
                free(list);
                free(sizes);
                return tpe_cli_usage(spec.cmd, "--sizes must be ascending positive integers");
            }
            sizes[i] = (size_t)list[i];
        }
        nsizes = nlist;
        free(list);
        list = NULL;
    }
    if (ntokens == 0 && !token_s) {
        rc = tpe_cli_usage(spec.cmd, "--tokens must be at least 1");
        goto usage_out;
    }

    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    V = m->cfg.n_vocab;
    C = m->cfg.d_out;
    ri.tied = m->cfg.tied;
    if (max_len == 0) max_len = m->cfg.n_ctx;
    if (max_len > m->cfg.n_ctx) {
        tpe_error(TPE_EINVAL, "--max-len %zu exceeds the model's %zu positions", max_len, m->cfg.n_ctx);
        goto fail;
    }
    /* the tokens */
    if (token_s) {
        size_t k;
        if ((rc = tpe_parse_ids(token_s, "--token-ids", &tokens, &k))) goto fail;
        if (k == 0) {
            tpe_error(TPE_EINVAL, "--token-ids: no ids");
            goto fail;
        }
        for (i = 0; i < k; i++)
            if ((size_t)tokens[i] >= V) {
                tpe_error(TPE_EINVAL, "--token-ids: token %ld is outside the vocabulary [0, %zu)", (long)tokens[i], V);
                goto fail;
            }
        ntokens = k;
    } else {
        /* N distinct tokens drawn uniformly (a partial Fisher-Yates shuffle) */
        size_t *all = malloc(V * sizeof *all);
        tpe_rng rng;
        if (ntokens > V) {
            free(all);
            tpe_error(TPE_EINVAL, "--tokens %zu exceeds the vocabulary of %zu", ntokens, V);
            goto fail;
        }
        tokens = malloc(ntokens * sizeof *tokens);
        if (!all || !tokens) {
            free(all);
            tpe_error(TPE_ENOMEM, "out of memory");
            goto fail;
        }
        for (i = 0; i < V; i++) all[i] = i;
        tpe_rng_seed(&rng, (uint64_t)seed);
        for (i = 0; i < ntokens; i++) {
            size_t r = i + (size_t)tpe_rng_below(&rng, V - i), t = all[i];
            all[i] = all[r];
            all[r] = t;
            tokens[i] = (int32_t)all[i];
        }
        free(all);
    }

    /* the three sets, hidden states cached (one forward pass each) */
    t0 = tpe_now();
    for (set = 0; set < TPE_NSETS; set++) {
        sets[set].name = set_names[set];
        rc = load_set(m, pos[0], paths[set], ids_file, max_len, max_samples, (uint64_t)seed + set, set == TPE_SET_LOCAL,
                      set_names[set], &sets[set].hc);
        if (rc) goto fail;
        if (sets[set].hc.C != C) {
            tpe_error(TPE_EINVAL, "%s: hidden states have width %zu, the model %zu", paths[set], sets[set].hc.C, C);
            goto fail;
        }
        setp[set] = &sets[set];
    }
    ri.seconds_forward = tpe_now() - t0;
    if (!no_bias && (rc = tpe_paper_head_bias(m, &bias))) goto fail;

    /* Fig. 4's sizes: 1, 2, 4, ... below the detect set's samples, and all of them */
    if (!no_sweep && !sizes) {
        size_t n = sets[0].hc.nsamples, k = 1;
        sizes = malloc(70 * sizeof *sizes);
        if (!sizes) {
            tpe_error(TPE_ENOMEM, "out of memory");
            goto fail;
        }
        while (k < n) {
            sizes[nsizes++] = k;
            k *= 2;
        }
        sizes[nsizes++] = n;
    }
    nv = nb * nsig;
    variants = malloc(nv * sizeof *variants);
    if (!variants) {
        tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    for (i = 0; i < nb; i++)
        for (j = 0; j < nsig; j++) {
            variants[i * nsig + j].b = bs[i];
            variants[i * nsig + j].sig = sigs[j];
        }
    if ((rc = tpe_steer_evaluator_new(m, &ev))) goto fail;
    memset(&so, 0, sizeof so);
    so.tokens = tokens;
    so.ntokens = ntokens;
    so.scales = scales;
    so.nscales = nscales;
    so.variants = variants;
    so.nvariants = nv;
    so.baselines = !no_base;
    so.kl = !no_kl;
    so.untie = untie;
    so.mode = mode;
    so.seed = (uint64_t)seed;
    so.sizes = sizes;
    so.nsizes = no_sweep ? 0 : nsizes;
    so.precision = strcmp(prec, "dd") == 0 ? TPE_OLS_DD : TPE_OLS_F64;
    {
        size_t K = (nv + (no_base ? 0 : 2)) * ntokens * 2 * nscales;
        tpe_progress_begin(&bar, "steer-eval", (double)(K * TPE_NSETS + so.nsizes * ntokens * 2 * nscales * TPE_NSETS));
    }
    so.progress = &bar;
    t0 = tpe_now();
    rc = tpe_steer_sweep_run(ev, setp, bias, &so, &res);
    tpe_progress_end(&bar);
    if (rc) goto fail;
    have_res = 1;
    ri.seconds_eval = tpe_now() - t0;

    /* what ran */
    ri.model = pos[0];
    ri.cfg = &m->cfg;
    ri.V = V;
    ri.C = C;
    for (set = 0; set < TPE_NSETS; set++) ri.hc[set] = &sets[set].hc;
    ri.tokens = tokens;
    ri.ntokens = ntokens;
    ri.variants = variants;
    ri.nvariants = nv;
    ri.baselines = !no_base;
    ri.kl = !no_kl;
    ri.seed = seed;
    if (mode == TPE_EVAL_FULL) {
        ri.mode_name = "full";
        snprintf(evaluation, sizeof evaluation,
                 "full re-run: every window of every set run through the edited model for every edit (the reference; %zu "
                 "windows, %zu tokens)",
                 res.stats.rerun_windows, res.stats.rerun_tokens);
    } else if (!res.tied_shared) {
        ri.mode_name = "cached";
        snprintf(evaluation, sizeof evaluation,
                 "cached: only the head changes, so r_hat and d_KL^r follow exactly from the cached final hidden states "
                 "(no re-run)");
    } else if (mode == TPE_EVAL_HEAD_ONLY) {
        ri.mode_name = "head-only";
        snprintf(evaluation, sizeof evaluation,
                 "head-only: APPROXIMATE -- this tied model's shared matrix also moves the input embedding of the steered "
                 "token, which this mode ignores (use --mode auto for the exact figures, or --untie)");
    } else {
        ri.mode_name = "cached+rerun";
        snprintf(evaluation, sizeof evaluation,
                 "cached + re-run: the tied model's shared matrix moves the input embedding of the steered token too, so the "
                 "windows containing it were run again per edit (%zu windows, %zu tokens in all) and every other position "
                 "came from the cache (exact)",
                 res.stats.rerun_windows, res.stats.rerun_tokens);
    }
    ri.evaluation = evaluation;
    buf = malloc((ntokens * 2 * nscales + 1) * sizeof *buf);
    if (!buf) {
        tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    if (outdir) {
        tpe_outfile jf;
        char *jp;
        if ((rc = tpe_paper_out_open(&out, outdir))) goto fail;
        if ((rc = write_figures(&out, &ri, &res, buf))) {
            tpe_paper_out_abort(&out);
            goto fail;
        }
        jp = tpe_paper_out_file(&out, "steer-eval.json");
        if (!jp || (rc = tpe_out_open(&jf, jp))) {
            free(jp);
            tpe_paper_out_abort(&out);
            if (!rc) tpe_error(TPE_ENOMEM, "out of memory");
            goto fail;
        }
        free(jp);
        write_json(jf.f, &ri, &res, buf);
        if ((rc = tpe_out_commit(&jf))) {
            tpe_paper_out_abort(&out);
            goto fail;
        }
        if ((rc = tpe_paper_out_commit(&out))) goto fail;
    }
    if (json) write_json(stdout, &ri, &res, buf);
    else {
        print_tables(&ri, &res, buf);
        if (outdir) printf("wrote %s/fig4.svg, fig5.svg, steer-eval.json\n", outdir);
    }
    rc = 0;
    goto cleanup;
fail:
    rc = -1;
cleanup:
    if (have_res) tpe_steer_sweep_free(&res);
    tpe_steer_evaluator_free(ev);
    for (set = 0; set < TPE_NSETS; set++) tpe_steer_set_free(&sets[set]);
    tpe_model_free(m);
    free(tokens);
    free(variants);
    free(buf);
    tpe_free(bias);
usage_out:
    free(scales);
    free(bs);
    free(sizes);
    if (rc == -1) return tpe_cli_fail(spec.cmd);
    return rc;
}
