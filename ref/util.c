/*
 * util.c -- the error path, checked sizes and aligned allocation.
 */
#include "tpe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPE_ERRMSG_MAX 1024

static char errmsg[TPE_ERRMSG_MAX];

int tpe_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    return code;
}

int tpe_error_prefix(int code, const char *fmt, ...)
{
    char prefix[TPE_ERRMSG_MAX];
    char old[TPE_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errmsg, sizeof old);
    {
        size_t a = strlen(prefix), b = strlen(old);
        if (a > sizeof errmsg - 1) a = sizeof errmsg - 1;
        if (b > sizeof errmsg - 1 - a) b = sizeof errmsg - 1 - a;
        memcpy(errmsg, prefix, a);
        memcpy(errmsg + a, old, b);
        errmsg[a + b] = '\0';
    }
    return code;
}

const char *tpe_errmsg(void) { return errmsg; }

void tpe_error_clear(void) { errmsg[0] = '\0'; }

int tpe_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a) return 1;
    *out = a * b;
    return 0;
}

int tpe_size_add(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a) return 1;
    *out = a + b;
    return 0;
}

/* Aligned allocation in plain C99: over-allocate, align, and keep the
 * pointer malloc returned just below the aligned block. */
#define TPE_ALIGN 64

void *tpe_alloc(size_t bytes, const char *what)
{
    size_t total;
    unsigned char *raw, *p;
    if (tpe_size_add(bytes, TPE_ALIGN + sizeof(void *), &total)) {
        tpe_error(TPE_ENOMEM, "out of memory: %s needs more than the address space", what);
        return NULL;
    }
    raw = malloc(total);
    if (!raw) {
        tpe_error(TPE_ENOMEM, "out of memory: %zu bytes for %s", bytes, what);
        return NULL;
    }
    p = raw + sizeof(void *);
    p += (TPE_ALIGN - (size_t)((uintptr_t)p % TPE_ALIGN)) % TPE_ALIGN;
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    return p;
}

void *tpe_alloc_array(size_t count, size_t size, const char *what)
{
    size_t bytes;
    if (tpe_size_mul(count, size, &bytes)) {
        tpe_error(TPE_ENOMEM, "out of memory: %zu x %zu bytes for %s overflows", count, size, what);
        return NULL;
    }
    return tpe_alloc(bytes, what);
}

void *tpe_calloc_array(size_t count, size_t size, const char *what)
{
    void *p = tpe_alloc_array(count, size, what);
    if (p) memset(p, 0, count * size);
    return p;
}

void tpe_free(void *p)
{
    void *raw;
    if (!p) return;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    free(raw);
}

char *tpe_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        tpe_error(TPE_ENOMEM, "out of memory copying a string of %zu bytes", n);
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

char *tpe_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) {
        tpe_error(TPE_ENOMEM, "out of memory joining a path");
        return NULL;
    }
    memcpy(p, dir, a);
    if (a > 0 && dir[a - 1] != '/') p[a++] = '/';
    memcpy(p + a, name, b + 1);
    return p;
}
