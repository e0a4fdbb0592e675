/*
 * steereval.c -- evaluating steering edits from cached hidden states
 * (steereval.h): the base pass (log Z, alpha), the exact rank-one update of
 * alpha'_w, the P^T delta product behind d_KL^r, and the re-runs of the
 * windows an input-embedding change reaches.
 */
#include "steereval.h"
#include "headeval.h"
#include "cpu.h"
#include "gemm.h"
#include "kl.h"
#include "platform.h"
#include "safetensors.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void progress_to(tpe_progress *p, double done)
{
    if (p) tpe_progress_update(p, done);
}

/* Positions per block of logits: the logits scratch is V x BLK floats. */
#define BLK 256
/* Positions summed in float by the P^T delta GEMM before the partial sums
 * are added into double. */
#define FLUSH 1024
/* Bytes the P^T delta accumulators may take (edits are chunked to fit). */
#define KL_BUDGET ((size_t)192 << 20)

/* Positions per block of the double head passes: V x nb doubles at most 32 MB. */
static size_t block64(size_t V)
{
    size_t nb = ((size_t)32 << 20) / (V * sizeof(double));
    return nb < 8 ? 8 : nb > BLK ? BLK : nb;
}

struct tpe_steer_evaluator {
    tpe_model *m;
    int tied;          /* m was tied when the evaluator was made                  */
    size_t V, C;
    float *E;          /* (V, C) the head as float, for the P^T delta GEMM         */
    float *b;          /* (V) head bias, or NULL                                  */
    double *E64;       /* (V, C) the head in double (rows patched during re-runs) */
    double *b64;       /* (V) or NULL                                             */
    float *L;          /* (V, BLK) float logits, then exp(logit - column max)     */
    float *colmax;     /* (BLK)                                                   */
    double *invz;      /* (BLK) 1 / Z of each column                              */
    size_t nb64;       /* positions per double block                              */
    double *H64;       /* (nb64, C) hidden states of a block                      */
    double *P64;       /* (V, nb64) logits, then probabilities                    */
    double *mx64, *z64;/* (nb64) column maxima, sums                              */
    double *logz64;    /* (nb64) log Z of each column                             */
    int input_owned;   /* m's input embedding is an owned F32 copy we patch       */
    tpe_runtime *rt;   /* for re-runs                                             */
    size_t rt_window;
    float *Hw;         /* (rt_window, C) hidden states of a re-run window         */
    double *row_save;  /* (C) a head row while it is patched                      */
    double *in_row;    /* (C) an input-embedding row (double)                     */
    double *tmp_row;   /* (C)                                                     */
    float *fscratch;   /* (C)                                                     */
};

void tpe_steer_set_free(tpe_steer_set *s)
{
    if (!s) return;
    tpe_hidden_cache_free(&s->hc);
    tpe_free(s->logZ);
    tpe_free(s->alpha);
    s->logZ = s->alpha = NULL;
}

void tpe_steer_evaluator_free(tpe_steer_evaluator *ev)
{
    if (!ev) return;
    tpe_free(ev->E);
    tpe_free(ev->b);
    tpe_free(ev->E64);
    tpe_free(ev->b64);
    tpe_free(ev->L);
    tpe_free(ev->colmax);
    tpe_free(ev->invz);
    tpe_free(ev->H64);
    tpe_free(ev->P64);
    tpe_free(ev->mx64);
    tpe_free(ev->z64);
    tpe_free(ev->logz64);
    tpe_runtime_free(ev->rt);
    tpe_free(ev->Hw);
    tpe_free(ev->row_save);
    tpe_free(ev->in_row);
    tpe_free(ev->tmp_row);
    tpe_free(ev->fscratch);
    free(ev);
}

