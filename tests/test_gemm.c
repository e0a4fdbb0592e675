/*
 * test_gemm.c -- the blocked GEMM and the micro-kernels of the path under
 * test against the naive oracle and the scalar twins.
 *
 * Error bound: with u the unit roundoff and gamma_n = n u / (1 - n u), any
 * order of summation (with or without FMA) satisfies elementwise
 *     |fl(C) - C_exact| <= gamma_{k+2} (|alpha| |A||B| + |beta| |C0|)
 * (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., 3.5), so
 * two implementations differ by at most twice that. Every test prints the
 * worst |difference| / bound it saw; a value above 1 fails.
 */
#include "gemm.h"
#include "kernels_impl.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double gamma_n(double n, double u) { return n * u / (1.0 - n * u); }

typedef struct shape {
    size_t m, n, k;
} shape;

/* 1, 3, 7, 17, 65, 127 and 1000+; k > KC (256: 520 and 1029 make balanced
 * rank-K updates of 174 and 206), m > 2 MC (one row block up to 2 MC: 288
 * rows on AVX2 f32, 216 f64, 256 and 128 scalar), n > NC (4080).
 * B is packed by the fused kernel; these also cover its cases: one row
 * block (every fused panel of a thread in one slot) with several chunks of
 * 16 panels and a narrow last panel (130 x 260), several row blocks reusing
 * the packed panels (300 x 33, 310 x 530 with three chunks), and a last
 * row panel of 4 rows (130 = 21 * 6 + 4, 256 = 42 * 6 + 4: the AVX2 edge
 * kernel). */
static const shape shapes[] = {
    {1, 1, 1}, {3, 7, 17}, {17, 65, 3}, {65, 127, 7}, {127, 1, 65}, {1, 1031, 17}, {1031, 3, 5},
    {7, 17, 1029}, {130, 260, 300}, {300, 33, 520}, {13, 4100, 9}, {65, 65, 65}, {6, 16, 256}, {12, 32, 513},
    {310, 530, 40}, {256, 48, 7},
};

/* Runs one configuration; returns the worst |diff| / bound. */
static double run_sgemm(const tpe_kernels *kt, size_t m, size_t n, size_t k, tpe_trans ta, tpe_trans tb,
                        float alpha, float beta, size_t pad)
{
    size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t arows = ta ? k : m, brows = tb ? n : k;
    float *A = malloc(arows * lda * sizeof *A), *B = malloc(brows * ldb * sizeof *B);
    float *C = malloc(m * ldc * sizeof *C), *R = malloc(m * ldc * sizeof *R);
    double *mag = malloc(m * n * sizeof *mag), worst = 0.0;
    size_t i, j, p;
    tpe_rng *r = tt_rng();
    for (i = 0; i < arows * lda; i++) A[i] = (float)(2.0 * tpe_rng_uniform(r) - 1.0);
    for (i = 0; i < brows * ldb; i++) B[i] = (float)(2.0 * tpe_rng_uniform(r) - 1.0);
    for (i = 0; i < m * ldc; i++) R[i] = C[i] = beta == 0.0f ? NAN : (float)(2.0 * tpe_rng_uniform(r) - 1.0);
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            for (p = 0; p < k; p++)
                s += fabs((double)(ta ? A[p * lda + i] : A[i * lda + p])) * fabs((double)(tb ? B[j * ldb + p] : B[p * ldb + j]));
            mag[i * n + j] = fabs((double)alpha) * s + (beta == 0.0f ? 0.0 : fabs((double)beta) * fabs((double)C[i * ldc + j]));
        }
    tpe_sgemm_naive(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, R, ldc);
    tpe_sgemm_with(kt, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            double d = fabs((double)C[i * ldc + j] - (double)R[i * ldc + j]);
            double bound = 2.0 * gamma_n((double)k + 2.0, TT_EPS32) * mag[i * n + j] + 1e-300;
            if (!(d <= bound)) {
                tt_fail(__FILE__, __LINE__, "sgemm %zux%zux%zu ta=%d tb=%d beta=%g: C[%zu,%zu]=%.9g oracle %.9g bound %.3g",
                        m, n, k, ta, tb, (double)beta, i, j, (double)C[i * ldc + j], (double)R[i * ldc + j], bound);
                worst = 1e9;
                goto done;
            }
            if (d / bound > worst) worst = d / bound;
        }
        /* the padding between rows of C must be untouched */
        for (j = n; j < ldc; j++)
            if (memcmp(&C[i * ldc + j], &R[i * ldc + j], sizeof(float)) != 0) {
                tt_fail(__FILE__, __LINE__, "sgemm wrote outside C at [%zu,%zu]", i, j);
                goto done;
            }
    }
