/*
 * headeval.c -- averaged distributions of an (edited) output layer from
 * cached hidden states. See headeval.h.
 */
#include "headeval.h"
#include "cpu.h"
#include "gemm.h"
#include "tpe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tpe_softmax_cols(float *L, size_t V, size_t nr, float *m, double *z, size_t pos0)
{
    const tpe_kernels *k = tpe_kernels_get();
    size_t t, v;
    memcpy(m, L, nr * sizeof *m);
    for (v = 1; v < V; v++) k->smax_into(nr, L + v * nr, m);
    memset(z, 0, nr * sizeof *z);
    for (v = 0; v < V; v++) k->sexp_sub_acc(nr, L + v * nr, m, L + v * nr, z);
    for (t = 0; t < nr; t++) {
        /* an infinite or NaN logit makes the max or the sum non-finite */
        if (!isfinite(m[t]) || !isfinite(z[t]))
            return tpe_error(TPE_ENUMERIC, "position %zu: the logits are not finite", pos0 + t);
        z[t] = 1.0 / z[t];
    }
    return TPE_OK;
}

int tpe_head_softmax_sum(const float *H, size_t N, size_t C, const float *E, const float *b, size_t V, double *sum)
{
    const tpe_kernels *k = tpe_kernels_get();
    size_t r0, t, v;
    float *L = tpe_alloc_array(V, TPE_HEAD_BLOCK * sizeof(float), "head logits");
    float *m = tpe_alloc_array(TPE_HEAD_BLOCK, sizeof(float), "column maxima");
    double *z = tpe_alloc_array(TPE_HEAD_BLOCK, sizeof(double), "column sums");
    int rc = TPE_OK;
    if (!L || !m || !z) {
        rc = TPE_ENOMEM;
        goto done;
    }
    for (r0 = 0; r0 < N; r0 += TPE_HEAD_BLOCK) {
        size_t nr = N - r0 < TPE_HEAD_BLOCK ? N - r0 : TPE_HEAD_BLOCK;
        /* L (V, nr) = E H[r0 : r0 + nr]^T (+ b): column t is position r0 + t */
        tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, V, nr, C, 1.0f, E, C, H + r0 * C, C, 0.0f, L, nr);
        if (b)
            for (v = 0; v < V; v++)
                for (t = 0; t < nr; t++) L[v * nr + t] += b[v];
        if ((rc = tpe_softmax_cols(L, V, nr, m, z, r0)) != TPE_OK) goto done;
        for (v = 0; v < V; v++) sum[v] += k->sdot_f64(nr, L + v * nr, z);
    }
done:
    tpe_free(L);
    tpe_free(m);
    tpe_free(z);
    return rc;
}

int tpe_head_softmax_sum_f64(const double *H, size_t N, size_t C, const double *E, const double *b, size_t V,
                             double *sum)
{
    double *row = tpe_alloc_array(V, sizeof(double), "head logits");
    size_t n, v, c;
    if (!row) return TPE_ENOMEM;
    for (n = 0; n < N; n++) {
        const double *h = H + n * C;
        double mx = -HUGE_VAL, Z = 0.0;
        for (v = 0; v < V; v++) {
            double s = b ? b[v] : 0.0;
            for (c = 0; c < C; c++) s += E[v * C + c] * h[c];
            row[v] = s;
            if (s > mx) mx = s;
        }
        if (!isfinite(mx)) {
            tpe_free(row);
            return tpe_error(TPE_ENUMERIC, "position %zu: the logits are not finite", n);
        }
        for (v = 0; v < V; v++) Z += row[v] = exp(row[v] - mx);
        for (v = 0; v < V; v++) sum[v] += row[v] / Z;
    }
    tpe_free(row);
    return TPE_OK;
}

/* ---- per-token statistics of log p (tpe explain) ------------------------- */

void tpe_logp_stats_free(tpe_logp_stats *s)
{
    if (!s) return;
    tpe_free(s->p_sum);
    tpe_free(s->shift);
    tpe_free(s->d_sum);
    tpe_free(s->d_sq);
    tpe_free(s->lp_min);
    tpe_free(s->lp_max);
    memset(s, 0, sizeof *s);
}

int tpe_logp_stats_init(tpe_logp_stats *s, size_t V)
{
    memset(s, 0, sizeof *s);
    s->V = V;
    s->p_sum = tpe_calloc_array(V, sizeof *s->p_sum, "sums of p");
    s->shift = tpe_calloc_array(V, sizeof *s->shift, "log p shifts");
    s->d_sum = tpe_calloc_array(V, sizeof *s->d_sum, "sums of log p");
    s->d_sq = tpe_calloc_array(V, sizeof *s->d_sq, "sums of squares of log p");
    s->lp_min = tpe_alloc_array(V, sizeof *s->lp_min, "minima of log p");
    s->lp_max = tpe_alloc_array(V, sizeof *s->lp_max, "maxima of log p");
    if (!s->p_sum || !s->shift || !s->d_sum || !s->d_sq || !s->lp_min || !s->lp_max) {
        tpe_logp_stats_free(s);
        return TPE_ENOMEM;
    }
    return TPE_OK;
}

/* One block: L (V, nr) double logits, bias included (column t is position
 * s->n + t); P (V, nr) scratch; m, z, lz (nr) scratch. */
