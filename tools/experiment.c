/* `sbp experiment`: every seed and variant trained like `sbp train`;
 * curves.csv, summary.md and curves.svg, and --resume. The --grid mode is
 * in grid.c. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "events_task.h"
#include "experiment.h"
#include "progress.h"
#include "svg.h"

static const variant all_variants[] = {
    {"baseline", SBP_BASE_SYMMETRIC, 0, -1, "#1f77b4"},
    {"sbp", SBP_BASE_SBP, 1, -1, "#d62728"},
    {"ablation", SBP_BASE_SBP, 0, -1, "#2ca02c"},
};
#define N_ALL_VARIANTS (sizeof all_variants / sizeof all_variants[0])

static epoch_rec *run_rec(experiment *x, size_t s, size_t v)
{
    return x->rec + (s * x->n_vars + v) * x->cfg.epochs;
}

/* NETtalk rows have two more columns: phoneme_accuracy,stress_accuracy. */
static void write_csv_row(FILE *f, uint64_t seed, const char *name, size_t e,
                          const epoch_rec *r, int nettalk)
{
    fprintf(f, "%" PRIu64 ",%s,%zu,", seed, name, e);
    if (isfinite(r->train_error)) fprintf(f, "%.10g", r->train_error);
    fprintf(f, ",");
    if (isfinite(r->test_error)) fprintf(f, "%.10g", r->test_error);
    fprintf(f, ",%.3f", r->seconds);
    if (nettalk) {
        fprintf(f, ",");
        if (isfinite(r->phoneme_accuracy)) fprintf(f, "%.10g", r->phoneme_accuracy);
        fprintf(f, ",");
        if (isfinite(r->stress_accuracy)) fprintf(f, "%.10g", r->stress_accuracy);
    }
    fprintf(f, "\n");
}

/* <out>/checkpoints/seed<S>-<variant>-e<E>.sbpm: the network after epoch E
 * of a run (only the latest is kept), so that --resume continues a run cut
 * short (a crash, Ctrl-C, a machine that stops) from its last epoch instead
 * of from the start, and extends complete runs when --epochs grows. */
static int ckpt_path(const experiment *x, size_t s, size_t v, size_t e, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/seed%" PRIu64 "-%s-e%04zu.sbpm", x->ckpt_dir, x->seeds[s],
                     x->vars[v].name, e);
    if (n < 0 || (size_t)n >= size) return fail("checkpoint path too long in '%s'", x->ckpt_dir);
    return 0;
}

/* Saves the run's checkpoint of epoch e (atomically) and removes the one
 * of epoch e - 1. Returns 0 or EXIT_FAIL. */
static int save_checkpoint(const experiment *x, sbp_net *net, size_t e)
{
    char path[PATH_BUF];
    int rc = ckpt_path(x, x->cur_seed, x->cur_var, e, path, sizeof path);
    if (rc) return rc;
    sbp_status st = sbp_net_save(net, path);
    if (st != SBP_OK) return lib_fail("saving a checkpoint", st, sbp_net_errmsg(net));
    if (e > 1 && ckpt_path(x, x->cur_seed, x->cur_var, e - 1, path, sizeof path) == 0)
        remove(path);
    return 0;
}

/* The latest checkpoint of run (s, v) at or before epoch `upto`; 0 if none. */
static size_t find_checkpoint(const experiment *x, size_t s, size_t v, size_t upto)
{
    char path[PATH_BUF];
    struct stat sb;
    for (size_t e = upto; e >= 1; e--)
        if (ckpt_path(x, s, v, e, path, sizeof path) == 0 && stat(path, &sb) == 0) return e;
    return 0;
}

static int experiment_epoch_out(void *user, sbp_net *net, size_t e, size_t epochs,
                                const epoch_rec *r)
{
    experiment *x = user;
    const variant *v = &x->vars[x->cur_var];
    uint64_t seed = x->seeds[x->cur_seed];
    int width = 8; /* names line up */
    for (size_t i = 0; i < x->n_vars; i++)
        if ((int)strlen(x->vars[i].name) > width) width = (int)strlen(x->vars[i].name);
    printf("seed %-4" PRIu64 " %-*s  ", seed, width, v->name);
    print_epoch_human(stdout, e, epochs, r);
    fflush(stdout);
    if (x->csv) {
        write_csv_row(x->csv, seed, v->name, e, r, x->cfg.task == TASK_NETTALK);
        if (fflush(x->csv) != 0) x->csv_failed = 1;
    }
    /* the row is on disk first: a checkpoint never runs ahead of the CSV */
    return save_checkpoint(x, net, e);
}

int mkdir_p(const char *path)
{
    char buf[PATH_BUF];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) return fail("--out: invalid directory '%s'", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char keep = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return fail("--out: cannot create '%s': %s", buf, strerror(errno));
        buf[i] = keep;
    }
    if (!is_dir(path)) return fail("--out: '%s' is not a directory", path);
    return 0;
}

