/*
 * dist_serial.c -- dist.h without MPI: one process. (With `make MPI=1`
 * ref/mpi/dist_mpi.c replaces this file.)
 */
#include "dist.h"
#include "tpe.h"

#include <stdlib.h>

/* the process counts Open MPI's and PMI launchers (mpirun, srun --mpi) export */
static long launched_as(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *s = getenv(vars[i]);
        char *end;
        long n;
        if (!s || !*s) continue;
        n = strtol(s, &end, 10);
        if (!*end && n > 1) return n;
    }
    return 1;
}

int tpe_dist_begin(void)
{
    long n = launched_as();
    if (n > 1)
        return tpe_error(TPE_EUNSUPPORTED,
                         "started as one of %ld MPI processes, but this tpe was built without MPI: every process would "
                         "repeat the whole run (build with make MPI=1, or split the work with --shard I/N)",
                         n);
    return TPE_OK;
}

void tpe_dist_end(void) {}
int tpe_dist_rank(void) { return 0; }
int tpe_dist_size(void) { return 1; }
int tpe_dist_mpi_build(void) { return 0; }
int tpe_dist_first_failure(int rc) { return rc ? 0 : -1; }

int tpe_dist_reduce(tpe_xsum *sums, uint64_t *counts, size_t ncounts)
{
    (void)sums;
    (void)counts;
    (void)ncounts;
    return TPE_OK;
}
