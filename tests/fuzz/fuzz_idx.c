/* Fuzz target: the IDX loader (sbp_dataset_load_idx, lib/data/idx.c and
 * its gzip reader lib/data/gzfile.c).
 *
 * Input layout:
 *   byte 0     flags: bit 0 gzip the image part, bit 1 gzip the label part
 *              (bit 2: load again without a diagnostic; same status)
 *              (gzip is done here with zlib, so that the fuzzer reaches the IDX
 *              parser behind valid compression; a part given as is that
 *              starts with 1f 8b is read as gzip too, so corrupt gzip
 *              streams are covered by the raw path)
 *   bytes 1-2  length L of the image part, little endian (clamped)
 *   then       L bytes of image file, the rest is the label file.
 * Both parts are written to files in a private temporary directory and
 * loaded. The harness checks the loader's promises: a pinned status, *out
 * set exactly on success, a diagnostic that agrees with the status and is
 * NUL-terminated, and on success a well-formed MNIST-like dataset. */
#include <unistd.h>
#include <zlib.h>

#include "fuzz.h"
#include "sbp/sbp.h"

static char dir[256];
static char img_path[300], lab_path[300];

static void cleanup(void)
{
    unlink(img_path);
    unlink(lab_path);
    rmdir(dir);
}

static void setup_once(void)
{
    if (dir[0]) return;
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sbp-fuzz-idx-XXXXXX", base && *base ? base : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(img_path, sizeof img_path, "%s/images", dir);
    snprintf(lab_path, sizeof lab_path, "%s/labels", dir);
    atexit(cleanup);
}

static void write_part(const char *path, const uint8_t *p, size_t n, int gzip)
{
    if (gzip) {
        gzFile g = gzopen(path, "wb1");
        FUZZ_CHECK(g != NULL);
        FUZZ_CHECK(n == 0 || gzwrite(g, p, (unsigned)n) == (int)n);
        FUZZ_CHECK(gzclose(g) == Z_OK);
        return;
    }
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(n == 0 || fwrite(p, 1, n, f) == n);
    FUZZ_CHECK(fclose(f) == 0);
}

static void check_dataset(const sbp_dataset *ds)
{
    size_t n = sbp_dataset_count(ds), d = sbp_dataset_features(ds);
    FUZZ_CHECK(n >= 1 && d >= 1);
    FUZZ_CHECK(sbp_dataset_targets(ds) == 10 && sbp_dataset_classes(ds) == 10);
    float *x = malloc(d * sizeof *x), t[10];
    FUZZ_CHECK(x != NULL);
    for (size_t i = 0; i < n && i < 64; i++) {
        int32_t label = -1;
        FUZZ_CHECK(sbp_dataset_sample(ds, i, x, t, &label) == SBP_OK);
        FUZZ_CHECK(label >= 0 && label <= 9);
        FUZZ_CHECK(t[label] == 1.0f);
        for (size_t j = 0; j < d; j++) FUZZ_CHECK(x[j] >= 0.0f && x[j] <= 1.0f);
    }
    free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    fuzz_in in = {data, size};
    unsigned flags = fuzz_u8(&in);
    size_t img_len = (size_t)fuzz_bytes_le(&in, 2);
    const uint8_t *img, *lab;
    img_len = fuzz_take(&in, img_len, &img);
    size_t lab_len = fuzz_take(&in, in.n, &lab);
    write_part(img_path, img, img_len, flags & 1);
    write_part(lab_path, lab, lab_len, (flags >> 1) & 1);

    sbp_diag diag;
    memset(&diag, 0x5a, sizeof diag); /* the loader must overwrite all of it */
    sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
    sbp_status st = sbp_dataset_load_idx(img_path, lab_path, &diag, &ds);
    fuzz_report("load_idx", st, diag.message);
    FUZZ_CHECK(fuzz_known_status(st));
    FUZZ_CHECK(diag.status == st);
    FUZZ_CHECK(fuzz_terminated(diag.message, sizeof diag.message));
    FUZZ_CHECK(fuzz_terminated(diag.file, sizeof diag.file));
    if (st == SBP_OK) {
        FUZZ_CHECK(ds != NULL);
        check_dataset(ds);
        sbp_dataset_free(ds);
    } else {
        FUZZ_CHECK(ds == NULL);
        FUZZ_CHECK(diag.message[0] != '\0');
        /* loader failures are about the files, never about the arguments */
        FUZZ_CHECK(st != SBP_E_INVALID && st != SBP_E_INTERNAL);
    }

    if (flags & 4) {
        /* The same files without a diagnostic: the same status. */
        sbp_dataset *ds2 = NULL;
        FUZZ_CHECK(sbp_dataset_load_idx(img_path, lab_path, NULL, &ds2) == st);
        sbp_dataset_free(ds2);
    }
    return 0;
}
