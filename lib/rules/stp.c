/* Tsodyks-Markram short-term plasticity (model.md 3). The resting state
 * is (u, x) = (U, 1): where both relax to. */
#include "stp.h"

#include <math.h>

#include "../objects.h"

void sbp__stp_from_rule(const struct sbp_rule *rule, sbp__stp *out)
{
    double defaults[SBP__N_PARAMS];
    const double *v = rule ? rule->params : defaults;
    if (!rule) sbp__param_defaults(defaults);
    out->U = (float)sbp__pv(v, SBP_STP_U);
    out->tau_f = (float)sbp__pv(v, SBP_STP_TAU_F);
    out->tau_d = (float)sbp__pv(v, SBP_STP_TAU_D);
}

/* Both variables obey linear first-order relaxation, so the exact solution
 * over any interval is one exponential: no step-size error, and an
 * event-driven engine can update a synapse only when its neuron spikes. */
void sbp__stp_relax(const sbp__stp *p, float elapsed, float *u, float *x)
{
    if (elapsed <= 0.0f) return;
    float ef = expf(-elapsed / p->tau_f);
    float ed = expf(-elapsed / p->tau_d);
    *u = p->U + (*u - p->U) * ef;
    *x = 1.0f + (*x - 1.0f) * ed;
}

float sbp__stp_spike(const sbp__stp *p, float *u, float *x)
{
    float uu = *u + p->U * (1.0f - *u);
    float eff = uu * *x;
    *u = uu;
    *x = *x - eff;
    return eff;
}
