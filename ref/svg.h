/*
 * svg.h -- figures as SVG files, written by tpe itself (no plotting
 * dependency): scatter plots (optionally colored by a value through the
 * viridis map), lines with optional error bars, bars, reference lines,
 * linear or log axes with 1-2-5 ticks, legends, several panels per figure.
 *
 *   tpe_figure *f = tpe_figure_new(1, 2, "Fig. 2");       rows, cols, title
 *   tpe_plot *p = tpe_figure_panel(f, 0, 0);
 *   tpe_plot_labels(p, "(a) principal components", "component", "|Spearman|");
 *   tpe_plot_bars(p, x, y, n, "#4477aa", "|rho|");
 *   tpe_figure_write(f, "out/fig2.svg");                   whole or nothing
 *   tpe_figure_free(f);
 *
 * Series keep copies of their data. Non-finite points are skipped (and
 * counted in a note under the panel), never drawn at a bogus place.
 */
#ifndef TPE_SVG_H
#define TPE_SVG_H

#include <stddef.h>

typedef struct tpe_figure tpe_figure;
typedef struct tpe_plot tpe_plot;

tpe_figure *tpe_figure_new(int rows, int cols, const char *title);
tpe_plot *tpe_figure_panel(tpe_figure *f, int row, int col);
int tpe_figure_write(const tpe_figure *f, const char *path);
void tpe_figure_free(tpe_figure *f);

void tpe_plot_labels(tpe_plot *p, const char *title, const char *xlabel, const char *ylabel);
void tpe_plot_log_x(tpe_plot *p, int on);
void tpe_plot_log_y(tpe_plot *p, int on);
/* Fix an axis range (otherwise it fits the data with a small margin). */
void tpe_plot_xrange(tpe_plot *p, double lo, double hi);
void tpe_plot_yrange(tpe_plot *p, double lo, double hi);

/* Points; `value` (may be NULL) colors each point by the viridis map over
 * [0, 1] and adds a color bar titled `value_label`. color is used when
 * value is NULL ("#rrggbb" or NULL for the next palette color). */
int tpe_plot_scatter(tpe_plot *p, const double *x, const double *y, size_t n, const double *value,
                     const char *value_label, const char *color, double radius, const char *label);
/* A polyline with optional +/- yerr bars (yerr may be NULL) and markers. */
int tpe_plot_line(tpe_plot *p, const double *x, const double *y, const double *yerr, size_t n, const char *color,
                  int dashed, int markers, const char *label);
/* Vertical bars from 0 to y[i] centred at x[i]. */
int tpe_plot_bars(tpe_plot *p, const double *x, const double *y, size_t n, const char *color, const char *label);
/* Reference lines: y = a x + b across the panel, or a horizontal line. */
int tpe_plot_refline(tpe_plot *p, double a, double b, const char *color, const char *label);
/* A line of text under the panel (notes such as "R^2 = 0.91"). */
void tpe_plot_note(tpe_plot *p, const char *text);

/* Palette color i (cycled) and the viridis color of t in [0, 1]. */
const char *tpe_palette(size_t i);
void tpe_viridis(double t, char out[8]);

#endif
