/* The dataset handle: features, targets, labels and a presentation order.
 * Loaders (idx.c, ...) fill a handle made by sbp__dataset_new. */
#include <math.h>
#include <string.h>

#include "../alloc.h"
#include "../rng.h"
#include "dataset.h"

static int ok(const sbp_dataset *ds)
{
    return ds && ds->tag == SBP__TAG_DATASET;
}

/* The shape limits, checked before anything is allocated or read. */
static sbp_status check_shape(size_t n, size_t d, size_t k, size_t *nd, size_t *nk)
{
    if (n == 0 || d == 0 || k == 0) return SBP_E_RANGE;
    if (n > SBP__MAX_SAMPLES || d > SBP__MAX_FEATURES || k > SBP__MAX_TARGETS ||
        !sbp__mul_size(n, d, nd) || !sbp__mul_size(n, k, nk) ||
        *nd > SBP__MAX_DATASET_FLOATS || *nk > SBP__MAX_DATASET_FLOATS)
        return SBP_E_TOO_LARGE;
    return SBP_OK;
}

sbp_status sbp__dataset_new(size_t n, size_t d, size_t k, sbp_dataset **out)
{
    *out = NULL;
    size_t nd, nk;
    SBP_TRY(check_shape(n, d, k, &nd, &nk));
    sbp_dataset *ds = sbp__calloc(1, sizeof *ds);
    if (!ds) return SBP_E_NOMEM;
    ds->x = sbp__floats(nd);
    ds->y = sbp__floats(nk);
    ds->labels = sbp__calloc(n, sizeof *ds->labels);
    ds->order = sbp__calloc(n, sizeof *ds->order);
    if (!ds->x || !ds->y || !ds->labels || !ds->order) {
        sbp__free(ds->x);
        sbp__free(ds->y);
        sbp__free(ds->labels);
        sbp__free(ds->order);
        sbp__free(ds);
        return SBP_E_NOMEM;
    }
    ds->tag = SBP__TAG_DATASET;
    ds->n = n;
    ds->d = d;
    ds->k = k;
    for (size_t i = 0; i < n; i++) {
        ds->order[i] = i;
        ds->labels[i] = -1;
    }
    *out = ds;
    return SBP_OK;
}

void sbp__dataset_labels_from_targets(sbp_dataset *ds)
{
    int all_single = 1;
    for (size_t i = 0; i < ds->n; i++) {
        const float *t = ds->y + i * ds->k;
        size_t nz = 0, at = 0;
        for (size_t j = 0; j < ds->k; j++)
            if (t[j] != 0.0f) {
                nz++;
                at = j;
            }
        ds->labels[i] = nz == 1 ? (int32_t)at : -1;
        if (nz != 1) all_single = 0;
    }
    ds->n_classes = all_single ? ds->k : 0;
}

void sbp_dataset_free(sbp_dataset *ds)
{
    if (!ok(ds)) return;
    sbp__free(ds->x);
    sbp__free(ds->y);
    sbp__free(ds->labels);
    sbp__free(ds->order);
    ds->tag = SBP__TAG_FREED;
    sbp__free(ds);
}

static sbp_status check_finite(const float *v, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (!isfinite(v[i])) return SBP_E_NUMERIC;
    return SBP_OK;
}

sbp_status sbp_dataset_create(size_t n, size_t d, const float *x, const int32_t *labels,
                              size_t n_classes, sbp_dataset **out)
{
    if (!out) return SBP_E_INVALID;
    *out = NULL;
    if (!x || !labels) return SBP_E_INVALID;
    if (n_classes == 0) return SBP_E_RANGE;
    /* Sizes beyond the limits are refused before the caller's buffers are
     * read (found by tests/fuzz: labels were scanned first). */
    size_t nd, nk;
    SBP_TRY(check_shape(n, d, n_classes, &nd, &nk));
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= n_classes) return SBP_E_RANGE;
    sbp_dataset *ds;
    SBP_TRY(sbp__dataset_new(n, d, n_classes, &ds));
    if (check_finite(x, n * d) != SBP_OK) {
        sbp_dataset_free(ds);
        return SBP_E_NUMERIC;
    }
    memcpy(ds->x, x, n * d * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        ds->labels[i] = labels[i];
        ds->y[i * n_classes + (size_t)labels[i]] = 1.0f;
    }
    ds->n_classes = n_classes;
    *out = ds;
    return SBP_OK;
}

