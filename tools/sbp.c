/* The `sbp` command line: info, data, train, eval, experiment, bench.
 *
 * Uses only the public API (sbp/sbp.h) plus the tool's own modules:
 * progress.c (progress bar, Ctrl-C), svg.c (plots), verify.c (data verify).
 * Exit status: 0 success, 1 failure, 2 usage error, 130 interrupted.
 * docs/cli.md describes every command; keep it in step with the tables
 * below, from which --help is generated. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "sbp/sbp.h"

#include "bench.h"
#include "progress.h"
#include "svg.h"
#include "tool.h"

#ifndef SBP_SOURCE_DIR
#define SBP_SOURCE_DIR ""
#endif
#ifndef SBP_DATA_INSTALL_DIR
#define SBP_DATA_INSTALL_DIR ""
#endif

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130

#define MAX_SETS 128
#define MAX_POSITIONAL 2
#define MAX_HIDDEN 16
#define MAX_SEEDS 64
#define MAX_VARIANTS 3
#define MAX_EPOCHS 100000
#define MAX_LAYER_SIZE 1000000
#define PATH_BUF 4096

#define MNIST_FEATURES 784
#define MNIST_CLASSES 10

/* Cap of the mean-epochs thresholds (model.md section 7). */
#define COST_CAP 0.2