int tpe_steer_evaluator_new(tpe_model *m, tpe_steer_evaluator **out)
{
    size_t V = m->cfg.n_vocab, C = m->cfg.d_out;
    const tpe_weight *bias = tpe_model_head_bias(m);
    tpe_steer_evaluator *ev = calloc(1, sizeof *ev);
    size_t i;
    int rc = TPE_OK;
    *out = NULL;
    if (!ev) return tpe_error(TPE_ENOMEM, "out of memory");
    ev->m = m;
    ev->tied = m->cfg.tied;
    ev->V = V;
    ev->C = C;
    ev->nb64 = block64(V);
    ev->E = tpe_alloc_array(V, C * sizeof *ev->E, "head (float)");
    ev->b = bias ? tpe_alloc_array(V, sizeof *ev->b, "head bias") : NULL;
    ev->E64 = tpe_alloc_array(V, C * sizeof *ev->E64, "head (double)");
    ev->b64 = bias ? tpe_alloc_array(V, sizeof *ev->b64, "head bias (double)") : NULL;
    ev->L = tpe_alloc_array(V, BLK * sizeof *ev->L, "logits");
    ev->colmax = tpe_alloc_array(BLK, sizeof *ev->colmax, "column maxima");
    ev->invz = tpe_alloc_array(BLK, sizeof *ev->invz, "column sums");
    ev->H64 = tpe_alloc_array(ev->nb64, C * sizeof *ev->H64, "hidden states (double)");
    ev->P64 = tpe_alloc_array(V, ev->nb64 * sizeof *ev->P64, "logits (double)");
    ev->mx64 = tpe_alloc_array(ev->nb64, sizeof *ev->mx64, "column maxima");
    ev->z64 = tpe_alloc_array(ev->nb64, sizeof *ev->z64, "column sums");
    ev->logz64 = tpe_alloc_array(ev->nb64, sizeof *ev->logz64, "log Z");
    ev->row_save = tpe_alloc_array(C, sizeof *ev->row_save, "row");
    ev->in_row = tpe_alloc_array(C, sizeof *ev->in_row, "row");
    ev->tmp_row = tpe_alloc_array(C, sizeof *ev->tmp_row, "row");
    ev->fscratch = tpe_alloc_array(C, sizeof *ev->fscratch, "row");
    if (!ev->E || (bias && !ev->b) || !ev->E64 || (bias && !ev->b64) || !ev->L || !ev->colmax || !ev->invz || !ev->H64 ||
        !ev->P64 || !ev->mx64 || !ev->z64 || !ev->logz64 || !ev->row_save || !ev->in_row || !ev->tmp_row || !ev->fscratch)
        rc = TPE_ENOMEM;
    if (!rc) rc = tpe_weight_to_f32(tpe_model_output_embedding(m), ev->E);
    if (!rc && bias) rc = tpe_weight_to_f32(bias, ev->b);
    if (rc) {
        tpe_steer_evaluator_free(ev);
        return rc;
    }
    /* the double head holds the float values exactly (the evaluation is of
     * the model as the fast path runs it) */
    for (i = 0; i < V * C; i++) ev->E64[i] = (double)ev->E[i];
    for (i = 0; bias && i < V; i++) ev->b64[i] = (double)ev->b[i];
    *out = ev;
    return TPE_OK;
}

int tpe_steer_evaluator_tied(const tpe_steer_evaluator *ev) { return ev->tied; }
size_t tpe_steer_evaluator_vocab(const tpe_steer_evaluator *ev) { return ev->V; }

const float *tpe_steer_evaluator_head(const tpe_steer_evaluator *ev, const float **bias)
{
    if (bias) *bias = ev->b;
    return ev->E;
}

/*
 * The float softmax of nb positions for the P^T delta GEMM, column-wise on
 * the (V, nb) orientation: L = E H^T + b, m_t = max_v L_vt,
 * L_vt = exp(L_vt - m_t) (float), Z_t = sum_v L_vt (double),
 * invz_t = 1 / Z_t; p_vt = L_vt invz_t.
 */
static int softmax_block(tpe_steer_evaluator *ev, const float *H, size_t nb, size_t first)
{
    size_t V = ev->V, C = ev->C, v, t;
    float *L = ev->L;
    tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, V, nb, C, 1.0f, ev->E, C, H, C, 0.0f, L, nb);
    if (ev->b)
        for (v = 0; v < V; v++)
            for (t = 0; t < nb; t++) L[v * nb + t] += ev->b[v];
    return tpe_softmax_cols(L, V, nb, ev->colmax, ev->invz, first);
}


