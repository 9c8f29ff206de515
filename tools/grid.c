/* `sbp experiment --grid lambda`: the sbp variant over a grid of
 * spread.lambda_p x spread.lambda_f, scored on a validation split of the
 * training data (grid.csv, grid.md, grid.svg). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "progress.h"
#include "svg.h"

#define MAX_GRID 16
#define GRID_DEFAULT_VALUES "0.1,0.4,0.7,1.0"
#define GRID_DEFAULT_VAL 1000

typedef struct grid_run {
    size_t epochs_done;
    size_t best_epoch;              /* 0: no epoch completed */
    double best_acc, final_acc;     /* validation accuracy, fractions */
    double seconds;
} grid_run;

typedef struct grid {
    experiment *x;
    double values[MAX_GRID];
    size_t n_values;
    size_t n_val;                   /* validation samples */
    uint64_t split_seed;
    grid_run *runs;                 /* [(ip * n_values + jf) * n_seeds + s] */
    epoch_rec *rec;                 /* epochs of the current run */
    char text_p[64], text_f[64];    /* the --set texts of the current cell */
    size_t cur_p, cur_f, cur_s;
    FILE *csv;
    double seconds;                 /* whole grid */
} grid;

static grid_run *grid_at(grid *g, size_t ip, size_t jf, size_t s)
{
    return &g->runs[(ip * g->n_values + jf) * g->x->n_seeds + s];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Comma-separated reals > 0, sorted ascending, no repeats. */
static int parse_grid_values(const char *s, grid *g)
{
    g->n_values = 0;
    const char *p = s;
    if (!*s) return usage("--grid-values: expected a comma-separated list, got ''");
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item)
            return usage("--grid-values: expected a comma-separated list of numbers, got '%s'", s);
        memcpy(item, p, len);
        item[len] = '\0';
        char *end = NULL;
        errno = 0;
        double v = strtod(item, &end);
        if (*end || end == item || !isfinite(v) || !(v > 0.0) || item[0] == ' ')
            return usage("--grid-values: expected positive numbers, got '%s'", item);
        if (g->n_values == MAX_GRID) return usage("--grid-values: at most %d values", MAX_GRID);
        for (size_t i = 0; i < g->n_values; i++)
            if (g->values[i] == v) return usage("--grid-values: %g is listed twice", v);
        g->values[g->n_values++] = v;
        if (p[len] == '\0') break;
        p += len + 1;
    }
    qsort(g->values, g->n_values, sizeof g->values[0], cmp_double);
    return 0;
}

/* The run configuration of cell (ip, jf): the experiment's, the sbp
 * variant, plus spread.lambda_p and spread.lambda_f. */
static int grid_cell_cfg(grid *g, size_t ip, size_t jf, run_cfg *c)
{
    memcpy(c, &g->x->cfg, sizeof *c);
    c->sbp_on = 1;
    c->base_rule = c->engine == SBP_ENGINE_RELAX ? SBP_BASE_SBP : 0;
    c->eval_name = "val";
    if (c->n_sets + 2 > MAX_SETS) return usage("--set: at most %d settings with --grid", MAX_SETS - 2);
    snprintf(g->text_p, sizeof g->text_p, "spread.lambda_p=%.17g", g->values[ip]);
    snprintf(g->text_f, sizeof g->text_f, "spread.lambda_f=%.17g", g->values[jf]);
    int rc = parse_set(g->text_p, &c->sets[c->n_sets++]);
    if (!rc) rc = parse_set(g->text_f, &c->sets[c->n_sets++]);
    return rc;
}

static int grid_epoch_out(void *user, sbp_net *net, size_t e, size_t epochs, const epoch_rec *r)
{
    (void)net;
    grid *g = user;
    printf("lambda_p %-4g lambda_f %-4g seed %-4" PRIu64 "  epoch %zu/%zu  ",
           g->values[g->cur_p], g->values[g->cur_f], g->x->seeds[g->cur_s], e, epochs);
    if (isfinite(r->train_error))
        printf("train error %.2f %%  ", 100.0 * r->train_error);
    else
        printf("train error n/a  ");
    printf("val error %.2f %%  %.1f s\n", 100.0 * r->test_error, r->seconds);
    fflush(stdout);
    return 0;
}

/* Mean and population std over the seeds' complete runs of a cell;
 * `final` picks the last epoch's accuracy instead of the best. */
static size_t grid_cell_stats(grid *g, size_t ip, size_t jf, int final, double *mean, double *std)
{
    double v[MAX_SEEDS];
    size_t n = 0;
    for (size_t s = 0; s < g->x->n_seeds; s++) {
        const grid_run *r = grid_at(g, ip, jf, s);
        if (r->epochs_done == g->x->cfg.epochs && r->best_epoch)
            v[n++] = final ? r->final_acc : r->best_acc;
    }
    *mean = *std = NAN;
    if (n) sbp_cost_mean_std(v, n, mean, std);
    return n;
}