int out_path(const experiment *x, const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", x->out_dir, name);
    if (n < 0 || (size_t)n >= size) return fail("--out: path too long");
    return 0;
}

/* Shell-quotes one argument for the "command" line of summary.md. */
static void put_quoted(FILE *f, const char *s)
{
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./,=:+@%",
                    *p))
            plain = 0;
    if (plain) {
        fputs(s, f);
        return;
    }
    fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else
            fputc(*p, f);
    }
    fputc('\'', f);
}

void md_command(FILE *f)
{
    fprintf(f, "Command:\n\n```\n");
    for (int i = 0; i < tool_argc; i++) {
        if (i) fputc(' ', f);
        put_quoted(f, tool_argv[i]);
    }
    fprintf(f, "\n```\n\n");
}

/* Per-variant statistics over seeds. */
typedef struct var_stats {
    size_t n_acc;              /* seeds with at least one epoch */
    double acc_mean, acc_std;  /* best-epoch test accuracy, fraction */
    size_t n_ep;               /* seeds in the mean-epochs pairs */
    double ep_mean, ep_std;    /* mean epochs of this variant */
    double base_ep_mean;       /* the baseline's mean epochs in the same pairs */
    double sec_per_epoch;      /* wall seconds per epoch, mean over seeds */
    const char *pair;          /* name of the variant the mean epochs were paired with */
} var_stats;

static int find_variant(const experiment *x, const char *name)
{
    for (size_t v = 0; v < x->n_vars; v++)
        if (strcmp(x->vars[v].name, name) == 0) return (int)v;
    return -1;
}

static void curve_of(experiment *x, size_t s, size_t v, double *out, size_t *n)
{
    const epoch_rec *r = run_rec(x, s, v);
    *n = x->n_done[s * x->n_vars + v];
    for (size_t i = 0; i < *n; i++) out[i] = r[i].test_error;
}

static void compute_stats(experiment *x, var_stats *vs)
{
    size_t E = x->cfg.epochs;
    double *vals = calloc(x->n_seeds, sizeof *vals);
    double *vals2 = calloc(x->n_seeds, sizeof *vals2);
    double *ca = calloc(E, sizeof *ca), *cb = calloc(E, sizeof *cb);
    int b = x->base_var;
    int sbpv = x->sbp_var;
    for (size_t v = 0; v < x->n_vars; v++) {
        var_stats *st = &vs[v];
        memset(st, 0, sizeof *st);
        st->acc_mean = st->acc_std = st->ep_mean = st->ep_std = st->base_ep_mean = NAN;
        st->sec_per_epoch = NAN;
        if (!vals || !vals2 || !ca || !cb) continue;
        /* Accuracy and seconds per epoch. */
        double sec = 0.0;
        size_t n = 0;
        for (size_t s = 0; s < x->n_seeds; s++) {
            size_t nd = x->n_done[s * x->n_vars + v];
            size_t be = best_epoch(run_rec(x, s, v), nd);
            if (!be) continue;
            vals[n] = 1.0 - run_rec(x, s, v)[be - 1].test_error;
            sec += x->run_seconds[s * x->n_vars + v] / (double)nd;
            n++;
        }
        st->n_acc = n;
        if (n) {
            sbp_cost_mean_std(vals, n, &st->acc_mean, &st->acc_std);
            st->sec_per_epoch = sec / (double)n;
        }
        /* Mean epochs, paired with the baseline (model.md section 7). */
        if (b < 0) continue;
        size_t partner = (size_t)b;
        int self_is_a = (int)v == b;
        if (self_is_a) {
            if (sbpv >= 0)
                partner = (size_t)sbpv;
            else
                for (size_t w = 0; w < x->n_vars; w++)
                    if ((int)w != b) {
                        partner = w;
                        break;
                    }
        } else {
            partner = v;
        }
        st->pair = x->vars[self_is_a ? partner : (size_t)b].name;
        n = 0;
        for (size_t s = 0; s < x->n_seeds; s++) {
            size_t na = 0, nb = 0;
            curve_of(x, s, (size_t)b, ca, &na);
            curve_of(x, s, partner, cb, &nb);
            if (!na || !nb) continue;
            double ea = NAN, eb = NAN;
            if (sbp_cost_mean_epochs(ca, na, cb, nb, cost_cap(&x->cfg), E, &ea, &eb) != SBP_OK)
                continue;
            vals[n] = self_is_a ? ea : eb;
            vals2[n] = ea;
            n++;
        }
        st->n_ep = n;
        if (n) {
            double dummy;
            sbp_cost_mean_std(vals, n, &st->ep_mean, &st->ep_std);
            sbp_cost_mean_std(vals2, n, &st->base_ep_mean, &dummy);
        }
    }
    free(vals);
    free(vals2);
    free(ca);
    free(cb);
}

