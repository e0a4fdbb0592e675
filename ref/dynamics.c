/*
 * dynamics.c -- frequency encoding and convergence rates through training
 * (Cho et al. 2024, Fig. 7; dynamics.h).
 */
#include "dynamics.h"
#include "ols.h"
#include "safetensors.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DYN_BLOCK 4096

int tpe_dynamics_response(const double *counts, size_t V, double *y)
{
    double N = 0.0, denom;
    size_t w;
    for (w = 0; w < V; w++) {
        if (!(counts[w] >= 0.0) || !isfinite(counts[w]))
            return tpe_error(TPE_EINVAL, "count of token %zu is %g: counts must be finite and >= 0", w, counts[w]);
        N += counts[w];
    }
    denom = N + (double)V;
    /* add-one smoothing: f_w = (c_w + 1) / (N + V), y_w = -log f_w */
    for (w = 0; w < V; w++) y[w] = -log((counts[w] + 1.0) / denom);
    return TPE_OK;
}

size_t tpe_dynamics_nparams(const tpe_model *m) { return 2 + m->cfg.n_layer; }

void tpe_dynamics_param_name(const tpe_model *m, size_t i, char *buf, size_t cap)
{
    (void)m;
    if (i == 0) snprintf(buf, cap, "input_embedding");
    else if (i == 1) snprintf(buf, cap, "output_embedding");
    else snprintf(buf, cap, "layer.%zu.attn_qkv", i - 2);
}

/* the tensors of parameter i (up to 3) */
static size_t param_weights(const tpe_model *m, size_t i, const tpe_weight **w)
{
    const tpe_layer *L;
    if (i == 0) {
        w[0] = tpe_model_input_embedding(m);
        return 1;
    }
    if (i == 1) {
        w[0] = tpe_model_output_embedding(m);
        return 1;
    }
    L = &m->layers[i - 2];
    if (m->cfg.arch == TPE_ARCH_GPTJ) {
        w[0] = &L->q.w;
        w[1] = &L->k.w;
        w[2] = &L->v.w;
        return 3;
    }
    w[0] = &L->qkv.w;
    return 1;
}

int tpe_dynamics_compatible(const tpe_model *a, const tpe_model *b, const char *name_b)
{
    const tpe_model_config *x = &a->cfg, *y = &b->cfg;
    if (x->arch != y->arch)
        return tpe_error(TPE_EINVAL, "%s: a %s model, the first checkpoint is %s", name_b, y->model_type, x->model_type);
    if (x->n_vocab != y->n_vocab || x->d_model != y->d_model || x->n_layer != y->n_layer || x->d_out != y->d_out ||
        x->d_ff != y->d_ff || x->n_head != y->n_head)
        return tpe_error(TPE_EINVAL,
                         "%s: shapes (vocab %zu, width %zu, layers %zu, heads %zu, MLP %zu) differ from the first "
                         "checkpoint's (%zu, %zu, %zu, %zu, %zu)",
                         name_b, y->n_vocab, y->d_model, y->n_layer, y->n_head, y->d_ff, x->n_vocab, x->d_model, x->n_layer,
                         x->n_head, x->d_ff);
    return TPE_OK;
}

int tpe_dynamics_dist2(const tpe_model *a, const tpe_model *b, size_t i, double *d2)
{
    const tpe_weight *wa[3], *wb[3];
    size_t n = param_weights(a, i, wa), k;
    double *ba = tpe_alloc_array(DYN_BLOCK, sizeof *ba, "weights"), *bb = tpe_alloc_array(DYN_BLOCK, sizeof *bb, "weights");
    double total = 0.0;
    param_weights(b, i, wb);
    if (!ba || !bb) {
        tpe_free(ba);
        tpe_free(bb);
        return TPE_ENOMEM;
    }
    for (k = 0; k < n; k++) {
        size_t count = wa[k]->rows * wa[k]->cols, at, j;
        if (!wa[k]->raw || !wb[k]->raw || count != wb[k]->rows * wb[k]->cols) {
            tpe_free(ba);
            tpe_free(bb);
            return tpe_error(TPE_EINVAL, "tensor %s: shapes differ between checkpoints", wa[k]->name ? wa[k]->name : "?");
        }
        for (at = 0; at < count; at += DYN_BLOCK) {
            size_t nb = count - at < DYN_BLOCK ? count - at : DYN_BLOCK;
            double s = 0.0;
            tpe_st_to_f64(wa[k]->dtype, wa[k]->raw, at, nb, ba);
            tpe_st_to_f64(wb[k]->dtype, wb[k]->raw, at, nb, bb);
            for (j = 0; j < nb; j++) {
                double t = ba[j] - bb[j];
                s += t * t;
            }
            total += s;
        }
    }
    tpe_free(ba);
    tpe_free(bb);
    *d2 = total;
    return TPE_OK;
}

int tpe_dynamics_adj_r2(const tpe_model *m, const double *y, double *adj_r2, double *r2)
{
    const tpe_weight *E = tpe_model_output_embedding(m);
    size_t V = m->cfg.n_vocab, C = m->cfg.d_out;
    double *X = tpe_alloc_array(V, C * sizeof *X, "output embedding (double)");
    tpe_ols_result res;
    int rc;
    if (!X) return TPE_ENOMEM;
    rc = tpe_weight_to_f64(E, X);
    if (!rc) rc = tpe_ols_fit(X, V, C, y, 1, TPE_OLS_F64, &res);
    tpe_free(X);
    if (rc) return rc;
    *adj_r2 = res.adj_r2;
    if (r2) *r2 = res.r2;
    tpe_ols_free(&res);
    return TPE_OK;
}

int tpe_dynamics_rates(const tpe_model *t, const tpe_model *tstar, const double *d0, double *rate)
{
    size_t n = tpe_dynamics_nparams(t), i;
    int rc;
    for (i = 0; i < n; i++) {
        double dt;
        if ((rc = tpe_dynamics_dist2(tstar, t, i, &dt))) return rc;
        /* Chen et al. 2022: 1 - ||theta* - theta_t||_F / ||theta* - theta_0||_F */
        rate[i] = d0[i] > 0.0 ? 1.0 - sqrt(dt) / sqrt(d0[i]) : (double)NAN;
    }
    return TPE_OK;
}
