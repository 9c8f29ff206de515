/* MNIST IDX loader (lib/data/idx.c) and its gzip reader (lib/data/gzfile.c):
 * every malformed-file case with its exact status, message and diag fields,
 * round trips of small synthetic files, the bundled and the full real data,
 * and out-of-memory paths. Set SBP_TEST_VERBOSE=1 to print each diagnostic. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "alloc.h"
#include "data/dataset.h"
#include "data/gzfile.h"
#include "sbp/sbp.h"
#include "testutil.h"

static char dir[256];
/* When >= 0, expect_fail lets only this many allocations succeed: proves
 * that a case is refused before the dataset is allocated. */
static long alloc_guard = -1;

static void setup(void)
{
    const char *d = sbp_test_tmpdir();
    ck_assert_ptr_nonnull(d);
    snprintf(dir, sizeof dir, "%s", d);
}

static void teardown(void)
{
    sbp__alloc_fail_after(-1);
    alloc_guard = -1;
    sbp_test_rmtree(dir);
}

/* ---- building IDX files ------------------------------------------------ */

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Header + pixel bytes (pixel i = (i*37 + 11) mod 256). Caller frees. */
static unsigned char *make_images(uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                                  size_t body, size_t *len)
{
    unsigned char *b = malloc(16 + body);
    ck_assert_ptr_nonnull(b);
    put_be32(b, magic);
    put_be32(b + 4, count);
    put_be32(b + 8, rows);
    put_be32(b + 12, cols);
    for (size_t i = 0; i < body; i++) b[16 + i] = (unsigned char)((i * 37 + 11) % 256);
    *len = 16 + body;
    return b;
}

/* Header + labels (label i = i mod 10). Caller frees. */
static unsigned char *make_labels(uint32_t magic, uint32_t count, size_t body, size_t *len)
{
    unsigned char *b = malloc(8 + body);
    ck_assert_ptr_nonnull(b);
    put_be32(b, magic);
    put_be32(b + 4, count);
    for (size_t i = 0; i < body; i++) b[8 + i] = (unsigned char)(i % 10);
    *len = 8 + body;
    return b;
}

/* A well-formed pair of n images of rows x cols, raw or gzip. */
static const char *write_images(const char *name, uint32_t n, uint32_t rows, uint32_t cols,
                                int gz)
{
    size_t len;
    unsigned char *b = make_images(0x803, n, rows, cols, (size_t)n * rows * cols, &len);
    const char *p = gz ? sbp_test_write_gz(dir, name, b, len) : sbp_test_write(dir, name, b, len);
    free(b);
    ck_assert_ptr_nonnull(p);
    return p;
}

