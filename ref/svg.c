/*
 * svg.c -- SVG figures (see svg.h).
 */
#include "svg.h"
#include "io.h"
#include "tpe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PANEL_W = 480, PANEL_H = 340, MARGIN_L = 72, MARGIN_R = 24, MARGIN_T = 34, MARGIN_B = 52, CBAR_W = 70,
       NOTE_H = 16, TITLE_H = 30 };

typedef enum { S_SCATTER, S_LINE, S_BARS, S_REFLINE } series_kind;

typedef struct series {
    series_kind kind;
    double *x, *y, *yerr, *value;
    size_t n;
    char color[16];
    char *label, *value_label;
    double radius, a, b;
    int dashed, markers;
} series;

struct tpe_plot {
    char *title, *xlabel, *ylabel;
    int logx, logy, fixed_x, fixed_y;
    double xlo, xhi, ylo, yhi;
    series *s;
    size_t ns, cap;
    char **notes;
    size_t nnotes;
    size_t palette_next;
};

struct tpe_figure {
    int rows, cols;
    char *title;
    tpe_plot *panels;
};

static char *dup_or_null(const char *s) { return s ? tpe_strdup(s) : NULL; }

tpe_figure *tpe_figure_new(int rows, int cols, const char *title)
{
    tpe_figure *f;
    if (rows < 1 || cols < 1 || rows > 16 || cols > 16) return NULL;
    f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->rows = rows;
    f->cols = cols;
    f->title = dup_or_null(title);
    f->panels = calloc((size_t)rows * (size_t)cols, sizeof *f->panels);
    if (!f->panels) {
        free(f->title);
        free(f);
        return NULL;
    }
    return f;
}

tpe_plot *tpe_figure_panel(tpe_figure *f, int row, int col)
{
    if (!f || row < 0 || col < 0 || row >= f->rows || col >= f->cols) return NULL;
    return &f->panels[row * f->cols + col];
}

static void plot_free(tpe_plot *p)
{
    size_t i;
    for (i = 0; i < p->ns; i++) {
        free(p->s[i].x);
        free(p->s[i].y);
        free(p->s[i].yerr);
        free(p->s[i].value);
        free(p->s[i].label);
        free(p->s[i].value_label);
    }
    free(p->s);
    for (i = 0; i < p->nnotes; i++) free(p->notes[i]);
    free(p->notes);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
}

void tpe_figure_free(tpe_figure *f)
{
    int i;
    if (!f) return;
    for (i = 0; i < f->rows * f->cols; i++) plot_free(&f->panels[i]);
    free(f->panels);
    free(f->title);
    free(f);
}

void tpe_plot_labels(tpe_plot *p, const char *title, const char *xlabel, const char *ylabel)
{
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    p->title = dup_or_null(title);
    p->xlabel = dup_or_null(xlabel);
    p->ylabel = dup_or_null(ylabel);
}

void tpe_plot_log_x(tpe_plot *p, int on) { p->logx = on; }
void tpe_plot_log_y(tpe_plot *p, int on) { p->logy = on; }

void tpe_plot_xrange(tpe_plot *p, double lo, double hi)
{
    p->fixed_x = 1;
    p->xlo = lo;
    p->xhi = hi;
}

void tpe_plot_yrange(tpe_plot *p, double lo, double hi)
{
    p->fixed_y = 1;
    p->ylo = lo;
    p->yhi = hi;
}

const char *tpe_palette(size_t i)
{
    /* Paul Tol's "bright" qualitative scheme, readable by colour-blind readers */
    static const char *const pal[] = {"#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb"};
    return pal[i % (sizeof pal / sizeof pal[0])];
}

void tpe_viridis(double t, char out[8])
{
    /* nine samples of matplotlib's viridis map, linearly interpolated */
    static const unsigned char c[9][3] = {{68, 1, 84},    {72, 40, 120},  {62, 73, 137},
                                          {49, 104, 142}, {38, 130, 142}, {31, 158, 137},
                                          {53, 183, 121}, {110, 206, 88}, {253, 231, 37}};
    double u;
    int i, k;
    unsigned rgb[3];
    if (!(t >= 0.0)) t = 0.0;
    if (t > 1.0) t = 1.0;
    u = t * 8.0;
    i = (int)u;
    if (i > 7) i = 7;
    u -= (double)i;
    for (k = 0; k < 3; k++) rgb[k] = (unsigned)lround((1.0 - u) * c[i][k] + u * c[i + 1][k]);
    snprintf(out, 8, "#%02x%02x%02x", rgb[0] & 0xffu, rgb[1] & 0xffu, rgb[2] & 0xffu);
}