void md_pct(FILE *f, double mean, double std, size_t n)
{
    if (!n || !isfinite(mean))
        fputs("n/a", f);
    else if (n == 1)
        fprintf(f, "%.2f %%", 100.0 * mean);
    else
        fprintf(f, "%.2f ± %.2f %%", 100.0 * mean, 100.0 * std);
}

/* The "base rule" column of summary.md: what updates the hidden layers. */
static void variant_rule(const run_cfg *c, const variant *V, char *buf, size_t size)
{
    if (c->engine == SBP_ENGINE_RELAX)
        snprintf(buf, size, "%s", base_rule_names[V->base_rule]);
    else if (c->engine == SBP_ENGINE_ANN && find_set(c, SBP_ANN_HIDDEN_MODE))
        snprintf(buf, size, "--set %s", find_set(c, SBP_ANN_HIDDEN_MODE)->text);
    else if (c->engine == SBP_ENGINE_ANN && V->replace_pct >= 0)
        snprintf(buf, size, "%d %% SBP, %d %% BP", V->replace_pct, 100 - V->replace_pct);
    else if (c->engine == SBP_ENGINE_ANN)
        snprintf(buf, size, "%s", V->sbp_on ? "SBP" : "BP");
    else
        snprintf(buf, size, "engine's");
}

