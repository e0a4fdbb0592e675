/*
 * hiddencache.c -- final hidden states of a dataset kept for evaluating
 * edited heads (hiddencache.h).
 */
#include "hiddencache.h"
#include "array.h"
#include "headeval.h"
#include "tpe.h"

#include <stdlib.h>
#include <string.h>

static void progress_to(tpe_progress *p, double done)
{
    if (p) tpe_progress_update(p, done);
}

void tpe_hidden_cache_free(tpe_hidden_cache *c)
{
    if (!c) return;
    tpe_free(c->H);
    free(c->ids);
    free(c->win);
    free(c->sample_win);
    memset(c, 0, sizeof *c);
}

char *tpe_hidden_tokens_path(const char *path)
{
    size_t n = strlen(path);
    char *p = malloc(n + 16);
    if (!p) {
        tpe_error(TPE_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(p, path, n + 1);
    if (n > 4 && strcmp(path + n - 4, ".npy") == 0) p[n - 4] = '\0';
    strcat(p, ".tokens.npy");
    return p;
}

/* ids, windows and samples for N positions: allocated, filled by the caller */
static int cache_alloc(tpe_hidden_cache *c, size_t N, size_t C, size_t nwin, size_t nsamples)
{
    c->N = N;
    c->C = C;
    c->H = tpe_alloc_array(N ? N : 1, C * sizeof *c->H, "hidden states");
    c->ids = malloc((N ? N : 1) * sizeof *c->ids);
    c->win = malloc((nwin + 1) * sizeof *c->win);
    c->sample_win = malloc((nsamples + 1) * sizeof *c->sample_win);
    if (!c->H || !c->ids || !c->win || !c->sample_win) {
        tpe_hidden_cache_free(c);
        return tpe_error(TPE_ENOMEM, "out of memory for the hidden states of %zu positions", N);
    }
    return TPE_OK;
}

int tpe_hidden_cache_build(const tpe_model *m, const int32_t *ids, const size_t *start, size_t nsamples, size_t window,
                           tpe_progress *progress, tpe_hidden_cache *out)
{
    size_t C = m->cfg.d_out, N, nwin = 0, s, at, n = 0, w = 0, ns = 0;
    tpe_runtime *rt = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (window == 0) window = m->cfg.n_ctx;
    if (window > m->cfg.n_ctx) return tpe_error(TPE_EINVAL, "window of %zu tokens exceeds the model's %zu positions", window, m->cfg.n_ctx);
    N = start[nsamples] - start[0];
    if (N == 0) return tpe_error(TPE_EINVAL, "no tokens (every sample is empty)");
    for (s = 0; s < nsamples; s++) nwin += (start[s + 1] - start[s] + window - 1) / window;
    if ((rc = cache_alloc(out, N, C, nwin, nsamples))) return rc;
    out->window = window;
    if ((rc = tpe_runtime_new(m, window, 0, &rt))) goto fail;
    for (s = 0; s < nsamples; s++) {
        size_t len = start[s + 1] - start[s];
        if (len == 0) continue;
        out->sample_win[ns++] = w;
        for (at = 0; at < len; at += window) {
            size_t T = len - at < window ? len - at : window;
            const int32_t *x = ids + start[s] + at;
            if ((rc = tpe_model_check_ids(m, x, T, 0)) || (rc = tpe_forward(rt, x, T, out->H + n * C, NULL))) {
                tpe_error_prefix(rc, "sample %zu, tokens %zu..%zu: ", s, at, at + T - 1);
                goto fail;
            }
            memcpy(out->ids + n, x, T * sizeof *x);
            out->win[w++] = n;
            n += T;
            progress_to(progress, (double)n);
        }
    }
    out->win[w] = n;
    out->nwin = w;
    out->sample_win[ns] = w;
    out->nsamples = ns;
    tpe_runtime_free(rt);
    return TPE_OK;
fail:
    tpe_runtime_free(rt);
    tpe_hidden_cache_free(out);
    return rc;
}

int tpe_hidden_cache_read(const char *path, size_t window, tpe_hidden_cache *out)
{
    tpe_array H, T;
    char *tp = tpe_hidden_tokens_path(path);
    size_t N, C, r, nwin = 0, nsamples = 0, w = 0, s = 0;
    const int64_t *rows;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&H, 0, sizeof H);
    memset(&T, 0, sizeof T);
    if (!tp) return tpe_error(TPE_ENOMEM, "out of memory");
    if (window == 0) {
        free(tp);
        return tpe_error(TPE_EINVAL, "%s: the window length (probe's --max-len) must be given", path);
    }
    if ((rc = tpe_npy_read_f32(path, &H))) goto done;
    if ((rc = tpe_npy_read(tp, &T))) goto done;
    if (H.ndim != 2 || H.shape[0] == 0 || H.shape[1] == 0) {
        rc = tpe_error(TPE_EFORMAT, "%s: hidden states must be (N, C) with N, C > 0", path);
        goto done;
    }
    N = H.shape[0];
    C = H.shape[1];
    if ((rc = tpe_check_finite_f32((const float *)H.data, N * C, C, path))) goto done;
    if (T.ndim != 2 || T.shape[0] != N || T.shape[1] != 3 || (T.dtype != TPE_I64 && (rc = tpe_array_convert(&T, TPE_I64, tp)))) {
        if (!rc) rc = tpe_error(TPE_EFORMAT, "%s: expected (%zu, 3) integer rows (sample, position, token)", tp, N);
        goto done;
    }
    rows = (const int64_t *)T.data;
    /* rows run sample by sample, positions 0, 1, ... without gaps */
    for (r = 0; r < N; r++) {
        const int64_t *x = rows + 3 * r;
        int new_sample = r == 0 || x[0] != x[-3];
        if (x[0] < 0 || x[2] < 0 || x[2] > INT32_MAX || (r > 0 && x[0] < x[-3])) {
            rc = tpe_error(TPE_EFORMAT, "%s: row %zu (%lld, %lld, %lld): bad sample number or token id", tp, r, (long long)x[0],
                           (long long)x[1], (long long)x[2]);
            goto done;
        }
        if (new_sample ? x[1] != 0 : x[1] != x[-2] + 1) {
            rc = tpe_error(TPE_EFORMAT, "%s: row %zu: sample %lld continues at position %lld (rows must run from position 0 without gaps)",
                           tp, r, (long long)x[0], (long long)x[1]);
            goto done;
        }
        nsamples += new_sample;
        nwin += (size_t)x[1] % window == 0;
    }
    if ((rc = cache_alloc(out, N, C, nwin, nsamples))) goto done;
    out->window = window;
    memcpy(out->H, H.data, N * C * sizeof *out->H);
    for (r = 0; r < N; r++) {
        const int64_t *x = rows + 3 * r;
        if (r == 0 || x[0] != x[-3]) out->sample_win[s++] = w;
        if ((size_t)x[1] % window == 0) out->win[w++] = r;
        out->ids[r] = (int32_t)x[2];
    }
    out->win[w] = N;
    out->sample_win[s] = w;
    out->nwin = w;
    out->nsamples = s;
done:
    tpe_array_free(&H);
    tpe_array_free(&T);
    free(tp);
    return rc;
}

int tpe_hidden_cache_alpha(const tpe_hidden_cache *c, const float *E, const float *b, size_t V, double *alpha)
{
    size_t v;
    int rc;
    memset(alpha, 0, V * sizeof *alpha);
    if ((rc = tpe_head_softmax_sum(c->H, c->N, c->C, E, b, V, alpha))) return rc;
    for (v = 0; v < V; v++) alpha[v] /= (double)c->N;
    return TPE_OK;
}

int tpe_hidden_cache_permute(tpe_hidden_cache *c, const size_t *perm)
{
    tpe_hidden_cache n;
    size_t i, w = 0, at = 0, C = c->C;
    unsigned char *seen = calloc(c->nsamples ? c->nsamples : 1, 1);
    int rc;
    if (!seen) return tpe_error(TPE_ENOMEM, "out of memory");
    for (i = 0; i < c->nsamples; i++) {
        if (perm[i] >= c->nsamples || seen[perm[i]]) {
            free(seen);
            return tpe_error(TPE_EINVAL, "sample order: entry %zu (%zu) is not a permutation of 0..%zu", i, perm[i], c->nsamples - 1);
        }
        seen[perm[i]] = 1;
    }
    free(seen);
    memset(&n, 0, sizeof n);
    if ((rc = cache_alloc(&n, c->N, C, c->nwin, c->nsamples))) return rc;
    n.window = c->window;
    for (i = 0; i < c->nsamples; i++) {
        size_t s = perm[i], w0 = c->sample_win[s], w1 = c->sample_win[s + 1], p0 = c->win[w0], p1 = c->win[w1], k;
        n.sample_win[i] = w;
        for (k = w0; k < w1; k++) n.win[w++] = at + (c->win[k] - p0);
        memcpy(n.H + at * C, c->H + p0 * C, (p1 - p0) * C * sizeof *n.H);
        memcpy(n.ids + at, c->ids + p0, (p1 - p0) * sizeof *n.ids);
        at += p1 - p0;
    }
    n.win[w] = at;
    n.sample_win[c->nsamples] = w;
    n.nwin = w;
    n.nsamples = c->nsamples;
    tpe_hidden_cache_free(c);
    *c = n;
    return TPE_OK;
}
