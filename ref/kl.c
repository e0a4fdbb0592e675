/*
 * kl.c -- KL divergences between averaged distributions (kl.h).
 */
#include "kl.h"

#include <math.h>

double tpe_kl(const double *p, const double *q, size_t V)
{
    size_t v;
    double s = 0.0;
    for (v = 0; v < V; v++) {
        if (p[v] == 0.0) continue;
        if (!(q[v] > 0.0)) return HUGE_VAL;
        s += p[v] * log(p[v] / q[v]);
    }
    return s;
}

/* -sum p~ log1p(-x) + log1p(-sum d / P), with x_v = d_v / p_v; d given by
 * d[v] or, when d is NULL, as p[v] - q[v]. */
static double kl_renorm(const double *p, const double *q, const double *d, size_t V, size_t skip)
{
    size_t v;
    double P = 0.0, first = 0.0, dsum = 0.0;
    for (v = 0; v < V; v++)
        if (v != skip) P += p[v];
    if (!(P > 0.0)) return (double)NAN;
    for (v = 0; v < V; v++) {
        double dv, x;
        if (v == skip) continue;
        dv = d ? d[v] : p[v] - q[v];
        dsum += dv;
        if (p[v] == 0.0) continue;
        x = dv / p[v];
        if (!(x < 1.0)) return HUGE_VAL; /* q_v <= 0 where p_v > 0 */
        first -= p[v] * log1p(-x);
    }
    return first / P + log1p(-dsum / P);
}

double tpe_kl_without(const double *p, const double *q, size_t V, size_t skip) { return kl_renorm(p, q, NULL, V, skip); }

double tpe_kl_without_change(const double *p, const double *d, size_t V, size_t skip) { return kl_renorm(p, NULL, d, V, skip); }
