/* The spike engine through the public API (plus its internal counters):
 * learning, determinism across thread counts, the spread ablation and
 * mask, prediction without side effects, misuse, and the event-driven
 * cost. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "rng.h"
#include "rules/spread.h"
#include "spike.h"
#include "testutil.h"

#define D 20
#define K 3
#define H 16
#define NS 60

/* Three noisy prototypes over disjoint blocks of inputs. */
static sbp_dataset *toy(uint64_t seed)
{
    return sbp_test_prototypes(seed, NS, D, K, 6, 0.8f, 0.05f, 0.2f);
}

/* conn: layer.connectivity of each layer, or NULL (parameter left unset) */
static void add_layers_c(sbp_net *net, const size_t *sizes, size_t n, const double *conn)
{
    for (size_t i = 0; i < n; i++) {
        sbp_layer *l;
        ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
        if (conn && i > 0)
            ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_CONNECTIVITY, conn[i]), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
}

static void add_layers(sbp_net *net, const size_t *sizes, size_t n)
{
    add_layers_c(net, sizes, n, NULL);
}

static void attach(sbp_net *net, size_t layer, sbp_rule_kind kind, sbp_param p, double v)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(kind, &r), SBP_OK);
    if (p) {
        sbp_param_desc d;
        ck_assert_int_eq(sbp_param_info(p, &d), SBP_OK);
        if (d.type == SBP_PARAM_INT)
            ck_assert_int_eq(sbp_rule_set_int(r, p, (int64_t)v), SBP_OK);
        else
            ck_assert_int_eq(sbp_rule_set_real(r, p, v), SBP_OK);
    }
    ck_assert_int_eq(sbp_net_attach_rule(net, layer, r), SBP_OK);
    sbp_rule_free(r);
}

/* spread: -1 none, 0 disabled, 1 enabled (on every layer >= 1, as the
 * command line does). */
static sbp_net *make_c(const size_t *sizes, size_t n, int spread, unsigned threads,
                       const double *conn)
{
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_SPIKE, 3, &net), SBP_OK);
    add_layers_c(net, sizes, n, conn);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 10), SBP_OK);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_THREADS, threads), SBP_OK);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_STEPS, 30), SBP_OK);
    attach(net, n - 1, SBP_RULE_SUPERVISED_STDP, SBP_STDP_ETA, 2e-3);
    if (spread >= 0)
        for (size_t l = 1; l < n; l++) attach(net, l, SBP_RULE_SBP_SPREAD, SBP_SPREAD_ENABLED, spread);
    return net;
}

static sbp_net *make(const size_t *sizes, size_t n, int spread, unsigned threads)
{
    return make_c(sizes, n, spread, threads, NULL);
}

static const size_t SIZES3[] = {D, H, K};