static double *copy_vec(const double *v, size_t n)
{
    double *c;
    if (!v) return NULL;
    c = malloc((n ? n : 1) * sizeof *c);
    if (c && n) memcpy(c, v, n * sizeof *c);
    return c;
}

static series *add_series(tpe_plot *p, series_kind kind, const char *color, const char *label)
{
    series *s;
    if (p->ns == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 4;
        series *ns = realloc(p->s, nc * sizeof *ns);
        if (!ns) return NULL;
        p->s = ns;
        p->cap = nc;
    }
    s = &p->s[p->ns++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    snprintf(s->color, sizeof s->color, "%s", color ? color : tpe_palette(p->palette_next++));
    s->label = dup_or_null(label);
    return s;
}

int tpe_plot_scatter(tpe_plot *p, const double *x, const double *y, size_t n, const double *value,
                     const char *value_label, const char *color, double radius, const char *label)
{
    series *s = add_series(p, S_SCATTER, color, label);
    if (!s) return tpe_error(TPE_ENOMEM, "out of memory adding a scatter series");
    s->x = copy_vec(x, n);
    s->y = copy_vec(y, n);
    s->value = copy_vec(value, n);
    s->value_label = dup_or_null(value_label);
    s->n = n;
    s->radius = radius > 0 ? radius : 2.0;
    if (!s->x || !s->y || (value && !s->value)) return tpe_error(TPE_ENOMEM, "out of memory adding a scatter series");
    return TPE_OK;
}

int tpe_plot_line(tpe_plot *p, const double *x, const double *y, const double *yerr, size_t n, const char *color,
                  int dashed, int markers, const char *label)
{
    series *s = add_series(p, S_LINE, color, label);
    if (!s) return tpe_error(TPE_ENOMEM, "out of memory adding a line");
    s->x = copy_vec(x, n);
    s->y = copy_vec(y, n);
    s->yerr = copy_vec(yerr, n);
    s->n = n;
    s->dashed = dashed;
    s->markers = markers;
    if (!s->x || !s->y || (yerr && !s->yerr)) return tpe_error(TPE_ENOMEM, "out of memory adding a line");
    return TPE_OK;
}

int tpe_plot_bars(tpe_plot *p, const double *x, const double *y, size_t n, const char *color, const char *label)
{
    series *s = add_series(p, S_BARS, color, label);
    if (!s) return tpe_error(TPE_ENOMEM, "out of memory adding bars");
    s->x = copy_vec(x, n);
    s->y = copy_vec(y, n);
    s->n = n;
    if (!s->x || !s->y) return tpe_error(TPE_ENOMEM, "out of memory adding bars");
    return TPE_OK;
}

int tpe_plot_refline(tpe_plot *p, double a, double b, const char *color, const char *label)
{
    series *s = add_series(p, S_REFLINE, color ? color : "#888888", label);
    if (!s) return tpe_error(TPE_ENOMEM, "out of memory adding a reference line");
    s->a = a;
    s->b = b;
    s->dashed = 1;
    return TPE_OK;
}

void tpe_plot_note(tpe_plot *p, const char *text)
{
    char **nn = realloc(p->notes, (p->nnotes + 1) * sizeof *nn);
    if (!nn) return;
    p->notes = nn;
    p->notes[p->nnotes] = tpe_strdup(text);
    if (p->notes[p->nnotes]) p->nnotes++;
}

/* ---- drawing ----------------------------------------------------------- */
typedef struct axis {
    int log;
    double lo, hi; /* in data units (log10 units when log) */
} axis;

static int usable(double v, int log) { return isfinite(v) && (!log || v > 0.0); }
static double tx(double v, int log) { return log ? log10(v) : v; }

static void fit_axis(axis *ax, int log, int fixed, double flo, double fhi, double dlo, double dhi)
{
    ax->log = log;
    if (fixed && flo < fhi && (!log || flo > 0)) {
        ax->lo = tx(flo, log);
        ax->hi = tx(fhi, log);
        return;
    }
    if (!(dlo <= dhi)) {
        dlo = log ? 1.0 : 0.0;
        dhi = log ? 10.0 : 1.0;
    }
    ax->lo = tx(dlo, log);
    ax->hi = tx(dhi, log);
    if (ax->hi - ax->lo < 1e-12 * (fabs(ax->lo) + fabs(ax->hi)) || ax->hi == ax->lo) {
        double w = fabs(ax->lo) > 0 ? 0.1 * fabs(ax->lo) : 1.0;
        ax->lo -= w;
        ax->hi += w;
    } else {
        double m = 0.04 * (ax->hi - ax->lo);
        ax->lo -= m;
        ax->hi += m;
    }
}

/* Tick step from the 1-2-5 sequence giving at most ~7 ticks. */
static double nice_step(double span)
{
    double raw = span / 6.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * mag;
}

static void fmt_tick(char *buf, size_t cap, double v, int log)
{
    if (log) {
        double e = floor(v + 0.5);
        if (fabs(v - e) < 1e-9) {
            if (e >= -3 && e <= 4) snprintf(buf, cap, "%g", pow(10.0, e));
            else snprintf(buf, cap, "1e%d", (int)e);
            return;
        }
        snprintf(buf, cap, "%.3g", pow(10.0, v));
        return;
    }
    if (fabs(v) < 1e-12) v = 0.0;
    snprintf(buf, cap, "%.4g", v);
}

static void xml_text(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        default: fputc(*s, o);
        }
    }
}

