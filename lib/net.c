/* The network handle: topology, parameters, attached rules, weights, and
 * dispatch to the engine that does the work. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "net.h"
#include "pool.h"

#define NET_COMMON (1u << SBP__G_NET)

static const char *const engine_names[] = {
    [SBP_ENGINE_RELAX] = "relax",
    [SBP_ENGINE_SPIKE] = "spike",
    [SBP_ENGINE_ANN] = "ann",
    [SBP_ENGINE_RBM] = "rbm",
};

const char *sbp_engine_name(sbp_engine engine)
{
    if (engine < SBP_ENGINE_RELAX || engine > SBP_ENGINE_RBM) return NULL;
    return engine_names[engine];
}

int sbp_engine_available(sbp_engine engine)
{
    return sbp__engine_lookup(engine) != NULL;
}

static unsigned engine_group_mask(sbp_engine engine)
{
    switch (engine) {
    case SBP_ENGINE_RELAX: return NET_COMMON | (1u << SBP__G_RELAX);
    case SBP_ENGINE_SPIKE: return NET_COMMON | (1u << SBP__G_SPIKE);
    case SBP_ENGINE_ANN: return NET_COMMON | (1u << SBP__G_ANN);
    case SBP_ENGINE_RBM: return NET_COMMON;
    }
    return NET_COMMON;
}

static int ok(const sbp_net *n)
{
    return n && n->tag == SBP__TAG_NET;
}

sbp_status sbp_net_create(sbp_engine engine, uint64_t seed, sbp_net **out)
{
    if (!out) return SBP_E_INVALID;
    *out = NULL;
    if (!sbp_engine_name(engine)) return SBP_E_INVALID;
    sbp_net *n = sbp__calloc(1, sizeof *n);
    if (!n) return SBP_E_NOMEM;
    n->tag = SBP__TAG_NET;
    n->engine = engine;
    n->ops = sbp__engine_lookup(engine);
    n->seed = seed;
    sbp__rng_init(&n->rng, seed, 0);
    sbp__param_defaults(n->params);
    *out = n;
    return SBP_OK;
}

static void free_weights(sbp_net *n)
{
    for (size_t l = 0; l < n->n_layers; l++) {
        if (n->w) sbp__free(n->w[l]);
        if (n->b) sbp__free(n->b[l]);
    }
    sbp__free(n->w);
    sbp__free(n->b);
    n->w = n->b = NULL;
}

void sbp_net_free(sbp_net *net)
{
    if (!ok(net)) return;
    if (net->built && net->ops && net->ops->destroy) net->ops->destroy(net);
    free_weights(net);
    for (size_t l = 0; l < net->n_layers; l++)
        for (int k = 0; k <= SBP__RULE_KINDS; k++) sbp_rule_free(net->layers[l].rules[k]);
    sbp__free(net->layers);
    net->tag = SBP__TAG_FREED;
    sbp__free(net);
}

sbp_engine sbp_net_get_engine(const sbp_net *net)
{
    return ok(net) ? net->engine : (sbp_engine)0;
}

const char *sbp_net_errmsg(const sbp_net *net)
{
    return ok(net) ? net->errmsg : "not a network handle";
}

sbp_status sbp_net_add_layer(sbp_net *net, const sbp_layer *layer)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_RETURN_IF(!layer || layer->tag != SBP__TAG_LAYER, net->errmsg, SBP_E_INVALID,
                  "sbp_net_add_layer: not a layer handle");
    SBP_RETURN_IF(net->built, net->errmsg, SBP_E_STATE,
                  "sbp_net_add_layer: the network's weights exist already; its layers are fixed");
    SBP_RETURN_IF(net->n_layers >= 64, net->errmsg, SBP_E_TOO_LARGE,
                  "sbp_net_add_layer: at most 64 layers");
    if (net->n_layers == net->cap_layers) {
        size_t cap = net->cap_layers ? 2 * net->cap_layers : 4;
        sbp__net_layer *nl = sbp__realloc(net->layers, cap * sizeof *nl);
        SBP_RETURN_IF(!nl, net->errmsg, SBP_E_NOMEM, "sbp_net_add_layer: out of memory");
        net->layers = nl;
        net->cap_layers = cap;
    }
    sbp__net_layer *L = &net->layers[net->n_layers];
    memset(L, 0, sizeof *L);
    L->size = layer->size;
    memcpy(L->params, layer->params, sizeof L->params);
    net->n_layers++;
    return SBP_OK;
}

size_t sbp_net_layer_count(const sbp_net *net)
{
    return ok(net) ? net->n_layers : 0;
}

size_t sbp_net_layer_size(const sbp_net *net, size_t layer_index)
{
    if (!ok(net) || layer_index >= net->n_layers) return 0;
    return net->layers[layer_index].size;
}

sbp_status sbp_net_get_seed(const sbp_net *net, uint64_t *seed)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_RETURN_IF(!seed, (char *)net->errmsg, SBP_E_INVALID, "sbp_net_get_seed: seed is NULL");
    *seed = net->seed;
    return SBP_OK;
}

sbp_status sbp_net_get_layer(const sbp_net *net, size_t layer_index, sbp_layer **out)
{
    if (out) *out = NULL;
    if (!ok(net)) return SBP_E_INVALID;
    char *err = (char *)net->errmsg; /* the message buffer is not network state */
    SBP_RETURN_IF(!out, err, SBP_E_INVALID, "sbp_net_get_layer: out is NULL");
    SBP_RETURN_IF(layer_index >= net->n_layers, err, SBP_E_RANGE,
                  "sbp_net_get_layer: layer index %zu is not in 0..%zu", layer_index,
                  net->n_layers ? net->n_layers - 1 : 0);
    const sbp__net_layer *L = &net->layers[layer_index];
    sbp_layer *copy;
    SBP_RETURN_IF(sbp_layer_create(L->size, &copy) != SBP_OK, err, SBP_E_NOMEM,
                  "sbp_net_get_layer: out of memory");
    memcpy(copy->params, L->params, sizeof copy->params);
    *out = copy;
    return SBP_OK;
}

