/*
 * cmd_sparsity.c -- `tpe sparsity MODEL --alpha A [--out DIR] [--k K]
 * [--json]`: Figs. 1-3 of Cho et al. (2024) and their numbers (sparsity.h,
 * encoding.h):
 *   Fig. 1  E^(o) on its first two principal components, each token colored
 *           by the percentile of its alpha;
 *   Fig. 2  (a) |Spearman| of each principal component's scores with alpha,
 *           beside its explained-variance ratio; (b) per dimension of E^(o),
 *           |A_D,c| (Eq. 2's slope) and |Spearman(E_{:,c}, alpha)|, dimensions
 *           sorted by |A_D,c| -- the encoding is sparse;
 *   Fig. 3  Eq. 2's fitted A_D . E_w + B_D against the actual -log alpha_w.
 * The SVG files are written by tpe itself (svg.h).
 */
#include "array.h"
#include "cli.h"
#include "encoding.h"
#include "json.h"
#include "model.h"
#include "paper_cli.h"
#include "runtime_cli.h"
#include "sparsity.h"
#include "stats.h"
#include "svg.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct order_item {
    double key;
    size_t index;
} order_item;

static int cmp_key_desc(const void *a, const void *b)
{
    const order_item *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int write_svg(const tpe_paper_out *o, const char *name, const tpe_figure *f)
{
    char *p = tpe_paper_out_file(o, name);
    int rc;
    if (!p) return tpe_error(TPE_ENOMEM, "out of memory");
    rc = tpe_figure_write(f, p);
    free(p);
    return rc;
}

int tpe_cmd_sparsity(int argc, char **argv)
{
    const char *alpha_path = NULL, *outdir = NULL, *emb = "output";
    size_t k = 0, npos, V, C, i, w, best = 0, top10, half;
    int json = 0, no_bias = 0, rc;
    const tpe_opt opts[] = {
        {"--alpha", TPE_OPT_STR, &alpha_path, "alpha.npy", "averaged probabilities (V,) from `tpe probe` (required)"},
        {"--out", TPE_OPT_STR, &outdir, "DIR", "write fig1.svg, fig2.svg, fig3.svg and the numbers (.npy, sparsity.json)"},
        {"--k", TPE_OPT_SIZE, &k, "K", "principal components (default: all d)"},
        {"--embedding", TPE_OPT_STR, &emb, "output|input", "analyse E^(o) (default) or E^(i)"},
        {"--no-bias", TPE_OPT_FLAG, &no_bias, NULL, "leave a head bias out of Eq. 2's regressors"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {
        "sparsity", "MODEL", "Figs. 1-3: PCA of E^(o), which components and dimensions carry alpha, fitted vs actual.",
        "PCA of the output embedding by block power iteration; Spearman's rho of each principal\n"
        "component's scores, and of each dimension, with alpha; Eq. 2's slope per dimension; the fitted\n"
        "against the actual -log alpha. With --out DIR: fig1.svg, fig2.svg, fig3.svg (written by tpe),\n"
        "explained_variance_ratio.npy (K), pc_spearman.npy (K), pc_scores.npy (V, 2), dim_slope.npy (d),\n"
        "dim_spearman.npy (d), neg_log_alpha.npy (V), fitted.npy (V), alpha_percentile.npy (V) and\n"
        "sparsity.json (what --json prints). See docs/paper.md.",
        opts, TPE_NOPTS(opts), 1, 1};
    char *pos[1];
    tpe_model *m = NULL;
    double *alpha = NULL, *E = NULL, *bias = NULL, *nla = NULL, *fit = NULL, *pct = NULL, *pc12 = NULL, *abs_pc = NULL;
    double *x = NULL, *y = NULL, *y2 = NULL, *dslope = NULL, max_ratio = 0.0, max_slope = 0.0;
    tpe_encoding enc;
    tpe_sparsity sp;
    tpe_figure *fig = NULL;
    tpe_paper_out out;
    order_item *ord = NULL;
    int have_enc = 0, have_sp = 0, out_open = 0;
    char note[200];

    memset(&enc, 0, sizeof enc);
    memset(&sp, 0, sizeof sp);
    if ((rc = tpe_cli_parse(&spec, argc, argv, pos, &npos))) return rc < 0 ? 0 : rc;
    if (!alpha_path) return tpe_cli_usage(spec.cmd, "--alpha is required");
    if (strcmp(emb, "output") != 0 && strcmp(emb, "input") != 0)
        return tpe_cli_usage(spec.cmd, "--embedding must be output or input, got '%s'", emb);
    if ((rc = tpe_cli_load_model(pos[0], &m))) goto fail;
    V = m->cfg.n_vocab;
    C = emb[0] == 'i' ? m->cfg.d_model : m->cfg.d_out; /* d_out < d_model after `tpe prune --drop` */
    if (k > C) {
        tpe_error(TPE_EINVAL, "--k %zu exceeds the %zu dimensions", k, C);
        goto fail;
    }
    if ((rc = tpe_paper_read_alpha(alpha_path, V, &alpha))) goto fail;
    if ((rc = tpe_paper_embedding(m, emb[0] == 'i' ? 'i' : 'o', &E))) goto fail;
    if (!no_bias && (rc = tpe_paper_head_bias(m, &bias))) goto fail;
    if ((rc = tpe_encoding_fit(E, V, C, alpha, bias, TPE_OLS_F64, &enc))) goto fail;
    have_enc = 1;
    if ((rc = tpe_sparsity_compute(E, V, C, alpha, k, &sp))) goto fail;
    have_sp = 1;
    k = sp.k;

    nla = malloc(V * sizeof *nla);
    fit = malloc(V * sizeof *fit);
    pct = malloc(V * sizeof *pct);
    pc12 = malloc(2 * V * sizeof *pc12);
    abs_pc = malloc(k * sizeof *abs_pc);
    x = malloc((V > C ? V : C) * sizeof *x);
    y = malloc((V > C ? V : C) * sizeof *y);
    y2 = malloc((V > C ? V : C) * sizeof *y2);
    dslope = malloc(C * sizeof *dslope);
    ord = malloc(C * sizeof *ord);
    if (!nla || !fit || !pct || !pc12 || !abs_pc || !x || !y || !y2 || !dslope || !ord) {
        tpe_error(TPE_ENOMEM, "out of memory");
        goto fail;
    }
    /* Eq. 2: actual -log alpha and fitted A_D . E_w + B_D (+ slope b_w) */
    for (w = 0; w < V; w++) {
        double s = enc.intercept;
        for (i = 0; i < C; i++)
            if (isfinite(enc.slope[i])) s += enc.slope[i] * E[w * C + i];
        if (bias) s += enc.bias_slope * bias[w];
        fit[w] = s;
        nla[w] = -log(alpha[w]);
    }
    if ((rc = tpe_rank_average(alpha, V, pct))) goto fail;
    for (w = 0; w < V; w++) pct[w] = (pct[w] - 0.5) / (double)V; /* percentile in (0, 1) */
    for (w = 0; w < V; w++) {
        pc12[2 * w] = sp.pca.scores[w * k];
        pc12[2 * w + 1] = k > 1 ? sp.pca.scores[w * k + 1] : 0.0;
    }
    for (i = 0; i < k; i++) {
        abs_pc[i] = fabs(sp.pc_spearman[i]);
        if (abs_pc[i] > abs_pc[best] || isnan(abs_pc[best])) best = i;
        if (sp.pca.explained_variance_ratio[i] > max_ratio) max_ratio = sp.pca.explained_variance_ratio[i];
    }
    for (i = 0; i < C; i++) {
        dslope[i] = enc.slope[i];
        ord[i].key = isfinite(enc.slope[i]) ? fabs(enc.slope[i]) : -1.0;
        ord[i].index = i;
        if (ord[i].key > max_slope) max_slope = ord[i].key;
    }
    qsort(ord, C, sizeof *ord, cmp_key_desc);
    top10 = (C + 9) / 10;
    half = tpe_sparsity_dims_for(dslope, C, 0.5);

    if (outdir) {
        tpe_plot *p;
        if ((rc = tpe_paper_out_open(&out, outdir))) goto fail;
        out_open = 1;
        /* Fig. 1: E^(o) on PC1, PC2, colored by the alpha percentile */
        for (w = 0; w < V; w++) {
            x[w] = pc12[2 * w];
            y[w] = pc12[2 * w + 1];
        }
        if (!(fig = tpe_figure_new(1, 1, "Fig. 1: E^(o) on its first two principal components"))) goto oom;
        p = tpe_figure_panel(fig, 0, 0);
        tpe_plot_labels(p, pos[0], "PC 1", "PC 2");
        if ((rc = tpe_plot_scatter(p, x, y, V, pct, "alpha percentile", NULL, 2.0, NULL))) goto fail;
        snprintf(note, sizeof note, "variance ratio %.3f, %.3f; Spearman with alpha %.3f, %.3f",
                 sp.pca.explained_variance_ratio[0], k > 1 ? sp.pca.explained_variance_ratio[1] : 0.0, sp.pc_spearman[0],
                 k > 1 ? sp.pc_spearman[1] : 0.0);
        tpe_plot_note(p, note);
        if ((rc = write_svg(&out, "fig1.svg", fig))) goto fail;
        tpe_figure_free(fig);
        fig = NULL;
        /* Fig. 2 (a): per principal component; (b): per dimension sorted by |A_D| */
        if (!(fig = tpe_figure_new(1, 2, "Fig. 2: the probability encoding is sparse"))) goto oom;
        p = tpe_figure_panel(fig, 0, 0);
        tpe_plot_labels(p, "(a) principal components", "component (by explained variance)", "value");
        for (i = 0; i < k; i++) {
            x[i] = (double)(i + 1);
            y[i] = abs_pc[i];
            y2[i] = max_ratio > 0 ? sp.pca.explained_variance_ratio[i] / max_ratio : 0.0;
        }
        if ((rc = tpe_plot_bars(p, x, y, k, NULL, "|Spearman(scores, alpha)|")) ||
            (rc = tpe_plot_line(p, x, y2, NULL, k, NULL, 0, 1, "explained variance ratio / max")))
            goto fail;
        snprintf(note, sizeof note, "most correlated: PC %zu, |rho| = %.3f, variance ratio %.4f (max %.4f)", best + 1,
                 abs_pc[best], sp.pca.explained_variance_ratio[best], max_ratio);
        tpe_plot_note(p, note);
        p = tpe_figure_panel(fig, 0, 1);
        tpe_plot_labels(p, "(b) dimensions of E^(o)", "dimension (by |A_D|, descending)", "value");
        for (i = 0; i < C; i++) {
            size_t c = ord[i].index;
            x[i] = (double)(i + 1);
            y[i] = max_slope > 0 && isfinite(enc.slope[c]) ? fabs(enc.slope[c]) / max_slope : (double)NAN;
            y2[i] = fabs(sp.dim_spearman[c]);
        }
        if ((rc = tpe_plot_bars(p, x, y, C, NULL, "|A_D| / max |A_D|")) ||
            (rc = tpe_plot_line(p, x, y2, NULL, C, NULL, 0, 1, "|Spearman(E_c, alpha)|")))
            goto fail;
        snprintf(note, sizeof note, "top %zu of %zu dimensions hold %.1f%% of sum |A_D|; %zu hold half", top10, C,
                 100.0 * tpe_sparsity_top_share(dslope, C, top10), half);
        tpe_plot_note(p, note);
        if ((rc = write_svg(&out, "fig2.svg", fig))) goto fail;
        tpe_figure_free(fig);
        fig = NULL;
        /* Fig. 3: fitted against actual -log alpha */
        if (!(fig = tpe_figure_new(1, 1, "Fig. 3: Eq. 2 fitted against the actual -log alpha"))) goto oom;
        p = tpe_figure_panel(fig, 0, 0);
        tpe_plot_labels(p, pos[0], "fitted A_D . E_w + B_D", "-log alpha_w");
        if ((rc = tpe_plot_scatter(p, fit, nla, V, pct, "alpha percentile", NULL, 2.0, NULL)) ||
            (rc = tpe_plot_refline(p, 1.0, 0.0, NULL, "y = x")))
            goto fail;
        snprintf(note, sizeof note, "R^2 = %.4f, adjusted R^2 = %.4f over %zu tokens", enc.r2, enc.adj_r2, V);
        tpe_plot_note(p, note);
        if ((rc = write_svg(&out, "fig3.svg", fig))) goto fail;
        tpe_figure_free(fig);
        fig = NULL;
        if ((rc = tpe_paper_out_npy(&out, "explained_variance_ratio.npy", 1, k, 0, sp.pca.explained_variance_ratio)) ||
            (rc = tpe_paper_out_npy(&out, "pc_spearman.npy", 1, k, 0, sp.pc_spearman)) ||
            (rc = tpe_paper_out_npy(&out, "pc_scores.npy", 2, V, 2, pc12)) ||
            (rc = tpe_paper_out_npy(&out, "dim_slope.npy", 1, C, 0, dslope)) ||
            (rc = tpe_paper_out_npy(&out, "dim_spearman.npy", 1, C, 0, sp.dim_spearman)) ||
            (rc = tpe_paper_out_npy(&out, "neg_log_alpha.npy", 1, V, 0, nla)) ||
            (rc = tpe_paper_out_npy(&out, "fitted.npy", 1, V, 0, fit)) ||
            (rc = tpe_paper_out_npy(&out, "alpha_percentile.npy", 1, V, 0, pct)))
            goto fail;
    }

    /* the summary: on stdout with --json and as DIR/sparsity.json */
    {
        FILE *sinks[2] = {NULL, NULL};
        tpe_outfile jf;
        char *jp = NULL;
        int s, jopen = 0;
        if (json) sinks[0] = stdout;
        if (outdir) {
            jp = tpe_paper_out_file(&out, "sparsity.json");
            if (!jp || (rc = tpe_out_open(&jf, jp))) {
                free(jp);
                if (!rc) tpe_error(TPE_ENOMEM, "out of memory");
                goto fail;
            }
            free(jp);
            jopen = 1;
            sinks[1] = jf.f;
        }
        for (s = 0; s < 2; s++) {
            tpe_jw jw;
            if (!sinks[s]) continue;
            tpe_jw_init(&jw, sinks[s]);
            tpe_jw_object(&jw);
            tpe_jw_key(&jw, "n");
            tpe_jw_int(&jw, (long long)V);
            tpe_jw_key(&jw, "d");
            tpe_jw_int(&jw, (long long)C);
            tpe_jw_key(&jw, "k");
            tpe_jw_int(&jw, (long long)k);
            tpe_jw_key(&jw, "embedding");
            tpe_jw_string(&jw, emb);
            tpe_jw_key(&jw, "r2");
            tpe_jw_number(&jw, enc.r2);
            tpe_jw_key(&jw, "adj_r2");
            tpe_jw_number(&jw, enc.adj_r2);
            tpe_jw_key(&jw, "explained_variance_ratio");
            tpe_jw_f64s(&jw, sp.pca.explained_variance_ratio, k);
            tpe_jw_key(&jw, "pc_spearman");
            tpe_jw_f64s(&jw, sp.pc_spearman, k);
            tpe_jw_key(&jw, "best_pc");
            tpe_jw_int(&jw, (long long)best + 1);
            tpe_jw_key(&jw, "best_pc_spearman");
            tpe_jw_number(&jw, sp.pc_spearman[best]);
            tpe_jw_key(&jw, "best_pc_variance_ratio");
            tpe_jw_number(&jw, sp.pca.explained_variance_ratio[best]);
            tpe_jw_key(&jw, "dim_slope");
            tpe_jw_f64s(&jw, dslope, C);
            tpe_jw_key(&jw, "dim_spearman");
            tpe_jw_f64s(&jw, sp.dim_spearman, C);
            tpe_jw_key(&jw, "top10pct_dims");
            tpe_jw_int(&jw, (long long)top10);
            tpe_jw_key(&jw, "top10pct_slope_share");
            tpe_jw_number(&jw, tpe_sparsity_top_share(dslope, C, top10));
            tpe_jw_key(&jw, "dims_for_half_slope");
            tpe_jw_int(&jw, (long long)half);
            tpe_jw_key(&jw, "pca_iterations");
            tpe_jw_int(&jw, (long long)sp.pca.iterations);
            tpe_jw_object_end(&jw);
            tpe_jw_end(&jw);
        }
        if (jopen && (rc = tpe_out_commit(&jf))) goto fail;
    }
    if (outdir) {
        out_open = 0;
        if ((rc = tpe_paper_out_commit(&out))) goto fail;
    }
    if (!json) {
        printf("Sparsity of the encoding in %s (%s embedding, V = %zu, d = %zu; Eq. 2 adj. R^2 = %.4f)\n", pos[0], emb, V, C,
               enc.adj_r2);
        if (sp.pca.full) printf("principal components (PCA: d = %zu is small, one dense Rayleigh-Ritz step):\n", C);
        else printf("principal components (PCA by block power iteration, %zu iterations):\n", sp.pca.iterations);
        printf("  PC   variance ratio   Spearman(scores, alpha)\n");
        for (i = 0; i < k && i < 10; i++)
            printf("  %-4zu %14.4f   %+10.4f\n", i + 1, sp.pca.explained_variance_ratio[i], sp.pc_spearman[i]);
        if (k > 10) printf("  ... (%zu more)\n", k - 10);
        printf("most correlated: PC %zu (|rho| = %.4f, variance ratio %.4f)\n", best + 1, abs_pc[best],
               sp.pca.explained_variance_ratio[best]);
        printf("dimensions by |A_D| (Eq. 2 slope):\n   dim        A_D   Spearman(E_c, alpha)\n");
        for (i = 0; i < C && i < 10; i++)
            printf("  %4zu %+10.4g   %+10.4f\n", ord[i].index, enc.slope[ord[i].index], sp.dim_spearman[ord[i].index]);
        printf("the top %zu of %zu dimensions hold %.1f%% of sum |A_D|; %zu dimensions hold half\n", top10, C,
               100.0 * tpe_sparsity_top_share(dslope, C, top10), half);
        if (outdir) printf("wrote %s/fig1.svg, fig2.svg, fig3.svg and the numbers\n", outdir);
    }
    goto cleanup;
oom:
    tpe_error(TPE_ENOMEM, "out of memory");
fail:
    if (out_open) tpe_paper_out_abort(&out);
    rc = 1;
cleanup:
    tpe_figure_free(fig);
    if (have_enc) tpe_encoding_free(&enc);
    if (have_sp) tpe_sparsity_free(&sp);
    tpe_free(alpha);
    tpe_free(E);
    tpe_free(bias);
    free(nla);
    free(fit);
    free(pct);
    free(pc12);
    free(abs_pc);
    free(x);
    free(y);
    free(y2);
    free(dslope);
    free(ord);
    tpe_model_free(m);
    return rc ? tpe_cli_fail(spec.cmd) : 0;
}
