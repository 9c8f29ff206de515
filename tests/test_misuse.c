/* Misuse of the public API is refused with a status, never a crash: NULL
 * handles and outputs, handles of the wrong kind, parameters out of range,
 * of the wrong type or owner, training before the layers exist, datasets
 * whose shape does not match the network, sizes beyond the limits, and an
 * allocation failure at every allocation of a small build + train of each
 * engine (SBP_E_NOMEM, after which the handle is usable and freeable).
 * Using a freed handle is undefined behaviour and not tested. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "sbp/sbp.h"
#include "testutil.h"

/* A request for terabytes must come back as NULL (SBP_E_NOMEM) under
 * AddressSanitizer too, as it does with the C library's malloc. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

#define D 8
#define K 3
#define NS 12

static sbp_dataset *toy(size_t d, size_t k)
{
    return sbp_test_prototypes(5, NS, d, k, d / k ? d / k : 1, 0.9f, 0.1f, 0.1f);
}

static sbp_layer *layer(size_t size)
{
    sbp_layer *l;
    ck_assert_int_eq(sbp_layer_create(size, &l), SBP_OK);
    return l;
}

static sbp_rule *rule(sbp_rule_kind kind)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(kind, &r), SBP_OK);
    return r;
}

static sbp_net *net_of(sbp_engine e, const size_t *sizes, size_t n)
{
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(e, 3, &net), SBP_OK);
    for (size_t i = 0; i < n; i++) {
        sbp_layer *l = layer(sizes[i]);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 4), SBP_OK);
    if (e == SBP_ENGINE_SPIKE) ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_STEPS, 5), SBP_OK);
    if (e == SBP_ENGINE_RELAX) {
        ck_assert_int_eq(sbp_net_set_int(net, SBP_RELAX_FREE_ITERS, 2), SBP_OK);
        ck_assert_int_eq(sbp_net_set_int(net, SBP_RELAX_NUDGE_ITERS, 1), SBP_OK);
        ck_assert_int_eq(sbp_net_set_real(net, SBP_RELAX_T, 1.0), SBP_OK);
    }
    return net;
}

/* ---- NULL handles and outputs --------------------------------------------- */

