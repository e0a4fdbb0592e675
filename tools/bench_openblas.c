/*
 * tools/bench_openblas.c -- the comparison side of `make bench`: times
 * OpenBLAS's cblas_[sd]gemm on C(MxN) = A(MxK) B(KxN), row-major, the way
 * `tpe bench gemm` times tpe (best of R runs, each repeating the product for
 * at least 0.2 s, after one warm-up product, inputs uniform in [-1, 1)).
 * Built by tools/bench.sh against libopenblas-dev when it is installed;
 * never linked into tpe.
 *
 * usage: bench_openblas M N K f32|f64 [reps]    prints GFLOPS
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
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

int main(int argc, char **argv)
{
    size_t m, n, k, i;
    int f64, r, reps;
    double best = 1e300;
    void *A, *B, *C;
    if (argc < 5) {
        fprintf(stderr, "usage: %s M N K f32|f64 [reps]\n", argv[0]);
        return 2;
    }
    m = strtoul(argv[1], NULL, 10);
    n = strtoul(argv[2], NULL, 10);
    k = strtoul(argv[3], NULL, 10);
    f64 = strcmp(argv[4], "f64") == 0;
    reps = argc > 5 ? atoi(argv[5]) : 5;
    A = malloc(m * k * (f64 ? 8 : 4));
    B = malloc(k * n * (f64 ? 8 : 4));
    C = malloc(m * n * (f64 ? 8 : 4));
    srand(42);
    for (i = 0; i < m * k; i++) {
        double v = 2.0 * rand() / ((double)RAND_MAX + 1.0) - 1.0;
        if (f64) ((double *)A)[i] = v; else ((float *)A)[i] = (float)v;
    }
    for (i = 0; i < k * n; i++) {
        double v = 2.0 * rand() / ((double)RAND_MAX + 1.0) - 1.0;
        if (f64) ((double *)B)[i] = v; else ((float *)B)[i] = (float)v;
    }
#define RUN()                                                                                                    \
    do {                                                                                                         \
        if (f64) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, A, (int)k, B, (int)n, 0.0, C, (int)n); \
        else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, A, (int)k, B, (int)n, 0.0f, C, (int)n); \
    } while (0)
    RUN();
    for (r = 0; r < reps; r++) {
        double t0 = now(), t;
        long it = 0;
        do {
            RUN();
            it++;
            t = now() - t0;
        } while (t < 0.2);
        t /= (double)it;
        if (t < best) best = t;
    }
    printf("%.2f\n", 2.0 * (double)m * (double)n * (double)k / best / 1e9);
    free(A);
    free(B);
    free(C);
    return 0;
}
