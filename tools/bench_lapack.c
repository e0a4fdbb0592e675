/*
 * tools/bench_lapack.c -- the LAPACK side of `make bench` for least squares
 * and PCA (tools/bench.sh builds it against OpenBLAS + LAPACKE when they are
 * installed and runs it beside tpe; never linked into tpe).
 * Inputs come from tools/gen_bench_data.c (X.npy N x D, y.npy N).
 *
 *   bench_lapack dgels X.npy y.npy [reps]
 *                                 least squares of y on [1, X] (N x (D+1)) by
 *                                 LAPACKE_dgels (column-major, as LAPACK wants):
 *                                 prints the best seconds of the solve alone
 *   bench_lapack pca X.npy [reps] centre X, C = Xc^T Xc / (N-1) by cblas_dsyrk,
 *                                 all eigenpairs by LAPACKE_dsyevd: prints the
 *                                 best seconds of dsyrk + dsyevd (and each)
 *
 * Timing excludes reading the file and the layout copy LAPACK needs; run
 * with OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell (tools/bench.sh).
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* reads a little-endian '<f8' C-order .npy of 1 or 2 dimensions (our own files) */
static double *read_npy(const char *path, size_t *rows, size_t *cols)
{
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    char hdr[1024];
    size_t hl, n;
    double *x;
    const char *s;
    if (!f || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) return NULL;
    hl = (size_t)pre[8] | ((size_t)pre[9] << 8);
    if (hl >= sizeof hdr || fread(hdr, 1, hl, f) != hl) return NULL;
    hdr[hl] = '\0';
    if (!strstr(hdr, "'<f8'") || !(s = strstr(hdr, "'shape': ("))) return NULL;
    s += 10;
    *rows = strtoul(s, (char **)&s, 10);
    *cols = 1;
    if (*s == ',' && s[1] == ' ' && s[2] != ')') *cols = strtoul(s + 2, NULL, 10);
    n = *rows * *cols;
    x = malloc(n * sizeof *x);
    if (!x || fread(x, sizeof *x, n, f) != n) return NULL;
    fclose(f);
    return x;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "dgels") == 0) {
        size_t n, d, ny, one, i, j;
        int r, reps = argc > 4 ? atoi(argv[4]) : 1;
        double *X = read_npy(argv[2], &n, &d), *y = read_npy(argv[3], &ny, &one), best = 1e300;
        double *A, *b;
        if (!X || !y || ny != n) {
            fprintf(stderr, "bench_lapack: cannot read %s / %s\n", argv[2], argv[3]);
            return 1;
        }
        A = malloc(n * (d + 1) * sizeof *A);
        b = malloc(n * sizeof *b);
        for (r = 0; r < reps; r++) {
            double t0;
            int info;
            /* column-major [1, X] */
            for (i = 0; i < n; i++) A[i] = 1.0;
            for (j = 0; j < d; j++)
                for (i = 0; i < n; i++) A[(j + 1) * n + i] = X[i * d + j];
            memcpy(b, y, n * sizeof *b);
            t0 = now();
            info = LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)n, (lapack_int)(d + 1), 1, A, (lapack_int)n, b,
                                 (lapack_int)n);
            t0 = now() - t0;
            if (info != 0) {
                fprintf(stderr, "bench_lapack: dgels info %d\n", info);
                return 1;
            }
            if (t0 < best) best = t0;
        }
        printf("%.4f\n", best);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "pca") == 0) {
        size_t n, d, i, j;
        int r, reps = argc > 3 ? atoi(argv[3]) : 1;
        double *X = read_npy(argv[2], &n, &d), best = 1e300, bsyrk = 0, bsyev = 0;
        double *Xc, *C, *w, *mu;
        if (!X) {
            fprintf(stderr, "bench_lapack: cannot read %s\n", argv[2]);
            return 1;
        }
        Xc = malloc(n * d * sizeof *Xc);
        C = malloc(d * d * sizeof *C);
        w = malloc(d * sizeof *w);
        mu = calloc(d, sizeof *mu);
        for (i = 0; i < n; i++)
            for (j = 0; j < d; j++) mu[j] += X[i * d + j];
        for (j = 0; j < d; j++) mu[j] /= (double)n;
        for (r = 0; r < reps; r++) {
            double t0, t1, t2;
            int info;
            for (i = 0; i < n; i++)
                for (j = 0; j < d; j++) Xc[i * d + j] = X[i * d + j] - mu[j];
            t0 = now();
            cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)d, (int)n, 1.0 / (double)(n - 1), Xc, (int)d, 0.0,
                        C, (int)d);
            t1 = now();
            info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'L', (lapack_int)d, C, (lapack_int)d, w);
            t2 = now();
            if (info != 0) {
                fprintf(stderr, "bench_lapack: dsyevd info %d\n", info);
                return 1;
            }
            if (t2 - t0 < best) {
                best = t2 - t0;
                bsyrk = t1 - t0;
                bsyev = t2 - t1;
            }
        }
        printf("%.4f %.4f %.4f %.10g\n", best, bsyrk, bsyev, w[d - 1]);
        return 0;
    }
    fprintf(stderr, "usage: bench_lapack dgels X.npy y.npy [reps] | pca X.npy [reps]\n");
    return 2;
}
