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
