/*
 * test.h -- the unit-test harness. A test is `TEST(name) { ... }` in any
 * tests/test_*.c; the Makefile collects the names. A test passes when none
 * of its CHECKs failed. Tests print the worst error they saw with NOTE().
 *
 * The runner (test_main.c) runs under the kernel path TPE_SIMD selects;
 * tests/run.sh runs it once per path the machine has.
 */
#ifndef TPE_TEST_H
#define TPE_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "cpu.h"
#include "rng.h"
#include "tpe.h"

#define TEST(name) void name(void); void name(void)

void tt_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void tt_note(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Mark the current test skipped (e.g. ../shared absent); it counts neither way. */
void tt_skip(const char *why);

#define CHECK(cond)                                                                                              \
    do {                                                                                                         \
        if (!(cond)) tt_fail(__FILE__, __LINE__, "%s", #cond);                                                   \
    } while (0)
#define CHECKF(cond, ...)                                                                                        \
    do {                                                                                                         \
        if (!(cond)) tt_fail(__FILE__, __LINE__, __VA_ARGS__);                                                   \
    } while (0)
/* expr returns a tpe status that must be TPE_OK */
#define CHECK_OK(expr)                                                                                           \
    do {                                                                                                         \
        int rc_ = (expr);                                                                                        \
        if (rc_ != TPE_OK) tt_fail(__FILE__, __LINE__, "%s returned %d: %s", #expr, rc_, tpe_errmsg());         \
    } while (0)
/* expr must fail with status code and an error message containing `sub` */
#define CHECK_ERR(expr, code, sub) tt_check_err((expr), (code), (sub), #expr, __FILE__, __LINE__)
void tt_check_err(int rc, int code, const char *sub, const char *expr, const char *file, int line);

#define NOTE(...) tt_note(__VA_ARGS__)

/* The kernel table under test (the path TPE_SIMD chose). */
const tpe_kernels *tt_kernels(void);
/* A deterministic generator per test, seeded from the test name. */
tpe_rng *tt_rng(void);
/* Directory of the shared reference data ($TPE_SHARED or ../shared), NULL if absent. */
const char *tt_shared(void);
/* A scratch directory for this run (created on first use). */
const char *tt_tmpdir(void);
/* 1 when running under emulation or TPE_TEST_QUICK=1: tests shrink their sizes. */
int tt_quick(void);

/* unit roundoff of each precision */
#define TT_EPS32 5.9604644775390625e-08  /* 2^-24 */
#define TT_EPS64 1.1102230246251565e-16  /* 2^-53 */

#endif
