/*
 * cmd_bench.c -- `tpe bench gemm M N K [--dtype f32|f64] [--json]`:
 * C (M x N) = A (M x K) B (K x N), row-major, one thread, best of several
 * timed runs; GFLOPS = 2 M N K / seconds / 1e9.
 */
#include "cli.h"
#include "cpu.h"
#include "gemm.h"
#include "json.h"
#include "platform.h"
#include "rng.h"
#include "tpe.h"

#include <stdio.h>
#include <string.h>

int tpe_cmd_bench_gemm(int argc, char **argv)
{
    int json = 0;
    const char *dtype = "f32";
    size_t reps = 5;
    double min_time = 0.2;
    size_t threads = 1;
    int trans_a = 0, trans_b = 0;
    const tpe_opt opts[] = {
        {"--trans-a", TPE_OPT_FLAG, &trans_a, NULL, "A is stored K x M (op(A) = A^T)"},
        {"--trans-b", TPE_OPT_FLAG, &trans_b, NULL, "B is stored N x K (op(B) = B^T), as nn.Linear weights are"},
        {"--threads", TPE_OPT_SIZE, &threads, "N", "threads in an OpenMP build (default 1, as SPEC fixes)"},
        {"--dtype", TPE_OPT_STR, &dtype, "f32|f64", "element type (default f32)"},
        {"--reps", TPE_OPT_SIZE, &reps, "R", "timed runs, best is reported (default 5)"},
        {"--min-time", TPE_OPT_F64, &min_time, "S", "each timed run repeats the product for at least S seconds (default 0.2)"},
        {"--json", TPE_OPT_FLAG, &json, NULL, "one JSON object on stdout"},
    };
    const tpe_cmdspec spec = {"bench gemm", "M N K", "Time C(MxN) = A(MxK) B(KxN), row-major, on one thread.",
                              "Reports the best of --reps runs; each run repeats the product until --min-time has\n"
                              "passed and divides. Inputs are uniform in [-1, 1) from a fixed seed.",
                              opts, TPE_NOPTS(opts), 3, 3};
    char *pos[3];
    size_t npos, m, n, k, i, esz, iters = 0, lda, ldb;
    tpe_trans ta, tb;
    int f64, rc = tpe_cli_parse(&spec, argc, argv, pos, &npos);
    void *A = NULL, *B = NULL, *C = NULL;
    double best = 1e300, flops;
    tpe_rng rng;
    if (rc) return rc < 0 ? 0 : rc;
    if (tpe_cli_size(pos[0], &m) || tpe_cli_size(pos[1], &n) || tpe_cli_size(pos[2], &k) || !m || !n || !k)
        return tpe_cli_usage(spec.cmd, "M, N and K must be positive integers");
    if (strcmp(dtype, "f32") != 0 && strcmp(dtype, "f64") != 0)
        return tpe_cli_usage(spec.cmd, "--dtype must be f32 or f64, got '%s'", dtype);
    if (reps == 0) return tpe_cli_usage(spec.cmd, "--reps must be at least 1");
    f64 = strcmp(dtype, "f64") == 0;
    ta = trans_a ? TPE_TRANS : TPE_NO_TRANS;
    tb = trans_b ? TPE_TRANS : TPE_NO_TRANS;
    lda = trans_a ? m : k;
    ldb = trans_b ? k : n;
    esz = f64 ? sizeof(double) : sizeof(float);
    {
        size_t am, bm, cm;
        if (tpe_size_mul(m, k, &am) || tpe_size_mul(k, n, &bm) || tpe_size_mul(m, n, &cm)) {
            tpe_error(TPE_ENOMEM, "%zu x %zu x %zu is too large", m, n, k);
            return tpe_cli_fail(spec.cmd);
        }
        A = tpe_alloc_array(am, esz, "A");
        B = tpe_alloc_array(bm, esz, "B");
        C = tpe_alloc_array(cm, esz, "C");
        if (!A || !B || !C) {
            tpe_free(A);
            tpe_free(B);
            tpe_free(C);
            return tpe_cli_fail(spec.cmd);
        }
        tpe_rng_seed(&rng, 42);
        for (i = 0; i < am; i++) {
            double v = 2.0 * tpe_rng_uniform(&rng) - 1.0;
            if (f64) ((double *)A)[i] = v;
            else ((float *)A)[i] = (float)v;
        }
        for (i = 0; i < bm; i++) {
            double v = 2.0 * tpe_rng_uniform(&rng) - 1.0;
            if (f64) ((double *)B)[i] = v;
            else ((float *)B)[i] = (float)v;
        }
    }
    if (threads == 0 || threads > 1024) return tpe_cli_usage(spec.cmd, "--threads must be between 1 and 1024");
    tpe_set_threads((int)threads);
    /* one untimed run warms caches and page tables */
#define BENCH_PRODUCT()                                                                                           \
    do {                                                                                                         \
        if (f64) tpe_dgemm(ta, tb, m, n, k, 1.0, A, lda, B, ldb, 0.0, C, n);                                     \
        else tpe_sgemm(ta, tb, m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, n);                                      \
    } while (0)
    BENCH_PRODUCT();
    for (i = 0; i < reps; i++) {
        double t0 = tpe_now(), t;
        size_t it = 0;
        do {
            BENCH_PRODUCT();
            it++;
            t = tpe_now() - t0;
        } while (t < min_time);
        t /= (double)it;
        iters += it;
        if (t < best) best = t;
    }
    flops = 2.0 * (double)m * (double)n * (double)k;
    if (json) {
        tpe_jw w;
        tpe_jw_init(&w, stdout);
        tpe_jw_object(&w);
        tpe_jw_key(&w, "m");
        tpe_jw_int(&w, (long long)m);
        tpe_jw_key(&w, "n");
        tpe_jw_int(&w, (long long)n);
        tpe_jw_key(&w, "k");
        tpe_jw_int(&w, (long long)k);
        tpe_jw_key(&w, "dtype");
        tpe_jw_string(&w, dtype);
        tpe_jw_key(&w, "simd");
        tpe_jw_string(&w, tpe_kernels_get()->name);
        tpe_jw_key(&w, "gflops");
        tpe_jw_number(&w, flops / best / 1e9);
        tpe_jw_key(&w, "seconds");
        tpe_jw_number(&w, best);
        tpe_jw_key(&w, "trans_a");
        tpe_jw_bool(&w, trans_a);
        tpe_jw_key(&w, "trans_b");
        tpe_jw_bool(&w, trans_b);
        tpe_jw_key(&w, "threads");
        tpe_jw_int(&w, tpe_threads());
        tpe_jw_key(&w, "runs");
        tpe_jw_int(&w, (long long)iters);
        tpe_jw_object_end(&w);
        tpe_jw_end(&w);
    } else {
        printf("%sgemm%s %zux%zux%zu %s on %s, %d thread%s: %.2f GFLOPS (best of %zu, %.3f ms per product)\n",
               f64 ? "d" : "s", trans_a ? (trans_b ? " (A^T B^T)" : " (A^T B)") : (trans_b ? " (A B^T)" : ""), m, n, k, dtype,
               tpe_kernels_get()->name, tpe_threads(), tpe_threads() == 1 ? "" : "s",
               flops / best / 1e9, reps, best * 1e3);
    }
    tpe_free(A);
    tpe_free(B);
    tpe_free(C);
    return 0;
}
