/* Plasticity rule descriptions: a kind and its parameters. Engines read
 * the copies attached to a network; the rule algorithms live in rules/. */
#include "alloc.h"
#include "objects.h"

static const char *const kind_names[SBP__RULE_KINDS + 1] = {
    [SBP_RULE_STDP] = "stdp",
    [SBP_RULE_SUPERVISED_STDP] = "supervised_stdp",
    [SBP_RULE_STP] = "stp",
    [SBP_RULE_HOMEOSTASIS] = "homeostasis",
    [SBP_RULE_SBP_SPREAD] = "sbp_spread",
    [SBP_RULE_RBM_CD] = "rbm_cd",
};

const char *sbp_rule_kind_name(sbp_rule_kind kind)
{
    if ((unsigned)kind > SBP__RULE_KINDS) return NULL;
    return kind_names[kind];
}

unsigned sbp__rule_group_mask(sbp_rule_kind kind)
{
    switch (kind) {
    case SBP_RULE_STDP:
    case SBP_RULE_SUPERVISED_STDP: return 1u << SBP__G_STDP;
    case SBP_RULE_STP: return 1u << SBP__G_STP;
    case SBP_RULE_HOMEOSTASIS: return 1u << SBP__G_HOMEO;
    case SBP_RULE_SBP_SPREAD: return 1u << SBP__G_SPREAD;
    case SBP_RULE_RBM_CD: return 1u << SBP__G_CD;
    }
    return 0;
}

sbp_status sbp_rule_create(sbp_rule_kind kind, sbp_rule **out)
{
    if (!out) return SBP_E_INVALID;
    *out = NULL;
    if (!sbp_rule_kind_name(kind)) return SBP_E_INVALID;
    sbp_rule *r = sbp__calloc(1, sizeof *r);
    if (!r) return SBP_E_NOMEM;
    r->tag = SBP__TAG_RULE;
    r->kind = kind;
    sbp__param_defaults(r->params);
    *out = r;
    return SBP_OK;
}

void sbp_rule_free(sbp_rule *rule)
{
    if (!rule || rule->tag != SBP__TAG_RULE) return;
    rule->tag = SBP__TAG_FREED;
    sbp__free(rule);
}

static int ok(const sbp_rule *r)
{
    return r && r->tag == SBP__TAG_RULE;
}

sbp_rule_kind sbp_rule_get_kind(const sbp_rule *rule)
{
    return ok(rule) ? rule->kind : (sbp_rule_kind)0;
}

static const char *what(const sbp_rule *r)
{
    return sbp_rule_kind_name(r->kind);
}

sbp_status sbp_rule_set_int(sbp_rule *rule, sbp_param param, int64_t value)
{
    if (!ok(rule)) return SBP_E_INVALID;
    return sbp__param_set(rule->params, sbp__rule_group_mask(rule->kind), what(rule), param,
                          (double)value, 1, rule->errmsg);
}

sbp_status sbp_rule_set_real(sbp_rule *rule, sbp_param param, double value)
{
    if (!ok(rule)) return SBP_E_INVALID;
    return sbp__param_set(rule->params, sbp__rule_group_mask(rule->kind), what(rule), param,
                          value, 0, rule->errmsg);
}

sbp_status sbp_rule_get_int(const sbp_rule *rule, sbp_param param, int64_t *value)
{
    if (!ok(rule)) return SBP_E_INVALID;
    return sbp__param_get_int(rule->params, sbp__rule_group_mask(rule->kind), what(rule), param,
                              value, (char *)rule->errmsg);
}

sbp_status sbp_rule_get_real(const sbp_rule *rule, sbp_param param, double *value)
{
    if (!ok(rule)) return SBP_E_INVALID;
    return sbp__param_get(rule->params, sbp__rule_group_mask(rule->kind), what(rule), param,
                          value, (char *)rule->errmsg);
}

const char *sbp_rule_errmsg(const sbp_rule *rule)
{
    return ok(rule) ? rule->errmsg : "not a rule handle";
}