sbp_status sbp_net_get_rule(const sbp_net *net, size_t layer_index, sbp_rule_kind kind,
                            sbp_rule **out)
{
    if (out) *out = NULL;
    if (!ok(net)) return SBP_E_INVALID;
    char *err = (char *)net->errmsg;
    SBP_RETURN_IF(!out, err, SBP_E_INVALID, "sbp_net_get_rule: out is NULL");
    SBP_RETURN_IF(layer_index == 0 || layer_index >= net->n_layers, err, SBP_E_RANGE,
                  "sbp_net_get_rule: layer index %zu is not in 1..%zu", layer_index,
                  net->n_layers ? net->n_layers - 1 : 0);
    SBP_RETURN_IF(!sbp_rule_kind_name(kind), err, SBP_E_INVALID,
                  "sbp_net_get_rule: unknown rule kind %d", (int)kind);
    const struct sbp_rule *attached = net->layers[layer_index].rules[kind];
    if (!attached) return SBP_OK; /* none of that kind: *out stays NULL */
    struct sbp_rule *copy = sbp__malloc(sizeof *copy);
    SBP_RETURN_IF(!copy, err, SBP_E_NOMEM, "sbp_net_get_rule: out of memory");
    memcpy(copy, attached, sizeof *copy);
    copy->errmsg[0] = '\0';
    *out = copy;
    return SBP_OK;
}

static sbp_status check_layer_index(sbp_net *net, size_t l, const char *fn)
{
    SBP_RETURN_IF(l == 0 || l >= net->n_layers, net->errmsg, SBP_E_RANGE,
                  "%s: layer index %zu is not in 1..%zu", fn, l,
                  net->n_layers ? net->n_layers - 1 : 0);
    return SBP_OK;
}

