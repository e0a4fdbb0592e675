/*
 * prune_cli.h -- what `tpe prune` and `tpe prune-curve` share
 * (implemented in cmd_prune.c).
 */
#ifndef TPE_PRUNE_CLI_H
#define TPE_PRUNE_CLI_H

#include <stddef.h>

#include "array.h"

/* alpha from a .npy file, as doubles, with shape (V,) (error otherwise). */
int tpe_prune_cli_read_alpha(const char *path, size_t V, tpe_array *a);

#endif
