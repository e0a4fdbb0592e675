/*
 * cpu.h -- what the processor can do, and the one table of kernel pointers.
 *
 * The probe (cpu.c) is compiled without ISA flags, so nothing in it can
 * execute an instruction the CPU lacks. On x86-64 AVX2 is used only when
 * cpuid reports AVX, AVX2, FMA and OSXSAVE and xgetbv says the OS saves the
 * YMM state. On aarch64 NEON (Advanced SIMD) is architectural.
 *
 * TPE_SIMD=auto|scalar|avx2|neon selects the path; a path the CPU or this
 * build cannot run is an error, never a silent fallback.
 */
#ifndef TPE_CPU_H
#define TPE_CPU_H

#include <stddef.h>

typedef struct tpe_cpu_info {
    const char *arch;      /* "x86_64", "aarch64", "i386", "s390x", ... */
    int sse2, avx, avx2, fma, f16c, avx512f, os_ymm, os_zmm;
    int neon;
    int big_endian;
} tpe_cpu_info;

void tpe_cpu_detect(tpe_cpu_info *ci);

typedef enum tpe_simd { TPE_SIMD_SCALAR = 0, TPE_SIMD_AVX2 = 1, TPE_SIMD_NEON = 2 } tpe_simd;

const char *tpe_simd_name(tpe_simd s);
/* 1 when this build contains the path and the CPU can run it. */
int tpe_simd_available(tpe_simd s);

/*
 * GEMM micro-kernel (BLIS style), row-major C:
 *   C[0..mr, 0..nr] = alpha * sum_p a[p*mr + i] * b[p*nr + j] + beta * C
 * a: packed A micro-panel, kc x mr (column i of the tile is row i of A);
 * b: packed B micro-panel, kc x nr; C has row stride ldc.
 * beta == 0 overwrites C without reading it (C may hold NaN).
 */
typedef void (*tpe_sgemm_ukr)(size_t kc, float alpha, const float *a, const float *b, float beta, float *c, size_t ldc);
typedef void (*tpe_dgemm_ukr)(size_t kc, double alpha, const double *a, const double *b, double beta, double *c, size_t ldc);
/*
 * The same product with B read unpacked -- row p of the micro-panel is
 * b[p*ldb + 0..nr] -- and copied, as it is read, into bp[p*nr + j]: the
 * packed panel the later tiles of the same columns use. Packing B then costs
 * no pass of its own. `next` is the unpacked panel the following call will
 * read (same ldb; may equal b): its rows are prefetched one by one, a whole
 * row block of tiles ahead of their use, so that call does not wait on memory.
 */
typedef void (*tpe_sgemm_ukr_pb)(size_t kc, float alpha, const float *a, const float *b, size_t ldb,
                                 const float *next, float *bp, float beta, float *c, size_t ldc);
typedef void (*tpe_dgemm_ukr_pb)(size_t kc, double alpha, const double *a, const double *b, size_t ldb,
                                 const double *next, double *bp, double beta, double *c, size_t ldc);

typedef struct tpe_kernels {
    tpe_simd simd;
    const char *name;
    /* single precision GEMM: micro-tile and cache blocking */
    tpe_sgemm_ukr sgemm_ukr;
    tpe_sgemm_ukr_pb sgemm_ukr_pb; /* required */
    tpe_sgemm_ukr sgemm_ukr_edge;  /* optional: the first s_mr_edge rows of a tile, */
    size_t s_mr_edge;              /* A panel still of stride s_mr; C rows past them untouched */
    /* optional: pack a full s_mr-row panel of untransposed A, dst[p*s_mr + i] = a[i*lda + p] */
    void (*spack_a)(size_t kc, const float *a, size_t lda, float *dst);
    size_t s_mr, s_nr, s_mc, s_kc, s_nc;
    /* double precision GEMM */
    tpe_dgemm_ukr dgemm_ukr;
    tpe_dgemm_ukr_pb dgemm_ukr_pb; /* the same fields for f64 */
    tpe_dgemm_ukr dgemm_ukr_edge;
    size_t d_mr_edge;
    void (*dpack_a)(size_t kc, const double *a, size_t lda, double *dst);
    size_t d_mr, d_nr, d_mc, d_kc, d_nc;
    /* vector kernels (each has a *_scalar twin in vec.c) */
    float (*sdot)(const float *x, const float *y, size_t n);
    double (*ddot)(const double *x, const double *y, size_t n);
    void (*saxpy)(size_t n, float a, const float *x, float *y);
    void (*daxpy)(size_t n, double a, const double *x, double *y);
    /* transformer fast-path kernels (act.h; *_scalar twins in act.c) */
    float (*smax)(size_t n, const float *x);
    double (*sexp_sum)(size_t n, float shift, const float *x, float *y);
    void (*sgelu_tanh)(size_t n, float *x);
    void (*acc_f64)(size_t n, double a, const float *x, double *acc);
    void (*sscal)(size_t n, float a, float *x);
    void (*smax_into)(size_t n, const float *x, float *m);
    void (*sexp_sub_acc)(size_t n, const float *x, const float *m, float *y, double *z);
    double (*sdot_f64)(size_t n, const float *x, const double *w);
    /* numerics kernels (numk*.c; scalar twins in numk.c): double-double dot
     * product and axpy on hi/lo planes, and a sequence of plane rotations on
     * adjacent columns of a column-major matrix (see kernels_impl.h) */
    void (*dd_dot)(size_t n, const double *xh, const double *xl, const double *yh, const double *yl, double *sh,
                   double *sl);
    void (*dd_axpy)(size_t n, double ah, double al, const double *xh, const double *xl, double *yh, double *yl);
    void (*drot_seq)(size_t rows, size_t nrot, const double *c, const double *s, double *Z, size_t ldz);
} tpe_kernels;

/* Choose the path from TPE_SIMD (or `request` when not NULL). Returns
 * TPE_OK, or TPE_EUNSUPPORTED with a message when the path cannot run. */
int tpe_kernels_init(const char *request);
/* The chosen table; initializes from TPE_SIMD on first use and exits with
 * status 2 if that request cannot be honoured. */
const tpe_kernels *tpe_kernels_get(void);
/* The table of a given path (NULL when not available); tests use it. */
const tpe_kernels *tpe_kernels_for(tpe_simd s);

/* Number of threads for OpenMP builds (TPE_THREADS, default all); 1 otherwise.
 * tpe_set_threads(n > 0) overrides it (benchmarks use 1); 0 restores it. */
int tpe_threads(void);
void tpe_set_threads(int n);

#endif