static void grid_md_table(FILE *f, grid *g, int final)
{
    fprintf(f, "| λp \\ λf |");
    for (size_t j = 0; j < g->n_values; j++) fprintf(f, " %g |", g->values[j]);
    fprintf(f, "\n|---|");
    for (size_t j = 0; j < g->n_values; j++) fprintf(f, "---|");
    fprintf(f, "\n");
    for (size_t i = g->n_values; i-- > 0;) {
        fprintf(f, "| **%g** |", g->values[i]);
        for (size_t j = 0; j < g->n_values; j++) {
            double m, sd;
            size_t n = grid_cell_stats(g, i, j, final, &m, &sd);
            fputc(' ', f);
            md_pct(f, m, sd, n);
            fprintf(f, " |");
        }
        fprintf(f, "\n");
    }
}

static int grid_write_md(grid *g, int interrupted, size_t n_train)
{
    experiment *x = g->x;
    const run_cfg *c = &x->cfg;
    char path[PATH_BUF];
    if (out_path(x, "grid.md", path, sizeof path)) return EXIT_FAIL;
    FILE *f = fopen(path, "w");
    if (!f) return fail("cannot write '%s': %s", path, strerror(errno));
    char topo[256];
    format_topology(topo, sizeof topo, c);
    const char *engine = sbp_engine_name(c->engine);
    fprintf(f, "# SBP spread grid: MNIST, %s engine\n\n", engine);
    if (interrupted)
        fprintf(f, "**Interrupted**: the tables cover the runs completed so far.\n\n");
    md_command(f);
    fprintf(f, "- libsbp %s, BLAS: %s\n", sbp_version_string(), sbp_blas_name());
    fprintf(f, "- network %s, %s engine, %s, mini-batch %" PRId64 ", %zu epoch%s per run, %s\n",
            topo, engine,
            c->engine == SBP_ENGINE_RELAX ? "sbp base rule + SBP spread"
                                          : "engine's rule + SBP spread",
            x->batch, c->epochs, c->epochs == 1 ? "" : "s",
            c->shuffle ? "training set shuffled each epoch (seed + epoch)"
                       : "training set in file order");
    fprintf(f, "- data: %s (%s): %zu training samples used, of which %zu train and %zu form the "
               "validation set (seeded split, seed %" PRIu64 "); the test set is not used\n",
            x->dd.path, x->dd.source, n_train + g->n_val, n_train, g->n_val, g->split_seed);
    fprintf(f, "- seeds:");
    for (size_t s = 0; s < x->n_seeds; s++) fprintf(f, "%s %" PRIu64, s ? "," : "", x->seeds[s]);
    fprintf(f, "\n- grid: `spread.lambda_p` (λp, rows) × `spread.lambda_f` (λf, columns), "
               "values");
    for (size_t i = 0; i < g->n_values; i++) fprintf(f, "%s %g", i ? "," : "", g->values[i]);
    fprintf(f, "\n- wall time of the grid: %.1f s\n\n", g->seconds);

    fprintf(f, "## Validation accuracy, best epoch (mean ± std over seeds)\n\n");
    grid_md_table(f, g, 0);
    double best = -1.0;
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < g->n_values; i++)
        for (size_t j = 0; j < g->n_values; j++) {
            double m, sd;
            if (grid_cell_stats(g, i, j, 0, &m, &sd) && m > best) {
                best = m;
                bi = i;
                bj = j;
            }
        }
    if (best >= 0.0)
        fprintf(f, "\nBest cell: λp = %g, λf = %g, %.2f %% validation accuracy.\n",
                g->values[bi], g->values[bj], 100.0 * best);
    fprintf(f, "\n## Validation accuracy after the last epoch\n\n");
    grid_md_table(f, g, 1);
    fprintf(f,
            "\n## Definitions\n\n"
            "- λp (`spread.lambda_p`) is the density of the fixed mask of hidden input synapses "
            "that receive the spread; λf (`spread.lambda_f`) is the fraction of the output change "
            "spread back (additive form, the spike engine) or the scale of the fraction f "
            "(multiplicative form, the relax engine's default).\n"
            "- Validation accuracy of a run (grid.csv `val_accuracy`): 1 − the minimum "
            "validation error over its epochs (best epoch); cells show the mean ± population "
            "standard deviation over seeds of the complete runs.\n"
            "- The validation set is drawn once from the training data with the first seed, so "
            "every cell and seed sees the same split. Tune on it; the test set is for the final "
            "number only, with `sbp train` or `sbp experiment` at the chosen values.\n\n"
            "Files: grid.csv (lambda_p,lambda_f,seed,val_accuracy; one row per complete run) "
            "and grid.svg (heat map of the first table).\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return fail("writing '%s' failed", path);
    return 0;
}

