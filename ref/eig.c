/*
 * eig.c -- the dense symmetric eigensolver (see eig.h): Householder
 * tridiagonalization, implicit QR with Wilkinson shifts, back-transform.
 * Column-major throughout, as qr.c.
 */
#include "eig.h"

#include "cpu.h"
#include "qr.h"
#include "tpe.h"

#include <float.h>
#include <math.h>
#include <string.h>

/*
 * Reduce the symmetric A (lower triangle) to T = Q^T A Q, Q = H_0 ... H_{n-3},
 * H_j = I - tau_j v v^T acting on rows j+1.. (dsytd2, 'L'). Step j, with
 * S = A[j+1:, j+1:] and v from the column below the diagonal:
 *     p = tau S v,  w = p - (tau/2)(p^T v) v,  S <- S - v w^T - w v^T,
 * done on the lower triangle only (GVL Algorithm 8.3.1).
 */
void tpe_sytrd(size_t n, double *A, size_t lda, double *d, double *e, double *tau)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t j, c;
    double *p = NULL;
    if (n == 0) return;
    if (n > 2) p = tpe_alloc_array(n, sizeof *p, "tridiagonalization work");
    for (j = 0; j + 2 < n; j++) {
        size_t m = n - j - 1;
        double *a = A + (j + 1) + j * lda, *S = A + (j + 1) + (j + 1) * lda;
        tpe_householder(m, a, a + 1, 1, &tau[j]);
        e[j] = *a;
        if (tau[j] != 0.0 && p) {
            const double *v = a;
            double alpha;
            *a = 1.0;
            /* p = tau S v from the lower triangle: column c contributes
             * S[c:, c]^T v[c:] to p[c] and v[c] S[c+1:, c] to p[c+1:] */
            memset(p, 0, m * sizeof *p);
            for (c = 0; c < m; c++) {
                const double *col = S + c * lda;
                p[c] += col[c] * v[c] + (c + 1 < m ? kt->ddot(col + c + 1, v + c + 1, m - c - 1) : 0.0);
                if (c + 1 < m && v[c] != 0.0) kt->daxpy(m - c - 1, v[c], col + c + 1, p + c + 1);
            }
            for (c = 0; c < m; c++) p[c] *= tau[j];
            alpha = -0.5 * tau[j] * kt->ddot(p, v, m);
            kt->daxpy(m, alpha, v, p); /* p is now w */
            /* S -= v w^T + w v^T, lower triangle */
            for (c = 0; c < m; c++) {
                double *col = S + c * lda;
                kt->daxpy(m - c, -p[c], v + c, col + c);
                kt->daxpy(m - c, -v[c], p + c, col + c);
            }
            *a = e[j];
        }
        d[j] = A[j + j * lda];
    }
    if (n >= 2) {
        d[n - 2] = A[(n - 2) + (n - 2) * lda];
        e[n - 2] = A[(n - 1) + (n - 2) * lda];
        tau[n - 2] = 0.0;
    }
    d[n - 1] = A[(n - 1) + (n - 1) * lda];
    tpe_free(p);
}

/* e[i] is negligible next to its diagonal neighbours */
static int negligible(const double *d, const double *e, size_t i)
{
    return fabs(e[i]) <= DBL_EPSILON * (fabs(d[i]) + fabs(d[i + 1])) || fabs(e[i]) < DBL_MIN;
}

/*
 * Implicit symmetric QR (GVL Algorithm 8.3.2 with deflation, 8.3.3): on the
 * lowest unreduced block [start, end], one sweep chases the bulge of the
 * first Givens rotation, chosen from T - mu I with the Wilkinson shift mu
 * (the eigenvalue of the trailing 2 x 2 closer to T[end, end]), down the
 * block. A rotation G_k = [c -s; s c] on rows/columns k, k+1 maps
 *     d_k     <- c^2 d_k + 2cs e_k + s^2 d_{k+1}
 *     d_{k+1} <- s^2 d_k - 2cs e_k + c^2 d_{k+1}
 *     e_k     <- cs (d_{k+1} - d_k) + (c^2 - s^2) e_k
 * and creates the bulge s e_{k+1} at (k, k+2), which G_{k+1} removes. Z
 * accumulates Z <- Z G_start ... G_{end-1}.
 */
