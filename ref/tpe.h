/*
 * tpe.h -- what every part of tpe shares: status codes, the one error path,
 * checked allocation and size arithmetic.
 *
 * Conventions (see docs/architecture.md):
 *   - functions that can fail return an int status, TPE_OK (0) on success;
 *     on failure they have called tpe_error() with one readable line that
 *     names the file, field or index, and the caller passes the status up.
 *   - the command-line front end turns that line into
 *     "tpe: <command>: <message>" on stderr.
 *   - arrays are row-major; shapes are given in comments next to every
 *     pointer, e.g. "x is (T, C)".
 */
#ifndef TPE_H
#define TPE_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

/* tpe's results are claimed to the last digit: float and double expressions
 * must round in their own type, as IEEE 754 does (the Makefile sets the
 * flags that give this on s390x and 32-bit x86). */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && !defined(TPE_ALLOW_EXCESS_PRECISION)
#error "tpe needs FLT_EVAL_METHOD == 0: see the Makefile (-fexcess-precision=fast on s390x, -msse2 -mfpmath=sse on x86-32)"
#endif

enum {
    TPE_OK = 0,
    TPE_EIO = 1,       /* a file could not be opened, read or written       */
    TPE_EFORMAT = 2,   /* a file is malformed, truncated or hostile          */
    TPE_ENOMEM = 3,    /* allocation failed or a size does not fit           */
    TPE_EINVAL = 4,    /* an argument or shape is wrong                      */
    TPE_ENUMERIC = 5,  /* a numerical failure: singular, NaN, no convergence */
    TPE_EUNSUPPORTED = 6 /* asked for something this build or CPU lacks      */
};

#if defined(__GNUC__) || defined(__clang__)
#define TPE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define TPE_UNUSED __attribute__((unused))
#else
#define TPE_PRINTF(f, a)
#define TPE_UNUSED
#endif

/* Record the error message (printf-style) and return `code`. */
int tpe_error(int code, const char *fmt, ...) TPE_PRINTF(2, 3);
/* Prepend context ("reading model.safetensors: ") to the current message. */
int tpe_error_prefix(int code, const char *fmt, ...) TPE_PRINTF(2, 3);
/* The last recorded message ("" if none). */
const char *tpe_errmsg(void);
void tpe_error_clear(void);

/* Checked size arithmetic: return 0 and set *out, or 1 on overflow. */
int tpe_size_mul(size_t a, size_t b, size_t *out);
int tpe_size_add(size_t a, size_t b, size_t *out);

/* Allocation that records "out of memory (N bytes for what)" on failure.
 * tpe_alloc_array checks count*size for overflow. Memory is 64-byte
 * aligned so SIMD kernels may use aligned loads on it; free with tpe_free. */
void *tpe_alloc(size_t bytes, const char *what);
void *tpe_alloc_array(size_t count, size_t size, const char *what);
void *tpe_calloc_array(size_t count, size_t size, const char *what);
void tpe_free(void *p);

/* Plain string helpers (C99 has no strdup). */
char *tpe_strdup(const char *s);
/* Join directory and file name into a new string ("dir/name"). */
char *tpe_path_join(const char *dir, const char *name);

#endif
