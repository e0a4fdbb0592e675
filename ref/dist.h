/*
 * dist.h -- one command over several processes (MPI), for `tpe probe`.
 *
 * The default build has no MPI: dist_serial.c answers "one process" and
 * every collective call is a no-op there. `make MPI=1` builds with mpicc and
 * links ref/mpi/dist_mpi.c instead -- the only file that includes <mpi.h> --
 * so that `mpirun -np N ./tpe probe ...` splits the samples between the N
 * processes (process r runs every N-th sample from sample r on) and reduces
 * their exact sums (exactsum.h) onto process 0 with MPI_Reduce and an
 * exact user-defined operation: the alpha is the single process's, bit for
 * bit (docs/scaling.md).
 */
#ifndef TPE_DIST_H
#define TPE_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "exactsum.h"

/* Start (MPI_Init once). In the serial build: an error when the process was
 * started by mpirun as one of several (it would repeat the whole work). */
int tpe_dist_begin(void);
/* Finish (MPI_Finalize); call once after tpe_dist_begin succeeded. */
void tpe_dist_end(void);
/* This process and how many there are (0 and 1 without MPI). */
int tpe_dist_rank(void);
int tpe_dist_size(void);
/* 1 when built with MPI=1. */
int tpe_dist_mpi_build(void);

/* Collective: each process gives its status; returns the lowest rank whose
 * status is not TPE_OK, or -1 when every process succeeded. */
int tpe_dist_first_failure(int rc);

/* Collective: sums (the same n on every process) and counts[0..ncounts)
 * summed exactly onto process 0; the other processes' copies are left as
 * they were. Returns TPE_OK or an error (the same on every process). */
int tpe_dist_reduce(tpe_xsum *sums, uint64_t *counts, size_t ncounts);

#endif
