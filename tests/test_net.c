/* The network handle: topology, parameters, rules and misuse. */
#include <string.h>

#include "net.h"
#include "testutil.h"

static sbp_net *net_with_layers(sbp_engine e, size_t a, size_t b, size_t c)
{
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(e, 1, &net), SBP_OK);
    size_t sizes[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        sbp_layer *l;
        ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l); /* the network copied it */
    }
    return net;
}

START_TEST(create_and_describe)
{
    sbp_net *net = net_with_layers(SBP_ENGINE_RELAX, 4, 3, 2);
    ck_assert_int_eq(sbp_net_get_engine(net), SBP_ENGINE_RELAX);
    ck_assert_uint_eq(sbp_net_layer_count(net), 3);
    ck_assert_uint_eq(sbp_net_layer_size(net, 1), 3);
    ck_assert_uint_eq(sbp_net_layer_size(net, 7), 0);
    ck_assert_str_eq(sbp_engine_name(SBP_ENGINE_RBM), "rbm");
    ck_assert_ptr_null(sbp_engine_name((sbp_engine)0));
    sbp_net_free(net);
    sbp_net_free(NULL);
    ck_assert_int_eq(sbp_net_create((sbp_engine)9, 1, &net), SBP_E_INVALID);
    ck_assert_ptr_null(net);
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_ANN, 1, NULL), SBP_E_INVALID);
}
END_TEST

START_TEST(params_follow_engine)
{
    sbp_net *relax = net_with_layers(SBP_ENGINE_RELAX, 4, 3, 2);
    sbp_net *ann = net_with_layers(SBP_ENGINE_ANN, 4, 3, 2);
    ck_assert_int_eq(sbp_net_set_real(relax, SBP_RELAX_BETA, 0.25), SBP_OK);
    double v;
    ck_assert_int_eq(sbp_net_get_real(relax, SBP_RELAX_BETA, &v), SBP_OK);
    ck_assert_double_eq(v, 0.25);
    ck_assert_int_eq(sbp_net_set_real(ann, SBP_RELAX_BETA, 0.25), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(ann), "'ann' network"));
    ck_assert_int_eq(sbp_net_set_int(ann, SBP_NET_BATCH_SIZE, 0), SBP_E_RANGE);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(ann), "net.batch_size"));
    ck_assert_int_eq(sbp_net_set_int(ann, SBP_NET_BATCH_SIZE, 20), SBP_OK);
    int64_t b;
    ck_assert_int_eq(sbp_net_get_int(ann, SBP_NET_BATCH_SIZE, &b), SBP_OK);
    ck_assert_int_eq(b, 20);
    ck_assert_int_eq(sbp_net_get_int(ann, SBP_NET_BATCH_SIZE, NULL), SBP_E_INVALID);
    sbp_net_free(relax);
    sbp_net_free(ann);
}
END_TEST

START_TEST(rules_attach_by_engine)
{
    sbp_net *net = net_with_layers(SBP_ENGINE_RELAX, 4, 3, 2);
    sbp_rule *spread;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_SBP_SPREAD, &spread), SBP_OK);
    sbp_status st = sbp_net_attach_rule(net, 1, spread);
    if (sbp_engine_available(SBP_ENGINE_RELAX)) {
        ck_assert_int_eq(st, SBP_OK);
        ck_assert_ptr_nonnull(sbp__net_rule(net, 1, SBP_RULE_SBP_SPREAD));
        ck_assert_int_eq(sbp_net_detach_rule(net, 1, SBP_RULE_SBP_SPREAD), SBP_OK);
        ck_assert_ptr_null(sbp__net_rule(net, 1, SBP_RULE_SBP_SPREAD));
    } else {
        ck_assert_int_eq(st, SBP_E_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "not available"));
    }
    ck_assert_int_eq(sbp_net_attach_rule(net, 0, spread), SBP_E_RANGE);
    ck_assert_int_eq(sbp_net_attach_rule(net, 3, spread), SBP_E_RANGE);
    ck_assert_int_eq(sbp_net_attach_rule(net, 1, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_detach_rule(net, 1, (sbp_rule_kind)42), SBP_E_INVALID);
    ck_assert_str_eq(sbp_rule_kind_name(SBP_RULE_SBP_SPREAD), "sbp_spread");
    ck_assert_str_eq(sbp_rule_kind_name(SBP_RULE_RBM_CD), "rbm_cd");
    ck_assert_ptr_null(sbp_rule_kind_name((sbp_rule_kind)0));
    ck_assert_ptr_null(sbp_rule_kind_name((sbp_rule_kind)42));
    ck_assert_ptr_null(sbp_rule_kind_name((sbp_rule_kind)-1));
    sbp_rule_free(spread);
    sbp_net_free(net);
}
END_TEST

