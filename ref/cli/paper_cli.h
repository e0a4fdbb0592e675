/*
 * paper_cli.h -- pieces shared by the commands of the paper's Sections 2-3
 * (encoding, sparsity, steer, steer-eval): reading alpha, the embeddings
 * in double, output directories, and small list parsers.
 */
#ifndef TPE_PAPER_CLI_H
#define TPE_PAPER_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "outdir.h"

/* alpha.npy: a vector of V entries (shape (V,) or (V, 1), any float dtype),
 * finite (an error names the first NaN/Inf). Positivity is checked by the
 * regression, which names the token. *alpha is tpe_alloc'd. */
int tpe_paper_read_alpha(const char *path, size_t V, double **alpha);

/* The output embedding (which = 'o') or input embedding ('i') as a V x C
 * double matrix (tpe_alloc'd), and the head bias (NULL when none). */
int tpe_paper_embedding(const tpe_model *m, char which, double **E);
int tpe_paper_head_bias(const tpe_model *m, double **bias);

/* An output directory: a new (or empty) DIR is written as a whole through
 * outdir.h; an existing non-empty DIR receives its files one by one, each
 * whole or not at all (as `tpe pca --out`). */
typedef struct tpe_paper_out {
    tpe_outdir od;
    char *direct; /* the existing directory, or NULL */
} tpe_paper_out;
int tpe_paper_out_open(tpe_paper_out *o, const char *dir);
char *tpe_paper_out_file(const tpe_paper_out *o, const char *name); /* malloc'd path */
int tpe_paper_out_commit(tpe_paper_out *o);
void tpe_paper_out_abort(tpe_paper_out *o);
/* Write a double array of 1 or 2 dimensions into the directory. */
int tpe_paper_out_npy(const tpe_paper_out *o, const char *name, int ndim, size_t d0, size_t d1, const double *x);

/* "a,b,c" -> doubles (each must parse; "inf", "-inf" allowed when
 * allow_inf). *v malloc'd. Returns 0 or -1 with *bad the offending word. */
int tpe_paper_parse_list(const char *s, int allow_inf, double **v, size_t *n, char *bad, size_t badcap);

#endif