sbp_status sbp_net_attach_rule(sbp_net *net, size_t layer_index, const sbp_rule *rule)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_RETURN_IF(!rule || rule->tag != SBP__TAG_RULE, net->errmsg, SBP_E_INVALID,
                  "sbp_net_attach_rule: not a rule handle");
    SBP_TRY(check_layer_index(net, layer_index, "sbp_net_attach_rule"));
    SBP_RETURN_IF(net->built, net->errmsg, SBP_E_STATE,
                  "sbp_net_attach_rule: the network is built; rules are fixed once weights exist");
    const char *kname = sbp_rule_kind_name(rule->kind);
    SBP_RETURN_IF(!net->ops, net->errmsg, SBP_E_UNSUPPORTED,
                  "engine '%s' is not available in this build of libsbp",
                  sbp_engine_name(net->engine));
    SBP_RETURN_IF(!net->ops->accepts_rule(rule->kind, layer_index, net->n_layers), net->errmsg,
                  SBP_E_UNSUPPORTED, "engine '%s' cannot use a '%s' rule on layer %zu",
                  net->ops->name, kname, layer_index);
    struct sbp_rule *copy = sbp__malloc(sizeof *copy);
    SBP_RETURN_IF(!copy, net->errmsg, SBP_E_NOMEM, "sbp_net_attach_rule: out of memory");
    memcpy(copy, rule, sizeof *copy);
    sbp__net_layer *L = &net->layers[layer_index];
    sbp_rule_free(L->rules[rule->kind]);
    L->rules[rule->kind] = copy;
    return SBP_OK;
}

sbp_status sbp_net_detach_rule(sbp_net *net, size_t layer_index, sbp_rule_kind kind)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_TRY(check_layer_index(net, layer_index, "sbp_net_detach_rule"));
    SBP_RETURN_IF(net->built, net->errmsg, SBP_E_STATE,
                  "sbp_net_detach_rule: the network is built; rules are fixed once weights exist");
    SBP_RETURN_IF(!sbp_rule_kind_name(kind), net->errmsg, SBP_E_INVALID,
                  "sbp_net_detach_rule: unknown rule kind %d", (int)kind);
    sbp__net_layer *L = &net->layers[layer_index];
    sbp_rule_free(L->rules[kind]);
    L->rules[kind] = NULL;
    return SBP_OK;
}

static const char *net_what(const sbp_net *n)
{
    switch (n->engine) {
    case SBP_ENGINE_RELAX: return "'relax' network";
    case SBP_ENGINE_SPIKE: return "'spike' network";
    case SBP_ENGINE_ANN: return "'ann' network";
    case SBP_ENGINE_RBM: return "'rbm' network";
    }
    return "network";
}

sbp_status sbp_net_set_int(sbp_net *net, sbp_param param, int64_t value)
{
    if (!ok(net)) return SBP_E_INVALID;
    /* engine buffers are shaped by the batch size */
    SBP_RETURN_IF(net->built && param == SBP_NET_BATCH_SIZE, net->errmsg, SBP_E_STATE,
                  "net.batch_size cannot change once the network is built");
    return sbp__param_set(net->params, engine_group_mask(net->engine), net_what(net), param,
                          (double)value, 1, net->errmsg);
}

sbp_status sbp_net_set_real(sbp_net *net, sbp_param param, double value)
{
    if (!ok(net)) return SBP_E_INVALID;
    return sbp__param_set(net->params, engine_group_mask(net->engine), net_what(net), param,
                          value, 0, net->errmsg);
}

sbp_status sbp_net_get_int(const sbp_net *net, sbp_param param, int64_t *value)
{
    if (!ok(net)) return SBP_E_INVALID;
    return sbp__param_get_int(net->params, engine_group_mask(net->engine), net_what(net), param,
                              value, (char *)net->errmsg);
}

sbp_status sbp_net_get_real(const sbp_net *net, sbp_param param, double *value)
{
    if (!ok(net)) return SBP_E_INVALID;
    return sbp__param_get(net->params, engine_group_mask(net->engine), net_what(net), param,
                          value, (char *)net->errmsg);
}

sbp_status sbp_net_set_progress(sbp_net *net, sbp_progress_fn fn, void *user)
{
    if (!ok(net)) return SBP_E_INVALID;
    net->progress = fn;
    net->progress_user = user;
    return SBP_OK;
}

