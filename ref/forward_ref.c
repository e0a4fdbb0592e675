/*
 * forward_ref.c -- the scalar reference forward pass, wholly in double.
 *
 * This is the oracle the fast path (forward.c) and other implementations
 * are checked against: plain loops, one step per line of the equations in
 * model.h, the order of operations of Hugging Face transformers 4.29.2 with
 * its float32 constants taken in double (see ../shared/README.md). Weights
 * are widened to double one matrix at a time, exactly, from their stored
 * dtype, so the pass runs on the weights as stored.
 *
 * Shapes: T tokens, C width, H heads, D head size, F MLP width, V vocab.
 */
#include "model.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPE_PI 3.141592653589793

/* ---- tracing ----------------------------------------------------------------- */
static int emit(const tpe_trace *tr, const char *name, int ndim, size_t d0, size_t d1, size_t d2, const double *x)
{
    size_t shape[3];
    shape[0] = d0;
    shape[1] = d1;
    shape[2] = d2;
    if (!tr || !tr->emit) return TPE_OK;
    return tr->emit(tr->ctx, name, TPE_F64, ndim, shape, x);
}

static int emit_layer(const tpe_trace *tr, size_t l, const char *what, int ndim, size_t d0, size_t d1, size_t d2, const double *x)
{
    char name[64];
    if (!tr || !tr->emit) return TPE_OK;
    snprintf(name, sizeof name, "layer.%zu.%s", l, what);
    return emit(tr, name, ndim, d0, d1, d2, x);
}

/* ---- building blocks ------------------------------------------------------------- */
static double *load(const tpe_weight *w)
{
    double *x = tpe_alloc_array(w->rows * w->cols, sizeof *x, w->name ? w->name : "weight");
    if (x) tpe_weight_to_f64(w, x);
    return x;
}

/* LayerNorm (Ba et al. 2016), as torch.nn.LayerNorm: biased variance.
 * out[c] = (x[c] - mean) / sqrt(var + eps) * w[c] + b[c]          (T, C) */
static int layer_norm(double *out, const double *x, const tpe_weight *wt, const tpe_weight *bt, size_t T, size_t C, double eps)
{
    double *w = load(wt), *b = load(bt);
    size_t t, c;
    if (!w || !b) {
        tpe_free(w);
        tpe_free(b);
        return TPE_ENOMEM;
    }
    for (t = 0; t < T; t++) {
        const double *xt = x + t * C;
        double mean = 0.0, var = 0.0, rstd;
        for (c = 0; c < C; c++) mean += xt[c];
        mean /= (double)C;
        for (c = 0; c < C; c++) var += (xt[c] - mean) * (xt[c] - mean);
        var /= (double)C;
        rstd = 1.0 / sqrt(var + eps);
        for (c = 0; c < C; c++) out[t * C + c] = (xt[c] - mean) * rstd * w[c] + b[c];
    }
    tpe_free(w);
    tpe_free(b);
    return TPE_OK;
}

/* The final norm. When head dimensions were dropped (model.h, head_dims)
 * the statistics still run over all C dimensions of the residual stream and
 * only the d_out kept ones are output, out (T, d_out), each by the same
 * expression as layer_norm's -- the same bits as the full norm there. */
static int final_norm(double *out, const double *x, const tpe_model *m, size_t T)
{
    const tpe_model_config *cfg = &m->cfg;
    size_t C = cfg->d_model, Co = cfg->d_out, t, j;
    double *w, *b;
    if (!m->head_dims) return layer_norm(out, x, &m->lnf_w, &m->lnf_b, T, C, cfg->ln_eps);
    w = load(&m->lnf_w);
    b = load(&m->lnf_b);
    if (!w || !b) {
        tpe_free(w);
        tpe_free(b);
        return TPE_ENOMEM;
    }
    for (t = 0; t < T; t++) {
        const double *xt = x + t * C;
        double mean = 0.0, var = 0.0, rstd;
        for (j = 0; j < C; j++) mean += xt[j];
        mean /= (double)C;
        for (j = 0; j < C; j++) var += (xt[j] - mean) * (xt[j] - mean);
        var /= (double)C;
        rstd = 1.0 / sqrt(var + cfg->ln_eps);
        for (j = 0; j < Co; j++) out[t * Co + j] = (xt[m->head_dims[j]] - mean) * rstd * w[j] + b[j];
    }
    tpe_free(w);
    tpe_free(b);
    return TPE_OK;
}