/* Rotations of up to BATCH sweeps are kept and applied to Z together, ROWS
 * rows at a time: the rows' slice of the columns the batch touches is
 * copied into a contiguous buffer (ROWS x ncols, column-major), every sweep
 * of the batch passes over it while it sits in L1/L2, and it is copied
 * back. The T updates do not depend on Z, so nothing waits; Z streams
 * through the cache once per batch instead of once per sweep, and the
 * buffer's columns are adjacent (no page-strided access for large n). */
#define BATCH 96
#define ROWS 16

typedef struct sweep_batch {
    size_t count, used;
    size_t start[BATCH], len[BATCH], off[BATCH];
    double *c, *s; /* BATCH * n each */
    double *buf;   /* ROWS * n */
} sweep_batch;

static void flush_batch(const tpe_kernels *kt, sweep_batch *b, size_t n, double *Z, size_t ldz)
{
    size_t i0, j, r, c, cmin = n, cmax = 0;
    for (j = 0; j < b->count; j++) {
        if (b->start[j] < cmin) cmin = b->start[j];
        if (b->start[j] + b->len[j] + 1 > cmax) cmax = b->start[j] + b->len[j] + 1;
    }
    for (i0 = 0; i0 < n && b->count; i0 += ROWS) {
        size_t rows = n - i0 < ROWS ? n - i0 : ROWS;
        for (c = cmin; c < cmax; c++)
            for (r = 0; r < rows; r++) b->buf[r + (c - cmin) * ROWS] = Z[i0 + r + c * ldz];
        for (j = 0; j < b->count; j++)
            kt->drot_seq(rows, b->len[j], b->c + b->off[j], b->s + b->off[j], b->buf + (b->start[j] - cmin) * ROWS,
                         ROWS);
        for (c = cmin; c < cmax; c++)
            for (r = 0; r < rows; r++) Z[i0 + r + c * ldz] = b->buf[r + (c - cmin) * ROWS];
    }
    b->count = b->used = 0;
}

