/* MD5 and SHA-256 of the `sbp` tool (tools/hash.c) against the RFC 1321 and
 * FIPS 180 test vectors, and `sbp data verify` (tools/verify.c) on the
 * bundled MNIST sample and on damaged copies. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "sbp/sbp.h"
#include "testutil.h"
#include "tool.h"

static void md5_hex(const void *data, size_t len, char *hex)
{
    sbp_tool_md5 h;
    unsigned char d[SBP_MD5_SIZE];
    sbp_tool_md5_init(&h);
    sbp_tool_md5_update(&h, data, len);
    sbp_tool_md5_final(&h, d);
    sbp_tool_hex(d, sizeof d, hex);
}

static void sha256_hex(const void *data, size_t len, char *hex)
{
    sbp_tool_sha256 h;
    unsigned char d[SBP_SHA256_SIZE];
    sbp_tool_sha256_init(&h);
    sbp_tool_sha256_update(&h, data, len);
    sbp_tool_sha256_final(&h, d);
    sbp_tool_hex(d, sizeof d, hex);
}

START_TEST(md5_rfc1321)
{
    /* RFC 1321, appendix A.5 */
    static const char *const v[][2] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890123456789"
         "0",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    char hex[2 * SBP_MD5_SIZE + 1];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        md5_hex(v[i][0], strlen(v[i][0]), hex);
        ck_assert_str_eq(hex, v[i][1]);
    }
}
END_TEST

START_TEST(sha256_fips180)
{
    /* FIPS 180-2 appendix B and the empty message */
    static const char *const v[][2] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    char hex[2 * SBP_SHA256_SIZE + 1];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        sha256_hex(v[i][0], strlen(v[i][0]), hex);
        ck_assert_str_eq(hex, v[i][1]);
    }
    /* one million 'a', fed in uneven pieces */
    static char a[1000];
    memset(a, 'a', sizeof a);
    sbp_tool_sha256 h;
    unsigned char d[SBP_SHA256_SIZE];
    sbp_tool_sha256_init(&h);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t n = step < left ? step : left;
        sbp_tool_sha256_update(&h, a, n);
        left -= n;
        step = step % 997 + 1;
    }
    sbp_tool_sha256_final(&h, d);
    sbp_tool_hex(d, sizeof d, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* and MD5 of the same million 'a' */
    sbp_tool_md5 m;
    sbp_tool_md5_init(&m);
    for (int i = 0; i < 1000; i++) sbp_tool_md5_update(&m, a, sizeof a);
    sbp_tool_md5_final(&m, d);
    sbp_tool_hex(d, SBP_MD5_SIZE, hex);
    ck_assert_str_eq(hex, "7707d6ae4e027c70eea2a935c2296f21");
}
END_TEST

START_TEST(split_updates)
{
    /* every split point around the 55/56/64-byte padding boundaries */
    unsigned char msg[200];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (unsigned char)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof msg; len++) {
        char one_md5[33], one_sha[65];
        md5_hex(msg, len, one_md5);
        sha256_hex(msg, len, one_sha);
        for (size_t cut = 0; cut <= len; cut += (len > 70 ? 13 : 1)) {
            sbp_tool_md5 m;
            sbp_tool_sha256 s;
            unsigned char d[SBP_SHA256_SIZE];
            char hex[65];
            sbp_tool_md5_init(&m);
            sbp_tool_md5_update(&m, msg, cut);
            sbp_tool_md5_update(&m, msg + cut, len - cut);
            sbp_tool_md5_final(&m, d);
            sbp_tool_hex(d, SBP_MD5_SIZE, hex);
            ck_assert_str_eq(hex, one_md5);
            sbp_tool_sha256_init(&s);
            sbp_tool_sha256_update(&s, msg, cut);
            sbp_tool_sha256_update(&s, msg + cut, len - cut);
            sbp_tool_sha256_final(&s, d);
            sbp_tool_hex(d, SBP_SHA256_SIZE, hex);
            ck_assert_str_eq(hex, one_sha);
        }
    }
}
END_TEST

/* ---- sbp data verify ------------------------------------------------------- */

typedef struct captured {
    char *out, *err;
    size_t out_len, err_len;
    int rc;
} captured;

static captured run_verify(const char *dir)
{
    captured c = {0};
    FILE *o = open_memstream(&c.out, &c.out_len);
    FILE *e = open_memstream(&c.err, &c.err_len);
    ck_assert_ptr_nonnull(o);
    ck_assert_ptr_nonnull(e);
    c.rc = sbp_tool_data_verify(dir, o, e);
    fclose(o);
    fclose(e);
    return c;
}

