/*
 * sparsity.c -- PCA of the output embedding and Spearman correlations with
 * alpha (sparsity.h; Cho et al. 2024, Figs. 1-2).
 */
#include "sparsity.h"
#include "stats.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tpe_sparsity_free(tpe_sparsity *s)
{
    if (!s) return;
    tpe_pca_free(&s->pca);
    free(s->pc_spearman);
    free(s->dim_spearman);
    memset(s, 0, sizeof *s);
}

int tpe_sparsity_compute(const double *E, size_t V, size_t C, const double *alpha, size_t k, tpe_sparsity *out)
{
    tpe_pca_opts o;
    double *col = NULL;
    size_t i, w;
    int rc;
    memset(out, 0, sizeof *out);
    if (k == 0 || k > C) k = C;
    tpe_pca_opts_default(&o);
    o.want_scores = 1;
    if ((rc = tpe_pca(E, V, C, k, &o, &out->pca))) {
        tpe_pca_free(&out->pca);
        return tpe_error_prefix(rc, "PCA of the output embedding: ");
    }
    out->V = V;
    out->C = C;
    out->k = out->pca.k;
    out->pc_spearman = malloc(out->k * sizeof *out->pc_spearman);
    out->dim_spearman = malloc(C * sizeof *out->dim_spearman);
    col = malloc(V * sizeof *col);
    if (!out->pc_spearman || !out->dim_spearman || !col) {
        free(col);
        tpe_sparsity_free(out);
        return tpe_error(TPE_ENOMEM, "out of memory");
    }
    for (i = 0; i < out->k; i++) {
        for (w = 0; w < V; w++) col[w] = out->pca.scores[w * out->k + i];
        if (tpe_spearman(col, alpha, V, &out->pc_spearman[i])) {
            tpe_error_clear(); /* a constant score column: no correlation */
            out->pc_spearman[i] = (double)NAN;
        }
    }
    for (i = 0; i < C; i++) {
        for (w = 0; w < V; w++) col[w] = E[w * C + i];
        if (tpe_spearman(col, alpha, V, &out->dim_spearman[i])) {
            tpe_error_clear();
            out->dim_spearman[i] = (double)NAN;
        }
    }
    free(col);
    return TPE_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* |weights| sorted descending (non-finite as 0), and their total */
static double *sorted_abs(const double *w, size_t C, double *total)
{
    double *s = malloc((C ? C : 1) * sizeof *s);
    size_t c;
    *total = 0.0;
    if (!s) return NULL;
    for (c = 0; c < C; c++) {
        s[c] = isfinite(w[c]) ? fabs(w[c]) : 0.0;
        *total += s[c];
    }
    qsort(s, C, sizeof *s, cmp_desc);
    return s;
}

size_t tpe_sparsity_dims_for(const double *weights, size_t C, double fraction)
{
    double total, acc = 0.0;
    double *s = sorted_abs(weights, C, &total);
    size_t c;
    if (!s) return C;
    for (c = 0; c < C; c++) {
        acc += s[c];
        if (acc >= fraction * total) break;
    }
    free(s);
    return c < C ? c + 1 : C;
}

double tpe_sparsity_top_share(const double *weights, size_t C, size_t top)
{
    double total, acc = 0.0;
    double *s = sorted_abs(weights, C, &total);
    size_t c;
    if (!s) return (double)NAN;
    for (c = 0; c < top && c < C; c++) acc += s[c];
    free(s);
    return total > 0.0 ? acc / total : (double)NAN;
}
