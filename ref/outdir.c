/*
 * outdir.c -- whole-or-nothing output directories (outdir.h).
 */
#include "outdir.h"
#include "platform.h"
#include "tpe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tpe_outdir_open(tpe_outdir *d, const char *path)
{
    size_t n = strlen(path) + 40;
    int rc;
    d->path = NULL;
    d->tmp = NULL;
    if (tpe_is_dir(path)) {
        char **names;
        size_t count;
        if ((rc = tpe_list_dir(path, &names, &count))) return rc;
        tpe_free_names(names, count);
        if (count) return tpe_error(TPE_EIO, "%s: already exists and is not empty; choose a new directory", path);
    } else if (tpe_is_file(path)) {
        return tpe_error(TPE_EIO, "%s: exists and is a file", path);
    }
    d->path = tpe_strdup(path);
    d->tmp = malloc(n);
    if (!d->path || !d->tmp) {
        free(d->path);
        free(d->tmp);
        d->path = d->tmp = NULL;
        return tpe_error(TPE_ENOMEM, "out of memory");
    }
    snprintf(d->tmp, n, "%s.tmp.%ld", path, tpe_process_id());
    if ((rc = tpe_mkdir(d->tmp))) {
        free(d->path);
        free(d->tmp);
        d->path = d->tmp = NULL;
        return rc;
    }
    return TPE_OK;
}

char *tpe_outdir_file(const tpe_outdir *d, const char *name) { return tpe_path_join(d->tmp, name); }

void tpe_outdir_abort(tpe_outdir *d)
{
    char **names;
    size_t n, i;
    if (!d->tmp) return;
    if (tpe_list_dir(d->tmp, &names, &n) == TPE_OK) {
        for (i = 0; i < n; i++) {
            char *p = tpe_path_join(d->tmp, names[i]);
            if (p) remove(p);
            free(p);
        }
        tpe_free_names(names, n);
    }
    remove(d->tmp);
    free(d->path);
    free(d->tmp);
    d->path = d->tmp = NULL;
}

int tpe_outdir_commit(tpe_outdir *d)
{
    if (rename(d->tmp, d->path) != 0) {
        int rc = tpe_error(TPE_EIO, "%s: cannot move %s into place", d->path, d->tmp);
        tpe_outdir_abort(d);
        return rc;
    }
    free(d->path);
    free(d->tmp);
    d->path = d->tmp = NULL;
    return TPE_OK;
}