static const char *write_labels(const char *name, uint32_t n, int gz)
{
    size_t len;
    unsigned char *b = make_labels(0x801, n, n, &len);
    const char *p = gz ? sbp_test_write_gz(dir, name, b, len) : sbp_test_write(dir, name, b, len);
    free(b);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Gzip bytes of data in memory (gzip -9 like). Caller frees. */
static unsigned char *gzip_bytes(const unsigned char *data, size_t len, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, (uLong)len);
    unsigned char *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z.next_in = (unsigned char *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* ---- checking a failure ------------------------------------------------ */

static void verbose(const char *name, sbp_status st, const sbp_diag *d)
{
    const char *v = getenv("SBP_TEST_VERBOSE");
    if (v && *v && strcmp(v, "0") != 0)
        printf("CASE %s | %s | offset=%llu expected=%llu found=%llu | %s\n", name,
               sbp_status_name(st), (unsigned long long)d->offset,
               (unsigned long long)d->expected, (unsigned long long)d->found, d->message);
}

/* Loads the pair and checks status, message substring, *out == NULL and
 * that the diag names the expected file. Returns the diag for more checks. */
static sbp_diag expect_fail(const char *name, const char *images, const char *labels,
                            sbp_status want, const char *substring, const char *bad_file)
{
    sbp_diag d;
    memset(&d, 0x55, sizeof d);
    sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
    if (alloc_guard >= 0) sbp__alloc_fail_after(alloc_guard);
    sbp_status st = sbp_dataset_load_idx(images, labels, &d, &ds);
    sbp__alloc_fail_after(-1);
    verbose(name, st, &d);
    ck_assert_msg(st == want, "%s: status %s, expected %s (%s)", name, sbp_status_name(st),
                  sbp_status_name(want), d.message);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(d.status, want);
    ck_assert_msg(strstr(d.message, substring) != NULL, "%s: message '%s' lacks '%s'", name,
                  d.message, substring);
    ck_assert_msg(strchr(d.message, '\n') == NULL, "%s: message is not one line", name);
    if (bad_file) {
        ck_assert_str_eq(d.file, bad_file);
        /* messages name the file (by its base name at least) */
        const char *base = strrchr(bad_file, '/');
        base = base ? base + 1 : bad_file;
        ck_assert_msg(strstr(d.message, base) != NULL, "%s: message '%s' does not name %s",
                      name, d.message, base);
    }
    ck_assert_uint_eq(d.line, 0);
    return d;
}

static void expect_diag(const sbp_diag *d, uint64_t offset, uint64_t expected, uint64_t found)
{
    ck_assert_uint_eq(d->offset, offset);
    ck_assert_uint_eq(d->expected, expected);
    ck_assert_uint_eq(d->found, found);
}

/* ---- malformed files ------------------------------------------------------ */

START_TEST(empty_file)
{
    const char *img = sbp_test_write(dir, "empty", "", 0);
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("empty file", img, lab, SBP_E_TRUNCATED, "file is empty", img);
    ck_assert_ptr_nonnull(strstr(d.message, "IDX image header"));
    expect_diag(&d, 0, 16, 0);
}
END_TEST

START_TEST(truncated_header)
{
    size_t len;
    unsigned char *b = make_images(0x803, 3, 2, 2, 12, &len);
    const char *img = sbp_test_write(dir, "img", b, 7);
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("truncated header", img, lab, SBP_E_TRUNCATED,
                             "file ends after 7 bytes, expected 16 (IDX image header)", img);
    expect_diag(&d, 7, 16, 7);
    /* the same in a gzip file */
    img = sbp_test_write_gz(dir, "img.gz", b, 7);
    d = expect_fail("truncated header (gz)", img, lab, SBP_E_TRUNCATED,
                    "file ends after 7 bytes, expected 16", img);
    expect_diag(&d, 7, 16, 7);
    /* a label header cut short */
    img = write_images("img2", 3, 2, 2, 0);
    lab = sbp_test_write(dir, "lab2", "\0\0\x08\x01\0\0", 6);
    d = expect_fail("truncated label header", img, lab, SBP_E_TRUNCATED,
                    "file ends after 6 bytes, expected 8 (IDX label header)", lab);
    expect_diag(&d, 6, 8, 6);
    free(b);
}
END_TEST

START_TEST(truncated_body_raw)
{
    size_t len;
    unsigned char *b = make_images(0x803, 3, 2, 2, 12, &len);
    const char *img = sbp_test_write(dir, "img", b, len - 6);
    const char *lab = write_labels("lab", 3, 0);
    /* refused from the file size, before anything is allocated */
    alloc_guard = 2;
    sbp_diag d = expect_fail("truncated body (raw)", img, lab, SBP_E_TRUNCATED,
                             "file has 22 bytes, but its header announces 28", img);
    expect_diag(&d, 22, 28, 22);
    alloc_guard = -1;
    /* labels cut short */
    img = write_images("img2", 3, 2, 2, 0);
    lab = sbp_test_write(dir, "lab2", "\0\0\x08\x01\0\0\0\x03\x01", 9);
    d = expect_fail("truncated labels (raw)", img, lab, SBP_E_TRUNCATED,
                    "file has 9 bytes, but its header announces 11", lab);
    expect_diag(&d, 9, 11, 9);
    free(b);
}
END_TEST

START_TEST(truncated_body_gz)
{
    /* a complete gzip stream whose content is cut short */
    size_t len;
    unsigned char *b = make_images(0x803, 3, 2, 2, 12, &len);
    const char *img = sbp_test_write_gz(dir, "img.gz", b, len - 6);
    const char *lab = write_labels("lab", 3, 1);
    sbp_diag d = expect_fail("truncated body (gz content)", img, lab, SBP_E_TRUNCATED,
                             "file ends after 22 bytes, expected 28 (header: 3 images of 2x2)",
                             img);
    expect_diag(&d, 22, 28, 22);
    free(b);
}
END_TEST

START_TEST(truncated_gzip_stream)
{
    /* a gzip file cut in the middle of its deflate data: zlib returns the
     * bytes inflated so far and Z_BUF_ERROR "unexpected end of file" */
    size_t len, zlen;
    unsigned char *b = make_images(0x803, 100, 28, 28, 78400, &len);
    for (size_t i = 16; i < len; i++) b[i] = (unsigned char)((i * 2654435761u) >> 13);
    unsigned char *z = gzip_bytes(b, len, &zlen);
    const char *img = sbp_test_write(dir, "img.gz", z, zlen / 2);
    const char *lab = write_labels("lab", 100, 0);
    sbp_diag d = expect_fail("cut gzip stream", img, lab, SBP_E_TRUNCATED,
                             "gzip stream cut short", img);
    ck_assert_ptr_nonnull(strstr(d.message, "expected 78416 (header: 100 images of 28x28)"));
    ck_assert_uint_eq(d.expected, 78416);
    ck_assert_uint_gt(d.found, 16);
    ck_assert_uint_lt(d.found, 78416);
    ck_assert_uint_eq(d.offset, d.found);

    /* cut inside the 8-byte CRC/length trailer: all data is there */
    img = sbp_test_write(dir, "img2.gz", z, zlen - 4);
    d = expect_fail("gzip trailer cut", img, lab, SBP_E_TRUNCATED,
                    "gzip stream cut short after all 78416 bytes", img);
    ck_assert_uint_eq(d.offset, 78416);

    /* cut inside the gzip header: nothing can be inflated */
    img = sbp_test_write(dir, "img3.gz", z, 6);
    d = expect_fail("gzip header cut", img, lab, SBP_E_TRUNCATED,
                    "gzip stream cut short: it ends after 0 decompressed bytes", img);
    expect_diag(&d, 0, 16, 0);
    free(z);
    free(b);
}
END_TEST

START_TEST(wrong_magic_images)
{
    size_t len;
    unsigned char *b = make_images(0x12345678, 3, 2, 2, 12, &len);
    const char *img = sbp_test_write(dir, "img", b, len);
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("wrong magic (images)", img, lab, SBP_E_FORMAT,
                             "bad magic number 0x12345678, expected 0x00000803", img);
    expect_diag(&d, 0, 0x803, 0x12345678);
    free(b);
}
END_TEST

START_TEST(wrong_magic_labels)
{
    size_t len;
    unsigned char *b = make_labels(0x00000802, 3, 3, &len);
    const char *img = write_images("img", 3, 2, 2, 0);
    const char *lab = sbp_test_write(dir, "lab", b, len);
    sbp_diag d = expect_fail("wrong magic (labels)", img, lab, SBP_E_FORMAT,
                             "bad magic number 0x00000802, expected 0x00000801", lab);
    expect_diag(&d, 0, 0x801, 0x802);
    free(b);
}
END_TEST

START_TEST(files_swapped)
{
    const char *img = write_images("img", 3, 2, 2, 1);
    const char *lab = write_labels("lab", 3, 1);
    /* images given as labels */
    sbp_diag d = expect_fail("images file as labels", img, img, SBP_E_FORMAT,
                             "expected 0x00000801 (IDX labels", img);
    ck_assert_ptr_nonnull(strstr(d.message, "this is an IDX image file"));
    expect_diag(&d, 0, 0x801, 0x803);
    /* labels given as images: the 11-byte file is named for what it is,
     * not reported as a truncated image header */
    d = expect_fail("labels file as images", lab, lab, SBP_E_FORMAT,
                    "this is an IDX label file", lab);
    expect_diag(&d, 0, 0x803, 0x801);
}
END_TEST

START_TEST(zero_count)
{
    size_t len;
    unsigned char *b = make_images(0x803, 0, 28, 28, 0, &len);
    const char *img = sbp_test_write(dir, "img", b, len);
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("zero image count", img, lab, SBP_E_FORMAT,
                             "image count is 0, expected at least 1", img);
    expect_diag(&d, 4, 0, 0);
    free(b);
    b = make_labels(0x801, 0, 0, &len);
    img = write_images("img2", 3, 2, 2, 0);
    lab = sbp_test_write(dir, "lab2", b, len);
    d = expect_fail("zero label count", img, lab, SBP_E_FORMAT,
                    "label count is 0, expected at least 1", lab);
    expect_diag(&d, 4, 0, 0);
    free(b);
}
END_TEST

START_TEST(zero_rows)
{
    size_t len;
    unsigned char *b = make_images(0x803, 3, 0, 28, 0, &len);
    const char *img = sbp_test_write(dir, "img", b, len);
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("zero rows", img, lab, SBP_E_FORMAT, "image size is 0x28", img);
    expect_diag(&d, 8, 0, 0);
    free(b);
    b = make_images(0x803, 3, 28, 0, 0, &len);
    img = sbp_test_write(dir, "img2", b, len);
    d = expect_fail("zero columns", img, lab, SBP_E_FORMAT, "image size is 28x0", img);
    expect_diag(&d, 12, 0, 0);
    free(b);
}
END_TEST

START_TEST(huge_sizes)
{
    size_t len;
    const char *lab = write_labels("lab", 3, 0);
    /* Only the two file handles may be allocated: a dataset allocation
     * would fail with SBP_E_NOMEM and show up as the wrong status. */
    alloc_guard = 2;

    unsigned char *b = make_images(0x803, 0xFFFFFFFFu, 28, 28, 0, &len);
    const char *img = sbp_test_write(dir, "img1", b, len);
    sbp_diag d = expect_fail("count 2^32-1", img, lab, SBP_E_TOO_LARGE,
                             "4294967295 images, more than the limit of 2147483648", img);
    expect_diag(&d, 4, (uint64_t)1 << 31, 0xFFFFFFFFu);
    free(b);

    /* rows*cols*count overflows 64 bits */
    b = make_images(0x803, 0x7FFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0, &len);
    img = sbp_test_write(dir, "img2", b, len);
    d = expect_fail("rows*cols overflow", img, lab, SBP_E_TOO_LARGE,
                    "images of 4294967295x4294967295 = 18446744065119617025 pixels", img);
    expect_diag(&d, 8, (uint64_t)1 << 24, 18446744065119617025ull);
    free(b);

    /* each size within its own limit, the product beyond 2^34 values */
    b = make_images(0x803, 0x80000000u, 28, 28, 0, &len);
    img = sbp_test_write(dir, "img3", b, len);
    d = expect_fail("count*pixels beyond limit", img, lab, SBP_E_TOO_LARGE,
                    "2147483648 images of 28x28 = 1683627180032 values, more than the limit",
                    img);
    expect_diag(&d, 4, (uint64_t)1 << 34, 1683627180032ull);
    free(b);

    /* within every limit (12.6 G values) but not in a 16-byte file */
    b = make_images(0x803, 1u << 24, 28, 28, 0, &len);
    img = sbp_test_write(dir, "img4", b, len);
    d = expect_fail("huge count, small raw file", img, lab, SBP_E_TRUNCATED,
                    "file has 16 bytes, but its header announces 13153337360", img);
    expect_diag(&d, 16, 13153337360ull, 16);
    /* ... nor in a small gzip file (deflate expands at most 1032:1) */
    img = sbp_test_write_gz(dir, "img5.gz", b, len);
    struct stat st;
    ck_assert_int_eq(stat(img, &st), 0);
    d = expect_fail("huge count, small gzip file", img, lab, SBP_E_TRUNCATED,
                    "header announces 13153337360 bytes, more than a", img);
    expect_diag(&d, 0, 13153337360ull, (uint64_t)st.st_size);
    free(b);

    /* a huge label count is a count mismatch, still before allocating */
    b = make_labels(0x801, 0xFFFFFFFFu, 0, &len);
    img = write_images("img6", 3, 2, 2, 0);
    lab = sbp_test_write(dir, "lab2", b, len);
    d = expect_fail("huge label count", img, lab, SBP_E_MISMATCH, "4294967295 labels", lab);
    expect_diag(&d, 4, 3, 0xFFFFFFFFu);
    free(b);
}
END_TEST

START_TEST(count_mismatch)
{
    const char *img = write_images("img", 3, 2, 2, 0);
    const char *lab = write_labels("lab", 4, 0);
    sbp_diag d = expect_fail("count mismatch", img, lab, SBP_E_MISMATCH,
                             "4 labels, but", lab);
    ck_assert_ptr_nonnull(strstr(d.message, "img holds 3 images"));
    expect_diag(&d, 4, 3, 4);
}
END_TEST

START_TEST(label_out_of_range)
{
    const char *img = write_images("img", 3, 2, 2, 1);
    const unsigned char l10[] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 10, 2};
    const char *lab = sbp_test_write(dir, "lab", l10, sizeof l10);
    sbp_diag d = expect_fail("label 10", img, lab, SBP_E_FORMAT,
                             "label 10 of sample 1 at byte 9 is out of range, expected 0..9",
                             lab);
    expect_diag(&d, 9, 9, 10);
    const unsigned char l255[] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 1, 255};
    lab = sbp_test_write_gz(dir, "lab2.gz", l255, sizeof l255);
    d = expect_fail("label 255 (gz)", img, lab, SBP_E_FORMAT,
                    "label 255 of sample 2 at byte 10 is out of range", lab);
    expect_diag(&d, 10, 9, 255);
}
END_TEST