typedef struct frame {
    double x0, y0, w, h; /* plotting area in SVG units */
    axis ax, ay;
} frame;

static double px(const frame *fr, double v) { return fr->x0 + (tx(v, fr->ax.log) - fr->ax.lo) / (fr->ax.hi - fr->ax.lo) * fr->w; }
static double py(const frame *fr, double v) { return fr->y0 + fr->h - (tx(v, fr->ay.log) - fr->ay.lo) / (fr->ay.hi - fr->ay.lo) * fr->h; }

static void draw_ticks(FILE *o, const frame *fr, int vertical)
{
    const axis *a = vertical ? &fr->ay : &fr->ax;
    double step, v, first;
    char buf[32];
    if (a->log && a->hi - a->lo <= 3.0) {
        /* short log axis: 1, 2, 5 in each decade */
        static const double mult[3] = {1.0, 2.0, 5.0};
        double d;
        int m;
        for (d = floor(a->lo); d <= a->hi; d += 1.0)
            for (m = 0; m < 3; m++) {
                double lv = d + log10(mult[m]), pos;
                if (lv < a->lo || lv > a->hi) continue;
                pos = vertical ? fr->y0 + fr->h - (lv - a->lo) / (a->hi - a->lo) * fr->h
                               : fr->x0 + (lv - a->lo) / (a->hi - a->lo) * fr->w;
                snprintf(buf, sizeof buf, "%g", mult[m] * pow(10.0, d));
                if (vertical) {
                    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", fr->x0, pos, fr->x0 + fr->w, pos);
                    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%s</text>\n", fr->x0 - 5, pos + 4, buf);
                } else {
                    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", pos, fr->y0, pos, fr->y0 + fr->h);
                    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%s</text>\n", pos, fr->y0 + fr->h + 15, buf);
                }
            }
        return;
    }
    if (a->log) step = ceil((a->hi - a->lo) / 7.0);
    else step = nice_step(a->hi - a->lo);
    first = ceil(a->lo / step) * step;
    for (v = first; v <= a->hi + 1e-9 * step; v += step) {
        double pos = vertical ? fr->y0 + fr->h - (v - a->lo) / (a->hi - a->lo) * fr->h
                              : fr->x0 + (v - a->lo) / (a->hi - a->lo) * fr->w;
        fmt_tick(buf, sizeof buf, v, a->log);
        if (vertical) {
            fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", fr->x0, pos, fr->x0 + fr->w, pos);
            fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%s</text>\n", fr->x0 - 5, pos + 4, buf);
        } else {
            fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", pos, fr->y0, pos, fr->y0 + fr->h);
            fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%s</text>\n", pos, fr->y0 + fr->h + 15, buf);
        }
    }
}

static int has_colorbar(const tpe_plot *p)
{
    size_t i;
    for (i = 0; i < p->ns; i++)
        if (p->s[i].kind == S_SCATTER && p->s[i].value) return 1;
    return 0;
}