static int write_summary(experiment *x, const var_stats *vs, int interrupted)
{
    char path[PATH_BUF];
    if (out_path(x, "summary.md", path, sizeof path)) return EXIT_FAIL;
    FILE *f = fopen(path, "w");
    if (!f) return fail("cannot write '%s': %s", path, strerror(errno));
    const run_cfg *c = &x->cfg;
    char topo[256];
    format_topology(topo, sizeof topo, c);
    double per_epoch = per_epoch_cost(c);
    int b = x->base_var, sv = x->sbp_var;
    const char *engine = sbp_engine_name(c->engine);

    const char *task = task_name(c);
    char capstr[32] = ""; /* the cap of the thresholds, if any */
    if (cost_cap(c) > 0.0) snprintf(capstr, sizeof capstr, ", %.1f", cost_cap(c));
    int nettalk = c->task == TASK_NETTALK;
    fprintf(f, "# SBP experiment: %s, %s engine\n\n", task, engine);
    if (interrupted) fprintf(f, "**Interrupted**: the tables cover the runs completed so far.\n\n");
    md_command(f);
    fprintf(f, "- libsbp %s, BLAS: %s\n", sbp_version_string(), sbp_blas_name());
    fprintf(f, "- network %s, %s engine, mini-batch %" PRId64 ", %zu epoch%s per run, %s\n", topo,
            engine, x->batch, c->epochs, c->epochs == 1 ? "" : "s",
            c->shuffle ? "training set shuffled each epoch (seed + epoch)"
                       : "training set in file order");
    fprintf(f, "- data: %s (%s), %zu training and %zu test samples", x->dd.path, x->dd.source,
            x->n_train, x->n_test);
    if (nettalk) {
        char split_name[128];
        fprintf(f, " (windows; %s%s)",
                nettalk_split_text(c->split, c->split_seed, split_name, sizeof split_name),
                c->test_limit == SIZE_MAX ? "" : ", test windows a seeded sample");
    }
    else if (is_events_task(c->task))
        fprintf(f, " (%s)", events_frames_text(c));
    fprintf(f, "\n");
    fprintf(f, "- seeds:");
    for (size_t s = 0; s < x->n_seeds; s++) fprintf(f, "%s %" PRIu64, s ? "," : "", x->seeds[s]);
    fprintf(f, "\n- per-epoch complexity %.6g (%s with m = %zu, n = hidden, k = %zu)\n\n", per_epoch,
            cost_formula(c->engine), c->inputs, c->outputs);

    fprintf(f, "## Results in the layout of model.md section 8\n\n");
    fprintf(f, "| path | task | without SBP | with SBP | cost without → with |\n");
    fprintf(f, "|---|---|---|---|---|\n");
    if (b >= 0 && sv >= 0) {
        const var_stats *A = &vs[b], *B = &vs[sv];
        double ca = A->ep_mean * per_epoch, cb = B->ep_mean * per_epoch;
        char s1[32], s2[32];
        int e = sci_exponent(ca);
        fmt_sci(s1, sizeof s1, ca, e, 1);
        fmt_sci(s2, sizeof s2, cb, e, 1);
        fprintf(f, "| %s engine, this run | %s | ", engine, task);
        md_pct(f, A->acc_mean, A->acc_std, A->n_acc);
        fprintf(f, " | ");
        md_pct(f, B->acc_mean, B->acc_std, B->n_acc);
        fprintf(f, " | %s → %s |\n", s1, s2);
    }
    int snn = c->engine == SBP_ENGINE_RELAX || c->engine == SBP_ENGINE_SPIKE;
    if (is_events_task(c->task))
        events_paper_rows(f, c->task, snn);
    else if (snn && nettalk)
        fprintf(f, "| SNN (relaxation), paper | NETtalk | 84.26 ± 0.20 %% | 85.58 ± 0.11 %% | "
                   "4.47e6 → 0.91e6 |\n");
    else if (nettalk)
        fprintf(f, "| ANN/RBM, paper | NETtalk | 82.05 %% | 83.01 %% | 2.28e6 → 1.46e6 |\n");
    else if (snn)
        fprintf(f, "| SNN (relaxation), paper | MNIST | 93.67 ± 0.40 %% | 95.14 ± 0.12 %% | "
                   "1.92e7 → 0.88e7 |\n");
    else
        fprintf(f, "| ANN/RBM, paper | MNIST | 97.58 %% | 97.89 %% | 1.33e7 → 0.57e7 |\n");
    int replace = x->n_vars > 0 && x->vars[0].replace_pct >= 0;
    if ((b < 0 || sv < 0) && replace)
        fprintf(f, "\n(The \"this run\" row needs both replace0 and replace100.)\n");
    else if (b < 0 || sv < 0)
        fprintf(f, "\n(The \"this run\" row needs both the baseline and the sbp variant.)\n");
    if (is_events_task(c->task))
        events_paper_note(f, c->task);
    else if (nettalk)
        fprintf(f, "\nThe paper's NETtalk numbers are its cosine score (1 − mean cosine "
                   "distance) for 100 epochs on 5 033 training windows, seeds 0, 42, 3, 512, "
                   "100, batch 1; its test set is not recorded. A shorter or smaller run is not "
                   "directly comparable.\n\n");
    else
        fprintf(f, "\nThe paper's numbers are for 100 epochs on the full MNIST (60 000 / "
                   "10 000), seeds 0, 42, 3, 512, 100, batch 50; a shorter or smaller run is not "
                   "directly comparable.\n\n");

    fprintf(f, "## Per variant\n\n");
    fprintf(f, "| variant | base rule | SBP spread | test accuracy (best epoch) | seeds | mean "
               "epochs | paired with | cost | wall s / epoch | cost reduction vs baseline |\n");
    fprintf(f, "|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t v = 0; v < x->n_vars; v++) {
        const var_stats *S = &vs[v];
        const variant *V = &x->vars[v];
        char rule[96];
        variant_rule(c, V, rule, sizeof rule);
        fprintf(f, "| %s | %s | %s | ", V->name, rule, V->sbp_on ? "on" : "off");
        md_pct(f, S->acc_mean, S->acc_std, S->n_acc);
        fprintf(f, " | %zu | ", S->n_acc);
        if (S->n_ep && isfinite(S->ep_mean))
            fprintf(f, "%.2f ± %.2f | %s | ", S->ep_mean, S->ep_std, S->pair ? S->pair : "");
        else
            fprintf(f, "n/a | n/a | ");
        char sc[32];
        fmt_sci(sc, sizeof sc, S->n_ep ? S->ep_mean * per_epoch : NAN, 0, 0);
        fprintf(f, "%s | ", sc);
        if (isfinite(S->sec_per_epoch))
            fprintf(f, "%.1f | ", S->sec_per_epoch);
        else
            fprintf(f, "n/a | ");
        if ((int)v == b)
            fprintf(f, "– |\n");
        else if (S->n_ep && S->base_ep_mean > 0.0)
            fprintf(f, "%.1f %% |\n", 100.0 * (1.0 - S->ep_mean / S->base_ep_mean));
        else
            fprintf(f, "n/a |\n");
    }
    fprintf(f,
            "\n## Definitions\n\n"
            "- Test accuracy: 1 − the minimum test error over the epochs of a run (best epoch), "
            "mean ± population standard deviation over seeds.%s\n"
            "- Mean epochs (model.md section 7): for each seed, the baseline's test-error curve A "
            "and the variant's curve B give lo = max(min A, min B) and hi = min(max A, max B%s); "
            "five thresholds evenly spaced from lo to hi; for each, the first epoch whose "
            "error is ≤ the threshold (never reached: the budget, %zu); the mean over the five "
            "thresholds; then mean ± std over seeds. The baseline row uses its value in the pair "
            "named in \"paired with\".\n"
            "- Cost = mean epochs × per-epoch complexity (%s, %.6g per epoch for %s).\n"
            "- Cost reduction vs baseline = 1 − (variant's mean epochs) / (baseline's mean "
            "epochs in the same pairs).\n"
            "- Wall s / epoch: training plus testing time of one epoch, mean over seeds.\n",
            nettalk ? " NETtalk: test error = 1 − cosine score, the paper's metric (the mean "
                      "over test windows of the cosine between the 26 output and target "
                      "units); phoneme and stress accuracies per epoch are in curves.csv "
                      "(docs/nettalk.md)."
                    : "",
            capstr, c->epochs,
            cost_formula(c->engine), per_epoch, topo);
    if (replace)
        fprintf(f, "- Variants: replaceP = ann.hidden_mode mixed with ann.replace_bp = P/100: P %% "
                   "of the batches update the hidden layers with SBP (spread on), the others "
                   "with backpropagation. replace0 is full backpropagation, the baseline the "
                   "others are paired with; the \"with SBP\" column above is replace100.\n\n");
    else
        fprintf(f, "- Variants: baseline = symmetric rule, SBP spread disabled (the published "
                   "baseline); sbp = sbp rule with the spread operator; ablation = sbp rule, "
                   "spread disabled.%s\n\n",
                c->engine == SBP_ENGINE_ANN ? " With the ann engine, baseline updates the hidden "
                                              "layers by backpropagation (ann.hidden_mode bp) and "
                                              "sbp by SBP (ann.hidden_mode sbp)."
                                            : "");
    fprintf(f, "Curves: curves.csv (one row per seed, variant and epoch) and curves.svg.\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return fail("writing '%s' failed", path);
    return 0;
}

static int write_svg(experiment *x)
{
    char path[PATH_BUF];
    if (out_path(x, "curves.svg", path, sizeof path)) return EXIT_FAIL;
    size_t E = x->cfg.epochs;
    double *buf = calloc(4 * E * x->n_vars + 1, sizeof *buf);
    if (!buf) return fail("out of memory");
    svg_series series[MAX_VARIANTS];
    size_t ns = 0;
    for (size_t v = 0; v < x->n_vars; v++) {
        double *ex = buf + 4 * E * v, *mean = ex + E, *lo = mean + E, *hi = lo + E;
        size_t last = 0;
        for (size_t e = 0; e < E; e++) {
            double sum = 0.0, mn = INFINITY, mx = -INFINITY;
            size_t n = 0;
            for (size_t s = 0; s < x->n_seeds; s++) {
                if (x->n_done[s * x->n_vars + v] <= e) continue;
                double t = 100.0 * run_rec(x, s, v)[e].test_error;
                if (!isfinite(t)) continue;
                sum += t;
                mn = t < mn ? t : mn;
                mx = t > mx ? t : mx;
                n++;
            }
            ex[e] = (double)(e + 1);
            mean[e] = n ? sum / (double)n : NAN;
            lo[e] = n ? mn : NAN;
            hi[e] = n ? mx : NAN;
            if (n) last = e + 1;
        }
        if (!last) continue;
        series[ns].name = x->vars[v].name;
        series[ns].color = x->vars[v].color;
        series[ns].n = last;
        series[ns].x = ex;
        series[ns].y = mean;
        series[ns].lo = x->n_seeds > 1 ? lo : NULL;
        series[ns].hi = x->n_seeds > 1 ? hi : NULL;
        ns++;
    }
    char title[160];
    snprintf(title, sizeof title, "%s test error%s per epoch, %s engine, %zu seed%s",
             task_name(&x->cfg), x->cfg.task == TASK_NETTALK ? " (1 - cosine score)" : "",
             sbp_engine_name(x->cfg.engine), x->n_seeds, x->n_seeds == 1 ? "" : "s");
    svg_plot plot = {title, "epoch", "test error (%)",
                     x->n_seeds > 1 ? "line: mean over seeds; band: min to max over seeds"
                                    : "one seed",
                     0, 0, 1};
    int rc = 0;
    if (ns == 0) {
        free(buf);
        return 0; /* nothing to draw: no completed epoch */
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        rc = fail("cannot write '%s': %s", path, strerror(errno));
    } else {
        int w = svg_write_plot(f, &plot, series, ns);
        if (fclose(f) != 0 || w != 0) rc = fail("writing '%s' failed", path);
    }
    free(buf);
    return rc;
}

static int parse_variants(const char *s, experiment *x)
{
    x->n_vars = 0;
    const char *p = s;
    if (!*s) return usage("--variants: expected a comma-separated list, got ''");
    for (;;) {
        size_t len = strcspn(p, ",");
        const variant *found = NULL;
        for (size_t i = 0; i < N_ALL_VARIANTS; i++)
            if (strlen(all_variants[i].name) == len && strncmp(all_variants[i].name, p, len) == 0)
                found = &all_variants[i];
        if (!found)
            return usage("--variants: expected baseline, sbp or ablation, got '%.*s'", (int)len, p);
        for (size_t i = 0; i < x->n_vars; i++)
            if (strcmp(x->vars[i].name, found->name) == 0)
                return usage("--variants: '%s' is listed twice", found->name);
        if (found->sbp_on == 0 && found->base_rule == SBP_BASE_SBP &&
            x->cfg.engine != SBP_ENGINE_RELAX)
            return usage("--variants: 'ablation' changes the base rule, which only the relax "
                         "engine has");
        x->vars[x->n_vars++] = *found;
        if (p[len] == '\0') break;
        p += len + 1;
    }
    x->base_var = find_variant(x, "baseline");
    x->sbp_var = find_variant(x, "sbp");
    return 0;
}

/* --replace-bp P,P... (ann): one variant replaceP per percentage, coloured
 * from blue (0, full BP) to red (100, SBP on every batch). */
static int parse_replace_variants(const char *s, experiment *x)
{
    uint64_t pct[MAX_VARIANTS];
    size_t n = 0;
    int rc = parse_uint_list("--replace-bp", s, 0, 100, pct, MAX_VARIANTS, &n);
    if (!rc) rc = check_replace_bp(&x->cfg);
    if (rc) return rc;
    x->n_vars = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (pct[j] == pct[i])
                return usage("--replace-bp: %" PRIu64 " is listed twice", pct[i]);
        variant *v = &x->vars[x->n_vars++];
        memset(v, 0, sizeof *v);
        snprintf(v->name, sizeof v->name, "replace%" PRIu64, pct[i]);
        v->sbp_on = 1;
        v->replace_pct = (int)pct[i];
        double t = (double)pct[i] / 100.0;
        snprintf(v->color, sizeof v->color, "#%02x%02x%02x",
                 (unsigned)lround(0x1f + (0xd6 - 0x1f) * t),
                 (unsigned)lround(0x77 + (0x27 - 0x77) * t),
                 (unsigned)lround(0xb4 + (0x28 - 0xb4) * t));
    }
    x->base_var = find_variant(x, "replace0");
    x->sbp_var = find_variant(x, "replace100");
    return 0;
}

