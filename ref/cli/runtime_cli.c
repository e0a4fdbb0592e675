/*
 * runtime_cli.c -- helpers shared by the model commands.
 */
#include "runtime_cli.h"
#include "tpe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tpe_parse_ids(const char *s, const char *what, int32_t **ids, size_t *n)
{
    size_t cap = 0, k = 0, word = 0;
    int32_t *v = NULL;
    *ids = NULL;
    *n = 0;
    while (*s) {
        char *end;
        unsigned long long x;
        if (*s == ' ' || *s == '\t' || *s == ',' || *s == '\n' || *s == '\r') {
            s++;
            continue;
        }
        if (*s < '0' || *s > '9') {
            free(v);
            return tpe_error(TPE_EINVAL, "%s: word %zu ('%.20s') is not a token id", what, word, s);
        }
        errno = 0;
        x = strtoull(s, &end, 10);
        if (errno || x > 0x7fffffffULL || (*end && *end != ' ' && *end != '\t' && *end != ',' && *end != '\n' && *end != '\r')) {
            free(v);
            return tpe_error(TPE_EINVAL, "%s: word %zu ('%.20s') is not a token id", what, word, s);
        }
        if (k == cap) {
            size_t nc = cap ? 2 * cap : 64;
            int32_t *nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                free(v);
                return tpe_error(TPE_ENOMEM, "out of memory reading %s", what);
            }
            v = nv;
            cap = nc;
        }
        v[k++] = (int32_t)x;
        word++;
        s = end;
    }
    *ids = v;
    *n = k;
    return TPE_OK;
}

int tpe_cli_load_model(const char *dir, tpe_model **m)
{
    tpe_model_options o;
    tpe_model_options_default(&o);
    return tpe_model_load(dir, &o, m);
}

int tpe_cli_precision(const char *s)
{
    if (strcmp(s, "f32") == 0) return 0;
    if (strcmp(s, "f64") == 0) return 1;
    return -1;
}
