/* Datasets from memory: shape, batches, shuffle, split, subset, normalize. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "data/dataset.h"
#include "testutil.h"

static sbp_dataset *make(size_t n, size_t d, size_t classes)
{
    float x[1000];
    int32_t lab[100];
    for (size_t i = 0; i < n * d; i++) x[i] = (float)i;
    for (size_t i = 0; i < n; i++) lab[i] = (int32_t)(i % classes);
    sbp_dataset *ds;
    ck_assert_int_eq(sbp_dataset_create(n, d, x, lab, classes, &ds), SBP_OK);
    return ds;
}

START_TEST(create_copies_and_reports_shape)
{
    sbp_dataset *ds = make(10, 3, 4);
    ck_assert_uint_eq(sbp_dataset_count(ds), 10);
    ck_assert_uint_eq(sbp_dataset_features(ds), 3);
    ck_assert_uint_eq(sbp_dataset_targets(ds), 4);
    ck_assert_uint_eq(sbp_dataset_classes(ds), 4);
    float x[3], t[4];
    int32_t lab;
    ck_assert_int_eq(sbp_dataset_sample(ds, 5, x, t, &lab), SBP_OK);
    ck_assert_float_eq(x[0], 15.0f);
    ck_assert_int_eq(lab, 1);
    ck_assert_float_eq(t[1], 1.0f);
    ck_assert_float_eq(t[0] + t[2] + t[3], 0.0f);
    ck_assert_int_eq(sbp_dataset_sample(ds, 10, x, t, &lab), SBP_E_RANGE);
    ck_assert_ptr_nonnull(strstr(sbp_dataset_errmsg(ds), "past the end"));
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(create_refuses_bad_input)
{
    float x[4] = {0, 1, 2, NAN};
    int32_t lab[2] = {0, 3};
    sbp_dataset *ds = (sbp_dataset *)1;
    ck_assert_int_eq(sbp_dataset_create(2, 2, x, lab, 3, &ds), SBP_E_RANGE); /* label 3 of 3 */
    ck_assert_ptr_null(ds);
    lab[1] = 1;
    ck_assert_int_eq(sbp_dataset_create(2, 2, x, lab, 3, &ds), SBP_E_NUMERIC);
    ck_assert_int_eq(sbp_dataset_create(0, 2, x, lab, 3, &ds), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_create(2, 2, NULL, lab, 3, &ds), SBP_E_INVALID);
    /* sizes beyond the limits are refused before anything is allocated */
    ck_assert_int_eq(sbp__dataset_new((size_t)1 << 40, 2, 2, &ds), SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp__dataset_new(2, (size_t)1 << 30, 2, &ds), SBP_E_TOO_LARGE);
    ck_assert_int_eq(sbp__dataset_new((size_t)1 << 30, (size_t)1 << 20, 2, &ds), SBP_E_TOO_LARGE);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(sbp_dataset_create(2, 2, x, lab, 3, NULL), SBP_E_INVALID);
}
END_TEST

START_TEST(multi_hot_targets)
{
    float x[6] = {0, 1, 2, 3, 4, 5};
    float t[9] = {1, 0, 1, 0, 1, 0, 0, 0, 0};
    sbp_dataset *ds;
    ck_assert_int_eq(sbp_dataset_create_targets(3, 2, x, 3, t, &ds), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_classes(ds), 0);
    int32_t lab[3];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, 3, NULL, NULL, lab), SBP_OK);
    ck_assert_int_eq(lab[0], -1);
    ck_assert_int_eq(lab[1], 1);
    ck_assert_int_eq(lab[2], -1);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(shuffle_is_seeded_permutation)
{
    sbp_dataset *a = make(50, 2, 5), *b = make(50, 2, 5);
    ck_assert_int_eq(sbp_dataset_shuffle(a, 9), SBP_OK);
    ck_assert_int_eq(sbp_dataset_shuffle(b, 9), SBP_OK);
    int32_t la[50], lb[50];
    float xa[100], xb[100];
    ck_assert_int_eq(sbp_dataset_batch(a, 0, 50, xa, NULL, la), SBP_OK);
    ck_assert_int_eq(sbp_dataset_batch(b, 0, 50, xb, NULL, lb), SBP_OK);
    ck_assert_int_eq(memcmp(xa, xb, sizeof xa), 0);
    /* a permutation: every sample appears once; and not the identity */
    int seen[50] = {0}, moved = 0;
    for (int i = 0; i < 50; i++) {
        int s = (int)xa[2 * i] / 2;
        ck_assert_int_eq(seen[s]++, 0);
        moved += s != i;
    }
    ck_assert_int_gt(moved, 10);
    ck_assert_int_eq(sbp_dataset_shuffle(b, 10), SBP_OK);
    ck_assert_int_eq(sbp_dataset_batch(b, 0, 50, xb, NULL, NULL), SBP_OK);
    ck_assert_int_ne(memcmp(xa, xb, sizeof xa), 0);
    ck_assert_int_eq(sbp_dataset_reset_order(b), SBP_OK);
    ck_assert_int_eq(sbp_dataset_batch(b, 0, 1, xb, NULL, NULL), SBP_OK);
    ck_assert_float_eq(xb[0], 0.0f);
    sbp_dataset_free(a);
    sbp_dataset_free(b);
}
END_TEST

