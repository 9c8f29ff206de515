/* Fuzz target: the dataset API (lib/data/dataset.c). The input gives the
 * shape and contents of a dataset (classification or arbitrary targets,
 * features that may be NaN or Inf, labels that may be out of range) and
 * then a program of subset / split / batch / sample / shuffle /
 * reset_order / normalize calls with fuzzed positions and counts, some far
 * beyond the data, and sizes beyond the documented limits (refused before
 * any buffer is read).
 *
 * Checked promises: pinned statuses; *out set exactly on success; shapes
 * preserved by subset and split; subset rows equal the batch rows at the
 * same positions; split sizes add up; shuffling permutes (label sum
 * unchanged); normalize gives values in [0,1] or refuses non-finite data;
 * out-of-range positions give SBP_E_RANGE without writing anything. */
#include <math.h>

#include "fuzz.h"
#include "sbp/sbp.h"

#define MAX_N 24
#define MAX_D 12
#define MAX_K 6

/* Sizes beyond the documented limits (docs/reliability.md, "Limits"). */
static const size_t huge[] = {((size_t)1 << 31) + 1, ((size_t)1 << 24) + 1,
                              ((size_t)1 << 16) + 1, (size_t)1 << 40, SIZE_MAX};

static size_t pick_pos(fuzz_in *in, size_t n)
{
    uint8_t b = fuzz_u8(in);
    if (b < 200) return n ? b % (n + 2) : b % 2; /* includes n and n+1 */
    if (b < 250) return huge[b % 5];
    return (size_t)fuzz_u64(in);
}