/* The whole command line, for summary.md. */
static int g_argc;
static char **g_argv;

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static void vmsg(const char *fmt, va_list ap) PRINTF_LIKE(1, 0);
static void vmsg(const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs("sbp: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

/* A failure: one line on stderr, exit status 1. */
static int fail(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return EXIT_FAIL;
}

/* A usage error: one line on stderr, exit status 2. */
static int usage(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
    return EXIT_USAGE;
}

/* Information for the user on stderr (suppressed by --quiet). */
static void note(int quiet, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void note(int quiet, const char *fmt, ...)
{
    if (quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vmsg(fmt, ap);
    va_end(ap);
}

static const char *status_name(sbp_status st)
{
    const char *n = sbp_status_name(st);
    return n ? n : "unknown status";
}

/* A library failure: "<context>: <message> (SBP_E_...)". */
static int lib_fail(const char *context, sbp_status st, const char *message)
{
    if (!message || !*message) message = sbp_status_str(st);
    if (context && *context) return fail("%s: %s (%s)", context, message, status_name(st));
    return fail("%s (%s)", message, status_name(st));
}

/* ------------------------------------------------------------------------ */
/* JSON and number formatting                                                */
/* ------------------------------------------------------------------------ */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", (unsigned)*p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* A JSON number, or null when it is not finite. */
static void json_number(FILE *f, double v, int digits)
{
    if (isfinite(v))
        fprintf(f, "%.*g", digits, v);
    else
        fputs("null", f);
}

/* Scientific notation as the paper writes it: "1.92e7"; with use_forced,
 * in the exponent forced_exp, so that a pair reads "1.92e7 → 0.88e7". */
static void fmt_sci(char *buf, size_t size, double v, int forced_exp, int use_forced)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "n/a");
        return;
    }
    if (v == 0.0) {
        snprintf(buf, size, "0");
        return;
    }
    int e = use_forced ? forced_exp : (int)floor(log10(fabs(v)));
    double m = v / pow(10.0, e);
    if (!use_forced && fabs(m) >= 9.995) {
        e++;
        m /= 10.0;
    }
    snprintf(buf, size, "%.2fe%d", m, e);
}

static int sci_exponent(double v)
{
    if (!isfinite(v) || v == 0.0) return 0;
    int e = (int)floor(log10(fabs(v)));
    if (fabs(v / pow(10.0, e)) >= 9.995) e++;
    return e;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

enum opt_id {
    OPT_HELP,
    OPT_JSON,
    OPT_QUIET,
    OPT_DATA,
    OPT_TASK,
    OPT_MODEL,
    OPT_SBP,
    OPT_RULE,
    OPT_HIDDEN,
    OPT_EPOCHS,
    OPT_SEED,
    OPT_SEEDS,
    OPT_VARIANTS,
    OPT_TRAIN_LIMIT,
    OPT_TEST_LIMIT,
    OPT_BATCH,
    OPT_THREADS,
    OPT_SHUFFLE,
    OPT_SET,
    OPT_OUT,
    OPT_SAVE,
    OPT_LOAD,
    OPT_RESUME,
    OPT_GRID,
    OPT_GRID_VALUES,
    OPT_VAL,
    OPT__COUNT
};

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
    [OPT_DATA] = {"data", "DIR", "MNIST directory (IDX files, raw or .gz)",
                  "$SBP_DATA, else the bundled data/mnist", 0},
    [OPT_TASK] = {"task", "NAME", "task to learn: mnist", "mnist", 0},
    [OPT_MODEL] = {"model", "ENGINE", "engine: relax, spike, ann or rbm", "relax", 0},
    [OPT_SBP] = {"sbp", "on|off",
                 "on: sbp base rule + spread operator; off: symmetric rule, spread disabled", "on",
                 0},
    [OPT_RULE] = {"rule", "RULE",
                  "relax base rule, overrides --sbp: symmetric, differential or sbp",
                  "from --sbp", 0},
    [OPT_HIDDEN] = {"hidden", "N[,N...]", "hidden layer sizes (784-N...-10)", "500", 0},
    [OPT_EPOCHS] = {"epochs", "N", "training epochs", "10", 0},
    [OPT_SEED] = {"seed", "S", "seed of the network's random stream (and of --shuffle)", "0", 0},
    [OPT_SEEDS] = {"seeds", "S,S...", "seeds; one run per seed and variant", "0,42,3,512,100", 0},
    [OPT_VARIANTS] = {"variants", "V,V...",
                      "among baseline (symmetric, SBP off), sbp (sbp, SBP on), ablation (sbp, SBP "
                      "off)",
                      "baseline,sbp,ablation", 0},
    [OPT_TRAIN_LIMIT] = {"train-limit", "N", "use only the first N training samples", "all", 0},
    [OPT_TEST_LIMIT] = {"test-limit", "N", "use only the first N test samples", "all", 0},
    [OPT_BATCH] = {"batch", "N", "samples per mini-batch (net.batch_size)", NULL,
                   SBP_NET_BATCH_SIZE},
    [OPT_THREADS] = {"threads", "N", "worker threads (net.threads); 0 = one per core", NULL,
                     SBP_NET_THREADS},
    [OPT_SHUFFLE] = {"shuffle", NULL, "shuffle the training set each epoch with seed + epoch",
                     "file order, as the authors", 0},
    [OPT_SET] = {"set", "NAME=VALUE",
                 "set a parameter; repeatable; list: sbp help params", NULL, 0},
    [OPT_OUT] = {"out", "DIR", "output directory, created if needed (required)", NULL, 0},
    [OPT_SAVE] = {"save", "FILE", "save the trained model (not supported yet by this build)",
                  NULL, 0},
    [OPT_LOAD] = {"load", "FILE",
                  "model file to evaluate (required; not supported yet by this build)", NULL, 0},
    [OPT_RESUME] = {"resume", NULL,
                    "keep the complete runs found in DIR/curves.csv; run only the others", NULL, 0},
    [OPT_GRID] = {"grid", "lambda",
                  "instead of the variants, sweep spread.lambda_p x spread.lambda_f with the "
                  "SBP spread on; scores validation accuracy, never the test set",
                  NULL, 0},
    [OPT_GRID_VALUES] = {"grid-values", "V,V...", "--grid: the values of lambda_p and of lambda_f",
                         "0.1,0.4,0.7,1.0", 0},
    [OPT_VAL] = {"val", "N",
                 "--grid: validation samples split off the training data (seeded with the first "
                 "seed)",
                 "1000", 0},
};

/* Parsed command line of one command. */
typedef struct args {
    const char *val[OPT__COUNT]; /* last value given */
    int given[OPT__COUNT];
    const char *sets[MAX_SETS];  /* every --set, in order */
    size_t n_sets;
    const char *pos[MAX_POSITIONAL];
    size_t n_pos;
} args;

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
/* Strict number parsing                                                     */
/* ------------------------------------------------------------------------ */

/* Whole decimal number in [min, max]: digits only (no sign, no spaces, no
 * trailing garbage). `what` names the argument in messages. */
static int parse_uint(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *kind = min >= 1 ? "a positive integer" : "a non-negative integer";
    if (!s || !*s || *s < '0' || *s > '9')
        return usage("%s: expected %s, got '%s'", what, kind, s ? s : "");
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0') return usage("%s: expected %s, got '%s'", what, kind, s);
    if (errno == ERANGE || v > max)
        return usage("%s: %s is too large (at most %" PRIu64 ")", what, s, max);
    if (v < min) return usage("%s: expected %s, got '%s'", what, kind, s);
    *out = (uint64_t)v;
    return 0;
}

static int parse_size(const char *what, const char *s, uint64_t min, uint64_t max, size_t *out)
{
    uint64_t v = 0;
    int rc = parse_uint(what, s, min, max, &v);
    if (rc) return rc;
    *out = (size_t)v;
    return 0;
}

/* Comma-separated list of whole numbers; at most `cap` entries. */
static int parse_uint_list(const char *what, const char *s, uint64_t min, uint64_t max,
                           uint64_t *out, size_t cap, size_t *n)
{
    *n = 0;
    if (!s || !*s) return usage("%s: expected a comma-separated list, got ''", what);
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item)
            return usage("%s: expected a comma-separated list of integers, got '%s'", what, s);
        memcpy(item, p, len);
        item[len] = '\0';
        if (*n == cap) return usage("%s: at most %zu values", what, cap);
        int rc = parse_uint(what, item, min, max, &out[*n]);
        if (rc) return rc;
        (*n)++;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

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
/* Data directory                                                            */
/* ------------------------------------------------------------------------ */

typedef struct data_dir {
    char path[PATH_BUF];
    const char *source; /* how it was chosen, for messages */
} data_dir;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An explicitly named directory must exist. */
static int check_named_dir(const char *what, const char *path)
{
    struct stat st;
    if (strlen(path) >= PATH_BUF) return fail("%s: path too long", what);
    if (stat(path, &st) != 0) return fail("%s: '%s': %s", what, path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return fail("%s: '%s': not a directory", what, path);
    return 0;
}

/* --data, else $SBP_DATA, else the bundled sample: ./data/mnist, then the
 * source tree the tool was built from, then the installed share dir. */
static int resolve_data_dir(const args *a, data_dir *dd)
{
    memset(dd, 0, sizeof *dd);
    const char *env = getenv("SBP_DATA");
    if (a->given[OPT_DATA]) {
        if (check_named_dir("--data", a->val[OPT_DATA])) return EXIT_FAIL;
        snprintf(dd->path, sizeof dd->path, "%s", a->val[OPT_DATA]);
        dd->source = "--data";
        return 0;
    }
    if (env && *env) {
        if (check_named_dir("SBP_DATA", env)) return EXIT_FAIL;
        snprintf(dd->path, sizeof dd->path, "%s", env);
        dd->source = "$SBP_DATA";
        return 0;
    }
    char cand[3][PATH_BUF];
    const char *src[3];
    size_t n = 0;
    src[n] = "bundled sample, current directory";
    snprintf(cand[n++], PATH_BUF, "data/mnist");
    if (SBP_SOURCE_DIR[0]) {
        src[n] = "bundled sample, source tree";
        snprintf(cand[n++], PATH_BUF, "%s/data/mnist", SBP_SOURCE_DIR);
    }
    if (SBP_DATA_INSTALL_DIR[0]) {
        src[n] = "installed sample";
        snprintf(cand[n++], PATH_BUF, "%s", SBP_DATA_INSTALL_DIR);
    }
    for (size_t i = 0; i < n; i++) {
        if (is_dir(cand[i])) {
            memcpy(dd->path, cand[i], sizeof dd->path);
            dd->source = src[i];
            return 0;
        }
    }
    return fail("no MNIST data found (tried %s%s%s%s%s); use --data DIR or set SBP_DATA", cand[0],
                n > 1 ? ", " : "", n > 1 ? cand[1] : "", n > 2 ? ", " : "", n > 2 ? cand[2] : "");
}

static const char *part_name(sbp_mnist_part part)
{
    return part == SBP_MNIST_TRAIN ? "training set" : "test set";
}

static int load_part(const data_dir *dd, sbp_mnist_part part, size_t limit, sbp_dataset **out)
{
    sbp_diag diag;
    memset(&diag, 0, sizeof diag);
    sbp_dataset *ds = NULL;
    *out = NULL;
    sbp_status st = sbp_dataset_load_mnist(dd->path, part, &diag, &ds);
    if (st != SBP_OK) {
        char ctx[PATH_BUF + 64];
        snprintf(ctx, sizeof ctx, "cannot load the MNIST %s from '%s'", part_name(part), dd->path);
        return lib_fail(ctx, st, diag.message);
    }
    if (sbp_dataset_features(ds) != MNIST_FEATURES || sbp_dataset_classes(ds) != MNIST_CLASSES) {
        int rc = fail("'%s': the MNIST %s has %zu features and %zu classes, expected %d and %d",
                      dd->path, part_name(part), sbp_dataset_features(ds),
                      sbp_dataset_classes(ds), MNIST_FEATURES, MNIST_CLASSES);
        sbp_dataset_free(ds);
        return rc;
    }
    if (limit > 0 && limit < sbp_dataset_count(ds)) {
        sbp_dataset *sub = NULL;
        st = sbp_dataset_subset(ds, 0, limit, &sub);
        if (st != SBP_OK) {
            int rc = lib_fail("cannot take the first samples", st, sbp_dataset_errmsg(ds));
            sbp_dataset_free(ds);
            return rc;
        }
        sbp_dataset_free(ds);
        ds = sub;
    }
    *out = ds;
    return 0;
}

/* Loads both parts and says on stderr what was used. */
static int load_mnist(const data_dir *dd, size_t train_limit, size_t test_limit, int quiet,
                      sbp_dataset **train, sbp_dataset **test)
{
    *train = *test = NULL;
    int rc = load_part(dd, SBP_MNIST_TRAIN, train_limit, train);
    if (rc) return rc;
    rc = load_part(dd, SBP_MNIST_TEST, test_limit, test);
    if (rc) {
        sbp_dataset_free(*train);
        *train = NULL;
        return rc;
    }
    note(quiet, "data: %s (%s): %zu training and %zu test samples", dd->path, dd->source,
         sbp_dataset_count(*train), sbp_dataset_count(*test));
    return 0;
}

/* ------------------------------------------------------------------------ */
/* --set NAME=VALUE                                                          */
/* ------------------------------------------------------------------------ */

enum set_target { SET_NET, SET_SPREAD, SET_LAYER };

typedef struct set_item {
    const char *text;  /* as given, for messages */
    sbp_param param;
    sbp_param_desc desc;
    enum set_target target;
    int64_t ival;
    double rval;
} set_item;

/* Symbolic values accepted for integer (enum) parameters. */
static const struct {
    sbp_param param;
    const char *name;
    int value;
} symbols[] = {
    {SBP_RELAX_BASE_RULE, "symmetric", SBP_BASE_SYMMETRIC},
    {SBP_RELAX_BASE_RULE, "differential", SBP_BASE_DIFFERENTIAL},
    {SBP_RELAX_BASE_RULE, "sbp", SBP_BASE_SBP},
    {SBP_NET_OUTPUT_ACTIVATION, "sigmoid", SBP_ACT_SIGMOID},
    {SBP_NET_OUTPUT_ACTIVATION, "tanh", SBP_ACT_TANH},
    {SBP_NET_OUTPUT_ACTIVATION, "relu", SBP_ACT_RELU},
    {SBP_NET_OUTPUT_ACTIVATION, "scaled_sigmoid", SBP_ACT_SCALED_SIGMOID},
    {SBP_NET_OUTPUT_ACTIVATION, "clip01", SBP_ACT_CLIP01},
    {SBP_NET_OUTPUT_ACTIVATION, "linear", SBP_ACT_LINEAR},
    {SBP_LAYER_ACTIVATION, "sigmoid", SBP_ACT_SIGMOID},
    {SBP_LAYER_ACTIVATION, "tanh", SBP_ACT_TANH},
    {SBP_LAYER_ACTIVATION, "relu", SBP_ACT_RELU},
    {SBP_LAYER_ACTIVATION, "scaled_sigmoid", SBP_ACT_SCALED_SIGMOID},
    {SBP_LAYER_ACTIVATION, "clip01", SBP_ACT_CLIP01},
    {SBP_LAYER_ACTIVATION, "linear", SBP_ACT_LINEAR},
    {SBP_SPREAD_FORM, "additive", SBP_SPREAD_ADDITIVE},
    {SBP_SPREAD_FORM, "multiplicative", SBP_SPREAD_MULTIPLICATIVE},
    {SBP_SPREAD_RETRO_WEIGHT, "uniform", SBP_RETRO_UNIFORM},
    {SBP_SPREAD_RETRO_WEIGHT, "efficacy", SBP_RETRO_EFFICACY},
    {SBP_SPREAD_RETRO_WEIGHT, "signed", SBP_RETRO_SIGNED},
    {SBP_SPREAD_RETRO_WEIGHT, "random", SBP_RETRO_RANDOM},
    {SBP_SPIKE_ENCODER, "poisson", SBP_ENCODER_POISSON},
    {SBP_SPIKE_ENCODER, "latency", SBP_ENCODER_LATENCY},
    {SBP_SPIKE_ENCODER, "events", SBP_ENCODER_EVENTS},
    {SBP_ANN_LOSS, "mse", SBP_LOSS_MSE},
    {SBP_ANN_LOSS, "softmax_xent", SBP_LOSS_SOFTMAX_XENT},
    {SBP_ANN_OPTIMIZER, "sgd", SBP_OPT_SGD},
    {SBP_ANN_OPTIMIZER, "adam", SBP_OPT_ADAM},
    {SBP_ANN_HIDDEN_MODE, "bp", SBP_HIDDEN_BP},
    {SBP_ANN_HIDDEN_MODE, "sbp", SBP_HIDDEN_SBP},
    {SBP_ANN_HIDDEN_MODE, "mixed", SBP_HIDDEN_MIXED},
};

static int parse_set(const char *text, set_item *it)
{
    memset(it, 0, sizeof *it);
    it->text = text;
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) return usage("--set: expected NAME=VALUE, got '%s'", text);
    char name[64];
    size_t len = (size_t)(eq - text);
    if (len >= sizeof name) return usage("--set: unknown parameter '%.*s'", (int)len, text);
    memcpy(name, text, len);
    name[len] = '\0';
    if (sbp_param_by_name(name, &it->param) != SBP_OK ||
        sbp_param_info(it->param, &it->desc) != SBP_OK)
        return usage("--set: unknown parameter '%s' (list: 'sbp help params')", name);

    if (strncmp(name, "net.", 4) == 0 || strncmp(name, "relax.", 6) == 0 ||
        strncmp(name, "spike.", 6) == 0 || strncmp(name, "ann.", 4) == 0)
        it->target = SET_NET;
    else if (strncmp(name, "spread.", 7) == 0)
        it->target = SET_SPREAD;
    else if (strncmp(name, "layer.", 6) == 0)
        it->target = SET_LAYER;
    else
        return usage("--set %s: '%.*s.*' parameters belong to a rule this command does not "
                     "attach (settable: net.*, relax.*, spike.*, ann.*, spread.*, layer.*)",
                     text, (int)strcspn(name, "."), name);

    const char *v = eq + 1;
    if (!*v) return usage("--set %s: missing value", text);
    char *end = NULL;
    if (it->desc.type == SBP_PARAM_INT) {
        for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
            if (symbols[i].param == it->param && strcmp(symbols[i].name, v) == 0) {
                it->ival = symbols[i].value;
                return 0;
            }
        }
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (*end != '\0' || end == v || errno == ERANGE || (*v != '-' && (*v < '0' || *v > '9')))
            return usage("--set %s: expected an integer, got '%s'", text, v);
        it->ival = (int64_t)x;
    } else {
        errno = 0;
        double x = strtod(v, &end);
        if (*end != '\0' || end == v || !isfinite(x) || *v == ' ' || *v == '\t')
            return usage("--set %s: expected a finite real number, got '%s'", text, v);
        it->rval = x;
    }
    return 0;
}

