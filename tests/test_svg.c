/*
 * test_svg.c -- figures are well-formed, finite and skip bad points.
 */
#include "io.h"
#include "svg.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    const char *p = hay;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += strlen(needle);
    }
    return n;
}

TEST(svg_figure_is_well_formed)
{
    double x[5] = {1, 2, 3, 4, 5}, y[5] = {0.1, 0.4, (double)NAN, 0.9, 1.6}, v[5] = {0, 0.25, 0.5, 0.75, 1};
    double e[5] = {0.05, 0.05, 0.05, 0.05, 0.05};
    char path[512], *text = NULL;
    size_t len;
    tpe_figure *f = tpe_figure_new(1, 2, "A <test> & figure");
    tpe_plot *a, *b;
    CHECK(f != NULL);
    if (!f) return;
    a = tpe_figure_panel(f, 0, 0);
    b = tpe_figure_panel(f, 0, 1);
    CHECK(tpe_figure_panel(f, 1, 0) == NULL);
    tpe_plot_labels(a, "(a) scatter", "x", "y");
    CHECK_OK(tpe_plot_scatter(a, x, y, 5, v, "alpha percentile", NULL, 3, "points"));
    CHECK_OK(tpe_plot_refline(a, 1.0, 0.0, NULL, "y = x"));
    tpe_plot_note(a, "R^2 = 0.91");
    tpe_plot_labels(b, "(b) lines, log y", "x", "y");
    tpe_plot_log_y(b, 1);
    CHECK_OK(tpe_plot_line(b, x, y, e, 5, NULL, 0, 1, "mean +/- sd"));
    CHECK_OK(tpe_plot_bars(b, x, x, 5, NULL, "bars"));
    snprintf(path, sizeof path, "%s/fig.svg", tt_tmpdir());
    CHECK_OK(tpe_figure_write(f, path));
    tpe_figure_free(f);
    CHECK_OK(tpe_read_text(path, &text, &len));
    if (!text) return;
    CHECK(strncmp(text, "<?xml", 5) == 0);
    CHECK(count(text, "<svg") == 1 && count(text, "</svg>") == 1);
    CHECK(count(text, "<g>") + count(text, "<g clip-path") == count(text, "</g>"));
    CHECK(strstr(text, "A &lt;test&gt; &amp; figure") != NULL);
    CHECK(strstr(text, "nan") == NULL && strstr(text, "inf") == NULL);
    CHECK(count(text, "not drawn") == 2); /* the NaN point in both panels */
    CHECK(strstr(text, "R^2 = 0.91") != NULL);
    free(text);
}

TEST(svg_viridis_endpoints)
{
    char c[8];
    tpe_viridis(0.0, c);
    CHECK(strcmp(c, "#440154") == 0);
    tpe_viridis(1.0, c);
    CHECK(strcmp(c, "#fde725") == 0);
    tpe_viridis((double)NAN, c);
    CHECK(strcmp(c, "#440154") == 0);
}
