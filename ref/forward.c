/*
 * forward.c -- the fast forward pass: float, every position of the call at
 * once, matrix products through tpe_sgemm, causal attention per head as two
 * GEMMs (S = scale Q K^T, O = softmax(S) V), an optional KV cache so that
 * generation adds one token at a time. Same model description and the same
 * equations as forward_ref.c (see model.h); the vector kernels (exp,
 * softmax, GELU) come from the kernel table.
 *
 * Weights are used as float views (zero-copy from the mapped file, or
 * widened at load). When the model is in storage form (model.h), each
 * matrix is widened into one scratch buffer just before its product and
 * the head in blocks of rows, so memory stays near the stored size.
 *
 * Shapes: T tokens in the call, C width, H heads, D head size, F MLP width,
 * V vocab, P positions, Tk = keys attended (cached + new).
 */
#include "cpu.h"
#include "gemm.h"
#include "model.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD_BLOCK 4096 /* vocab rows widened at a time in storage form */
#define QBLOCK 64       /* query rows per block of causal attention        */

struct tpe_runtime {
    const tpe_model *m;
    size_t max_T;        /* tokens per call                             */
    int use_cache;
    size_t pos;          /* tokens in the cache                          */
    size_t max_keys;     /* P with a cache, max_T without                */
    float *x;            /* (T, C) residual stream                       */
    float *a, *a2;       /* (T, C) norm outputs                          */
    float *qkv;          /* (T, 3C) projections (layout: cfg.qkv_layout) */
    float *heads;        /* (T, C) concatenated head outputs             */
    float *attn;         /* (T, C) attention output                      */
    float *ff;           /* (T, F) MLP hidden                            */
    float *mlp;          /* (T, C) MLP output                            */
    float *scores;       /* (QBLOCK, max_keys) one block's scores/probs  */
    float *kc, *vc;      /* (L, P, C) the KV cache (post-rotary keys)    */
    float *cosv, *sinv;  /* (P, rotary_dim / 2) rotary tables            */
    float *wbuf;         /* one widened matrix (storage form)            */
    float *tbuf;         /* trace scratch, allocated when tracing        */
    size_t tbuf_len;
};

void tpe_runtime_free(tpe_runtime *rt)
{
    if (!rt) return;
    tpe_free(rt->x);
    tpe_free(rt->a);
    tpe_free(rt->a2);
    tpe_free(rt->qkv);
    tpe_free(rt->heads);
    tpe_free(rt->attn);
    tpe_free(rt->ff);
    tpe_free(rt->mlp);
    tpe_free(rt->scores);
    tpe_free(rt->kc);
    tpe_free(rt->vc);
    tpe_free(rt->cosv);
    tpe_free(rt->sinv);
    tpe_free(rt->wbuf);
    tpe_free(rt->tbuf);
    free(rt);
}

void tpe_runtime_reset(tpe_runtime *rt) { rt->pos = 0; }
size_t tpe_runtime_pos(const tpe_runtime *rt) { return rt->pos; }

static size_t max_matrix(const tpe_model *m)
{
    size_t best = 0, l;
    for (l = 0; l < m->cfg.n_layer; l++) {
        const tpe_layer *L = &m->layers[l];
        const tpe_linear *all[] = {&L->qkv, &L->q, &L->k, &L->v, &L->attn_out, &L->fc_in, &L->fc_out};
        size_t i;
        for (i = 0; i < sizeof all / sizeof all[0]; i++)
            if (all[i]->w.raw && !all[i]->w.f32 && all[i]->in * all[i]->out > best) best = all[i]->in * all[i]->out;
    }
    if (!m->head_w.f32 && HEAD_BLOCK * m->cfg.d_out > best) best = HEAD_BLOCK * m->cfg.d_out;
    return best;
}

