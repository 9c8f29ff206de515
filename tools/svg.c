/* A tiny SVG writer: line plots and heat maps (see svg.h). */
#include "svg.h"

#include <math.h>
#include <string.h>

static const char *const palette[] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
};
#define PALETTE_SIZE (sizeof palette / sizeof palette[0])

/* Text content and attribute values: escape the five XML specials. */
static void put_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

typedef struct axis {
    double lo, hi, step; /* covered range and tick spacing */
    int decimals;        /* digits after the point in tick labels */
} axis;

/* Chooses a tick step of 1, 2 or 5 times a power of ten giving at most
 * about `max_ticks` intervals, and widens [lo, hi] to whole steps. */
/* XML prolog, the <svg> element of W x H, a white background and the title
 * centred at (title_x, title_y). */
static void put_header(FILE *f, int W, int H, const char *title, double title_x, int title_y)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            W, H, W, H);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    if (title) {
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"15\">",
                title_x, title_y);
        put_escaped(f, title);
        fputs("</text>\n", f);
    }
}

/* Axis labels and the note under a plot area at (left, top, pw x ph); the
 * offsets place them below (x label, note) and left of (y label) the area. */
static void put_labels(FILE *f, const char *x_label, const char *y_label, const char *note,
                       double left, double top, double pw, double ph, double x_below,
                       double y_left, double note_below)
{
    if (x_label) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", left + pw / 2,
                top + ph + x_below);
        put_escaped(f, x_label);
        fputs("</text>\n", f);
    }
    if (y_label) {
        fprintf(f,
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"middle\" "
                "transform=\"rotate(-90 %.0f %.1f)\">",
                y_left, top + ph / 2, y_left, top + ph / 2);
        put_escaped(f, y_label);
        fputs("</text>\n", f);
    }
    if (note) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#555\">", left,
                top + ph + note_below);
        put_escaped(f, note);
        fputs("</text>\n", f);
    }
}

