/* Private layouts of the layer and rule description handles, shared by
 * layer.c, rule.c and net.c (which keeps copies of both). */
#ifndef SBP_OBJECTS_H
#define SBP_OBJECTS_H

#include "param.h"

struct sbp_layer {
    uint32_t tag;
    size_t size;
    double params[SBP__N_PARAMS];
    char errmsg[SBP__MSG_MAX];
};

struct sbp_rule {
    uint32_t tag;
    sbp_rule_kind kind;
    double params[SBP__N_PARAMS];
    char errmsg[SBP__MSG_MAX];
};

#define SBP__RULE_KINDS 6 /* highest sbp_rule_kind value */

/* Parameter group mask of a rule kind. */
unsigned sbp__rule_group_mask(sbp_rule_kind kind);

/* Integer getter shared by all handles: 0 for an engine-chosen default. */
sbp_status sbp__param_get_int(const double *values, unsigned mask, const char *what,
                              sbp_param param, int64_t *value, char *errbuf);

#define SBP__LAYER_MAX_SIZE ((size_t)1 << 28)

#endif
