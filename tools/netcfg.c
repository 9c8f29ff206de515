/* The network of a `sbp train` / `sbp experiment` run: --set, the run
 * configuration, building the network, the epoch loop (netcfg.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "events_task.h"
#include "netcfg.h"
#include "progress.h"

/* ------------------------------------------------------------------------ */
/* --set NAME=VALUE                                                          */
/* ------------------------------------------------------------------------ */

const set_symbol set_symbols[] = {
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
    {SBP_SPREAD_FORM, "feedback", SBP_SPREAD_FEEDBACK},
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
const size_t n_set_symbols = sizeof set_symbols / sizeof set_symbols[0];

/* Where each parameter group goes. */
static const struct {
    const char *prefix;
    enum set_target target;
} set_groups[] = {
    {"net.", SET_NET},       {"relax.", SET_NET},   {"spike.", SET_NET}, {"ann.", SET_NET},
    {"spread.", SET_SPREAD}, {"layer.", SET_LAYER}, {"stdp.", SET_STDP}, {"stp.", SET_STP},
    {"homeo.", SET_HOMEO},   {"cd.", SET_CD},
};

int parse_set(const char *text, set_item *it)
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
    /* layerN.NAME: layer.NAME for layer N only */
    if (strncmp(name, "layer", 5) == 0 && name[5] >= '0' && name[5] <= '9') {
        size_t d = 5;
        while (name[d] >= '0' && name[d] <= '9') d++;
        if (name[d] == '.') {
            errno = 0;
            unsigned long long l = strtoull(name + 5, NULL, 10);
            if (l == 0 || l > 1000 || errno == ERANGE)
                return usage("--set %s: layer numbers start at 1 (the first layer after the "
                             "input)", text);
            it->layer = (size_t)l;
            memmove(name + 5, name + d, strlen(name + d) + 1);
        }
    }
    if (sbp_param_by_name(name, &it->param) != SBP_OK ||
        sbp_param_info(it->param, &it->desc) != SBP_OK)
        return usage("--set: unknown parameter '%s' (list: 'sbp help params')", name);

    size_t g = 0, n_groups = sizeof set_groups / sizeof set_groups[0];
    while (g < n_groups && strncmp(name, set_groups[g].prefix, strlen(set_groups[g].prefix)) != 0)
        g++;
    if (g == n_groups)
        return usage("--set %s: '%.*s.*' parameters belong to a rule this command does not "
                     "attach (settable: net.*, relax.*, spike.*, ann.*, spread.*, layer.*, "
                     "stdp.*, stp.*, homeo.*, cd.*)",
                     text, (int)strcspn(name, "."), name);
    it->target = set_groups[g].target;

    const char *v = eq + 1;
    if (!*v) return usage("--set %s: missing value", text);
    char *end = NULL;
    if (it->desc.type == SBP_PARAM_INT) {
        for (size_t i = 0; i < n_set_symbols; i++) {
            if (set_symbols[i].param == it->param && strcmp(set_symbols[i].name, v) == 0) {
                it->ival = set_symbols[i].value;
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

const char *const base_rule_names[] = {
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

static const struct {
    const char *name;
    unsigned flag;
} with_names[] = {{"stdp", WITH_STDP}, {"stp", WITH_STP}, {"homeo", WITH_HOMEO}};

/* --with RULE[,RULE...] */
static int parse_with(const char *s, unsigned *with)
{
    *with = 0;
    if (!*s) return usage("--with: expected a comma-separated list, got ''");
    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ","), i = 0, n = sizeof with_names / sizeof with_names[0];
        while (i < n && !(strlen(with_names[i].name) == len &&
                          strncmp(with_names[i].name, p, len) == 0))
            i++;
        if (i == n) return usage("--with: expected stdp, stp or homeo, got '%.*s'", (int)len, p);
        if (*with & with_names[i].flag)
            return usage("--with: '%s' is listed twice", with_names[i].name);
        *with |= with_names[i].flag;
        p += len;
        if (!*p) break;
    }
    return 0;
}

const set_item *find_set(const run_cfg *c, sbp_param p)
{
    const set_item *found = NULL;
    for (size_t i = 0; i < c->n_sets; i++)
        if (c->sets[i].param == p) found = &c->sets[i];
    return found;
}

static int has_target(const run_cfg *c, enum set_target t)
{
    for (size_t i = 0; i < c->n_sets; i++)
        if (c->sets[i].target == t) return 1;
    return 0;
}

/* Every rule parameter must reach a rule this run attaches. */
static int check_rule_sets(const run_cfg *c)
{
    for (size_t i = 0; i < c->n_sets; i++) {
        const set_item *it = &c->sets[i];
        switch (it->target) {
        case SET_STDP:
            if (c->engine != SBP_ENGINE_SPIKE && !(c->with & WITH_STDP))
                return usage("--set %s: 'stdp.*' parameters belong to the STDP rules: the spike "
                             "engine's supervised output rule (--model spike) or the hidden "
                             "layers' STDP (add --with stdp)",
                             it->text);
            break;
        case SET_STP:
            if (!(c->with & WITH_STP))
                return usage("--set %s: 'stp.*' parameters belong to the short-term plasticity "
                             "rule; add --with stp",
                             it->text);
            break;
        case SET_HOMEO:
            if (!(c->with & WITH_HOMEO))
                return usage("--set %s: 'homeo.*' parameters belong to the homeostasis rule; add "
                             "--with homeo",
                             it->text);
            break;
        case SET_CD:
            if (c->engine != SBP_ENGINE_RBM)
                return usage("--set %s: 'cd.*' parameters belong to the rbm engine's "
                             "contrastive-divergence rule (--model rbm), not to the %s engine",
                             it->text, sbp_engine_name(c->engine));
            break;
        case SET_NET:
        case SET_SPREAD:
        case SET_LAYER:
            break;
        }
    }
    return 0;
}

/* --split paper | paper-val[:SEED] | words[:SEED] (NETtalk). */
static int parse_split(const char *s, run_cfg *c)
{
    static const struct {
        const char *name;
        sbp_nettalk_split split;
    } seeded[] = {{"paper-val", SBP_NETTALK_PAPER_VAL}, {"words", SBP_NETTALK_WORDS}};
    if (c->task != TASK_NETTALK) return usage("--split: only with --task nettalk");
    if (strcmp(s, "paper") == 0) {
        c->split = SBP_NETTALK_PAPER;
        return 0;
    }
    for (size_t i = 0; i < sizeof seeded / sizeof seeded[0]; i++) {
        size_t len = strlen(seeded[i].name);
        if (strncmp(s, seeded[i].name, len) != 0 || (s[len] != '\0' && s[len] != ':')) continue;
        c->split = seeded[i].split;
        if (!s[len]) return 0;
        char what[64];
        snprintf(what, sizeof what, "--split %s:SEED", seeded[i].name);
        return parse_uint(what, s + len + 1, 0, UINT64_MAX, &c->split_seed);
    }
    return usage("--split: expected paper, paper-val[:SEED] or words[:SEED], got '%s'", s);
}

/* The options common to train and experiment; then every --set must reach
 * a rule the run attaches. */
int parse_run_cfg(const args *a, run_cfg *c)
{
    int rc;
    memset(c, 0, sizeof *c);
    c->engine = SBP_ENGINE_RELAX;
    c->sbp_on = 1;
    c->replace_pct = -1;
    c->epochs = 10;
    c->hidden[0] = 500;
    c->n_hidden = 1;
    c->quiet = a->given[OPT_QUIET];
    c->json = a->given[OPT_JSON];
    c->shuffle = a->given[OPT_SHUFFLE];

    c->inputs = MNIST_FEATURES;
    c->outputs = MNIST_CLASSES;
    c->split = SBP_NETTALK_PAPER;
    c->split_seed = NETTALK_DATA_SEED;
    if (a->given[OPT_TASK] && strcmp(a->val[OPT_TASK], "nettalk") == 0) {
        c->task = TASK_NETTALK;
        c->inputs = SBP_NETTALK_INPUTS;
        c->outputs = SBP_NETTALK_UNITS;
    } else if (a->given[OPT_TASK] && strcmp(a->val[OPT_TASK], "mnist") != 0 &&
               !events_task_name(a->val[OPT_TASK])) {
        return usage("--task: expected mnist, nettalk, nmnist or dvsgesture, got '%s'",
                     a->val[OPT_TASK]);
    }
    if ((rc = events_task_parse(a, c))) return rc; /* nmnist, dvsgesture, --events */
    if (a->given[OPT_SPLIT] && (rc = parse_split(a->val[OPT_SPLIT], c))) return rc;
    if (a->given[OPT_MODEL] && (rc = parse_engine(a->val[OPT_MODEL], &c->engine))) return rc;
    if (c->task == TASK_NETTALK && c->engine == SBP_ENGINE_RBM)
        return usage("--task nettalk: the rbm engine is a classifier of one-hot labels; "
                     "NETtalk targets are multi-hot (use relax, spike or ann)");
    if (a->given[OPT_EPOCHS] &&
        (rc = parse_size("--epochs", a->val[OPT_EPOCHS], 1, MAX_EPOCHS, &c->epochs)))
        return rc;
    if (a->given[OPT_TRAIN_LIMIT] &&
        (rc = parse_size("--train-limit", a->val[OPT_TRAIN_LIMIT], 1, SIZE_MAX / 2,
                         &c->train_limit)))
        return rc;
    if (a->given[OPT_TEST_LIMIT] && strcmp(a->val[OPT_TEST_LIMIT], "all") == 0)
        c->test_limit = SIZE_MAX; /* NETtalk: not the default sample */
    else if (a->given[OPT_TEST_LIMIT] &&
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
    /* NETtalk: the paper trains with one window per update (model.md 8). */
    if (c->task == TASK_NETTALK && !c->batch_given) {
        c->batch_given = 1;
        c->batch = 1;
    }
    if (a->given[OPT_WITH] && (rc = parse_with(a->val[OPT_WITH], &c->with))) return rc;
    for (size_t i = 0; i < a->n_sets; i++)
        if ((rc = parse_set(a->sets[i], &c->sets[c->n_sets++]))) return rc;
    if ((rc = check_rule_sets(c))) return rc;
    return 0;
}

/* Layer sizes: input, hidden..., output. */
size_t layer_sizes(const run_cfg *c, size_t *sizes)
{
    size_t n = 0;
    sizes[n++] = c->inputs;
    for (size_t i = 0; i < c->n_hidden; i++) sizes[n++] = c->hidden[i];
    sizes[n++] = c->outputs;
    return n;
}

void format_topology(char *buf, size_t size, const run_cfg *c)
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

const char *cost_formula(sbp_engine e)
{
    return cost_model(e) == SBP_COST_DENSE ? "dense: mn + nk + kn + nm" : "SNN: mn + nk + n";
}

/* Per-epoch complexity (model.md section 7). One hidden layer: the
 * library's sbp_cost_per_epoch. Deeper nets: the same terms summed over
 * every projection (SNN: weights + hidden neurons; dense: 2 x weights). */
double cost_cap(const run_cfg *c)
{
    if (c->task != TASK_NETTALK) return COST_CAP;
    return c->engine == SBP_ENGINE_ANN ? 0.4 : 0.0;
}

const char *task_name(const run_cfg *c)
{
    if (is_events_task(c->task)) return events_task_title(c->task);
    return c->task == TASK_NETTALK ? "NETtalk" : "MNIST";
}

int load_task(run_cfg *c, const data_dir *dd, sbp_dataset **train, sbp_dataset **test)
{
    static sbp_nettalk_codes codes; /* one table per process */
    if (is_events_task(c->task)) return load_events_task(c, dd, train, test);
    if (c->task != TASK_NETTALK)
        return load_mnist(dd, c->train_limit, c->test_limit, c->quiet, train, test);
    int rc = load_nettalk(dd, c->split, c->split_seed, c->train_limit, c->test_limit, c->quiet,
                          train, test, &codes);
    if (!rc) c->codes = &codes;
    return rc;
}

double per_epoch_cost(const run_cfg *c)
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

static int new_rule(sbp_rule_kind kind, const char *what, sbp_rule **out)
{
    sbp_status st = sbp_rule_create(kind, out);
    if (st == SBP_OK) return 0;
    char ctx[96];
    snprintf(ctx, sizeof ctx, "cannot create the %s rule", what);
    return lib_fail(ctx, st, NULL);
}

/* Applies the --set values of `target` to `rule`, attaches it to layers
 * first..last and frees it. */
static int attach_rule(sbp_net *net, const run_cfg *c, sbp_rule *rule, enum set_target target,
                       size_t first, size_t last)
{
    int rc = 0;
    for (size_t i = 0; i < c->n_sets && !rc; i++) {
        if (c->sets[i].target != target) continue;
        if (apply_rule_set(rule, &c->sets[i]) != SBP_OK)
            rc = usage("--set %s: %s", c->sets[i].text, sbp_rule_errmsg(rule));
    }
    for (size_t l = first; l <= last && !rc; l++) {
        sbp_status st = sbp_net_attach_rule(net, l, rule);
        /* SBP_E_UNSUPPORTED here means the engine is not in this build or
         * cannot use the rule: the library's message says which. */
        if (st != SBP_OK) rc = lib_fail(NULL, st, sbp_net_errmsg(net));
    }
    sbp_rule_free(rule);
    return rc;
}

/* The network of a run; what it attaches is described in netcfg.h and
 * docs/cli.md ("Rules attached to the network"). */
int build_net(const run_cfg *c, uint64_t seed, sbp_net **out)
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
    if (c->engine == SBP_ENGINE_ANN && !find_set(c, SBP_ANN_HIDDEN_MODE)) {
        int mode = c->replace_pct >= 0 ? SBP_HIDDEN_MIXED
                   : c->sbp_on         ? SBP_HIDDEN_SBP
                                       : SBP_HIDDEN_BP;
        if ((st = sbp_net_set_int(net, SBP_ANN_HIDDEN_MODE, mode)) != SBP_OK) {
            rc = lib_fail("ann.hidden_mode", st, sbp_net_errmsg(net));
            goto done;
        }
    }
    /* NETtalk targets are multi-hot: sigmoid outputs under the squared error
     * (as Sejnowski and Rosenberg), not a softmax. */
    if (c->engine == SBP_ENGINE_ANN && c->task == TASK_NETTALK && !find_set(c, SBP_ANN_LOSS) &&
        (st = sbp_net_set_int(net, SBP_ANN_LOSS, SBP_LOSS_MSE)) != SBP_OK) {
        rc = lib_fail("ann.loss", st, sbp_net_errmsg(net));
        goto done;
    }
    if (c->engine == SBP_ENGINE_ANN && c->replace_pct >= 0 &&
        (st = sbp_net_set_real(net, SBP_ANN_REPLACE_BP, c->replace_pct / 100.0)) != SBP_OK) {
        rc = lib_fail("ann.replace_bp", st, sbp_net_errmsg(net));
        goto done;
    }
    if ((rc = events_task_net(c, net))) goto done; /* spike: events encoder, a step per frame */
    for (size_t i = 0; i < c->n_sets; i++) {
        if (c->sets[i].target != SET_NET) continue;
        if (apply_net_set(net, &c->sets[i]) != SBP_OK) {
            rc = usage("--set %s: %s", c->sets[i].text, sbp_net_errmsg(net));
            goto done;
        }
    }

    size_t sizes[MAX_HIDDEN + 2];
    size_t n_layers = layer_sizes(c, sizes);
    for (size_t i = 0; i < c->n_sets; i++)
        if (c->sets[i].layer >= n_layers) {
            rc = usage("--set %s: this network's layers after the input are 1..%zu", c->sets[i].text,
                       n_layers - 1);
            goto done;
        }
    for (size_t l = 0; l < n_layers; l++) {
        if ((st = sbp_layer_create(sizes[l], &layer)) != SBP_OK) {
            rc = lib_fail("cannot create a layer", st, NULL);
            goto done;
        }
        for (size_t i = 0; l > 0 && i < c->n_sets; i++) {
            if (c->sets[i].target != SET_LAYER) continue;
            if (c->sets[i].layer && c->sets[i].layer != l) continue;
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

    size_t top = n_layers - 1; /* the output layer */
    if ((rc = new_rule(SBP_RULE_SBP_SPREAD, "SBP spread", &rule))) goto done;
    if ((st = sbp_rule_set_int(rule, SBP_SPREAD_ENABLED, c->sbp_on ? 1 : 0)) != SBP_OK) {
        rc = lib_fail("spread.enabled", st, sbp_rule_errmsg(rule));
        goto done;
    }
    rc = attach_rule(net, c, rule, SET_SPREAD, 1, top);
    rule = NULL;
    if (rc) goto done;

    const struct {
        int attach;
        sbp_rule_kind kind;
        const char *what;
        enum set_target target;
        size_t first, last;
    } rules[] = {
        {c->engine == SBP_ENGINE_SPIKE && has_target(c, SET_STDP), SBP_RULE_SUPERVISED_STDP,
         "supervised STDP", SET_STDP, top, top},
        {(c->with & WITH_STDP) != 0, SBP_RULE_STDP, "STDP", SET_STDP, 1, top - 1},
        {(c->with & WITH_STP) != 0, SBP_RULE_STP, "short-term plasticity", SET_STP, 1, top},
        {(c->with & WITH_HOMEO) != 0, SBP_RULE_HOMEOSTASIS, "homeostasis", SET_HOMEO, 1, top},
        {c->engine == SBP_ENGINE_RBM && has_target(c, SET_CD), SBP_RULE_RBM_CD,
         "contrastive-divergence", SET_CD, 1, 1},
    };
    for (size_t r = 0; r < sizeof rules / sizeof rules[0] && !rc; r++) {
        if (!rules[r].attach) continue;
        if ((rc = new_rule(rules[r].kind, rules[r].what, &rule))) break;
        rc = attach_rule(net, c, rule, rules[r].target, rules[r].first, rules[r].last);
        rule = NULL;
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

/* NETtalk test pass: the outputs of all test windows in one
 * sbp_net_predict call (so that the relax engine carries its state from
 * window to window as sbp_net_evaluate does), scored by the library:
 * test_error = 1 - cosine score. */
sbp_status evaluate_nettalk(sbp_net *net, const sbp_dataset *test,
                            const sbp_nettalk_codes *codes, epoch_rec *r, const char **why)
{
    size_t n = sbp_dataset_count(test), d = sbp_dataset_features(test);
    size_t k = sbp_dataset_targets(test);
    *why = "the test set is not a NETtalk dataset";
    if (k != SBP_NETTALK_UNITS || !codes) return SBP_E_INVALID;
    *why = "out of memory for the NETtalk test pass";
    float *x = malloc(n * d * sizeof *x), *t = malloc(n * k * sizeof *t);
    float *o = malloc(n * k * sizeof *o);
    int32_t *lab = malloc(n * sizeof *lab);
    sbp_status st = x && t && o && lab ? SBP_OK : SBP_E_NOMEM;
    if (st == SBP_OK) {
        *why = sbp_dataset_errmsg(test);
        st = sbp_dataset_batch(test, 0, n, x, t, NULL);
    }
    if (st == SBP_OK) {
        *why = NULL; /* the network's message */
        st = sbp_net_predict(net, n, x, lab, o);
    }
    double cosine = NAN;
    if (st == SBP_OK) {
        *why = "scoring the NETtalk outputs";
        st = sbp_nettalk_score(codes, o, t, n, &r->phoneme_accuracy, &r->stress_accuracy,
                               &cosine);
    }
    if (st == SBP_OK) {
        *why = NULL;
        r->test_error = 1.0 - cosine;
    }
    free(x);
    free(t);
    free(o);
    free(lab);
    return st;
}

/* Trains c->epochs epochs, evaluating after each. rec receives one entry
 * per completed epoch and *n_done their count. Returns 0, EXIT_FAIL or
 * EXIT_INTERRUPTED. */
int run_epochs(sbp_net *net, sbp_dataset *train, const sbp_dataset *test, const run_cfg *c,
               uint64_t seed, const char *prefix, epoch_rec *rec, size_t *n_done,
               double *seconds, epoch_fn fn, void *user)
{
    tool_progress p;
    tool_progress_init(&p, stderr, c->quiet);
    sbp_net_set_progress(net, tool_progress_callback, &p);
    int rc = 0;
    double t_begin = tool_now();
    sbp_status st = sbp_dataset_reset_order(train);
    if (st != SBP_OK) {
        rc = lib_fail("training set", st, sbp_dataset_errmsg(train));
        goto done;
    }
    /* a continued run: the presentation order those epochs left behind */
    for (size_t e = 1; c->shuffle && e <= *n_done; e++) {
        if ((st = sbp_dataset_shuffle(train, seed + e)) != SBP_OK) {
            rc = lib_fail("shuffling the training set", st, sbp_dataset_errmsg(train));
            goto done;
        }
    }
    size_t n_train = sbp_dataset_count(train), n_test = sbp_dataset_count(test);
    const char *eval_name = c->eval_name ? c->eval_name : "test";
    for (size_t e = *n_done + 1; e <= c->epochs; e++) {
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
        epoch_rec r = {NAN, NAN, 0.0, NAN, NAN};
        const char *why = NULL; /* message of a failure that is not the network's */

        snprintf(label, sizeof label, "%sepoch %zu/%zu train", prefix, e, c->epochs);
        tool_progress_begin(&p, label);
        st = sbp_net_train_epoch(net, train, &r.train_error);
        tool_progress_clear(&p);
        if (c->task == TASK_NETTALK) r.train_error = NAN; /* no classes: see epoch_rec */
        if (st == SBP_OK) {
            snprintf(label, sizeof label, "%sepoch %zu/%zu %-5s", prefix, e, c->epochs,
                     eval_name);
            tool_progress_begin(&p, label);
            if (c->task == TASK_NETTALK)
                st = evaluate_nettalk(net, test, c->codes, &r, &why);
            else
                st = sbp_net_evaluate(net, test, &r.test_error);
            tool_progress_clear(&p);
        }
        if (st == SBP_E_CANCELLED) {
            rc = EXIT_INTERRUPTED;
            break;
        }
        if (st != SBP_OK) {
            rc = lib_fail("training failed", st, why ? why : sbp_net_errmsg(net));
            break;
        }
        r.seconds = tool_now() - t0;
        rec[(*n_done)++] = r;
        if (!p.tty)
            note(c->quiet, "%sepoch %zu/%zu done: %zu training + %zu %s samples in %.1f s",
                 prefix, e, c->epochs, n_train, n_test, eval_name, r.seconds);
        if (fn && (rc = fn(user, net, e, c->epochs, &r))) break;
    }
done:
    sbp_net_set_progress(net, NULL, NULL);
    *seconds = tool_now() - t_begin;
    return rc;
}

/* First epoch (1-based) reaching the minimum test error; 0 if none. */
size_t best_epoch(const epoch_rec *rec, size_t n)
{
    size_t best = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(rec[i].test_error) &&
            (best == 0 || rec[i].test_error < rec[best - 1].test_error))
            best = i + 1;
    return best;
}


void print_epoch_human(FILE *f, size_t e, size_t epochs, const epoch_rec *r)
{
    fprintf(f, "epoch %zu/%zu  ", e, epochs);
    if (isfinite(r->train_error))
        fprintf(f, "train error %.2f %%  ", 100.0 * r->train_error);
    else
        fprintf(f, "train error n/a  ");
    fprintf(f, "test error %.2f %%  ", 100.0 * r->test_error);
    if (isfinite(r->phoneme_accuracy))
        fprintf(f, "(cosine score %.2f %%, phonemes %.2f %%, stress %.2f %%)  ",
                100.0 * (1.0 - r->test_error), 100.0 * r->phoneme_accuracy,
                100.0 * r->stress_accuracy);
    fprintf(f, "%.1f s\n", r->seconds);
}

/* Reads --sbp and --rule (train only). */
int parse_variant_opts(const args *a, run_cfg *c)
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
    if (a->given[OPT_REPLACE_BP]) {
        uint64_t pct = 0;
        int rc = parse_uint("--replace-bp", a->val[OPT_REPLACE_BP], 0, 100, &pct);
        if (rc) return rc;
        c->replace_pct = (int)pct;
        if ((rc = check_replace_bp(c))) return rc;
    }
    return 0;
}

int check_replace_bp(const run_cfg *c)
{
    if (c->engine != SBP_ENGINE_ANN)
        return usage("--replace-bp: only the ann engine mixes BP and SBP updates (--model ann)");
    const set_item *it = find_set(c, SBP_ANN_HIDDEN_MODE);
    if (!it) it = find_set(c, SBP_ANN_REPLACE_BP);
    if (it)
        return usage("--set %s: --replace-bp sets ann.hidden_mode and ann.replace_bp itself",
                     it->text);
    return 0;
}

const char *rule_description(const run_cfg *c)
{
    static char buf[160];
    char rule[64];
    const char *spread = c->sbp_on ? " + SBP spread" : ", SBP spread disabled";
    if (c->engine == SBP_ENGINE_RELAX) {
        int base = c->base_rule ? c->base_rule : c->sbp_on ? SBP_BASE_SBP : SBP_BASE_SYMMETRIC;
        snprintf(rule, sizeof rule, "%s rule", base_rule_names[base]);
    } else if (c->engine == SBP_ENGINE_ANN && find_set(c, SBP_ANN_HIDDEN_MODE)) {
        snprintf(rule, sizeof rule, "hidden layers per --set ann.hidden_mode");
    } else if (c->engine == SBP_ENGINE_ANN && c->replace_pct >= 0) {
        snprintf(rule, sizeof rule, "hidden layers %d %% SBP / %d %% BP", c->replace_pct,
                 100 - c->replace_pct);
    } else if (c->engine == SBP_ENGINE_ANN) {
        snprintf(rule, sizeof rule, "hidden layers by %s", c->sbp_on ? "SBP" : "BP");
    } else {
        snprintf(rule, sizeof rule, "engine's rule");
    }
    snprintf(buf, sizeof buf, "%s%s", rule, spread);
    for (size_t i = 0; i < sizeof with_names / sizeof with_names[0]; i++)
        if (c->with & with_names[i].flag)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), " + %s", with_names[i].name);
    return buf;
}
