/* The `sbp` command line: info, data, train, eval, experiment, bench.
 *
 * Uses only the public API (sbp/sbp.h) plus the tool's own modules (see
 * tool.h). This file holds main, the option and command tables from which
 * --help is generated, and the small commands; experiment.c and grid.c
 * hold `sbp experiment`, netcfg.c the network of a run.
 * Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.
 * docs/cli.md describes every command; keep it in step with the tables
 * below. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbp/sbp.h"

#include "bench.h"
#include "bench_events.h"
#include "msg.h"
#include "events_task.h"
#include "netcfg.h"
#include "progress.h"
#include "tool.h"

int tool_argc;
char **tool_argv;

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct opt_def {
    const char *name;    /* long name without the dashes */
    const char *metavar; /* NULL: a flag without a value */
    const char *help;    /* one line */
    const char *def;     /* default shown in --help, or NULL */
    sbp_param param;     /* nonzero: the default is this library parameter's */
} opt_def;

static const opt_def options[OPT__COUNT] = {
    [OPT_HELP] = {"help", NULL, "show this help and exit", NULL, 0},
    [OPT_JSON] = {"json", NULL, "machine-readable JSON on stdout (see docs/cli.md)", NULL, 0},
    [OPT_QUIET] = {"quiet", NULL, "no progress bar or notes on stderr, only errors", NULL, 0},
    [OPT_DATA] = {"data", "DIR",
                  "MNIST directory (IDX files, raw or .gz); with --task nettalk, a NETtalk "
                  "directory (nettalk.data, nettalk.list, features.tsv, stress.tsv); nmnist: "
                  "<id>.bs2 recordings with labels.txt (or train/ and test/ such folders); "
                  "dvsgesture: the official DvsGesture folder",
                  "$SBP_DATA, else the bundled data/mnist; nettalk: the bundled data/nettalk; "
                  "nmnist: ../shared/data/nmnist beside the source tree",
                  0},
    [OPT_TASK] = {"task", "NAME",
                  "task to learn: mnist, nettalk, nmnist or dvsgesture (see docs/nettalk.md, "
                  "docs/events.md)",
                  "mnist", 0},
    [OPT_MODEL] = {"model", "ENGINE", "engine: relax, spike, ann or rbm", "relax", 0},
    [OPT_SBP] = {"sbp", "on|off",
                 "on: sbp base rule + spread operator; off: symmetric rule, spread disabled", "on",
                 0},
    [OPT_RULE] = {"rule", "RULE",
                  "relax base rule, overrides --sbp: symmetric, differential or sbp",
                  "from --sbp", 0},
    [OPT_WITH] = {"with", "RULE[,RULE...]",
                  "also attach: stdp (every hidden layer), stp, homeo (every layer after the "
                  "input); they take the stdp.*, stp.*, homeo.* --set values",
                  "none", 0},
    [OPT_REPLACE_BP] = {"replace-bp", "PCT",
                        "ann: PCT % of the batches (0-100) update the hidden layers with SBP, "
                        "the others with BP (ann.hidden_mode=mixed, ann.replace_bp=PCT/100)",
                        NULL, 0},
    [OPT_REPLACE_BP_LIST] = {"replace-bp", "PCT,PCT...",
                             "ann: instead of the variants, one variant replacePCT per "
                             "percentage, as 'sbp train --replace-bp PCT'",
                             NULL, 0},
    [OPT_HIDDEN] = {"hidden", "N[,N...]", "hidden layer sizes (784-N...-10)", "500", 0},
    [OPT_EPOCHS] = {"epochs", "N", "training epochs", "10", 0},
    [OPT_SEED] = {"seed", "S", "seed of the network's random stream (and of --shuffle)", "0", 0},
    [OPT_SEEDS] = {"seeds", "S,S...", "seeds; one run per seed and variant", "0,42,3,512,100", 0},
    [OPT_VARIANTS] = {"variants", "V,V...",
                      "among baseline (symmetric, SBP off), sbp (sbp, SBP on), ablation (sbp, SBP "
                      "off)",
                      "baseline,sbp,ablation", 0},
    [OPT_TRAIN_LIMIT] = {"train-limit", "N", "use only the first N training samples", "all", 0},
    [OPT_TEST_LIMIT] = {"test-limit", "N",
                        "use only the first N test samples (nettalk: a seeded sample of N "
                        "test windows; 'all': every one)",
                        "all; nettalk: 5000", 0},
    [OPT_BATCH] = {"batch", "N", "samples per mini-batch (net.batch_size)", NULL,
                   SBP_NET_BATCH_SIZE},
    [OPT_THREADS] = {"threads", "N", "worker threads (net.threads); 0 = one per core", NULL,
                     SBP_NET_THREADS},
    [OPT_SHUFFLE] = {"shuffle", NULL, "shuffle the training set each epoch with seed + epoch",
                     "file order, as the authors", 0},
    [OPT_SET] = {"set", "NAME=VALUE",
                 "set a parameter; repeatable; list: sbp help params", NULL, 0},
    [OPT_OUT] = {"out", "DIR", "output directory, created if needed (required)", NULL, 0},
    [OPT_SAVE] = {"save", "FILE",
                  "save the trained network to FILE (a model file; docs/file-format.md)", NULL, 0},
    [OPT_LOAD] = {"load", "FILE", "model file to evaluate (required)", NULL, 0},
    [OPT_RESUME] = {"resume", NULL,
                    "keep the complete runs found in DIR/curves.csv, continue the others from "
                    "their checkpoints", NULL, 0},
    [OPT_GRID] = {"grid", "lambda",
                  "instead of the variants, sweep spread.lambda_p x spread.lambda_f with the "
                  "SBP spread on; scores validation accuracy, never the test set",
                  NULL, 0},
    [OPT_GRID_VALUES] = {"grid-values", "V,V...", "--grid: the values of lambda_p and of lambda_f",
                         "0.1,0.4,0.7,1.0", 0},
    [OPT_SPLIT] = {"split", "SPLIT",
                   "nettalk: paper (train on the 1 000 words of nettalk.list, test on the "
                   "other words), paper-val[:SEED] (tuning: a seeded 200 of the 1 000 words "
                   "held out as the test set, the other words unused) or words[:SEED] (seeded "
                   "90/10 split of the corpus's words)",
                   "paper", 0},
    [OPT_EVENTS] = {"events", "KEY=V[,...]",
                    "nmnist, dvsgesture: frames=N, downsample=S, binning=time|count, "
                    "polarity=split|merge, value=count|binary (docs/events.md)",
                    "frames=10,binning=time,polarity=split,value=binary; downsample 1 "
                    "(nmnist) or 4 (dvsgesture)",
                    0},
    [OPT_VAL] = {"val", "N",
                 "--grid: validation samples split off the training data (seeded with the first "
                 "seed)",
                 "1000", 0},
};
struct command;
typedef int (*command_fn)(const struct command *cmd, const args *a);

typedef struct command {
    const char *name;     /* "train", "data verify" */
    const char *operands; /* "DIR", "[NAME]", or "" */
    const char *summary;  /* one line for `sbp --help` */
    const char *details;  /* paragraphs for `sbp help COMMAND` */
    const int *opts;      /* option ids, terminated by -1 */
    size_t min_pos, max_pos;
    command_fn run;
} command;

/* ------------------------------------------------------------------------ */
/* Command-line scanning                                                     */
/* ------------------------------------------------------------------------ */

static void print_command_help(FILE *f, const command *cmd);