static int grid_write_svg(grid *g)
{
    experiment *x = g->x;
    char path[PATH_BUF];
    if (out_path(x, "grid.svg", path, sizeof path)) return EXIT_FAIL;
    size_t n = g->n_values;
    double z[MAX_GRID * MAX_GRID];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double m, sd;
            grid_cell_stats(g, i, j, 0, &m, &sd);
            z[i * n + j] = 100.0 * m;
        }
    char title[160], note_text[256];
    snprintf(title, sizeof title, "MNIST validation accuracy (%%), %s engine, %zu seed%s",
             sbp_engine_name(x->cfg.engine), x->n_seeds, x->n_seeds == 1 ? "" : "s");
    snprintf(note_text, sizeof note_text,
             "best epoch of each run, mean over seeds; %zu validation samples split from the "
             "training data (seed %" PRIu64 ")",
             g->n_val, g->split_seed);
    svg_heatmap h = {title, "λf (spread.lambda_f)", "λp (spread.lambda_p)",
                     "validation accuracy (%)", note_text, n, n, g->values, g->values, z, 2, 0, 0};
    FILE *f = fopen(path, "w");
    if (!f) return fail("cannot write '%s': %s", path, strerror(errno));
    int w = svg_write_heatmap(f, &h);
    if (fclose(f) != 0 || w != 0) return fail("writing '%s' failed", path);
    return 0;
}