int tpe_runtime_new(const tpe_model *m, size_t max_tokens, int use_cache, tpe_runtime **out)
{
    const tpe_model_config *c = &m->cfg;
    size_t C = c->d_model, F = c->d_ff, T, P = c->n_ctx, wb;
    tpe_runtime *rt;
    *out = NULL;
    if (max_tokens == 0 || max_tokens > P) return tpe_error(TPE_EINVAL, "runtime for %zu tokens (the model has %zu positions)", max_tokens, P);
    rt = calloc(1, sizeof *rt);
    if (!rt) return tpe_error(TPE_ENOMEM, "out of memory");
    T = max_tokens;
    rt->m = m;
    rt->max_T = T;
    rt->use_cache = use_cache;
    rt->max_keys = use_cache ? P : T;
    rt->x = tpe_alloc_array(T * C, sizeof(float), "residual stream");
    rt->a = tpe_alloc_array(T * C, sizeof(float), "norm output");
    rt->a2 = tpe_alloc_array(T * C, sizeof(float), "norm output");
    rt->qkv = tpe_alloc_array(T * 3 * C, sizeof(float), "q, k, v");
    rt->heads = tpe_alloc_array(T * C, sizeof(float), "attention heads");
    rt->attn = tpe_alloc_array(T * C, sizeof(float), "attention output");
    rt->ff = tpe_alloc_array(T * F, sizeof(float), "MLP hidden");
    rt->mlp = tpe_alloc_array(T * C, sizeof(float), "MLP output");
    rt->scores = tpe_alloc_array((T < QBLOCK ? T : QBLOCK) * rt->max_keys, sizeof(float), "attention scores");
    if (!rt->x || !rt->a || !rt->a2 || !rt->qkv || !rt->heads || !rt->attn || !rt->ff || !rt->mlp || !rt->scores) goto oom;
    if (use_cache) {
        size_t n;
        if (tpe_size_mul(c->n_layer * P, C, &n)) goto oom;
        rt->kc = tpe_alloc_array(n, sizeof(float), "key cache");
        rt->vc = tpe_alloc_array(n, sizeof(float), "value cache");
        if (!rt->kc || !rt->vc) goto oom;
    }
    if (c->rotary != TPE_ROTARY_NONE && c->rotary_dim) {
        size_t half = c->rotary_dim / 2, p, i;
        rt->cosv = tpe_alloc_array(P * half, sizeof(float), "rotary table");
        rt->sinv = tpe_alloc_array(P * half, sizeof(float), "rotary table");
        if (!rt->cosv || !rt->sinv) goto oom;
        /* theta = p * base^(-2i/r), in double, rounded once to float */
        for (i = 0; i < half; i++) {
            double inv_freq = 1.0 / pow(c->rotary_base, (double)(2 * i) / (double)c->rotary_dim);
            for (p = 0; p < P; p++) {
                double theta = (double)p * inv_freq;
                rt->cosv[p * half + i] = (float)cos(theta);
                rt->sinv[p * half + i] = (float)sin(theta);
            }
        }
    }
    wb = max_matrix(m);
    if (wb && !(rt->wbuf = tpe_alloc_array(wb, sizeof(float), "widened weights"))) goto oom;
    *out = rt;
    return TPE_OK;
oom:
    tpe_runtime_free(rt);
    return TPE_ENOMEM;
}

/* ---- tracing --------------------------------------------------------------------- */
static int trace_on(const tpe_trace *tr) { return tr && tr->emit; }

static int emit(const tpe_trace *tr, const char *name, int ndim, size_t d0, size_t d1, size_t d2, const float *x)
{
    size_t shape[3];
    shape[0] = d0;
    shape[1] = d1;
    shape[2] = d2;
    return tr->emit(tr->ctx, name, TPE_F32, ndim, shape, x);
}

static int emit_layer(const tpe_trace *tr, size_t l, const char *what, int ndim, size_t d0, size_t d1, size_t d2, const float *x)
{
    char name[64];
    if (!trace_on(tr)) return TPE_OK;
    snprintf(name, sizeof name, "layer.%zu.%s", l, what);
    return emit(tr, name, ndim, d0, d1, d2, x);
}

