/* Spike-timing-dependent plasticity with exponential traces (model.md 3).
 *
 * Pair STDP: every presynaptic spike leaves a trace x_pre that decays with
 * tau_plus, every postsynaptic spike a trace x_post decaying with
 * tau_minus. A post spike potentiates by a_plus * x_pre, a pre spike
 * depresses by a_minus * x_post, so a single pair at dt = t_post - t_pre
 * changes the weight by a_plus exp(-dt/tau_plus) (dt > 0) or
 * -a_minus exp(dt/tau_minus) (dt < 0). Multiplicative (soft-bound) form:
 * potentiation scaled by (w_max - w), depression by (w - w_min).
 *
 * Supervised STDP (the output rule): with presynaptic trace x_j,
 * dW_jk += eta x_j (teach_k(t) - out_k(t)) at every step. */
#ifndef SBP_STDP_H
#define SBP_STDP_H

#include <stddef.h>
#include <stdint.h>

struct sbp_rule;

typedef struct sbp__stdp {
    float a_plus, a_minus;     /* amplitudes */
    float tau_plus, tau_minus; /* ms */
    float w_min, w_max;
    int multiplicative;
    float eta;                 /* supervised rate */
} sbp__stdp;

/* Parameters of an STDP or supervised-STDP rule (NULL: the defaults). */
void sbp__stdp_from_rule(const struct sbp_rule *rule, sbp__stdp *out);

/* Closed form of one pre/post pair, dt = t_post - t_pre in ms (dt = 0:
 * potentiation), additive form. */
float sbp__stdp_pair(const sbp__stdp *p, float dt);

/* Trace decay factor for one step of dt ms: exp(-dt/tau). */
float sbp__trace_decay(float tau, float dt);

/* One step of pair STDP on a dense m x n weight matrix w (row-major, rows =
 * presynaptic). pre_spk / post_spk list the indices that spiked this step;
 * x_pre (m) / x_post (n) are the traces BEFORE this step's spikes are
 * added (they are updated here: decayed by the callers, incremented here).
 * Weights are clipped to [w_min, w_max]. Within the step pre spikes depress
 * first, then x_pre += 1, then post spikes potentiate, then x_post += 1,
 * so a pre and a post spike in the same step act as dt = 0 (as
 * sbp__stdp_pair). Only rows of pre spikes and, in rows with x_pre > 0,
 * columns of post spikes are touched. */
void sbp__stdp_step(const sbp__stdp *p, float *w, size_t m, size_t n, const uint32_t *pre_spk,
                    size_t n_pre, const uint32_t *post_spk, size_t n_post, float *x_pre,
                    float *x_post);

/* One step of supervised STDP (the output rule) into an accumulated change
 * dw (m x n, row-major, rows = presynaptic): for each output k in
 * teach_spk but not in out_spk, column k += eta * x_pre; for each k in
 * out_spk but not in teach_spk, column k -= eta * x_pre; a k in both lists
 * is left unchanged. x_pre (m) is the presynaptic trace (decay tau_plus)
 * including this step's presynaptic spikes. Cost O((n_teach + n_out) m +
 * n_teach n_out). Weights are not clipped here: the caller applies dw. */
void sbp__stdp_supervised_step(const sbp__stdp *p, const float *x_pre, size_t m, size_t n,
                               const uint32_t *teach_spk, size_t n_teach,
                               const uint32_t *out_spk, size_t n_out, float *dw);

#endif