/* What sbp_net_get_layer / sbp_net_get_rule / sbp_net_get_seed give back,
 * on a new network and on one read back from its model file. */
static void check_inspection(const sbp_net *net, uint64_t seed)
{
    uint64_t s = 0;
    ck_assert_int_eq(sbp_net_get_seed(net, &s), SBP_OK);
    ck_assert_uint_eq(s, seed);

    sbp_layer *l = NULL;
    double v = 0;
    ck_assert_int_eq(sbp_net_get_layer(net, 0, &l), SBP_OK);
    ck_assert_uint_eq(sbp_layer_size(l), 4);
    sbp_layer_free(l);
    ck_assert_int_eq(sbp_net_get_layer(net, 2, &l), SBP_OK);
    ck_assert_uint_eq(sbp_layer_size(l), 2);
    ck_assert_int_eq(sbp_layer_get_real(l, SBP_LAYER_LEARNING_RATE, &v), SBP_OK);
    ck_assert_double_eq(v, 0.0125);
    sbp_layer_free(l);
    ck_assert_int_eq(sbp_net_get_layer(net, 1, &l), SBP_OK);
    ck_assert_int_eq(sbp_layer_get_real(l, SBP_LAYER_LEARNING_RATE, &v), SBP_OK);
    ck_assert_msg(v != v, "layer 1's rate was never set: it reads as unset (NaN)");
    sbp_layer_free(l);

    sbp_rule *r = NULL;
    ck_assert_int_eq(sbp_net_get_rule(net, 2, SBP_RULE_SBP_SPREAD, &r), SBP_OK);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(sbp_rule_get_kind(r), SBP_RULE_SBP_SPREAD);
    ck_assert_int_eq(sbp_rule_get_real(r, SBP_SPREAD_LAMBDA_F, &v), SBP_OK);
    ck_assert_double_eq(v, 0.5);
    ck_assert_str_eq(sbp_rule_errmsg(r), "");
    sbp_rule_free(r);
    r = (sbp_rule *)(void *)&s; /* must be overwritten */
    ck_assert_int_eq(sbp_net_get_rule(net, 1, SBP_RULE_SBP_SPREAD, &r), SBP_OK);
    ck_assert_ptr_null(r); /* attached to layer 2 only */
}

START_TEST(inspect_layers_rules_and_seed)
{
    if (!sbp_engine_available(SBP_ENGINE_RELAX)) return;
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_RELAX, 0xFEEDFACECAFEULL, &net), SBP_OK);
    size_t sizes[3] = {4, 3, 2};
    for (int i = 0; i < 3; i++) {
        sbp_layer *l;
        ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
        if (i == 2) ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, 0.0125), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
    sbp_rule *spread;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_SBP_SPREAD, &spread), SBP_OK);
    ck_assert_int_eq(sbp_rule_set_real(spread, SBP_SPREAD_LAMBDA_F, 0.5), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, 2, spread), SBP_OK);
    sbp_rule_free(spread);
    check_inspection(net, 0xFEEDFACECAFEULL);

    /* copies: changing one leaves the network as it was */
    sbp_layer *l;
    ck_assert_int_eq(sbp_net_get_layer(net, 2, &l), SBP_OK);
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, 0.9), SBP_OK);
    sbp_layer_free(l);
    sbp_rule *r;
    ck_assert_int_eq(sbp_net_get_rule(net, 2, SBP_RULE_SBP_SPREAD, &r), SBP_OK);
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_LAMBDA_F, 0.1), SBP_OK);
    sbp_rule_free(r);
    check_inspection(net, 0xFEEDFACECAFEULL);

    /* the same after a trip through a model file, built or not */
    void *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(sbp_net_save_mem(net, &data, &size), SBP_OK);
    sbp_diag d;
    sbp_net *loaded = NULL;
    ck_assert_msg(sbp_net_load_mem(data, size, &d, &loaded) == SBP_OK, "%s", d.message);
    sbp_free(data);
    check_inspection(loaded, 0xFEEDFACECAFEULL);
    sbp_net_free(loaded);

    /* misuse: clear errors, outputs cleared, the network unchanged */
    ck_assert_int_eq(sbp_net_get_layer(net, 3, &l), SBP_E_RANGE);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "not in 0..2"));
    ck_assert_int_eq(sbp_net_get_layer(net, 1, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_rule(net, 0, SBP_RULE_SBP_SPREAD, &r), SBP_E_RANGE);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(sbp_net_get_rule(net, 3, SBP_RULE_SBP_SPREAD, &r), SBP_E_RANGE);
    ck_assert_int_eq(sbp_net_get_rule(net, 1, (sbp_rule_kind)42, &r), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "unknown rule kind 42"));
    ck_assert_int_eq(sbp_net_get_rule(net, 1, SBP_RULE_STP, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_seed(net, NULL), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_get_seed(NULL, NULL), SBP_E_INVALID);
    l = (sbp_layer *)(void *)&size;
    ck_assert_int_eq(sbp_net_get_layer(NULL, 0, &l), SBP_E_INVALID);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(sbp_layer_create(2, &l), SBP_OK);
    ck_assert_int_eq(sbp_net_get_rule((sbp_net *)(void *)l, 1, SBP_RULE_STP, &r), SBP_E_INVALID);
    ck_assert_ptr_null(r);
    sbp_layer_free(l);
    check_inspection(net, 0xFEEDFACECAFEULL);
    sbp_net_free(net);
}
END_TEST