done:
    free(A);
    free(B);
    free(C);
    free(R);
    free(mag);
    return worst;
}

static double run_dgemm(const tpe_kernels *kt, size_t m, size_t n, size_t k, tpe_trans ta, tpe_trans tb,
                        double alpha, double beta, size_t pad)
{
    size_t lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    size_t arows = ta ? k : m, brows = tb ? n : k;
    double *A = malloc(arows * lda * sizeof *A), *B = malloc(brows * ldb * sizeof *B);
    double *C = malloc(m * ldc * sizeof *C), *R = malloc(m * ldc * sizeof *R);
    double *mag = malloc(m * n * sizeof *mag), worst = 0.0;
    size_t i, j, p;
    tpe_rng *r = tt_rng();
    for (i = 0; i < arows * lda; i++) A[i] = 2.0 * tpe_rng_uniform(r) - 1.0;
    for (i = 0; i < brows * ldb; i++) B[i] = 2.0 * tpe_rng_uniform(r) - 1.0;
    for (i = 0; i < m * ldc; i++) R[i] = C[i] = beta == 0.0 ? (double)NAN : 2.0 * tpe_rng_uniform(r) - 1.0;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            for (p = 0; p < k; p++) s += fabs(ta ? A[p * lda + i] : A[i * lda + p]) * fabs(tb ? B[j * ldb + p] : B[p * ldb + j]);
            mag[i * n + j] = fabs(alpha) * s + (beta == 0.0 ? 0.0 : fabs(beta) * fabs(C[i * ldc + j]));
        }
    tpe_dgemm_naive(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, R, ldc);
    tpe_dgemm_with(kt, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    for (i = 0; i < m; i++) {
        for (j = 0; j < n; j++) {
            double d = fabs(C[i * ldc + j] - R[i * ldc + j]);
            double bound = 2.0 * gamma_n((double)k + 2.0, TT_EPS64) * mag[i * n + j] + 1e-300;
            if (!(d <= bound)) {
                tt_fail(__FILE__, __LINE__, "dgemm %zux%zux%zu ta=%d tb=%d beta=%g: C[%zu,%zu]=%.17g oracle %.17g bound %.3g",
                        m, n, k, ta, tb, beta, i, j, C[i * ldc + j], R[i * ldc + j], bound);
                worst = 1e9;
                goto done;
            }
            if (d / bound > worst) worst = d / bound;
        }
        for (j = n; j < ldc; j++)
            if (memcmp(&C[i * ldc + j], &R[i * ldc + j], sizeof(double)) != 0) {
                tt_fail(__FILE__, __LINE__, "dgemm wrote outside C at [%zu,%zu]", i, j);
                goto done;
            }
    }
done:
    free(A);
    free(B);
    free(C);
    free(R);
    free(mag);
    return worst;
}