START_TEST(null_handles_everywhere)
{
    float f[4] = {0};
    int32_t lab[2] = {0, 0};
    int64_t iv;
    double dv;
    sbp_dataset *ds = (sbp_dataset *)(void *)f;
    sbp_net *net = (sbp_net *)(void *)f;
    sbp_layer *l = (sbp_layer *)(void *)f;
    sbp_rule *r = (sbp_rule *)(void *)f;

    /* constructors: NULL out pointer, and *out cleared on failure */
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_RELAX, 1, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_layer_create(3, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_STDP, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_create(1, 1, f, lab, 2, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_create(1, 1, NULL, lab, 2, &ds), SBP_E_INVALID);
    ck_assert_ptr_null(ds);
    ds = (sbp_dataset *)(void *)f;
    ck_assert_int_eq(sbp_dataset_create(1, 1, f, NULL, 2, &ds), SBP_E_INVALID);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(sbp_dataset_create_targets(1, 1, f, 1, f, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_create_targets(1, 1, f, 1, NULL, &ds), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_idx(NULL, "x", NULL, &ds), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_idx("x", NULL, NULL, &ds), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_idx("x", "y", NULL, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_mnist(NULL, SBP_MNIST_TRAIN, NULL, &ds), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_mnist("", SBP_MNIST_TRAIN, NULL, &ds), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_mnist(".", (sbp_mnist_part)7, NULL, &ds), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_load_mnist(".", SBP_MNIST_TEST, NULL, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_param_info(SBP_RELAX_BETA, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_param_by_name(NULL, (sbp_param *)(void *)&iv), SBP_E_INVALID);
    ck_assert_int_eq(sbp_param_by_name("relax.beta", NULL), SBP_E_INVALID);

    /* datasets */
    sbp_dataset_free(NULL);
    ck_assert_uint_eq(sbp_dataset_count(NULL), 0);
    ck_assert_uint_eq(sbp_dataset_features(NULL), 0);
    ck_assert_uint_eq(sbp_dataset_targets(NULL), 0);
    ck_assert_uint_eq(sbp_dataset_classes(NULL), 0);
    ck_assert_int_eq(sbp_dataset_sample(NULL, 0, f, f, lab), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_shuffle(NULL, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_reset_order(NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_dataset_batch(NULL, 0, 1, f, f, lab), SBP_E_INVALID);
    ds = (sbp_dataset *)(void *)f;
    ck_assert_int_eq(sbp_dataset_subset(NULL, 0, 1, &ds), SBP_E_INVALID);
    ck_assert_ptr_null(ds);
    sbp_dataset *tr = (sbp_dataset *)(void *)f, *va = (sbp_dataset *)(void *)f;
    ck_assert_int_eq(sbp_dataset_split(NULL, 1, 1, &tr, &va), SBP_E_INVALID);
    ck_assert_ptr_null(tr);
    ck_assert_ptr_null(va);
    ck_assert_int_eq(sbp_dataset_normalize(NULL), SBP_E_INVALID);
    ck_assert_str_eq(sbp_dataset_errmsg(NULL), "not a dataset handle");

    /* layers */
    sbp_layer_free(NULL);
    ck_assert_uint_eq(sbp_layer_size(NULL), 0);
    ck_assert_int_eq(sbp_layer_set_int(NULL, SBP_LAYER_T_REF, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_layer_set_real(NULL, SBP_LAYER_TAU_M, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_layer_get_int(NULL, SBP_LAYER_T_REF, &iv), SBP_E_INVALID);
    ck_assert_int_eq(sbp_layer_get_real(NULL, SBP_LAYER_TAU_M, &dv), SBP_E_INVALID);
    ck_assert_str_eq(sbp_layer_errmsg(NULL), "not a layer handle");

    /* rules */
    sbp_rule_free(NULL);
    ck_assert_int_eq(sbp_rule_get_kind(NULL), 0);
    ck_assert_int_eq(sbp_rule_set_int(NULL, SBP_CD_K, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_set_real(NULL, SBP_STDP_ETA, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_get_int(NULL, SBP_CD_K, &iv), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_get_real(NULL, SBP_STDP_ETA, &dv), SBP_E_INVALID);
    ck_assert_str_eq(sbp_rule_errmsg(NULL), "not a rule handle");

    /* networks */
    sbp_net_free(NULL);
    ck_assert_int_eq(sbp_net_get_engine(NULL), 0);
    l = layer(2);
    r = rule(SBP_RULE_SBP_SPREAD);
    ck_assert_int_eq(sbp_net_add_layer(NULL, l), SBP_E_INVALID);
    ck_assert_uint_eq(sbp_net_layer_count(NULL), 0);
    ck_assert_uint_eq(sbp_net_layer_size(NULL, 0), 0);
    ck_assert_int_eq(sbp_net_attach_rule(NULL, 1, r), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_detach_rule(NULL, 1, SBP_RULE_SBP_SPREAD), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_set_int(NULL, SBP_NET_BATCH_SIZE, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_set_real(NULL, SBP_RELAX_BETA, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_int(NULL, SBP_NET_BATCH_SIZE, &iv), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_real(NULL, SBP_RELAX_BETA, &dv), SBP_E_INVALID);
    uint64_t seed;
    sbp_layer *lout = l;
    sbp_rule *rout = r;
    ck_assert_int_eq(sbp_net_get_seed(NULL, &seed), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_layer(NULL, 0, &lout), SBP_E_INVALID);
    ck_assert_ptr_null(lout);
    ck_assert_int_eq(sbp_net_get_rule(NULL, 1, SBP_RULE_SBP_SPREAD, &rout), SBP_E_INVALID);
    ck_assert_ptr_null(rout);
    ck_assert_int_eq(sbp_net_set_progress(NULL, sbp_test_stop_at_20, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_train_epoch(NULL, NULL, &dv), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_evaluate(NULL, NULL, &dv), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_predict(NULL, 1, f, lab, f), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_weights(NULL, 1, f, 4), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_set_weights(NULL, 1, f, 4), SBP_E_INVALID);
    ck_assert_str_eq(sbp_net_errmsg(NULL), "not a network handle");

    /* model files */
    void *bytes = f;
    size_t nbytes = 7;
    ck_assert_int_eq(sbp_net_save(NULL, "x.sbpm"), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_save_mem(NULL, &bytes, &nbytes), SBP_E_INVALID);
    net = (sbp_net *)(void *)f;
    ck_assert_int_eq(sbp_net_load(NULL, NULL, &net), SBP_E_INVALID);
    ck_assert_ptr_null(net);
    ck_assert_int_eq(sbp_net_load("", NULL, &net), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load("x.sbpm", NULL, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load_mem(NULL, 10, NULL, &net), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_load_mem(f, sizeof f, NULL, NULL), SBP_E_INVALID);
    sbp_free(NULL);

    /* NULL arguments to a real network */
    static const size_t sizes[] = {D, 4, K};
    net = net_of(SBP_ENGINE_ANN, sizes, 3);
    ck_assert_int_eq(sbp_net_add_layer(net, NULL), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "not a layer handle"));
    ck_assert_int_eq(sbp_net_attach_rule(net, 1, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_int(net, SBP_NET_BATCH_SIZE, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_real(net, SBP_NET_BATCH_SIZE, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_seed(net, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_layer(net, 0, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_rule(net, 1, SBP_RULE_SBP_SPREAD, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_train_epoch(net, NULL, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_evaluate(net, NULL, &dv), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_predict(net, 1, NULL, lab, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_predict(net, 1, f, NULL, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_weights(net, 1, NULL, D * 4), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_set_weights(net, 1, NULL, D * 4), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_save(net, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_save(net, ""), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_save_mem(net, NULL, &nbytes), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_save_mem(net, &bytes, NULL), SBP_E_INVALID);
    /* a NULL progress callback is allowed: it removes the callback */
    ck_assert_int_eq(sbp_net_set_progress(net, NULL, NULL), SBP_OK);
    ck_assert_int_eq(sbp_layer_get_int(l, SBP_LAYER_T_REF, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_get_real(r, SBP_SPREAD_FRACTION, NULL), SBP_E_INVALID);
    sbp_net_free(net);
    sbp_layer_free(l);
    sbp_rule_free(r);
}
END_TEST

/* ---- handles of the wrong kind ---------------------------------------------- */

START_TEST(wrong_handle_kinds)
{
    static const size_t sizes[] = {D, 4, K};
    sbp_net *net = net_of(SBP_ENGINE_RELAX, sizes, 3);
    sbp_layer *l = layer(3);
    sbp_rule *r = rule(SBP_RULE_SBP_SPREAD);
    sbp_dataset *ds = toy(D, K);
    float f[64] = {0};
    int32_t lab[4];
    int64_t iv;
    double dv;
    void *others[3];

    /* everything that is not a network, passed as one */
    others[0] = l, others[1] = r, others[2] = ds;
    for (int i = 0; i < 3; i++) {
        sbp_net *bad = others[i];
        ck_assert_int_eq(sbp_net_get_engine(bad), 0);
        ck_assert_int_eq(sbp_net_add_layer(bad, l), SBP_E_INVALID);
        ck_assert_uint_eq(sbp_net_layer_count(bad), 0);
        ck_assert_uint_eq(sbp_net_layer_size(bad, 0), 0);
        ck_assert_int_eq(sbp_net_attach_rule(bad, 1, r), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_detach_rule(bad, 1, SBP_RULE_SBP_SPREAD), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_set_int(bad, SBP_NET_BATCH_SIZE, 2), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_set_real(bad, SBP_RELAX_BETA, 0.5), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_get_int(bad, SBP_NET_BATCH_SIZE, &iv), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_get_real(bad, SBP_RELAX_BETA, &dv), SBP_E_INVALID);
        uint64_t seed;
        sbp_layer *lout;
        sbp_rule *rout;
        ck_assert_int_eq(sbp_net_get_seed(bad, &seed), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_get_layer(bad, 0, &lout), SBP_E_INVALID);
        ck_assert_ptr_null(lout);
        ck_assert_int_eq(sbp_net_get_rule(bad, 1, SBP_RULE_SBP_SPREAD, &rout), SBP_E_INVALID);
        ck_assert_ptr_null(rout);
        ck_assert_int_eq(sbp_net_set_progress(bad, NULL, NULL), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_train_epoch(bad, ds, &dv), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_evaluate(bad, ds, &dv), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_predict(bad, 1, f, lab, NULL), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_get_weights(bad, 1, f, 32), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_set_weights(bad, 1, f, 32), SBP_E_INVALID);
        void *bytes = NULL;
        size_t nbytes = 0;
        ck_assert_int_eq(sbp_net_save_mem(bad, &bytes, &nbytes), SBP_E_INVALID);
        ck_assert_ptr_null(bytes);
        ck_assert_int_eq(sbp_net_save(bad, "never-written.sbpm"), SBP_E_INVALID);
        ck_assert_str_eq(sbp_net_errmsg(bad), "not a network handle");
        sbp_net_free(bad); /* refused: not freed (used again below) */
    }
    /* not a layer */
    others[0] = net, others[1] = r, others[2] = ds;
    for (int i = 0; i < 3; i++) {
        sbp_layer *bad = others[i];
        ck_assert_uint_eq(sbp_layer_size(bad), 0);
        ck_assert_int_eq(sbp_layer_set_int(bad, SBP_LAYER_T_REF, 1), SBP_E_INVALID);
        ck_assert_int_eq(sbp_layer_set_real(bad, SBP_LAYER_TAU_M, 1), SBP_E_INVALID);
        ck_assert_int_eq(sbp_layer_get_int(bad, SBP_LAYER_T_REF, &iv), SBP_E_INVALID);
        ck_assert_int_eq(sbp_layer_get_real(bad, SBP_LAYER_TAU_M, &dv), SBP_E_INVALID);
        ck_assert_str_eq(sbp_layer_errmsg(bad), "not a layer handle");
        sbp_layer_free(bad);
    }
    /* not a rule */
    others[0] = net, others[1] = l, others[2] = ds;
    for (int i = 0; i < 3; i++) {
        sbp_rule *bad = others[i];
        ck_assert_int_eq(sbp_rule_get_kind(bad), 0);
        ck_assert_int_eq(sbp_rule_set_int(bad, SBP_SPREAD_ENABLED, 1), SBP_E_INVALID);
        ck_assert_int_eq(sbp_rule_set_real(bad, SBP_SPREAD_FRACTION, 0.1), SBP_E_INVALID);
        ck_assert_int_eq(sbp_rule_get_int(bad, SBP_SPREAD_ENABLED, &iv), SBP_E_INVALID);
        ck_assert_int_eq(sbp_rule_get_real(bad, SBP_SPREAD_FRACTION, &dv), SBP_E_INVALID);
        ck_assert_str_eq(sbp_rule_errmsg(bad), "not a rule handle");
        sbp_rule_free(bad);
        ck_assert_int_eq(sbp_net_attach_rule(net, 1, bad), SBP_E_INVALID);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "not a rule handle"));
    }
    /* not a dataset */
    others[0] = net, others[1] = l, others[2] = r;
    for (int i = 0; i < 3; i++) {
        sbp_dataset *bad = others[i], *out = ds;
        ck_assert_uint_eq(sbp_dataset_count(bad), 0);
        ck_assert_uint_eq(sbp_dataset_features(bad), 0);
        ck_assert_uint_eq(sbp_dataset_targets(bad), 0);
        ck_assert_uint_eq(sbp_dataset_classes(bad), 0);
        ck_assert_int_eq(sbp_dataset_sample(bad, 0, f, NULL, NULL), SBP_E_INVALID);
        ck_assert_int_eq(sbp_dataset_shuffle(bad, 1), SBP_E_INVALID);
        ck_assert_int_eq(sbp_dataset_reset_order(bad), SBP_E_INVALID);
        ck_assert_int_eq(sbp_dataset_batch(bad, 0, 1, f, NULL, NULL), SBP_E_INVALID);
        ck_assert_int_eq(sbp_dataset_subset(bad, 0, 1, &out), SBP_E_INVALID);
        ck_assert_ptr_null(out);
        ck_assert_int_eq(sbp_dataset_split(bad, 1, 1, &out, NULL), SBP_E_INVALID);
        ck_assert_int_eq(sbp_dataset_normalize(bad), SBP_E_INVALID);
        ck_assert_str_eq(sbp_dataset_errmsg(bad), "not a dataset handle");
        sbp_dataset_free(bad);
        /* a network given a non-dataset refuses it without reading it */
        ck_assert_int_eq(sbp_net_train_epoch(net, bad, &dv), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_evaluate(net, bad, &dv), SBP_E_INVALID);
    }
    /* the real handles survived all of that */
    ck_assert_uint_eq(sbp_net_layer_count(net), 3);
    ck_assert_uint_eq(sbp_layer_size(l), 3);
    ck_assert_int_eq(sbp_rule_get_kind(r), SBP_RULE_SBP_SPREAD);
    ck_assert_uint_eq(sbp_dataset_count(ds), NS);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &dv), SBP_OK);
    sbp_net_free(net);
    sbp_layer_free(l);
    sbp_rule_free(r);
    sbp_dataset_free(ds);
}
END_TEST

/* ---- parameters ------------------------------------------------------------- */

START_TEST(parameters_out_of_range_wrong_type_wrong_owner)
{
    sbp_net *relax, *spike, *ann;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_RELAX, 1, &relax), SBP_OK);
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_ANN, 1, &ann), SBP_OK);
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_SPIKE, 1, &spike), SBP_OK);
    sbp_layer *l = layer(4);
    sbp_rule *stdp = rule(SBP_RULE_STDP), *spread = rule(SBP_RULE_SBP_SPREAD);
    double dv;
    int64_t iv;

    /* every parameter: bounds and one step beyond, non-finite values, the
     * wrong setter; refused values leave the stored value alone */
    for (unsigned id = 0; id < 0x1000; id++) {
        sbp_param_desc d;
        if (sbp_param_info((sbp_param)id, &d) != SBP_OK) continue;
        sbp_param p = (sbp_param)id;
        /* its owner: a handle that accepts it */
        sbp_net *net = NULL;
        sbp_rule *owner_rule = NULL;
        sbp_layer *owner_layer = NULL;
        unsigned group = id >> 8;
        sbp_rule *tmp = NULL;
        switch (group) {
        case 1: case 2: net = relax; break;
        case 3: net = spike; break;
        case 4: net = ann; break;
        case 5: owner_layer = l; break;
        case 6: owner_rule = spread; break;
        case 7: owner_rule = stdp; break;
        case 8: owner_rule = tmp = rule(SBP_RULE_STP); break;
        case 9: owner_rule = tmp = rule(SBP_RULE_HOMEOSTASIS); break;
        case 10: owner_rule = tmp = rule(SBP_RULE_RBM_CD); break;
        default: ck_abort_msg("parameter 0x%X in an unknown group", id);
        }
#define SETR(v) (net ? sbp_net_set_real(net, p, v) \
                     : owner_layer ? sbp_layer_set_real(owner_layer, p, v) \
                                   : sbp_rule_set_real(owner_rule, p, v))
#define SETI(v) (net ? sbp_net_set_int(net, p, v) \
                     : owner_layer ? sbp_layer_set_int(owner_layer, p, v) \
                                   : sbp_rule_set_int(owner_rule, p, v))
#define GETR(v) (net ? sbp_net_get_real(net, p, v) \
                     : owner_layer ? sbp_layer_get_real(owner_layer, p, v) \
                                   : sbp_rule_get_real(owner_rule, p, v))
        double before;
        ck_assert_int_eq(GETR(&before), SBP_OK);
        if (d.type == SBP_PARAM_REAL) {
            ck_assert_int_eq(SETR(nextafter(d.min, -INFINITY)), SBP_E_RANGE);
            ck_assert_int_eq(SETR(nextafter(d.max, INFINITY)), SBP_E_RANGE);
            ck_assert_int_eq(SETR(NAN), SBP_E_NUMERIC);
            ck_assert_int_eq(SETR(INFINITY), SBP_E_NUMERIC);
            ck_assert_int_eq(SETR(-INFINITY), SBP_E_NUMERIC);
            ck_assert_int_eq(SETI(1), SBP_E_INVALID); /* wrong setter */
            ck_assert_int_eq(net ? sbp_net_get_int(net, p, &iv)
                                 : owner_layer ? sbp_layer_get_int(owner_layer, p, &iv)
                                               : sbp_rule_get_int(owner_rule, p, &iv),
                             SBP_E_INVALID);
            ck_assert_int_eq(GETR(&dv), SBP_OK);
            ck_assert(dv == before || (isnan(dv) && isnan(before)));
            ck_assert_int_eq(SETR(d.min), SBP_OK);
            ck_assert_int_eq(SETR(d.max), SBP_OK);
            ck_assert_int_eq(GETR(&dv), SBP_OK);
            ck_assert(dv == d.max);
        } else {
            ck_assert_int_eq(SETI((int64_t)d.min - 1), SBP_E_RANGE);
            ck_assert_int_eq(SETI((int64_t)d.max + 1), SBP_E_RANGE);
            ck_assert_int_eq(SETI(INT64_MIN), SBP_E_RANGE);
            ck_assert_int_eq(SETI(INT64_MAX), SBP_E_RANGE);
            ck_assert_int_eq(SETR(d.min), SBP_E_INVALID); /* wrong setter */
            ck_assert_int_eq(GETR(&dv), SBP_OK);
            ck_assert(dv == before || (isnan(dv) && isnan(before)));
            /* the network's batch size is fixed once built: not here */
            ck_assert_int_eq(SETI((int64_t)d.max), SBP_OK);
            ck_assert_int_eq(SETI((int64_t)d.min), SBP_OK);
        }
#undef SETR
#undef SETI
#undef GETR
        sbp_rule_free(tmp);
    }

    /* wrong owner: each kind of handle refuses the others' parameters */
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_RELAX_BETA, 0.5), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_layer_errmsg(l), "relax.beta"));
    ck_assert_int_eq(sbp_layer_set_int(l, SBP_NET_BATCH_SIZE, 5), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_set_real(relax, SBP_LAYER_TAU_M, 5), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_set_real(relax, SBP_STDP_ETA, 0.1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_set_real(relax, SBP_SPIKE_DT, 0.5), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(relax), "'relax' network"));
    ck_assert_int_eq(sbp_net_set_real(spike, SBP_RELAX_BETA, 0.5), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_set_real(stdp, SBP_SPREAD_FRACTION, 0.5), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_rule_errmsg(stdp), "spread.fraction"));
    ck_assert_int_eq(sbp_rule_set_int(spread, SBP_CD_K, 2), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_get_real(spread, SBP_STDP_A_PLUS, &dv), SBP_E_INVALID);
    /* unknown parameter ids */
    sbp_param unknown[] = {(sbp_param)0, (sbp_param)0xFF, (sbp_param)0x1FF, (sbp_param)0xFFFF,
                           (sbp_param)-1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        ck_assert_int_eq(sbp_net_set_int(relax, unknown[i], 1), SBP_E_INVALID);
        ck_assert_int_eq(sbp_net_get_real(relax, unknown[i], &dv), SBP_E_INVALID);
        ck_assert_int_eq(sbp_layer_set_real(l, unknown[i], 1), SBP_E_INVALID);
        ck_assert_int_eq(sbp_rule_get_int(stdp, unknown[i], &iv), SBP_E_INVALID);
        sbp_param_desc d;
        ck_assert_int_eq(sbp_param_info(unknown[i], &d), SBP_E_INVALID);
    }
    ck_assert_ptr_nonnull(strstr(sbp_rule_errmsg(stdp), "unknown parameter"));
    sbp_param p;
    ck_assert_int_eq(sbp_param_by_name("relax.nope", &p), SBP_E_INVALID);
    ck_assert_int_eq(sbp_param_by_name("", &p), SBP_E_INVALID);
    /* unknown kinds and engines */
    sbp_rule *r = (sbp_rule *)(void *)l;
    ck_assert_int_eq(sbp_rule_create((sbp_rule_kind)0, &r), SBP_E_INVALID);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(sbp_rule_create((sbp_rule_kind)7, &r), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_create((sbp_rule_kind)-1, &r), SBP_E_INVALID);
    sbp_net *n2 = relax;
    ck_assert_int_eq(sbp_net_create((sbp_engine)0, 1, &n2), SBP_E_INVALID);
    ck_assert_ptr_null(n2);
    ck_assert_int_eq(sbp_net_create((sbp_engine)-3, 1, &n2), SBP_E_INVALID);
    ck_assert_ptr_null(sbp_engine_name((sbp_engine)99));
    ck_assert_int_eq(sbp_engine_available((sbp_engine)99), 0);
    ck_assert_str_eq(sbp_status_str((sbp_status)999), "unknown status");
    ck_assert_ptr_null(sbp_status_name((sbp_status)-1));

    sbp_net_free(relax);
    sbp_net_free(spike);
    sbp_net_free(ann);
    sbp_layer_free(l);
    sbp_rule_free(stdp);
    sbp_rule_free(spread);
}
END_TEST

/* ---- state and shapes --------------------------------------------------------- */

START_TEST(training_before_layers_and_with_one_layer)
{
    sbp_dataset *ds = toy(D, K);
    float x[D] = {0}, w[D * K];
    int32_t lab[1];
    double e = -1;
    for (int eng = SBP_ENGINE_RELAX; eng <= SBP_ENGINE_RBM; eng++) {
        sbp_net *net;
        e = -1;
        ck_assert_int_eq(sbp_net_create((sbp_engine)eng, 1, &net), SBP_OK);
        /* no layers at all */
        ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_STATE);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "at least"));
        ck_assert_double_eq(e, -1); /* output untouched on failure */
        ck_assert_int_eq(sbp_net_evaluate(net, ds, &e), SBP_E_STATE);
        ck_assert_int_eq(sbp_net_predict(net, 1, x, lab, NULL), SBP_E_STATE);
        ck_assert_int_eq(sbp_net_get_weights(net, 1, w, D * K), SBP_E_RANGE);
        ck_assert_int_eq(sbp_net_get_weights(net, 0, w, D * K), SBP_E_RANGE);
        sbp_rule *r = rule(SBP_RULE_SBP_SPREAD);
        ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_E_RANGE);
        ck_assert_int_eq(sbp_net_attach_rule(net, 0, r), SBP_E_RANGE);
        ck_assert_int_eq(sbp_net_detach_rule(net, 1, SBP_RULE_SBP_SPREAD), SBP_E_RANGE);
        /* one layer: still not a network */
        sbp_layer *l = layer(D);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_STATE);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "has 1"));
        ck_assert_int_eq(sbp_net_predict(net, 1, x, lab, NULL), SBP_E_STATE);
        ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_E_RANGE);
        /* the input layer takes no rules */
        sbp_layer_free(l);
        l = layer(K);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        ck_assert_int_eq(sbp_net_attach_rule(net, 0, r), SBP_E_RANGE);
        /* now it trains, and the topology is frozen */
        ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 4), SBP_OK);
        if (eng == SBP_ENGINE_SPIKE) ck_assert_int_eq(sbp_net_set_int(net, SBP_SPIKE_STEPS, 5), SBP_OK);
        if (eng == SBP_ENGINE_RELAX) ck_assert_int_eq(sbp_net_set_real(net, SBP_RELAX_T, 1), SBP_OK);
        if (eng == SBP_ENGINE_RBM) {
            sbp_rule *cd = rule(SBP_RULE_RBM_CD);
            ck_assert_int_eq(sbp_net_attach_rule(net, 1, cd), SBP_OK);
            sbp_rule_free(cd);
        }
        ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_E_STATE);
        ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_E_STATE);
        ck_assert_int_eq(sbp_net_detach_rule(net, 1, SBP_RULE_SBP_SPREAD), SBP_E_STATE);
        ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 5), SBP_E_STATE);
        ck_assert_uint_eq(sbp_net_layer_count(net), 2);
        sbp_layer_free(l);
        sbp_rule_free(r);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(datasets_that_do_not_fit_the_network)
{
    static const size_t sizes[] = {D, 5, K};
    sbp_dataset *wrong_d = toy(D + 1, K), *wrong_k = toy(D, K + 1), *good = toy(D, K);
    float x[2 * D] = {0}, w[D * 5], big[(D + 1) * 5];
    int32_t lab[2];
    double e = -1;
    for (int eng = SBP_ENGINE_RELAX; eng <= SBP_ENGINE_RBM; eng++) {
        sbp_net *net = net_of((sbp_engine)eng, sizes, 3);
        e = -1;
        ck_assert_int_eq(sbp_net_train_epoch(net, wrong_d, &e), SBP_E_MISMATCH);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "features"));
        ck_assert_int_eq(sbp_net_evaluate(net, wrong_d, &e), SBP_E_MISMATCH);
        ck_assert_int_eq(sbp_net_train_epoch(net, wrong_k, &e), SBP_E_MISMATCH);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "targets"));
        ck_assert_int_eq(sbp_net_evaluate(net, wrong_k, &e), SBP_E_MISMATCH);
        ck_assert_double_eq(e, -1);
        /* weight buffers of the wrong size */
        ck_assert_int_eq(sbp_net_get_weights(net, 1, w, D * 5 - 1), SBP_E_MISMATCH);
        ck_assert_int_eq(sbp_net_set_weights(net, 1, big, (D + 1) * 5), SBP_E_MISMATCH);
        ck_assert_int_eq(sbp_net_get_weights(net, 3, w, D * 5), SBP_E_RANGE);
        ck_assert_int_eq(sbp_net_get_weights(net, (size_t)-1, w, D * 5), SBP_E_RANGE);
        /* non-finite weights are refused and change nothing */
        ck_assert_int_eq(sbp_net_get_weights(net, 1, w, D * 5), SBP_OK);
        float bad[D * 5];
        memcpy(bad, w, sizeof bad);
        bad[7] = NAN;
        ck_assert_int_eq(sbp_net_set_weights(net, 1, bad, D * 5), SBP_E_NUMERIC);
        bad[7] = INFINITY;
        ck_assert_int_eq(sbp_net_set_weights(net, 1, bad, D * 5), SBP_E_NUMERIC);
        float again[D * 5];
        ck_assert_int_eq(sbp_net_get_weights(net, 1, again, D * 5), SBP_OK);
        ck_assert_int_eq(memcmp(again, w, sizeof w), 0);
        /* the network is still fine with data that fits */
        ck_assert_int_eq(sbp_net_train_epoch(net, good, &e), SBP_OK);
        ck_assert_int_eq(sbp_net_predict(net, 2, x, lab, NULL), SBP_OK);
        ck_assert_int_eq(sbp_net_predict(net, 0, x, lab, NULL), SBP_OK);
        sbp_net_free(net);
    }
    sbp_dataset_free(wrong_d);
    sbp_dataset_free(wrong_k);
    sbp_dataset_free(good);

    /* dataset calls with positions past the end */
    sbp_dataset *ds = toy(D, K), *out = NULL;
    float row[D];
    ck_assert_int_eq(sbp_dataset_sample(ds, NS, row, NULL, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_batch(ds, NS, 1, row, NULL, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_batch(ds, 1, SIZE_MAX, NULL, NULL, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_subset(ds, SIZE_MAX, 2, &out), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_subset(ds, 0, 0, &out), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_split(ds, 0, 1, &out, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_split(ds, NS, 1, &out, NULL), SBP_E_RANGE);
    ck_assert_ptr_null(out);
    sbp_dataset_free(ds);
}
END_TEST

/* ---- sizes beyond the limits ----------------------------------------------------- */

START_TEST(huge_sizes_are_refused)
{
    sbp_layer *l = (sbp_layer *)(void *)&l;
    ck_assert_int_eq(sbp_layer_create(0, &l), SBP_E_RANGE);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(sbp_layer_create(((size_t)1 << 28) + 1, &l), SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_layer_create(SIZE_MAX, &l), SBP_E_TOO_LARGE);
    ck_assert_ptr_null(l);

    /* more synapses than one projection may have: refused before the
     * weights are allocated, for every engine */
    static const size_t wide[][3] = {
        {(size_t)1 << 28, (size_t)1 << 28, 2}, /* 2^56 synapses */
        {(size_t)1 << 28, 32, 2},              /* 2^33 */
        {2, 32, (size_t)1 << 28},              /* 2^33 in the second projection */
    };
    for (int eng = SBP_ENGINE_RELAX; eng <= SBP_ENGINE_RBM; eng++) {
        for (size_t c = 0; c < 3; c++) {
            sbp_net *net;
            ck_assert_int_eq(sbp_net_create((sbp_engine)eng, 1, &net), SBP_OK);
            for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(sbp_layer_create(wide[c][i], &l), SBP_OK);
                ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
                sbp_layer_free(l);
            }
            float w[1];
            ck_assert_int_eq(sbp_net_get_weights(net, 1, w, 1), SBP_E_TOO_LARGE);
            ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "too many synapses"));
            int32_t lab[1];
            ck_assert_int_eq(sbp_net_predict(net, 1, w, lab, NULL), SBP_E_TOO_LARGE);
            sbp_net_free(net);
        }
    }

    /* engine buffers of batch x layer size that no machine has: SBP_E_NOMEM
     * (or a refusal), never a crash, and the network stays usable */
    for (int eng = SBP_ENGINE_RELAX; eng <= SBP_ENGINE_RBM; eng++) {
        static const size_t sizes[] = {(size_t)1 << 20, 2, 2};
        sbp_net *net;
        ck_assert_int_eq(sbp_net_create((sbp_engine)eng, 1, &net), SBP_OK);
        for (int i = 0; i < 3; i++) {
            ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
            ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
            sbp_layer_free(l);
        }
        ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 1000000), SBP_OK);
        float w[4];
        sbp_status st = sbp_net_get_weights(net, 2, w, 4);
        ck_assert_msg(st == SBP_E_NOMEM || st == SBP_E_TOO_LARGE, "engine %d: %s (%s)", eng,
                      sbp_status_name(st), sbp_net_errmsg(net));
        ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, 1), SBP_OK);
        ck_assert_int_eq(sbp_net_get_weights(net, 2, w, 4), SBP_OK);
        sbp_net_free(net);
    }

    /* at most 64 layers */
    sbp_net *deep;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_ANN, 1, &deep), SBP_OK);
    ck_assert_int_eq(sbp_layer_create(1, &l), SBP_OK);
    for (int i = 0; i < 64; i++) ck_assert_int_eq(sbp_net_add_layer(deep, l), SBP_OK);
    ck_assert_int_eq(sbp_net_add_layer(deep, l), SBP_E_TOO_LARGE);
    ck_assert_uint_eq(sbp_net_layer_count(deep), 64);
    sbp_layer_free(l);
    sbp_net_free(deep);

    /* datasets beyond the sample / feature / target limits, refused before
     * the (small) buffers are read */
    float x[4] = {0};
    int32_t lab[4] = {0};
    sbp_dataset *ds = (sbp_dataset *)(void *)x;
    ck_assert_int_eq(sbp_dataset_create(((size_t)1 << 31) + 1, 1, x, lab, 2, &ds),
                     SBP_E_TOO_LARGE);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(sbp_dataset_create(1, ((size_t)1 << 24) + 1, x, lab, 2, &ds),
                     SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_dataset_create(1, 1, x, lab, ((size_t)1 << 16) + 1, &ds),
                     SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_dataset_create(SIZE_MAX, SIZE_MAX, x, lab, 2, &ds), SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_dataset_create(((size_t)1 << 31), (size_t)1 << 24, x, lab, 2, &ds),
                     SBP_E_TOO_LARGE); /* each within its limit, the product not */
    ck_assert_int_eq(sbp_dataset_create_targets(SIZE_MAX, 1, x, 1, x, &ds), SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_dataset_create_targets(1, 1, x, SIZE_MAX, x, &ds), SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_dataset_create(0, 1, x, lab, 2, &ds), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_create(1, 0, x, lab, 2, &ds), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_create(1, 1, x, lab, 0, &ds), SBP_E_RANGE);
    ck_assert_ptr_null(ds);
}
END_TEST