static void draw_panel(FILE *o, const tpe_plot *p, double ox, double oy)
{
    size_t skipped = 0;
    frame fr;
    double xlo = HUGE_VAL, xhi = -HUGE_VAL, ylo = HUGE_VAL, yhi = -HUGE_VAL;
    size_t i, j, legend = 0;
    int cbar = has_colorbar(p);
    char col[8];
    const char *cbar_label = NULL;

    for (i = 0; i < p->ns; i++) {
        const series *s = &p->s[i];
        for (j = 0; j < s->n; j++) {
            double y = s->y[j], lo = y, hi = y;
            if (!usable(s->x[j], p->logx) || !usable(y, p->logy)) continue;
            if (s->yerr && isfinite(s->yerr[j])) {
                lo = y - fabs(s->yerr[j]);
                hi = y + fabs(s->yerr[j]);
                if (p->logy && lo <= 0) lo = y;
            }
            if (s->kind == S_BARS && !p->logy) {
                if (0.0 < lo) lo = 0.0;
                if (0.0 > hi) hi = 0.0;
            }
            if (s->x[j] < xlo) xlo = s->x[j];
            if (s->x[j] > xhi) xhi = s->x[j];
            if (lo < ylo) ylo = lo;
            if (hi > yhi) yhi = hi;
        }
        if (s->kind == S_BARS && s->n > 1 && !p->logx) {
            double half = 0.5 * (xhi - xlo) / (double)(s->n - 1);
            xlo -= half;
            xhi += half;
        }
    }
    fr.x0 = ox + MARGIN_L;
    fr.y0 = oy + MARGIN_T;
    fr.w = PANEL_W - MARGIN_L - MARGIN_R - (cbar ? CBAR_W : 0);
    fr.h = PANEL_H - MARGIN_T - MARGIN_B;
    fit_axis(&fr.ax, p->logx, p->fixed_x, p->xlo, p->xhi, xlo, xhi);
    fit_axis(&fr.ay, p->logy, p->fixed_y, p->ylo, p->yhi, ylo, yhi);

    fprintf(o, "<g>\n");
    if (p->title) {
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">", fr.x0 + fr.w / 2, oy + 20);
        xml_text(o, p->title);
        fputs("</text>\n", o);
    }
    draw_ticks(o, &fr, 0);
    draw_ticks(o, &fr, 1);
    fprintf(o, "<clipPath id=\"clip%.0f_%.0f\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n", ox, oy,
            fr.x0, fr.y0, fr.w, fr.h);
    fprintf(o, "<g clip-path=\"url(#clip%.0f_%.0f)\">\n", ox, oy);
    for (i = 0; i < p->ns; i++) {
        const series *s = &p->s[i];
        switch (s->kind) {
        case S_SCATTER:
            for (j = 0; j < s->n; j++) {
                const char *c = s->color;
                if (!usable(s->x[j], p->logx) || !usable(s->y[j], p->logy)) {
                    skipped++;
                    continue;
                }
                if (s->value) {
                    tpe_viridis(s->value[j], col);
                    c = col;
                    cbar_label = s->value_label;
                }
                fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" fill-opacity=\"0.75\"/>\n", px(&fr, s->x[j]),
                        py(&fr, s->y[j]), s->radius, c);
            }
            break;
        case S_LINE: {
            int open = 0;
            for (j = 0; j < s->n; j++) {
                if (!usable(s->x[j], p->logx) || !usable(s->y[j], p->logy)) {
                    skipped++;
                    if (open) fputs("\"/>\n", o);
                    open = 0;
                    continue;
                }
                if (!open) {
                    fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s points=\"", s->color,
                            s->dashed ? " stroke-dasharray=\"6,4\"" : "");
                    open = 1;
                }
                fprintf(o, "%.1f,%.1f ", px(&fr, s->x[j]), py(&fr, s->y[j]));
            }
            if (open) fputs("\"/>\n", o);
            for (j = 0; j < s->n; j++) {
                double x, y;
                if (!usable(s->x[j], p->logx) || !usable(s->y[j], p->logy)) continue;
                x = px(&fr, s->x[j]);
                y = py(&fr, s->y[j]);
                if (s->yerr && isfinite(s->yerr[j]) && s->yerr[j] != 0.0) {
                    double lo = s->y[j] - fabs(s->yerr[j]), hi = s->y[j] + fabs(s->yerr[j]);
                    if (p->logy && lo <= 0) lo = s->y[j];
                    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", x, py(&fr, lo), x,
                            py(&fr, hi), s->color);
                }
                if (s->markers) fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", x, y, s->color);
            }
            break;
        }
        case S_BARS: {
            double bw = s->n > 1 ? 0.8 * fr.w / (double)s->n : 0.3 * fr.w;
            double base = p->logy ? (fr.ay.lo) : 0.0;
            for (j = 0; j < s->n; j++) {
                double x, y0, y1;
                if (!usable(s->x[j], p->logx) || !usable(s->y[j], p->logy)) {
                    skipped++;
                    continue;
                }
                x = px(&fr, s->x[j]);
                y1 = py(&fr, s->y[j]);
                y0 = p->logy ? fr.y0 + fr.h - (base - fr.ay.lo) / (fr.ay.hi - fr.ay.lo) * fr.h : py(&fr, 0.0);
                fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", x - bw / 2,
                        y1 < y0 ? y1 : y0, bw > 0.5 ? bw : 0.5, fabs(y0 - y1), s->color);
            }
            break;
        }
        case S_REFLINE: {
            /* sample the line across the visible x range (works on log axes too) */
            int k, open = 0;
            for (k = 0; k <= 64; k++) {
                double xv = fr.ax.lo + (fr.ax.hi - fr.ax.lo) * k / 64.0, x = fr.ax.log ? pow(10.0, xv) : xv;
                double y = s->a * x + s->b;
                if (!usable(y, p->logy)) continue;
                if (!open) {
                    fprintf(o, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.2\" stroke-dasharray=\"4,4\" points=\"", s->color);
                    open = 1;
                }
                fprintf(o, "%.1f,%.1f ", px(&fr, x), py(&fr, y));
            }
            if (open) fputs("\"/>\n", o);
            break;
        }
        }
    }
    fputs("</g>\n", o);
    fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n", fr.x0, fr.y0, fr.w, fr.h);
    if (p->xlabel) {
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">", fr.x0 + fr.w / 2, fr.y0 + fr.h + 34);
        xml_text(o, p->xlabel);
        fputs("</text>\n", o);
    }
    if (p->ylabel) {
        fprintf(o, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">", ox + 16,
                fr.y0 + fr.h / 2);
        xml_text(o, p->ylabel);
        fputs("</text>\n", o);
    }
    /* legend, top left inside the frame */
    for (i = 0; i < p->ns; i++) {
        const series *s = &p->s[i];
        double ly;
        if (!s->label) continue;
        ly = fr.y0 + 14 + 15 * (double)legend++;
        if (s->kind == S_LINE || s->kind == S_REFLINE)
            fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", fr.x0 + 8,
                    ly - 4, fr.x0 + 26, ly - 4, s->color, s->dashed ? " stroke-dasharray=\"4,3\"" : "");
        else
            fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"9\" fill=\"%s\"/>\n", fr.x0 + 10, ly - 9, s->color);
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">", fr.x0 + 32, ly);
        xml_text(o, s->label);
        fputs("</text>\n", o);
    }
    if (cbar) {
        double bx = fr.x0 + fr.w + 18, by = fr.y0, bh = fr.h;
        int k;
        for (k = 0; k < 50; k++) {
            tpe_viridis((double)k / 49.0, col);
            fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"%.2f\" fill=\"%s\"/>\n", bx, by + bh - (k + 1) * bh / 50.0,
                    bh / 50.0 + 0.3, col);
        }
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">1</text>\n", bx + 15, by + 8);
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">0</text>\n", bx + 15, by + bh);
        if (cbar_label) {
            fprintf(o, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">", bx + 40,
                    by + bh / 2);
            xml_text(o, cbar_label);
            fputs("</text>\n", o);
        }
    }
    for (i = 0; i < p->nnotes; i++) {
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#333\">", fr.x0, oy + PANEL_H + NOTE_H * (double)i + 4);
        xml_text(o, p->notes[i]);
        fputs("</text>\n", o);
    }
    if (skipped) {
        fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#a00\" text-anchor=\"end\">%zu non-finite or non-positive point%s not drawn</text>\n",
                fr.x0 + fr.w, fr.y0 - 4, skipped, skipped == 1 ? "" : "s");
    }
    fputs("</g>\n", o);
}