int run_grid(experiment *x, const args *a)
{
    static run_cfg cell; /* large (the --set table) */
    grid g;
    memset(&g, 0, sizeof g);
    g.x = x;
    g.split_seed = x->seeds[0];
    g.n_val = GRID_DEFAULT_VAL;
    sbp_dataset *all = NULL, *train = NULL, *val = NULL;
    int rc = 0;
    if (strcmp(a->val[OPT_GRID], "lambda") != 0)
        return usage("--grid: expected lambda, got '%s'", a->val[OPT_GRID]);
    if (a->given[OPT_VARIANTS]) return usage("--grid: runs the sbp variant only; drop --variants");
    if (a->given[OPT_REPLACE_BP_LIST])
        return usage("--grid: runs the sbp variant only; drop --replace-bp");
    if (a->given[OPT_RESUME]) return usage("--grid: --resume is not supported with --grid");
    if (a->given[OPT_TEST_LIMIT])
        return usage("--grid: scores on a validation split and never loads the test set; "
                     "drop --test-limit");
    for (size_t i = 0; i < x->cfg.n_sets; i++)
        if (x->cfg.sets[i].param == SBP_SPREAD_LAMBDA_P ||
            x->cfg.sets[i].param == SBP_SPREAD_LAMBDA_F)
            return usage("--set %s: --grid sets this parameter itself", x->cfg.sets[i].text);
    if ((rc = parse_grid_values(a->given[OPT_GRID_VALUES] ? a->val[OPT_GRID_VALUES]
                                                          : GRID_DEFAULT_VALUES,
                                &g)))
        return rc;
    if (a->given[OPT_VAL] && (rc = parse_size("--val", a->val[OPT_VAL], 1, SIZE_MAX / 2, &g.n_val)))
        return rc;
    if (!a->given[OPT_OUT]) return usage("experiment: --out DIR is required");
    snprintf(x->out_dir, sizeof x->out_dir, "%s", a->val[OPT_OUT]);
    if ((rc = resolve_data_dir(a, &x->dd))) return rc;

    /* Every cell's network must build before anything is loaded or run. */
    size_t nv = g.n_values, cells = nv * nv, runs = cells * x->n_seeds;
    for (size_t i = 0; i < nv; i++)
        for (size_t j = 0; j < nv; j++) {
            sbp_net *net = NULL;
            if ((rc = grid_cell_cfg(&g, i, j, &cell)) || (rc = build_net(&cell, x->seeds[0], &net)))
                return rc;
            if (i == 0 && j == 0) {
                int64_t bs = 0;
                sbp_net_get_int(net, SBP_NET_BATCH_SIZE, &bs);
                x->batch = bs;
            }
            sbp_net_free(net);
        }

    g.runs = calloc(runs, sizeof *g.runs);
    g.rec = calloc(x->cfg.epochs, sizeof *g.rec);
    if (!g.runs || !g.rec) {
        rc = fail("out of memory");
        goto done;
    }
    if ((rc = mkdir_p(x->out_dir))) goto done;
    char path[PATH_BUF];
    if ((rc = out_path(x, "grid.csv", path, sizeof path))) goto done;
    g.csv = fopen(path, "w");
    if (!g.csv) {
        rc = fail("cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    fprintf(g.csv, "lambda_p,lambda_f,seed,val_accuracy\n");
    fflush(g.csv);

    if ((rc = load_part(&x->dd, SBP_MNIST_TRAIN, x->cfg.train_limit, &all))) goto done;
    size_t n_all = sbp_dataset_count(all);
    if (g.n_val >= n_all) {
        rc = usage("--val: %zu validation samples leave none of the %zu training samples to "
                   "train on",
                   g.n_val, n_all);
        goto done;
    }
    sbp_status st = sbp_dataset_split(all, g.n_val, g.split_seed, &train, &val);
    if (st != SBP_OK) {
        rc = lib_fail("splitting off the validation set", st, sbp_dataset_errmsg(all));
        goto done;
    }
    x->n_train = sbp_dataset_count(train);
    x->n_test = sbp_dataset_count(val);
    note(x->cfg.quiet,
         "data: %s (%s): %zu training samples, split (seed %" PRIu64 ") into %zu train and %zu "
         "validation; the test set is not used",
         x->dd.path, x->dd.source, n_all, g.split_seed, x->n_train, x->n_test);

    double t0 = tool_now();
    tool_interrupt_install();
    size_t k = 0;
    for (size_t i = 0; i < nv && !rc; i++) {
        for (size_t j = 0; j < nv && !rc; j++) {
            for (size_t s = 0; s < x->n_seeds && !rc; s++) {
                k++;
                g.cur_p = i;
                g.cur_f = j;
                g.cur_s = s;
                sbp_net *net = NULL;
                if ((rc = grid_cell_cfg(&g, i, j, &cell)) ||
                    (rc = build_net(&cell, x->seeds[s], &net)))
                    break;
                char prefix[96];
                snprintf(prefix, sizeof prefix, "lambda_p %g lambda_f %g seed %" PRIu64 " ",
                         g.values[i], g.values[j], x->seeds[s]);
                note(cell.quiet, "run %zu/%zu: lambda_p %g, lambda_f %g, seed %" PRIu64, k, runs,
                     g.values[i], g.values[j], x->seeds[s]);
                grid_run *r = grid_at(&g, i, j, s);
                r->epochs_done = 0; /* a fresh network */
                rc = run_epochs(net, train, val, &cell, x->seeds[s], prefix, g.rec, &r->epochs_done,
                                &r->seconds, grid_epoch_out, &g);
                sbp_net_free(net);
                r->best_epoch = best_epoch(g.rec, r->epochs_done);
                if (r->best_epoch) {
                    r->best_acc = 1.0 - g.rec[r->best_epoch - 1].test_error;
                    r->final_acc = 1.0 - g.rec[r->epochs_done - 1].test_error;
                }
                if (rc == 0 && r->best_epoch) {
                    fprintf(g.csv, "%.10g,%.10g,%" PRIu64 ",%.10g\n", g.values[i], g.values[j],
                            x->seeds[s], r->best_acc);
                    if (fflush(g.csv) != 0) {
                        rc = fail("writing '%s' failed", path);
                        break;
                    }
                }
            }
        }
    }
    tool_interrupt_uninstall();
    g.seconds = tool_now() - t0;
    if (rc == 0 || rc == EXIT_INTERRUPTED) {
        int interrupted = rc == EXIT_INTERRUPTED;
        if (interrupted) note(0, "interrupted: writing the grid of the completed runs");
        int w = grid_write_md(&g, interrupted, x->n_train);
        if (!w) w = grid_write_svg(&g);
        if (w) {
            rc = w;
        } else {
            double best = -1.0;
            size_t bi = 0, bj = 0;
            for (size_t i = 0; i < nv; i++)
                for (size_t j = 0; j < nv; j++) {
                    double m, sd;
                    if (grid_cell_stats(&g, i, j, 0, &m, &sd) && m > best) {
                        best = m;
                        bi = i;
                        bj = j;
                    }
                }
            if (best >= 0.0)
                printf("best: lambda_p %g, lambda_f %g, validation accuracy %.2f %%\n",
                       g.values[bi], g.values[bj], 100.0 * best);
            printf("wrote %s/grid.csv, %s/grid.md, %s/grid.svg\n", x->out_dir, x->out_dir,
                   x->out_dir);
            fflush(stdout);
        }
    }
done:
    if (g.csv && fclose(g.csv) != 0 && !rc) rc = fail("writing grid.csv failed");
    sbp_dataset_free(all);
    sbp_dataset_free(train);
    sbp_dataset_free(val);
    free(g.runs);
    free(g.rec);
    return rc;
}
