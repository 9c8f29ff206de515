/* Status codes: pinned values, text and names. */
#include <string.h>

#include "internal.h"
#include "testutil.h"

START_TEST(pinned_values)
{
    /* These numbers are ABI: they must never change. */
    ck_assert_int_eq(SBP_OK, 0);
    ck_assert_int_eq(SBP_E_INVALID, 1);
    ck_assert_int_eq(SBP_E_RANGE, 2);
    ck_assert_int_eq(SBP_E_NOMEM, 3);
    ck_assert_int_eq(SBP_E_IO, 4);
    ck_assert_int_eq(SBP_E_FORMAT, 5);
    ck_assert_int_eq(SBP_E_TRUNCATED, 6);
    ck_assert_int_eq(SBP_E_TOO_LARGE, 7);
    ck_assert_int_eq(SBP_E_MISMATCH, 8);
    ck_assert_int_eq(SBP_E_STATE, 9);
    ck_assert_int_eq(SBP_E_UNSUPPORTED, 10);
    ck_assert_int_eq(SBP_E_NUMERIC, 11);
    ck_assert_int_eq(SBP_E_CHECKSUM, 12);
    ck_assert_int_eq(SBP_E_VERSION, 13);
    ck_assert_int_eq(SBP_E_CANCELLED, 14);
    ck_assert_int_eq(SBP_E_COMPRESSION, 15);
    ck_assert_int_eq(SBP_E_INTERNAL, 16);
}
END_TEST

START_TEST(every_status_has_text_and_name)
{
    for (int s = SBP_OK; s <= SBP_E_INTERNAL; s++) {
        const char *name = sbp_status_name((sbp_status)s);
        ck_assert_ptr_nonnull(name);
        ck_assert_int_eq(strncmp(name, "SBP_", 4), 0);
        ck_assert_str_ne(sbp_status_str((sbp_status)s), "unknown status");
    }
    ck_assert_str_eq(sbp_status_name(SBP_E_NOMEM), "SBP_E_NOMEM");
    ck_assert_str_eq(sbp_status_str(SBP_E_NOMEM), "out of memory");
}
END_TEST

START_TEST(unknown_status)
{
    ck_assert_str_eq(sbp_status_str((sbp_status)999), "unknown status");
    ck_assert_str_eq(sbp_status_str((sbp_status)-1), "unknown status");
    ck_assert_ptr_null(sbp_status_name((sbp_status)999));
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(sbp_version_number(), SBP_VERSION_NUMBER);
    ck_assert_str_eq(sbp_version_string(), SBP_VERSION_STRING);
    ck_assert_ptr_nonnull(sbp_blas_name());
    ck_assert_uint_ge(sbp_default_threads(), 1);
}
END_TEST

START_TEST(fail_formats_and_returns)
{
    char buf[SBP__MSG_MAX];
    ck_assert_int_eq(sbp__fail(buf, SBP_E_RANGE, "x = %d", 42), SBP_E_RANGE);
    ck_assert_str_eq(buf, "x = 42");
    ck_assert_int_eq(sbp__fail(NULL, SBP_E_IO, "ignored"), SBP_E_IO);
    /* long messages are truncated, never overflow */
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sbp__fail(buf, SBP_E_IO, "%s", big);
    ck_assert_uint_eq(strlen(buf), SBP__MSG_MAX - 1);
}
END_TEST

START_TEST(diag_fills_fields)
{
    sbp_diag d;
    memset(&d, 0x55, sizeof d);
    ck_assert_int_eq(sbp__diag(&d, SBP_E_FORMAT, "f.idx", 4, 2051, 7, "bad %s", "magic"),
                     SBP_E_FORMAT);
    ck_assert_int_eq(d.status, SBP_E_FORMAT);
    ck_assert_str_eq(d.file, "f.idx");
    ck_assert_uint_eq(d.offset, 4);
    ck_assert_uint_eq(d.expected, 2051);
    ck_assert_uint_eq(d.found, 7);
    ck_assert_str_eq(d.message, "bad magic");
    ck_assert_int_eq(sbp__diag(NULL, SBP_E_IO, NULL, 0, 0, 0, "x"), SBP_E_IO);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, pinned_values);
    tcase_add_test(tc, every_status_has_text_and_name);
    tcase_add_test(tc, unknown_status);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, fail_formats_and_returns);
    tcase_add_test(tc, diag_fills_fields);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