sbp_status sbp_dataset_create_targets(size_t n, size_t d, const float *x, size_t k,
                                      const float *targets, sbp_dataset **out)
{
    if (!out) return SBP_E_INVALID;
    *out = NULL;
    if (!x || !targets) return SBP_E_INVALID;
    sbp_dataset *ds;
    SBP_TRY(sbp__dataset_new(n, d, k, &ds));
    if (check_finite(x, n * d) != SBP_OK || check_finite(targets, n * k) != SBP_OK) {
        sbp_dataset_free(ds);
        return SBP_E_NUMERIC;
    }
    memcpy(ds->x, x, n * d * sizeof *x);
    memcpy(ds->y, targets, n * k * sizeof *targets);
    sbp__dataset_labels_from_targets(ds);
    *out = ds;
    return SBP_OK;
}

size_t sbp_dataset_count(const sbp_dataset *ds)
{
    return ok(ds) ? ds->n : 0;
}

size_t sbp_dataset_features(const sbp_dataset *ds)
{
    return ok(ds) ? ds->d : 0;
}

size_t sbp_dataset_targets(const sbp_dataset *ds)
{
    return ok(ds) ? ds->k : 0;
}

size_t sbp_dataset_classes(const sbp_dataset *ds)
{
    return ok(ds) ? ds->n_classes : 0;
}

const char *sbp_dataset_errmsg(const sbp_dataset *ds)
{
    return ok(ds) ? ds->errmsg : "not a dataset handle";
}

sbp_status sbp_dataset_sample(const sbp_dataset *ds, size_t i, float *x, float *target,
                              int32_t *label)
{
    if (!ok(ds)) return SBP_E_INVALID;
    char *err = (char *)ds->errmsg;
    SBP_RETURN_IF(i >= ds->n, err, SBP_E_RANGE, "sample %zu is past the end (%zu samples)", i,
                  ds->n);
    if (x) memcpy(x, ds->x + i * ds->d, ds->d * sizeof *x);
    if (target) memcpy(target, ds->y + i * ds->k, ds->k * sizeof *target);
    if (label) *label = ds->labels[i];
    return SBP_OK;
}

sbp_status sbp_dataset_shuffle(sbp_dataset *ds, uint64_t seed)
{
    if (!ok(ds)) return SBP_E_INVALID;
    sbp__rng rng;
    sbp__rng_init(&rng, seed, 0x5348554646ull /* "SHUFF" */);
    for (size_t i = ds->n; i > 1; i--) {
        size_t j = (size_t)sbp__rng_below(&rng, i);
        size_t t = ds->order[i - 1];
        ds->order[i - 1] = ds->order[j];
        ds->order[j] = t;
    }
    return SBP_OK;
}

sbp_status sbp_dataset_reset_order(sbp_dataset *ds)
{
    if (!ok(ds)) return SBP_E_INVALID;
    for (size_t i = 0; i < ds->n; i++) ds->order[i] = i;
    return SBP_OK;
}

static sbp_status check_range(const sbp_dataset *ds, size_t start, size_t count, const char *fn)
{
    char *err = (char *)ds->errmsg;
    SBP_RETURN_IF(start > ds->n || count > ds->n - start, err, SBP_E_RANGE,
                  "%s: samples [%zu, %zu+%zu) are not within the %zu samples", fn, start, start,
                  count, ds->n);
    return SBP_OK;
}

sbp_status sbp_dataset_batch(const sbp_dataset *ds, size_t start, size_t count, float *x,
                             float *targets, int32_t *labels)
{
    if (!ok(ds)) return SBP_E_INVALID;
    SBP_TRY(check_range(ds, start, count, "sbp_dataset_batch"));
    for (size_t b = 0; b < count; b++) {
        size_t i = ds->order[start + b];
        if (x) memcpy(x + b * ds->d, ds->x + i * ds->d, ds->d * sizeof *x);
        if (targets) memcpy(targets + b * ds->k, ds->y + i * ds->k, ds->k * sizeof *targets);
        if (labels) labels[b] = ds->labels[i];
    }
    return SBP_OK;
}