int tpe_figure_write(const tpe_figure *f, const char *path)
{
    tpe_outfile out;
    size_t max_notes = 0;
    int r, c, i, rc;
    double W, H, rowh;
    if (!f) return tpe_error(TPE_EINVAL, "%s: no figure", path);
    for (i = 0; i < f->rows * f->cols; i++)
        if (f->panels[i].nnotes > max_notes) max_notes = f->panels[i].nnotes;
    rowh = PANEL_H + NOTE_H * (double)max_notes + (max_notes ? 6 : 0);
    W = PANEL_W * (double)f->cols;
    H = rowh * (double)f->rows + (f->title ? TITLE_H : 0);
    rc = tpe_out_open(&out, path);
    if (rc) return rc;
    fprintf(out.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out.f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                   "font-family=\"Helvetica, Arial, sans-serif\">\n", W, H, W, H);
    fprintf(out.f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    if (f->title) {
        fprintf(out.f, "<text x=\"%.1f\" y=\"21\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">", W / 2);
        xml_text(out.f, f->title);
        fputs("</text>\n", out.f);
    }
    for (r = 0; r < f->rows; r++)
        for (c = 0; c < f->cols; c++)
            draw_panel(out.f, &f->panels[r * f->cols + c], PANEL_W * (double)c, (f->title ? TITLE_H : 0) + rowh * (double)r);
    fputs("</svg>\n", out.f);
    return tpe_out_commit(&out);
}
