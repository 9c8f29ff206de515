/* Spike encoders: turn a sample's features in [0,1] into input spikes
 * step by step (model.md 3). Each encoder draws from the generator it is
 * given, which the engine seeds per sample, so encodings do not depend on
 * threads. */
#ifndef SBP_ENCODE_H
#define SBP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

typedef struct sbp__encoder {
    int kind;        /* sbp_encoder */
    float max_rate;  /* Hz, Poisson: rate of a feature of value 1 */
    float dt;        /* ms per step */
    size_t steps;    /* steps per sample */
} sbp__encoder;

/* Indices of the inputs that spike at step t (0-based) of a sample with
 * features x (d), written to out (capacity d) in ascending order; returns
 * their count.
 * Poisson/Bernoulli: x_i * max_rate * dt / 1000 per step, independent;
 * one draw from rng per input with x_i > 0, none for the others.
 * Latency: one spike at step floor((1 - x_i) * (steps - 1)) for x_i > 0
 * (x_i >= 1: step 0); rng is not used and may be NULL.
 * Events: x holds per-step counts laid out step-major (steps x d); every
 * input with a count > 0 at step t spikes once (t >= steps: none); rng may
 * be NULL. */
size_t sbp__encode_step(const sbp__encoder *e, const float *x, size_t d, size_t t,
                        sbp__rng *rng, uint32_t *out);

/* The Poisson encoder with its per-sample work hoisted: sbp__encode_active
 * lists, once per sample, the inputs with a spike probability p > 0 (idx,
 * p; capacity d each) and returns their count; sbp__encode_poisson_step
 * then draws one Bernoulli per listed input. Together they give exactly
 * the spikes and random draws of sbp__encode_step's Poisson encoder,
 * without scanning the silent inputs at every step. */
size_t sbp__encode_active(const sbp__encoder *e, const float *x, size_t d, uint32_t *idx,
                          float *p);
size_t sbp__encode_poisson_step(const uint32_t *idx, const float *p, size_t n, sbp__rng *rng,
                                uint32_t *out);

/* Fills *out from a parameter values array (SBP_SPIKE_ENCODER, _MAX_RATE,
 * _DT, _STEPS; NULL: the table's defaults). The caller validates. */
void sbp__encoder_from_params(const double *values, sbp__encoder *out);

#endif
