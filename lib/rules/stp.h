/* Tsodyks-Markram short-term plasticity per presynaptic neuron (model.md 3):
 * between spikes u relaxes to U with tau_f and x to 1 with tau_d; at a
 * spike u <- u + U (1 - u), the spike's efficacy is u x, then x <- x - u x.
 * (The relax engine's per-neuron form lives in relax.c.) */
#ifndef SBP_STP_H
#define SBP_STP_H

struct sbp_rule;

typedef struct sbp__stp {
    float U, tau_f, tau_d; /* tau in ms */
} sbp__stp;

void sbp__stp_from_rule(const struct sbp_rule *rule, sbp__stp *out);

/* Exact relaxation of (u, x) over `elapsed` ms without spikes. */
void sbp__stp_relax(const sbp__stp *p, float elapsed, float *u, float *x);

/* A spike: updates (u, x) and returns its efficacy u x. */
float sbp__stp_spike(const sbp__stp *p, float *u, float *x);

#endif