static sbp_status apply_net_set(sbp_net *net, const set_item *s)
{
    return s->desc.type == SBP_PARAM_INT ? sbp_net_set_int(net, s->param, s->ival)
                                         : sbp_net_set_real(net, s->param, s->rval);
}

static sbp_status apply_layer_set(sbp_layer *layer, const set_item *s)
{
    return s->desc.type == SBP_PARAM_INT ? sbp_layer_set_int(layer, s->param, s->ival)
                                         : sbp_layer_set_real(layer, s->param, s->rval);
}

static sbp_status apply_rule_set(sbp_rule *rule, const set_item *s)
{
    return s->desc.type == SBP_PARAM_INT ? sbp_rule_set_int(rule, s->param, s->ival)
                                         : sbp_rule_set_real(rule, s->param, s->rval);
}

/* ------------------------------------------------------------------------ */
/* Network configuration shared by train and experiment                      */
/* ------------------------------------------------------------------------ */

typedef struct run_cfg {
    sbp_engine engine;
    int sbp_on;           /* spread operator enabled; with relax also the default base rule */
    int base_rule;        /* sbp_base_rule, 0: from sbp_on */
    size_t hidden[MAX_HIDDEN];
    size_t n_hidden;
    size_t epochs;
    size_t train_limit, test_limit; /* 0: all */
    int batch_given, threads_given;
    int64_t batch, threads;
    int shuffle;
    int quiet, json;
    const char *eval_name; /* what the per-epoch evaluation set is called; NULL: "test" */
    set_item sets[MAX_SETS];
    size_t n_sets;
} run_cfg;

static const char *const base_rule_names[] = {
    [SBP_BASE_SYMMETRIC] = "symmetric",
    [SBP_BASE_DIFFERENTIAL] = "differential",
    [SBP_BASE_SBP] = "sbp",
};

static int parse_engine(const char *s, sbp_engine *out)
{
    for (int e = SBP_ENGINE_RELAX; e <= SBP_ENGINE_RBM; e++) {
        const char *n = sbp_engine_name((sbp_engine)e);
        if (n && strcmp(n, s) == 0) {
            *out = (sbp_engine)e;
            return 0;
        }
    }
    return usage("--model: expected relax, spike, ann or rbm, got '%s'", s);
}

static int parse_base_rule(const char *s, int *out)
{
    for (int r = SBP_BASE_SYMMETRIC; r <= SBP_BASE_SBP; r++) {
        if (strcmp(base_rule_names[r], s) == 0) {
            *out = r;
            return 0;
        }
    }
    return usage("--rule: expected symmetric, differential or sbp, got '%s'", s);
}

/* Options common to train and experiment (the variant options of
 * experiment, --sbp and --rule, are handled by the caller). */
