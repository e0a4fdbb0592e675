/*
 * probe.c -- accumulating alpha (probe.h) over windows of tokens.
 *
 * Float path: the fast forward pass gives the final hidden states of a
 * window; the head is applied to LOGIT_ROWS positions at a time as
 * L = E^(o) H^T (V, rows) -- the faster GEMM orientation -- and the softmax of
 * every column is taken with the table's kernels, a row of L at a time:
 *     m_t = max_v L_vt,   e_vt = exp(L_vt - m_t),   Z_t = sum_v e_vt (double),
 *     c_v = sum_t e_vt / Z_t   (double),   sum_v += c_v   (exactly).
 * Double path: the scalar reference pass and the same steps in double,
 * every p_{s,t,v} added exactly.
 * sum_v is a long accumulator (exactsum.h): the additions are exact, so
 * alpha does not depend on the order of the samples or on how they are
 * split between shards or processes (shard.h); it is rounded once.
 */
#include "probe.h"
#include "headeval.h"
#include "cpu.h"
#include "exactsum.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOGIT_ROWS 256

struct tpe_probe {
    const tpe_model *m;
    size_t window;
    int f64;
    tpe_runtime *rt;
    float *hidden;     /* (window, C)          */
    float *logits;     /* (V, LOGIT_ROWS): logits of LOGIT_ROWS positions, transposed */
    float *colmax;     /* (LOGIT_ROWS)         */
    double *colsum;    /* (LOGIT_ROWS)         */
    double *hidden64;  /* (window, C)          */
    double *E64;       /* (V, C) double path   */
    double *b64;       /* (V) or NULL          */
    double *row64;     /* (V)                  */
    tpe_xsum sum;      /* (V) sum of p_{s,t}, exact */
    size_t positions;
    tpe_hidden_sink sink;
    void *sink_ctx;
};

void tpe_probe_free(tpe_probe *p)
{
    if (!p) return;
    tpe_runtime_free(p->rt);
    tpe_free(p->hidden);
    tpe_free(p->logits);
    tpe_free(p->colmax);
    tpe_free(p->colsum);
    tpe_free(p->hidden64);
    tpe_free(p->E64);
    tpe_free(p->b64);
    tpe_free(p->row64);
    tpe_xsum_free(&p->sum);
    free(p);
}

int tpe_probe_new(const tpe_model *m, size_t window, int f64, tpe_probe **out)
{
    size_t C = m->cfg.d_out, V = m->cfg.n_vocab; /* C: the head's width */
    tpe_probe *p;
    int rc = TPE_OK;
    *out = NULL;
    if (window == 0 || window > m->cfg.n_ctx)
        return tpe_error(TPE_EINVAL, "window of %zu tokens (the model has %zu positions)", window, m->cfg.n_ctx);
    p = calloc(1, sizeof *p);
    if (!p) return tpe_error(TPE_ENOMEM, "out of memory");
    p->m = m;
    p->window = window;
    p->f64 = f64;
    rc = tpe_xsum_init(&p->sum, V);
    if (!rc && !f64) {
        rc = tpe_runtime_new(m, window, 0, &p->rt);
        if (!rc) {
            p->hidden = tpe_alloc_array(window * C, sizeof *p->hidden, "hidden states");
            size_t rows = window < LOGIT_ROWS ? window : LOGIT_ROWS;
            p->logits = tpe_alloc_array(rows * V, sizeof *p->logits, "logits");
            p->colmax = tpe_alloc_array(rows, sizeof *p->colmax, "softmax maxima");
            p->colsum = tpe_alloc_array(rows, sizeof *p->colsum, "softmax sums");
            if (!p->hidden || !p->logits || !p->colmax || !p->colsum) rc = TPE_ENOMEM;
        }
    } else if (!rc) {
        const tpe_weight *b = tpe_model_head_bias(m);
        p->hidden64 = tpe_alloc_array(window * C, sizeof *p->hidden64, "hidden states");
        p->E64 = tpe_alloc_array(V * C, sizeof *p->E64, "output embedding (double)");
        p->row64 = tpe_alloc_array(V, sizeof *p->row64, "logits row");
        if (b) p->b64 = tpe_alloc_array(V, sizeof *p->b64, "output bias");
        if (!p->hidden64 || !p->E64 || !p->row64 || (b && !p->b64)) rc = TPE_ENOMEM;
        if (!rc) rc = tpe_weight_to_f64(tpe_model_output_embedding(m), p->E64);
        if (!rc && b) rc = tpe_weight_to_f64(b, p->b64);
    }
    if (rc) {
        tpe_probe_free(p);
        return rc;
    }
    *out = p;
    return TPE_OK;
}

