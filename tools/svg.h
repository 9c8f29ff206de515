/* A tiny SVG writer for the `sbp` command (no dependencies): line plots
 * and heat maps.
 *
 * One chart: several series, each a line through (x[i], y[i]) with an
 * optional shaded band lo[i]..hi[i], linear axes with "nice" ticks, axis
 * labels, a title and a legend. Points whose y is not finite are skipped
 * (the line is broken there). */
#ifndef SBP_TOOL_SVG_H
#define SBP_TOOL_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct svg_series {
    const char *name;   /* legend text */
    const char *color;  /* CSS colour, e.g. "#1f77b4"; NULL: a default palette entry */
    size_t n;           /* number of points */
    const double *x;
    const double *y;
    const double *lo;   /* band lower edge, or NULL for no band */
    const double *hi;   /* band upper edge, or NULL for no band */
} svg_series;

typedef struct svg_plot {
    const char *title;
    const char *x_label;
    const char *y_label;
    const char *note;   /* small text under the plot (e.g. what the band is); may be NULL */
    int width, height;  /* pixels; <= 0: 720 x 450 */
    int x_integer;      /* 1: x ticks are whole numbers (epochs) */
} svg_plot;

/* Writes a complete SVG document to f. Returns 0 on success, -1 if writing
 * failed (check errno) or there is nothing to draw. */
int svg_write_plot(FILE *f, const svg_plot *plot, const svg_series *series, size_t n_series);

/* A heat map: an nx x ny grid of cells coloured by z on a sequential scale
 * (dark blue = low, yellow = high, between the finite minimum and maximum
 * of z), the value printed in each cell, column values under the x axis,
 * row values beside the y axis (row 0 at the bottom) and a colour bar with
 * its label. Cells whose z is not finite are grey and read "n/a". */
typedef struct svg_heatmap {
    const char *title;
    const char *x_label;     /* under the columns */
    const char *y_label;     /* beside the rows */
    const char *value_label; /* beside the colour bar */
    const char *note;        /* small text under the map; may be NULL */
    size_t nx, ny;
    const double *x_values;  /* nx column values, printed with %g */
    const double *y_values;  /* ny row values */
    const double *z;         /* ny * nx, z[row * nx + column] */
    int decimals;            /* digits after the point in cell labels */
    int width, height;       /* pixels; <= 0: 720 x 560 */
} svg_heatmap;

/* Writes a complete SVG document to f. Returns 0 on success, -1 if writing
 * failed or the map is empty. */
int svg_write_heatmap(FILE *f, const svg_heatmap *h);

#endif