static void gemm_sweep(int dbl)
{
    const tpe_kernels *kt = tt_kernels();
    double worst = 0.0;
    size_t s, runs = 0;
    int t;
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const shape *sh = &shapes[s];
        if (tt_quick() && sh->m * sh->n * sh->k > 2000000) continue;
        for (t = 0; t < 8; t++) {
            tpe_trans ta = (t & 1) ? TPE_TRANS : TPE_NO_TRANS, tb = (t & 2) ? TPE_TRANS : TPE_NO_TRANS;
            double beta = (t & 4) ? 0.0 : 1.5, alpha = (t & 4) ? 1.0 : -0.75, w;
            size_t pad = (size_t)tpe_rng_below(tt_rng(), 6);
            w = dbl ? run_dgemm(kt, sh->m, sh->n, sh->k, ta, tb, alpha, beta, pad)
                    : run_sgemm(kt, sh->m, sh->n, sh->k, ta, tb, (float)alpha, (float)beta, pad);
            if (w > worst) worst = w;
            runs++;
        }
    }
    NOTE("%zu products, worst |diff|/bound %.3g", runs, worst);
}

TEST(gemm_f32_shapes_transposes_ld_beta) { gemm_sweep(0); }
TEST(gemm_f64_shapes_transposes_ld_beta) { gemm_sweep(1); }

/* alpha = 0 and k = 0 scale C by beta and never read A or B (NULL here);
 * beta = 0 then writes zeros over NaN. m = 0 or n = 0 touch nothing. */
TEST(gemm_degenerate_alpha0_k0)
{
    const tpe_kernels *kt = tt_kernels();
    float c[6];
    double d[6];
    size_t i;
    for (i = 0; i < 6; i++) {
        c[i] = NAN;
        d[i] = (double)i;
    }
    tpe_sgemm_with(kt, TPE_NO_TRANS, TPE_NO_TRANS, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 0.0f, c, 3);
    for (i = 0; i < 6; i++) CHECK(c[i] == 0.0f);
    tpe_dgemm_with(kt, TPE_NO_TRANS, TPE_NO_TRANS, 2, 3, 5, 0.0, NULL, 5, NULL, 3, 2.0, d, 3);
    for (i = 0; i < 6; i++) CHECK(d[i] == 2.0 * (double)i);
    tpe_dgemm_with(kt, TPE_NO_TRANS, TPE_NO_TRANS, 0, 3, 5, 1.0, NULL, 5, NULL, 3, 0.0, NULL, 3);
    tpe_dgemm_with(kt, TPE_NO_TRANS, TPE_NO_TRANS, 3, 0, 5, 1.0, NULL, 5, NULL, 3, 0.0, NULL, 3);
}

/* Exact small-integer products: every path must give the exact answer. */
TEST(gemm_exact_integers)
{
    const tpe_kernels *kt = tt_kernels();
    enum { M = 37, N = 41, K = 300 };
    static double A[M * K], B[K * N], C[M * N], R[M * N];
    static float As[M * K], Bs[K * N], Cs[M * N];
    size_t i;
    for (i = 0; i < M * K; i++) As[i] = (float)(A[i] = (double)((int)tpe_rng_below(tt_rng(), 17) - 8));
    for (i = 0; i < K * N; i++) Bs[i] = (float)(B[i] = (double)((int)tpe_rng_below(tt_rng(), 17) - 8));
    tpe_dgemm_naive(TPE_NO_TRANS, TPE_NO_TRANS, M, N, K, 1.0, A, K, B, N, 0.0, R, N);
    tpe_dgemm_with(kt, TPE_NO_TRANS, TPE_NO_TRANS, M, N, K, 1.0, A, K, B, N, 0.0, C, N);
    tpe_sgemm_with(kt, TPE_NO_TRANS, TPE_NO_TRANS, M, N, K, 1.0f, As, K, Bs, N, 0.0f, Cs, N);
    for (i = 0; i < M * N; i++) {
        CHECKF(C[i] == R[i], "dgemm C[%zu] = %g, exact %g", i, C[i], R[i]);
        CHECKF((double)Cs[i] == R[i], "sgemm C[%zu] = %g, exact %g", i, (double)Cs[i], R[i]);
    }
}