/*
 * The head in double on nb <= nb64 positions: P64 (V, nb) = softmax of the
 * columns of E H^T + b, logz64[t] = log Z of column t. Used for the base
 * pass (alpha feeds Eq. 2's regression and log Z every p_nw), the re-run
 * windows and the full re-run, so none of them carries the float rounding
 * of the logits.
 */
static int head_block64(tpe_steer_evaluator *ev, const float *H, size_t nb, size_t first)
{
    size_t V = ev->V, C = ev->C, v, t;
    double *P = ev->P64, *mx = ev->mx64, *z = ev->z64;
    for (t = 0; t < nb * C; t++) ev->H64[t] = (double)H[t];
    tpe_dgemm(TPE_NO_TRANS, TPE_TRANS, V, nb, C, 1.0, ev->E64, C, ev->H64, C, 0.0, P, nb);
    if (ev->b64)
        for (v = 0; v < V; v++)
            for (t = 0; t < nb; t++) P[v * nb + t] += ev->b64[v];
    for (t = 0; t < nb; t++) mx[t] = P[t], z[t] = 0.0;
    for (v = 1; v < V; v++)
        for (t = 0; t < nb; t++)
            if (P[v * nb + t] > mx[t]) mx[t] = P[v * nb + t];
    for (v = 0; v < V; v++)
        for (t = 0; t < nb; t++) z[t] += P[v * nb + t] = exp(P[v * nb + t] - mx[t]);
    for (t = 0; t < nb; t++) {
        if (!isfinite(mx[t]) || !isfinite(z[t])) return tpe_error(TPE_ENUMERIC, "position %zu: the logits are not finite", first + t);
        ev->logz64[t] = mx[t] + log(z[t]);
        z[t] = 1.0 / z[t];
    }
    for (v = 0; v < V; v++)
        for (t = 0; t < nb; t++) P[v * nb + t] *= z[t];
    return TPE_OK;
}

/* sum[v] += sign sum_t P64[v, t] over a block of nb positions */
static void add_probs64(const tpe_steer_evaluator *ev, size_t nb, double *sum, double sign)
{
    size_t v, t;
    for (v = 0; v < ev->V; v++) {
        double s = 0.0;
        for (t = 0; t < nb; t++) s += ev->P64[v * nb + t];
        sum[v] += sign * s;
    }
}

int tpe_steer_set_prepare(tpe_steer_evaluator *ev, tpe_steer_set *set, const size_t *snap_win, size_t nsnap,
                          double *snap_alpha)
{
    const tpe_hidden_cache *hc = &set->hc;
    size_t V = ev->V, C = ev->C, N = hc->N, at = 0, i, v, t;
    double *sum = NULL;
    int rc = TPE_OK;
    if (hc->C != C) return tpe_error(TPE_EINVAL, "%s: hidden states have width %zu, the model %zu", set->name, hc->C, C);
    for (i = 0; i < N; i++)
        if (hc->ids[i] < 0 || (size_t)hc->ids[i] >= V)
            return tpe_error(TPE_EINVAL, "%s: position %zu: token id %ld is outside the vocabulary [0, %zu)", set->name, i,
                             (long)hc->ids[i], V);
    for (i = 0; i < nsnap; i++)
        if (snap_win[i] > hc->nwin || (i && snap_win[i] < snap_win[i - 1]))
            return tpe_error(TPE_EINVAL, "%s: subset boundaries must ascend within %zu windows", set->name, hc->nwin);
    tpe_free(set->logZ);
    tpe_free(set->alpha);
    set->logZ = tpe_alloc_array(N, sizeof *set->logZ, "log Z");
    set->alpha = tpe_calloc_array(V, sizeof *set->alpha, "alpha");
    sum = tpe_calloc_array(V, sizeof *sum, "alpha sums");
    if (!set->logZ || !set->alpha || !sum) {
        rc = TPE_ENOMEM;
        goto done;
    }
    /* the base pass in double; blocks never straddle a subset boundary */
    for (i = 0; i <= nsnap; i++) {
        size_t end = i < nsnap ? hc->win[snap_win[i]] : N;
        while (at < end) {
            size_t nb = end - at < ev->nb64 ? end - at : ev->nb64;
            if ((rc = head_block64(ev, hc->H + at * C, nb, at))) {
                tpe_error_prefix(rc, "%s: ", set->name);
                goto done;
            }
            for (t = 0; t < nb; t++) set->logZ[at + t] = ev->logz64[t];
            add_probs64(ev, nb, sum, 1.0);
            at += nb;
        }
        if (i < nsnap)
            for (v = 0; v < V; v++) snap_alpha[i * V + v] = end ? sum[v] / (double)end : (double)NAN;
    }
    for (v = 0; v < V; v++) set->alpha[v] = sum[v] / (double)N;
done:
    tpe_free(sum);
    if (rc) {
        tpe_free(set->logZ);
        tpe_free(set->alpha);
        set->logZ = set->alpha = NULL;
    }
    return rc;
}

