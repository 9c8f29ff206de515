/* Parameter table, typed setters with bounds, and the layer/rule handles. */
#include <math.h>
#include <string.h>

#include "objects.h"
#include "testutil.h"

START_TEST(table_is_consistent)
{
    size_t n = sbp__param_count();
    ck_assert_uint_gt(n, 40);
    for (size_t i = 0; i < n; i++) {
        const sbp__param_row *r = sbp__param_row_at(i);
        ck_assert_ptr_nonnull(r->desc.name);
        ck_assert(r->desc.min <= r->desc.max);
        if (!isnan(r->desc.default_value)) {
            ck_assert_msg(r->desc.default_value >= r->desc.min &&
                              r->desc.default_value <= r->desc.max,
                          "default of %s outside its bounds", r->desc.name);
            if (r->desc.type == SBP_PARAM_INT)
                ck_assert(r->desc.default_value == floor(r->desc.default_value));
        }
        /* names and ids are unique */
        for (size_t j = i + 1; j < n; j++) {
            const sbp__param_row *q = sbp__param_row_at(j);
            ck_assert_int_ne(r->id, q->id);
            ck_assert_str_ne(r->desc.name, q->desc.name);
        }
        sbp_param back;
        ck_assert_int_eq(sbp_param_by_name(r->desc.name, &back), SBP_OK);
        ck_assert_int_eq(back, r->id);
    }
}
END_TEST

START_TEST(param_info_paper_defaults)
{
    sbp_param_desc d;
    ck_assert_int_eq(sbp_param_info(SBP_RELAX_BETA, &d), SBP_OK);
    ck_assert_str_eq(d.name, "relax.beta");
    ck_assert_double_eq(d.default_value, 0.5);
    ck_assert_int_eq(sbp_param_info(SBP_RELAX_V_RESET, &d), SBP_OK);
    ck_assert_double_eq(d.default_value, -0.5);
    ck_assert_int_eq(sbp_param_info(SBP_SPREAD_FRACTION, &d), SBP_OK);
    ck_assert_double_eq(d.default_value, 0.2);
    ck_assert_int_eq(sbp_param_info(SBP_RELAX_FREE_ITERS, &d), SBP_OK);
    ck_assert_int_eq(d.type, SBP_PARAM_INT);
    ck_assert_double_eq(d.default_value, 20);
    ck_assert_int_eq(sbp_param_info((sbp_param)0x7777, &d), SBP_E_INVALID);
    ck_assert_int_eq(sbp_param_info(SBP_RELAX_BETA, NULL), SBP_E_INVALID);
    sbp_param p;
    ck_assert_int_eq(sbp_param_by_name("no.such", &p), SBP_E_INVALID);
    ck_assert_int_eq(sbp_param_by_name(NULL, &p), SBP_E_INVALID);
}
END_TEST

START_TEST(rule_setters_check_type_range_group)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_SBP_SPREAD, &r), SBP_OK);
    ck_assert_int_eq(sbp_rule_get_kind(r), SBP_RULE_SBP_SPREAD);
    double v;
    ck_assert_int_eq(sbp_rule_get_real(r, SBP_SPREAD_FRACTION, &v), SBP_OK);
    ck_assert_double_eq(v, 0.2);
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_FRACTION, 0.7), SBP_OK);
    ck_assert_int_eq(sbp_rule_get_real(r, SBP_SPREAD_FRACTION, &v), SBP_OK);
    ck_assert_double_eq(v, 0.7);
    /* out of range: refused, value unchanged, message names the parameter */
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_LAMBDA_P, 1.5), SBP_E_RANGE);
    ck_assert_ptr_nonnull(strstr(sbp_rule_errmsg(r), "spread.lambda_p"));
    ck_assert_int_eq(sbp_rule_get_real(r, SBP_SPREAD_LAMBDA_P, &v), SBP_OK);
    ck_assert_double_eq(v, 1.0);
    /* NaN refused */
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_FRACTION, NAN), SBP_E_NUMERIC);
    /* wrong type */
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_ENABLED, 1.0), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_rule_errmsg(r), "_int"));
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_ENABLED, 0), SBP_OK);
    int64_t iv;
    ck_assert_int_eq(sbp_rule_get_int(r, SBP_SPREAD_ENABLED, &iv), SBP_OK);
    ck_assert_int_eq(iv, 0);
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_ENABLED, 2), SBP_E_RANGE);
    /* parameter of another rule kind */
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_STDP_A_PLUS, 0.1), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(sbp_rule_errmsg(r), "does not apply"));
    sbp_rule_free(r);
    sbp_rule_free(NULL);
    ck_assert_int_eq(sbp_rule_create((sbp_rule_kind)99, &r), SBP_E_INVALID);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(layer_setters)
{
    sbp_layer *l;
    ck_assert_int_eq(sbp_layer_create(0, &l), SBP_E_RANGE);
    ck_assert_int_eq(sbp_layer_create((size_t)1 << 40, &l), SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp_layer_create(500, &l), SBP_OK);
    ck_assert_uint_eq(sbp_layer_size(l), 500);
    double v;
    ck_assert_int_eq(sbp_layer_get_real(l, SBP_LAYER_LEARNING_RATE, &v), SBP_OK);
    ck_assert(isnan(v)); /* engine chooses */
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, 0.05), SBP_OK);
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, -1), SBP_E_RANGE);
    ck_assert_int_eq(sbp_layer_set_int(l, SBP_LAYER_ACTIVATION, SBP_ACT_TANH), SBP_OK);
    ck_assert_int_eq(sbp_layer_set_int(l, SBP_LAYER_ACTIVATION, 77), SBP_E_RANGE);
    ck_assert_int_eq(sbp_layer_set_real(l, SBP_RELAX_BETA, 0.1), SBP_E_INVALID);
    sbp_layer_free(l);
}
END_TEST

START_TEST(wrong_handle_kinds_refused)
{
    sbp_rule *r;
    sbp_layer *l;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_STP, &r), SBP_OK);
    ck_assert_int_eq(sbp_layer_create(3, &l), SBP_OK);
    /* a rule passed where a layer is expected, and vice versa */
    ck_assert_int_eq(sbp_layer_set_real((sbp_layer *)(void *)r, SBP_LAYER_TAU_M, 1), SBP_E_INVALID);
    ck_assert_int_eq(sbp_rule_set_real((sbp_rule *)(void *)l, SBP_STP_U, 0.1), SBP_E_INVALID);
    ck_assert_uint_eq(sbp_layer_size(NULL), 0);
    ck_assert_str_eq(sbp_layer_errmsg(NULL), "not a layer handle");
    ck_assert_int_eq(sbp_rule_set_real(NULL, SBP_STP_U, 0.1), SBP_E_INVALID);
    sbp_rule_free(r);
    sbp_layer_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("params");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, table_is_consistent);
    tcase_add_test(tc, param_info_paper_defaults);
    tcase_add_test(tc, rule_setters_check_type_range_group);
    tcase_add_test(tc, layer_setters);
    tcase_add_test(tc, wrong_handle_kinds_refused);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