/* ---- allocation failure at every step ------------------------------------------------ */

#define TRY(expr)                                \
    do {                                         \
        sbp_status try_st_ = (expr);             \
        if (try_st_ != SBP_OK) return try_st_;   \
    } while (0)

static sbp_status add(sbp_net *net, size_t size, int act)
{
    sbp_layer *l;
    TRY(sbp_layer_create(size, &l));
    sbp_status st = act ? sbp_layer_set_int(l, SBP_LAYER_ACTIVATION, act) : SBP_OK;
    if (st == SBP_OK) st = sbp_net_add_layer(net, l);
    sbp_layer_free(l);
    return st;
}

static sbp_status with_rule(sbp_net *net, size_t layer_index, sbp_rule_kind kind, sbp_param p,
                            int64_t v)
{
    sbp_rule *r;
    TRY(sbp_rule_create(kind, &r));
    sbp_status st = p ? sbp_rule_set_int(r, p, v) : SBP_OK;
    if (st == SBP_OK) st = sbp_net_attach_rule(net, layer_index, r);
    sbp_rule_free(r);
    return st;
}

/* Builds a small network of the engine with its optional mechanisms on.
 * *net is set as soon as it exists. Returns the first failure. */
static sbp_status construct(sbp_engine e, sbp_net **net)
{
    *net = NULL;
    TRY(sbp_net_create(e, 11, net));
    sbp_net *n = *net;
    TRY(sbp_net_set_int(n, SBP_NET_BATCH_SIZE, 5));
    TRY(sbp_net_set_int(n, SBP_NET_THREADS, 2));
    switch (e) {
    case SBP_ENGINE_RELAX:
        TRY(add(n, D, 0));
        TRY(add(n, 6, 0));
        TRY(add(n, K, 0));
        TRY(sbp_net_set_real(n, SBP_RELAX_T, 1.0));
        TRY(sbp_net_set_int(n, SBP_RELAX_FREE_ITERS, 3));
        TRY(sbp_net_set_int(n, SBP_RELAX_NUDGE_ITERS, 2));
        TRY(with_rule(n, 1, SBP_RULE_SBP_SPREAD, 0, 0));
        TRY(with_rule(n, 2, SBP_RULE_SBP_SPREAD, 0, 0));
        TRY(with_rule(n, 1, SBP_RULE_STP, 0, 0));
        break;
    case SBP_ENGINE_SPIKE:
        TRY(add(n, D, 0));
        TRY(add(n, 6, 0));
        TRY(add(n, 5, 0));
        TRY(add(n, K, 0));
        TRY(sbp_net_set_int(n, SBP_SPIKE_STEPS, 8));
        TRY(with_rule(n, 3, SBP_RULE_SUPERVISED_STDP, 0, 0));
        for (size_t l = 1; l < 4; l++) {
            TRY(with_rule(n, l, SBP_RULE_SBP_SPREAD, SBP_SPREAD_RETRO_WEIGHT, SBP_RETRO_RANDOM));
            TRY(with_rule(n, l, SBP_RULE_STP, 0, 0));
            TRY(with_rule(n, l, SBP_RULE_HOMEOSTASIS, 0, 0));
        }
        TRY(with_rule(n, 1, SBP_RULE_STDP, 0, 0));
        break;
    case SBP_ENGINE_ANN:
        TRY(add(n, D, 0));
        TRY(add(n, 6, SBP_ACT_TANH));
        TRY(add(n, 5, SBP_ACT_RELU));
        TRY(add(n, K, 0));
        TRY(sbp_net_set_int(n, SBP_ANN_OPTIMIZER, SBP_OPT_ADAM));
        TRY(sbp_net_set_int(n, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_MIXED));
        TRY(with_rule(n, 1, SBP_RULE_SBP_SPREAD, 0, 0));
        TRY(with_rule(n, 2, SBP_RULE_SBP_SPREAD, SBP_SPREAD_FORM, SBP_SPREAD_FEEDBACK));
        break;
    case SBP_ENGINE_RBM:
        TRY(add(n, D, 0));
        TRY(add(n, 6, 0));
        TRY(add(n, K, 0));
        TRY(with_rule(n, 1, SBP_RULE_RBM_CD, SBP_CD_PERSISTENT, 1));
        TRY(with_rule(n, 2, SBP_RULE_SBP_SPREAD, 0, 0));
        break;
    }
    return SBP_OK;
}