static axis nice_axis(double lo, double hi, int max_ticks, int integer)
{
    axis a;
    if (!(hi > lo)) {
        double pad = lo != 0.0 ? fabs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    double raw = (hi - lo) / (double)max_ticks;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double step = norm <= 1.0 ? 1.0 : norm <= 2.0 ? 2.0 : norm <= 5.0 ? 5.0 : 10.0;
    step *= mag;
    if (integer && step < 1.0) step = 1.0;
    a.step = step;
    a.lo = floor(lo / step + 1e-9) * step;
    a.hi = ceil(hi / step - 1e-9) * step;
    if (!(a.hi > a.lo)) a.hi = a.lo + step;
    int dec = (int)-floor(log10(step) + 1e-9);
    a.decimals = dec > 0 ? dec : 0;
    return a;
}

static void widen(double v, double *lo, double *hi)
{
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

int svg_write_plot(FILE *f, const svg_plot *plot, const svg_series *series, size_t n_series)
{
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (size_t s = 0; s < n_series; s++) {
        const svg_series *S = &series[s];
        for (size_t i = 0; i < S->n; i++) {
            if (!isfinite(S->x[i]) || !isfinite(S->y[i])) continue;
            widen(S->x[i], &x_lo, &x_hi);
            widen(S->y[i], &y_lo, &y_hi);
            if (S->lo) widen(S->lo[i], &y_lo, &y_hi);
            if (S->hi) widen(S->hi[i], &y_lo, &y_hi);
        }
    }
    if (!(x_hi >= x_lo) || !(y_hi >= y_lo)) return -1;

    int W = plot->width > 0 ? plot->width : 720;
    int H = plot->height > 0 ? plot->height : 450;
    const double left = 70, right = 20, top = 40, bottom = plot->note ? 70 : 55;
    double pw = W - left - right, ph = H - top - bottom;
    if (pw < 50) pw = 50;
    if (ph < 50) ph = 50;

    axis ax = nice_axis(x_lo, x_hi, 10, plot->x_integer);
    axis ay = nice_axis(y_lo, y_hi, 8, 0);
#define PX(v) (left + ((v) - ax.lo) / (ax.hi - ax.lo) * pw)
#define PY(v) (top + ph - ((v) - ay.lo) / (ay.hi - ay.lo) * ph)

    put_header(f, W, H, plot->title, left + pw / 2, 22);

    /* Grid and tick labels. */
    fputs("<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n", f);
    for (double t = ax.lo; t <= ax.hi + ax.step * 1e-6; t += ax.step)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", PX(t), top,
                PX(t), top + ph);
    for (double t = ay.lo; t <= ay.hi + ay.step * 1e-6; t += ay.step)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, PY(t),
                left + pw, PY(t));
    fputs("</g>\n", f);
    fputs("<g fill=\"#333\">\n", f);
    for (double t = ax.lo; t <= ax.hi + ax.step * 1e-6; t += ax.step)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n", PX(t),
                top + ph + 16, ax.decimals, fabs(t) < ax.step * 1e-9 ? 0.0 : t);
    for (double t = ay.lo; t <= ay.hi + ay.step * 1e-6; t += ay.step)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", left - 6,
                PY(t) + 4, ay.decimals, fabs(t) < ay.step * 1e-9 ? 0.0 : t);
    fputs("</g>\n", f);

    /* Axes. */
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#333\" stroke-width=\"1\"/>\n",
            left, top, pw, ph);
    put_labels(f, plot->x_label, plot->y_label, plot->note, left, top, pw, ph, 36, 18, 56);

    /* Bands first, so that every line is drawn on top of every band. */
    for (size_t s = 0; s < n_series; s++) {
        const svg_series *S = &series[s];
        const char *color = S->color ? S->color : palette[s % PALETTE_SIZE];
        if (!S->lo || !S->hi) continue;
        size_t pts = 0;
        for (size_t i = 0; i < S->n; i++)
            pts += isfinite(S->x[i]) && isfinite(S->lo[i]) && isfinite(S->hi[i]);
        if (pts < 2) continue;
        fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.18\" stroke=\"none\" points=\"", color);
        for (size_t i = 0; i < S->n; i++)
            if (isfinite(S->x[i]) && isfinite(S->lo[i]) && isfinite(S->hi[i]))
                fprintf(f, "%.1f,%.1f ", PX(S->x[i]), PY(S->hi[i]));
        for (size_t i = S->n; i-- > 0;)
            if (isfinite(S->x[i]) && isfinite(S->lo[i]) && isfinite(S->hi[i]))
                fprintf(f, "%.1f,%.1f ", PX(S->x[i]), PY(S->lo[i]));
        fputs("\"/>\n", f);
    }
    for (size_t s = 0; s < n_series; s++) {
        const svg_series *S = &series[s];
        const char *color = S->color ? S->color : palette[s % PALETTE_SIZE];
        int open = 0;
        for (size_t i = 0; i < S->n; i++) {
            int good = isfinite(S->x[i]) && isfinite(S->y[i]);
            if (good && !open) {
                fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                        color);
                open = 1;
            }
            if (good) fprintf(f, "%.1f,%.1f ", PX(S->x[i]), PY(S->y[i]));
            if (!good && open) {
                fputs("\"/>\n", f);
                open = 0;
            }
        }
        if (open) fputs("\"/>\n", f);
        if (S->n <= 60) {
            fprintf(f, "<g fill=\"%s\">\n", color);
            for (size_t i = 0; i < S->n; i++)
                if (isfinite(S->x[i]) && isfinite(S->y[i]))
                    fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", PX(S->x[i]),
                            PY(S->y[i]));
            fputs("</g>\n", f);
        }
    }

    /* Legend, top right inside the plot area. */
    if (n_series > 0) {
        size_t longest = 0;
        for (size_t s = 0; s < n_series; s++) {
            size_t len = series[s].name ? strlen(series[s].name) : 0;
            if (len > longest) longest = len;
        }
        double lw = 44.0 + 7.0 * (double)longest, lh = 8.0 + 18.0 * (double)n_series;
        double lx = left + pw - lw - 8, ly = top + 8;
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
                "fill-opacity=\"0.9\" stroke=\"#999\"/>\n",
                lx, ly, lw, lh);
        for (size_t s = 0; s < n_series; s++) {
            const svg_series *S = &series[s];
            const char *color = S->color ? S->color : palette[s % PALETTE_SIZE];
            double y = ly + 4 + 18.0 * (double)s + 9;
            if (S->lo && S->hi)
                fprintf(f,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"24\" height=\"10\" fill=\"%s\" "
                        "fill-opacity=\"0.18\"/>\n",
                        lx + 8, y - 5, color);
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/>\n",
                    lx + 8, y, lx + 32, y, color);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 38, y + 4);
            put_escaped(f, S->name ? S->name : "");
            fputs("</text>\n", f);
        }
    }
    fputs("</svg>\n", f);
#undef PX
#undef PY
    return ferror(f) ? -1 : 0;
}

