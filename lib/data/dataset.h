/* Private layout of the dataset handle, shared by the loaders. */
#ifndef SBP_DATASET_H
#define SBP_DATASET_H

#include "../internal.h"

struct sbp_dataset {
    uint32_t tag;
    size_t n;          /* samples */
    size_t d;          /* features per sample */
    size_t k;          /* target units per sample */
    size_t n_classes;  /* k when every sample has a single-class label, else 0 */
    float *x;          /* n*d, row-major */
    float *y;          /* n*k, row-major */
    int32_t *labels;   /* n; -1 where the target is not a single class */
    size_t *order;     /* presentation order, a permutation of 0..n-1 */
    char errmsg[SBP__MSG_MAX];
};

/* Documented limits (docs/reliability.md, "Limits"): checked before any
 * allocation and before any caller buffer is read. */
#define SBP__MAX_SAMPLES ((size_t)1 << 31)
#define SBP__MAX_FEATURES ((size_t)1 << 24)
#define SBP__MAX_TARGETS ((size_t)1 << 16)
#define SBP__MAX_DATASET_FLOATS ((size_t)1 << 34) /* 64 GiB of features */

/* Allocates a zeroed dataset with identity order, labels all -1.
 * Returns SBP_E_TOO_LARGE beyond the limits, SBP_E_NOMEM on failure. */
sbp_status sbp__dataset_new(size_t n, size_t d, size_t k, sbp_dataset **out);

/* Sets labels from one-hot/multi-hot targets (label = the single non-zero
 * unit, else -1) and n_classes accordingly. */
void sbp__dataset_labels_from_targets(sbp_dataset *ds);

#endif