/* Returns 0 when args are complete, -1 when --help was printed (exit 0),
 * EXIT_USAGE after printing a usage error. */
static int scan_args(const command *cmd, int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    int only_operands = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_operands && strcmp(arg, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (!only_operands && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
            print_command_help(stdout, cmd);
            return -1;
        }
        if (!only_operands && arg[0] == '-' && arg[1] != '\0') {
            if (arg[1] != '-')
                return usage("%s: unknown option '%s' (see 'sbp help %s')", cmd->name, arg,
                             cmd->name);
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            int id = -1;
            for (const int *o = cmd->opts; *o >= 0; o++)
                if (strlen(options[*o].name) == len && strncmp(options[*o].name, name, len) == 0)
                    id = *o;
            if (id < 0)
                return usage("%s: unknown option '%.*s' (see 'sbp help %s')", cmd->name,
                             (int)(len + 2), arg, cmd->name);
            const opt_def *d = &options[id];
            const char *value = NULL;
            if (!d->metavar) {
                if (eq) return usage("--%s: takes no value, got '%s'", d->name, eq + 1);
            } else if (eq) {
                value = eq + 1;
            } else {
                /* "--task --model relax": --task has no value; never swallow an option. */
                if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
                    return usage("--%s: missing value (%s)", d->name, d->metavar);
                value = argv[++i];
            }
            if (id == OPT_SET) {
                if (a->n_sets == MAX_SETS) return usage("--set: at most %d settings", MAX_SETS);
                a->sets[a->n_sets++] = value;
            }
            a->val[id] = value;
            a->given[id] = 1;
            continue;
        }
        if (a->n_pos >= cmd->max_pos || a->n_pos >= MAX_POSITIONAL)
            return usage("%s: unexpected argument '%s' (see 'sbp help %s')", cmd->name, arg,
                         cmd->name);
        a->pos[a->n_pos++] = arg;
    }
    if (a->n_pos < cmd->min_pos)
        return usage("%s: missing operand %s (see 'sbp help %s')", cmd->name, cmd->operands,
                     cmd->name);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* sbp info                                                                  */
/* ------------------------------------------------------------------------ */

static int cmd_info(const command *cmd, const args *a)
{
    (void)cmd;
    if (a->n_pos == 1) return sbp_tool_model_info(a->pos[0], a->given[OPT_JSON], stdout, stderr);
    const sbp_engine engines[] = {SBP_ENGINE_RELAX, SBP_ENGINE_SPIKE, SBP_ENGINE_ANN,
                                  SBP_ENGINE_RBM};
    if (a->given[OPT_JSON]) {
        printf("{\"version\":");
        json_string(stdout, sbp_version_string());
        printf(",\"version_number\":%u,\"header_version\":", sbp_version_number());
        json_string(stdout, SBP_VERSION_STRING);
        printf(",\"blas\":");
        json_string(stdout, sbp_blas_name());
        printf(",\"default_threads\":%u,\"engines\":{", sbp_default_threads());
        for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
            printf("%s\"%s\":%s", i ? "," : "", sbp_engine_name(engines[i]),
                   sbp_engine_available(engines[i]) ? "true" : "false");
        printf("}}\n");
    } else {
        printf("libsbp %s", sbp_version_string());
        if (strcmp(sbp_version_string(), SBP_VERSION_STRING) != 0)
            printf(" (the sbp command was built against %s)", SBP_VERSION_STRING);
        printf("\nBLAS:            %s\n", sbp_blas_name());
        printf("default threads: %u\n", sbp_default_threads());
        printf("engines:\n");
        for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
            printf("  %-6s %s\n", sbp_engine_name(engines[i]),
                   sbp_engine_available(engines[i]) ? "available" : "not available in this build");
    }
    return fflush(stdout) == 0 ? 0 : fail("writing to stdout: %s", strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* sbp data verify / data info                                               */
/* ------------------------------------------------------------------------ */

static int cmd_data_verify(const command *cmd, const args *a)
{
    (void)cmd;
    return sbp_tool_data_verify(a->pos[0], stdout, stderr) == 0 ? 0 : EXIT_FAIL;
}

static int label_histogram(const sbp_dataset *ds, size_t *hist, size_t *other)
{
    size_t k = sbp_dataset_classes(ds);
    *other = 0;
    for (size_t i = 0; i < k; i++) hist[i] = 0;
    for (size_t i = 0; i < sbp_dataset_count(ds); i++) {
        int32_t label = -1;
        sbp_status st = sbp_dataset_sample(ds, i, NULL, NULL, &label);
        if (st != SBP_OK) return lib_fail("reading labels", st, sbp_dataset_errmsg(ds));
        if (label >= 0 && (size_t)label < k)
            hist[label]++;
        else
            (*other)++;
    }
    return 0;
}

static int cmd_data_info(const command *cmd, const args *a)
{
    (void)cmd;
    if (a->given[OPT_TASK] && events_task_name(a->val[OPT_TASK])) return events_data_info(a);
    if (a->given[OPT_EVENTS]) return usage("--events: only with --task nmnist or dvsgesture");
    data_dir dd;
    int rc = resolve_data_dir(a, &dd);
    if (rc) return rc;
    sbp_dataset *parts[2] = {NULL, NULL};
    const char *names[2] = {"train", "test"};
    if ((rc = load_mnist(&dd, 0, 0, 1, &parts[0], &parts[1]))) return rc;
    size_t hist[2][MNIST_CLASSES], other[2] = {0, 0};
    for (int p = 0; p < 2 && !rc; p++) rc = label_histogram(parts[p], hist[p], &other[p]);
    if (!rc && a->given[OPT_JSON]) {
        printf("{\"dir\":");
        json_string(stdout, dd.path);
        printf(",\"source\":");
        json_string(stdout, dd.source);
        for (int p = 0; p < 2; p++) {
            printf(",\"%s\":{\"samples\":%zu,\"features\":%zu,\"classes\":%zu,\"labels\":[",
                   names[p], sbp_dataset_count(parts[p]), sbp_dataset_features(parts[p]),
                   sbp_dataset_classes(parts[p]));
            for (size_t i = 0; i < MNIST_CLASSES; i++) printf("%s%zu", i ? "," : "", hist[p][i]);
            printf("]}");
        }
        printf("}\n");
    } else if (!rc) {
        printf("MNIST in %s (%s)\n", dd.path, dd.source);
        for (int p = 0; p < 2; p++) {
            size_t n = sbp_dataset_count(parts[p]);
            printf("%-5s  %zu samples, %zu features, %zu classes\n", names[p], n,
                   sbp_dataset_features(parts[p]), sbp_dataset_classes(parts[p]));
            printf("       label:");
            for (size_t i = 0; i < MNIST_CLASSES; i++) printf(" %6zu", i);
            printf("\n       count:");
            for (size_t i = 0; i < MNIST_CLASSES; i++) printf(" %6zu", hist[p][i]);
            printf("\n       %%    :");
            for (size_t i = 0; i < MNIST_CLASSES; i++)
                printf(" %6.2f", n ? 100.0 * (double)hist[p][i] / (double)n : 0.0);
            printf("\n");
            if (other[p]) printf("       %zu samples without a single-class label\n", other[p]);
        }
    }
    sbp_dataset_free(parts[0]);
    sbp_dataset_free(parts[1]);
    if (!rc && fflush(stdout) != 0) rc = fail("writing to stdout: %s", strerror(errno));
    return rc;
}

/* ------------------------------------------------------------------------ */
/* sbp train                                                                 */
/* ------------------------------------------------------------------------ */

static int train_epoch_out(void *user, sbp_net *net, size_t e, size_t epochs,
                           const epoch_rec *r)
{
    (void)net;
    const run_cfg *c = user;
    if (c->json) {
        printf("{\"epoch\":%zu,\"train_error\":", e);
        json_number(stdout, r->train_error, 10);
        printf(",\"test_error\":");
        json_number(stdout, r->test_error, 10);
        if (c->task == TASK_NETTALK) {
            printf(",\"cosine_score\":");
            json_number(stdout, 1.0 - r->test_error, 10);
            printf(",\"phoneme_accuracy\":");
            json_number(stdout, r->phoneme_accuracy, 10);
            printf(",\"stress_accuracy\":");
            json_number(stdout, r->stress_accuracy, 10);
        }
        printf(",\"seconds\":%.3f}\n", r->seconds);
    } else {
        print_epoch_human(stdout, e, epochs, r);
    }
    fflush(stdout);
    return 0;
}

static void print_train_summary(const run_cfg *c, const epoch_rec *rec, size_t n,
                                double seconds, int interrupted)
{
    size_t best = best_epoch(rec, n);
    double per_epoch = per_epoch_cost(c);
    double best_acc = best ? 1.0 - rec[best - 1].test_error : NAN;
    double final_acc = n ? 1.0 - rec[n - 1].test_error : NAN;
    double cost = best ? per_epoch * (double)best : NAN;
    if (c->json) {
        printf("{\"best_test_accuracy\":");
        json_number(stdout, best_acc, 10);
        printf(",\"best_epoch\":");
        if (best)
            printf("%zu", best);
        else
            printf("null");
        printf(",\"final_test_accuracy\":");
        json_number(stdout, final_acc, 10);
        if (c->task == TASK_NETTALK) {
            printf(",\"best_epoch_phoneme_accuracy\":");
            json_number(stdout, best ? rec[best - 1].phoneme_accuracy : NAN, 10);
        }
        printf(",\"seconds\":%.3f,\"cost\":", seconds);
        json_number(stdout, cost, 6);
        printf(",\"cost_per_epoch\":");
        json_number(stdout, per_epoch, 6);
        printf(",\"epochs\":%zu,\"interrupted\":%s}\n", n, interrupted ? "true" : "false");
        fflush(stdout);
        return;
    }
    if (interrupted) printf("interrupted after %zu of %zu epochs\n", n, c->epochs);
    if (!best) {
        printf("no epoch completed (%.1f s)\n", seconds);
        fflush(stdout);
        return;
    }
    char topo[256], c1[32], c2[32];
    format_topology(topo, sizeof topo, c);
    fmt_sci(c1, sizeof c1, cost, 0, 0);
    fmt_sci(c2, sizeof c2, per_epoch, 0, 0);
    printf("best test accuracy %.2f %% (epoch %zu), final test accuracy %.2f %%, "
           "%zu epoch%s in %.1f s\n",
           100.0 * best_acc, best, 100.0 * final_acc, n, n == 1 ? "" : "s", seconds);
    if (c->task == TASK_NETTALK)
        printf("NETtalk: test accuracy = cosine score (1 - mean cosine distance); at epoch %zu "
               "phoneme accuracy %.2f %%, stress accuracy %.2f %%\n",
               best, 100.0 * rec[best - 1].phoneme_accuracy,
               100.0 * rec[best - 1].stress_accuracy);
    printf("cost %s = %s per epoch (%s, %s) x %zu, the epoch at which the best test error was "
           "first reached\n",
           c1, c2, cost_formula(c->engine), topo, best);
    fflush(stdout);
}

/* --save FILE: the directory must exist before hours of training. */
static int check_save_path(const char *path)
{
    if (!*path) return usage("--save: empty file name");
    char d[PATH_BUF];
    const char *slash = strrchr(path, '/');
    if (!slash) return 0;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof d) return fail("--save: path too long");
    memcpy(d, path, n);
    d[n] = '\0';
    if (!is_dir(d)) return fail("--save %s: directory '%s' does not exist", path, d);
    return 0;
}

/* Writes the model file (atomically: a failure leaves an old file intact). */
static int save_model(sbp_net *net, const char *path, int quiet)
{
    sbp_status st = sbp_net_save(net, path);
    if (st != SBP_OK) return lib_fail("--save", st, sbp_net_errmsg(net));
    note(quiet, "saved the trained network to %s", path);
    return 0;
}

static int cmd_train(const command *cmd, const args *a)
{
    (void)cmd;
    static run_cfg c; /* large (the --set table); one per process */
    int rc = parse_run_cfg(a, &c);
    if (!rc) rc = parse_variant_opts(a, &c);
    if (rc) return rc;
    uint64_t seed = 0;
    if (a->given[OPT_SEED] && (rc = parse_uint("--seed", a->val[OPT_SEED], 0, UINT64_MAX, &seed)))
        return rc;
    if (a->given[OPT_SAVE] && (rc = check_save_path(a->val[OPT_SAVE]))) return rc;

    data_dir dd;
    sbp_net *net = NULL;
    sbp_dataset *train = NULL, *test = NULL;
    epoch_rec *rec = NULL;
    if ((rc = resolve_task_dir(a, c.task, &dd))) goto done;
    /* Build the network before loading data: option and engine problems
     * are reported at once. */
    if ((rc = build_net(&c, seed, &net))) goto done;
    if ((rc = load_task(&c, &dd, &train, &test))) goto done;
    rec = calloc(c.epochs, sizeof *rec);
    if (!rec) {
        rc = fail("out of memory");
        goto done;
    }
    char topo[256];
    format_topology(topo, sizeof topo, &c);
    note(c.quiet, "network %s, %s engine, %s, seed %" PRIu64 ", %zu epoch%s", topo,
         sbp_engine_name(c.engine), rule_description(&c), seed, c.epochs,
         c.epochs == 1 ? "" : "s");
    size_t n = 0; /* a fresh network */
    double seconds = 0.0;
    tool_interrupt_install();
    rc = run_epochs(net, train, test, &c, seed, "", rec, &n, &seconds, train_epoch_out, &c);
    tool_interrupt_uninstall();
    if (rc == EXIT_INTERRUPTED)
        note(0, "interrupted: stopped after %zu completed epoch%s", n, n == 1 ? "" : "s");
    if (rc == 0 || rc == EXIT_INTERRUPTED)
        print_train_summary(&c, rec, n, seconds, rc == EXIT_INTERRUPTED);
    if (a->given[OPT_SAVE]) {
        if (rc == 0)
            rc = save_model(net, a->val[OPT_SAVE], c.quiet);
        else if (rc == EXIT_INTERRUPTED)
            note(c.quiet, "--save: the interrupted run was not saved");
    }
done:
    free(rec);
    sbp_dataset_free(train);
    sbp_dataset_free(test);
    sbp_net_free(net);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* sbp eval                                                                  */
/* ------------------------------------------------------------------------ */

/* Topology of a loaded network as "784-500-10". */
static void net_topology(const sbp_net *net, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t L = sbp_net_layer_count(net);
    for (size_t l = 0, at = 0; l < L && at < size; l++)
        at += (size_t)snprintf(buf + at, size - at, "%s%zu", l ? "-" : "",
                               sbp_net_layer_size(net, l));
}

/* eval --task nettalk|nmnist|dvsgesture: the test part of the task's split
 * (the same one `sbp train` uses with the same --split / --events), scored
 * as `sbp train` scores it after each epoch. */
static int eval_task(const args *a, const run_cfg *cfg)
{
    static run_cfg c; /* large; one per process */
    c = *cfg;
    int rc, json = a->given[OPT_JSON];
    data_dir dd;
    sbp_dataset *train = NULL, *test = NULL;
    sbp_net *net = NULL;
    sbp_diag diag;
    memset(&diag, 0, sizeof diag);
    const char *path = a->val[OPT_LOAD];
    sbp_status st = sbp_net_load(path, &diag, &net);
    if (st != SBP_OK) return lib_fail("--load", st, diag.message);
    char topo[256];
    net_topology(net, topo, sizeof topo);
    if ((rc = resolve_task_dir(a, c.task, &dd))) goto done;
    if ((rc = load_task(&c, &dd, &train, &test))) goto done;
    sbp_dataset_free(train);
    train = NULL;
    int nettalk = c.task == TASK_NETTALK;
    size_t L = sbp_net_layer_count(net), n = sbp_dataset_count(test);
    size_t want_out = nettalk ? sbp_dataset_targets(test) : sbp_dataset_classes(test);
    if (sbp_net_layer_size(net, 0) != sbp_dataset_features(test) ||
        sbp_net_layer_size(net, L - 1) != want_out) {
        rc = fail("--load %s: the model is a %s network; this %s test set needs %zu inputs and "
                  "%zu outputs", path, topo, task_name(&c), sbp_dataset_features(test),
                  want_out);
        goto done;
    }
    note(c.quiet, "model %s: %s network %s; %zu %s test samples", path,
         sbp_engine_name(sbp_net_get_engine(net)), topo, n, task_name(&c));
    epoch_rec r = {NAN, NAN, NAN, NAN, NAN};
    const char *why = NULL;
    double t0 = tool_now();
    tool_interrupt_install();
    if (nettalk) {
        st = evaluate_nettalk(net, test, c.codes, &r, &why);
    } else {
        st = sbp_net_evaluate(net, test, &r.test_error);
    }
    tool_interrupt_uninstall();
    r.seconds = tool_now() - t0;
    if (st == SBP_E_CANCELLED) {
        note(0, "interrupted");
        rc = EXIT_INTERRUPTED;
        goto done;
    }
    if (st != SBP_OK) {
        rc = lib_fail("evaluation failed", st, why ? why : sbp_net_errmsg(net));
        goto done;
    }
    if (json) {
        printf("{\"task\":");
        json_string(stdout, task_name(&c));
        printf(",\"test_error\":");
        json_number(stdout, r.test_error, 10);
        printf(",\"test_accuracy\":");
        json_number(stdout, 1.0 - r.test_error, 10);
        if (nettalk) {
            printf(",\"phoneme_accuracy\":");
            json_number(stdout, r.phoneme_accuracy, 10);
            printf(",\"stress_accuracy\":");
            json_number(stdout, r.stress_accuracy, 10);
        }
        printf(",\"samples\":%zu,\"engine\":", n);
        json_string(stdout, sbp_engine_name(sbp_net_get_engine(net)));
        printf(",\"seconds\":%.3f}\n", r.seconds);
    } else if (nettalk) {
        printf("cosine score %.2f %% (test error %.2f %%), phonemes %.2f %%, stress %.2f %% "
               "(%zu windows, %.1f s)\n", 100.0 * (1.0 - r.test_error), 100.0 * r.test_error,
               100.0 * r.phoneme_accuracy, 100.0 * r.stress_accuracy, n, r.seconds);
    } else {
        printf("test error %.2f %%, test accuracy %.2f %% (%zu samples, %.1f s)\n",
               100.0 * r.test_error, 100.0 * (1.0 - r.test_error), n, r.seconds);
    }
    if (fflush(stdout) != 0) rc = fail("writing to stdout: %s", strerror(errno));
done:
    sbp_dataset_free(train);
    sbp_dataset_free(test);
    sbp_net_free(net);
    return rc;
}

static int cmd_eval(const command *cmd, const args *a)
{
    (void)cmd;
    if (!a->given[OPT_LOAD]) return usage("eval: --load FILE is required");
    int rc, quiet = a->given[OPT_QUIET], json = a->given[OPT_JSON];
    if (a->given[OPT_TASK] && strcmp(a->val[OPT_TASK], "mnist") != 0) {
        static run_cfg c;
        if ((rc = parse_run_cfg(a, &c))) return rc;
        return eval_task(a, &c);
    }
    size_t limit = 0;
    if (a->given[OPT_TEST_LIMIT] &&
        (rc = parse_size("--test-limit", a->val[OPT_TEST_LIMIT], 1, SIZE_MAX / 2, &limit)))
        return rc;
    data_dir dd;
    if ((rc = resolve_data_dir(a, &dd))) return rc;

    const char *path = a->val[OPT_LOAD];
    sbp_diag diag;
    memset(&diag, 0, sizeof diag);
    sbp_net *net = NULL;
    sbp_dataset *test = NULL;
    sbp_status st = sbp_net_load(path, &diag, &net);
    if (st != SBP_OK) return lib_fail("--load", st, diag.message);
    size_t L = sbp_net_layer_count(net);
    char topo[256] = "";
    for (size_t l = 0, at = 0; l < L && at < sizeof topo; l++)
        at += (size_t)snprintf(topo + at, sizeof topo - at, "%s%zu", l ? "-" : "",
                               sbp_net_layer_size(net, l));
    if (L < 2 || sbp_net_layer_size(net, 0) != MNIST_FEATURES ||
        sbp_net_layer_size(net, L - 1) != MNIST_CLASSES) {
        rc = fail("--load %s: the model is a %s network; MNIST needs %d inputs and %d outputs",
                  path, topo, MNIST_FEATURES, MNIST_CLASSES);
        goto done;
    }
    if ((rc = load_part(&dd, SBP_MNIST_TEST, limit, &test))) goto done;
    size_t n = sbp_dataset_count(test);
    note(quiet, "model %s: %s network %s; %zu test samples from %s (%s)", path,
         sbp_engine_name(sbp_net_get_engine(net)), topo, n, dd.path, dd.source);

    tool_progress p;
    tool_progress_init(&p, stderr, quiet);
    sbp_net_set_progress(net, tool_progress_callback, &p);
    tool_interrupt_install();
    double err = NAN, t0 = tool_now();
    tool_progress_begin(&p, "eval test");
    st = sbp_net_evaluate(net, test, &err);
    tool_progress_clear(&p);
    tool_interrupt_uninstall();
    sbp_net_set_progress(net, NULL, NULL);
    double seconds = tool_now() - t0;
    if (st == SBP_E_CANCELLED) {
        note(0, "interrupted");
        rc = EXIT_INTERRUPTED;
        goto done;
    }
    if (st != SBP_OK) {
        rc = lib_fail("evaluation failed", st, sbp_net_errmsg(net));
        goto done;
    }
    if (json) {
        printf("{\"test_error\":");
        json_number(stdout, err, 10);
        printf(",\"test_accuracy\":");
        json_number(stdout, 1.0 - err, 10);
        printf(",\"samples\":%zu,\"engine\":", n);
        json_string(stdout, sbp_engine_name(sbp_net_get_engine(net)));
        printf(",\"layers\":[");
        for (size_t l = 0; l < L; l++) printf("%s%zu", l ? "," : "", sbp_net_layer_size(net, l));
        printf("],\"seconds\":%.3f}\n", seconds);
    } else {
        printf("test error %.2f %%, test accuracy %.2f %% (%zu samples, %.1f s)\n", 100.0 * err,
               100.0 * (1.0 - err), n, seconds);
    }
    if (fflush(stdout) != 0) rc = fail("writing to stdout: %s", strerror(errno));
done:
    sbp_dataset_free(test);
    sbp_net_free(net);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* sbp experiment (experiment.c, grid.c)                                     */
/* ------------------------------------------------------------------------ */

static int cmd_experiment(const command *cmd, const args *a)
{
    (void)cmd;
    return tool_experiment(a);
}

/* ------------------------------------------------------------------------ */
/* sbp bench                                                                 */
/* ------------------------------------------------------------------------ */

/* Options shared by the benchmarks; returns 0 or an exit status. */
static int bench_common(const args *a, sbp_bench_opts *o)
{
    memset(o, 0, sizeof *o);
    static data_dir dd;
    if (resolve_data_dir(a, &dd)) return EXIT_FAIL;
    o->data_dir = dd.path;
    o->json = a->given[OPT_JSON];
    uint64_t v;
    if (a->given[OPT_TRAIN_LIMIT]) {
        if (parse_uint("--train-limit", a->val[OPT_TRAIN_LIMIT], 1, SIZE_MAX, &v)) return EXIT_USAGE;
        o->samples = (size_t)v;
    }
    if (a->given[OPT_THREADS]) {
        if (parse_uint("--threads", a->val[OPT_THREADS], 0, 1024, &v)) return EXIT_USAGE;
        o->threads = (unsigned)v;
    }
    if (a->given[OPT_BATCH]) {
        if (parse_uint("--batch", a->val[OPT_BATCH], 1, 1000000000, &v)) return EXIT_USAGE;
        o->batch = (size_t)v;
    }
    if (a->given[OPT_SBP]) {
        if (strcmp(a->val[OPT_SBP], "off") == 0)
            o->sbp_off = 1;
        else if (strcmp(a->val[OPT_SBP], "on") != 0)
            return usage("--sbp: expected on or off, got '%s'", a->val[OPT_SBP]);
    }
    return 0;
}

static int bench_relax(const args *a)
{
    sbp_bench_opts o;
    int rc = bench_common(a, &o);
    return rc ? rc : sbp_tool_bench_relax(&o, stdout, stderr);
}

/* Samples/s through the public API; the synaptic events/s need the
 * library's private counter: bench/spike-events (same code, with probes). */
static int bench_spike(const args *a)
{
    sbp_bench_opts o;
    int rc = bench_common(a, &o);
    return rc ? rc : sbp_tool_bench_spike(&o, stdout, stderr);
}

static int bench_ann(const args *a)
{
    sbp_bench_opts o;
    int rc = bench_common(a, &o);
    return rc ? rc : sbp_tool_bench_ann(&o, stdout, stderr);
}

static int bench_rbm(const args *a)
{
    sbp_bench_opts o;
    int rc = bench_common(a, &o);
    return rc ? rc : sbp_tool_bench_rbm(&o, stdout, stderr);
}

/* Event streams read and binned (tools/bench_events.c): --data names the
 * N-MNIST folder, not MNIST. */
static int bench_events(const args *a)
{
    return sbp_tool_bench_events_run(a->given[OPT_DATA] ? a->val[OPT_DATA] : NULL,
                                     a->given[OPT_JSON], stdout, stderr);
}

/* Adding a benchmark is one line here (NULL run: known, not in this build). */
static const struct bench_def {
    const char *name;
    const char *summary;
    int (*run)(const args *a);
} benches[] = {
    {"relax", "relax engine: s/epoch fast vs naive, GFLOP/s vs sgemm", bench_relax},
    {"spike", "event-driven LIF engine: samples/s of a training pass, input-rate scaling",
     bench_spike},
    {"ann", "dense MLP on BLAS: s/epoch, GFLOP/s vs sgemm", bench_ann},
    {"rbm", "RBMs on BLAS: s/epoch, GFLOP/s vs sgemm", bench_rbm},
    {"events", "event streams: events/s read and binned (AEDAT, N-MNIST, DVS128)",
     bench_events},
};
#define N_BENCHES (sizeof benches / sizeof benches[0])

static int cmd_bench(const command *cmd, const args *a)
{
    (void)cmd;
    if (a->n_pos == 0) {
        int ran = 0, rc = 0;
        for (size_t i = 0; i < N_BENCHES && !rc; i++)
            if (benches[i].run) {
                ran = 1;
                rc = benches[i].run(a);
            }
        if (!ran) return fail("bench: no benchmarks in this build");
        return rc;
    }
    for (size_t i = 0; i < N_BENCHES; i++) {
        if (strcmp(benches[i].name, a->pos[0]) != 0) continue;
        if (!benches[i].run) return fail("bench %s: no benchmarks in this build", a->pos[0]);
        return benches[i].run(a);
    }
    return fail("bench: unknown benchmark '%s'; no benchmarks in this build", a->pos[0]);
}

/* ------------------------------------------------------------------------ */
/* Commands and help                                                         */
/* ------------------------------------------------------------------------ */

static const int info_opts[] = {OPT_JSON, OPT_HELP, -1};
static const int verify_opts[] = {OPT_HELP, -1};
static const int data_info_opts[] = {OPT_TASK, OPT_EVENTS, OPT_DATA, OPT_JSON, OPT_HELP, -1};
static const int train_opts[] = {OPT_TASK,        OPT_SPLIT,      OPT_EVENTS, OPT_MODEL,  OPT_SBP,
                                 OPT_RULE,
                                 OPT_WITH,        OPT_REPLACE_BP, OPT_EPOCHS, OPT_SEED,
                                 OPT_HIDDEN,      OPT_DATA,       OPT_TRAIN_LIMIT,
                                 OPT_TEST_LIMIT,  OPT_BATCH,      OPT_THREADS, OPT_SHUFFLE,
                                 OPT_SET,         OPT_SAVE,       OPT_JSON,   OPT_QUIET,
                                 OPT_HELP,        -1};
static const int eval_opts[] = {OPT_LOAD,       OPT_TASK, OPT_SPLIT, OPT_EVENTS, OPT_DATA,
                                OPT_TEST_LIMIT, OPT_JSON, OPT_QUIET, OPT_HELP,   -1};
static const int experiment_opts[] = {OPT_TASK,       OPT_SPLIT,      OPT_EVENTS,     OPT_MODEL,
                                      OPT_SEEDS,      OPT_EPOCHS,
                                      OPT_OUT,        OPT_VARIANTS,   OPT_REPLACE_BP_LIST,
                                      OPT_WITH,       OPT_HIDDEN,     OPT_DATA,
                                      OPT_TRAIN_LIMIT, OPT_TEST_LIMIT, OPT_BATCH, OPT_THREADS,
                                      OPT_SHUFFLE,    OPT_SET,        OPT_RESUME, OPT_GRID,
                                      OPT_GRID_VALUES, OPT_VAL,       OPT_QUIET,  OPT_HELP,
                                      -1};
static const int bench_opts[] = {OPT_DATA, OPT_TRAIN_LIMIT, OPT_THREADS, OPT_BATCH,
                                 OPT_SBP,  OPT_JSON,        OPT_HELP,    -1};

static const command commands[] = {
    {"info", "[FILE]", "version, BLAS, threads and engines; or what model FILE holds",
     "Without FILE: prints the version of the loaded libsbp, the BLAS it uses,\n"
     "the number of threads it uses for net.threads = 0, and which engines this\n"
     "build has.\n"
     "With FILE, a model file (--save of 'sbp train', sbp_net_save): loads it\n"
     "and prints its engine, seed and layer sizes, then the network, layer and\n"
     "rule parameters that differ from the library's defaults, layer by layer\n"
     "with the rules attached to each. A damaged file: exit 1 with the loader's\n"
     "message.\n",
     info_opts, 0, 1, cmd_info},
    {"data verify", "DIR", "check the MNIST files in DIR against the published hashes",
     "Parses every MNIST file present in DIR (raw or .gz) with the library's\n"
     "loader and compares the hash of its decompressed content with the\n"
     "published value; one line per file. Exit status 0 when every file present\n"
     "verifies and at least one image/label pair was found, 1 otherwise.\n",
     verify_opts, 1, 1, cmd_data_verify},
    {"data info", "", "load MNIST; print sizes, classes and label histograms",
     "Loads the MNIST training and test sets (the data directory is chosen as\n"
     "for 'sbp train') and prints, for each, the number of samples, features\n"
     "and classes and how many samples carry each label.\n"
     "--task nmnist or dvsgesture loads those parts instead (as 'sbp train\n"
     "--task ...' would, with --events) and also prints the events (or, with\n"
     "value=binary, the active frame cells) they hold.\n",
     data_info_opts, 0, 0, cmd_data_info},
    {"train", "", "train on a task; test error per epoch, then a summary",
     "Builds a 784-500-10 network (see --hidden) on the chosen engine with the\n"
     "SBP spread rule attached to every layer after the input; each epoch trains\n"
     "on the training set, then measures the error on the test set.\n"
     "\n"
     "  --sbp on    relax: base rule sbp + spread enabled (published \"with SBP\")\n"
     "              ann: hidden layers by SBP (ann.hidden_mode=sbp) + spread enabled\n"
     "  --sbp off   relax: base rule symmetric + spread disabled (the baseline)\n"
     "              ann: hidden layers by BP (ann.hidden_mode=bp), spread disabled\n"
     "  --rule R    replaces the base rule (--rule sbp --sbp off: the ablation)\n"
     "spike and rbm have no base rule: --sbp only switches the spread rule. An\n"
     "explicit --set ann.hidden_mode=... wins over --sbp. --replace-bp PCT (ann)\n"
     "mixes the two: PCT % of the batches update the hidden layers with SBP,\n"
     "the others with BP (ann.hidden_mode=mixed, ann.replace_bp=PCT/100).\n"
     "\n"
     "--set NAME=VALUE sets a library parameter by its dotted name: net.*,\n"
     "relax.*, spike.*, ann.* on the network, spread.* on the spread rule,\n"
     "layer.* on every layer after the input (layerN.* on layer N only,\n"
     "e.g. layer2.learning_rate), and the rules below. Enums also\n"
     "take names (--set spread.form=additive); see 'sbp help params'.\n"
     "Rules attached besides the spread rule, each with its --set values:\n"
     "  stdp.*        spike: supervised STDP on the output layer, attached when\n"
     "                any stdp.* is given (the others keep the rule's defaults,\n"
     "                stdp.eta 1e-4, which the engine also uses without it)\n"
     "  --with stdp   STDP on every hidden layer (the same stdp.* values)\n"
     "  --with stp    short-term plasticity on every layer after the input\n"
     "                (stp.*; stp.* without --with stp is refused)\n"
     "  --with homeo  homeostatic threshold on every layer after the input\n"
     "                (homeo.*; refused without --with homeo)\n"
     "  cd.*          rbm: contrastive divergence on layer 1 (refused with\n"
     "                other engines)\n"
     "An engine that cannot use a rule refuses it: exit 1 with its message.\n"
     "\n"
     "Data: --data DIR, else $SBP_DATA, else the bundled sample (./data/mnist,\n"
     "the source tree's data/mnist, the installed share/libsbp/mnist).\n"
     "\n"
     "--task nettalk (docs/nettalk.md): 7-letter windows of the NETtalk corpus\n"
     "(--data DIR, else the bundled data/nettalk) to 26 phoneme and stress\n"
     "units: a 189-500-26 network, batch 1 (the paper's), engines relax, spike,\n"
     "ann (mse loss). --split paper trains on the 1 000 words of nettalk.list\n"
     "and tests on the others; --split words[:SEED] splits the corpus's words\n"
     "90/10. The test error is 1 - the paper's cosine score; each epoch also\n"
     "prints the phoneme and stress accuracy of nearest-code decoding. The test\n"
     "set is a seeded sample of --test-limit windows (default 5000; 'all').\n"
     "\n"
     "--task nmnist, --task dvsgesture (docs/events.md): event recordings binned\n"
     "into frames (--events; default 10 frames of ON and OFF channels, binary).\n"
     "nmnist: --data DIR with <id>.bs2 and labels.txt (default: the shared\n"
     "../shared/data/nmnist), a seeded 80/20 split unless DIR has train/ and\n"
     "test/; 34x34 pixels. dvsgesture: --data the official DvsGesture folder,\n"
     "one sample per labelled gesture, 128x128 down-sampled to 32x32. The spike\n"
     "engine gets one time step per frame (spike.encoder=events, spike.steps =\n"
     "frames); the others the flattened frames.\n"
     "\n"
     "Output on stdout: one line per epoch, e.g.\n"
     "  epoch 3/10  train error 12.80 %  test error 11.70 %  12.3 s\n"
     "then the best test accuracy and its epoch, the final accuracy, the total\n"
     "time and the computational cost (model.md section 7): the per-epoch\n"
     "complexity (SNN: mn + nk + n for relax and spike; dense: mn + nk + kn + nm\n"
     "for ann and rbm) times the epoch at which the best test error was first\n"
     "reached. With --json: one JSON object per epoch and a summary object,\n"
     "nothing else (schema in docs/cli.md). Progress goes to stderr: a bar on a\n"
     "terminal, else one line per epoch. Ctrl-C stops after the current\n"
     "mini-batch and prints the summary of the completed epochs (exit 130).\n"
     "\n"
     "--save FILE writes the trained network (parameters, rules, weights and\n"
     "training state) to FILE once every epoch has run, atomically (a failed\n"
     "save leaves an existing FILE as it was); 'sbp eval --load FILE'\n"
     "evaluates it. An interrupted run is not saved.\n",
     train_opts, 0, 0, cmd_train},
    {"eval", "", "evaluate a saved model on a task's test set",
     "Loads a model file written by 'sbp train --save FILE' (or by\n"
     "sbp_net_save) and measures its error on the test set of --task (MNIST:\n"
     "the first --test-limit samples; nettalk, nmnist, dvsgesture: the test\n"
     "part of the split 'sbp train' uses with the same --split, --events and\n"
     "--test-limit; data chosen as for 'sbp train'). Prints the test error and\n"
     "accuracy (nettalk: the cosine score, phoneme and stress accuracy); with\n"
     "--json one object: {\"test_error\", \"test_accuracy\", \"samples\",\n"
     "\"engine\", \"seconds\", and \"layers\" (mnist) or \"task\" and, for\n"
     "nettalk, \"phoneme_accuracy\", \"stress_accuracy\"}.\n"
     "A missing, corrupt, truncated or incompatible file exits with status 1\n"
     "and the loader's message (which file, which byte, what is wrong).\n",
     eval_opts, 0, 0, cmd_eval},
    {"experiment", "", "baseline / SBP / ablation over seeds: CSV, summary, plot",
     "For every seed and variant, trains like 'sbp train' (in this process, one\n"
     "run after the other). Variants:\n"
     "  baseline   symmetric base rule, SBP spread disabled (published baseline)\n"
     "  sbp        sbp base rule, SBP spread enabled (published \"with SBP\")\n"
     "  ablation   sbp base rule, SBP spread disabled (relax engine only)\n"
     "With --model ann, baseline updates the hidden layers by BP and sbp by SBP\n"
     "(ann.hidden_mode bp / sbp). --with and --set attach rules as for\n"
     "'sbp train'.\n"
     "Writes to the --out directory:\n"
     "  curves.csv   seed,variant,epoch,train_error,test_error,seconds; each\n"
     "               row is flushed when its epoch ends\n"
     "  summary.md   per variant: best-epoch test accuracy (mean and std over\n"
     "               seeds), mean epochs to the thresholds of model.md\n"
     "               section 7 (paired with the baseline, cap 0.2, budget =\n"
     "               --epochs), cost = mean epochs x per-epoch complexity,\n"
     "               wall seconds per epoch, cost reduction vs the baseline;\n"
     "               the paper's numbers; the exact command line\n"
     "  curves.svg   test error (%) per epoch: mean over seeds, min..max band\n"
     "  checkpoints/ the network after the latest epoch of each run\n"
     "               (seed<S>-<variant>-e<E>.sbpm, a model file)\n"
     "Ctrl-C stops the current run and writes the summary of what completed\n"
     "(exit 130).\n"
     "--resume keeps the runs that DIR/curves.csv already holds complete (all\n"
     "--epochs epochs of a seed and variant of this experiment) and runs only\n"
     "the others. A run cut short, or complete but shorter than --epochs,\n"
     "continues from its latest checkpoint exactly as if it had not stopped\n"
     "(with the settings it was started with); without a checkpoint it starts\n"
     "again. Concatenating the curves.csv of several experiments (e.g. seeds\n"
     "run in separate processes) into DIR and running with --resume\n"
     "summarises them without training.\n"
     "\n"
     "--replace-bp P,P... (ann) runs, instead of the variants, one variant per\n"
     "percentage, named replaceP: ann.hidden_mode=mixed, ann.replace_bp=P/100\n"
     "(P % of the batches update the hidden layers with SBP, the others with\n"
     "BP) and the spread on. replace0 is full BP: the baseline the others are\n"
     "paired with in summary.md, whose \"with SBP\" column is replace100.\n"
     "\n"
     "--grid lambda runs, instead of the variants, the sbp variant for every\n"
     "spread.lambda_p x spread.lambda_f in --grid-values (default 0.1,0.4,0.7,\n"
     "1.0) and every seed. It splits --val samples (default 1000) off the\n"
     "training data with a shuffle seeded by the first seed, trains on the rest,\n"
     "scores each epoch on that validation set and never loads the test set.\n"
     "Writes grid.csv (lambda_p,lambda_f,seed,val_accuracy: the best epoch's\n"
     "validation accuracy of each complete run), grid.md (tables of mean and\n"
     "std over seeds, best cell, command line) and grid.svg (heat map).\n",
     experiment_opts, 0, 0, cmd_experiment},
    {"bench", "[NAME]", "run benchmarks: measured speed figures",
     "Runs the named benchmark, or all of them, and prints measured figures\n"
     "(nothing passes or fails on time). Known names: relax, spike, ann, rbm,\n"
     "events.\n"
     "\n"
     "relax: seconds per MNIST epoch (784-500-10, batch 50) of the fast path\n"
     "and of the naive per-step recomputation, measured in one run, with\n"
     "achieved GFLOP/s against the machine's sgemm rate. --train-limit times\n"
     "the fast path on the first N samples (default: all); the naive path\n"
     "always runs 1000 samples and is scaled to a 60000-sample epoch.\n"
     "\n"
     "spike: one training pass of the event-driven LIF engine (784-500-10,\n"
     "engine defaults: Poisson input at 200 Hz, 50 steps of 1 ms, supervised\n"
     "STDP on the output) over the first N training samples (--train-limit,\n"
     "default 2000): seconds and samples/s; then the same pass at input rates\n"
     "(spike.max_rate) 25, 50, 100, 200 and 400 Hz. Synaptic events/s need\n"
     "the library's private counter: build/bench/spike-events prints the same\n"
     "report with them (bench/README.md).\n"
     "\n"
     "ann, rbm: seconds per epoch (one pass over the first --train-limit\n"
     "training samples, default all; the fastest of 2 epochs on one network),\n"
     "the FLOPs of the epoch's matrix products and the achieved GFLOP/s against\n"
     "the machine's sgemm rate, measured in the same run, with scikit-learn's\n"
     "settings (bench/run-dense-vs-sklearn runs both; bench/README.md).\n"
     "ann: 784-500-10, ReLU, softmax cross-entropy, SGD 0.1, momentum 0.9,\n"
     "hidden layer by BP, then by SBP. rbm: 500 hidden units, rate 0.1; the\n"
     "unsupervised 784-500 RBM with persistent CD-1, no momentum and no\n"
     "reconstruction error (as BernoulliRBM: cd.monitor 0), then the\n"
     "classification RBM (784+10 visible, CD-1,\n"
     "momentum 0.5, decay 1e-4) without and with the SBP spread. --batch sets\n"
     "their mini-batch; without it they use scikit-learn's defaults, 200 (ann)\n"
     "and 10 (rbm), not the 50 listed below, which relax and spike always use.\n"
     "net.threads (--threads) and OpenBLAS's thread count are printed; set the\n"
     "latter with OPENBLAS_NUM_THREADS.\n"
     "\n"
     "events: events per second read, binned into 10 frames (equal time and\n"
     "equal count) and both, for a synthetic 10-million-event AEDAT 3.1 file\n"
     "(written to $TMPDIR, removed after), the N-MNIST recordings (--data DIR,\n"
     "else ../shared/data/nmnist/train beside the source tree; also through\n"
     "sbp_dataset_load_nmnist) and the four DVS128 bs2 recordings next to them;\n"
     "best of 3, wall and CPU time (docs/events.md).\n"
     "\n"
     "--sbp on|off switches the SBP spread (relax: off also uses the symmetric\n"
     "base rule; ann, rbm: off skips the SBP runs). An unknown name exits with\n"
     "status 1.\n",
     bench_opts, 0, 1, cmd_bench},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

#define HELP_COLUMN 26
#define HELP_WIDTH 79

/* "  LEFT   text..." with the text wrapped at HELP_WIDTH under HELP_COLUMN. */
static void print_wrapped(FILE *f, const char *left, const char *text)
{
    int col = fprintf(f, "  %s", left);
    if (col < 0) return;
    if (col > HELP_COLUMN - 2) {
        fputc('\n', f);
        col = 0;
    }
    for (; col < HELP_COLUMN; col++) fputc(' ', f);
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > HELP_COLUMN && col + 1 + (int)word > HELP_WIDTH) {
            fputc('\n', f);
            for (col = 0; col < HELP_COLUMN; col++) fputc(' ', f);
        } else if (col > HELP_COLUMN) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, word, f);
        col += (int)word;
        p += word;
        while (*p == ' ') p++;
    }
    fputc('\n', f);
}

static void print_option(FILE *f, int id)
{
    const opt_def *d = &options[id];
    char left[64];
    if (id == OPT_HELP)
        snprintf(left, sizeof left, "-h, --help");
    else if (d->metavar)
        snprintf(left, sizeof left, "--%s %s", d->name, d->metavar);
    else
        snprintf(left, sizeof left, "--%s", d->name);
    char def[96] = "";
    if (d->param) {
        sbp_param_desc pd;
        if (sbp_param_info(d->param, &pd) == SBP_OK && isfinite(pd.default_value))
            snprintf(def, sizeof def, "%g", pd.default_value);
    } else if (d->def) {
        snprintf(def, sizeof def, "%s", d->def);
    }
    char text[512];
    snprintf(text, sizeof text, "%s%s%s%s", d->help, def[0] ? " (default: " : "", def,
             def[0] ? ")" : "");
    print_wrapped(f, left, text);
}

static void print_command_help(FILE *f, const command *cmd)
{
    fprintf(f, "Usage: sbp %s [OPTIONS]%s%s\n\n", cmd->name, cmd->operands[0] ? " " : "",
            cmd->operands);
    fprintf(f, "%c%s.\n\n%s\nOptions:\n", toupper((unsigned char)cmd->summary[0]),
            cmd->summary + 1, cmd->details);
    for (const int *o = cmd->opts; *o >= 0; o++) print_option(f, *o);
    fprintf(f, "\nExit status: 0 success, 1 failure, 2 usage error%s.\n",
            cmd->run == cmd_train || cmd->run == cmd_experiment ? ", 130 interrupted (Ctrl-C)"
                                                                : "");
}

static void print_data_help(FILE *f)
{
    print_command_help(f, find_command("data verify"));
    fputc('\n', f);
    print_command_help(f, find_command("data info"));
}

static void print_main_help(FILE *f)
{
    fprintf(f, "Usage: sbp COMMAND [OPTIONS]\n\n"
               "Self-backpropagation (SBP) learning with libsbp %s.\n\nCommands:\n",
            sbp_version_string());
    for (size_t i = 0; i < N_COMMANDS; i++) {
        char left[48];
        snprintf(left, sizeof left, "%s%s%s", commands[i].name, commands[i].operands[0] ? " " : "",
                 commands[i].operands);
        fprintf(f, "  %-18s %s\n", left, commands[i].summary);
    }
    fprintf(f, "  %-18s %s\n", "help [COMMAND]", "show this help, or the help of a command");
    fprintf(f, "  %-18s %s\n", "help params", "list the parameters --set accepts");
    fprintf(f, "\nOptions:\n  %-18s %s\n  %-18s %s\n", "-h, --help", "show this help and exit",
            "--version", "print the version and exit");
    fprintf(f, "\nRun 'sbp help COMMAND' or 'sbp COMMAND --help' for the options of a command.\n"
               "Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).\n");
}

/* `sbp help params`: every parameter the library knows, by probing the
 * pinned enum ranges through sbp_param_info. */
static void print_params(FILE *f)
{
    fprintf(f, "Parameters for --set NAME=VALUE (sbp train, sbp experiment):\n"
               "net.*, relax.*, spike.*, ann.* go to the network, spread.* to the SBP spread\n"
               "rule, layer.* to every layer after the input, stdp.* to the spike engine's\n"
               "supervised output rule and to the --with stdp rules, stp.* and homeo.* to\n"
               "the --with stp and --with homeo rules, cd.* to the rbm engine's\n"
               "contrastive-divergence rule (see 'sbp help train').\n\n");
    fprintf(f, "  %-26s %-5s %-11s %-11s %-10s %s\n", "name", "type", "min", "max", "default",
            "unit");
    for (unsigned group = 1; group <= 0xA; group++) {
        for (unsigned i = 0; i < 0x40; i++) {
            sbp_param_desc d;
            if (sbp_param_info((sbp_param)(group << 8 | i), &d) != SBP_OK || !d.name) continue;
            char def[32];
            if (isfinite(d.default_value))
                snprintf(def, sizeof def, "%g", d.default_value);
            else
                snprintf(def, sizeof def, "engine's");
            int has_unit = d.unit && d.unit[0];
            fprintf(f, "  %-26s %-5s %-11g %-11g %-*s%s%s\n", d.name,
                    d.type == SBP_PARAM_INT ? "int" : "real", d.min, d.max, has_unit ? 10 : 0,
                    def, has_unit ? " " : "", has_unit ? d.unit : "");
        }
    }
    fprintf(f, "\nInteger enums also take names:");
    sbp_param last = 0;
    for (size_t i = 0; i < n_set_symbols; i++) {
        if (set_symbols[i].param != last) {
            sbp_param_desc d;
            sbp_param_info(set_symbols[i].param, &d);
            fprintf(f, "\n  %s:", d.name ? d.name : "?");
            last = set_symbols[i].param;
        }
        fprintf(f, " %s=%d", set_symbols[i].name, set_symbols[i].value);
        if (i + 1 < n_set_symbols && set_symbols[i + 1].param == last &&
            strcmp(set_symbols[i].name, "relu") == 0)
            fprintf(f, "\n   ");
    }
    fputc('\n', f);
}

static int cmd_help(int argc, char **argv)
{
    if (argc == 0) {
        print_main_help(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "params") == 0) {
        print_params(stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "data") == 0) {
        print_data_help(stdout);
        return 0;
    }
    char name[64];
    if (argc == 2 && strcmp(argv[0], "data") == 0)
        snprintf(name, sizeof name, "data %s", argv[1]);
    else if (argc == 1)
        snprintf(name, sizeof name, "%s", argv[0]);
    else
        return usage("help: expected one command name (see 'sbp --help')");
    const command *cmd = find_command(name);
    if (!cmd) return usage("help: unknown command '%s' (see 'sbp --help')", name);
    print_command_help(stdout, cmd);
    return 0;
}

int main(int argc, char **argv)
{
    tool_argc = argc;
    tool_argv = argv;
    if (argc < 2) {
        print_main_help(stderr);
        return EXIT_USAGE;
    }
    const char *first = argv[1];
    if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
        print_main_help(stdout);
        return 0;
    }
    if (strcmp(first, "--version") == 0) {
        printf("sbp %s (libsbp %s)\n", SBP_VERSION_STRING, sbp_version_string());
        return 0;
    }
    if (first[0] == '-') return usage("unknown option '%s' (see 'sbp --help')", first);
    if (strcmp(first, "help") == 0) return cmd_help(argc - 2, argv + 2);

    const command *cmd = NULL;
    int next = 2;
    if (strcmp(first, "data") == 0) {
        if (argc < 3)
            return usage("data: expected a subcommand, verify or info (see 'sbp help data')");
        if (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
            print_data_help(stdout);
            return 0;
        }
        char name[64];
        snprintf(name, sizeof name, "data %s", argv[2]);
        cmd = find_command(name);
        if (!cmd)
            return usage("data: unknown subcommand '%s', expected verify or info", argv[2]);
        next = 3;
    } else {
        cmd = find_command(first);
        if (!cmd) return usage("unknown command '%s' (see 'sbp --help')", first);
    }
    args a;
    int rc = scan_args(cmd, argc - next, argv + next, &a);
    if (rc < 0) return fflush(stdout) == 0 ? 0 : EXIT_FAIL;
    if (rc) return rc;
    return cmd->run(cmd, &a);
}