START_TEST(corrupt_gzip)
{
    size_t len, zlen;
    unsigned char *b = make_images(0x803, 50, 28, 28, 39200, &len);
    unsigned char *z = gzip_bytes(b, len, &zlen);
    const char *lab = write_labels("lab", 50, 0);
    ck_assert_uint_gt(zlen, 100);

    /* bytes flipped inside the deflate data */
    unsigned char *c = malloc(zlen);
    memcpy(c, z, zlen);
    for (size_t i = 20; i < 40; i++) c[i] ^= 0xA5;
    const char *img = sbp_test_write(dir, "flip.gz", c, zlen);
    sbp_diag d = expect_fail("flipped deflate bytes", img, lab, SBP_E_COMPRESSION,
                             "corrupt gzip data: ", img);
    ck_assert_uint_le(d.offset, 39216);

    /* CRC-32 in the trailer wrong: found when the reader reaches the end */
    memcpy(c, z, zlen);
    c[zlen - 8] ^= 0xFF;
    img = sbp_test_write(dir, "crc.gz", c, zlen);
    d = expect_fail("bad CRC trailer", img, lab, SBP_E_COMPRESSION, "incorrect data check",
                    img);
    /* zlib checks the trailer in the same gzread that returns the last
     * bytes and then returns -1: the offset is where that read began. */
    ck_assert_uint_le(d.offset, 39216);

    /* ISIZE in the trailer wrong */
    memcpy(c, z, zlen);
    c[zlen - 1] ^= 0x01;
    img = sbp_test_write(dir, "len.gz", c, zlen);
    d = expect_fail("bad length trailer", img, lab, SBP_E_COMPRESSION,
                    "incorrect length check", img);
    ck_assert_uint_le(d.offset, 39216);

    /* deflate block type 3 (reserved) right after the header */
    memcpy(c, z, zlen);
    c[10] = 0x07;
    img = sbp_test_write(dir, "btype.gz", c, zlen);
    d = expect_fail("invalid block type", img, lab, SBP_E_COMPRESSION, "invalid block type",
                    img);
    expect_diag(&d, 0, 0, 0);
    free(c);
    free(z);
    free(b);
}
END_TEST