static float *weights(sbp_net *net, size_t l, size_t count)
{
    float *w = malloc(count * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(sbp_net_get_weights(net, l, w, count), SBP_OK);
    return w;
}

/* a and b predict the first NS samples of ds with the same labels and
 * output spike counts, bit for bit. */
static void same_predictions(sbp_net *a, sbp_net *b, const sbp_dataset *ds)
{
    float x[NS * D], oa[NS * K], ob[NS * K];
    int32_t la[NS], lb[NS];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
    ck_assert_int_eq(sbp_net_predict(a, NS, x, la, oa), SBP_OK);
    ck_assert_int_eq(sbp_net_predict(b, NS, x, lb, ob), SBP_OK);
    ck_assert_int_eq(memcmp(la, lb, sizeof la), 0);
    ck_assert_int_eq(memcmp(oa, ob, sizeof oa), 0);
}

static void same_weights(sbp_net *a, sbp_net *b, const size_t *sizes, size_t n)
{
    for (size_t l = 1; l < n; l++) {
        size_t count = sizes[l - 1] * sizes[l];
        float *wa = weights(a, l, count), *wb = weights(b, l, count);
        ck_assert_int_eq(memcmp(wa, wb, count * sizeof(float)), 0);
        free(wa);
        free(wb);
    }
}

START_TEST(learns_a_toy_task)
{
    sbp_dataset *ds = toy(1);
    sbp_net *net = make(SIZES3, 3, 1, 2);
    double before, after, train = 1.0;
    ck_assert_int_eq(sbp_net_evaluate(net, ds, &before), SBP_OK);
    /* (over 12 seeds, 25 epochs end at 0 to 0.1 evaluation error) */
    for (int e = 0; e < 25; e++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &train), SBP_OK);
    ck_assert_int_eq(sbp_net_evaluate(net, ds, &after), SBP_OK);
    ck_assert_double_le(after, 0.1);
    ck_assert_double_le(train, 0.15);
    ck_assert_double_lt(after, before);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* Every optional mechanism at once: mask, random retro weights, STP,
 * homeostasis, unsupervised STDP with batches > 1. */
static sbp_net *make_full_c(unsigned threads, const double *conn)
{
    static const size_t sizes[] = {D, H, 12, K};
    sbp_net *net = make_c(sizes, 4, -1, threads, conn);
    for (size_t l = 1; l < 4; l++) {
        sbp_rule *r;
        ck_assert_int_eq(sbp_rule_create(SBP_RULE_SBP_SPREAD, &r), SBP_OK);
        ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_LAMBDA_P, 0.5), SBP_OK);
        ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_RETRO_WEIGHT, SBP_RETRO_RANDOM), SBP_OK);
        ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_SPLIT_LTP_LTD, 1), SBP_OK);
        ck_assert_int_eq(sbp_net_attach_rule(net, l, r), SBP_OK);
        sbp_rule_free(r);
        attach(net, l, SBP_RULE_STP, 0, 0);
        attach(net, l, SBP_RULE_HOMEOSTASIS, 0, 0);
    }
    attach(net, 1, SBP_RULE_STDP, SBP_STDP_A_PLUS, 0.001);
    attach(net, 2, SBP_RULE_STDP, SBP_STDP_MULTIPLICATIVE, 1);
    return net;
}

static sbp_net *make_full(unsigned threads)
{
    return make_full_c(threads, NULL);
}