/* y = x W + b (T, out) from x (T, in); W stored (in, out) or (out, in).
 * y has row stride ldy (so q, k, v can land side by side). */
static int linear(double *y, size_t ldy, const double *x, const tpe_linear *L, size_t T)
{
    double *W = load(&L->w), *b = L->b.raw ? load(&L->b) : NULL;
    size_t t, i, j;
    if (!W || (L->b.raw && !b)) {
        tpe_free(W);
        tpe_free(b);
        return TPE_ENOMEM;
    }
    for (t = 0; t < T; t++) {
        const double *xt = x + t * L->in;
        double *yt = y + t * ldy;
        if (L->w_in_out) {
            /* y[j] = sum_i x[i] W[i][j], summed in i order */
            for (j = 0; j < L->out; j++) yt[j] = 0.0;
            for (i = 0; i < L->in; i++)
                for (j = 0; j < L->out; j++) yt[j] += xt[i] * W[i * L->out + j];
        } else {
            /* y[j] = sum_i x[i] W[j][i] */
            for (j = 0; j < L->out; j++) {
                double s = 0.0;
                for (i = 0; i < L->in; i++) s += xt[i] * W[j * L->in + i];
                yt[j] = s;
            }
        }
        if (b)
            for (j = 0; j < L->out; j++) yt[j] += b[j];
    }
    tpe_free(W);
    tpe_free(b);
    return TPE_OK;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* The activations of transformers' ACT2FN, in double. */
static double activation(tpe_act a, double x)
{
    switch (a) {
    case TPE_ACT_GELU_NEW: /* NewGELUActivation (Hendrycks & Gimpel, tanh form) */
        return 0.5 * x * (1.0 + tanh(sqrt(2.0 / TPE_PI) * (x + 0.044715 * pow(x, 3.0))));
    case TPE_ACT_GELU: /* torch.nn.functional.gelu: exact, with erf */
        return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case TPE_ACT_GELU_FAST: /* FastGELUActivation */
        return 0.5 * x * (1.0 + tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)));
    case TPE_ACT_RELU: return x > 0.0 ? x : 0.0;
    case TPE_ACT_SILU: return x * sigmoid(x);
    case TPE_ACT_QUICK_GELU: return x * sigmoid(1.702 * x);
    }
    return x;
}

/* Rotary position embedding on the first r dimensions of one head vector
 * at position p: pairs (a, b) are rotated by theta_i = p * base^(-2i/r):
 *     a' = a cos(theta_i) - b sin(theta_i),  b' = b cos(theta_i) + a sin(theta_i)
 * GPT-NeoX pairs (i, i + r/2) (rotate_half); GPT-J pairs (2i, 2i + 1)
 * (rotate_every_two). */
static void rotary(double *v, size_t r, size_t p, double base, tpe_rotary kind)
{
    size_t i, h = r / 2;
    for (i = 0; i < h; i++) {
        double inv_freq = 1.0 / pow(base, (double)(2 * i) / (double)r);
        double theta = (double)p * inv_freq, c = cos(theta), s = sin(theta);
        size_t ia = kind == TPE_ROTARY_HALF ? i : 2 * i, ib = kind == TPE_ROTARY_HALF ? i + h : 2 * i + 1;
        double a = v[ia], b = v[ib];
        v[ia] = a * c - b * s;
        v[ib] = b * c + a * s;
    }
}

/* ---- one attention block --------------------------------------------------------- *
 * qkv is (T, 3C) laid out as [Q | K | V] (q of head h at columns h*D .. h*D+D).
 * probs (H, T, T); heads (T, C) the concatenated head outputs.                       */