START_TEST(directory_missing_unreadable)
{
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("directory", dir, lab, SBP_E_IO, "is a directory", dir);
    expect_diag(&d, 0, 0, 0);

    char missing[512];
    snprintf(missing, sizeof missing, "%s/no-such-file", dir);
    d = expect_fail("missing path", missing, lab, SBP_E_IO,
                    "cannot open: No such file or directory", missing);

    char notdir[512];
    snprintf(notdir, sizeof notdir, "%s/x", lab);
    d = expect_fail("path through a file", notdir, lab, SBP_E_IO, "cannot open: Not a directory",
                    notdir);

    const char *img = write_images("img", 3, 2, 2, 0);
    ck_assert_int_eq(chmod(img, 0), 0);
    if (access(img, R_OK) == 0) {
        /* root (or CAP_DAC_OVERRIDE) reads a mode-000 file anyway */
        printf("skipped: unreadable-path case: running as root, chmod 000 does not prevent "
               "reading\n");
    } else {
        d = expect_fail("unreadable path", img, lab, SBP_E_IO,
                        "cannot open: Permission denied", img);
    }
    chmod(img, 0644);
}
END_TEST

START_TEST(read_error)
{
    /* /proc/self/mem opens as a regular file, but reading offset 0 (an
     * unmapped address) fails with EIO: the read-error path, as root too. */
    if (access("/proc/self/mem", R_OK) != 0) {
        printf("skipped: read-error case: /proc/self/mem not readable\n");
        return;
    }
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("read error", "/proc/self/mem", lab, SBP_E_IO,
                             "read error: Input/output error", "/proc/self/mem");
    expect_diag(&d, 0, 0, 0);
}
END_TEST

