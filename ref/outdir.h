/*
 * outdir.h -- an output directory written whole or not at all: files go
 * into "<path>.tmp.<pid>", which is renamed to <path> on commit and
 * removed on abort. <path> must not exist, or be an empty directory.
 */
#ifndef TPE_OUTDIR_H
#define TPE_OUTDIR_H

typedef struct tpe_outdir {
    char *path;     /* final name            */
    char *tmp;      /* where files go now    */
} tpe_outdir;

int tpe_outdir_open(tpe_outdir *d, const char *path);
/* A new string "<tmp>/<name>" (free it); NULL after an error message. */
char *tpe_outdir_file(const tpe_outdir *d, const char *name);
int tpe_outdir_commit(tpe_outdir *d);
void tpe_outdir_abort(tpe_outdir *d);

#endif