START_TEST(batches_cover_and_check_range)
{
    sbp_dataset *ds = make(10, 1, 2);
    float x[4];
    float t[8];
    ck_assert_int_eq(sbp_dataset_batch(ds, 8, 2, x, t, NULL), SBP_OK);
    ck_assert_float_eq(x[0], 8.0f);
    ck_assert_float_eq(x[1], 9.0f);
    ck_assert_float_eq(t[0], 1.0f);
    ck_assert_int_eq(sbp_dataset_batch(ds, 8, 3, x, NULL, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_batch(ds, 11, 0, x, NULL, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_batch(ds, (size_t)-1, 2, x, NULL, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_batch(ds, 10, 0, x, NULL, NULL), SBP_OK);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(split_and_subset)
{
    sbp_dataset *ds = make(20, 1, 2), *tr, *va, *tr2, *va2, *sub;
    ck_assert_int_eq(sbp_dataset_split(ds, 5, 3, &tr, &va), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(tr), 15);
    ck_assert_uint_eq(sbp_dataset_count(va), 5);
    ck_assert_uint_eq(sbp_dataset_classes(va), 2);
    float xt[15], xv[5];
    ck_assert_int_eq(sbp_dataset_batch(tr, 0, 15, xt, NULL, NULL), SBP_OK);
    ck_assert_int_eq(sbp_dataset_batch(va, 0, 5, xv, NULL, NULL), SBP_OK);
    int seen[20] = {0};
    for (int i = 0; i < 15; i++) seen[(int)xt[i]]++;
    for (int i = 0; i < 5; i++) seen[(int)xv[i]]++;
    for (int i = 0; i < 20; i++) ck_assert_int_eq(seen[i], 1); /* disjoint, complete */
    ck_assert_int_eq(sbp_dataset_split(ds, 5, 3, &tr2, &va2), SBP_OK);
    float xv2[5];
    ck_assert_int_eq(sbp_dataset_batch(va2, 0, 5, xv2, NULL, NULL), SBP_OK);
    ck_assert_int_eq(memcmp(xv, xv2, sizeof xv), 0); /* same seed, same split */
    sbp_dataset *tr3, *va3;
    ck_assert_int_eq(sbp_dataset_split(ds, 0, 3, &tr3, &va3), SBP_E_RANGE);
    ck_assert_ptr_null(tr3);
    ck_assert_ptr_null(va3);
    ck_assert_int_eq(sbp_dataset_split(ds, 20, 3, &tr3, &va3), SBP_E_RANGE);
    ck_assert_int_eq(sbp_dataset_subset(ds, 4, 3, &sub), SBP_OK);
    float xs[3];
    ck_assert_int_eq(sbp_dataset_batch(sub, 0, 3, xs, NULL, NULL), SBP_OK);
    ck_assert_float_eq(xs[0], 4.0f);
    ck_assert_float_eq(xs[2], 6.0f);
    sbp_dataset_free(sub);
    ck_assert_int_eq(sbp_dataset_subset(ds, 18, 3, &sub), SBP_E_RANGE);
    ck_assert_ptr_null(sub);
    sbp_dataset_free(tr);
    sbp_dataset_free(va);
    sbp_dataset_free(tr2);
    sbp_dataset_free(va2);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(normalize_to_unit_range)
{
    sbp_dataset *ds = make(4, 2, 2);
    ck_assert_int_eq(sbp_dataset_normalize(ds), SBP_OK);
    float x[8];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, 4, x, NULL, NULL), SBP_OK);
    ck_assert_float_eq(x[0], 0.0f);
    ck_assert_float_eq(x[7], 1.0f);
    ck_assert_float_eq_tol(x[1], 1.0f / 7.0f, 1e-6f);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(allocation_failure_is_clean)
{
    float x[4] = {0, 1, 2, 3};
    int32_t lab[2] = {0, 1};
    for (long n = 0; n < 6; n++) {
        sbp_dataset *ds = NULL;
        sbp__alloc_fail_after(n);
        sbp_status st = sbp_dataset_create(2, 2, x, lab, 2, &ds);
        sbp__alloc_fail_after(-1);
        if (st == SBP_OK)
            sbp_dataset_free(ds);
        else {
            ck_assert_int_eq(st, SBP_E_NOMEM);
            ck_assert_ptr_null(ds);
        }
    }
}
END_TEST

START_TEST(null_and_wrong_handles)
{
    ck_assert_uint_eq(sbp_dataset_count(NULL), 0);
    ck_assert_int_eq(sbp_dataset_shuffle(NULL, 1), SBP_E_INVALID);
    ck_assert_str_eq(sbp_dataset_errmsg(NULL), "not a dataset handle");
    sbp_dataset_free(NULL);
    sbp_layer *l;
    ck_assert_int_eq(sbp_layer_create(2, &l), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count((sbp_dataset *)(void *)l), 0);
    sbp_layer_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, create_copies_and_reports_shape);
    tcase_add_test(tc, create_refuses_bad_input);
    tcase_add_test(tc, multi_hot_targets);
    tcase_add_test(tc, shuffle_is_seeded_permutation);
    tcase_add_test(tc, batches_cover_and_check_range);
    tcase_add_test(tc, split_and_subset);
    tcase_add_test(tc, normalize_to_unit_range);
    tcase_add_test(tc, allocation_failure_is_clean);
    tcase_add_test(tc, null_and_wrong_handles);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
