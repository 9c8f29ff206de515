/* Pair STDP with exponential traces, and the supervised output rule
 * (model.md 3). See stdp.h for the conventions. */
#include "stdp.h"

#include <math.h>

#include "../objects.h"

void sbp__stdp_from_rule(const struct sbp_rule *rule, sbp__stdp *out)
{
    double defaults[SBP__N_PARAMS];
    const double *v = rule ? rule->params : defaults;
    if (!rule) sbp__param_defaults(defaults);
    out->a_plus = (float)sbp__pv(v, SBP_STDP_A_PLUS);
    out->a_minus = (float)sbp__pv(v, SBP_STDP_A_MINUS);
    out->tau_plus = (float)sbp__pv(v, SBP_STDP_TAU_PLUS);
    out->tau_minus = (float)sbp__pv(v, SBP_STDP_TAU_MINUS);
    out->w_min = (float)sbp__pv(v, SBP_STDP_W_MIN);
    out->w_max = (float)sbp__pv(v, SBP_STDP_W_MAX);
    out->multiplicative = sbp__pv(v, SBP_STDP_MULTIPLICATIVE) != 0.0;
    out->eta = (float)sbp__pv(v, SBP_STDP_ETA);
}

float sbp__stdp_pair(const sbp__stdp *p, float dt)
{
    if (dt >= 0.0f) return p->a_plus * expf(-dt / p->tau_plus);
    return -p->a_minus * expf(dt / p->tau_minus);
}

float sbp__trace_decay(float tau, float dt)
{
    return expf(-dt / tau);
}

static inline float clip(float w, float lo, float hi)
{
    return w < lo ? lo : (w > hi ? hi : w);
}

/* Order within a step, so that a pre and a post spike in the same step
 * count as dt = 0 (potentiation, as sbp__stdp_pair):
 *   1. each pre spike depresses its row by x_post (post traces not yet
 *      holding this step's post spikes);
 *   2. pre traces += 1;
 *   3. each post spike potentiates its column by x_pre (now holding this
 *      step's pre spikes);
 *   4. post traces += 1.
 * Cost: n per pre spike, plus (active presynaptic rows) x (post spikes):
 * it scales with spikes, not with m x n. */
void sbp__stdp_step(const sbp__stdp *p, float *w, size_t m, size_t n, const uint32_t *pre_spk,
                    size_t n_pre, const uint32_t *post_spk, size_t n_post, float *x_pre,
                    float *x_post)
{
    const float lo = p->w_min, hi = p->w_max;
    const float ap = p->a_plus, am = p->a_minus;
    const float *restrict xpo = x_post;

    for (size_t s = 0; s < n_pre; s++) {
        size_t i = pre_spk[s];
        if (i >= m) continue;
        float *restrict row = w + i * n;
        if (p->multiplicative) {
            /* soft bound: the step shrinks as w nears w_min */
            for (size_t j = 0; j < n; j++)
                row[j] = clip(row[j] - am * xpo[j] * (row[j] - lo), lo, hi);
        } else {
            for (size_t j = 0; j < n; j++) row[j] = clip(row[j] - am * xpo[j], lo, hi);
        }
    }
    for (size_t s = 0; s < n_pre; s++)
        if (pre_spk[s] < m) x_pre[pre_spk[s]] += 1.0f;

    if (n_post > 0) {
        for (size_t i = 0; i < m; i++) {
            float xi = ap * x_pre[i];
            if (xi == 0.0f) continue; /* silent presynaptic neuron: nothing to do */
            float *row = w + i * n;
            for (size_t s = 0; s < n_post; s++) {
                size_t j = post_spk[s];
                if (j >= n) continue;
                float dw = p->multiplicative ? xi * (hi - row[j]) : xi;
                row[j] = clip(row[j] + dw, lo, hi);
            }
        }
    }
    for (size_t s = 0; s < n_post; s++)
        if (post_spk[s] < n) x_post[post_spk[s]] += 1.0f;
}

void sbp__stdp_supervised_step(const sbp__stdp *p, const float *x_pre, size_t m, size_t n,
                               const uint32_t *teach_spk, size_t n_teach,
                               const uint32_t *out_spk, size_t n_out, float *dw)
{
    /* Net sign per output: +1 teaching only, -1 output only, 0 both (so
     * the pair cancels exactly instead of leaving a rounding residue). */
    for (size_t a = 0; a < n_teach + n_out; a++) {
        int teach = a < n_teach;
        size_t k = teach ? teach_spk[a] : out_spk[a - n_teach];
        if (k >= n) continue;
        const uint32_t *other = teach ? out_spk : teach_spk;
        size_t n_other = teach ? n_out : n_teach;
        int both = 0;
        for (size_t b = 0; b < n_other && !both; b++) both = other[b] == k;
        if (both) continue;
        float g = teach ? p->eta : -p->eta;
        const float *restrict x = x_pre;
        float *restrict col = dw + k;
        for (size_t i = 0; i < m; i++) col[i * n] += g * x[i];
    }
}