/* ---- re-runs ---------------------------------------------------------------- */

static int ensure_runtime(tpe_steer_evaluator *ev, size_t window)
{
    int rc;
    if (ev->rt && ev->rt_window >= window) return TPE_OK;
    tpe_runtime_free(ev->rt);
    tpe_free(ev->Hw);
    ev->rt = NULL;
    ev->Hw = NULL;
    ev->rt_window = 0;
    if ((rc = tpe_runtime_new(ev->m, window, 0, &ev->rt))) return rc;
    ev->Hw = tpe_alloc_array(window, ev->C * sizeof *ev->Hw, "re-run hidden states");
    if (!ev->Hw) return TPE_ENOMEM;
    ev->rt_window = window;
    return TPE_OK;
}

/* Give m an input embedding of its own in F32 (same values) so rows can be
 * changed in place. */
static int ensure_input_owned(tpe_steer_evaluator *ev)
{
    size_t V = ev->V, C = ev->C;
    double *Ein;
    int rc;
    if (ev->input_owned) return TPE_OK;
    Ein = tpe_alloc_array(V, C * sizeof *Ein, "input embedding (double)");
    if (!Ein) return TPE_ENOMEM;
    rc = tpe_weight_to_f64(tpe_model_input_embedding(ev->m), Ein);
    if (!rc) rc = tpe_model_set_input_embedding(ev->m, Ein, TPE_F32);
    tpe_free(Ein);
    if (rc) return rc;
    /* a runtime reads the weights through m at every call: it needs no renewal */
    ev->input_owned = 1;
    return TPE_OK;
}

/* Row w of the (owned, F32) input embedding := x (C). */
static void set_input_row(tpe_steer_evaluator *ev, size_t w, const double *x)
{
    tpe_weight *we = &ev->m->wte;
    size_t C = ev->C, c;
    tpe_st_encode(TPE_F32, x, C, (unsigned char *)we->owned_raw + w * C * sizeof(float));
    if (we->owned_f32) {
        float *f = we->owned_f32;
        for (c = 0; c < C; c++) f[w * C + c] = (float)x[c];
    }
}

/* Apply (on = 1) or undo (on = 0) an edit E'_w = E_w + t u of the
 * evaluator's head and, with input_too, of the model's input embedding. */
static int patch(tpe_steer_evaluator *ev, int32_t token, double t, const double *u, int input_too, int on)
{
    size_t C = ev->C, c, w = (size_t)token;
    double *row = ev->E64 + w * C;
    int rc;
    /* the one step that can fail comes first, so a failed patch changes nothing */
    if (input_too && (rc = ensure_input_owned(ev))) return rc;
    if (on) {
        memcpy(ev->row_save, row, C * sizeof *row);
        for (c = 0; c < C; c++) row[c] = ev->row_save[c] + t * u[c];
    } else {
        memcpy(row, ev->row_save, C * sizeof *row);
    }
    if (!input_too) return TPE_OK;
    if (on) {
        const float *in = tpe_weight_rows_f32(&ev->m->wte, w, 1, ev->fscratch);
        for (c = 0; c < C; c++) ev->in_row[c] = (double)in[c];
        for (c = 0; c < C; c++) ev->tmp_row[c] = ev->in_row[c] + t * u[c];
        set_input_row(ev, w, ev->tmp_row);
    } else {
        set_input_row(ev, w, ev->in_row);
    }
    return TPE_OK;
}

