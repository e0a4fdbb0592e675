/*
 * tools/gen_bench_data.c -- the inputs of the least-squares and PCA
 * benchmarks in `make bench` (tools/bench.sh), written as .npy files:
 *
 *   gen_bench_data N D DIR    DIR/X.npy (N x D) and DIR/y.npy (N), '<f8'
 *
 * X[i,j] = 0.1 (j mod 7) + z_ij / sqrt(j + 1): columns with a decaying
 * spread, so the covariance spectrum decays roughly like 1/j (as an
 * embedding's does); y = 0.5 + X beta + noise, z, beta and noise N(0, 1)
 * from a fixed splitmix64 stream. Plain C99, no dependency.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t st = 0x9e3779b97f4a7c15ull;
static uint64_t next64(void)
{
    uint64_t z = (st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double unif(void) { return ((double)(next64() >> 11) + 0.5) * 0x1.0p-53; }
static double normal(void) { return sqrt(-2.0 * log(unif())) * cos(6.283185307179586 * unif()); }

/* little-endian '<f8' .npy, version 1.0, header padded to 64 bytes */
static int write_npy(const char *path, const double *x, size_t rows, size_t cols, int ndim)
{
    char hdr[128];
    unsigned char b[8];
    FILE *f = fopen(path, "wb");
    size_t i;
    int n, k;
    if (!f) return 1;
    if (ndim == 1) n = snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu,), }", rows);
    else n = snprintf(hdr, sizeof hdr, "{'descr': '<f8', 'fortran_order': False, 'shape': (%zu, %zu), }", rows, cols);
    while ((n + 10) % 64 != 63) hdr[n++] = ' ';
    hdr[n++] = '\n';
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(n & 255, f);
    fputc(n >> 8, f);
    fwrite(hdr, 1, (size_t)n, f);
    for (i = 0; i < rows * cols; i++) {
        union {
            double d;
            uint64_t u;
        } v;
        v.d = x[i];
        for (k = 0; k < 8; k++) b[k] = (unsigned char)(v.u >> (8 * k));
        fwrite(b, 1, 8, f);
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv)
{
    size_t n, d, i, j;
    double *X, *y, *beta;
    char path[4096];
    if (argc != 4) {
        fprintf(stderr, "usage: gen_bench_data N D DIR\n");
        return 2;
    }
    n = strtoul(argv[1], NULL, 10);
    d = strtoul(argv[2], NULL, 10);
    X = malloc(n * d * sizeof *X);
    y = malloc(n * sizeof *y);
    beta = malloc(d * sizeof *beta);
    if (!X || !y || !beta) return 1;
    for (j = 0; j < d; j++) beta[j] = normal();
    for (i = 0; i < n; i++) {
        double s = 0.5;
        for (j = 0; j < d; j++) {
            double x = 0.1 * (double)(j % 7) + normal() / sqrt((double)j + 1.0);
            X[i * d + j] = x;
            s += beta[j] * x;
        }
        y[i] = s + normal();
    }
    snprintf(path, sizeof path, "%s/X.npy", argv[3]);
    if (write_npy(path, X, n, d, 2)) return 1;
    snprintf(path, sizeof path, "%s/y.npy", argv[3]);
    if (write_npy(path, y, n, 1, 1)) return 1;
    return 0;
}