static void attention(double *heads, double *probs, const double *qkv, const tpe_model_config *cfg, size_t l, size_t T)
{
    size_t C = cfg->d_model, D = cfg->d_head, H = cfg->n_head, h, t, j, d;
    for (h = 0; h < H; h++)
        for (t = 0; t < T; t++) {
            const double *q = qkv + t * 3 * C + h * D;
            double *p = probs + (h * T + t) * T, mx = -HUGE_VAL, sum = 0.0;
            /* scores for keys j <= t (the causal mask removes j > t) */
            for (j = 0; j <= t; j++) {
                const double *k = qkv + j * 3 * C + C + h * D;
                double s = 0.0;
                for (d = 0; d < D; d++) s += q[d] * k[d];
                switch (cfg->arch) {
                case TPE_ARCH_GPT2: /* attn_weights / sqrt(D) [/ (layer_idx + 1)] */
                    if (cfg->scale_attn) s = s / sqrt((double)D);
                    if (cfg->scale_by_layer) s = s / (double)(l + 1);
                    break;
                case TPE_ARCH_NEOX: /* baddbmm(alpha = 1 / norm_factor) */
                    s = s * (1.0 / sqrt((double)D));
                    break;
                case TPE_ARCH_GPTJ: /* attn_weights / scale_attn */
                    s = s / sqrt((double)D);
                    break;
                }
                p[j] = s;
                if (s > mx) mx = s;
            }
            /* softmax over j <= t */
            for (j = 0; j <= t; j++) {
                p[j] = exp(p[j] - mx);
                sum += p[j];
            }
            for (j = 0; j <= t; j++) p[j] /= sum;
            for (j = t + 1; j < T; j++) p[j] = 0.0;
            /* head output: sum_j p_j v_j */
            for (d = 0; d < D; d++) {
                double o = 0.0;
                for (j = 0; j <= t; j++) o += p[j] * qkv[j * 3 * C + 2 * C + h * D + d];
                heads[t * C + h * D + d] = o;
            }
        }
}

/* (T, C) head-major copy of q, k or v as (H, T, D) for tracing */
static void gather_heads(double *out, const double *qkv, size_t which, size_t T, size_t C, size_t H, size_t D)
{
    size_t h, t, d;
    for (h = 0; h < H; h++)
        for (t = 0; t < T; t++)
            for (d = 0; d < D; d++) out[(h * T + t) * D + d] = qkv[t * 3 * C + which * C + h * D + d];
}