/* The micro-kernel of the path against its scalar twin on random panels. */
TEST(gemm_microkernel_vs_scalar_twin)
{
    const tpe_kernels *kt = tt_kernels();
    size_t kcs[] = {0, 1, 3, 4, 5, 17, 256};
    size_t t, i;
    double worst = 0.0;
    for (t = 0; t < sizeof kcs / sizeof kcs[0]; t++) {
        size_t kc = kcs[t], smr = kt->s_mr, snr = kt->s_nr, dmr = kt->d_mr, dnr = kt->d_nr, ldc = 19;
        float *a = malloc((kc * smr + 1) * sizeof *a), *b = malloc((kc * snr + 1) * sizeof *b);
        float *c = malloc(smr * ldc * sizeof *c), *r = malloc(smr * ldc * sizeof *r);
        double *ad = malloc((kc * dmr + 1) * sizeof *ad), *bd = malloc((kc * dnr + 1) * sizeof *bd);
        double *cd = malloc(dmr * ldc * sizeof *cd), *rd = malloc(dmr * ldc * sizeof *rd);
        int pass;
        for (i = 0; i < kc * smr; i++) a[i] = (float)(tpe_rng_uniform(tt_rng()) - 0.5);
        for (i = 0; i < kc * snr; i++) b[i] = (float)(tpe_rng_uniform(tt_rng()) - 0.5);
        for (i = 0; i < kc * dmr; i++) ad[i] = tpe_rng_uniform(tt_rng()) - 0.5;
        for (i = 0; i < kc * dnr; i++) bd[i] = tpe_rng_uniform(tt_rng()) - 0.5;
        for (pass = 0; pass < 2; pass++) {
            float beta = pass ? 0.5f : 0.0f;
            size_t row, col;
            for (i = 0; i < smr * ldc; i++) c[i] = r[i] = pass ? (float)i : NAN;
            for (i = 0; i < dmr * ldc; i++) cd[i] = rd[i] = pass ? (double)i : (double)NAN;
            kt->sgemm_ukr(kc, 1.25f, a, b, beta, c, ldc);
            tpe_sgemm_ukr_ref(smr, snr, kc, 1.25f, a, b, beta, r, ldc);
            kt->dgemm_ukr(kc, 1.25, ad, bd, (double)beta, cd, ldc);
            tpe_dgemm_ukr_ref(dmr, dnr, kc, 1.25, ad, bd, (double)beta, rd, ldc);
            for (row = 0; row < smr; row++)
                for (col = 0; col < snr; col++) {
                    /* |a|,|b| <= 1/2: |sum| <= kc/4; bound 2 gamma (|alpha| kc/4 + |beta c|) */
                    double bound = 2.0 * gamma_n((double)kc + 2.0, TT_EPS32) * (1.25 * (double)kc / 4.0 + 0.5 * (pass ? (double)(row * ldc + col) : 0.0)) + 1e-30;
                    double d = fabs((double)c[row * ldc + col] - (double)r[row * ldc + col]);
                    CHECKF(d <= bound, "sgemm ukr kc=%zu beta=%g [%zu,%zu]: %g vs %g", kc, (double)beta, row, col,
                           (double)c[row * ldc + col], (double)r[row * ldc + col]);
                    if (d / bound > worst) worst = d / bound;
                }
            for (row = 0; row < dmr; row++)
                for (col = 0; col < dnr; col++) {
                    double bound = 2.0 * gamma_n((double)kc + 2.0, TT_EPS64) * (1.25 * (double)kc / 4.0 + 0.5 * (pass ? (double)(row * ldc + col) : 0.0)) + 1e-300;
                    double d = fabs(cd[row * ldc + col] - rd[row * ldc + col]);
                    CHECKF(d <= bound, "dgemm ukr kc=%zu beta=%g [%zu,%zu]: %g vs %g", kc, (double)beta, row, col,
                           cd[row * ldc + col], rd[row * ldc + col]);
                    if (d / bound > worst) worst = d / bound;
                }
        }
        free(a); free(b); free(c); free(r); free(ad); free(bd); free(cd); free(rd);
    }
    NOTE("%s micro-kernels %zux%zu (f32), %zux%zu (f64); worst |diff|/bound %.3g", kt->name, kt->s_mr, kt->s_nr,
         kt->d_mr, kt->d_nr, worst);
}

