/*
 * args.c -- option parsing for every command.
 */
#include "cli.h"
#include "io.h"
#include "tpe.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tpe_cli_fail(const char *cmd)
{
    fprintf(stderr, "tpe: %s: %s\n", cmd, tpe_errmsg()[0] ? tpe_errmsg() : "failed");
    return 1;
}

int tpe_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tpe: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'tpe %s --help')\n", cmd);
    return 2;
}

int tpe_cli_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    if (!s || !*s || *s == '-' || *s == '+') return 1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v > (unsigned long long)(size_t)-1) return 1;
    *out = (size_t)v;
    return 0;
}

int tpe_cli_f64(const char *s, double *out)
{
    char *end;
    double v;
    if (!s || !*s) return 1;
    errno = 0;
    v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || (!isfinite(v) && strcmp(s, "inf") && strcmp(s, "-inf") && strcmp(s, "+inf")))
        return 1;
    if (isnan(v)) return 1;
    *out = v;
    return 0;
}

static void print_help(const tpe_cmdspec *spec)
{
    size_t i;
    printf("usage: tpe %s%s%s%s\n\n%s\n", spec->cmd, spec->args && *spec->args ? " " : "", spec->args ? spec->args : "",
           spec->nopts ? " [options]" : "", spec->summary);
    if (spec->details) printf("\n%s\n", spec->details);
    printf("\noptions:\n");
    for (i = 0; i < spec->nopts; i++) {
        const tpe_opt *o = &spec->opts[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        printf("  %-24s %s\n", left, o->help);
    }
    printf("  %-24s %s\n", "--quiet", "no progress bar");
    printf("  %-24s %s\n", "--help", "this text");
    printf("\nenvironment: TPE_SIMD=auto|scalar|avx2|neon picks the kernel path.\n");
}

static int set_value(const tpe_cmdspec *spec, const tpe_opt *o, const char *val)
{
    switch (o->kind) {
    case TPE_OPT_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case TPE_OPT_STR:
        *(const char **)o->dest = val;
        return 0;
    case TPE_OPT_INT: {
        char *end;
        long v;
        errno = 0;
        v = strtol(val, &end, 10);
        if (!*val || *end || errno) return tpe_cli_usage(spec->cmd, "%s wants an integer, got '%s'", o->name, val);
        *(long *)o->dest = v;
        return 0;
    }
    case TPE_OPT_SIZE:
        if (tpe_cli_size(val, (size_t *)o->dest))
            return tpe_cli_usage(spec->cmd, "%s wants a non-negative integer, got '%s'", o->name, val);
        return 0;
    case TPE_OPT_F64:
        if (tpe_cli_f64(val, (double *)o->dest)) return tpe_cli_usage(spec->cmd, "%s wants a number, got '%s'", o->name, val);
        return 0;
    }
    return 0;
}

int tpe_cli_parse(const tpe_cmdspec *spec, int argc, char **argv, char **pos, size_t *npos)
{
    int i, only_pos = 0;
    size_t j;
    *npos = 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1] == '-' && a[2] != '\0') {
            const char *eq = strchr(a, '=');
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            const tpe_opt *o = NULL;
            if (strcmp(a, "--help") == 0) {
                print_help(spec);
                return -1;
            }
            if (strcmp(a, "--quiet") == 0) {
                tpe_quiet = 1;
                continue;
            }
            for (j = 0; j < spec->nopts; j++)
                if (strlen(spec->opts[j].name) == nl && strncmp(spec->opts[j].name, a, nl) == 0) o = &spec->opts[j];
            if (!o) return tpe_cli_usage(spec->cmd, "unknown option %.*s", (int)nl, a);
            if (o->kind == TPE_OPT_FLAG) {
                if (eq) return tpe_cli_usage(spec->cmd, "%s takes no value", o->name);
                set_value(spec, o, NULL);
                continue;
            }
            if (eq) {
                if (set_value(spec, o, eq + 1)) return 2;
            } else {
                if (i + 1 >= argc) return tpe_cli_usage(spec->cmd, "%s needs a value (%s)", o->name, o->metavar ? o->metavar : "");
                if (set_value(spec, o, argv[++i])) return 2;
            }
            continue;
        }
        if (!only_pos && strcmp(a, "-h") == 0) {
            print_help(spec);
            return -1;
        }
        if (*npos >= spec->max_pos) return tpe_cli_usage(spec->cmd, "unexpected argument '%s'", a);
        pos[(*npos)++] = argv[i];
    }
    if (*npos < spec->min_pos)
        return tpe_cli_usage(spec->cmd, "expected %s", spec->args && *spec->args ? spec->args : "more arguments");
    return 0;
}