static float *trace_buf(tpe_runtime *rt, size_t n)
{
    if (n > rt->tbuf_len) {
        tpe_free(rt->tbuf);
        rt->tbuf = tpe_alloc_array(n, sizeof(float), "trace buffer");
        rt->tbuf_len = rt->tbuf ? n : 0;
    }
    return rt->tbuf;
}

/* ---- building blocks ---------------------------------------------------------------- */
/* LayerNorm over rows of x (T, C); statistics in double. */
static void layer_norm(float *out, const float *x, const tpe_weight *wt, const tpe_weight *bt, size_t T, size_t C, double eps)
{
    const float *w = wt->f32, *b = bt->f32;
    size_t t, c;
    for (t = 0; t < T; t++) {
        const float *xt = x + t * C;
        float *ot = out + t * C;
        double mean = 0.0, var = 0.0;
        float fm, rstd;
        for (c = 0; c < C; c++) mean += (double)xt[c];
        mean /= (double)C;
        for (c = 0; c < C; c++) var += ((double)xt[c] - mean) * ((double)xt[c] - mean);
        var /= (double)C;
        fm = (float)mean;
        rstd = (float)(1.0 / sqrt(var + eps));
        for (c = 0; c < C; c++) ot[c] = (xt[c] - fm) * rstd * w[c] + b[c];
    }
}

/* The final norm: layer_norm over all C dimensions of the residual stream,
 * output (T, Co) only at the dimensions m->head_dims (Co = d_out) when some
 * were dropped (tpe_model_drop_head_dims); each kept entry is computed by the
 * same expression as in layer_norm, so it has the same bits. */
static void final_norm(float *out, const float *x, const tpe_model *m, size_t T)
{
    const tpe_model_config *c = &m->cfg;
    const float *w = m->lnf_w.f32, *b = m->lnf_b.f32;
    size_t C = c->d_model, Co = c->d_out, t, j;
    if (!m->head_dims) {
        layer_norm(out, x, &m->lnf_w, &m->lnf_b, T, C, c->ln_eps);
        return;
    }
    for (t = 0; t < T; t++) {
        const float *xt = x + t * C;
        float *ot = out + t * Co;
        double mean = 0.0, var = 0.0;
        float fm, rstd;
        for (j = 0; j < C; j++) mean += (double)xt[j];
        mean /= (double)C;
        for (j = 0; j < C; j++) var += ((double)xt[j] - mean) * ((double)xt[j] - mean);
        var /= (double)C;
        fm = (float)mean;
        rstd = (float)(1.0 / sqrt(var + c->ln_eps));
        for (j = 0; j < Co; j++) ot[j] = (xt[m->head_dims[j]] - fm) * rstd * w[j] + b[j];
    }
}

/* y (T, out; row stride ldy) = x (T, in) W + b. A few tokens (generation
 * with the KV cache) use dot products / axpys on W as stored, which read
 * each weight once without packing it for a GEMM. */
#define GEMV_MAX_T 3

static void linear(tpe_runtime *rt, float *y, size_t ldy, const float *x, const tpe_linear *L, size_t T)
{
    const tpe_kernels *k = tpe_kernels_get();
    const float *W = L->w.f32;
    float beta = 0.0f;
    size_t t, i, j;
    if (!W) {
        tpe_st_to_f32(L->w.dtype, L->w.raw, 0, L->in * L->out, rt->wbuf);
        W = rt->wbuf;
    }
    for (t = 0; t < T; t++) {
        if (L->b.raw) memcpy(y + t * ldy, L->b.f32, L->out * sizeof *y);
        else if (T <= GEMV_MAX_T) memset(y + t * ldy, 0, L->out * sizeof *y);
    }
    if (L->b.raw) beta = 1.0f;
    if (T <= GEMV_MAX_T) {
        for (t = 0; t < T; t++) {
            const float *xt = x + t * L->in;
            float *yt = y + t * ldy;
            if (L->w_in_out) /* y += x_i W[i, :] */
                for (i = 0; i < L->in; i++) k->saxpy(L->out, xt[i], W + i * L->out, yt);
            else /* y_j += W[j, :] . x */
                for (j = 0; j < L->out; j++) yt[j] += k->sdot(W + j * L->in, xt, L->in);
        }
        return;
    }
    if (L->w_in_out) tpe_sgemm(TPE_NO_TRANS, TPE_NO_TRANS, T, L->out, L->in, 1.0f, x, L->in, W, L->out, beta, y, ldy);
    else tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, T, L->out, L->in, 1.0f, x, L->in, W, L->in, beta, y, ldy);
}