static int parse_run_cfg(const args *a, run_cfg *c)
{
    int rc;
    memset(c, 0, sizeof *c);
    c->engine = SBP_ENGINE_RELAX;
    c->sbp_on = 1;
    c->epochs = 10;
    c->hidden[0] = 500;
    c->n_hidden = 1;
    c->quiet = a->given[OPT_QUIET];
    c->json = a->given[OPT_JSON];
    c->shuffle = a->given[OPT_SHUFFLE];

    if (a->given[OPT_TASK] && strcmp(a->val[OPT_TASK], "mnist") != 0)
        return usage("--task: expected mnist, got '%s'", a->val[OPT_TASK]);
    if (a->given[OPT_MODEL] && (rc = parse_engine(a->val[OPT_MODEL], &c->engine))) return rc;
    if (a->given[OPT_EPOCHS] &&
        (rc = parse_size("--epochs", a->val[OPT_EPOCHS], 1, MAX_EPOCHS, &c->epochs)))
        return rc;
    if (a->given[OPT_TRAIN_LIMIT] &&
        (rc = parse_size("--train-limit", a->val[OPT_TRAIN_LIMIT], 1, SIZE_MAX / 2,
                         &c->train_limit)))
        return rc;
    if (a->given[OPT_TEST_LIMIT] &&
        (rc = parse_size("--test-limit", a->val[OPT_TEST_LIMIT], 1, SIZE_MAX / 2,
                         &c->test_limit)))
        return rc;
    if (a->given[OPT_HIDDEN]) {
        uint64_t h[MAX_HIDDEN];
        size_t n = 0;
        if ((rc = parse_uint_list("--hidden", a->val[OPT_HIDDEN], 1, MAX_LAYER_SIZE, h,
                                  MAX_HIDDEN, &n)))
            return rc;
        for (size_t i = 0; i < n; i++) c->hidden[i] = (size_t)h[i];
        c->n_hidden = n;
    }
    uint64_t v = 0;
    if (a->given[OPT_BATCH]) {
        if ((rc = parse_uint("--batch", a->val[OPT_BATCH], 1, 1000000000, &v))) return rc;
        c->batch_given = 1;
        c->batch = (int64_t)v;
    }
    if (a->given[OPT_THREADS]) {
        if ((rc = parse_uint("--threads", a->val[OPT_THREADS], 0, 1000000, &v))) return rc;
        c->threads_given = 1;
        c->threads = (int64_t)v;
    }
    for (size_t i = 0; i < a->n_sets; i++)
        if ((rc = parse_set(a->sets[i], &c->sets[c->n_sets++]))) return rc;
    return 0;
}

/* Layer sizes: input, hidden..., output. */
static size_t layer_sizes(const run_cfg *c, size_t *sizes)
{
    size_t n = 0;
    sizes[n++] = MNIST_FEATURES;
    for (size_t i = 0; i < c->n_hidden; i++) sizes[n++] = c->hidden[i];
    sizes[n++] = MNIST_CLASSES;
    return n;
}

static void format_topology(char *buf, size_t size, const run_cfg *c)
{
    size_t sizes[MAX_HIDDEN + 2];
    size_t n = layer_sizes(c, sizes);
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%zu", i ? "-" : "", sizes[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

static sbp_cost_model cost_model(sbp_engine e)
{
    return e == SBP_ENGINE_ANN || e == SBP_ENGINE_RBM ? SBP_COST_DENSE : SBP_COST_SNN;
}

static const char *cost_formula(sbp_engine e)
{
    return cost_model(e) == SBP_COST_DENSE ? "dense: mn + nk + kn + nm" : "SNN: mn + nk + n";
}

/* Per-epoch complexity (model.md section 7). One hidden layer: the
 * library's sbp_cost_per_epoch. Deeper nets: the same terms summed over
 * every projection (SNN: weights + hidden neurons; dense: 2 x weights). */
static double per_epoch_cost(const run_cfg *c)
{
    size_t s[MAX_HIDDEN + 2];
    size_t n = layer_sizes(c, s);
    sbp_cost_model m = cost_model(c->engine);
    if (n == 3) return sbp_cost_per_epoch(m, s[0], s[1], s[2]);
    double weights = 0.0, hidden = 0.0;
    for (size_t l = 1; l < n; l++) weights += (double)s[l - 1] * (double)s[l];
    for (size_t l = 1; l + 1 < n; l++) hidden += (double)s[l];
    return m == SBP_COST_DENSE ? 2.0 * weights : weights + hidden;
}

/* Builds the network of a run: engine, parameters, layers and the SBP
 * spread rule on every layer >= 1. Returns 0, EXIT_USAGE (a --set or
 * option value the library refused) or EXIT_FAIL (library failure, e.g. an
 * engine not in this build). */
static int build_net(const run_cfg *c, uint64_t seed, sbp_net **out)
{
    *out = NULL;
    sbp_net *net = NULL;
    sbp_layer *layer = NULL;
    sbp_rule *rule = NULL;
    int rc = 0;
    sbp_status st = sbp_net_create(c->engine, seed, &net);
    if (st != SBP_OK) return lib_fail("cannot create the network", st, NULL);

    if (c->batch_given && (st = sbp_net_set_int(net, SBP_NET_BATCH_SIZE, c->batch)) != SBP_OK) {
        rc = usage("--batch: %s", sbp_net_errmsg(net));
        goto done;
    }
    if (c->threads_given &&
        (st = sbp_net_set_int(net, SBP_NET_THREADS, c->threads)) != SBP_OK) {
        rc = usage("--threads: %s", sbp_net_errmsg(net));
        goto done;
    }
    if (c->engine == SBP_ENGINE_RELAX) {
        int base = c->base_rule ? c->base_rule : c->sbp_on ? SBP_BASE_SBP : SBP_BASE_SYMMETRIC;
        if ((st = sbp_net_set_int(net, SBP_RELAX_BASE_RULE, base)) != SBP_OK) {
            rc = lib_fail("relax.base_rule", st, sbp_net_errmsg(net));
            goto done;
        }
    }
    for (size_t i = 0; i < c->n_sets; i++) {
        if (c->sets[i].target != SET_NET) continue;
        if (apply_net_set(net, &c->sets[i]) != SBP_OK) {
            rc = usage("--set %s: %s", c->sets[i].text, sbp_net_errmsg(net));
            goto done;
        }
    }

    size_t sizes[MAX_HIDDEN + 2];
    size_t n_layers = layer_sizes(c, sizes);
    for (size_t l = 0; l < n_layers; l++) {
        if ((st = sbp_layer_create(sizes[l], &layer)) != SBP_OK) {
            rc = lib_fail("cannot create a layer", st, NULL);
            goto done;
        }
        for (size_t i = 0; l > 0 && i < c->n_sets; i++) {
            if (c->sets[i].target != SET_LAYER) continue;
            if (apply_layer_set(layer, &c->sets[i]) != SBP_OK) {
                rc = usage("--set %s: %s", c->sets[i].text, sbp_layer_errmsg(layer));
                goto done;
            }
        }
        if ((st = sbp_net_add_layer(net, layer)) != SBP_OK) {
            rc = lib_fail("cannot add a layer", st, sbp_net_errmsg(net));
            goto done;
        }
        sbp_layer_free(layer);
        layer = NULL;
    }

    if ((st = sbp_rule_create(SBP_RULE_SBP_SPREAD, &rule)) != SBP_OK) {
        rc = lib_fail("cannot create the SBP spread rule", st, NULL);
        goto done;
    }
    if ((st = sbp_rule_set_int(rule, SBP_SPREAD_ENABLED, c->sbp_on ? 1 : 0)) != SBP_OK) {
        rc = lib_fail("spread.enabled", st, sbp_rule_errmsg(rule));
        goto done;
    }
    for (size_t i = 0; i < c->n_sets; i++) {
        if (c->sets[i].target != SET_SPREAD) continue;
        if (apply_rule_set(rule, &c->sets[i]) != SBP_OK) {
            rc = usage("--set %s: %s", c->sets[i].text, sbp_rule_errmsg(rule));
            goto done;
        }
    }
    for (size_t l = 1; l < n_layers; l++) {
        if ((st = sbp_net_attach_rule(net, l, rule)) != SBP_OK) {
            /* SBP_E_UNSUPPORTED here means the engine is not in this build
             * (or cannot use the rule): the library's message says which. */
            rc = lib_fail(NULL, st, sbp_net_errmsg(net));
            goto done;
        }
    }
done:
    sbp_layer_free(layer);
    sbp_rule_free(rule);
    if (rc) {
        sbp_net_free(net);
        return rc;
    }
    *out = net;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The epoch loop                                                            */
/* ------------------------------------------------------------------------ */

typedef struct epoch_rec {
    double train_error, test_error, seconds;
} epoch_rec;

typedef void (*epoch_fn)(void *user, size_t epoch, size_t epochs, const epoch_rec *r);

/* Trains c->epochs epochs, evaluating after each. rec receives one entry
 * per completed epoch and *n_done their count. Returns 0, EXIT_FAIL or
 * EXIT_INTERRUPTED. */
static int run_epochs(sbp_net *net, sbp_dataset *train, const sbp_dataset *test,
                      const run_cfg *c, uint64_t seed, const char *prefix, epoch_rec *rec,
                      size_t *n_done, double *seconds, epoch_fn fn, void *user)
{
    tool_progress p;
    tool_progress_init(&p, stderr, c->quiet);
    sbp_net_set_progress(net, tool_progress_callback, &p);
    *n_done = 0;
    int rc = 0;
    double t_begin = tool_now();
    sbp_status st = sbp_dataset_reset_order(train);
    if (st != SBP_OK) {
        rc = lib_fail("training set", st, sbp_dataset_errmsg(train));
        goto done;
    }
    size_t n_train = sbp_dataset_count(train), n_test = sbp_dataset_count(test);
    const char *eval_name = c->eval_name ? c->eval_name : "test";
    for (size_t e = 1; e <= c->epochs; e++) {
        if (tool_interrupted()) {
            rc = EXIT_INTERRUPTED;
            break;
        }
        if (c->shuffle && (st = sbp_dataset_shuffle(train, seed + e)) != SBP_OK) {
            rc = lib_fail("shuffling the training set", st, sbp_dataset_errmsg(train));
            break;
        }
        char label[96];
        double t0 = tool_now();
        epoch_rec r = {NAN, NAN, 0.0};

        snprintf(label, sizeof label, "%sepoch %zu/%zu train", prefix, e, c->epochs);
        tool_progress_begin(&p, label);
        st = sbp_net_train_epoch(net, train, &r.train_error);
        tool_progress_clear(&p);
        if (st == SBP_OK) {
            snprintf(label, sizeof label, "%sepoch %zu/%zu %-5s", prefix, e, c->epochs,
                     eval_name);
            tool_progress_begin(&p, label);
            st = sbp_net_evaluate(net, test, &r.test_error);
            tool_progress_clear(&p);
        }
        if (st == SBP_E_CANCELLED) {
            rc = EXIT_INTERRUPTED;
            break;
        }
        if (st != SBP_OK) {
            rc = lib_fail("training failed", st, sbp_net_errmsg(net));
            break;
        }
        r.seconds = tool_now() - t0;
        rec[(*n_done)++] = r;
        if (!p.tty)
            note(c->quiet, "%sepoch %zu/%zu done: %zu training + %zu %s samples in %.1f s",
                 prefix, e, c->epochs, n_train, n_test, eval_name, r.seconds);
        if (fn) fn(user, e, c->epochs, &r);
    }
done:
    sbp_net_set_progress(net, NULL, NULL);
    *seconds = tool_now() - t_begin;
    return rc;
}

/* First epoch (1-based) reaching the minimum test error; 0 if none. */
static size_t best_epoch(const epoch_rec *rec, size_t n)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(rec[i].test_error) &&
            (best == 0 || rec[i].test_error < rec[best - 1].test_error))
            best = i + 1;
    return best;
}