sbp_status sbp__net_progress(sbp_net *net, size_t done, size_t total)
{
    if (net->progress && net->progress(net->progress_user, done, total) != 0)
        return sbp__fail(net->errmsg, SBP_E_CANCELLED, "stopped by the progress callback");
    return SBP_OK;
}

sbp_status sbp__net_pool(sbp_net *net, sbp__pool **pool, int *replaced)
{
    unsigned threads = (unsigned)sbp__net_param(net, SBP_NET_THREADS);
    if (threads == 0) threads = sbp_default_threads();
    int change = !*pool || sbp__pool_size(*pool) != threads;
    if (replaced) *replaced = change;
    if (change) {
        sbp__pool_free(*pool);
        *pool = sbp__pool_create(threads);
        SBP_RETURN_IF(!*pool, net->errmsg, SBP_E_NOMEM, "cannot start %u worker threads",
                      threads);
    }
    return SBP_OK;
}

double sbp__net_param(const sbp_net *net, sbp_param id)
{
    return sbp__pv(net->params, id);
}

double sbp__layer_param(const sbp_net *net, size_t layer, sbp_param id)
{
    return sbp__pv(net->layers[layer].params, id);
}

const struct sbp_rule *sbp__net_rule(const sbp_net *net, size_t layer, sbp_rule_kind kind)
{
    if (layer >= net->n_layers || (unsigned)kind > SBP__RULE_KINDS) return NULL;
    return net->layers[layer].rules[kind];
}

/* Allocates weights and lets the engine initialise them: the topology is
 * frozen from here on. */
static sbp_status build(sbp_net *net)
{
    if (net->built) return SBP_OK;
    SBP_RETURN_IF(!net->ops, net->errmsg, SBP_E_UNSUPPORTED,
                  "engine '%s' is not available in this build of libsbp",
                  sbp_engine_name(net->engine));
    SBP_RETURN_IF(net->n_layers < 2, net->errmsg, SBP_E_STATE,
                  "the network needs at least an input and an output layer (has %zu)",
                  net->n_layers);
    net->w = sbp__calloc(net->n_layers, sizeof *net->w);
    net->b = sbp__calloc(net->n_layers, sizeof *net->b);
    if (!net->w || !net->b) goto nomem;
    for (size_t l = 1; l < net->n_layers; l++) {
        size_t count;
        if (!sbp__mul_size(net->layers[l - 1].size, net->layers[l].size, &count) ||
            count > ((size_t)1 << 32)) {
            free_weights(net);
            return sbp__fail(net->errmsg, SBP_E_TOO_LARGE,
                             "projection into layer %zu has too many synapses", l);
        }
        net->w[l] = sbp__floats(count);
        net->b[l] = sbp__floats(net->layers[l].size);
        if (!net->w[l] || !net->b[l]) goto nomem;
    }
    if (net->ops->defaults) net->ops->defaults(net);
    sbp_status st = net->ops->init(net);
    if (st != SBP_OK) {
        free_weights(net);
        return st;
    }
    net->built = 1;
    return SBP_OK;
nomem:
    free_weights(net);
    return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory allocating the weights");
}

static sbp_status check_data(sbp_net *net, const sbp_dataset *ds, const char *fn)
{
    SBP_RETURN_IF(!ds || sbp_dataset_count(ds) == 0, net->errmsg, SBP_E_INVALID,
                  "%s: no dataset or an empty one", fn);
    SBP_RETURN_IF(sbp_dataset_features(ds) != net->layers[0].size, net->errmsg, SBP_E_MISMATCH,
                  "%s: the dataset has %zu features but the input layer has %zu neurons", fn,
                  sbp_dataset_features(ds), net->layers[0].size);
    size_t out = net->layers[net->n_layers - 1].size;
    int targets_used = !net->ops->uses_targets || net->ops->uses_targets(net);
    SBP_RETURN_IF(targets_used && sbp_dataset_targets(ds) != out, net->errmsg, SBP_E_MISMATCH,
                  "%s: the dataset has %zu targets but the output layer has %zu neurons", fn,
                  sbp_dataset_targets(ds), out);
    return SBP_OK;
}

