/* Homeostatic (adaptive) threshold (model.md 3). See homeo.h. */
#include "homeo.h"

#include <math.h>

#include "../objects.h"

void sbp__homeo_from_rule(const struct sbp_rule *rule, sbp__homeo *out)
{
    double defaults[SBP__N_PARAMS];
    const double *v = rule ? rule->params : defaults;
    if (!rule) sbp__param_defaults(defaults);
    out->theta_plus = (float)sbp__pv(v, SBP_HOMEO_THETA_PLUS);
    out->tau_theta = (float)sbp__pv(v, SBP_HOMEO_TAU_THETA);
    out->target_rate = (float)sbp__pv(v, SBP_HOMEO_TARGET_RATE);
}

/* Decay (or the target-rate drift) first, then this step's spikes, so that
 * a spike's increment is felt in full at the next step's comparison. */
void sbp__homeo_step(const sbp__homeo *p, float dt, float *a, size_t n, const uint32_t *spk,
                     size_t n_spk)
{
    float *restrict av = a;
    if (p->target_rate > 0.0f) {
        /* Integral control: over T steps a changes by theta_plus (spikes -
         * r dt T / 1000), so a bounded a forces the mean rate to r
         * (rate in Hz, dt in ms). */
        const float drift = p->theta_plus * p->target_rate * dt * 1e-3f;
        for (size_t i = 0; i < n; i++) av[i] -= drift;
    } else {
        const float q = expf(-dt / p->tau_theta);
        for (size_t i = 0; i < n; i++) av[i] *= q;
    }
    for (size_t s = 0; s < n_spk; s++)
        if (spk[s] < n) av[spk[s]] += p->theta_plus;
}