void tpe_probe_set_hidden_sink(tpe_probe *p, tpe_hidden_sink fn, void *ctx)
{
    p->sink = fn;
    p->sink_ctx = ctx;
}

static int window_f32(tpe_probe *p, const int32_t *ids, size_t T)
{
    const tpe_kernels *k = tpe_kernels_get();
    size_t V = p->m->cfg.n_vocab, C = p->m->cfg.d_out, r0, v;
    int rc = tpe_forward(p->rt, ids, T, p->hidden, NULL);
    if (rc) return rc;
    for (r0 = 0; r0 < T; r0 += LOGIT_ROWS) {
        size_t nr = T - r0 < LOGIT_ROWS ? T - r0 : LOGIT_ROWS;
        float *L = p->logits, *m = p->colmax;
        double *z = p->colsum;
        /* L (V, nr): column t holds the logits of position r0 + t */
        if ((rc = tpe_forward_logits_t(p->rt, p->hidden + r0 * C, nr, L))) return rc;
        if ((rc = tpe_softmax_cols(L, V, nr, m, z, r0))) return rc;
        /* sum_v += sum_t e_{v,t} / Z_t */
        for (v = 0; v < V; v++)
            if ((rc = tpe_xsum_add(&p->sum, v, k->sdot_f64(nr, L + v * nr, z)))) return rc;
    }
    return TPE_OK;
}

static int window_f64(tpe_probe *p, const int32_t *ids, size_t T)
{
    size_t V = p->m->cfg.n_vocab, C = p->m->cfg.d_out, t, v, c;
    int rc = tpe_forward_ref(p->m, ids, T, p->hidden64, NULL, NULL);
    if (rc) return rc;
    for (t = 0; t < T; t++) {
        const double *h = p->hidden64 + t * C;
        double mx = -HUGE_VAL, z = 0.0;
        for (v = 0; v < V; v++) {
            double s = 0.0;
            for (c = 0; c < C; c++) s += p->E64[v * C + c] * h[c];
            p->row64[v] = p->b64 ? s + p->b64[v] : s;
            if (p->row64[v] > mx) mx = p->row64[v];
        }
        for (v = 0; v < V; v++) {
            p->row64[v] = exp(p->row64[v] - mx);
            z += p->row64[v];
        }
        if (!isfinite(mx) || !isfinite(z)) return tpe_error(TPE_ENUMERIC, "position %zu: the logits are not finite", t);
        for (v = 0; v < V; v++)
            if ((rc = tpe_xsum_add(&p->sum, v, p->row64[v] / z))) return rc;
    }
    return TPE_OK;
}

int tpe_probe_window(tpe_probe *p, size_t sample, size_t pos0, const int32_t *ids, size_t T)
{
    int rc;
    if (T == 0) return TPE_OK;
    if (T > p->window) return tpe_error(TPE_EINVAL, "a window of %zu tokens exceeds %zu", T, p->window);
    rc = p->f64 ? window_f64(p, ids, T) : window_f32(p, ids, T);
    if (rc) return tpe_error_prefix(rc, "sample %zu, tokens %zu..%zu: ", sample, pos0, pos0 + T - 1);
    p->positions += T;
    if (p->sink) rc = p->sink(p->sink_ctx, sample, pos0, ids, p->hidden, p->hidden64, T, p->m->cfg.d_out);
    return rc;
}

int tpe_probe_sample(tpe_probe *p, size_t sample, const int32_t *ids, size_t n)
{
    size_t at;
    int rc;
    for (at = 0; at < n; at += p->window) {
        size_t T = n - at < p->window ? n - at : p->window;
        if ((rc = tpe_probe_window(p, sample, at, ids + at, T))) return rc;
    }
    return TPE_OK;
}

size_t tpe_probe_positions(const tpe_probe *p) { return p->positions; }

int tpe_probe_alpha(const tpe_probe *p, double *alpha)
{
    size_t V = p->m->cfg.n_vocab, v;
    if (!p->positions) return tpe_error(TPE_EINVAL, "no tokens were probed (empty dataset?)");
    for (v = 0; v < V; v++) alpha[v] = tpe_xsum_round(&p->sum, v) / (double)p->positions;
    return TPE_OK;
}

const tpe_xsum *tpe_probe_sums(const tpe_probe *p) { return &p->sum; }