sbp_status sbp_net_train_epoch(sbp_net *net, const sbp_dataset *train, double *train_error)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_TRY(build(net));
    SBP_TRY(check_data(net, train, "sbp_net_train_epoch"));
    double err = NAN;
    SBP_TRY(net->ops->train_epoch(net, train, &err));
    if (train_error) *train_error = err;
    return SBP_OK;
}

sbp_status sbp_net_predict(sbp_net *net, size_t n, const float *x, int32_t *labels,
                           float *outputs)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_RETURN_IF(!x || !labels, net->errmsg, SBP_E_INVALID, "sbp_net_predict: NULL buffer");
    SBP_TRY(build(net));
    if (n == 0) return SBP_OK;
    return net->ops->predict(net, n, x, labels, outputs, 0);
}

sbp_status sbp_net_evaluate(sbp_net *net, const sbp_dataset *data, double *error)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_TRY(build(net));
    SBP_TRY(check_data(net, data, "sbp_net_evaluate"));
    size_t n = sbp_dataset_count(data), d = net->layers[0].size;
    size_t chunk = 1000;
    float *x = sbp__floats(chunk * d);
    int32_t *want = sbp__calloc(chunk, sizeof *want);
    int32_t *got = sbp__calloc(chunk, sizeof *got);
    sbp_status st = SBP_OK;
    if (!x || !want || !got) {
        st = sbp__fail(net->errmsg, SBP_E_NOMEM, "sbp_net_evaluate: out of memory");
        goto done;
    }
    size_t wrong = 0;
    for (size_t start = 0; start < n && st == SBP_OK; start += chunk) {
        size_t c = n - start < chunk ? n - start : chunk;
        st = sbp_dataset_batch(data, start, c, x, NULL, want);
        if (st != SBP_OK) {
            sbp__fail(net->errmsg, st, "sbp_net_evaluate: %s", sbp_dataset_errmsg(data));
            break;
        }
        st = net->ops->predict(net, c, x, got, NULL, start > 0);
        for (size_t i = 0; st == SBP_OK && i < c; i++) wrong += got[i] != want[i];
        if (st == SBP_OK) st = sbp__net_progress(net, start + c, n);
    }
    if (st == SBP_OK && error) *error = (double)wrong / (double)n;
done:
    sbp__free(x);
    sbp__free(want);
    sbp__free(got);
    return st;
}

static sbp_status weights_args(sbp_net *net, size_t l, const void *w, size_t count,
                               const char *fn)
{
    SBP_RETURN_IF(!w, net->errmsg, SBP_E_INVALID, "%s: NULL buffer", fn);
    SBP_TRY(check_layer_index(net, l, fn));
    SBP_TRY(build(net));
    size_t want = net->layers[l - 1].size * net->layers[l].size;
    SBP_RETURN_IF(count != want, net->errmsg, SBP_E_MISMATCH,
                  "%s: layer %zu has %zu x %zu = %zu weights, buffer holds %zu", fn, l,
                  net->layers[l - 1].size, net->layers[l].size, want, count);
    return SBP_OK;
}

sbp_status sbp_net_get_weights(sbp_net *net, size_t layer_index, float *w, size_t count)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_TRY(weights_args(net, layer_index, w, count, "sbp_net_get_weights"));
    memcpy(w, net->w[layer_index], count * sizeof *w);
    return SBP_OK;
}

sbp_status sbp_net_set_weights(sbp_net *net, size_t layer_index, const float *w, size_t count)
{
    if (!ok(net)) return SBP_E_INVALID;
    SBP_TRY(weights_args(net, layer_index, w, count, "sbp_net_set_weights"));
    for (size_t i = 0; i < count; i++)
        SBP_RETURN_IF(!isfinite(w[i]), net->errmsg, SBP_E_NUMERIC,
                      "sbp_net_set_weights: weight %zu is not finite", i);
    memcpy(net->w[layer_index], w, count * sizeof *w);
    if (net->ops->weights_written) net->ops->weights_written(net, layer_index);
    return SBP_OK;
}