/* ---- evaluation ----------------------------------------------------------------- */

typedef struct token_info {
    int32_t token;
    double *p;          /* (npos) unedited p_nw                                  */
    double alpha_w;     /* (1/npos) sum p_nw                                      */
    size_t *from;       /* (nwin) input-moving edits: the first position of window i
                         * at or after the token's first occurrence in it (the
                         * window's end when it does not occur); positions before
                         * keep their hidden states (causal attention)            */
    size_t naff_win, naff_pos;
    double *saff;       /* (V) sum over affected positions of the unedited p_n.   */
} token_info;


static double dot_dd_f(const double *u, const float *h, size_t C)
{
    size_t c;
    double s = 0.0;
    for (c = 0; c < C; c++) s += u[c] * (double)h[c];
    return s;
}

static void token_info_free(token_info *ti, size_t n)
{
    size_t j;
    if (!ti) return;
    for (j = 0; j < n; j++) {
        tpe_free(ti[j].p);
        free(ti[j].from);
        tpe_free(ti[j].saff);
    }
    free(ti);
}

/* The reference: every window of the view through the (edited) model again,
 * the edited head over all V, alpha' summed in double. */
static int evaluate_full(tpe_steer_evaluator *ev, const tpe_steer_set *set, size_t nwin, const double *const *dirs,
                         const tpe_steer_edit *edits, size_t K, double *r_hat, double *kl, double *alpha_w,
                         tpe_steer_eval_stats *stats, tpe_progress *progress)
{
    const tpe_hidden_cache *hc = &set->hc;
    size_t V = ev->V, C = ev->C, npos = hc->win[nwin], k, i, v;
    double *base = tpe_alloc_array(V, sizeof *base, "alpha"), *ap = tpe_alloc_array(V, sizeof *ap, "alpha'"), t0 = tpe_now();
    int rc = TPE_OK;
    if (!base || !ap) {
        tpe_free(base);
        tpe_free(ap);
        return TPE_ENOMEM;
    }
    if ((rc = ensure_runtime(ev, hc->window))) goto done;
    /* k = 0 is the unedited model through the same path (every window run
     * again), then every edit */
    for (k = 0; k <= K && !rc; k++) {
        const tpe_steer_edit *e = k ? &edits[k - 1] : NULL;
        double *acc = k ? ap : base;
        memset(acc, 0, V * sizeof *acc);
        if (e && (rc = patch(ev, e->token, e->t, dirs[e->dir], e->input_too, 1))) break;
        for (i = 0; i < nwin && !rc; i++) {
            size_t p0 = hc->win[i], T = hc->win[i + 1] - p0, at;
            if ((rc = tpe_forward(ev->rt, hc->ids + p0, T, ev->Hw, NULL))) break;
            for (at = 0; at < T && !rc; at += ev->nb64) {
                size_t nb = T - at < ev->nb64 ? T - at : ev->nb64;
                if (!(rc = head_block64(ev, ev->Hw + at * C, nb, p0 + at))) add_probs64(ev, nb, acc, 1.0);
            }
            stats->rerun_windows++;
            stats->rerun_tokens += T;
        }
        if (e) {
            int rc2 = patch(ev, e->token, e->t, dirs[e->dir], e->input_too, 0);
            if (!rc) rc = rc2;
        }
        if (rc) break;
        for (v = 0; v < V; v++) acc[v] /= (double)npos;
        if (!e) continue;
        r_hat[k - 1] = ap[e->token] / base[e->token];
        if (kl) kl[k - 1] = tpe_kl_without(base, ap, V, (size_t)e->token);
        if (alpha_w) alpha_w[k - 1] = base[e->token];
        stats->cached_edits++;
        progress_to(progress, (double)++stats->progress_done);
    }
done:
    stats->seconds_rerun += tpe_now() - t0;
    tpe_free(base);
    tpe_free(ap);
    if (rc) tpe_error_prefix(rc, "%s: ", set->name);
    return rc;
}

