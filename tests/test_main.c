/*
 * test_main.c -- runs the tests named in the generated tests_list.h.
 * usage: tpe_tests [substring ...]   (runs the tests whose names contain one)
 * Output: one line per test, then "#summary P F S" and "P passed, F failed".
 */
#include "test.h"
#include "platform.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X(name) void name(void);
#include "tests_list.h"
#undef X

typedef struct test_entry {
    const char *name;
    void (*fn)(void);
} test_entry;

static const test_entry all_tests[] = {
#define X(name) {#name, name},
#include "tests_list.h"
#undef X
};

static int cur_failures, cur_skipped;
static char notes[4096];
static char skip_reason[256];
static tpe_rng cur_rng;
static const tpe_kernels *kern;
static const char *path_name = "?";

void tt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    cur_failures++;
    if (cur_failures > 10) return; /* one broken loop should not flood the log */
    fprintf(stdout, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

void tt_note(const char *fmt, ...)
{
    size_t n = strlen(notes);
    va_list ap;
    if (n + 8 >= sizeof notes) return;
    if (n) {
        strcat(notes, "; ");
        n += 2;
    }
    va_start(ap, fmt);
    vsnprintf(notes + n, sizeof notes - n, fmt, ap);
    va_end(ap);
}

void tt_skip(const char *why)
{
    cur_skipped = 1;
    snprintf(skip_reason, sizeof skip_reason, "%s", why);
}

void tt_check_err(int rc, int code, const char *sub, const char *expr, const char *file, int line)
{
    if (rc == TPE_OK) {
        tt_fail(file, line, "%s succeeded, expected an error containing '%s'", expr, sub);
        return;
    }
    if (code >= 0 && rc != code) tt_fail(file, line, "%s returned %d, expected %d (%s)", expr, rc, code, tpe_errmsg());
    if (sub && !strstr(tpe_errmsg(), sub)) tt_fail(file, line, "%s: message '%s' lacks '%s'", expr, tpe_errmsg(), sub);
}

const tpe_kernels *tt_kernels(void) { return kern; }
tpe_rng *tt_rng(void) { return &cur_rng; }

const char *tt_shared(void)
{
    static int done;
    static const char *dir;
    if (!done) {
        const char *env = getenv("TPE_SHARED");
        done = 1;
        if (env && *env) dir = tpe_is_dir(env) ? env : NULL;
        else dir = tpe_is_dir("../shared/reference") ? "../shared" : NULL;
    }
    return dir;
}

const char *tt_tmpdir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *base = getenv("TPE_TEST_TMP");
        snprintf(dir, sizeof dir, "%s/tpe-tests-%ld", base && *base ? base : "/tmp", tpe_process_id());
        if (tpe_mkdir_p(dir) != TPE_OK) {
            fprintf(stderr, "cannot create %s: %s\n", dir, tpe_errmsg());
            exit(2);
        }
    }
    return dir;
}

int tt_quick(void)
{
    const char *q = getenv("TPE_TEST_QUICK");
    return q && q[0] == '1';
}

static uint64_t name_seed(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

int main(int argc, char **argv)
{
    size_t i, npass = 0, nfail = 0, nskip = 0;
    int a;
    if (tpe_kernels_init(NULL) != TPE_OK) {
        fprintf(stderr, "tpe_tests: %s\n", tpe_errmsg());
        return 2;
    }
    kern = tpe_kernels_get();
    path_name = kern->name;
    for (i = 0; i < sizeof all_tests / sizeof all_tests[0]; i++) {
        const test_entry *t = &all_tests[i];
        double t0;
        int selected = argc < 2;
        for (a = 1; a < argc; a++)
            if (strstr(t->name, argv[a])) selected = 1;
        if (!selected) continue;
        cur_failures = 0;
        cur_skipped = 0;
        notes[0] = '\0';
        tpe_error_clear();
        tpe_rng_seed(&cur_rng, name_seed(t->name));
        t0 = tpe_now();
        t->fn();
        if (cur_failures) {
            printf("FAIL [%s] %s (%d check%s failed)%s%s\n", path_name, t->name, cur_failures, cur_failures == 1 ? "" : "s",
                   notes[0] ? " -- " : "", notes);
            nfail++;
        } else if (cur_skipped) {
            printf("skip [%s] %s: %s\n", path_name, t->name, skip_reason);
            nskip++;
        } else {
            printf("ok   [%s] %s (%.2fs)%s%s\n", path_name, t->name, tpe_now() - t0, notes[0] ? " -- " : "", notes);
            npass++;
        }
        fflush(stdout);
    }
    printf("#summary %zu %zu %zu\n", npass, nfail, nskip);
    printf("%zu passed, %zu failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
