/*
 * prune.c -- importance of output-embedding dimensions and their removal
 * (Cho et al. 2024, Sec. 4; prune.h).
 */
#include "prune.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tpe_prune_encoding(const tpe_model *m, const double *alpha, tpe_encoding *enc, double *importance)
{
    const tpe_weight *E = tpe_model_output_embedding(m), *b = tpe_model_head_bias(m);
    size_t V = m->cfg.n_vocab, C = m->cfg.d_out, c;
    double *E64 = tpe_alloc_array(V, C * sizeof *E64, "output embedding (double)");
    double *b64 = b ? tpe_alloc_array(V, sizeof *b64, "head bias (double)") : NULL;
    int rc;
    memset(enc, 0, sizeof *enc);
    if (!E64 || (b && !b64)) {
        tpe_free(E64);
        tpe_free(b64);
        return TPE_ENOMEM;
    }
    rc = tpe_weight_to_f64(E, E64);
    if (!rc && b) rc = tpe_weight_to_f64(b, b64);
    /* Eq. 2: -log alpha_w ~ A_D . E_w (+ slope * b_w) + B_D */
    if (!rc) rc = tpe_encoding_fit(E64, V, C, alpha, b64, 0 /* TPE_OLS_F64 */, enc);
    tpe_free(E64);
    tpe_free(b64);
    if (rc) return rc;
    if (importance)
        for (c = 0; c < C; c++) importance[c] = isnan(enc->slope[c]) ? 0.0 : fabs(enc->slope[c]);
    return TPE_OK;
}

static const double *g_imp; /* qsort has no context argument in C99 */
static int g_desc;

static int cmp_dim(const void *pa, const void *pb)
{
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    double ia = g_imp[a], ib = g_imp[b];
    if (ia != ib) return (ia < ib) != g_desc ? -1 : 1;
    return a < b ? -1 : a > b;
}

void tpe_prune_order_dims(const double *importance, size_t C, tpe_prune_order ord, size_t *order)
{
    size_t c;
    for (c = 0; c < C; c++) order[c] = c;
    g_imp = importance;
    g_desc = ord == TPE_PRUNE_DESCENDING;
    qsort(order, C, sizeof *order, cmp_dim);
    g_imp = NULL;
}

size_t tpe_prune_count(double ratio, size_t C)
{
    double x;
    if (!(ratio > 0.0)) return 0;
    if (ratio >= 1.0) return C;
    x = floor(ratio * (double)C + 0.5 + 1e-9);
    return x >= (double)C ? C : (size_t)x;
}

int tpe_prune_apply(tpe_model *m, const double *E, const tpe_prune_plan *plan)
{
    const tpe_model_config *c = &m->cfg;
    size_t V = c->n_vocab, C = c->d_out, i, v, nkeep = 0;
    double *Ez = NULL;
    size_t *keep = NULL;
    unsigned char *gone = NULL;
    tpe_dtype store = m->head_w.dtype;
    int tied = c->tied, rc = TPE_OK;
    for (i = 0; i < plan->n_removed; i++)
        if (plan->removed[i] >= C) return tpe_error(TPE_EINVAL, "dimension %zu is outside the head's %zu", plan->removed[i], C);
    if (plan->drop && tied && !plan->untie)
        return tpe_error(TPE_EINVAL, "--drop on a tied model: its output embedding is the input embedding, so removing "
                         "columns would remove them from every token's embedding and from the residual stream every layer "
                         "reads -- not exact. Zero them instead (no --drop), or add --untie to keep the zeroed input "
                         "embedding at full width and drop the columns from a separate head");
    gone = calloc(C ? C : 1, 1);
    keep = malloc((C ? C : 1) * sizeof *keep);
    if (!gone || !keep) {
        rc = tpe_error(TPE_ENOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < plan->n_removed; i++) gone[plan->removed[i]] = 1;
    for (i = 0; i < C; i++)
        if (!gone[i]) keep[nkeep++] = i;
    if (plan->drop && nkeep == 0) {
        rc = tpe_error(TPE_EINVAL, "--drop of all %zu dimensions leaves no head (zero them instead)", C);
        goto done;
    }
    if (plan->drop && !tied) { /* exact: model.h, tpe_model_drop_head_dims */
        rc = tpe_model_drop_head_dims(m, keep, nkeep);
        goto done;
    }
    /* E with the removed columns zeroed */
    Ez = tpe_alloc_array(V, C * sizeof *Ez, "pruned embedding");
    if (!Ez) {
        rc = TPE_ENOMEM;
        goto done;
    }
    for (v = 0; v < V; v++)
        for (i = 0; i < C; i++) Ez[v * C + i] = gone[i] ? 0.0 : E[v * C + i];
    if (!tied) {
        rc = tpe_model_set_output_embedding(m, Ez, NULL, store);
    } else if (!plan->untie) {
        rc = tpe_model_set_tied_embedding(m, Ez, store); /* the shared matrix, as the paper's GPT-2 */
    } else if (!plan->drop) {
        rc = tpe_model_set_output_embedding(m, Ez, NULL, store); /* the head only; the input embedding stays */
    } else {
        /* the zeroed input embedding at full width; the head (the original
         * matrix, now untied) keeps only the other columns -- the same logits
         * as the zeroed tied model */
        rc = tpe_model_set_input_embedding(m, Ez, store);
        if (!rc) rc = tpe_model_drop_head_dims(m, keep, nkeep);
    }
done:
    tpe_free(Ez);
    free(keep);
    free(gone);
    return rc;
}