START_TEST(trailing_garbage)
{
    size_t len;
    unsigned char *b = make_images(0x803, 3, 2, 2, 14, &len); /* 2 bytes too many */
    const char *img = sbp_test_write(dir, "img", b, len);
    const char *lab = write_labels("lab", 3, 0);
    sbp_diag d = expect_fail("trailing garbage (raw)", img, lab, SBP_E_FORMAT,
                             "2 bytes after the announced data (expected 28 bytes", img);
    expect_diag(&d, 28, 28, 30);

    img = sbp_test_write_gz(dir, "img.gz", b, len);
    d = expect_fail("trailing garbage (gz)", img, lab, SBP_E_FORMAT,
                    "2 bytes after the announced data (expected 28 bytes, header: 3 images of "
                    "2x2; the file has 30)",
                    img);
    expect_diag(&d, 28, 28, 30);
    free(b);

    img = write_images("img2", 3, 2, 2, 1);
    b = make_labels(0x801, 3, 5000, &len);
    lab = sbp_test_write_gz(dir, "lab.gz", b, len);
    d = expect_fail("trailing garbage (labels gz)", img, lab, SBP_E_FORMAT,
                    "4997 bytes after the announced data", lab);
    expect_diag(&d, 11, 11, 5008);
    free(b);
}
END_TEST

START_TEST(bad_arguments)
{
    sbp_diag d;
    sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
    ck_assert_int_eq(sbp_dataset_load_idx(NULL, "x", &d, &ds), SBP_E_INVALID);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(d.message, "images path is NULL"));
    ck_assert_int_eq(sbp_dataset_load_idx("x", "y", &d, NULL), SBP_E_INVALID);
    ds = (sbp_dataset *)(uintptr_t)1;
    ck_assert_int_eq(sbp_dataset_load_idx("", "y", NULL, &ds), SBP_E_INVALID);
    ck_assert_ptr_null(ds);
    ds = (sbp_dataset *)(uintptr_t)1;
    ck_assert_int_eq(sbp_dataset_load_mnist(NULL, SBP_MNIST_TRAIN, &d, &ds), SBP_E_INVALID);
    ck_assert_ptr_null(ds);
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, (sbp_mnist_part)7, &d, &ds), SBP_E_INVALID);
    ck_assert_ptr_nonnull(strstr(d.message, "unknown part 7"));
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, SBP_MNIST_TEST, &d, NULL), SBP_E_INVALID);
}
END_TEST

START_TEST(mnist_missing_files)
{
    sbp_diag d;
    sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, SBP_MNIST_TRAIN, &d, &ds), SBP_E_IO);
    verbose("mnist: empty dir (train)", SBP_E_IO, &d);
    ck_assert_ptr_null(ds);
    ck_assert_str_eq(d.file, dir);
    ck_assert_ptr_nonnull(strstr(d.message, "no MNIST training files found (tried "
                                            "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                                            "train10k-images-idx3-ubyte, "
                                            "train10k-labels-idx1-ubyte, each raw or .gz)"));
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, SBP_MNIST_TEST, &d, &ds), SBP_E_IO);
    verbose("mnist: empty dir (test)", SBP_E_IO, &d);
    ck_assert_ptr_nonnull(strstr(d.message, "no MNIST test files found (tried "
                                            "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte"));

    /* half a pair */
    write_images("t10k-images-idx3-ubyte.gz", 3, 2, 2, 1);
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, SBP_MNIST_TEST, &d, &ds), SBP_E_IO);
    verbose("mnist: half a pair", SBP_E_IO, &d);
    ck_assert_ptr_nonnull(strstr(d.message, "found t10k-images-idx3-ubyte but not "
                                            "t10k-labels-idx1-ubyte (raw or .gz)"));

    char missing[512];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    ck_assert_int_eq(sbp_dataset_load_mnist(missing, SBP_MNIST_TEST, &d, &ds), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "nope: not a directory"));
    ck_assert_ptr_null(ds);
}
END_TEST