/* The configuration of one variant's runs. */
static void apply_variant(run_cfg *c, const variant *v)
{
    c->sbp_on = v->sbp_on;
    c->base_rule = c->engine == SBP_ENGINE_RELAX ? v->base_rule : 0;
    c->replace_pct = v->replace_pct;
}

static void write_run_rows(experiment *x, size_t s, size_t v)
{
    const epoch_rec *rec = run_rec(x, s, v);
    for (size_t e = 0; e < x->n_done[s * x->n_vars + v]; e++)
        write_csv_row(x->csv, x->seeds[s], x->vars[v].name, e + 1, &rec[e],
                      x->cfg.task == TASK_NETTALK);
}

/* --resume: reads an earlier curves.csv and keeps the runs (seed, variant)
 * of this experiment that have all its epochs; the rest run again. Rows of
 * other seeds, variants or epochs beyond --epochs are dropped. Several
 * experiments' curves.csv files concatenated (one header) can be summarised
 * this way without training anything. */
static int resume_runs(experiment *x, const char *path, size_t *kept)
{
    *kept = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0; /* nothing to resume */
        return fail("--resume: cannot read '%s': %s", path, strerror(errno));
    }
    char line[512];
    size_t lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (strncmp(line, "seed,", 5) == 0) continue; /* a header, possibly repeated */
        /* seed,variant,epoch,train_error,test_error,seconds and, for
         * NETtalk, phoneme_accuracy,stress_accuracy; an empty error or
         * accuracy field means "not measured" */
        const size_t want = x->cfg.task == TASK_NETTALK ? 8 : 6;
        char *field[8];
        size_t nf = 0;
        char *p = line;
        line[strcspn(line, "\r\n")] = '\0';
        while (nf < want) {
            field[nf++] = p;
            char *comma = strchr(p, ',');
            if (!comma) break;
            *comma = '\0';
            p = comma + 1;
        }
        char *end;
        errno = 0;
        unsigned long long seed = nf == want ? strtoull(field[0], &end, 10) : 0;
        int bad = nf != want || errno || *end;
        size_t epoch = bad ? 0 : (size_t)strtoull(field[2], &end, 10);
        bad = bad || *end;
        double err[2], secs = bad ? 0 : strtod(field[5], &end);
        bad = bad || *end;
        for (int k = 0; k < 2 && !bad; k++) {
            err[k] = *field[3 + k] ? strtod(field[3 + k], &end) : NAN;
            bad = *field[3 + k] && *end;
        }
        double acc[2] = {NAN, NAN};
        for (int k = 0; k < 2 && !bad && want == 8; k++) {
            acc[k] = *field[6 + k] ? strtod(field[6 + k], &end) : NAN;
            bad = *field[6 + k] && *end;
        }
        if (bad) {
            rc = fail("--resume: %s line %zu is not a curves.csv row", path, lineno);
            break;
        }
        const char *vname = field[1];
        int v = find_variant(x, vname);
        size_t s = 0;
        while (s < x->n_seeds && x->seeds[s] != seed) s++;
        if (v < 0 || s == x->n_seeds || epoch < 1 || epoch > x->cfg.epochs) continue;
        size_t i = s * x->n_vars + (size_t)v;
        if (epoch != x->n_done[i] + 1) continue; /* out of order or repeated: ignore */
        epoch_rec *r = &run_rec(x, s, (size_t)v)[epoch - 1];
        r->train_error = err[0];
        r->test_error = err[1];
        r->seconds = secs;
        r->phoneme_accuracy = acc[0];
        r->stress_accuracy = acc[1];
        x->n_done[i] = epoch;
        x->run_seconds[i] += secs;
    }
    fclose(f);
    if (rc) return rc;
    /* runs that stopped part way continue from their latest checkpoint
     * (the epochs after it are dropped); without one they start again */
    for (size_t s = 0; s < x->n_seeds; s++)
        for (size_t v = 0; v < x->n_vars; v++) {
            size_t i = s * x->n_vars + v;
            if (x->n_done[i] == x->cfg.epochs) {
                (*kept)++;
                continue;
            }
            size_t e = x->n_done[i] ? find_checkpoint(x, s, v, x->n_done[i]) : 0;
            x->n_done[i] = e;
            x->run_seconds[i] = 0.0;
            for (size_t k = 0; k < e; k++) x->run_seconds[i] += run_rec(x, s, v)[k].seconds;
        }
    return 0;
}