/* The fused kernel (reads B unpacked, packs it as it goes) against its
 * definition (the scalar twin tpe_*gemm_ukr_pb_scalar is that, literally):
 * the packed panel must be the rows of B bit for bit, and C the same as the
 * plain kernel's (itself tested against the scalar twin above) on that
 * panel -- the same arithmetic in the same order, so bit-identical too. The edge kernel (the first
 * s_mr_edge rows of a tile) must give those rows of the full kernel's tile
 * exactly and leave the rows below untouched. */
TEST(gemm_fused_and_edge_kernels_vs_twins)
{
    const tpe_kernels *kt = tt_kernels();
    size_t kcs[] = {0, 1, 3, 4, 5, 17, 256};
    size_t t, i, checked = 0;
    for (t = 0; t < sizeof kcs / sizeof kcs[0]; t++) {
        size_t kc = kcs[t], smr = kt->s_mr, snr = kt->s_nr, dmr = kt->d_mr, dnr = kt->d_nr, ldc = 19;
        size_t sld = snr + 5, dld = dnr + 3; /* row strides of the unpacked B */
        float *a = malloc((kc * smr + 1) * sizeof *a), *b = malloc((kc * sld + 1) * sizeof *b);
        float *bp = malloc((kc * snr + 1) * sizeof *bp), *bq = malloc((kc * snr + 1) * sizeof *bq);
        float *c = malloc(smr * ldc * sizeof *c), *r = malloc(smr * ldc * sizeof *r);
        double *ad = malloc((kc * dmr + 1) * sizeof *ad), *bd = malloc((kc * dld + 1) * sizeof *bd);
        double *bpd = malloc((kc * dnr + 1) * sizeof *bpd), *bqd = malloc((kc * dnr + 1) * sizeof *bqd);
        double *cd = malloc(dmr * ldc * sizeof *cd), *rd = malloc(dmr * ldc * sizeof *rd);
        int pass;
        for (i = 0; i < kc * smr; i++) a[i] = (float)(tpe_rng_uniform(tt_rng()) - 0.5);
        for (i = 0; i < kc * sld; i++) b[i] = (float)(tpe_rng_uniform(tt_rng()) - 0.5);
        for (i = 0; i < kc * dmr; i++) ad[i] = tpe_rng_uniform(tt_rng()) - 0.5;
        for (i = 0; i < kc * dld; i++) bd[i] = tpe_rng_uniform(tt_rng()) - 0.5;
        for (pass = 0; pass < 2; pass++) {
            float beta = pass ? 0.5f : 0.0f;
            for (i = 0; i < kc * snr; i++) bp[i] = NAN;
            for (i = 0; i < kc * dnr; i++) bpd[i] = (double)NAN;
            for (i = 0; i < smr * ldc; i++) c[i] = r[i] = pass ? (float)i : NAN;
            for (i = 0; i < dmr * ldc; i++) cd[i] = rd[i] = pass ? (double)i : (double)NAN;
            /* the fused kernel of the path, and its definition: pack, then the plain kernel */
            kt->sgemm_ukr_pb(kc, 1.25f, a, b, sld, b, bp, beta, c, ldc);
            for (i = 0; i < kc * snr; i++) bq[i] = b[i / snr * sld + i % snr];
            kt->sgemm_ukr(kc, 1.25f, a, bq, beta, r, ldc);
            CHECKF(memcmp(bp, bq, kc * snr * sizeof *bp) == 0, "sgemm fused kc=%zu: packed panel differs", kc);
            CHECKF(memcmp(c, r, smr * ldc * sizeof *c) == 0, "sgemm fused kc=%zu beta=%g: C differs from the plain kernel's",
                   kc, (double)beta);
            kt->dgemm_ukr_pb(kc, 1.25, ad, bd, dld, bd, bpd, (double)beta, cd, ldc);
            for (i = 0; i < kc * dnr; i++) bqd[i] = bd[i / dnr * dld + i % dnr];
            kt->dgemm_ukr(kc, 1.25, ad, bqd, (double)beta, rd, ldc);
            CHECKF(memcmp(bpd, bqd, kc * dnr * sizeof *bpd) == 0, "dgemm fused kc=%zu: packed panel differs", kc);
            CHECKF(memcmp(cd, rd, dmr * ldc * sizeof *cd) == 0, "dgemm fused kc=%zu beta=%g: C differs from the plain kernel's",
                   kc, (double)beta);
            checked += 2;
            /* the edge kernels: rows [0, mr_edge) as the full kernel's, the rest untouched */
            if (kt->sgemm_ukr_edge) {
                size_t e = kt->s_mr_edge;
                for (i = 0; i < smr * ldc; i++) c[i] = pass ? (float)i : NAN;
                kt->sgemm_ukr_edge(kc, 1.25f, a, bq, beta, c, ldc);
                CHECKF(memcmp(c, r, e * ldc * sizeof *c) == 0, "sgemm edge kc=%zu: rows 0..%zu differ", kc, e - 1);
                for (i = e * ldc; i < smr * ldc; i++)
                    if (!(pass ? c[i] == (float)i : c[i] != c[i])) {
                        tt_fail(__FILE__, __LINE__, "sgemm edge kc=%zu wrote C[%zu]", kc, i);
                        break;
                    }
                checked++;
            }
            if (kt->dgemm_ukr_edge) {
                size_t e = kt->d_mr_edge;
                for (i = 0; i < dmr * ldc; i++) cd[i] = pass ? (double)i : (double)NAN;
                kt->dgemm_ukr_edge(kc, 1.25, ad, bqd, (double)beta, cd, ldc);
                CHECKF(memcmp(cd, rd, e * ldc * sizeof *cd) == 0, "dgemm edge kc=%zu: rows 0..%zu differ", kc, e - 1);
                for (i = e * ldc; i < dmr * ldc; i++)
                    if (!(pass ? cd[i] == (double)i : cd[i] != cd[i])) {
                        tt_fail(__FILE__, __LINE__, "dgemm edge kc=%zu wrote C[%zu]", kc, i);
                        break;
                    }
                checked++;
            }
        }
        free(a); free(b); free(bp); free(bq); free(c); free(r);
        free(ad); free(bd); free(bpd); free(bqd); free(cd); free(rd);
    }
    NOTE("%s: %zu fused/edge kernel calls, packed panels and C bit-identical to the twins (edge kernels: %s)", kt->name,
         checked, kt->sgemm_ukr_edge ? "yes" : "none on this path");
}