static int logp_block(tpe_logp_stats *s, double *L, double *P, size_t nr, double *m, double *z, double *lz,
                      double *logz)
{
    size_t V = s->V, v, t;
    for (t = 0; t < nr; t++) m[t] = L[t];
    for (v = 1; v < V; v++)
        for (t = 0; t < nr; t++)
            if (L[v * nr + t] > m[t]) m[t] = L[v * nr + t];
    for (t = 0; t < nr; t++) z[t] = 0.0;
    /* x = l - m, e = exp(x), sum_v e */
    for (v = 0; v < V; v++)
        for (t = 0; t < nr; t++) {
            double x = L[v * nr + t] - m[t];
            L[v * nr + t] = x;
            z[t] += P[v * nr + t] = exp(x);
        }
    for (t = 0; t < nr; t++) {
        /* a NaN or infinite logit makes the max or the sum non-finite */
        if (!isfinite(m[t]) || !isfinite(z[t]))
            return tpe_error(TPE_ENUMERIC, "position %zu: the logits are not finite", s->n + t);
        lz[t] = log(z[t]); /* log Z_n - m_n */
        z[t] = 1.0 / z[t];
        if (logz) logz[t] = m[t] + lz[t];
        s->logz_sum += m[t] + lz[t];
    }
    if (s->n == 0) /* the shifts K_v: log p at the very first position */
        for (v = 0; v < V; v++) {
            s->shift[v] = L[v * nr] - lz[0];
            s->lp_min[v] = s->lp_max[v] = s->shift[v];
        }
    for (v = 0; v < V; v++) {
        const double *x = L + v * nr, *e = P + v * nr;
        double K = s->shift[v], ps = 0.0, ds = 0.0, dq = 0.0, lo = s->lp_min[v], hi = s->lp_max[v];
        for (t = 0; t < nr; t++) {
            double lp = x[t] - lz[t], d = lp - K; /* Eq. 1: log p = l - log Z */
            ps += e[t] * z[t];
            ds += d;
            dq += d * d;
            if (lp < lo) lo = lp;
            if (lp > hi) hi = lp;
        }
        s->p_sum[v] += ps;
        s->d_sum[v] += ds;
        s->d_sq[v] += dq;
        s->lp_min[v] = lo;
        s->lp_max[v] = hi;
    }
    s->n += nr;
    return TPE_OK;
}

/* bias (double) into the logits block */
static void add_bias(double *L, size_t V, size_t nr, const float *b32, const double *b64)
{
    size_t v, t;
    for (v = 0; v < V; v++) {
        double bv = b32 ? (double)b32[v] : b64[v];
        for (t = 0; t < nr; t++) L[v * nr + t] += bv;
    }
}

static int logp_acc(tpe_logp_stats *s, const float *H32, const double *H64, size_t N, size_t C, const float *E32,
                    const double *E64, const float *b32, const double *b64, double *logz)
{
    size_t V = s->V, B = TPE_LOGP_BLOCK, r0, i;
    double *L = tpe_alloc_array(V, B * sizeof *L, "head logits");
    double *P = tpe_alloc_array(V, B * sizeof *P, "head exponentials");
    float *Lf = H32 ? tpe_alloc_array(V, B * sizeof *Lf, "head logits (float)") : NULL;
    double *m = tpe_alloc_array(3 * B, sizeof *m, "softmax columns");
    int rc = TPE_OK;
    if (!L || !P || !m || (H32 && !Lf)) {
        rc = TPE_ENOMEM;
        goto done;
    }
    for (r0 = 0; r0 < N && !rc; r0 += B) {
        size_t nr = N - r0 < B ? N - r0 : B;
        /* L (V, nr) = E H[r0 : r0 + nr]^T: column t is position r0 + t */
        if (H32) {
            tpe_sgemm(TPE_NO_TRANS, TPE_TRANS, V, nr, C, 1.0f, E32, C, H32 + r0 * C, C, 0.0f, Lf, nr);
            for (i = 0; i < V * nr; i++) L[i] = (double)Lf[i];
        } else {
            tpe_dgemm(TPE_NO_TRANS, TPE_TRANS, V, nr, C, 1.0, E64, C, H64 + r0 * C, C, 0.0, L, nr);
        }
        if (b32 || b64) add_bias(L, V, nr, b32, b64);
        rc = logp_block(s, L, P, nr, m, m + B, m + 2 * B, logz ? logz + r0 : NULL);
    }
done:
    tpe_free(L);
    tpe_free(P);
    tpe_free(Lf);
    tpe_free(m);
    return rc;
}

int tpe_head_logp_acc(tpe_logp_stats *s, const float *H, size_t N, size_t C, const float *E, const float *b,
                      double *logz)
{
    return logp_acc(s, H, NULL, N, C, E, NULL, b, NULL, logz);
}

int tpe_head_logp_acc_f64(tpe_logp_stats *s, const double *H, size_t N, size_t C, const double *E, const double *b,
                          double *logz)
{
    return logp_acc(s, NULL, H, N, C, NULL, E, NULL, b, logz);
}

void tpe_logp_stats_token(const tpe_logp_stats *s, size_t v, double *mean, double *var)
{
    double n = (double)s->n, dm = s->d_sum[v] / n, q = s->d_sq[v] / n - dm * dm;
    *mean = s->shift[v] + dm;
    *var = q > 0.0 ? q : 0.0;
}