START_TEST(training_checks_state_and_sizes)
{
    sbp_net *empty;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_RELAX, 1, &empty), SBP_OK);
    float x[8] = {0};
    int32_t lab[2] = {0, 1};
    sbp_dataset *ds;
    ck_assert_int_eq(sbp_dataset_create(2, 4, x, lab, 2, &ds), SBP_OK);
    sbp_status st = sbp_net_train_epoch(empty, ds, NULL);
    if (sbp_engine_available(SBP_ENGINE_RELAX)) {
        ck_assert_int_eq(st, SBP_E_STATE); /* no layers yet */
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(empty), "at least"));
    } else {
        ck_assert_int_eq(st, SBP_E_UNSUPPORTED);
    }
    sbp_net_free(empty);

    sbp_net *net = net_with_layers(SBP_ENGINE_RELAX, 5, 3, 2); /* input 5 != 4 features */
    st = sbp_net_train_epoch(net, ds, NULL);
    ck_assert_int_eq(st, sbp_engine_available(SBP_ENGINE_RELAX) ? SBP_E_MISMATCH
                                                                : SBP_E_UNSUPPORTED);
    ck_assert_int_eq(sbp_net_train_epoch(net, NULL, NULL),
                     sbp_engine_available(SBP_ENGINE_RELAX) ? SBP_E_INVALID : SBP_E_UNSUPPORTED);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(unavailable_engines_say_so)
{
    for (int e = SBP_ENGINE_RELAX; e <= SBP_ENGINE_RBM; e++) {
        if (sbp_engine_available((sbp_engine)e)) continue;
        sbp_net *net = net_with_layers((sbp_engine)e, 2, 2, 2);
        float w[4];
        ck_assert_int_eq(sbp_net_get_weights(net, 1, w, 4), SBP_E_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), sbp_engine_name((sbp_engine)e)));
        int32_t lab[1];
        ck_assert_int_eq(sbp_net_predict(net, 1, w, lab, NULL), SBP_E_UNSUPPORTED);
        sbp_net_free(net);
    }
}
END_TEST

START_TEST(wrong_handle_kind)
{
    sbp_layer *l;
    ck_assert_int_eq(sbp_layer_create(2, &l), SBP_OK);
    sbp_net *fake = (sbp_net *)(void *)l;
    ck_assert_int_eq(sbp_net_set_int(fake, SBP_NET_BATCH_SIZE, 2), SBP_E_INVALID);
    ck_assert_int_eq(sbp_net_add_layer(fake, l), SBP_E_INVALID);
    ck_assert_uint_eq(sbp_net_layer_count(fake), 0);
    ck_assert_str_eq(sbp_net_errmsg(fake), "not a network handle");
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_RELAX, 1, &net), SBP_OK);
    ck_assert_int_eq(sbp_net_add_layer(net, (sbp_layer *)(void *)net), SBP_E_INVALID);
    sbp_net_free(net);
    sbp_layer_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, create_and_describe);
    tcase_add_test(tc, params_follow_engine);
    tcase_add_test(tc, rules_attach_by_engine);
    tcase_add_test(tc, inspect_layers_rules_and_seed);
    tcase_add_test(tc, training_checks_state_and_sizes);
    tcase_add_test(tc, unavailable_engines_say_so);
    tcase_add_test(tc, wrong_handle_kind);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