/* ---- round trips ---------------------------------------------------------- */

static void check_synthetic(sbp_dataset *ds, uint32_t n, uint32_t rows, uint32_t cols)
{
    const size_t d = (size_t)rows * cols;
    ck_assert_uint_eq(sbp_dataset_count(ds), n);
    ck_assert_uint_eq(sbp_dataset_features(ds), d);
    ck_assert_uint_eq(sbp_dataset_targets(ds), 10);
    ck_assert_uint_eq(sbp_dataset_classes(ds), 10);
    float *x = malloc(d * sizeof *x);
    float t[10];
    for (size_t i = 0; i < n; i++) {
        int32_t label = -1;
        ck_assert_int_eq(sbp_dataset_sample(ds, i, x, t, &label), SBP_OK);
        ck_assert_int_eq(label, (int32_t)(i % 10));
        for (size_t c = 0; c < 10; c++) ck_assert(t[c] == (c == i % 10 ? 1.0f : 0.0f));
        for (size_t j = 0; j < d; j++) {
            size_t k = i * d + j;
            unsigned char p = (unsigned char)((k * 37 + 11) % 256);
            ck_assert_msg(x[j] == (float)p / 255.0f, "x[%zu][%zu] = %g, expected %u/255", i,
                          j, (double)x[j], p);
        }
    }
    free(x);
}

START_TEST(roundtrip_raw_and_gz)
{
    for (int mode = 0; mode < 4; mode++) {
        const int gz_img = mode & 1, gz_lab = (mode >> 1) & 1;
        char ni[32], nl[32];
        snprintf(ni, sizeof ni, "img%d%s", mode, gz_img ? ".gz" : "");
        snprintf(nl, sizeof nl, "lab%d%s", mode, gz_lab ? ".gz" : "");
        const char *img = write_images(ni, 23, 5, 7, gz_img);
        const char *lab = write_labels(nl, 23, gz_lab);
        sbp_diag d;
        sbp_dataset *ds = NULL;
        ck_assert_int_eq(sbp_dataset_load_idx(img, lab, &d, &ds), SBP_OK);
        ck_assert_int_eq(d.status, SBP_OK);
        ck_assert_str_eq(d.message, "");
        check_synthetic(ds, 23, 5, 7);
        /* the whole pixel range: 0 -> 0.0 and 255 -> 1.0 exactly */
        float lo = 1, hi = 0;
        for (size_t i = 0; i < 23 * 35; i++) {
            lo = ds->x[i] < lo ? ds->x[i] : lo;
            hi = ds->x[i] > hi ? ds->x[i] : hi;
        }
        ck_assert(lo == 0.0f && hi == 1.0f);
        sbp_dataset_free(ds);
    }
    /* more than one read chunk (64 KiB) of pixels and of labels */
    const char *img = write_images("big.gz", 70000, 1, 3, 1);
    const char *lab = write_labels("big-lab", 70000, 0);
    sbp_dataset *ds = NULL;
    ck_assert_int_eq(sbp_dataset_load_idx(img, lab, NULL, &ds), SBP_OK);
    check_synthetic(ds, 70000, 1, 3);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(mnist_dir_synthetic)
{
    write_images("train10k-images-idx3-ubyte.gz", 4, 3, 3, 1);
    write_labels("train10k-labels-idx1-ubyte", 4, 0);
    sbp_dataset *ds = NULL;
    sbp_diag d;
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, SBP_MNIST_TRAIN, &d, &ds), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(ds), 4);
    sbp_dataset_free(ds);
    /* the full training set is preferred to the sample */
    write_images("train-images-idx3-ubyte", 6, 3, 3, 0);
    write_labels("train-labels-idx1-ubyte.gz", 6, 1);
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, SBP_MNIST_TRAIN, &d, &ds), SBP_OK);
    ck_assert_uint_eq(sbp_dataset_count(ds), 6);
    check_synthetic(ds, 6, 3, 3);
    sbp_dataset_free(ds);
    /* an error inside a found file is the file's own error */
    write_labels("train-labels-idx1-ubyte", 5, 0);
    ds = (sbp_dataset *)(uintptr_t)1;
    ck_assert_int_eq(sbp_dataset_load_mnist(dir, SBP_MNIST_TRAIN, &d, &ds), SBP_E_MISMATCH);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(d.file, "train-labels-idx1-ubyte"));
}
END_TEST

