/*
 * cmd_bench_lstsq.c -- `tpe bench lstsq X.npy y.npy [--reps R] [--json]`:
 * the tpe side of the least-squares benchmark in `make bench`. Times what
 * LAPACK's dgels does for y ~ [1, X] (tools/bench_lapack.c dgels): blocked
 * Householder QR of the n x (k+1) column-major matrix, Q^T y, and the
 * triangular solve, on one thread; the layout copy is not timed (it is not
 * on the LAPACK side either). Best of --reps runs.
 */
#include "array.h"
#include "cli.h"
#include "cpu.h"
#include "json.h"
#include "platform.h"
#include "qr.h"
#include "tpe.h"

#include <stdio.h>
#include <string.h>

int tpe_cmd_bench_lstsq(int argc, char **argv)
{
    int json = 0;
    size_t reps = 1;
    const tpe_opt opts[] = {
        {"--reps", TPE_OPT_SIZE, &reps, "R", "timed runs, best is reported (default 1)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"bench lstsq", "X.npy y.npy",
                              "Time least squares y ~ [1, X] by blocked Householder QR on one thread.",
                              "The work of LAPACK's dgels: QR, Q^T y, back substitution (no statistics; see\n"
                              "`tpe ols` for the whole fit). 2 m n^2 - 2 n^3 / 3 flops for the QR.",
                              opts, TPE_NOPTS(opts), 2, 2};
    char *pos[2];
    size_t npos, n, k, p, i, j, r, sz;
    int rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    tpe_array X, y;
    double *A = NULL, *tau = NULL, *z = NULL, best = 1e300, flops;
    if (rc) return rc < 0 ? 0 : rc;
    if (reps == 0) return tpe_cli_usage(spec.cmd, "--reps must be at least 1");
    if (tpe_npy_read_f64(pos[0], &X)) return tpe_cli_fail(spec.cmd);
    if (tpe_npy_read_f64(pos[1], &y)) {
        tpe_array_free(&X);
        return tpe_cli_fail(spec.cmd);
    }
    if (X.ndim != 2 || y.ndim != 1 || y.shape[0] != X.shape[0] || X.shape[0] == 0) {
        tpe_error(TPE_EINVAL, "want X (n, k) and y (n,): got %d and %d dimensions", X.ndim, y.ndim);
        rc = 1;
    }
    n = X.ndim == 2 ? X.shape[0] : 0;
    k = X.ndim == 2 ? X.shape[1] : 0;
    p = k + 1;
    if (!rc && (tpe_size_mul(n, p, &sz) || !(A = tpe_alloc_array(sz, sizeof *A, "bench matrix")) ||
                !(tau = tpe_alloc_array(p, sizeof *tau, "bench tau")) || !(z = tpe_alloc_array(n, sizeof *z, "bench y"))))
        rc = 1;
    tpe_set_threads(1);
    for (r = 0; r < reps && !rc; r++) {
        const double *x = (const double *)X.data;
        double t0;
        /* column-major [1, X], untimed (as on the LAPACK side) */
        for (i = 0; i < n; i++) A[i] = 1.0;
        for (j = 0; j < k; j++)
            for (i = 0; i < n; i++) A[(j + 1) * n + i] = x[i * k + j];
        memcpy(z, y.data, n * sizeof *z);
        t0 = tpe_now();
        if (tpe_qr(n, p, A, n, tau) || tpe_qr_apply(1, n, 1, p < n ? p : n, A, n, tau, z, n) ||
            tpe_tri_solve(p < n ? p : n, A, n, z, 0.0, NULL))
            rc = 1;
        t0 = tpe_now() - t0;
        if (t0 < best) best = t0;
    }
    tpe_array_free(&X);
    tpe_array_free(&y);
    tpe_free(A);
    tpe_free(tau);
    tpe_free(z);
    if (rc) return tpe_cli_fail(spec.cmd);
    flops = 2.0 * (double)n * (double)p * (double)p - 2.0 * (double)p * (double)p * (double)p / 3.0;
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "m");
        tpe_jw_int(&w, (long long)n);
        tpe_jw_key(&w, "n");
        tpe_jw_int(&w, (long long)p);
        tpe_jw_key(&w, "simd");
        tpe_jw_string(&w, tpe_kernels_get()->name);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, best);
        tpe_jw_key(&w, "gflops");
        tpe_jw_number(&w, flops / best / 1e9);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("least squares %zu x %zu on %s, one thread: %.3f s (QR at %.1f GFLOPS)\n", n, p, tpe_kernels_get()->name,
               best, flops / best / 1e9);
    }
    return 0;
}