static float pick_value(fuzz_in *in, unsigned mode)
{
    if (mode == 0) return (float)fuzz_u8(in) / 255.0f;
    uint8_t b = fuzz_u8(in);
    if (b == 255) return fuzz_f32_bits(in);
    if (b == 254) return NAN;
    if (b == 253) return INFINITY;
    return (float)((int)b - 128) * 0.25f;
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

static void check_shape(const sbp_dataset *ds, size_t n, size_t d, size_t k)
{
    FUZZ_CHECK(sbp_dataset_count(ds) == n);
    FUZZ_CHECK(sbp_dataset_features(ds) == d);
    FUZZ_CHECK(sbp_dataset_targets(ds) == k);
    size_t c = sbp_dataset_classes(ds);
    FUZZ_CHECK(c == 0 || c == k);
    FUZZ_CHECK(fuzz_terminated(sbp_dataset_errmsg(ds), 512));
}

static int64_t label_sum(const sbp_dataset *ds)
{
    size_t n = sbp_dataset_count(ds);
    int32_t *lab = calloc(n, sizeof *lab);
    FUZZ_CHECK(lab != NULL);
    FUZZ_CHECK(sbp_dataset_batch(ds, 0, n, NULL, NULL, lab) == SBP_OK);
    int64_t s = 0;
    for (size_t i = 0; i < n; i++) s += lab[i];
    free(lab);
    return s;
}

/* Runs the operation program on ds (owned; replaced by results). */
static void run_ops(fuzz_in *in, sbp_dataset *ds)
{
    for (int steps = 0; fuzz_more(in) && steps < 64; steps++) {
        size_t n = sbp_dataset_count(ds), d = sbp_dataset_features(ds),
               k = sbp_dataset_targets(ds);
        uint8_t op = fuzz_u8(in);
        sbp_status st;
        switch (op % 9) {
        case 0: { /* subset */
            size_t start = pick_pos(in, n), count = pick_pos(in, n);
            sbp_dataset *sub = (sbp_dataset *)(uintptr_t)1;
            st = sbp_dataset_subset(ds, start, count, &sub);
            int fits = start <= n && count <= n - start && count > 0;
            FUZZ_CHECK(st == (fits ? SBP_OK : SBP_E_RANGE));
            FUZZ_CHECK((st == SBP_OK) == (sub != NULL));
            if (st != SBP_OK) break;
            check_shape(sub, count, d, k);
            float *a = calloc(count * d, sizeof *a), *b = calloc(count * d, sizeof *b);
            FUZZ_CHECK(a && b);
            FUZZ_CHECK(sbp_dataset_batch(ds, start, count, a, NULL, NULL) == SBP_OK);
            FUZZ_CHECK(sbp_dataset_batch(sub, 0, count, b, NULL, NULL) == SBP_OK);
            FUZZ_CHECK(memcmp(a, b, count * d * sizeof *a) == 0);
            free(a);
            free(b);
            if (op & 0x80) {
                sbp_dataset_free(ds);
                ds = sub;
            } else {
                sbp_dataset_free(sub);
            }
            break;
        }
        case 1: { /* split */
            size_t nv = pick_pos(in, n);
            uint8_t which = fuzz_u8(in);
            sbp_dataset *tr = (sbp_dataset *)(uintptr_t)1, *va = (sbp_dataset *)(uintptr_t)1;
            st = sbp_dataset_split(ds, nv, fuzz_u64(in), which & 1 ? NULL : &tr,
                                   which & 2 ? NULL : &va);
            FUZZ_CHECK(st == (nv >= 1 && nv < n ? SBP_OK : SBP_E_RANGE));
            if (!(which & 1)) FUZZ_CHECK((st == SBP_OK) == (tr != NULL));
            if (!(which & 2)) FUZZ_CHECK((st == SBP_OK) == (va != NULL));
            if (st != SBP_OK) break;
            if (!(which & 1)) check_shape(tr, n - nv, d, k);
            if (!(which & 2)) check_shape(va, nv, d, k);
            if (!(which & 3))
                FUZZ_CHECK(label_sum(tr) + label_sum(va) == label_sum(ds));
            if ((op & 0x80) && !(which & 1)) {
                sbp_dataset_free(ds);
                ds = tr;
                tr = NULL;
            }
            if (!(which & 1)) sbp_dataset_free(tr);
            if (!(which & 2)) sbp_dataset_free(va);
            break;
        }
        case 2: { /* batch */
            size_t start = pick_pos(in, n), count = pick_pos(in, n);
            size_t room = count <= n ? count : n;
            uint8_t outs = fuzz_u8(in);
            float *x = calloc(room * d + 1, sizeof *x), *t = calloc(room * k + 1, sizeof *t);
            int32_t *lab = calloc(room + 1, sizeof *lab);
            FUZZ_CHECK(x && t && lab);
            x[room * d] = t[room * k] = 42.0f;
            lab[room] = 42;
            st = sbp_dataset_batch(ds, start, count, outs & 1 ? x : NULL, outs & 2 ? t : NULL,
                                   outs & 4 ? lab : NULL);
            int fits = start <= n && count <= n - start;
            FUZZ_CHECK(st == (fits ? SBP_OK : SBP_E_RANGE));
            /* nothing past the requested rows is written */
            FUZZ_CHECK(x[room * d] == 42.0f && t[room * k] == 42.0f && lab[room] == 42);
            if (!fits && room > 0) FUZZ_CHECK(x[0] == 0.0f && t[0] == 0.0f && lab[0] == 0);
            for (size_t i = 0; st == SBP_OK && (outs & 4) && i < count; i++)
                FUZZ_CHECK(lab[i] >= -1 && (size_t)(lab[i] + 1) <= k);
            free(x);
            free(t);
            free(lab);
            break;
        }
        case 3: {
            int64_t before = label_sum(ds);
            FUZZ_CHECK(sbp_dataset_shuffle(ds, fuzz_u64(in)) == SBP_OK);
            FUZZ_CHECK(label_sum(ds) == before);
            break;
        }
        case 4: FUZZ_CHECK(sbp_dataset_reset_order(ds) == SBP_OK); break;
        case 5: {
            float *all = calloc(n * d, sizeof *all);
            FUZZ_CHECK(all != NULL);
            FUZZ_CHECK(sbp_dataset_batch(ds, 0, n, all, NULL, NULL) == SBP_OK);
            int finite = all_finite(all, n * d);
            st = sbp_dataset_normalize(ds);
            FUZZ_CHECK(st == (finite ? SBP_OK : SBP_E_NUMERIC));
            FUZZ_CHECK(sbp_dataset_batch(ds, 0, n, all, NULL, NULL) == SBP_OK);
            for (size_t i = 0; finite && i < n * d; i++)
                FUZZ_CHECK(all[i] >= 0.0f && all[i] <= 1.0f);
            free(all);
            break;
        }
        case 6: {
            size_t i = pick_pos(in, n);
            float x[MAX_D + 1], t[MAX_K + 1];
            int32_t lab = -7;
            x[d] = t[k] = 42.0f;
            st = sbp_dataset_sample(ds, i, x, t, &lab);
            FUZZ_CHECK(st == (i < n ? SBP_OK : SBP_E_RANGE));
            FUZZ_CHECK(x[d] == 42.0f && t[k] == 42.0f);
            if (st == SBP_OK) FUZZ_CHECK(lab >= -1 && (size_t)(lab + 1) <= k);
            else FUZZ_CHECK(lab == -7);
            break;
        }
        case 7: { /* NULL handle everywhere */
            sbp_dataset *out = (sbp_dataset *)(uintptr_t)1;
            FUZZ_CHECK(sbp_dataset_subset(NULL, 0, 1, &out) == SBP_E_INVALID && !out);
            FUZZ_CHECK(sbp_dataset_subset(ds, 0, 1, NULL) == SBP_E_INVALID);
            FUZZ_CHECK(sbp_dataset_split(NULL, 1, 0, &out, NULL) == SBP_E_INVALID && !out);
            FUZZ_CHECK(sbp_dataset_batch(NULL, 0, 0, NULL, NULL, NULL) == SBP_E_INVALID);
            FUZZ_CHECK(sbp_dataset_shuffle(NULL, 1) == SBP_E_INVALID);
            FUZZ_CHECK(sbp_dataset_normalize(NULL) == SBP_E_INVALID);
            FUZZ_CHECK(sbp_dataset_count(NULL) == 0);
            break;
        }
        default: check_shape(ds, n, d, k); break;
        }
    }
    sbp_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t mode = fuzz_u8(&in);
    size_t n = 1 + fuzz_u8(&in) % MAX_N, d = 1 + fuzz_u8(&in) % MAX_D,
           k = 1 + fuzz_u8(&in) % MAX_K;
    /* Sometimes sizes beyond the limits: refused before the buffers (sized
     * for the small shape) are read. */
    int over = 0;
    uint8_t h = fuzz_u8(&in);
    if (h >= 248) {
        over = 1;
        switch (h % 4) {
        case 0: n = huge[0]; break;
        case 1: d = huge[1]; break;
        case 2: k = huge[2]; break;
        default: n = huge[3]; d = huge[4]; break;
        }
    }
    size_t bn = over ? MAX_N : n, bd = over ? MAX_D : d, bk = over ? MAX_K : k;
    float *x = calloc(bn * bd, sizeof *x), *t = calloc(bn * bk, sizeof *t);
    int32_t *lab = calloc(bn, sizeof *lab);
    FUZZ_CHECK(x && t && lab);
    unsigned vmode = (mode >> 2) & 1;
    for (size_t i = 0; i < bn * bd; i++) x[i] = pick_value(&in, vmode);
    int labels_ok = 1;
    for (size_t i = 0; i < bn; i++) {
        /* mostly valid labels; -1 and k now and then */
        uint8_t b = fuzz_u8(&in);
        lab[i] = b >= 250 ? (b & 1 ? -1 : (int32_t)bk) : (int32_t)(b % bk);
        if (i < n && (lab[i] < 0 || (size_t)lab[i] >= k)) labels_ok = 0;
    }
    for (size_t i = 0; i < bn * bk; i++) t[i] = pick_value(&in, (mode >> 3) & 1);

    sbp_dataset *ds = (sbp_dataset *)(uintptr_t)1;
    sbp_status st;
    if (mode & 1) {
        st = sbp_dataset_create_targets(n, d, x, k, t, &ds);
        if (over) FUZZ_CHECK(st == SBP_E_TOO_LARGE);
        else FUZZ_CHECK(st == (all_finite(x, n * d) && all_finite(t, n * k) ? SBP_OK
                                                                           : SBP_E_NUMERIC));
    } else {
        st = sbp_dataset_create(n, d, x, lab, k, &ds);
        if (over) FUZZ_CHECK(st == SBP_E_TOO_LARGE); /* before reading the labels */
        else if (!labels_ok) FUZZ_CHECK(st == SBP_E_RANGE);
        else FUZZ_CHECK(st == (all_finite(x, n * d) ? SBP_OK : SBP_E_NUMERIC));
    }
    FUZZ_CHECK((st == SBP_OK) == (ds != NULL));
    free(x);
    free(t);
    free(lab);
    if (st != SBP_OK) return 0;
    check_shape(ds, n, d, k);
    if (!(mode & 1)) FUZZ_CHECK(sbp_dataset_classes(ds) == k);
    run_ops(&in, ds);
    return 0;
}