int tpe_steer_evaluate(tpe_steer_evaluator *ev, const tpe_steer_set *set, size_t nwin, const double *alpha_view,
                       const double *const *dirs, size_t ndirs, const tpe_steer_edit *edits, size_t K, tpe_eval_mode mode,
                       double *r_hat, double *kl, double *alpha_w, tpe_steer_eval_stats *stats, tpe_progress *progress)
{
    const tpe_hidden_cache *hc = &set->hc;
    size_t V = ev->V, C = ev->C, npos, k, j, i, n, v, d, ntok = 0, k0, Kc_max;
    token_info *ti = NULL;
    size_t *tok_of = NULL;
    double *G = NULL, *D = NULL;
    float *Acc = NULL, *Dl = NULL;
    double t0, *dcol = NULL;
    tpe_steer_eval_stats local;
    int rc = TPE_OK;

    memset(&local, 0, sizeof local);
    if (!stats) stats = &local;
    if (nwin == 0 || nwin > hc->nwin) nwin = hc->nwin;
    npos = hc->win[nwin];
    if (!set->logZ || !alpha_view) return tpe_error(TPE_EINVAL, "%s: the set is not prepared", set->name);
    for (k = 0; k < K; k++) {
        if (edits[k].token < 0 || (size_t)edits[k].token >= V)
            return tpe_error(TPE_EINVAL, "edit %zu: token %ld is outside the vocabulary [0, %zu)", k, (long)edits[k].token, V);
        if (edits[k].dir >= ndirs) return tpe_error(TPE_EINVAL, "edit %zu: direction %zu of %zu", k, edits[k].dir, ndirs);
        if (!isfinite(edits[k].t)) return tpe_error(TPE_EINVAL, "edit %zu: log-scale %g is not finite", k, edits[k].t);
    }
    if (K == 0) return TPE_OK;
    if (mode == TPE_EVAL_FULL) return evaluate_full(ev, set, nwin, dirs, edits, K, r_hat, kl, alpha_w, stats, progress);

    /* the tokens: unedited p_nw at every position, and the windows an
     * input-moving edit of that token reaches */
    ti = calloc(K, sizeof *ti);
    tok_of = malloc(K * sizeof *tok_of);
    G = tpe_alloc_array(ndirs ? ndirs : 1, npos * sizeof *G, "u . h");
    if (!ti || !tok_of || !G) {
        rc = tpe_error(TPE_ENOMEM, "out of memory for %zu edits", K);
        goto done;
    }
    for (k = 0; k < K; k++) {
        for (j = 0; j < ntok && ti[j].token != edits[k].token; j++) continue;
        if (j == ntok) ti[ntok++].token = edits[k].token;
        tok_of[k] = j;
    }
    for (j = 0; j < ntok; j++) {
        token_info *q = &ti[j];
        const double *Ew = ev->E64 + (size_t)q->token * C;
        double bw = ev->b64 ? ev->b64[q->token] : 0.0, s = 0.0;
        int moves = 0;
        q->p = tpe_alloc_array(npos, sizeof *q->p, "p_w");
        if (!q->p) {
            rc = TPE_ENOMEM;
            goto done;
        }
        /* p_nw = exp(E_w . h_n + b_w - log Z_n) */
        for (n = 0; n < npos; n++) s += q->p[n] = exp(dot_dd_f(Ew, hc->H + n * C, C) + bw - set->logZ[n]);
        q->alpha_w = s / (double)npos;
        for (k = 0; k < K; k++)
            if (tok_of[k] == j && edits[k].input_too) moves = 1;
        if (!moves || mode == TPE_EVAL_HEAD_ONLY) continue;
        q->from = malloc(nwin * sizeof *q->from);
        if (!q->from) {
            rc = tpe_error(TPE_ENOMEM, "out of memory");
            goto done;
        }
        for (i = 0; i < nwin; i++) {
            for (n = hc->win[i]; n < hc->win[i + 1]; n++)
                if (hc->ids[n] == q->token) break;
            q->from[i] = n;
            if (n < hc->win[i + 1]) {
                q->naff_win++;
                q->naff_pos += hc->win[i + 1] - n;
            }
        }
        if (kl && q->naff_win) {
            /* sum of the unedited distributions over the affected positions */
            q->saff = tpe_calloc_array(V, sizeof *q->saff, "affected alpha");
            if (!q->saff) {
                rc = TPE_ENOMEM;
                goto done;
            }
            for (i = 0; i < nwin && !rc; i++) {
                size_t at;
                for (at = q->from[i]; at < hc->win[i + 1] && !rc; at += ev->nb64) {
                    size_t nb = hc->win[i + 1] - at < ev->nb64 ? hc->win[i + 1] - at : ev->nb64;
                    if (!(rc = head_block64(ev, hc->H + at * C, nb, at))) add_probs64(ev, nb, q->saff, 1.0);
                }
            }
            if (rc) goto done;
        }
    }
    /* g_n = u . h_n for every direction */
    for (d = 0; d < ndirs; d++)
        for (n = 0; n < npos; n++) G[d * npos + n] = dot_dd_f(dirs[d], hc->H + n * C, C);

    /* edits in chunks whose P^T delta accumulators fit the budget */
    Kc_max = K;
    if (kl) {
        Kc_max = KL_BUDGET / (V * (sizeof *D + sizeof *Acc) + BLK * sizeof *Dl);
        if (Kc_max < 1) Kc_max = 1;
        if (Kc_max > K) Kc_max = K;
        D = tpe_alloc_array(V, Kc_max * sizeof *D, "alpha changes");
        Acc = tpe_alloc_array(V, Kc_max * sizeof *Acc, "alpha change partial sums");
        Dl = tpe_alloc_array(BLK, Kc_max * sizeof *Dl, "delta block");
        dcol = tpe_alloc_array(V, sizeof *dcol, "alpha change");
        if (!D || !Acc || !Dl || !dcol) {
            rc = TPE_ENOMEM;
            goto done;
        }
    }
    for (k0 = 0; k0 < K; k0 += Kc_max) {
        size_t Kc = K - k0 < Kc_max ? K - k0 : Kc_max, kk;
        if (kl) memset(D, 0, V * Kc * sizeof *D);
        /* alpha'_w: the cached part (Eq. in steereval.h), then the re-runs */
        for (kk = 0; kk < Kc; kk++) {
            const tpe_steer_edit *e = &edits[k0 + kk];
            token_info *q = &ti[tok_of[k0 + kk]];
            const double *g = G + e->dir * npos;
            int rerun = e->input_too && q->from && q->naff_win;
            double sw = 0.0;
            for (i = 0; i < nwin; i++) {
                size_t end = rerun ? q->from[i] : hc->win[i + 1];
                for (n = hc->win[i]; n < end; n++) {
                    double p = q->p[n], x = e->t * g[n], em1 = expm1(x);
                    /* p'_nw = p_nw e^x c_n,  c_n = 1 / (1 + p_nw (e^x - 1)) */
                    sw += p * (1.0 + em1) / (1.0 + p * em1);
                }
            }
            if (rerun) {
                double *Dk = kl ? D : NULL;
                t0 = tpe_now();
                if ((rc = ensure_runtime(ev, hc->window))) goto done;
                if ((rc = patch(ev, e->token, e->t, dirs[e->dir], 1, 1))) goto done;
                for (i = 0; i < nwin && !rc; i++) {
                    /* the window from its start (the context), evaluated from
                     * the token's first occurrence on */
                    size_t p0 = hc->win[i], T = hc->win[i + 1] - p0, at, t;
                    if (q->from[i] == hc->win[i + 1]) continue;
                    if ((rc = tpe_forward(ev->rt, hc->ids + p0, T, ev->Hw, NULL))) break;
                    for (at = q->from[i] - p0; at < T && !rc; at += ev->nb64) {
                        size_t nb = T - at < ev->nb64 ? T - at : ev->nb64;
                        if ((rc = head_block64(ev, ev->Hw + at * C, nb, p0 + at))) break;
                        for (t = 0; t < nb; t++) sw += ev->P64[(size_t)e->token * nb + t];
                        if (Dk)
                            for (v = 0; v < V; v++) {
                                double sv = 0.0;
                                for (t = 0; t < nb; t++) sv += ev->P64[v * nb + t];
                                Dk[v * Kc + kk] -= sv;
                            }
                    }
                    stats->rerun_windows++;
                    stats->rerun_tokens += T;
                }
                {
                    int rc2 = patch(ev, e->token, e->t, dirs[e->dir], 1, 0);
                    if (!rc) rc = rc2;
                }
                if (rc) goto done;
                if (Dk)
                    for (v = 0; v < V; v++) Dk[v * Kc + kk] += q->saff[v];
                if (stats) stats->seconds_rerun += tpe_now() - t0;
            }
            r_hat[k0 + kk] = sw / (double)npos / q->alpha_w;
            if (alpha_w) alpha_w[k0 + kk] = q->alpha_w;
            if (stats) stats->cached_edits++;
            if (!kl) progress_to(progress, (double)++stats->progress_done);
        }
        if (!kl) continue;
        /* alpha - alpha' = (1/N) P^T delta over the positions not re-run,
         * delta_n = 1 - c_n = p_nw (e^x - 1) / (1 + p_nw (e^x - 1)); P's
         * columns are exp(l - m) and 1/Z goes into delta */
        t0 = tpe_now();
        {
            size_t at, wi = 0, since = 0;
            memset(Acc, 0, V * Kc * sizeof *Acc);
            for (at = 0; at < npos; at += BLK) {
                size_t nb = npos - at < BLK ? npos - at : BLK, t;
                if ((rc = softmax_block(ev, hc->H + at * C, nb, at))) goto done;
                for (t = 0; t < nb; t++) {
                    size_t pos = at + t;
                    while (hc->win[wi + 1] <= pos) wi++;
                    for (kk = 0; kk < Kc; kk++) {
                        const tpe_steer_edit *e = &edits[k0 + kk];
                        token_info *q = &ti[tok_of[k0 + kk]];
                        double delta = 0.0;
                        if (!(e->input_too && q->from && pos >= q->from[wi])) {
                            double p = q->p[pos], em1 = expm1(e->t * G[e->dir * npos + pos]);
                            delta = p * em1 / (1.0 + p * em1);
                        }
                        Dl[t * Kc + kk] = (float)(delta * ev->invz[t]);
                    }
                }
                tpe_sgemm(TPE_NO_TRANS, TPE_NO_TRANS, V, Kc, nb, 1.0f, ev->L, nb, Dl, Kc, 1.0f, Acc, Kc);
                since += nb;
                if (since >= FLUSH || at + nb >= npos) {
                    for (v = 0; v < V * Kc; v++) D[v] += (double)Acc[v];
                    memset(Acc, 0, V * Kc * sizeof *Acc);
                    since = 0;
                }
            }
        }
        for (kk = 0; kk < Kc; kk++) {
            const tpe_steer_edit *e = &edits[k0 + kk];
            for (v = 0; v < V; v++) dcol[v] = D[v * Kc + kk] / (double)npos;
            kl[k0 + kk] = tpe_kl_without_change(alpha_view, dcol, V, (size_t)e->token);
            progress_to(progress, (double)++stats->progress_done);
        }
        if (stats) stats->seconds_kl += tpe_now() - t0;
    }
done:
    token_info_free(ti, ntok);
    free(tok_of);
    tpe_free(G);
    tpe_free(D);
    tpe_free(Acc);
    tpe_free(Dl);
    tpe_free(dcol);
    if (rc) tpe_error_prefix(rc, "%s: ", set->name);
    return rc;
}