/* The packing kernel of the path (if it has one) against its twin, bit
 * for bit, for every kc up to 40 and a long one, with a guard after the
 * panel that must stay untouched. */
TEST(gemm_pack_kernel_vs_twin)
{
    const tpe_kernels *kt = tt_kernels();
    enum { LDA = 300, GUARD = 16 };
    static float a[8 * LDA], got[8 * LDA + GUARD], want[8 * LDA + GUARD];
    static double ad[8 * LDA], gotd[8 * LDA + GUARD], wantd[8 * LDA + GUARD];
    size_t kc, i, n = 0;
    if (!kt->spack_a && !kt->dpack_a) {
        NOTE("%s has no packing kernel (the portable loop packs)", kt->name);
        return;
    }
    for (i = 0; i < 8 * LDA; i++) ad[i] = (double)(a[i] = (float)tpe_rng_uniform(tt_rng()));
    for (kc = 0; kc <= 257; kc = kc < 40 ? kc + 1 : kc + 217) {
        if (kt->spack_a) {
            for (i = 0; i < 8 * LDA + GUARD; i++) got[i] = want[i] = -1.0f;
            kt->spack_a(kc, a + 3, LDA, got);
            tpe_spack_a_ref(kt->s_mr, kc, a + 3, LDA, want);
            CHECKF(memcmp(got, want, sizeof got) == 0, "spack_a kc=%zu differs from the twin (or wrote past the panel)", kc);
            n++;
        }
        if (kt->dpack_a) {
            for (i = 0; i < 8 * LDA + GUARD; i++) gotd[i] = wantd[i] = -1.0;
            kt->dpack_a(kc, ad + 5, LDA, gotd);
            tpe_dpack_a_ref(kt->d_mr, kc, ad + 5, LDA, wantd);
            CHECKF(memcmp(gotd, wantd, sizeof gotd) == 0, "dpack_a kc=%zu differs from the twin (or wrote past the panel)", kc);
            n++;
        }
    }
    NOTE("%s: %zu packed panels bit-identical to the twin", kt->name, n);
}