/* Reads the first `len` decompressed bytes of a file with zlib directly. */
static void read_gz_prefix(const char *path, unsigned char *buf, unsigned len)
{
    gzFile f = gzopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzread(f, buf, len), (int)len);
    gzclose(f);
}

static void check_against_file(const sbp_dataset *ds, const char *images, const char *labels)
{
    unsigned char img[16 + 784 * 3], lab[8 + 6];
    read_gz_prefix(images, img, sizeof img);
    read_gz_prefix(labels, lab, sizeof lab);
    for (size_t i = 0; i < 784 * 3; i++) ck_assert(ds->x[i] == (float)img[16 + i] / 255.0f);
    for (size_t i = 0; i < 6; i++) ck_assert_int_eq(ds->labels[i], lab[8 + i]);
}

START_TEST(bundled_mnist)
{
    const char *src = getenv("SBP_SOURCE_DIR");
    ck_assert_msg(src != NULL, "SBP_SOURCE_DIR is not set");
    char mdir[1024], pi[1100], pl[1100];
    snprintf(mdir, sizeof mdir, "%s/data/mnist", src);
    sbp_dataset *ds = NULL;
    sbp_diag d;
    sbp_status st = sbp_dataset_load_mnist(mdir, SBP_MNIST_TRAIN, &d, &ds);
    ck_assert_msg(st == SBP_OK, "%s", d.message);
    ck_assert_uint_eq(sbp_dataset_count(ds), 10000);
    ck_assert_uint_eq(sbp_dataset_features(ds), 784);
    ck_assert_uint_eq(sbp_dataset_classes(ds), 10);
    const int32_t first[6] = {5, 0, 4, 1, 9, 2};
    for (size_t i = 0; i < 6; i++) ck_assert_int_eq(ds->labels[i], first[i]);
    snprintf(pi, sizeof pi, "%s/train10k-images-idx3-ubyte.gz", mdir);
    snprintf(pl, sizeof pl, "%s/train10k-labels-idx1-ubyte.gz", mdir);
    check_against_file(ds, pi, pl);
    size_t count[10] = {0};
    for (size_t i = 0; i < ds->n; i++) count[ds->labels[i]]++;
    for (size_t c = 0; c < 10; c++) ck_assert_uint_gt(count[c], 800);
    sbp_dataset_free(ds);

    st = sbp_dataset_load_mnist(mdir, SBP_MNIST_TEST, &d, &ds);
    ck_assert_msg(st == SBP_OK, "%s", d.message);
    ck_assert_uint_eq(sbp_dataset_count(ds), 10000);
    const int32_t first_test[6] = {7, 2, 1, 0, 4, 1};
    for (size_t i = 0; i < 6; i++) ck_assert_int_eq(ds->labels[i], first_test[i]);
    snprintf(pi, sizeof pi, "%s/t10k-images-idx3-ubyte.gz", mdir);
    snprintf(pl, sizeof pl, "%s/t10k-labels-idx1-ubyte.gz", mdir);
    check_against_file(ds, pi, pl);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(full_mnist)
{
    const char *shared = sbp_test_shared_data();
    if (!shared) return; /* printed "skipped: ..." */
    char mdir[1024], probe[1100];
    snprintf(mdir, sizeof mdir, "%s/mnist", shared);
    snprintf(probe, sizeof probe, "%s/train-images-idx3-ubyte.gz", mdir);
    if (access(probe, R_OK) != 0) {
        printf("skipped: full MNIST not found (%s)\n", probe);
        return;
    }
    sbp_dataset *ds = NULL;
    sbp_diag d;
    sbp_status st = sbp_dataset_load_mnist(mdir, SBP_MNIST_TRAIN, &d, &ds);
    ck_assert_msg(st == SBP_OK, "%s", d.message);
    ck_assert_uint_eq(sbp_dataset_count(ds), 60000);
    ck_assert_uint_eq(sbp_dataset_features(ds), 784);
    const int32_t first[6] = {5, 0, 4, 1, 9, 2};
    for (size_t i = 0; i < 6; i++) ck_assert_int_eq(ds->labels[i], first[i]);
    /* the published class counts of the training set */
    const size_t want[10] = {5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
    size_t count[10] = {0};
    for (size_t i = 0; i < ds->n; i++) count[ds->labels[i]]++;
    for (size_t c = 0; c < 10; c++) ck_assert_uint_eq(count[c], want[c]);
    sbp_dataset_free(ds);
    st = sbp_dataset_load_mnist(mdir, SBP_MNIST_TEST, &d, &ds);
    ck_assert_msg(st == SBP_OK, "%s", d.message);
    ck_assert_uint_eq(sbp_dataset_count(ds), 10000);
    sbp_dataset_free(ds);
}
END_TEST

/* ---- out of memory -------------------------------------------------------- */

START_TEST(out_of_memory)
{
    const char *img = write_images("img.gz", 9, 4, 4, 1);
    const char *lab = write_labels("lab", 9, 0);
    long n = 0;
    for (;; n++) {
        ck_assert_int_lt(n, 64);
        sbp__alloc_fail_after(n);
        sbp_diag d;
        sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
        sbp_status st = sbp_dataset_load_idx(img, lab, &d, &ds);
        sbp__alloc_fail_after(-1);
        if (st == SBP_OK) {
            check_synthetic(ds, 9, 4, 4);
            sbp_dataset_free(ds);
            break;
        }
        ck_assert_msg(st == SBP_E_NOMEM, "n=%ld: %s (%s)", n, sbp_status_name(st), d.message);
        ck_assert_int_eq(d.status, SBP_E_NOMEM);
        ck_assert_ptr_nonnull(strstr(d.message, "out of memory"));
        ck_assert_ptr_null(ds);
        if (n == 0) verbose("out of memory (n=0)", st, &d);
        if (n == 2) verbose("out of memory (n=2, dataset)", st, &d);
    }
    /* two file handles, the dataset's five blocks and the read buffer */
    ck_assert_int_ge(n, 6);
}
END_TEST

/* ---- the gzip reader on its own ------------------------------------------ */

START_TEST(gz_reader)
{
    const char *p = sbp_test_write_gz(dir, "a.gz", "hello world", 11);
    sbp__gz *gz = NULL;
    sbp_diag d;
    ck_assert_int_eq(sbp__gz_open(p, &gz, &d), SBP_OK);
    ck_assert_int_eq(sbp__gz_compressed(gz), 1);
    char buf[16] = {0};
    uint64_t off = 0;
    ck_assert_int_eq(sbp__gz_read_exact(gz, buf, 5, &off, &d), SBP_OK);
    ck_assert_uint_eq(off, 5);
    ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
    ck_assert_int_eq(sbp__gz_expect_eof(gz, off, &d), SBP_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(d.message, "6 bytes after the announced data"));
    sbp__gz_close(gz);

    p = sbp_test_write(dir, "b", "abc", 3);
    ck_assert_int_eq(sbp__gz_open(p, &gz, &d), SBP_OK);
    ck_assert_int_eq(sbp__gz_compressed(gz), 0);
    ck_assert_uint_eq(sbp__gz_file_size(gz), 3);
    off = 0;
    ck_assert_int_eq(sbp__gz_read_exact(gz, buf, 4, &off, &d), SBP_E_TRUNCATED);
    ck_assert_uint_eq(off, 3);
    expect_diag(&d, 3, 4, 3);
    ck_assert_int_eq(sbp__gz_expect_eof(gz, off, &d), SBP_OK);
    sbp__gz_close(gz);
    sbp__gz_close(NULL);

    gz = (sbp__gz *)(uintptr_t)1;
    ck_assert_int_eq(sbp__gz_open(dir, &gz, &d), SBP_E_IO);
    ck_assert_ptr_null(gz);

    /* long paths are shortened in messages, kept whole in diag.file */
    char longp[400];
    int at = snprintf(longp, sizeof longp, "/nonexistent/");
    memset(longp + at, 'a', sizeof longp - (size_t)at - 1);
    longp[sizeof longp - 1] = '\0';
    ck_assert_int_eq(sbp__gz_open(longp, &gz, &d), SBP_E_IO);
    ck_assert_ptr_nonnull(strstr(d.message, "...aaaa"));
    ck_assert_uint_lt(strlen(d.message), 300);
    ck_assert_int_eq(strncmp(d.file, longp, 255), 0);
}
END_TEST

static Suite *idx_suite(void)
{
    Suite *s = suite_create("idx");
    TCase *bad = tcase_create("malformed");
    tcase_add_checked_fixture(bad, setup, teardown);
    tcase_add_test(bad, empty_file);
    tcase_add_test(bad, truncated_header);
    tcase_add_test(bad, truncated_body_raw);
    tcase_add_test(bad, truncated_body_gz);
    tcase_add_test(bad, truncated_gzip_stream);
    tcase_add_test(bad, wrong_magic_images);
    tcase_add_test(bad, wrong_magic_labels);
    tcase_add_test(bad, files_swapped);
    tcase_add_test(bad, zero_count);
    tcase_add_test(bad, zero_rows);
    tcase_add_test(bad, huge_sizes);
    tcase_add_test(bad, count_mismatch);
    tcase_add_test(bad, label_out_of_range);
    tcase_add_test(bad, corrupt_gzip);
    tcase_add_test(bad, directory_missing_unreadable);
    tcase_add_test(bad, read_error);
    tcase_add_test(bad, trailing_garbage);
    tcase_add_test(bad, bad_arguments);
    tcase_add_test(bad, mnist_missing_files);
    suite_add_tcase(s, bad);

    TCase *good = tcase_create("load");
    tcase_add_checked_fixture(good, setup, teardown);
    tcase_set_timeout(good, 300);
    tcase_add_test(good, roundtrip_raw_and_gz);
    tcase_add_test(good, mnist_dir_synthetic);
    tcase_add_test(good, bundled_mnist);
    tcase_add_test(good, full_mnist);
    tcase_add_test(good, out_of_memory);
    tcase_add_test(good, gz_reader);
    suite_add_tcase(s, good);
    return s;
}

int main(void)
{
    return sbp_test_run(idx_suite());
}