static void activation(const tpe_kernels *k, tpe_act act, float *x, size_t n)
{
    size_t i;
    switch (act) {
    case TPE_ACT_GELU_NEW: k->sgelu_tanh(n, x); return;
    case TPE_ACT_GELU:
        for (i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + (float)erf((double)x[i] * 0.7071067811865476));
        return;
    case TPE_ACT_GELU_FAST:
        for (i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + tanhf(x[i] * 0.7978845608f * (1.0f + 0.044715f * x[i] * x[i])));
        return;
    case TPE_ACT_RELU:
        for (i = 0; i < n; i++)
            if (!((double)x[i] > 0.0)) x[i] = 0.0f;
        return;
    case TPE_ACT_SILU:
        for (i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
        return;
    case TPE_ACT_QUICK_GELU:
        for (i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
        return;
    }
}

/* Rotary embedding on one head vector at position p (pairs as in forward_ref.c). */
static void rotary(float *v, const tpe_runtime *rt, size_t p)
{
    const tpe_model_config *c = &rt->m->cfg;
    size_t h = c->rotary_dim / 2, i;
    const float *cs = rt->cosv + p * h, *sn = rt->sinv + p * h;
    for (i = 0; i < h; i++) {
        size_t ia = c->rotary == TPE_ROTARY_HALF ? i : 2 * i, ib = c->rotary == TPE_ROTARY_HALF ? i + h : 2 * i + 1;
        float a = v[ia], b = v[ib];
        v[ia] = a * cs[i] - b * sn[i];
        v[ib] = b * cs[i] + a * sn[i];
    }
}

/* (H, T, D) copy of q, k or v from the qkv buffer for tracing */
static float *gather(tpe_runtime *rt, size_t off, size_t hs, size_t T)
{
    const tpe_model_config *c = &rt->m->cfg;
    size_t C = c->d_model, H = c->n_head, D = c->d_head, h, t;
    float *o = trace_buf(rt, H * T * D);
    if (!o) return NULL;
    for (h = 0; h < H; h++)
        for (t = 0; t < T; t++) memcpy(o + (h * T + t) * D, rt->qkv + t * 3 * C + off + h * hs, D * sizeof *o);
    return o;
}

/* Causal attention of layer l for T new tokens at positions pos0.. */
static int attention(tpe_runtime *rt, size_t l, size_t T, size_t pos0, const tpe_trace *tr)
{
    const tpe_model *m = rt->m;
    const tpe_model_config *c = &m->cfg;
    const tpe_kernels *k = tpe_kernels_get();
    size_t C = c->d_model, H = c->n_head, D = c->d_head, P = c->n_ctx, t, h;
    size_t per_head = c->qkv_layout == TPE_QKV_PER_HEAD;
    size_t k_off = per_head ? D : C, v_off = per_head ? 2 * D : 2 * C, hs = per_head ? 3 * D : D;
    size_t Tk = pos0 + T, ldk, hsk;
    const float *K, *Vv;
    float scale = 1.0f, *probs_trace = NULL;
    int rc;

    if (c->rotary != TPE_ROTARY_NONE && c->rotary_dim) {
        for (t = 0; t < T; t++)
            for (h = 0; h < H; h++) {
                rotary(rt->qkv + t * 3 * C + h * hs, rt, pos0 + t);
                rotary(rt->qkv + t * 3 * C + k_off + h * hs, rt, pos0 + t);
            }
        if (trace_on(tr)) {
            const float *g = gather(rt, 0, hs, T);
            if (!g || (rc = emit_layer(tr, l, "q_rot", 3, H, T, D, g))) return g ? rc : TPE_ENOMEM;
            g = gather(rt, k_off, hs, T);
            if (!g || (rc = emit_layer(tr, l, "k_rot", 3, H, T, D, g))) return g ? rc : TPE_ENOMEM;
        }
    }
    if (rt->use_cache) {
        float *kc = rt->kc + l * P * C, *vc = rt->vc + l * P * C;
        for (t = 0; t < T; t++)
            for (h = 0; h < H; h++) {
                memcpy(kc + (pos0 + t) * C + h * D, rt->qkv + t * 3 * C + k_off + h * hs, D * sizeof *kc);
                memcpy(vc + (pos0 + t) * C + h * D, rt->qkv + t * 3 * C + v_off + h * hs, D * sizeof *vc);
            }
        K = kc;
        Vv = vc;
        ldk = C;
        hsk = D;
    } else {
        K = rt->qkv + k_off;
        Vv = rt->qkv + v_off;
        ldk = 3 * C;
        hsk = hs;
    }
    /* scores scale: 1/sqrt(D) (GPT-2: when scale_attn_weights; / (l + 1) when
     * scale_attn_by_inverse_layer_idx) */
    if (c->scale_attn) scale = (float)(1.0 / sqrt((double)D));
    if (c->scale_by_layer) scale = (float)((double)scale / (double)(l + 1));
    if (trace_on(tr) && !(probs_trace = trace_buf(rt, H * T * Tk))) return TPE_ENOMEM;

    /* Per head, in blocks of QBLOCK query rows: a block ending at row r1
     * needs keys 0 .. pos0 + r1 - 1 only, so the masked upper triangle is
     * mostly never computed. */
    for (h = 0; h < H; h++) {
        size_t r0;
        for (r0 = 0; r0 < T; r0 += QBLOCK) {
            size_t nr = T - r0 < QBLOCK ? T - r0 : QBLOCK, nk = pos0 + r0 + nr;
            float *S = rt->scores;
            /* S (nr, nk) = scale * Q_h[r0 : r0+nr] K_h[0 : nk]^T */
            tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, nr, nk, D, scale, rt->qkv + r0 * 3 * C + h * hs, 3 * C, K + h * hsk, ldk, 0.0f,
                      S, nk);
            /* row t attends to keys 0 .. pos0 + t */
            for (t = 0; t < nr; t++) {
                float *row = S + t * nk;
                size_t valid = pos0 + r0 + t + 1;
                float mx = k->smax(valid, row);
                double z = k->sexp_sum(valid, mx, row, row);
                k->sscal(valid, (float)(1.0 / z), row);
                if (valid < nk) memset(row + valid, 0, (nk - valid) * sizeof *row);
                if (probs_trace) {
                    float *dst = probs_trace + (h * T + r0 + t) * Tk;
                    memcpy(dst, row, nk * sizeof *row);
                    if (nk < Tk) memset(dst + nk, 0, (Tk - nk) * sizeof *dst);
                }
            }
            /* O_h[r0 : r0+nr] (nr, D) = P V_h[0 : nk], into columns h*D of heads */
            tpe_sgemm(TPE_NO_TRANS, TPE_NO_TRANS, nr, D, nk, 1.0f, S, nk, Vv + h * hsk, ldk, 0.0f, rt->heads + r0 * C + h * D, C);
        }
    }
    if (probs_trace && (rc = emit_layer(tr, l, "attn_probs", 3, H, T, Tk, probs_trace))) return rc;
    return TPE_OK;
}

static void add_into(float *x, const float *y, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) x[i] += y[i];
}

