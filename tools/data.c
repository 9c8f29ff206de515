/* Choosing the MNIST directory and loading it, for the `sbp` command
 * (declared in tool.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "events_task.h"
#include "msg.h"
#include "tool.h"

#ifndef SBP_SOURCE_DIR
#define SBP_SOURCE_DIR ""
#endif
#ifndef SBP_DATA_INSTALL_DIR
#define SBP_DATA_INSTALL_DIR ""
#endif

int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An explicitly named directory must exist. */
static int check_named_dir(const char *what, const char *path)
{
    struct stat st;
    if (strlen(path) >= PATH_BUF) return fail("%s: path too long", what);
    if (stat(path, &st) != 0) return fail("%s: '%s': %s", what, path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return fail("%s: '%s': not a directory", what, path);
    return 0;
}

/* --data, else $SBP_DATA, else the bundled sample: ./data/mnist, then the
 * source tree the tool was built from, then the installed share dir. */
int resolve_data_dir(const args *a, data_dir *dd)
{
    memset(dd, 0, sizeof *dd);
    const char *env = getenv("SBP_DATA");
    if (a->given[OPT_DATA]) {
        if (check_named_dir("--data", a->val[OPT_DATA])) return EXIT_FAIL;
        snprintf(dd->path, sizeof dd->path, "%s", a->val[OPT_DATA]);
        dd->source = "--data";
        return 0;
    }
    if (env && *env) {
        if (check_named_dir("SBP_DATA", env)) return EXIT_FAIL;
        snprintf(dd->path, sizeof dd->path, "%s", env);
        dd->source = "$SBP_DATA";
        return 0;
    }
    char cand[3][PATH_BUF];
    const char *src[3];
    size_t n = 0;
    src[n] = "bundled sample, current directory";
    snprintf(cand[n++], PATH_BUF, "data/mnist");
    if (SBP_SOURCE_DIR[0]) {
        src[n] = "bundled sample, source tree";
        snprintf(cand[n++], PATH_BUF, "%s/data/mnist", SBP_SOURCE_DIR);
    }
    if (SBP_DATA_INSTALL_DIR[0]) {
        src[n] = "installed sample";
        snprintf(cand[n++], PATH_BUF, "%s", SBP_DATA_INSTALL_DIR);
    }
    for (size_t i = 0; i < n; i++) {
        if (is_dir(cand[i])) {
            memcpy(dd->path, cand[i], sizeof dd->path);
            dd->source = src[i];
            return 0;
        }
    }
    return fail("no MNIST data found (tried %s%s%s%s%s); use --data DIR or set SBP_DATA", cand[0],
                n > 1 ? ", " : "", n > 1 ? cand[1] : "", n > 2 ? ", " : "", n > 2 ? cand[2] : "");
}

static const char *part_name(sbp_mnist_part part)
{
    return part == SBP_MNIST_TRAIN ? "training set" : "test set";
}

int load_part(const data_dir *dd, sbp_mnist_part part, size_t limit, sbp_dataset **out)
{
    sbp_diag diag;
    memset(&diag, 0, sizeof diag);
    sbp_dataset *ds = NULL;
    *out = NULL;
    sbp_status st = sbp_dataset_load_mnist(dd->path, part, &diag, &ds);
    if (st != SBP_OK) {
        char ctx[PATH_BUF + 64];
        snprintf(ctx, sizeof ctx, "cannot load the MNIST %s from '%s'", part_name(part), dd->path);
        return lib_fail(ctx, st, diag.message);
    }
    if (sbp_dataset_features(ds) != MNIST_FEATURES || sbp_dataset_classes(ds) != MNIST_CLASSES) {
        int rc = fail("'%s': the MNIST %s has %zu features and %zu classes, expected %d and %d",
                      dd->path, part_name(part), sbp_dataset_features(ds),
                      sbp_dataset_classes(ds), MNIST_FEATURES, MNIST_CLASSES);
        sbp_dataset_free(ds);
        return rc;
    }
    if (limit > 0 && limit < sbp_dataset_count(ds)) {
        sbp_dataset *sub = NULL;
        st = sbp_dataset_subset(ds, 0, limit, &sub);
        if (st != SBP_OK) {
            int rc = lib_fail("cannot take the first samples", st, sbp_dataset_errmsg(ds));
            sbp_dataset_free(ds);
            return rc;
        }
        sbp_dataset_free(ds);
        ds = sub;
    }
    *out = ds;
    return 0;
}

/* Loads both parts and says on stderr what was used. */
int load_mnist(const data_dir *dd, size_t train_limit, size_t test_limit, int quiet,
               sbp_dataset **train, sbp_dataset **test)
{
    *train = *test = NULL;
    int rc = load_part(dd, SBP_MNIST_TRAIN, train_limit, train);
    if (rc) return rc;
    rc = load_part(dd, SBP_MNIST_TEST, test_limit, test);
    if (rc) {
        sbp_dataset_free(*train);
        *train = NULL;
        return rc;
    }
    note(quiet, "data: %s (%s): %zu training and %zu test samples", dd->path, dd->source,
         sbp_dataset_count(*train), sbp_dataset_count(*test));
    return 0;
}


/* ------------------------------------------------------------------------ */
/* NETtalk                                                                   */
/* ------------------------------------------------------------------------ */

/* --data, else the bundled corpus: ./data/nettalk, the source tree's, then
 * the installed share dir (next to the installed MNIST sample). $SBP_DATA
 * names an MNIST directory and is not used. */
static int resolve_nettalk_dir(const args *a, data_dir *dd)
{
    memset(dd, 0, sizeof *dd);
    if (a->given[OPT_DATA]) {
        if (check_named_dir("--data", a->val[OPT_DATA])) return EXIT_FAIL;
        snprintf(dd->path, sizeof dd->path, "%s", a->val[OPT_DATA]);
        dd->source = "--data";
        return 0;
    }
    char cand[3][PATH_BUF];
    const char *src[3];
    size_t n = 0;
    src[n] = "bundled corpus, current directory";
    snprintf(cand[n++], PATH_BUF, "data/nettalk");
    if (SBP_SOURCE_DIR[0]) {
        src[n] = "bundled corpus, source tree";
        snprintf(cand[n++], PATH_BUF, "%s/data/nettalk", SBP_SOURCE_DIR);
    }
    /* SBP_DATA_INSTALL_DIR is .../share/libsbp/mnist */
    const char *inst = SBP_DATA_INSTALL_DIR;
    const char *slash = strrchr(inst, '/');
    if (slash && slash > inst) {
        src[n] = "installed corpus";
        snprintf(cand[n++], PATH_BUF, "%.*s/nettalk", (int)(slash - inst), inst);
    }
    for (size_t i = 0; i < n; i++) {
        if (is_dir(cand[i])) {
            memcpy(dd->path, cand[i], sizeof dd->path);
            dd->source = src[i];
            return 0;
        }
    }
    return fail("no NETtalk data found (tried %s%s%s%s%s); use --data DIR", cand[0],
                n > 1 ? ", " : "", n > 1 ? cand[1] : "", n > 2 ? ", " : "", n > 2 ? cand[2] : "");
}

int resolve_task_dir(const args *a, int task, data_dir *dd)
{
    if (is_events_task(task)) return resolve_events_dir(a, task, dd);
    return task == TASK_NETTALK ? resolve_nettalk_dir(a, dd) : resolve_data_dir(a, dd);
}

const char *nettalk_split_text(sbp_nettalk_split split, uint64_t seed, char *buf, size_t size)
{
    if (split == SBP_NETTALK_PAPER)
        snprintf(buf, size, "paper split");
    else if (split == SBP_NETTALK_PAPER_VAL)
        snprintf(buf, size,
                 "paper-val split, seed %" PRIu64 ": test = held-out words of the paper's "
                 "training list",
                 seed);
    else
        snprintf(buf, size, "word split, seed %" PRIu64, seed);
    return buf;
}

int load_nettalk(const data_dir *dd, sbp_nettalk_split split, uint64_t split_seed,
                 size_t train_limit, size_t test_limit, int quiet, sbp_dataset **train,
                 sbp_dataset **test, sbp_nettalk_codes *codes)
{
    sbp_diag diag;
    memset(&diag, 0, sizeof diag);
    *train = *test = NULL;
    sbp_dataset *tr = NULL, *te = NULL;
    sbp_status st = sbp_nettalk_load(dd->path, split, split_seed, &diag, &tr, &te);
    if (st == SBP_OK) st = sbp_nettalk_load_codes(dd->path, &diag, codes);
    if (st != SBP_OK) {
        sbp_dataset_free(tr);
        sbp_dataset_free(te);
        char ctx[PATH_BUF + 64];
        snprintf(ctx, sizeof ctx, "cannot load NETtalk from '%s'", dd->path);
        return lib_fail(ctx, st, diag.message);
    }
    size_t n_test_all = sbp_dataset_count(te);
    if (train_limit > 0 && train_limit < sbp_dataset_count(tr)) {
        sbp_dataset *sub = NULL;
        st = sbp_dataset_subset(tr, 0, train_limit, &sub);
        sbp_dataset_free(tr);
        tr = sub;
    }
    /* The test windows are in corpus (alphabetical) order: take a seeded
     * sample, not the first N. */
    size_t want = test_limit == 0 ? NETTALK_TEST_SAMPLE : test_limit;
    if (st == SBP_OK && want < n_test_all) {
        sbp_dataset *sample = NULL;
        st = sbp_dataset_split(te, want, NETTALK_DATA_SEED, NULL, &sample);
        if (st != SBP_OK) {
            sbp_dataset_free(tr);
            int rc = lib_fail("cannot sample the test windows", st, sbp_dataset_errmsg(te));
            sbp_dataset_free(te);
            return rc;
        }
        sbp_dataset_free(te);
        te = sample;
    }
    if (st != SBP_OK || !tr) {
        sbp_dataset_free(tr);
        sbp_dataset_free(te);
        return lib_fail("cannot take the first training windows", st, NULL);
    }
    char split_name[128];
    nettalk_split_text(split, split_seed, split_name, sizeof split_name);
    char sampled[64] = "";
    if (sbp_dataset_count(te) < n_test_all)
        snprintf(sampled, sizeof sampled, " (a seeded sample of the %zu)", n_test_all);
    note(quiet, "data: NETtalk %s (%s), %s: %zu training windows, %zu test windows%s",
         dd->path, dd->source, split_name, sbp_dataset_count(tr), sbp_dataset_count(te),
         sampled);
    *train = tr;
    *test = te;
    return 0;
}