/* dot and axpy of the path against the scalar twins. */
TEST(vec_kernels_vs_scalar_twin)
{
    const tpe_kernels *kt = tt_kernels();
    size_t ns[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 65, 1000, 4099};
    size_t t, i;
    double worst = 0.0;
    for (t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        size_t n = ns[t];
        float *x = malloc((n + 1) * sizeof *x), *y = malloc((n + 1) * sizeof *y), *y2 = malloc((n + 1) * sizeof *y2);
        double *xd = malloc((n + 1) * sizeof *xd), *yd = malloc((n + 1) * sizeof *yd), *yd2 = malloc((n + 1) * sizeof *yd2);
        double mag = 0.0, magd = 0.0, d, bound;
        for (i = 0; i < n; i++) {
            x[i] = (float)(2.0 * tpe_rng_uniform(tt_rng()) - 1.0);
            y[i] = y2[i] = (float)(2.0 * tpe_rng_uniform(tt_rng()) - 1.0);
            xd[i] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
            yd[i] = yd2[i] = 2.0 * tpe_rng_uniform(tt_rng()) - 1.0;
            mag += fabs((double)x[i] * (double)y[i]);
            magd += fabs(xd[i] * yd[i]);
        }
        d = fabs((double)kt->sdot(x, y, n) - (double)tpe_sdot_scalar(x, y, n));
        bound = 2.0 * gamma_n((double)n, TT_EPS32) * mag + 1e-30;
        CHECKF(d <= bound, "sdot n=%zu: diff %g bound %g", n, d, bound);
        if (d / bound > worst) worst = d / bound;
        d = fabs(kt->ddot(xd, yd, n) - tpe_ddot_scalar(xd, yd, n));
        bound = 2.0 * gamma_n((double)n, TT_EPS64) * magd + 1e-300;
        CHECKF(d <= bound, "ddot n=%zu: diff %g bound %g", n, d, bound);
        if (d / bound > worst) worst = d / bound;
        kt->saxpy(n, 0.3f, x, y);
        tpe_saxpy_scalar(n, 0.3f, x, y2);
        kt->daxpy(n, 0.3, xd, yd);
        tpe_daxpy_scalar(n, 0.3, xd, yd2);
        for (i = 0; i < n; i++) {
            /* one FMA vs multiply-then-add: at most 2 roundings apart */
            double bs = 2.0 * TT_EPS32 * (0.3 * fabs((double)x[i]) + fabs((double)y[i])) + 1e-30;
            double bd = 2.0 * TT_EPS64 * (0.3 * fabs(xd[i]) + fabs(yd[i])) + 1e-300;
            CHECKF(fabs((double)y[i] - (double)y2[i]) <= bs, "saxpy n=%zu i=%zu", n, i);
            CHECKF(fabs(yd[i] - yd2[i]) <= bd, "daxpy n=%zu i=%zu", n, i);
        }
        free(x); free(y); free(y2); free(xd); free(yd); free(yd2);
    }
    NOTE("worst |diff|/bound %.3g", worst);
}