/* New dataset made of the samples order[pos[0..count)] of ds (or of
 * positions start.. when pos is NULL). */
static sbp_status gather(const sbp_dataset *ds, const size_t *pos, size_t start, size_t count,
                         sbp_dataset **out)
{
    sbp_dataset *r;
    sbp_status st = sbp__dataset_new(count, ds->d, ds->k, &r);
    if (st != SBP_OK)
        return sbp__fail((char *)ds->errmsg, st, "cannot make a dataset of %zu samples: %s",
                         count, sbp_status_str(st));
    for (size_t b = 0; b < count; b++) {
        size_t i = ds->order[pos ? pos[b] : start + b];
        memcpy(r->x + b * ds->d, ds->x + i * ds->d, ds->d * sizeof *r->x);
        memcpy(r->y + b * ds->k, ds->y + i * ds->k, ds->k * sizeof *r->y);
        r->labels[b] = ds->labels[i];
    }
    r->n_classes = ds->n_classes;
    *out = r;
    return SBP_OK;
}

sbp_status sbp_dataset_subset(const sbp_dataset *ds, size_t start, size_t count,
                              sbp_dataset **out)
{
    if (!out) return SBP_E_INVALID;
    *out = NULL;
    if (!ok(ds)) return SBP_E_INVALID;
    SBP_TRY(check_range(ds, start, count, "sbp_dataset_subset"));
    SBP_RETURN_IF(count == 0, (char *)ds->errmsg, SBP_E_RANGE, "sbp_dataset_subset: empty subset");
    return gather(ds, NULL, start, count, out);
}

sbp_status sbp_dataset_split(const sbp_dataset *ds, size_t n_validation, uint64_t seed,
                             sbp_dataset **train, sbp_dataset **validation)
{
    if (train) *train = NULL;
    if (validation) *validation = NULL;
    if (!ok(ds)) return SBP_E_INVALID;
    char *err = (char *)ds->errmsg;
    SBP_RETURN_IF(n_validation == 0 || n_validation >= ds->n, err, SBP_E_RANGE,
                  "sbp_dataset_split: validation size %zu must be in 1..%zu", n_validation,
                  ds->n - 1);
    size_t *pos = sbp__calloc(ds->n, sizeof *pos);
    SBP_RETURN_IF(!pos, err, SBP_E_NOMEM, "sbp_dataset_split: out of memory");
    for (size_t i = 0; i < ds->n; i++) pos[i] = i;
    sbp__rng rng;
    sbp__rng_init(&rng, seed, 0x53504C4954ull /* "SPLIT" */);
    for (size_t i = ds->n; i > 1; i--) {
        size_t j = (size_t)sbp__rng_below(&rng, i);
        size_t t = pos[i - 1];
        pos[i - 1] = pos[j];
        pos[j] = t;
    }
    sbp_dataset *v = NULL, *t = NULL;
    sbp_status st = SBP_OK;
    if (validation) st = gather(ds, pos, 0, n_validation, &v);
    if (st == SBP_OK && train) st = gather(ds, pos + n_validation, 0, ds->n - n_validation, &t);
    sbp__free(pos);
    if (st != SBP_OK) {
        sbp_dataset_free(v);
        sbp_dataset_free(t);
        return st;
    }
    if (validation) *validation = v;
    if (train) *train = t;
    return SBP_OK;
}

sbp_status sbp_dataset_normalize(sbp_dataset *ds)
{
    if (!ok(ds)) return SBP_E_INVALID;
    size_t count = ds->n * ds->d;
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < count; i++) {
        float v = ds->x[i];
        SBP_RETURN_IF(!isfinite(v), ds->errmsg, SBP_E_NUMERIC,
                      "sbp_dataset_normalize: feature %zu of sample %zu is not finite",
                      i % ds->d, i / ds->d);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    float span = hi - lo;
    for (size_t i = 0; i < count; i++) ds->x[i] = span > 0.0f ? (ds->x[i] - lo) / span : 0.0f;
    return SBP_OK;
}