static void free_captured(captured *c)
{
    free(c->out);
    free(c->err);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

START_TEST(verify_bundled)
{
    const char *src = getenv("SBP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/mnist", src);
    captured c = run_verify(dir);
    ck_assert_msg(c.rc == 0, "rc %d\n%s%s", c.rc, c.out, c.err);
    ck_assert_ptr_nonnull(strstr(c.out, "OK   train10k-images-idx3-ubyte.gz  sha256 "
                                        "2889698e6bc3614913e76901316712919d1998fc2b44512451bfe65"
                                        "bc1e668b1\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "OK   train10k-labels-idx1-ubyte.gz  sha256 "
                                        "651e38e2ac0632f5113ec18f1df4977117f953197819034009971a6"
                                        "675a0df78\n"));
    ck_assert_ptr_nonnull(
        strstr(c.out, "OK   t10k-images-idx3-ubyte.gz  md5 2646ac647ad5339dbf082846283269ea\n"));
    ck_assert_ptr_nonnull(
        strstr(c.out, "OK   t10k-labels-idx1-ubyte.gz  md5 27ae3e4e09519cfbb04c329615203637\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "OK   t10k-images-idx3-ubyte.gz + t10k-labels-idx1-ubyte.gz"
                                        "  idx 10000 samples, 784 features, 10 classes\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "OK   train10k-images-idx3-ubyte.gz + "
                                        "train10k-labels-idx1-ubyte.gz  idx 10000 samples"));
    ck_assert_ptr_null(strstr(c.out, "BAD"));
    ck_assert_uint_eq(c.err_len, 0);
    free_captured(&c);
}
END_TEST

START_TEST(verify_damaged)
{
    const char *src = getenv("SBP_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    const char *tmp = sbp_test_tmpdir();
    ck_assert_ptr_nonnull(tmp);
    char dir[256], path[1200];
    snprintf(dir, sizeof dir, "%s", tmp);

    /* empty directory: nothing to verify */
    captured c = run_verify(dir);
    ck_assert_int_eq(c.rc, 1);
    ck_assert_ptr_nonnull(strstr(c.err, "no MNIST files in"));
    free_captured(&c);

    /* the test labels, decompressed and with one label changed: the md5
     * differs while the structure is still valid */
    size_t len;
    snprintf(path, sizeof path, "%s/data/mnist/t10k-images-idx3-ubyte.gz", src);
    char *img = read_all(path, &len);
    ck_assert_ptr_nonnull(sbp_test_write(dir, "t10k-images-idx3-ubyte.gz", img, len));
    free(img);
    unsigned char lab[8 + 10000];
    lab[0] = lab[1] = 0;
    lab[2] = 8;
    lab[3] = 1;
    lab[4] = 0;
    lab[5] = 0;
    lab[6] = 0x27;
    lab[7] = 0x10;
    for (size_t i = 0; i < 10000; i++) lab[8 + i] = (unsigned char)(i % 10);
    ck_assert_ptr_nonnull(sbp_test_write(dir, "t10k-labels-idx1-ubyte", lab, sizeof lab));
    c = run_verify(dir);
    ck_assert_int_eq(c.rc, 1);
    ck_assert_ptr_nonnull(strstr(c.out, "OK   t10k-images-idx3-ubyte.gz  md5 "));
    ck_assert_ptr_nonnull(strstr(c.out, "BAD  t10k-labels-idx1-ubyte: md5 of the content is "));
    ck_assert_ptr_nonnull(strstr(c.out, "expected 27ae3e4e09519cfbb04c329615203637\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "OK   t10k-images-idx3-ubyte.gz + t10k-labels-idx1-ubyte"));
    ck_assert_ptr_nonnull(strstr(c.err, "1 of 3 checks failed"));
    free_captured(&c);

    /* a label out of range: the structure check fails too */
    lab[8 + 5] = 42;
    ck_assert_ptr_nonnull(sbp_test_write(dir, "t10k-labels-idx1-ubyte", lab, sizeof lab));
    c = run_verify(dir);
    ck_assert_int_eq(c.rc, 1);
    ck_assert_ptr_nonnull(strstr(c.out, "BAD  t10k-images-idx3-ubyte.gz + t10k-labels-idx1-ubyte: "
                                        "SBP_E_FORMAT: "));
    ck_assert_ptr_nonnull(strstr(c.out, "label 42 of sample 5 at byte 13"));
    free_captured(&c);

    /* a truncated gzip file */
    snprintf(path, sizeof path, "%s/data/mnist/train10k-labels-idx1-ubyte.gz", src);
    char *gz = read_all(path, &len);
    ck_assert_ptr_nonnull(sbp_test_write(dir, "train10k-labels-idx1-ubyte.gz", gz, len / 2));
    free(gz);
    c = run_verify(dir);
    ck_assert_int_eq(c.rc, 1);
    ck_assert_ptr_nonnull(
        strstr(c.out, "BAD  train10k-labels-idx1-ubyte.gz: gzip stream cut short (file truncated)\n"));
    ck_assert_ptr_nonnull(strstr(c.err, "train10k-labels-idx1-ubyte has no matching "
                                        "train10k-images-idx3-ubyte"));
    free_captured(&c);

    /* not a directory */
    snprintf(path, sizeof path, "%s/nope", dir);
    c = run_verify(path);
    ck_assert_int_eq(c.rc, 1);
    ck_assert_ptr_nonnull(strstr(c.err, "No such file or directory"));
    free_captured(&c);
    sbp_test_rmtree(dir);
}
END_TEST

static Suite *hash_suite(void)
{
    Suite *s = suite_create("hash");
    TCase *t = tcase_create("hash");
    tcase_add_test(t, md5_rfc1321);
    tcase_add_test(t, sha256_fips180);
    tcase_add_test(t, split_updates);
    suite_add_tcase(s, t);
    TCase *v = tcase_create("verify");
    tcase_set_timeout(v, 300);
    tcase_add_test(v, verify_bundled);
    tcase_add_test(v, verify_damaged);
    suite_add_tcase(s, v);
    return s;
}

int main(void)
{
    return sbp_test_run(hash_suite());
}
