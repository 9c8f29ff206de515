/* The parameter table: one row per public sbp_param, with its owner group,
 * type, bounds and default. Handles store values in a dense array indexed by
 * the row number ("slot"). */
#ifndef SBP_PARAM_H
#define SBP_PARAM_H

#include "internal.h"

typedef enum sbp__param_group {
    SBP__G_NET = 1,
    SBP__G_RELAX,
    SBP__G_SPIKE,
    SBP__G_ANN,
    SBP__G_LAYER,
    SBP__G_SPREAD,
    SBP__G_STDP,
    SBP__G_STP,
    SBP__G_HOMEO,
    SBP__G_CD
} sbp__param_group;

typedef struct sbp__param_row {
    sbp_param id;
    sbp__param_group group;
    sbp_param_desc desc;
} sbp__param_row;

/* Number of rows; value arrays have this many doubles. */
#define SBP__N_PARAMS 96

/* Row of a parameter, or NULL if unknown. */
const sbp__param_row *sbp__param_row_of(sbp_param id);
/* Slot (row index) of a known parameter; -1 if unknown. */
int sbp__param_slot(sbp_param id);
size_t sbp__param_count(void);
const sbp__param_row *sbp__param_row_at(size_t slot);

/* Fills values[] with the defaults (NaN where engine-dependent). */
void sbp__param_defaults(double *values);

/* Checks and stores a value into values[] if the parameter belongs to one of
 * the allowed groups (mask of 1u << group). `what` names the handle kind in
 * messages ("network", "layer", "rule 'stdp'"). */
sbp_status sbp__param_set(double *values, unsigned group_mask, const char *what,
                          sbp_param id, double value, int is_int, char *errbuf);
sbp_status sbp__param_get(const double *values, unsigned group_mask, const char *what,
                          sbp_param id, double *value, char *errbuf);

/* Reads a stored value (known parameter only; used by engines). */
double sbp__pv(const double *values, sbp_param id);

#endif
