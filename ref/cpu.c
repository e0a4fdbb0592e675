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
    TPE_SIMD_SCALAR, "scalar",
    tpe_sgemm_ukr_scalar, TPE_SCALAR_SMR, TPE_SCALAR_SNR, 128, 256, 4096,
    tpe_dgemm_ukr_scalar, TPE_SCALAR_DMR, TPE_SCALAR_DNR, 64, 256, 4096,
    tpe_sdot_scalar, tpe_ddot_scalar, tpe_saxpy_scalar, tpe_daxpy_scalar,
    tpe_smax_scalar, tpe_sexp_sum_scalar, tpe_sgelu_tanh_scalar, tpe_acc_f64_scalar, tpe_sscal_scalar,
    tpe_smax_into_scalar, tpe_sexp_sub_acc_scalar, tpe_sdot_f64_scalar,
    tpe_dd_dot_scalar, tpe_dd_axpy_scalar, tpe_drot_seq_scalar,
};

/* Cache blocking (MC, KC, NC) per path; build-time knobs for tuning, e.g.
 * make EXTRA_CFLAGS=-DTPE_AVX2_DMC=96. Chosen by `make bench` on a Zen 5
 * core (48 KB L1d, 1 MB L2): the packed A block (MC x KC) lives in L2, one
 * packed B micro-panel (KC x NR) in L1. */
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
    TPE_SIMD_AVX2, "avx2",
    tpe_sgemm_ukr_avx2, TPE_AVX2_SMR, TPE_AVX2_SNR, TPE_AVX2_SMC, TPE_AVX2_SKC, TPE_AVX2_SNC,
    tpe_dgemm_ukr_avx2, TPE_AVX2_DMR, TPE_AVX2_DNR, TPE_AVX2_DMC, TPE_AVX2_DKC, TPE_AVX2_DNC,
    tpe_sdot_avx2, tpe_ddot_avx2, tpe_saxpy_avx2, tpe_daxpy_avx2,
    tpe_smax_avx2, tpe_sexp_sum_avx2, tpe_sgelu_tanh_avx2, tpe_acc_f64_avx2, tpe_sscal_avx2,
    tpe_smax_into_avx2, tpe_sexp_sub_acc_avx2, tpe_sdot_f64_avx2,
    tpe_dd_dot_avx2, tpe_dd_axpy_avx2, tpe_drot_seq_avx2,
};
#endif

#if TPE_BUILD_NEON
static const tpe_kernels table_neon = {
    TPE_SIMD_NEON, "neon",
    tpe_sgemm_ukr_neon, TPE_NEON_SMR, TPE_NEON_SNR, 128, 256, 4092,
    tpe_dgemm_ukr_neon, TPE_NEON_DMR, TPE_NEON_DNR, 96, 256, 4096,
    tpe_sdot_neon, tpe_ddot_neon, tpe_saxpy_neon, tpe_daxpy_neon,
    tpe_smax_neon, tpe_sexp_sum_neon, tpe_sgelu_tanh_neon, tpe_acc_f64_neon, tpe_sscal_neon,
    tpe_smax_into_neon, tpe_sexp_sub_acc_neon, tpe_sdot_f64_neon,
    tpe_dd_dot_neon, tpe_dd_axpy_neon, tpe_drot_seq_neon,
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