int tpe_forward(tpe_runtime *rt, const int32_t *ids, size_t T, float *hidden, const tpe_trace *tr)
{
    const tpe_model *m = rt->m;
    const tpe_model_config *c = &m->cfg;
    const tpe_kernels *k = tpe_kernels_get();
    size_t C = c->d_model, H = c->n_head, D = c->d_head, F = c->d_ff, pos0 = rt->use_cache ? rt->pos : 0, t, l, i;
    size_t per_head = c->qkv_layout == TPE_QKV_PER_HEAD;
    size_t k_off = per_head ? D : C, v_off = per_head ? 2 * D : 2 * C, hs = per_head ? 3 * D : D;
    int rc = tpe_model_check_ids(m, ids, T, pos0);
    if (rc) return rc;
    if (T > rt->max_T) return tpe_error(TPE_EINVAL, "%zu tokens in one call; this runtime takes at most %zu", T, rt->max_T);

    /* x_t = wte[id_t] (+ wpe[pos0 + t]) */
    for (t = 0; t < T; t++) {
        float *xt = rt->x + t * C;
        const float *e = tpe_weight_rows_f32(&m->wte, (size_t)ids[t], 1, xt);
        if (e != xt) memcpy(xt, e, C * sizeof *xt);
        if (c->arch == TPE_ARCH_GPT2) add_into(xt, tpe_weight_rows_f32(&m->wpe, pos0 + t, 1, rt->a), C);
    }
    if (trace_on(tr) && (rc = emit(tr, "embed", 2, T, C, 0, rt->x))) return rc;

    for (l = 0; l < c->n_layer; l++) {
        const tpe_layer *L = &m->layers[l];
        layer_norm(rt->a, rt->x, &L->ln1_w, &L->ln1_b, T, C, c->ln_eps);
        if ((rc = emit_layer(tr, l, "ln_1", 2, T, C, 0, rt->a))) return rc;
        if (c->arch == TPE_ARCH_GPTJ) {
            linear(rt, rt->qkv, 3 * C, rt->a, &L->q, T);
            linear(rt, rt->qkv + C, 3 * C, rt->a, &L->k, T);
            linear(rt, rt->qkv + 2 * C, 3 * C, rt->a, &L->v, T);
        } else {
            linear(rt, rt->qkv, 3 * C, rt->a, &L->qkv, T);
        }
        if (trace_on(tr)) {
            const float *g = gather(rt, 0, hs, T);
            if (!g || (rc = emit_layer(tr, l, "q", 3, H, T, D, g))) return g ? rc : TPE_ENOMEM;
            g = gather(rt, k_off, hs, T);
            if (!g || (rc = emit_layer(tr, l, "k", 3, H, T, D, g))) return g ? rc : TPE_ENOMEM;
            g = gather(rt, v_off, hs, T);
            if (!g || (rc = emit_layer(tr, l, "v", 3, H, T, D, g))) return g ? rc : TPE_ENOMEM;
        }
        if ((rc = attention(rt, l, T, pos0, tr))) return rc;
        if ((rc = emit_layer(tr, l, "attn_heads", 2, T, C, 0, rt->heads))) return rc;
        linear(rt, rt->attn, C, rt->heads, &L->attn_out, T);
        if ((rc = emit_layer(tr, l, "attn_out", 2, T, C, 0, rt->attn))) return rc;

        /* the MLP's input (see forward_ref.c) */
        if (c->shared_norm) {
            memcpy(rt->a2, rt->a, T * C * sizeof(float));
        } else {
            if (!c->parallel_residual) add_into(rt->x, rt->attn, T * C);
            layer_norm(rt->a2, rt->x, &L->ln2_w, &L->ln2_b, T, C, c->ln_eps);
            if ((rc = emit_layer(tr, l, "ln_2", 2, T, C, 0, rt->a2))) return rc;
        }
        linear(rt, rt->ff, F, rt->a2, &L->fc_in, T);
        if ((rc = emit_layer(tr, l, "mlp_pre", 2, T, F, 0, rt->ff))) return rc;
        activation(k, c->act, rt->ff, T * F);
        if ((rc = emit_layer(tr, l, "mlp_act", 2, T, F, 0, rt->ff))) return rc;
        linear(rt, rt->mlp, C, rt->ff, &L->fc_out, T);
        if ((rc = emit_layer(tr, l, "mlp_out", 2, T, C, 0, rt->mlp))) return rc;

        if (c->parallel_residual)
            for (i = 0; i < T * C; i++) rt->x[i] = (rt->attn[i] + rt->mlp[i]) + rt->x[i];
        else add_into(rt->x, rt->mlp, T * C);
        if ((rc = emit_layer(tr, l, "resid", 2, T, C, 0, rt->x))) return rc;
    }
    final_norm(hidden, rt->x, m, T);
    if (trace_on(tr) && (rc = emit(tr, "final_norm", 2, T, c->d_out, 0, hidden))) return rc;
    if ((rc = tpe_check_finite_f32(hidden, T * c->d_out, c->d_out, "final hidden states"))) return rc;
    if (rt->use_cache) rt->pos += T;
    return TPE_OK;
}