int tpe_steqr(size_t n, double *d, double *e, double *Z, size_t ldz)
{
    const tpe_kernels *kt = tpe_kernels_get();
    size_t end, start, k, sweeps = 0, max_sweeps = 30 * n + 30, i;
    sweep_batch b;
    if (n <= 1) return TPE_OK;
    memset(&b, 0, sizeof b);
    b.c = tpe_alloc_array((size_t)BATCH * n, sizeof *b.c, "QR rotations");
    b.s = tpe_alloc_array((size_t)BATCH * n, sizeof *b.s, "QR rotations");
    b.buf = tpe_alloc_array((size_t)ROWS * n, sizeof *b.buf, "QR rotation block");
    if (!b.c || !b.s || !b.buf) {
        tpe_free(b.c);
        tpe_free(b.s);
        tpe_free(b.buf);
        return TPE_ENOMEM;
    }
    end = n - 1;
    while (end > 0) {
        double delta, bb, mu, x, z, *cs, *ss;
        if (negligible(d, e, end - 1)) {
            e[end - 1] = 0.0;
            end--;
            continue;
        }
        for (start = end - 1; start > 0; start--)
            if (negligible(d, e, start - 1)) {
                e[start - 1] = 0.0;
                break;
            }
        if (++sweeps > max_sweeps) {
            tpe_free(b.c);
            tpe_free(b.s);
            tpe_free(b.buf);
            return tpe_error(TPE_ENUMERIC, "symmetric QR: no convergence after %zu sweeps (block %zu..%zu)",
                             sweeps - 1, start, end);
        }
        if (b.count == BATCH) {
            if (Z) flush_batch(kt, &b, n, Z, ldz);
            b.count = b.used = 0;
        }
        cs = b.c + b.used;
        ss = b.s + b.used;
        /* Wilkinson shift from the trailing 2 x 2 [a b; b c] */
        delta = 0.5 * (d[end - 1] - d[end]);
        bb = e[end - 1];
        mu = d[end] - bb * (bb / (delta + copysign(hypot(delta, bb), delta)));
        x = d[start] - mu;
        z = e[start];
        for (k = start; k < end; k++) {
            double r = hypot(x, z), c, s, a0, e0, a1, cs2;
            if (r == 0.0) {
                c = 1.0;
                s = 0.0;
            } else {
                c = x / r;
                s = z / r;
            }
            if (k > start) e[k - 1] = r;
            a0 = d[k];
            e0 = e[k];
            a1 = d[k + 1];
            cs2 = 2.0 * c * s * e0;
            d[k] = c * c * a0 + cs2 + s * s * a1;
            d[k + 1] = s * s * a0 - cs2 + c * c * a1;
            e[k] = c * s * (a1 - a0) + (c * c - s * s) * e0;
            if (k + 1 < end) {
                x = e[k];
                z = s * e[k + 1];
                e[k + 1] *= c;
            }
            cs[k - start] = c;
            ss[k - start] = s;
        }
        b.start[b.count] = start;
        b.len[b.count] = end - start;
        b.off[b.count] = b.used;
        b.used += end - start;
        b.count++;
    }
    if (Z && b.count) flush_batch(kt, &b, n, Z, ldz);
    tpe_free(b.c);
    tpe_free(b.s);
    tpe_free(b.buf);
    /* ascending order (selection sort: at most n - 1 column swaps) */
    for (i = 0; i + 1 < n; i++) {
        size_t best = i;
        for (k = i + 1; k < n; k++)
            if (d[k] < d[best]) best = k;
        if (best != i) {
            double t = d[i];
            d[i] = d[best];
            d[best] = t;
            if (Z)
                for (k = 0; k < n; k++) {
                    t = Z[k + i * ldz];
                    Z[k + i * ldz] = Z[k + best * ldz];
                    Z[k + best * ldz] = t;
                }
        }
    }
    return TPE_OK;
}

int tpe_syev(size_t n, double *A, size_t lda, double *w, double *Z, size_t ldz)
{
    double *e, *tau;
    size_t i, j;
    int rc;
    if (n == 0) return TPE_OK;
    for (j = 0; j < n; j++)
        for (i = j; i < n; i++)
            if (!isfinite(A[i + j * lda]))
                return tpe_error(TPE_EINVAL, "eigenproblem: A[%zu,%zu] = %g is not finite", i, j, A[i + j * lda]);
    e = tpe_calloc_array(n, sizeof *e, "tridiagonal");
    tau = tpe_calloc_array(n, sizeof *tau, "tridiagonal reflectors");
    if (!e || !tau) {
        tpe_free(e);
        tpe_free(tau);
        return TPE_ENOMEM;
    }
    tpe_sytrd(n, A, lda, w, e, tau);
    if (Z) {
        for (j = 0; j < n; j++) {
            memset(Z + j * ldz, 0, n * sizeof *Z);
            Z[j + j * ldz] = 1.0;
        }
    }
    rc = tpe_steqr(n, w, e, Z, ldz);
    /* Z <- Q Z: the reflectors act on rows 1..n-1, stored like a QR of the
     * (n-1) x (n-2) block A[1:, 0:n-2] */
    if (!rc && Z && n > 2) rc = tpe_qr_apply(0, n - 1, n, n - 2, A + 1, lda, tau, Z + 1, ldz);
    tpe_free(e);
    tpe_free(tau);
    return rc;
}