int tool_experiment(const args *a)
{
    experiment *x = calloc(1, sizeof *x);
    if (!x) return fail("out of memory");
    int rc = parse_run_cfg(a, &x->cfg);
    sbp_dataset *train = NULL, *test = NULL;
    if (rc) goto done;
    if (a->given[OPT_SEEDS]) {
        if ((rc = parse_uint_list("--seeds", a->val[OPT_SEEDS], 0, UINT64_MAX, x->seeds,
                                  MAX_SEEDS, &x->n_seeds)))
            goto done;
        for (size_t i = 0; i < x->n_seeds; i++)
            for (size_t j = 0; j < i; j++)
                if (x->seeds[i] == x->seeds[j]) {
                    rc = usage("--seeds: seed %" PRIu64 " is listed twice", x->seeds[i]);
                    goto done;
                }
    } else {
        const uint64_t paper[] = {0, 42, 3, 512, 100};
        for (size_t i = 0; i < 5; i++) x->seeds[i] = paper[i];
        x->n_seeds = 5;
    }
    if (a->given[OPT_GRID]) {
        rc = x->cfg.task == TASK_MNIST ? run_grid(x, a)
                                       : usage("--grid: only with --task mnist for now");
        goto done;
    }
    if (a->given[OPT_GRID_VALUES] || a->given[OPT_VAL]) {
        rc = usage("%s: only with --grid", a->given[OPT_GRID_VALUES] ? "--grid-values" : "--val");
        goto done;
    }
    if (a->given[OPT_REPLACE_BP_LIST] && a->given[OPT_VARIANTS]) {
        rc = usage("--replace-bp: replaces the variants; drop --variants");
        goto done;
    }
    if (a->given[OPT_REPLACE_BP_LIST])
        rc = parse_replace_variants(a->val[OPT_REPLACE_BP_LIST], x);
    else
        rc = parse_variants(a->given[OPT_VARIANTS] ? a->val[OPT_VARIANTS] : "baseline,sbp,ablation",
                            x);
    if (rc) goto done;
    if (!a->given[OPT_OUT]) {
        rc = usage("experiment: --out DIR is required");
        goto done;
    }
    snprintf(x->out_dir, sizeof x->out_dir, "%s", a->val[OPT_OUT]);
    if ((rc = resolve_task_dir(a, x->cfg.task, &x->dd))) goto done;

    /* Every variant's network must build before anything is loaded or run. */
    for (size_t v = 0; v < x->n_vars; v++) {
        run_cfg *c = &x->cfg;
        apply_variant(c, &x->vars[v]);
        sbp_net *net = NULL;
        if ((rc = build_net(c, x->seeds[0], &net))) goto done;
        if (v == 0) {
            int64_t bs = 0;
            sbp_net_get_int(net, SBP_NET_BATCH_SIZE, &bs);
            x->batch = bs;
        }
        sbp_net_free(net);
    }

    size_t runs = x->n_seeds * x->n_vars;
    x->rec = calloc(runs * x->cfg.epochs, sizeof *x->rec);
    x->n_done = calloc(runs, sizeof *x->n_done);
    x->run_seconds = calloc(runs, sizeof *x->run_seconds);
    if (!x->rec || !x->n_done || !x->run_seconds) {
        rc = fail("out of memory");
        goto done;
    }
    if ((rc = mkdir_p(x->out_dir))) goto done;
    if ((rc = out_path(x, "checkpoints", x->ckpt_dir, sizeof x->ckpt_dir)) ||
        (rc = mkdir_p(x->ckpt_dir)))
        goto done;
    char path[PATH_BUF];
    if ((rc = out_path(x, "curves.csv", path, sizeof path))) goto done;
    size_t kept = 0;
    if (a->given[OPT_RESUME] && (rc = resume_runs(x, path, &kept))) goto done;
    x->csv = fopen(path, "w");
    if (!x->csv) {
        rc = fail("cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    fprintf(x->csv, "seed,variant,epoch,train_error,test_error,seconds%s\n",
            x->cfg.task == TASK_NETTALK ? ",phoneme_accuracy,stress_accuracy" : "");
    /* complete runs kept by --resume go first, as they were */
    for (size_t s = 0; s < x->n_seeds; s++)
        for (size_t v = 0; v < x->n_vars; v++)
            if (x->n_done[s * x->n_vars + v] == x->cfg.epochs) write_run_rows(x, s, v);
    fflush(x->csv);
    if (kept) note(x->cfg.quiet, "--resume: kept %zu complete runs from %s", kept, path);

    if ((rc = load_task(&x->cfg, &x->dd, &train, &test))) goto done;
    x->n_train = sbp_dataset_count(train);
    x->n_test = sbp_dataset_count(test);

    tool_interrupt_install();
    for (size_t s = 0; s < x->n_seeds && !rc; s++) {
        for (size_t v = 0; v < x->n_vars && !rc; v++) {
            if (x->n_done[s * x->n_vars + v] == x->cfg.epochs) continue; /* kept by --resume */
            run_cfg *c = &x->cfg;
            apply_variant(c, &x->vars[v]);
            x->cur_seed = s;
            x->cur_var = v;
            size_t i = s * x->n_vars + v;
            sbp_net *net = NULL;
            if (x->n_done[i] > 0) {
                /* continued from its checkpoint, with the settings it was
                 * started with (the file holds them) */
                char ck[PATH_BUF];
                sbp_diag dg;
                if ((rc = ckpt_path(x, s, v, x->n_done[i], ck, sizeof ck))) break;
                sbp_status st = sbp_net_load(ck, &dg, &net);
                if (st != SBP_OK) {
                    rc = lib_fail(ck, st, dg.message);
                    break;
                }
                if (c->threads_given && (st = sbp_net_set_int(net, SBP_NET_THREADS, c->threads))) {
                    rc = lib_fail("--threads", st, sbp_net_errmsg(net));
                    sbp_net_free(net);
                    break;
                }
                write_run_rows(x, s, v);
                fflush(x->csv);
                note(c->quiet, "--resume: seed %" PRIu64 ", variant %s continues after epoch %zu "
                               "from %s", x->seeds[s], x->vars[v].name, x->n_done[i], ck);
            } else if ((rc = build_net(c, x->seeds[s], &net))) {
                break;
            }
            char prefix[64];
            snprintf(prefix, sizeof prefix, "seed %" PRIu64 " %s ", x->seeds[s],
                     x->vars[v].name);
            note(c->quiet, "run %zu/%zu: seed %" PRIu64 ", variant %s", s * x->n_vars + v + 1,
                 runs, x->seeds[s], x->vars[v].name);
            double secs = 0.0;
            rc = run_epochs(net, train, test, c, x->seeds[s], prefix, run_rec(x, s, v),
                            &x->n_done[i], &secs, experiment_epoch_out, x);
            x->run_seconds[i] += secs;
            sbp_net_free(net);
            if (x->csv_failed) {
                rc = fail("writing '%s' failed", path);
                break;
            }
        }
    }
    tool_interrupt_uninstall();
    if (rc == 0 || rc == EXIT_INTERRUPTED) {
        int interrupted = rc == EXIT_INTERRUPTED;
        if (interrupted) note(0, "interrupted: writing the summary of the completed epochs");
        var_stats vs[MAX_VARIANTS];
        compute_stats(x, vs);
        int w = write_summary(x, vs, interrupted);
        if (!w) w = write_svg(x);
        if (w) {
            rc = w;
        } else {
            printf("wrote %s/curves.csv, %s/summary.md, %s/curves.svg\n", x->out_dir, x->out_dir,
                   x->out_dir);
            fflush(stdout);
        }
    }
done:
    if (x->csv && fclose(x->csv) != 0 && !rc) rc = fail("writing curves.csv failed");
    sbp_dataset_free(train);
    sbp_dataset_free(test);
    free(x->rec);
    free(x->n_done);
    free(x->run_seconds);
    free(x);
    return rc;
}