int tpe_forward_logits(tpe_runtime *rt, const float *hidden, size_t T, float *logits)
{
    const tpe_model *m = rt->m;
    const tpe_kernels *k = tpe_kernels_get();
    size_t C = m->cfg.d_out, V = m->cfg.n_vocab, t, v, v0; /* C: the head's width */
    float beta = 0.0f;
    for (t = 0; t < T; t++) {
        if (m->head_b.raw) memcpy(logits + t * V, m->head_b.f32, V * sizeof *logits);
        else memset(logits + t * V, 0, V * sizeof *logits);
    }
    if (m->head_b.raw) beta = 1.0f;
    /* logits (T, V) = hidden (T, C) E^T, E (V, C), in blocks of vocabulary
     * rows when E is in storage form */
    for (v0 = 0; v0 < V; v0 += m->head_w.f32 ? V : HEAD_BLOCK) {
        size_t nb = m->head_w.f32 ? V : (V - v0 < HEAD_BLOCK ? V - v0 : HEAD_BLOCK);
        const float *E = tpe_weight_rows_f32(&m->head_w, v0, nb, rt->wbuf);
        if (T <= GEMV_MAX_T) {
            for (t = 0; t < T; t++)
                for (v = 0; v < nb; v++) logits[t * V + v0 + v] += k->sdot(E + v * C, hidden + t * C, C);
        } else {
            tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, T, nb, C, 1.0f, hidden, C, E, C, beta, logits + v0, V);
        }
    }
    return TPE_OK;
}

int tpe_forward_logits_t(tpe_runtime *rt, const float *hidden, size_t T, float *logits_t)
{
    const tpe_model *m = rt->m;
    size_t C = m->cfg.d_out, V = m->cfg.n_vocab, v, v0; /* C: the head's width */
    float beta = 0.0f;
    if (m->head_b.raw) {
        for (v = 0; v < V; v++) {
            size_t t;
            for (t = 0; t < T; t++) logits_t[v * T + t] = m->head_b.f32[v];
        }
        beta = 1.0f;
    }
    /* logits^T (V, T) = E (V, C) hidden^T: E is packed as the GEMM's A
     * operand, read row by row -- faster than packing it as a transposed B */
    for (v0 = 0; v0 < V; v0 += m->head_w.f32 ? V : HEAD_BLOCK) {
        size_t nb = m->head_w.f32 ? V : (V - v0 < HEAD_BLOCK ? V - v0 : HEAD_BLOCK);
        const float *E = tpe_weight_rows_f32(&m->head_w, v0, nb, rt->wbuf);
        tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, nb, T, C, 1.0f, E, C, hidden, C, beta, logits_t + v0 * T, T);
    }
    return TPE_OK;
}