/* ------------------------------------------------------------------------ */
/* sbp info                                                                  */
/* ------------------------------------------------------------------------ */

static int cmd_info(const command *cmd, const args *a)
{
    (void)cmd;
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

static void print_epoch_human(FILE *f, size_t e, size_t epochs, const epoch_rec *r)
{
    fprintf(f, "epoch %zu/%zu  ", e, epochs);
    if (isfinite(r->train_error))
        fprintf(f, "train error %.2f %%  ", 100.0 * r->train_error);
    else
        fprintf(f, "train error n/a  ");
    fprintf(f, "test error %.2f %%  %.1f s\n", 100.0 * r->test_error, r->seconds);
}

static void train_epoch_out(void *user, size_t e, size_t epochs, const epoch_rec *r)
{
    const run_cfg *c = user;
    if (c->json) {
        printf("{\"epoch\":%zu,\"train_error\":", e);
        json_number(stdout, r->train_error, 10);
        printf(",\"test_error\":");
        json_number(stdout, r->test_error, 10);
        printf(",\"seconds\":%.3f}\n", r->seconds);
    } else {
        print_epoch_human(stdout, e, epochs, r);
    }
    fflush(stdout);
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
    printf("cost %s = %s per epoch (%s, %s) x %zu, the epoch at which the best test error was "
           "first reached\n",
           c1, c2, cost_formula(c->engine), topo, best);
    fflush(stdout);
}

/* Reads --sbp and --rule (train only). */
static int parse_variant_opts(const args *a, run_cfg *c)
{
    if (a->given[OPT_SBP]) {
        if (strcmp(a->val[OPT_SBP], "on") == 0)
            c->sbp_on = 1;
        else if (strcmp(a->val[OPT_SBP], "off") == 0)
            c->sbp_on = 0;
        else
            return usage("--sbp: expected on or off, got '%s'", a->val[OPT_SBP]);
    }
    if (a->given[OPT_RULE]) {
        int rc = parse_base_rule(a->val[OPT_RULE], &c->base_rule);
        if (rc) return rc;
        if (c->engine != SBP_ENGINE_RELAX)
            return usage("--rule: only the relax engine has a base rule (--model relax)");
    }
    return 0;
}

static const char *rule_description(const run_cfg *c)
{
    if (c->engine != SBP_ENGINE_RELAX)
        return c->sbp_on ? "engine's rule + SBP spread" : "engine's rule, SBP spread disabled";
    int base = c->base_rule ? c->base_rule : c->sbp_on ? SBP_BASE_SBP : SBP_BASE_SYMMETRIC;
    static char buf[64];
    snprintf(buf, sizeof buf, "%s rule%s", base_rule_names[base],
             c->sbp_on ? " + SBP spread" : ", SBP spread disabled");
    return buf;
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
    if (a->given[OPT_SAVE]) return fail("--save: model files are not supported yet by this build");

    data_dir dd;
    sbp_net *net = NULL;
    sbp_dataset *train = NULL, *test = NULL;
    epoch_rec *rec = NULL;
    if ((rc = resolve_data_dir(a, &dd))) goto done;
    /* Build the network before loading data: option and engine problems
     * are reported at once. */
    if ((rc = build_net(&c, seed, &net))) goto done;
    if ((rc = load_mnist(&dd, c.train_limit, c.test_limit, c.quiet, &train, &test))) goto done;
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
    size_t n = 0;
    double seconds = 0.0;
    tool_interrupt_install();
    rc = run_epochs(net, train, test, &c, seed, "", rec, &n, &seconds, train_epoch_out, &c);
    tool_interrupt_uninstall();
    if (rc == EXIT_INTERRUPTED)
        note(0, "interrupted: stopped after %zu completed epoch%s", n, n == 1 ? "" : "s");
    if (rc == 0 || rc == EXIT_INTERRUPTED)
        print_train_summary(&c, rec, n, seconds, rc == EXIT_INTERRUPTED);
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

static int cmd_eval(const command *cmd, const args *a)
{
    (void)cmd;
    static run_cfg c;
    if (!a->given[OPT_LOAD]) return usage("eval: --load FILE is required");
    int rc = parse_run_cfg(a, &c);
    if (rc) return rc;
    return fail("--load: model files are not supported yet by this build");
}

/* ------------------------------------------------------------------------ */
/* sbp experiment                                                            */
/* ------------------------------------------------------------------------ */

typedef struct variant {
    const char *name;
    int base_rule;  /* relax only */
    int sbp_on;
    const char *color;
} variant;

static const variant all_variants[MAX_VARIANTS] = {
    {"baseline", SBP_BASE_SYMMETRIC, 0, "#1f77b4"},
    {"sbp", SBP_BASE_SBP, 1, "#d62728"},
    {"ablation", SBP_BASE_SBP, 0, "#2ca02c"},
};

typedef struct experiment {
    run_cfg cfg;
    uint64_t seeds[MAX_SEEDS];
    size_t n_seeds;
    const variant *vars[MAX_VARIANTS];
    size_t n_vars;
    char out_dir[PATH_BUF];
    data_dir dd;
    size_t n_train, n_test;
    int64_t batch; /* effective mini-batch size, for the report */
    /* runs[s * n_vars + v] */
    epoch_rec *rec;        /* n_seeds * n_vars * epochs */
    size_t *n_done;
    double *run_seconds;
    FILE *csv;
    int csv_failed;
    size_t cur_seed, cur_var; /* the run whose epochs are being reported */
} experiment;

static epoch_rec *run_rec(experiment *x, size_t s, size_t v)
{
    return x->rec + (s * x->n_vars + v) * x->cfg.epochs;
}

static void write_csv_row(FILE *f, uint64_t seed, const char *name, size_t e,
                          const epoch_rec *r)
{
    fprintf(f, "%" PRIu64 ",%s,%zu,", seed, name, e);
    if (isfinite(r->train_error)) fprintf(f, "%.10g", r->train_error);
    fprintf(f, ",");
    if (isfinite(r->test_error)) fprintf(f, "%.10g", r->test_error);
    fprintf(f, ",%.3f\n", r->seconds);
}

static void experiment_epoch_out(void *user, size_t e, size_t epochs, const epoch_rec *r)
{
    experiment *x = user;
    const variant *v = x->vars[x->cur_var];
    uint64_t seed = x->seeds[x->cur_seed];
    printf("seed %-4" PRIu64 " %-8s  ", seed, v->name);
    print_epoch_human(stdout, e, epochs, r);
    fflush(stdout);
    if (x->csv) {
        write_csv_row(x->csv, seed, v->name, e, r);
        if (fflush(x->csv) != 0) x->csv_failed = 1;
    }
}

static int mkdir_p(const char *path)
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

static int out_path(const experiment *x, const char *name, char *buf, size_t size)
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
        if (strcmp(x->vars[v]->name, name) == 0) return (int)v;
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
    int b = find_variant(x, "baseline");
    int sbpv = find_variant(x, "sbp");
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
        st->pair = x->vars[self_is_a ? partner : (size_t)b]->name;
        n = 0;
        for (size_t s = 0; s < x->n_seeds; s++) {
            size_t na = 0, nb = 0;
            curve_of(x, s, (size_t)b, ca, &na);
            curve_of(x, s, partner, cb, &nb);
            if (!na || !nb) continue;
            double ea = NAN, eb = NAN;
            if (sbp_cost_mean_epochs(ca, na, cb, nb, COST_CAP, E, &ea, &eb) != SBP_OK) continue;
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

static void md_pct(FILE *f, double mean, double std, size_t n)
{
    if (!n || !isfinite(mean))
        fputs("n/a", f);
    else if (n == 1)
        fprintf(f, "%.2f %%", 100.0 * mean);
    else
        fprintf(f, "%.2f ± %.2f %%", 100.0 * mean, 100.0 * std);
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
    int b = find_variant(x, "baseline"), sv = find_variant(x, "sbp");
    const char *engine = sbp_engine_name(c->engine);

    fprintf(f, "# SBP experiment: MNIST, %s engine\n\n", engine);
    if (interrupted) fprintf(f, "**Interrupted**: the tables cover the runs completed so far.\n\n");
    fprintf(f, "Command:\n\n```\n");
    for (int i = 0; i < g_argc; i++) {
        if (i) fputc(' ', f);
        put_quoted(f, g_argv[i]);
    }
    fprintf(f, "\n```\n\n");
    fprintf(f, "- libsbp %s, BLAS: %s\n", sbp_version_string(), sbp_blas_name());
    fprintf(f, "- network %s, %s engine, mini-batch %" PRId64 ", %zu epoch%s per run, %s\n", topo,
            engine, x->batch, c->epochs, c->epochs == 1 ? "" : "s",
            c->shuffle ? "training set shuffled each epoch (seed + epoch)"
                       : "training set in file order");
    fprintf(f, "- data: %s (%s), %zu training and %zu test samples\n", x->dd.path, x->dd.source,
            x->n_train, x->n_test);
    fprintf(f, "- seeds:");
    for (size_t s = 0; s < x->n_seeds; s++) fprintf(f, "%s %" PRIu64, s ? "," : "", x->seeds[s]);
    fprintf(f, "\n- per-epoch complexity %.6g (%s with m = %d, n = hidden, k = %d)\n\n", per_epoch,
            cost_formula(c->engine), MNIST_FEATURES, MNIST_CLASSES);

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
        fprintf(f, "| %s engine, this run | MNIST | ", engine);
        md_pct(f, A->acc_mean, A->acc_std, A->n_acc);
        fprintf(f, " | ");
        md_pct(f, B->acc_mean, B->acc_std, B->n_acc);
        fprintf(f, " | %s → %s |\n", s1, s2);
    }
    if (c->engine == SBP_ENGINE_RELAX || c->engine == SBP_ENGINE_SPIKE)
        fprintf(f, "| SNN (relaxation), paper | MNIST | 93.67 ± 0.40 %% | 95.14 ± 0.12 %% | "
                   "1.92e7 → 0.88e7 |\n");
    else
        fprintf(f, "| ANN/RBM, paper | MNIST | 97.58 %% | 97.89 %% | 1.33e7 → 0.57e7 |\n");
    if (b < 0 || sv < 0)
        fprintf(f, "\n(The \"this run\" row needs both the baseline and the sbp variant.)\n");
    fprintf(f, "\nThe paper's numbers are for 100 epochs on the full MNIST (60 000 / 10 000), "
               "seeds 0, 42, 3, 512, 100, batch 50; a shorter or smaller run is not directly "
               "comparable.\n\n");

    fprintf(f, "## Per variant\n\n");
    fprintf(f, "| variant | base rule | SBP spread | test accuracy (best epoch) | seeds | mean "
               "epochs | paired with | cost | wall s / epoch | cost reduction vs baseline |\n");
    fprintf(f, "|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t v = 0; v < x->n_vars; v++) {
        const var_stats *S = &vs[v];
        const variant *V = x->vars[v];
        fprintf(f, "| %s | %s | %s | ", V->name,
                c->engine == SBP_ENGINE_RELAX ? base_rule_names[V->base_rule] : "engine's",
                V->sbp_on ? "on" : "off");
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
            "mean ± population standard deviation over seeds.\n"
            "- Mean epochs (model.md section 7): for each seed, the baseline's test-error curve A "
            "and the variant's curve B give lo = max(min A, min B) and hi = min(max A, max B, "
            "%.1f); five thresholds evenly spaced from lo to hi; for each, the first epoch whose "
            "error is ≤ the threshold (never reached: the budget, %zu); the mean over the five "
            "thresholds; then mean ± std over seeds. The baseline row uses its value in the pair "
            "named in \"paired with\".\n"
            "- Cost = mean epochs × per-epoch complexity (%s, %.6g per epoch for %s).\n"
            "- Cost reduction vs baseline = 1 − (variant's mean epochs) / (baseline's mean "
            "epochs in the same pairs).\n"
            "- Wall s / epoch: training plus testing time of one epoch, mean over seeds.\n"
            "- Variants: baseline = symmetric rule, SBP spread disabled (the published baseline); "
            "sbp = sbp rule with the spread operator; ablation = sbp rule, spread disabled.\n\n"
            "Curves: curves.csv (one row per seed, variant and epoch) and curves.svg.\n",
            COST_CAP, c->epochs, cost_formula(c->engine), per_epoch, topo);
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
        series[ns].name = x->vars[v]->name;
        series[ns].color = x->vars[v]->color;
        series[ns].n = last;
        series[ns].x = ex;
        series[ns].y = mean;
        series[ns].lo = x->n_seeds > 1 ? lo : NULL;
        series[ns].hi = x->n_seeds > 1 ? hi : NULL;
        ns++;
    }
    char title[160];
    snprintf(title, sizeof title, "MNIST test error per epoch, %s engine, %zu seed%s",
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
        for (size_t i = 0; i < MAX_VARIANTS; i++)
            if (strlen(all_variants[i].name) == len && strncmp(all_variants[i].name, p, len) == 0)
                found = &all_variants[i];
        if (!found)
            return usage("--variants: expected baseline, sbp or ablation, got '%.*s'", (int)len, p);
        for (size_t i = 0; i < x->n_vars; i++)
            if (x->vars[i] == found) return usage("--variants: '%s' is listed twice", found->name);
        if (found->sbp_on == 0 && found->base_rule == SBP_BASE_SBP &&
            x->cfg.engine != SBP_ENGINE_RELAX)
            return usage("--variants: 'ablation' changes the base rule, which only the relax "
                         "engine has");
        x->vars[x->n_vars++] = found;
        if (p[len] == '\0') break;
        p += len + 1;
    }
    return 0;
}

static void write_run_rows(experiment *x, size_t s, size_t v)
{
    const epoch_rec *rec = run_rec(x, s, v);
    for (size_t e = 0; e < x->n_done[s * x->n_vars + v]; e++)
        write_csv_row(x->csv, x->seeds[s], x->vars[v]->name, e + 1, &rec[e]);
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
        /* seed,variant,epoch,train_error,test_error,seconds; an empty
         * error field means "not measured" */
        char *field[6];
        size_t nf = 0;
        char *p = line;
        line[strcspn(line, "\r\n")] = '\0';
        while (nf < 6) {
            field[nf++] = p;
            char *comma = strchr(p, ',');
            if (!comma) break;
            *comma = '\0';
            p = comma + 1;
        }
        char *end;
        errno = 0;
        unsigned long long seed = nf == 6 ? strtoull(field[0], &end, 10) : 0;
        int bad = nf != 6 || errno || *end;
        size_t epoch = bad ? 0 : (size_t)strtoull(field[2], &end, 10);
        bad = bad || *end;
        double err[2], secs = bad ? 0 : strtod(field[5], &end);
        bad = bad || *end;
        for (int k = 0; k < 2 && !bad; k++) {
            err[k] = *field[3 + k] ? strtod(field[3 + k], &end) : NAN;
            bad = *field[3 + k] && *end;
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
        x->n_done[i] = epoch;
        x->run_seconds[i] += secs;
    }
    fclose(f);
    if (rc) return rc;
    /* runs that stopped part way are run again from the start */
    for (size_t i = 0; i < x->n_seeds * x->n_vars; i++) {
        if (x->n_done[i] == x->cfg.epochs)
            (*kept)++;
        else {
            x->n_done[i] = 0;
            x->run_seconds[i] = 0.0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* sbp experiment --grid lambda                                              */
/* ------------------------------------------------------------------------ */

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

static void grid_epoch_out(void *user, size_t e, size_t epochs, const epoch_rec *r)
{
    grid *g = user;
    printf("lambda_p %-4g lambda_f %-4g seed %-4" PRIu64 "  epoch %zu/%zu  ",
           g->values[g->cur_p], g->values[g->cur_f], g->x->seeds[g->cur_s], e, epochs);
    if (isfinite(r->train_error))
        printf("train error %.2f %%  ", 100.0 * r->train_error);
    else
        printf("train error n/a  ");
    printf("val error %.2f %%  %.1f s\n", 100.0 * r->test_error, r->seconds);
    fflush(stdout);
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
    fprintf(f, "Command:\n\n```\n");
    for (int i = 0; i < g_argc; i++) {
        if (i) fputc(' ', f);
        put_quoted(f, g_argv[i]);
    }
    fprintf(f, "\n```\n\n");
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

static int run_grid(experiment *x, const args *a)
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

static int cmd_experiment(const command *cmd, const args *a)
{
    (void)cmd;
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
        rc = run_grid(x, a);
        goto done;
    }
    if (a->given[OPT_GRID_VALUES] || a->given[OPT_VAL]) {
        rc = usage("%s: only with --grid", a->given[OPT_GRID_VALUES] ? "--grid-values" : "--val");
        goto done;
    }
    if ((rc = parse_variants(a->given[OPT_VARIANTS] ? a->val[OPT_VARIANTS]
                                                     : "baseline,sbp,ablation",
                             x)))
        goto done;
    if (!a->given[OPT_OUT]) {
        rc = usage("experiment: --out DIR is required");
        goto done;
    }
    snprintf(x->out_dir, sizeof x->out_dir, "%s", a->val[OPT_OUT]);
    if ((rc = resolve_data_dir(a, &x->dd))) goto done;

    /* Every variant's network must build before anything is loaded or run. */
    for (size_t v = 0; v < x->n_vars; v++) {
        run_cfg *c = &x->cfg;
        c->sbp_on = x->vars[v]->sbp_on;
        c->base_rule = c->engine == SBP_ENGINE_RELAX ? x->vars[v]->base_rule : 0;
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
    char path[PATH_BUF];
    if ((rc = out_path(x, "curves.csv", path, sizeof path))) goto done;
    size_t kept = 0;
    if (a->given[OPT_RESUME] && (rc = resume_runs(x, path, &kept))) goto done;
    x->csv = fopen(path, "w");
    if (!x->csv) {
        rc = fail("cannot write '%s': %s", path, strerror(errno));
        goto done;
    }
    fprintf(x->csv, "seed,variant,epoch,train_error,test_error,seconds\n");
    /* complete runs kept by --resume go first, as they were */
    for (size_t s = 0; s < x->n_seeds; s++)
        for (size_t v = 0; v < x->n_vars; v++)
            if (x->n_done[s * x->n_vars + v] == x->cfg.epochs) write_run_rows(x, s, v);
    fflush(x->csv);
    if (kept) note(x->cfg.quiet, "--resume: kept %zu complete runs from %s", kept, path);

    if ((rc = load_mnist(&x->dd, x->cfg.train_limit, x->cfg.test_limit, x->cfg.quiet, &train,
                         &test)))
        goto done;
    x->n_train = sbp_dataset_count(train);
    x->n_test = sbp_dataset_count(test);

    tool_interrupt_install();
    for (size_t s = 0; s < x->n_seeds && !rc; s++) {
        for (size_t v = 0; v < x->n_vars && !rc; v++) {
            if (x->n_done[s * x->n_vars + v] == x->cfg.epochs) continue; /* kept by --resume */
            run_cfg *c = &x->cfg;
            c->sbp_on = x->vars[v]->sbp_on;
            c->base_rule = c->engine == SBP_ENGINE_RELAX ? x->vars[v]->base_rule : 0;
            x->cur_seed = s;
            x->cur_var = v;
            sbp_net *net = NULL;
            if ((rc = build_net(c, x->seeds[s], &net))) break;
            char prefix[64];
            snprintf(prefix, sizeof prefix, "seed %" PRIu64 " %s ", x->seeds[s],
                     x->vars[v]->name);
            note(c->quiet, "run %zu/%zu: seed %" PRIu64 ", variant %s", s * x->n_vars + v + 1,
                 runs, x->seeds[s], x->vars[v]->name);
            size_t i = s * x->n_vars + v;
            rc = run_epochs(net, train, test, c, x->seeds[s], prefix, run_rec(x, s, v),
                            &x->n_done[i], &x->run_seconds[i], experiment_epoch_out, x);
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

/* Adding a benchmark is one line here (NULL run: known, not in this build). */
static const struct bench_def {
    const char *name;
    const char *summary;
    int (*run)(const args *a);
} benches[] = {
    {"relax", "relax engine: s/epoch fast vs naive, GFLOP/s vs sgemm", bench_relax},
    {"spike", "event-driven LIF engine: samples/s of a training pass, input-rate scaling",
     bench_spike},
    {"ann", "dense MLP on BLAS: samples/s of one training epoch", NULL},
    {"rbm", "classification RBM on BLAS: samples/s of one training epoch", NULL},
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
static const int data_info_opts[] = {OPT_DATA, OPT_JSON, OPT_HELP, -1};
static const int train_opts[] = {OPT_TASK,  OPT_MODEL,       OPT_SBP,        OPT_RULE,
                                 OPT_EPOCHS, OPT_SEED,       OPT_HIDDEN,     OPT_DATA,
                                 OPT_TRAIN_LIMIT, OPT_TEST_LIMIT, OPT_BATCH, OPT_THREADS,
                                 OPT_SHUFFLE, OPT_SET,       OPT_SAVE,       OPT_JSON,
                                 OPT_QUIET,  OPT_HELP,       -1};
static const int eval_opts[] = {OPT_LOAD, OPT_TASK,  OPT_DATA, OPT_TEST_LIMIT,
                                OPT_JSON, OPT_QUIET, OPT_HELP, -1};
static const int experiment_opts[] = {OPT_TASK,       OPT_MODEL,      OPT_SEEDS,  OPT_EPOCHS,
                                      OPT_OUT,        OPT_VARIANTS,   OPT_HIDDEN, OPT_DATA,
                                      OPT_TRAIN_LIMIT, OPT_TEST_LIMIT, OPT_BATCH, OPT_THREADS,
                                      OPT_SHUFFLE,    OPT_SET,        OPT_RESUME, OPT_GRID,
                                      OPT_GRID_VALUES, OPT_VAL,       OPT_QUIET,  OPT_HELP,
                                      -1};
static const int bench_opts[] = {OPT_DATA, OPT_TRAIN_LIMIT, OPT_THREADS, OPT_SBP,
                                 OPT_JSON, OPT_HELP,        -1};

static const command commands[] = {
    {"info", "", "version, BLAS, default threads and engines of this build",
     "Prints the version of the loaded libsbp, the BLAS it uses, the number of\n"
     "threads it uses for net.threads = 0, and which engines this build has.\n",
     info_opts, 0, 0, cmd_info},
    {"data verify", "DIR", "check the MNIST files in DIR against the published hashes",
     "Parses every MNIST file present in DIR (raw or .gz) with the library's\n"
     "loader and compares the hash of its decompressed content with the\n"
     "published value; one line per file. Exit status 0 when every file present\n"
     "verifies and at least one image/label pair was found, 1 otherwise.\n",
     verify_opts, 1, 1, cmd_data_verify},
    {"data info", "", "load MNIST; print sizes, classes and label histograms",
     "Loads the MNIST training and test sets (the data directory is chosen as\n"
     "for 'sbp train') and prints, for each, the number of samples, features\n"
     "and classes and how many samples carry each label.\n",
     data_info_opts, 0, 0, cmd_data_info},
    {"train", "", "train on MNIST; test error per epoch, then a summary",
     "Builds a 784-500-10 network (see --hidden) on the chosen engine with the\n"
     "SBP spread rule attached to every layer after the input; each epoch trains\n"
     "on the training set, then measures the error on the test set.\n"
     "\n"
     "  --sbp on    relax: base rule sbp + spread enabled (published \"with SBP\")\n"
     "  --sbp off   relax: base rule symmetric + spread disabled (the baseline)\n"
     "  --rule R    replaces the base rule (--rule sbp --sbp off: the ablation)\n"
     "Other engines have no base rule: --sbp only switches the spread rule.\n"
     "\n"
     "--set NAME=VALUE sets a library parameter by its dotted name: net.*,\n"
     "relax.*, spike.*, ann.* on the network, spread.* on the spread rule,\n"
     "layer.* on every layer after the input. Enums also take names\n"
     "(--set spread.form=additive); see 'sbp help params'.\n"
     "\n"
     "Data: --data DIR, else $SBP_DATA, else the bundled sample (./data/mnist,\n"
     "the source tree's data/mnist, the installed share/libsbp/mnist).\n"
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
     "mini-batch and prints the summary of the completed epochs (exit 130).\n",
     train_opts, 0, 0, cmd_train},
    {"eval", "", "evaluate a saved model (not supported yet)",
     "Evaluates a model file on the MNIST test set. Model files are not\n"
     "supported yet by this build: the command checks its options and exits\n"
     "with status 1.\n",
     eval_opts, 0, 0, cmd_eval},
    {"experiment", "", "baseline / SBP / ablation over seeds: CSV, summary, plot",
     "For every seed and variant, trains like 'sbp train' (in this process, one\n"
     "run after the other). Variants:\n"
     "  baseline   symmetric base rule, SBP spread disabled (published baseline)\n"
     "  sbp        sbp base rule, SBP spread enabled (published \"with SBP\")\n"
     "  ablation   sbp base rule, SBP spread disabled (relax engine only)\n"
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
     "Ctrl-C stops the current run and writes the summary of what completed\n"
     "(exit 130).\n"
     "--resume keeps the runs that DIR/curves.csv already holds complete (all\n"
     "--epochs epochs of a seed and variant of this experiment) and runs only\n"
     "the others; partial runs start again. Concatenating the curves.csv of\n"
     "several experiments (e.g. seeds run in separate processes) into DIR and\n"
     "running with --resume summarises them without training.\n"
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
     "(nothing passes or fails on time). Known names: relax, spike, ann, rbm;\n"
     "this build has relax and spike.\n"
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
     "--sbp on|off switches the SBP spread (relax: off also uses the symmetric\n"
     "base rule). A name this build does not have exits with status 1.\n",
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
               "rule, layer.* to every layer after the input. Other groups belong to rules\n"
               "these commands do not attach.\n\n");
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
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (symbols[i].param != last) {
            sbp_param_desc d;
            sbp_param_info(symbols[i].param, &d);
            fprintf(f, "\n  %s:", d.name ? d.name : "?");
            last = symbols[i].param;
        }
        fprintf(f, " %s=%d", symbols[i].name, symbols[i].value);
        if (i + 1 < sizeof symbols / sizeof symbols[0] && symbols[i + 1].param == last &&
            strcmp(symbols[i].name, "relu") == 0)
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
    g_argc = argc;
    g_argv = argv;
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