/* Trains, evaluates, predicts, saves and loads: the work after
 * construction. */
static sbp_status work(sbp_net *net, const sbp_dataset *ds)
{
    double e;
    float x[2 * D];
    int32_t lab[2];
    float out[2 * K];
    TRY(sbp_net_train_epoch(net, ds, &e));
    TRY(sbp_net_evaluate(net, ds, &e));
    TRY(sbp_dataset_batch(ds, 0, 2, x, NULL, NULL));
    TRY(sbp_net_predict(net, 2, x, lab, out));
    void *bytes = NULL;
    size_t n = 0;
    TRY(sbp_net_save_mem(net, &bytes, &n));
    sbp_net *copy = NULL;
    sbp_diag diag;
    sbp_status st = sbp_net_load_mem(bytes, n, &diag, &copy);
    sbp_free(bytes);
    if (st != SBP_OK) {
        ck_assert_ptr_null(copy);
        ck_assert_int_eq(diag.status, st);
        return st;
    }
    st = sbp_net_predict(copy, 2, x, lab, out);
    sbp_net_free(copy);
    return st;
}

static void fail_each_allocation(sbp_engine e)
{
    sbp_dataset *ds = toy(D, K);
    long n = 0;
    int clean_runs = 0;
    for (; n < 5000 && clean_runs < 10; n++) {
        sbp_net *net = NULL;
        sbp__alloc_fail_after(n);
        sbp_status st = construct(e, &net);
        int built = st == SBP_OK;
        if (built) st = work(net, ds);
        sbp__alloc_fail_after(-1);
        ck_assert_msg(st == SBP_OK || st == SBP_E_NOMEM, "engine %s, allocation %ld: %s (%s)",
                      sbp_engine_name(e), n, sbp_status_name(st),
                      net ? sbp_net_errmsg(net) : "no network");
        clean_runs = st == SBP_OK ? clean_runs + 1 : 0;
        if (st == SBP_E_NOMEM && net) {
            ck_assert_ptr_nonnull(sbp_net_errmsg(net));
            /* usable: finish what failed, then train and predict */
            if (!built) {
                sbp_net_free(net);
                ck_assert_int_eq(construct(e, &net), SBP_OK);
            }
            ck_assert_msg(work(net, ds) == SBP_OK, "engine %s after failing allocation %ld: %s",
                          sbp_engine_name(e), n, sbp_net_errmsg(net));
        }
        sbp_net_free(net);
    }
    ck_assert_msg(clean_runs >= 10, "engine %s: still failing after %ld allocations",
                  sbp_engine_name(e), n);
    if (getenv("SBP_TEST_VERBOSE"))
        printf("%s: failed each of the first %ld allocations\n", sbp_engine_name(e), n - 10);
    sbp_dataset_free(ds);
}