/* Sequential colour scale (viridis, sampled at five stops), t in [0, 1]. */
static void scale_color(double t, int rgb[3])
{
    static const double stops[5][3] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37},
    };
    if (!(t >= 0.0)) t = 0.0;
    if (t > 1.0) t = 1.0;
    double pos = t * 4.0;
    int i = (int)pos;
    if (i > 3) i = 3;
    double u = pos - (double)i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lround(stops[i][c] + u * (stops[i + 1][c] - stops[i][c]));
}

int svg_write_heatmap(FILE *f, const svg_heatmap *h)
{
    if (!h || h->nx == 0 || h->ny == 0 || !h->z) return -1;
    double z_lo = INFINITY, z_hi = -INFINITY;
    for (size_t i = 0; i < h->nx * h->ny; i++) widen(h->z[i], &z_lo, &z_hi);
    int W = h->width > 0 ? h->width : 720;
    int H = h->height > 0 ? h->height : 560;
    const double left = 90, right = 140, top = 46, bottom = h->note ? 78 : 60;
    double pw = W - left - right, ph = H - top - bottom;
    if (pw < 50) pw = 50;
    if (ph < 50) ph = 50;
    double cw = pw / (double)h->nx, ch = ph / (double)h->ny;
    int dec = h->decimals >= 0 ? h->decimals : 0;

    put_header(f, W, H, h->title, left + pw / 2, 24);

    /* Cells, row 0 at the bottom, with their values. */
    for (size_t r = 0; r < h->ny; r++) {
        for (size_t c = 0; c < h->nx; c++) {
            double v = h->z[r * h->nx + c];
            double x = left + cw * (double)c, y = top + ph - ch * (double)(r + 1);
            int rgb[3] = {200, 200, 200};
            int finite = isfinite(v);
            double t = 0.5;
            if (finite) {
                t = z_hi > z_lo ? (v - z_lo) / (z_hi - z_lo) : 0.5;
                scale_color(t, rgb);
            }
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"rgb(%d,%d,%d)\" stroke=\"white\" stroke-width=\"1\"/>\n",
                    x, y, cw, ch, rgb[0], rgb[1], rgb[2]);
            fprintf(f,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" "
                    "fill=\"%s\">",
                    x + cw / 2, y + ch / 2 + 5, finite && t < 0.6 ? "white" : "black");
            if (finite)
                fprintf(f, "%.*f", dec, v);
            else
                fputs("n/a", f);
            fputs("</text>\n", f);
        }
    }
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#333\" stroke-width=\"1\"/>\n",
            left, top, pw, ph);

    /* Column and row values, axis labels. */
    fputs("<g fill=\"#333\">\n", f);
    for (size_t c = 0; c < h->nx; c++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                left + cw * ((double)c + 0.5), top + ph + 16, h->x_values ? h->x_values[c] : (double)c);
    for (size_t r = 0; r < h->ny; r++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", left - 6,
                top + ph - ch * ((double)r + 0.5) + 4, h->y_values ? h->y_values[r] : (double)r);
    fputs("</g>\n", f);
    put_labels(f, h->x_label, h->y_label, h->note, left, top, pw, ph, 38, 24, 60);

    /* Colour bar: a vertical gradient from z_lo (bottom) to z_hi (top). */
    double bx = left + pw + 30, bw = 20;
    fputs("<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">\n", f);
    for (int i = 0; i <= 8; i++) {
        int rgb[3];
        scale_color(i / 8.0, rgb);
        fprintf(f, "<stop offset=\"%.3f\" stop-color=\"rgb(%d,%d,%d)\"/>\n", i / 8.0, rgb[0],
                rgb[1], rgb[2]);
    }
    fputs("</linearGradient></defs>\n", f);
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#scale)\" "
            "stroke=\"#333\" stroke-width=\"1\"/>\n",
            bx, top, bw, ph);
    if (isfinite(z_lo)) {
        int ticks = z_hi > z_lo ? 4 : 0;
        fputs("<g fill=\"#333\">\n", f);
        for (int i = 0; i <= ticks; i++) {
            double v = ticks ? z_lo + (z_hi - z_lo) * i / ticks : z_lo;
            double y = ticks ? top + ph - ph * i / ticks : top + ph / 2;
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
                    bx + bw, y, bx + bw + 4, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.*f</text>\n", bx + bw + 7, y + 4, dec, v);
        }
        fputs("</g>\n", f);
    }
    if (h->value_label) {
        double lx = bx + bw + 62;
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "transform=\"rotate(-90 %.1f %.1f)\">",
                lx, top + ph / 2, lx, top + ph / 2);
        put_escaped(f, h->value_label);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}
