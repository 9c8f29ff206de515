/* Spike encoders (model.md 3). See encode.h. */
#include "encode.h"

#include <math.h>

#include "param.h"
#include "sbp/sbp.h"

void sbp__encoder_from_params(const double *values, sbp__encoder *out)
{
    double defaults[SBP__N_PARAMS];
    if (!values) {
        sbp__param_defaults(defaults);
        values = defaults;
    }
    out->kind = (int)sbp__pv(values, SBP_SPIKE_ENCODER);
    out->max_rate = (float)sbp__pv(values, SBP_SPIKE_MAX_RATE);
    out->dt = (float)sbp__pv(values, SBP_SPIKE_DT);
    out->steps = (size_t)sbp__pv(values, SBP_SPIKE_STEPS);
}

/* Bernoulli per input and step. Inputs with p <= 0 draw nothing: MNIST is
 * mostly zeros, and the draws still depend only on (x, rng), so the result
 * is as deterministic as drawing for every input. */
static size_t poisson(const sbp__encoder *e, const float *x, size_t d, sbp__rng *rng,
                      uint32_t *out)
{
    const float scale = e->max_rate * e->dt * 1e-3f; /* Hz * ms -> probability */
    size_t c = 0;
    for (size_t i = 0; i < d; i++) {
        float p = x[i] * scale;
        if (!(p > 0.0f)) continue; /* also skips NaN */
        if (sbp__rng_float(rng) < p) out[c++] = (uint32_t)i;
    }
    return c;
}

size_t sbp__encode_active(const sbp__encoder *e, const float *x, size_t d, uint32_t *idx,
                          float *p)
{
    const float scale = e->max_rate * e->dt * 1e-3f; /* as poisson() */
    size_t c = 0;
    for (size_t i = 0; i < d; i++) {
        float pi = x[i] * scale;
        if (!(pi > 0.0f)) continue;
        idx[c] = (uint32_t)i;
        p[c++] = pi;
    }
    return c;
}

size_t sbp__encode_poisson_step(const uint32_t *idx, const float *p, size_t n, sbp__rng *rng,
                                uint32_t *out)
{
    size_t c = 0;
    for (size_t a = 0; a < n; a++)
        if (sbp__rng_float(rng) < p[a]) out[c++] = idx[a];
    return c;
}

static size_t latency(const sbp__encoder *e, const float *x, size_t d, size_t t, uint32_t *out)
{
    if (e->steps == 0) return 0;
    const double last = (double)(e->steps - 1);
    size_t c = 0;
    for (size_t i = 0; i < d; i++) {
        float xi = x[i];
        if (!(xi > 0.0f)) continue;
        /* x >= 1 fires at once (guards the float-to-size_t conversion) */
        size_t at = xi >= 1.0f ? 0 : (size_t)floor((1.0 - (double)xi) * last);
        if (at == t) out[c++] = (uint32_t)i;
    }
    return c;
}

static size_t events(const sbp__encoder *e, const float *x, size_t d, size_t t, uint32_t *out)
{
    if (t >= e->steps) return 0;
    const float *row = x + t * d;
    size_t c = 0;
    for (size_t i = 0; i < d; i++)
        if (row[i] > 0.0f) out[c++] = (uint32_t)i;
    return c;
}

size_t sbp__encode_step(const sbp__encoder *e, const float *x, size_t d, size_t t,
                        sbp__rng *rng, uint32_t *out)
{
    switch (e->kind) {
    case SBP_ENCODER_POISSON: return rng ? poisson(e, x, d, rng, out) : 0;
    case SBP_ENCODER_LATENCY: return latency(e, x, d, t, out);
    case SBP_ENCODER_EVENTS: return events(e, x, d, t, out);
    default: return 0;
    }
}