START_TEST(deterministic_across_threads)
{
    static const size_t full[] = {D, H, 12, K};
    sbp_dataset *ds = toy(3);
    for (int variant = 0; variant < 2; variant++) {
        sbp_net *a = variant ? make_full(1) : make(SIZES3, 3, 1, 1);
        sbp_net *b = variant ? make_full(2) : make(SIZES3, 3, 1, 2);
        sbp_net *c = variant ? make_full(3) : make(SIZES3, 3, 1, 1);
        const size_t *sizes = variant ? full : SIZES3;
        size_t n = variant ? 4 : 3;
        double ea, eb, ec;
        for (int i = 0; i < 3; i++) {
            ck_assert_int_eq(sbp_net_train_epoch(a, ds, &ea), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(b, ds, &eb), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(c, ds, &ec), SBP_OK);
            ck_assert(ea == eb && ea == ec);
        }
        same_weights(a, b, sizes, n);
        same_weights(a, c, sizes, n);
        for (size_t l = 0; l < n; l++) {
            ck_assert_uint_eq(sbp__spike_count(a, l), sbp__spike_count(b, l));
            ck_assert_uint_eq(sbp__spike_count(a, l), sbp__spike_count(c, l));
            ck_assert_uint_gt(sbp__spike_count(a, l), 0);
        }
        ck_assert_uint_eq(sbp__spike_events(a), sbp__spike_events(b));
        /* predictions and output spike counts as well */
        same_predictions(a, b, ds);
        sbp_net_free(a);
        sbp_net_free(b);
        sbp_net_free(c);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(disabled_spread_leaves_hidden_weights_exactly)
{
    sbp_dataset *ds = toy(4);
    sbp_net *off = make(SIZES3, 3, 0, 1), *none = make(SIZES3, 3, -1, 1),
            *on = make(SIZES3, 3, 1, 1);
    float *w0 = weights(off, 1, D * H), *b0 = weights(off, 2, H * K);
    double e;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(sbp_net_train_epoch(off, ds, &e), SBP_OK);
        ck_assert_int_eq(sbp_net_train_epoch(none, ds, &e), SBP_OK);
        ck_assert_int_eq(sbp_net_train_epoch(on, ds, &e), SBP_OK);
    }
    float *w_off = weights(off, 1, D * H), *w_on = weights(on, 1, D * H);
    float *b_off = weights(off, 2, H * K);
    ck_assert_int_eq(memcmp(w0, w_off, D * H * sizeof(float)), 0);       /* ablation: exact */
    ck_assert_int_ne(memcmp(w0, w_on, D * H * sizeof(float)), 0);        /* spread acts */
    ck_assert_int_ne(memcmp(b0, b_off, H * K * sizeof(float)), 0);       /* output learns */
    same_weights(off, none, SIZES3, 3); /* disabled rule == no rule */
    free(w0);
    free(b0);
    free(w_off);
    free(w_on);
    free(b_off);
    sbp_net_free(off);
    sbp_net_free(none);
    sbp_net_free(on);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(spread_changes_only_masked_synapses)
{
    sbp_dataset *ds = toy(5);
    sbp_net *net = make(SIZES3, 3, -1, 2);
    for (size_t l = 1; l < 3; l++) attach(net, l, SBP_RULE_SBP_SPREAD, SBP_SPREAD_LAMBDA_P, 0.5);
    float *w0 = weights(net, 1, D * H);
    double e;
    for (int i = 0; i < 2; i++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    float *w1 = weights(net, 1, D * H);
    /* the engine's mask: drawn once from the seed, stream "MASK" + layer */
    sbp__rng r;
    sbp__rng_init(&r, 3, 0x4D41534Bull + 1);
    int failed;
    unsigned char *mask = sbp__spread_mask(&r, D * H, 0.5, &failed);
    ck_assert(!failed);
    ck_assert_ptr_nonnull(mask);
    size_t in_mask = 0, changed = 0;
    for (size_t i = 0; i < D * H; i++) {
        in_mask += mask[i];
        if (w1[i] != w0[i]) {
            ck_assert_msg(mask[i], "synapse %zu changed outside the mask", i);
            changed++;
        }
    }
    ck_assert_uint_gt(in_mask, D * H / 4);
    ck_assert_uint_lt(in_mask, 3 * D * H / 4);
    ck_assert_uint_gt(changed, in_mask / 2); /* most masked synapses did move */
    sbp__free(mask);
    free(w0);
    free(w1);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(prediction_disturbs_nothing)
{
    sbp_dataset *ds = toy(6);
    sbp_net *a = make(SIZES3, 3, 1, 2), *b = make(SIZES3, 3, 1, 2);
    float x[NS * D], o1[NS * K], o2[NS * K];
    int32_t l1[NS], l2[NS];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
    double e;
    ck_assert_int_eq(sbp_net_train_epoch(a, ds, &e), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(b, ds, &e), SBP_OK);
    float *before = weights(a, 1, D * H);
    ck_assert_int_eq(sbp_net_predict(a, NS, x, l1, o1), SBP_OK);
    ck_assert_int_eq(sbp_net_evaluate(a, ds, &e), SBP_OK);
    ck_assert_int_eq(sbp_net_predict(a, NS, x, l2, o2), SBP_OK);
    float *after = weights(a, 1, D * H);
    ck_assert_int_eq(memcmp(before, after, D * H * sizeof(float)), 0);
    /* fresh state per sample: the same call gives the same answer */
    ck_assert_int_eq(memcmp(l1, l2, sizeof l1), 0);
    ck_assert_int_eq(memcmp(o1, o2, sizeof o1), 0);
    for (int i = 0; i < NS * K; i++) ck_assert(o1[i] >= 0.0f && o1[i] <= 1.0f);
    /* a pass in chunks equals the pass at once */
    int32_t l3[NS];
    ck_assert_int_eq(sbp_net_predict(a, 25, x, l3, NULL), SBP_OK);
    ck_assert_int_eq(memcmp(l1, l3, 25 * sizeof *l3), 0);
    /* training goes on exactly as without the predictions */
    ck_assert_int_eq(sbp_net_train_epoch(a, ds, &e), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(b, ds, &e), SBP_OK);
    same_weights(a, b, SIZES3, 3);
    free(before);
    free(after);
    sbp_net_free(a);
    sbp_net_free(b);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(misuse_is_refused_with_a_message)
{
    sbp_dataset *ds = toy(7);
    double e;
    sbp_net *net = make(SIZES3, 3, 1, 1);
    /* rules this engine cannot use where they are attached */
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_SUPERVISED_STDP, &r), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "supervised_stdp"));
    sbp_rule_free(r);
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_STDP, &r), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, 2, r), SBP_E_UNSUPPORTED);
    sbp_rule_free(r);
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_RBM_CD, &r), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_E_UNSUPPORTED);
    sbp_rule_free(r);
    /* a dataset of the wrong shape */
    float x[2 * 5] = {0};
    int32_t lab[2] = {0, 1};
    sbp_dataset *bad;
    ck_assert_int_eq(sbp_dataset_create(2, 5, x, lab, 3, &bad), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, bad, &e), SBP_E_MISMATCH);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "features"));
    ck_assert_int_eq(sbp_net_evaluate(net, bad, &e), SBP_E_MISMATCH);
    sbp_dataset_free(bad);
    /* cancellation keeps the network usable */
    size_t seen = 0;
    ck_assert_int_eq(sbp_net_set_progress(net, sbp_test_stop_at_20, &seen), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_CANCELLED);
    ck_assert_uint_eq(seen, 20);
    ck_assert_int_eq(sbp_net_set_progress(net, NULL, NULL), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    /* the events encoder needs steps x frame inputs */
    ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_ENCODER, SBP_ENCODER_EVENTS), SBP_OK);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_STEPS, 7), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_MISMATCH);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "events"));
    ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_STEPS, 4), SBP_OK); /* 20 = 4 x 5 */
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    sbp_net_free(net);

    /* the multiplicative spread is the relax engine's */
    net = make(SIZES3, 3, -1, 1);
    attach(net, 1, SBP_RULE_SBP_SPREAD, SBP_SPREAD_FORM, SBP_SPREAD_MULTIPLICATIVE);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "additive"));
    /* ... and the network is not built: the rule can be replaced */
    ck_assert_int_eq(sbp_net_detach_rule(net, 1, SBP_RULE_SBP_SPREAD), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    sbp_net_free(net);

    /* activations and learning rates do not apply to LIF layers */
    for (int which = 0; which < 2; which++) {
        ck_assert_int_eq(sbp_net_create(SBP_ENGINE_SPIKE, 1, &net), SBP_OK);
        for (int i = 0; i < 3; i++) {
            sbp_layer *l;
            ck_assert_int_eq(sbp_layer_create(SIZES3[i], &l), SBP_OK);
            if (i == 1 && which == 0)
                ck_assert_int_eq(sbp_layer_set_int(l, SBP_LAYER_ACTIVATION, SBP_ACT_TANH), SBP_OK);
            if (i == 2 && which == 1)
                ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, 0.1), SBP_OK);
            ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
            sbp_layer_free(l);
        }
        ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), which ? "learning_rate" : "activation"));
        sbp_net_free(net);
    }
    /* a supervised rule attached before the layers above it were added */
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_SPIKE, 1, &net), SBP_OK);
    add_layers(net, SIZES3, 2);
    attach(net, 1, SBP_RULE_SUPERVISED_STDP, 0, 0);
    add_layers(net, SIZES3 + 2, 1);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "output layer only"));
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* With the latency encoder every positive feature spikes exactly once, so
 * the input spikes are known; each spike of a neuron must cost exactly its
 * fan-out in synaptic events, whatever the synapse count. */
