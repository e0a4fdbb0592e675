/*
 * dist_mpi.c -- dist.h over MPI (built only with `make MPI=1`, by mpicc;
 * the only file of tpe that includes <mpi.h>).
 *
 * The reduction is MPI_Reduce with a user-defined operation on a datatype
 * of TPE_XSUM_LIMBS unsigned 64-bit limbs: the exact (integer) addition of
 * two long accumulators, which is associative and commutative, so whatever
 * tree MPI reduces along, process 0 ends with the exact sum of every
 * process's sums -- the same integers a single process accumulates.
 */
#include "dist.h"
#include "io.h"
#include "tpe.h"

#include <limits.h>
#include <mpi.h>

static int started, rank_, size_ = 1;

int tpe_dist_begin(void)
{
    int inited = 0;
    if (started) return TPE_OK;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS) return tpe_error(TPE_EIO, "MPI_Init failed");
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    started = 1;
    if (rank_ != 0) tpe_quiet = 1; /* one progress bar: process 0's */
    return TPE_OK;
}

void tpe_dist_end(void)
{
    int done = 0;
    if (!started) return;
    MPI_Finalized(&done);
    if (!done) MPI_Finalize();
    started = 0;
}

int tpe_dist_rank(void) { return rank_; }
int tpe_dist_size(void) { return size_; }
int tpe_dist_mpi_build(void) { return 1; }

int tpe_dist_first_failure(int rc)
{
    int mine = rc ? rank_ : size_, first = size_;
    if (size_ == 1) return rc ? 0 : -1;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return first < size_ ? first : -1;
}

/* inout[i] += in[i] for *len long accumulators, exactly */
static void xsum_op(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    /* no carry out of the top limb: every process adds below 2^78 in total
     * (positions below 2^64 of values at most 256) */
    (void)tpe_xsum_add_limbs((uint64_t *)inout, (const uint64_t *)in, (size_t)*len);
}

int tpe_dist_reduce(tpe_xsum *sums, uint64_t *counts, size_t ncounts)
{
    MPI_Datatype acc;
    MPI_Op op;
    int ok;
    if (size_ == 1) return TPE_OK;
    if (sums->n > (size_t)INT_MAX || ncounts > (size_t)INT_MAX)
        return tpe_error(TPE_EINVAL, "%zu sums are too many for one MPI message", sums->n);
    MPI_Type_contiguous(TPE_XSUM_LIMBS, MPI_UINT64_T, &acc);
    MPI_Type_commit(&acc);
    MPI_Op_create(xsum_op, 1, &op);
    ok = MPI_Reduce(rank_ == 0 ? MPI_IN_PLACE : (void *)sums->limb, sums->limb, (int)sums->n, acc, op, 0, MPI_COMM_WORLD) ==
         MPI_SUCCESS;
    if (ok)
        ok = MPI_Reduce(rank_ == 0 ? MPI_IN_PLACE : (void *)counts, counts, (int)ncounts, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD) ==
             MPI_SUCCESS;
    MPI_Op_free(&op);
    MPI_Type_free(&acc);
    return ok ? TPE_OK : tpe_error(TPE_EIO, "MPI_Reduce failed");
}