START_TEST(allocation_failure_relax)
{
    fail_each_allocation(SBP_ENGINE_RELAX);
}
END_TEST

START_TEST(allocation_failure_spike)
{
    fail_each_allocation(SBP_ENGINE_SPIKE);
}
END_TEST

START_TEST(allocation_failure_ann)
{
    fail_each_allocation(SBP_ENGINE_ANN);
}
END_TEST

START_TEST(allocation_failure_rbm)
{
    fail_each_allocation(SBP_ENGINE_RBM);
}
END_TEST

START_TEST(allocation_failure_datasets)
{
    float x[NS * D];
    int32_t lab[NS];
    for (int i = 0; i < NS * D; i++) x[i] = (float)(i % 7);
    for (int i = 0; i < NS; i++) lab[i] = i % K;
    int clean = 0;
    for (long n = 0; n < 200 && clean < 5; n++) {
        sbp_dataset *ds = NULL, *sub = NULL, *tr = NULL, *va = NULL;
        sbp__alloc_fail_after(n);
        sbp_status st = sbp_dataset_create(NS, D, x, lab, K, &ds);
        int step = 0;
        if (st == SBP_OK) step = 1, st = sbp_dataset_subset(ds, 2, 5, &sub);
        if (st == SBP_OK) step = 2, st = sbp_dataset_split(ds, 4, 9, &tr, &va);
        sbp__alloc_fail_after(-1);
        ck_assert(st == SBP_OK || st == SBP_E_NOMEM);
        clean = st == SBP_OK ? clean + 1 : 0;
        if (st == SBP_E_NOMEM) {
            /* no half-made outputs */
            if (step == 0) ck_assert_ptr_null(ds);
            if (step == 1) ck_assert_ptr_null(sub);
            if (step == 2) ck_assert(tr == NULL && va == NULL);
        }
        if (st == SBP_E_NOMEM && ds) {
            /* the source is unchanged and usable */
            ck_assert_uint_eq(sbp_dataset_count(ds), NS);
            ck_assert_int_eq(sbp_dataset_split(ds, 4, 9, &tr, &va), SBP_OK);
            ck_assert_uint_eq(sbp_dataset_count(va), 4);
        }
        sbp_dataset_free(ds);
        sbp_dataset_free(sub);
        sbp_dataset_free(tr);
        sbp_dataset_free(va);
    }
    ck_assert_int_ge(clean, 5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("misuse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, null_handles_everywhere);
    tcase_add_test(tc, wrong_handle_kinds);
    tcase_add_test(tc, parameters_out_of_range_wrong_type_wrong_owner);
    tcase_add_test(tc, training_before_layers_and_with_one_layer);
    tcase_add_test(tc, datasets_that_do_not_fit_the_network);
    tcase_add_test(tc, huge_sizes_are_refused);
    tcase_add_test(tc, allocation_failure_relax);
    tcase_add_test(tc, allocation_failure_spike);
    tcase_add_test(tc, allocation_failure_ann);
    tcase_add_test(tc, allocation_failure_rbm);
    tcase_add_test(tc, allocation_failure_datasets);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