int tpe_forward_ref(const tpe_model *m, const int32_t *ids, size_t T, double *hidden, double *logits, const tpe_trace *trace)
{
    const tpe_model_config *cfg = &m->cfg;
    size_t C = cfg->d_model, H = cfg->n_head, D = cfg->d_head, F = cfg->d_ff, V = cfg->n_vocab;
    size_t t, c, l, h, i;
    double *x = NULL, *a = NULL, *a2 = NULL, *qkv = NULL, *raw = NULL, *probs = NULL, *heads = NULL, *attn = NULL,
           *ff = NULL, *mlp = NULL, *tmp = NULL, *row = NULL;
    int rc = tpe_model_check_ids(m, ids, T, 0);
    if (rc) return rc;
    x = tpe_alloc_array(T * C, sizeof *x, "residual stream");
    a = tpe_alloc_array(T * C, sizeof *a, "norm output");
    a2 = tpe_alloc_array(T * C, sizeof *a2, "second norm output");
    qkv = tpe_alloc_array(T * 3 * C, sizeof *qkv, "q, k, v");
    raw = tpe_alloc_array(T * 3 * C, sizeof *raw, "fused projection");
    probs = tpe_alloc_array(H * T * T, sizeof *probs, "attention probabilities");
    heads = tpe_alloc_array(T * C, sizeof *heads, "attention heads");
    attn = tpe_alloc_array(T * C, sizeof *attn, "attention output");
    ff = tpe_alloc_array(T * F, sizeof *ff, "MLP hidden");
    mlp = tpe_alloc_array(T * C, sizeof *mlp, "MLP output");
    tmp = tpe_alloc_array(T * (F > 3 * C ? F : 3 * C), sizeof *tmp, "trace buffer");
    row = tpe_alloc_array(C, sizeof *row, "embedding row");
    if (!x || !a || !a2 || !qkv || !raw || !probs || !heads || !attn || !ff || !mlp || !tmp || !row) {
        rc = TPE_ENOMEM;
        goto done;
    }

    /* embeddings: x_t = wte[id_t] (+ wpe[t] for GPT-2) */
    for (t = 0; t < T; t++) {
        tpe_st_to_f64(m->wte.dtype, m->wte.raw, (size_t)ids[t] * C, C, x + t * C);
        if (cfg->arch == TPE_ARCH_GPT2) {
            tpe_st_to_f64(m->wpe.dtype, m->wpe.raw, t * C, C, row);
            for (c = 0; c < C; c++) x[t * C + c] += row[c];
        }
    }
    if ((rc = emit(trace, "embed", 2, T, C, 0, x))) goto done;

    for (l = 0; l < cfg->n_layer; l++) {
        const tpe_layer *L = &m->layers[l];
        /* a = ln_1(x) */
        if ((rc = layer_norm(a, x, &L->ln1_w, &L->ln1_b, T, C, cfg->ln_eps))) goto done;
        if ((rc = emit_layer(trace, l, "ln_1", 2, T, C, 0, a))) goto done;

        /* q, k, v into qkv (T, 3C) as [Q | K | V] */
        if (cfg->arch == TPE_ARCH_GPTJ) {
            if ((rc = linear(qkv, 3 * C, a, &L->q, T)) || (rc = linear(qkv + C, 3 * C, a, &L->k, T)) ||
                (rc = linear(qkv + 2 * C, 3 * C, a, &L->v, T)))
                goto done;
        } else {
            if ((rc = linear(raw, 3 * C, a, &L->qkv, T))) goto done;
            for (t = 0; t < T; t++)
                for (h = 0; h < H; h++)
                    for (i = 0; i < 3; i++) {
                        /* GPT-2: column i*C + h*D; GPT-NeoX: per head [q|k|v], column h*3D + i*D */
                        size_t src = cfg->qkv_layout == TPE_QKV_PER_HEAD ? h * 3 * D + i * D : i * C + h * D;
                        memcpy(qkv + t * 3 * C + i * C + h * D, raw + t * 3 * C + src, D * sizeof *qkv);
                    }
        }
        if (trace) {
            gather_heads(tmp, qkv, 0, T, C, H, D);
            if ((rc = emit_layer(trace, l, "q", 3, H, T, D, tmp))) goto done;
            gather_heads(tmp, qkv, 1, T, C, H, D);
            if ((rc = emit_layer(trace, l, "k", 3, H, T, D, tmp))) goto done;
            gather_heads(tmp, qkv, 2, T, C, H, D);
            if ((rc = emit_layer(trace, l, "v", 3, H, T, D, tmp))) goto done;
        }
        /* rotary on q and k of every head, at the token's position */
        if (cfg->rotary != TPE_ROTARY_NONE) {
            for (t = 0; t < T; t++)
                for (h = 0; h < H; h++) {
                    rotary(qkv + t * 3 * C + h * D, cfg->rotary_dim, t, cfg->rotary_base, cfg->rotary);
                    rotary(qkv + t * 3 * C + C + h * D, cfg->rotary_dim, t, cfg->rotary_base, cfg->rotary);
                }
            if (trace) {
                gather_heads(tmp, qkv, 0, T, C, H, D);
                if ((rc = emit_layer(trace, l, "q_rot", 3, H, T, D, tmp))) goto done;
                gather_heads(tmp, qkv, 1, T, C, H, D);
                if ((rc = emit_layer(trace, l, "k_rot", 3, H, T, D, tmp))) goto done;
            }
        }
        /* causal softmax attention, then the output projection */
        attention(heads, probs, qkv, cfg, l, T);
        if ((rc = emit_layer(trace, l, "attn_probs", 3, H, T, T, probs))) goto done;
        if ((rc = emit_layer(trace, l, "attn_heads", 2, T, C, 0, heads))) goto done;
        if ((rc = linear(attn, C, heads, &L->attn_out, T))) goto done;
        if ((rc = emit_layer(trace, l, "attn_out", 2, T, C, 0, attn))) goto done;

        /* the MLP's input: ln_2 of x (parallel), of x + attn (sequential),
         * or GPT-J's shared ln_1 output */
        if (cfg->shared_norm) {
            memcpy(a2, a, T * C * sizeof *a2);
        } else if (cfg->parallel_residual) {
            if ((rc = layer_norm(a2, x, &L->ln2_w, &L->ln2_b, T, C, cfg->ln_eps))) goto done;
        } else {
            /* sequential: x = x + attn first (GPT-2; NeoX: attn_output + hidden_states) */
            for (i = 0; i < T * C; i++) x[i] = cfg->arch == TPE_ARCH_NEOX ? attn[i] + x[i] : x[i] + attn[i];
            if ((rc = layer_norm(a2, x, &L->ln2_w, &L->ln2_b, T, C, cfg->ln_eps))) goto done;
        }
        if (!cfg->shared_norm && (rc = emit_layer(trace, l, "ln_2", 2, T, C, 0, a2))) goto done;

        /* mlp = act(a2 W_in + b_in) W_out + b_out */
        if ((rc = linear(ff, F, a2, &L->fc_in, T))) goto done;
        if ((rc = emit_layer(trace, l, "mlp_pre", 2, T, F, 0, ff))) goto done;
        for (i = 0; i < T * F; i++) ff[i] = activation(cfg->act, ff[i]);
        if ((rc = emit_layer(trace, l, "mlp_act", 2, T, F, 0, ff))) goto done;
        if ((rc = linear(mlp, C, ff, &L->fc_out, T))) goto done;
        if ((rc = emit_layer(trace, l, "mlp_out", 2, T, C, 0, mlp))) goto done;

        /* the residual update, in transformers' order of additions */
        for (i = 0; i < T * C; i++) {
            if (cfg->arch == TPE_ARCH_GPTJ) x[i] = attn[i] + mlp[i] + x[i];       /* attn + feed_forward + residual */
            else if (cfg->parallel_residual) x[i] = mlp[i] + attn[i] + x[i];      /* mlp + attn + hidden_states     */
            else if (cfg->arch == TPE_ARCH_NEOX) x[i] = mlp[i] + x[i];            /* mlp_output + attn_output       */
            else x[i] = x[i] + mlp[i];                                            /* residual + feed_forward        */
        }
        if ((rc = emit_layer(trace, l, "resid", 2, T, C, 0, x))) goto done;
    }

    /* final norm; logits_t[v] = E_v . h_t (+ b_v). With dropped head
     * dimensions the norm still runs over all C, then keeps d_out of them. */
    if ((rc = final_norm(a, x, m, T))) goto done;
    C = cfg->d_out; /* from here on: the head's width */
    if ((rc = emit(trace, "final_norm", 2, T, C, 0, a))) goto done;
    if (hidden) memcpy(hidden, a, T * C * sizeof *hidden);
    if (logits || (trace && trace->emit)) {
        double *lg = logits ? logits : tpe_alloc_array(T * V, sizeof *lg, "logits");
        double *bias = NULL;
        size_t v;
        if (!lg) {
            rc = TPE_ENOMEM;
            goto done;
        }
        if (m->head_b.raw && !(bias = load(&m->head_b))) rc = TPE_ENOMEM;
        for (v = 0; v < V && !rc; v++) {
            tpe_st_to_f64(m->head_w.dtype, m->head_w.raw, v * C, C, row);
            for (t = 0; t < T; t++) {
                double s = 0.0;
                for (c = 0; c < C; c++) s += a[t * C + c] * row[c];
                lg[t * V + v] = bias ? s + bias[v] : s;
            }
        }
        tpe_free(bias);
        if (!rc) rc = emit(trace, "logits", 2, T, V, 0, lg);
        if (!logits) tpe_free(lg);
    }
done:
    tpe_free(x);
    tpe_free(a);
    tpe_free(a2);
    tpe_free(qkv);
    tpe_free(raw);
    tpe_free(probs);
    tpe_free(heads);
    tpe_free(attn);
    tpe_free(ff);
    tpe_free(mlp);
    tpe_free(tmp);
    tpe_free(row);
    return rc;
}
