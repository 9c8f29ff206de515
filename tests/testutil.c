#define _XOPEN_SOURCE 700 /* nftw */
#include "testutil.h"

#include "alloc.h"
#include "rng.h"
#include "sbp/sbp.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int sbp_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

const char *sbp_test_tmpdir(void)
{
    static char dir[256];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sbp-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) return NULL;
    return dir;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void sbp_test_rmtree(const char *dir)
{
    if (dir) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *next_slot(void)
{
    static char slots[8][512];
    static int i;
    i = (i + 1) % 8;
    return slots[i];
}

const char *sbp_test_write(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = next_slot();
    snprintf(path, 512, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    if (len && fwrite(data, 1, len, f) != len) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    return path;
}

const char *sbp_test_write_gz(const char *dir, const char *name, const void *data, size_t len)
{
    char *path = next_slot();
    snprintf(path, 512, "%s/%s", dir, name);
    gzFile f = gzopen(path, "wb");
    if (!f) return NULL;
    if (len && gzwrite(f, data, (unsigned)len) != (int)len) {
        gzclose(f);
        return NULL;
    }
    gzclose(f);
    return path;
}

const char *sbp_test_shared_data(void)
{
    const char *dir = getenv("SBP_SHARED_DATA");
    struct stat st;
    if (dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return dir;
    printf("skipped: shared real data not found (SBP_SHARED_DATA=%s)\n", dir ? dir : "unset");
    return NULL;
}

sbp_dataset *sbp_test_prototypes(uint64_t seed, size_t n, size_t d, size_t k, size_t block,
                                 float on, float off, float noise)
{
    float *x = malloc(n * d * sizeof *x);
    int32_t *lab = malloc(n * sizeof *lab);
    ck_assert(x && lab);
    sbp__rng r;
    sbp__rng_init(&r, seed, 7);
    for (size_t i = 0; i < n; i++) {
        lab[i] = (int32_t)(i % k);
        for (size_t j = 0; j < d; j++) {
            float base = (j / block == (size_t)lab[i]) ? on : off;
            x[i * d + j] = base + noise * (float)sbp__rng_double(&r);
        }
    }
    sbp_dataset *ds = NULL;
    ck_assert_int_eq(sbp_dataset_create(n, d, x, lab, k, &ds), SBP_OK);
    free(x);
    free(lab);
    return ds;
}

void sbp_test_train_despite_alloc_failure(sbp_net *net, const sbp_dataset *ds, long n)
{
    double e;
    sbp__alloc_fail_after(n);
    sbp_status st = sbp_net_train_epoch(net, ds, &e);
    sbp__alloc_fail_after(-1);
    ck_assert(st == SBP_OK || st == SBP_E_NOMEM);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
}

int sbp_test_stop_at_20(void *user, size_t done, size_t total)
{
    (void)total;
    *(size_t *)user = done;
    return done >= 20;
}
