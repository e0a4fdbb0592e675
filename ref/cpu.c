/*
 * cpu.c -- the CPU probe and the kernel table. Compiled WITHOUT ISA flags:
 * nothing here may execute an AVX instruction.
 */
#include "cpu.h"
#include "kernels_impl.h"
#include "act.h"
#include "io.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TPE_X86 1
#else
#define TPE_X86 0
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#if TPE_X86
static unsigned long long read_xcr0(void)
{
    unsigned lo, hi;
    /* xgetbv with ecx = 0 reads XCR0: which register states the OS saves */
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

void tpe_cpu_detect(tpe_cpu_info *ci)
{
    memset(ci, 0, sizeof *ci);
#if defined(__x86_64__)
    ci->arch = "x86_64";
#elif defined(__i386__)
    ci->arch = "i386";
#elif defined(__aarch64__)
    ci->arch = "aarch64";
#elif defined(__arm__)
    ci->arch = "arm";
#elif defined(__s390x__)
    ci->arch = "s390x";
#elif defined(__powerpc64__)
    ci->arch = "ppc64";
#elif defined(__riscv) && __riscv_xlen == 64
    ci->arch = "riscv64";
#else
    ci->arch = "unknown";
#endif
    ci->big_endian = !tpe_host_little_endian();
#if TPE_X86
    {
        unsigned a, b, c, d, max_leaf;
        int osxsave;
        max_leaf = (unsigned)__get_cpuid_max(0, NULL);
        if (max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
            ci->sse2 = (d >> 26) & 1;
            ci->fma = (c >> 12) & 1;
            osxsave = (c >> 27) & 1;
            ci->avx = (c >> 28) & 1;
            ci->f16c = (c >> 29) & 1;
            if (osxsave) {
                unsigned long long xcr0 = read_xcr0();
                ci->os_ymm = (xcr0 & 0x6) == 0x6;   /* SSE and AVX state */
                ci->os_zmm = (xcr0 & 0xe6) == 0xe6; /* plus opmask, ZMM  */
            }
            if (max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
                ci->avx2 = (b >> 5) & 1;
                ci->avx512f = (b >> 16) & 1;
            }
        }
    }
#endif
#if defined(__aarch64__)
    ci->neon = 1;
#endif
}

const char *tpe_simd_name(tpe_simd s)
{
    switch (s) {
    case TPE_SIMD_SCALAR: return "scalar";
    case TPE_SIMD_AVX2: return "avx2";
    case TPE_SIMD_NEON: return "neon";
    }
    return "?";
}

static const tpe_kernels table_scalar = {
    .simd = TPE_SIMD_SCALAR, .name = "scalar",
    .sgemm_ukr = tpe_sgemm_ukr_scalar, .sgemm_ukr_pb = tpe_sgemm_ukr_pb_scalar, .s_mr = TPE_SCALAR_SMR, .s_nr = TPE_SCALAR_SNR, .s_mc = 128, .s_kc = 256, .s_nc = 4096,
    .dgemm_ukr = tpe_dgemm_ukr_scalar, .dgemm_ukr_pb = tpe_dgemm_ukr_pb_scalar, .d_mr = TPE_SCALAR_DMR, .d_nr = TPE_SCALAR_DNR, .d_mc = 64, .d_kc = 256, .d_nc = 4096,
    .sdot = tpe_sdot_scalar, .ddot = tpe_ddot_scalar, .saxpy = tpe_saxpy_scalar, .daxpy = tpe_daxpy_scalar,
    .smax = tpe_smax_scalar, .sexp_sum = tpe_sexp_sum_scalar, .sgelu_tanh = tpe_sgelu_tanh_scalar, .acc_f64 = tpe_acc_f64_scalar,
    .sscal = tpe_sscal_scalar, .smax_into = tpe_smax_into_scalar, .sexp_sub_acc = tpe_sexp_sub_acc_scalar, .sdot_f64 = tpe_sdot_f64_scalar,
    .dd_dot = tpe_dd_dot_scalar, .dd_axpy = tpe_dd_axpy_scalar, .drot_seq = tpe_drot_seq_scalar,
};

/* Cache blocking (MC, KC, NC) per path; build-time knobs for tuning, e.g.
 * make EXTRA_CFLAGS=-DTPE_AVX2_DMC=96. Chosen by `make bench` on a Zen 5
 * core (48 KB L1d, 1 MB L2): the packed A block (MC x KC) lives in L2, one
 * packed B micro-panel (KC x NR) in L1. The driver balances the blocks
 * (gemm_driver.inc) and makes up to 2 MC rows one row block, so the 256
 * rows of the benchmark shapes are one block of 258 (264 KB of packed A);
 * f32 MC = 258 for all sizes was as fast on those shapes and 5 % slower at
 * 777 x 333 x 555; KC = 192, 320 and 384 measured the same within noise. */
#ifndef TPE_AVX2_SMC
#define TPE_AVX2_SMC 144
#endif
#ifndef TPE_AVX2_SKC
#define TPE_AVX2_SKC 256
#endif
#ifndef TPE_AVX2_SNC
#define TPE_AVX2_SNC 4080
#endif
#ifndef TPE_AVX2_DMC
#define TPE_AVX2_DMC 108
#endif
#ifndef TPE_AVX2_DKC
#define TPE_AVX2_DKC 256
#endif
#ifndef TPE_AVX2_DNC
#define TPE_AVX2_DNC 4080
#endif

#if TPE_BUILD_AVX2
static const tpe_kernels table_avx2 = {
    .simd = TPE_SIMD_AVX2, .name = "avx2",
    .sgemm_ukr = tpe_sgemm_ukr_avx2, .sgemm_ukr_pb = tpe_sgemm_ukr_pb_avx2,
    .sgemm_ukr_edge = tpe_sgemm_ukr4_avx2, .s_mr_edge = 4, .spack_a = tpe_spack_a6_avx2, .s_mr = TPE_AVX2_SMR, .s_nr = TPE_AVX2_SNR, .s_mc = TPE_AVX2_SMC, .s_kc = TPE_AVX2_SKC, .s_nc = TPE_AVX2_SNC,
    .dgemm_ukr = tpe_dgemm_ukr_avx2, .dgemm_ukr_pb = tpe_dgemm_ukr_pb_avx2,
    .dgemm_ukr_edge = tpe_dgemm_ukr4_avx2, .d_mr_edge = 4, .dpack_a = tpe_dpack_a6_avx2, .d_mr = TPE_AVX2_DMR, .d_nr = TPE_AVX2_DNR, .d_mc = TPE_AVX2_DMC, .d_kc = TPE_AVX2_DKC, .d_nc = TPE_AVX2_DNC,
    .sdot = tpe_sdot_avx2, .ddot = tpe_ddot_avx2, .saxpy = tpe_saxpy_avx2, .daxpy = tpe_daxpy_avx2,
    .smax = tpe_smax_avx2, .sexp_sum = tpe_sexp_sum_avx2, .sgelu_tanh = tpe_sgelu_tanh_avx2, .acc_f64 = tpe_acc_f64_avx2,
    .sscal = tpe_sscal_avx2, .smax_into = tpe_smax_into_avx2, .sexp_sub_acc = tpe_sexp_sub_acc_avx2, .sdot_f64 = tpe_sdot_f64_avx2,
    .dd_dot = tpe_dd_dot_avx2, .dd_axpy = tpe_dd_axpy_avx2, .drot_seq = tpe_drot_seq_avx2,
};
#endif

#if TPE_BUILD_NEON
static const tpe_kernels table_neon = {
    .simd = TPE_SIMD_NEON, .name = "neon",
    .sgemm_ukr = tpe_sgemm_ukr_neon, .sgemm_ukr_pb = tpe_sgemm_ukr_pb_neon, .s_mr = TPE_NEON_SMR, .s_nr = TPE_NEON_SNR, .s_mc = 128, .s_kc = 256, .s_nc = 4092,
    .dgemm_ukr = tpe_dgemm_ukr_neon, .dgemm_ukr_pb = tpe_dgemm_ukr_pb_neon, .d_mr = TPE_NEON_DMR, .d_nr = TPE_NEON_DNR, .d_mc = 96, .d_kc = 256, .d_nc = 4096,
    .sdot = tpe_sdot_neon, .ddot = tpe_ddot_neon, .saxpy = tpe_saxpy_neon, .daxpy = tpe_daxpy_neon,
    .smax = tpe_smax_neon, .sexp_sum = tpe_sexp_sum_neon, .sgelu_tanh = tpe_sgelu_tanh_neon, .acc_f64 = tpe_acc_f64_neon,
    .sscal = tpe_sscal_neon, .smax_into = tpe_smax_into_neon, .sexp_sub_acc = tpe_sexp_sub_acc_neon, .sdot_f64 = tpe_sdot_f64_neon,
    .dd_dot = tpe_dd_dot_neon, .dd_axpy = tpe_dd_axpy_neon, .drot_seq = tpe_drot_seq_neon,
};
#endif

int tpe_simd_available(tpe_simd s)
{
    tpe_cpu_info ci;
    tpe_cpu_detect(&ci);
    switch (s) {
    case TPE_SIMD_SCALAR: return 1;
    case TPE_SIMD_AVX2: return TPE_BUILD_AVX2 && ci.avx && ci.avx2 && ci.fma && ci.os_ymm;
    case TPE_SIMD_NEON: return TPE_BUILD_NEON && ci.neon;
    }
    return 0;
}

const tpe_kernels *tpe_kernels_for(tpe_simd s)
{
    if (!tpe_simd_available(s)) return NULL;
    switch (s) {
    case TPE_SIMD_SCALAR: return &table_scalar;
#if TPE_BUILD_AVX2
    case TPE_SIMD_AVX2: return &table_avx2;
#endif
#if TPE_BUILD_NEON
    case TPE_SIMD_NEON: return &table_neon;
#endif
    default: return NULL;
    }
}

static const tpe_kernels *chosen;

int tpe_kernels_init(const char *request)
{
    tpe_simd s;
    const char *req = request ? request : getenv("TPE_SIMD");
    if (!req || !*req || strcmp(req, "auto") == 0) {
        if (tpe_simd_available(TPE_SIMD_AVX2)) s = TPE_SIMD_AVX2;
        else if (tpe_simd_available(TPE_SIMD_NEON)) s = TPE_SIMD_NEON;
        else s = TPE_SIMD_SCALAR;
    } else if (strcmp(req, "scalar") == 0) {
        s = TPE_SIMD_SCALAR;
    } else if (strcmp(req, "avx2") == 0) {
        s = TPE_SIMD_AVX2;
    } else if (strcmp(req, "neon") == 0) {
        s = TPE_SIMD_NEON;
    } else {
        return tpe_error(TPE_EUNSUPPORTED, "TPE_SIMD=%s: unknown path (use auto, scalar, avx2 or neon)", req);
    }
    if (!tpe_simd_available(s)) {
        tpe_cpu_info ci;
        tpe_cpu_detect(&ci);
        return tpe_error(TPE_EUNSUPPORTED, "TPE_SIMD=%s: %s on this %s machine", req,
                         (s == TPE_SIMD_AVX2 && !TPE_BUILD_AVX2) || (s == TPE_SIMD_NEON && !TPE_BUILD_NEON)
                             ? "this build has no such kernels"
                             : "the CPU (or the OS) does not support it",
                         ci.arch);
    }
    chosen = tpe_kernels_for(s);
    return TPE_OK;
}

const tpe_kernels *tpe_kernels_get(void)
{
    if (!chosen && tpe_kernels_init(NULL) != TPE_OK) {
        fprintf(stderr, "tpe: %s\n", tpe_errmsg());
        exit(2);
    }
    return chosen;
}

static int forced_threads;

void tpe_set_threads(int n)
{
    forced_threads = n > 0 ? n : 0;
#ifdef _OPENMP
    omp_set_num_threads(tpe_threads());
#endif
}

int tpe_threads(void)
{
#ifdef _OPENMP
    const char *s = getenv("TPE_THREADS");
    if (forced_threads) return forced_threads;
    if (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v > 0 && v < 4096) return (int)v;
    }
    return omp_get_max_threads();
#else
    return 1;
#endif
}
