/* Homeostatic threshold (model.md 3): theta_j = theta_0 + a_j, where a_j
 * grows by theta_plus at each spike of j and decays with tau_theta. With
 * a target rate r > 0, a_j instead follows
 * a_j += theta_plus * (spiked - r dt) each step (no decay), which drives
 * the rate towards r. */
#ifndef SBP_HOMEO_H
#define SBP_HOMEO_H

#include <stddef.h>
#include <stdint.h>

struct sbp_rule;

typedef struct sbp__homeo {
    float theta_plus, tau_theta, target_rate; /* -, ms, Hz */
} sbp__homeo;

void sbp__homeo_from_rule(const struct sbp_rule *rule, sbp__homeo *out);

/* One step of dt ms for n neurons: adaptation a (n) decays (or is pushed
 * towards the target rate); neurons listed in spk (n_spk) spiked. */
void sbp__homeo_step(const sbp__homeo *p, float dt, float *a, size_t n, const uint32_t *spk,
                     size_t n_spk);

#endif