START_TEST(cost_is_spikes_times_fan_out)
{
    static const size_t sizes[] = {D, H, 12, K};
    sbp_dataset *ds = toy(8);
    sbp_net *net = make(sizes, 4, 1, 2);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_ENCODER, SBP_ENCODER_LATENCY), SBP_OK);
    /* a few inputs at zero: they never spike */
    float x[NS * D];
    int32_t lab[NS];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
    size_t positive = 0;
    for (size_t i = 0; i < NS * D; i++) {
        if (i % 7 == 0) x[i] = 0.0f;
        positive += x[i] > 0.0f;
    }
    ck_assert_int_eq(sbp_net_predict(net, NS, x, lab, NULL), SBP_OK);
    ck_assert_uint_eq(sbp__spike_count(net, 0), positive);
    size_t expect = 0;
    for (size_t l = 0; l + 1 < 4; l++) expect += sbp__spike_count(net, l) * sizes[l + 1];
    ck_assert_uint_eq(sbp__spike_events(net), expect);
    /* training counts the same way */
    double e;
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    expect = 0;
    for (size_t l = 0; l + 1 < 4; l++) expect += sbp__spike_count(net, l) * sizes[l + 1];
    ck_assert_uint_eq(sbp__spike_events(net), expect);
    /* silence costs nothing */
    sbp_net *quiet = make(sizes, 4, 1, 1);
    float zeros[5 * D] = {0};
    ck_assert_int_eq(sbp_net_predict(quiet, 5, zeros, lab, NULL), SBP_OK);
    ck_assert_uint_eq(sbp__spike_events(quiet), 0);
    ck_assert_uint_eq(sbp__spike_events(NULL), 0);
    sbp_net_free(quiet);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(deeper_and_shallower_networks)
{
    sbp_dataset *ds = toy(9);
    const size_t two[] = {D, K}, four[] = {D, H, 10, K}, five[] = {D, 14, 12, 10, K};
    const size_t *all[] = {two, four, five};
    const size_t counts[] = {2, 4, 5};
    for (int v = 0; v < 3; v++) {
        sbp_net *net = make(all[v], counts[v], 1, 2);
        size_t n1 = all[v][0] * all[v][1];
        float *w0 = weights(net, 1, n1);
        double e = 1.0;
        for (int i = 0; i < 3; i++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
        ck_assert(e >= 0.0 && e <= 1.0);
        float *w1 = weights(net, 1, n1);
        /* the bottom projection moves: by the output rule (two layers) or
         * by the spread chained down from the output */
        ck_assert_int_ne(memcmp(w0, w1, n1 * sizeof(float)), 0);
        for (size_t i = 0; i < n1; i++) ck_assert(isfinite(w1[i]));
        free(w0);
        free(w1);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(stdp_stp_and_homeostasis_act)
{
    sbp_dataset *ds = toy(10);
    double e;
    /* unsupervised STDP moves hidden weights with the spread disabled */
    sbp_net *net = make(SIZES3, 3, 0, 1);
    attach(net, 1, SBP_RULE_STDP, SBP_STDP_A_PLUS, 0.002);
    float *w0 = weights(net, 1, D * H);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    float *w1 = weights(net, 1, D * H);
    ck_assert_int_ne(memcmp(w0, w1, D * H * sizeof(float)), 0);
    for (size_t i = 0; i < D * H; i++) ck_assert(w1[i] >= -1.0f && w1[i] <= 1.0f);
    free(w0);
    free(w1);
    sbp_net_free(net);
    /* depressing STP and an adaptive threshold both reduce hidden firing */
    size_t base_spikes = 0;
    for (int v = 0; v < 3; v++) {
        net = make(SIZES3, 3, 0, 1);
        if (v == 1) attach(net, 1, SBP_RULE_STP, SBP_STP_TAU_D, 200.0);
        if (v == 2) attach(net, 1, SBP_RULE_HOMEOSTASIS, SBP_HOMEO_THETA_PLUS, 0.5);
        float x[NS * D];
        int32_t lab[NS];
        ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
        ck_assert_int_eq(sbp_net_predict(net, NS, x, lab, NULL), SBP_OK);
        size_t s = sbp__spike_count(net, 1);
        if (v == 0)
            base_spikes = s;
        else
            ck_assert_uint_lt(s, base_spikes);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(allocation_failure_leaves_net_usable)
{
    sbp_dataset *ds = toy(11);
    for (long n = 0; n < 80; n += 3) {
        sbp_net *net = make_full(1);
        sbp_test_train_despite_alloc_failure(net, ds, n);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST


/* ---- sparse projections (layer.connectivity) ---------------------------- */

#define SALT_CONN 0x434F4E4Eull /* the engine's stream "CONN" + layer */

static unsigned char *conn_mask(uint64_t seed, size_t l, size_t count, double c)
{
    sbp__rng r;
    sbp__rng_init(&r, seed, SALT_CONN + l);
    int failed;
    unsigned char *m = sbp__spread_mask(&r, count, c, &failed);
    ck_assert(!failed);
    ck_assert_ptr_nonnull(m);
    return m;
}

static const size_t FULL4[] = {D, H, 12, K};
static const double CONN4[] = {1.0, 0.5, 0.6, 0.7};

/* Absent synapses hold exactly 0 through every rule that writes weights
 * (supervised STDP, spread with its own mask, pair STDP additive and
 * multiplicative, STP, homeostasis), and after the weights API wrote them. */
START_TEST(sparse_absent_synapses_stay_zero)
{
    sbp_dataset *ds = toy(12);
    sbp_net *net = make_full_c(2, CONN4);
    float *w0[4] = {NULL};
    for (size_t l = 1; l < 4; l++) w0[l] = weights(net, l, FULL4[l - 1] * FULL4[l]);
    double e;
    for (int i = 0; i < 3; i++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    for (size_t l = 1; l < 4; l++) {
        size_t count = FULL4[l - 1] * FULL4[l], present = 0, moved = 0;
        unsigned char *m = conn_mask(3, l, count, CONN4[l]);
        float *w = weights(net, l, count);
        for (size_t i = 0; i < count; i++) {
            if (!m[i]) {
                ck_assert_msg(w0[l][i] == 0.0f && w[i] == 0.0f, "layer %zu synapse %zu", l, i);
                ck_assert(!signbit(w[i]));
            } else {
                present++;
                ck_assert(w0[l][i] != 0.0f);
                moved += w[i] != w0[l][i];
            }
        }
        ck_assert_uint_gt(moved, present / 4); /* the present ones learn */
        free(w);
        free(w0[l]);
        sbp__free(m);
    }
    /* weights written through the API: the absent ones are zeroed at once */
    size_t count = D * H;
    float *ones = malloc(count * sizeof *ones);
    ck_assert_ptr_nonnull(ones);
    for (size_t i = 0; i < count; i++) ones[i] = 0.05f;
    ck_assert_int_eq(sbp_net_set_weights(net, 1, ones, count), SBP_OK);
    unsigned char *m = conn_mask(3, 1, count, CONN4[1]);
    float *w = weights(net, 1, count);
    for (size_t i = 0; i < count; i++) ck_assert(m[i] ? w[i] == 0.05f : w[i] == 0.0f);
    free(w);
    ck_assert_int_eq(sbp_net_set_weights(net, 1, ones, count), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    w = weights(net, 1, count);
    for (size_t i = 0; i < count; i++)
        if (!m[i]) ck_assert(w[i] == 0.0f);
    free(w);
    sbp__free(m);
    free(ones);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* The mask keeps about a fraction c of the synapses, exactly the ones the
 * seed's stream "CONN" + layer draws. */
START_TEST(sparse_density_is_near_c)
{
    static const size_t sizes[] = {100, 80, K};
    static const double conn[] = {1.0, 0.3, 1.0};
    sbp_net *net = make_c(sizes, 3, 1, 1, conn);
    float *w = weights(net, 1, 100 * 80);
    unsigned char *m = conn_mask(3, 1, 100 * 80, 0.3);
    size_t nz = 0;
    for (size_t i = 0; i < 100 * 80; i++) {
        nz += w[i] != 0.0f;
        ck_assert(m[i] ? w[i] != 0.0f : w[i] == 0.0f);
    }
    double frac = (double)nz / (100.0 * 80.0);
    ck_assert_double_lt(fabs(frac - 0.3), 0.05);
    /* the dense projection above is untouched */
    float *b = weights(net, 2, 80 * K);
    for (size_t i = 0; i < 80 * K; i++) ck_assert(b[i] != 0.0f);
    free(b);
    free(w);
    sbp__free(m);
    sbp_net_free(net);
}
END_TEST

/* A spike of a sparse row costs the row's present synapses, not n. */
START_TEST(sparse_cost_is_spikes_times_present_fan_out)
{
    static const size_t sizes[] = {D, H, 12, K};
    static const double conn[] = {1.0, 0.4, 1.0, 1.0};
    sbp_dataset *ds = toy(13);
    sbp_net *net = make_c(sizes, 4, 1, 2, conn);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_ENCODER, SBP_ENCODER_LATENCY), SBP_OK);
    float x[NS * D];
    int32_t lab[NS];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
    for (size_t i = 0; i < NS * D; i++)
        if (i % 7 == 0) x[i] = 0.0f;
    unsigned char *m = conn_mask(3, 1, D * H, 0.4);
    size_t row_nnz[D] = {0}, input_events = 0, positive = 0;
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < H; j++) row_nnz[i] += m[i * H + j];
    for (size_t s = 0; s < NS; s++)
        for (size_t i = 0; i < D; i++)
            if (x[s * D + i] > 0.0f) {
                input_events += row_nnz[i]; /* latency: one spike per positive feature */
                positive++;
            }
    ck_assert_uint_lt(input_events, positive * H);
    ck_assert_int_eq(sbp_net_predict(net, NS, x, lab, NULL), SBP_OK);
    ck_assert_uint_eq(sbp__spike_count(net, 0), positive);
    size_t expect = input_events;
    for (size_t l = 1; l + 1 < 4; l++) expect += sbp__spike_count(net, l) * sizes[l + 1];
    ck_assert_uint_eq(sbp__spike_events(net), expect);
    sbp__free(m);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* Sparse nets give the same bits on 1 and 2 threads; connectivity 1 is
 * exactly the dense net without the parameter. */
START_TEST(sparse_deterministic_and_dense_at_one)
{
    sbp_dataset *ds = toy(14);
    static const double ones[] = {1.0, 1.0, 1.0, 1.0};
    for (int variant = 0; variant < 2; variant++) {
        sbp_net *a = variant ? make_full_c(1, ones) : make_full_c(1, CONN4);
        sbp_net *b = variant ? make_full(2) : make_full_c(2, CONN4);
        double ea, eb;
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(sbp_net_train_epoch(a, ds, &ea), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(b, ds, &eb), SBP_OK);
            ck_assert(ea == eb);
        }
        same_weights(a, b, FULL4, 4);
        ck_assert_uint_eq(sbp__spike_events(a), sbp__spike_events(b));
        for (size_t l = 0; l < 4; l++)
            ck_assert_uint_eq(sbp__spike_count(a, l), sbp__spike_count(b, l));
        same_predictions(a, b, ds);
        sbp_net_free(a);
        sbp_net_free(b);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* The mask comes back from the seed and the saved parameter: a loaded net
 * predicts and trains on exactly as the original. */
START_TEST(sparse_save_load_round_trip)
{
    sbp_dataset *ds = toy(15);
    sbp_net *a = make_full_c(2, CONN4);
    double e;
    ck_assert_int_eq(sbp_net_train_epoch(a, ds, &e), SBP_OK);
    void *data;
    size_t size;
    ck_assert_int_eq(sbp_net_save_mem(a, &data, &size), SBP_OK);
    sbp_net *b;
    ck_assert_int_eq(sbp_net_load_mem(data, size, NULL, &b), SBP_OK);
    sbp_free(data);
    same_weights(a, b, FULL4, 4);
    same_predictions(a, b, ds);
    double ea, eb;
    ck_assert_int_eq(sbp_net_train_epoch(a, ds, &ea), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(b, ds, &eb), SBP_OK);
    ck_assert(ea == eb);
    same_weights(a, b, FULL4, 4);
    ck_assert_uint_eq(sbp__spike_events(a), sbp__spike_events(b));
    sbp_net_free(a);
    sbp_net_free(b);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(sparse_allocation_failure_leaves_net_usable)
{
    sbp_dataset *ds = toy(16);
    for (long n = 0; n < 90; n += 2) {
        sbp_net *net = make_full_c(1, CONN4);
        sbp_test_train_despite_alloc_failure(net, ds, n);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* Only the spike engine has sparse projections; and the input layer has no
 * projection into it. */
START_TEST(sparse_refused_elsewhere)
{
    static const sbp_engine engines[] = {SBP_ENGINE_RELAX, SBP_ENGINE_ANN, SBP_ENGINE_RBM,
                                         SBP_ENGINE_SPIKE};
    static const char *names[] = {"relax", "ann", "rbm", "input"};
    static const size_t sizes[] = {D, H, K};
    for (int v = 0; v < 4; v++) {
        sbp_net *net;
        if (sbp_net_create(engines[v], 1, &net) != SBP_OK) continue; /* not in this build */
        for (size_t i = 0; i < 3; i++) {
            sbp_layer *l;
            ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
            if (i == (v == 3 ? 0u : 1u))
                ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_CONNECTIVITY, 0.5), SBP_OK);
            ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
            sbp_layer_free(l);
        }
        float w[D * H];
        ck_assert_int_eq(sbp_net_get_weights(net, 1, w, D * H), SBP_E_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "connectivity"));
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), names[v]));
        sbp_net_free(net);
    }
    /* bounds: (0, 1] */
    sbp_layer *l;
    ck_assert_int_eq(sbp_layer_create(4, &l), SBP_OK);
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_CONNECTIVITY, 0.0), SBP_E_RANGE);
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_CONNECTIVITY, 1.5), SBP_E_RANGE);
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_CONNECTIVITY, 1.0), SBP_OK);
    sbp_layer_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spike");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, learns_a_toy_task);
    tcase_add_test(tc, deterministic_across_threads);
    tcase_add_test(tc, disabled_spread_leaves_hidden_weights_exactly);
    tcase_add_test(tc, spread_changes_only_masked_synapses);
    tcase_add_test(tc, prediction_disturbs_nothing);
    tcase_add_test(tc, misuse_is_refused_with_a_message);
    tcase_add_test(tc, cost_is_spikes_times_fan_out);
    tcase_add_test(tc, deeper_and_shallower_networks);
    tcase_add_test(tc, stdp_stp_and_homeostasis_act);
    tcase_add_test(tc, allocation_failure_leaves_net_usable);
    tcase_add_test(tc, sparse_absent_synapses_stay_zero);
    tcase_add_test(tc, sparse_density_is_near_c);
    tcase_add_test(tc, sparse_cost_is_spikes_times_present_fan_out);
    tcase_add_test(tc, sparse_deterministic_and_dense_at_one);
    tcase_add_test(tc, sparse_save_load_round_trip);
    tcase_add_test(tc, sparse_refused_elsewhere);
    tcase_add_test(tc, sparse_allocation_failure_leaves_net_usable);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
