/*
 * vec.c -- scalar vector kernels: the portable path and the oracle twins of
 * vec_avx2.c and vec_neon.c.
 */
#include "kernels_impl.h"

float tpe_sdot_scalar(const float *x, const float *y, size_t n)
{
    float s = 0.0f;
    size_t i;
    for (i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

double tpe_ddot_scalar(const double *x, const double *y, size_t n)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++) s += x[i] * y[i];
    return s;
}

void tpe_saxpy_scalar(size_t n, float a, const float *x, float *y)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] += a * x[i];
}

void tpe_daxpy_scalar(size_t n, double a, const double *x, double *y)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] += a * x[i];
}
