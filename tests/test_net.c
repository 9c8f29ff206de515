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
    sbp_rule_free(spread);
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
    tcase_add_test(tc, training_checks_state_and_sizes);
    tcase_add_test(tc, unavailable_engines_say_so);
    tcase_add_test(tc, wrong_handle_kind);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
