/*
 * kmeans.h -- k-means clustering (Lloyd's algorithm) with greedy k-means++
 * seeding and restarts: the quantization step of MAUVE (mauve.h).
 *
 * X is n x d row-major in double. Each run:
 *
 *   seeding   greedy k-means++ (Arthur & Vassilvitskii, "k-means++: the
 *             advantages of careful seeding", SODA 2007, with the greedy
 *             choice of scikit-learn's _kmeans_plusplus): the first center is
 *             a point drawn uniformly; each next one is the best, by the
 *             resulting sum of squared distances, of 2 + floor(ln k)
 *             candidates drawn with probability proportional to D(x)^2, the
 *             squared distance to the nearest center chosen so far.
 *   Lloyd     assign every point to its nearest center (ties: the lower
 *             index), move each center to the mean of its points; stop when
 *             no assignment changes (a fixed point: further iterations would
 *             change nothing) or after max_iter updates.
 *   empty     a cluster left without points takes the point farthest from
 *             its center among clusters of two or more (ties: the lower
 *             index), so no center is lost.
 *
 * After the last update every point is assigned once more to the nearest
 * final center (as faiss's index search after training); the inertia is
 * the sum of squared distances of that assignment. Of `restarts` runs, all
 * drawn from one generator seeded with `seed` (rng.h), the one with the
 * lowest inertia is kept (ties: the earlier run). Distances are plain sums
 * of squared differences in double (no ||x||^2 - 2 x.c + ||c||^2 shortcut,
 * which cancels for nearby points).
 */
#ifndef TPE_KMEANS_H
#define TPE_KMEANS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tpe_kmeans_opts {
    size_t restarts;  /* 0: 5                          */
    size_t max_iter;  /* 0: 500 center updates per run */
    uint64_t seed;
} tpe_kmeans_opts;

void tpe_kmeans_opts_default(tpe_kmeans_opts *o);

typedef struct tpe_kmeans_result {
    size_t n, d, k;
    double *centers;   /* k x d                                   */
    size_t *labels;    /* n: the cluster of each point            */
    double inertia;    /* sum of squared distances to the centers */
    size_t iterations; /* center updates of the kept run          */
    int converged;     /* 1: the kept run reached a fixed point   */
    size_t best_run;   /* which restart was kept (0-based)        */
} tpe_kmeans_result;

/* Cluster X (n x d, finite) into k clusters, 1 <= k <= n. Fills *out (free
 * with tpe_kmeans_free); on failure *out holds no memory. */
int tpe_kmeans(const double *X, size_t n, size_t d, size_t k, const tpe_kmeans_opts *opts, tpe_kmeans_result *out);
void tpe_kmeans_free(tpe_kmeans_result *r);

#endif
