/*
 * test_cpu.c -- the kernel table of every path this machine can run is
 * complete (a missing designated initializer would leave a NULL pointer).
 */
#include "cpu.h"
#include "test.h"

TEST(kernel_tables_are_complete)
{
    const tpe_simd all[] = {TPE_SIMD_SCALAR, TPE_SIMD_AVX2, TPE_SIMD_NEON};
    size_t i, paths = 0;
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const tpe_kernels *k = tpe_kernels_for(all[i]);
        if (!k) continue;
        paths++;
        CHECKF(k->simd == all[i] && k->name != NULL, "path %s", tpe_simd_name(all[i]));
        CHECKF(k->sgemm_ukr && k->dgemm_ukr, "%s: GEMM micro-kernels", k->name);
        CHECKF(k->s_mr && k->s_nr && k->s_mc && k->s_kc && k->s_nc, "%s: f32 blocking", k->name);
        CHECKF(k->d_mr && k->d_nr && k->d_mc && k->d_kc && k->d_nc, "%s: f64 blocking", k->name);
        CHECKF(k->s_mc % k->s_mr == 0 && k->d_mc % k->d_mr == 0, "%s: MC a multiple of MR", k->name);
        CHECKF(k->s_mr * k->s_nr <= 256 && k->d_mr * k->d_nr <= 256, "%s: tile fits the edge buffer", k->name);
        CHECKF(k->sdot && k->ddot && k->saxpy && k->daxpy, "%s: vector kernels", k->name);
        CHECKF(k->smax && k->sexp_sum && k->sgelu_tanh && k->acc_f64 && k->sscal && k->smax_into && k->sexp_sub_acc &&
                   k->sdot_f64,
               "%s: activation kernels", k->name);
        CHECKF(k->dd_dot && k->dd_axpy && k->drot_seq, "%s: numerics kernels", k->name);
    }
    CHECK(paths >= 1);
    NOTE("%zu paths checked", paths);
}
