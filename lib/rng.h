/* Seeded pseudo-random numbers, one generator per handle (no global state).
 *
 * xoshiro256** (Blackman & Vigna, 2018) seeded through splitmix64. A
 * generator is defined by (seed, stream): work split across threads takes
 * one stream per work item (sample, chunk), never per thread, so results do
 * not depend on how many threads run. */
#ifndef SBP_RNG_H
#define SBP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sbp__rng {
    uint64_t s[4];
} sbp__rng;

void sbp__rng_init(sbp__rng *rng, uint64_t seed, uint64_t stream);
uint64_t sbp__rng_u64(sbp__rng *rng);
/* Uniform in [0,1) with 53 random bits. */
double sbp__rng_double(sbp__rng *rng);
/* Uniform in [0,1) with 24 random bits (exactly representable). */
float sbp__rng_float(sbp__rng *rng);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t sbp__rng_below(sbp__rng *rng, uint64_t n);
/* Standard normal (Box-Muller on the double stream). */
double sbp__rng_normal(sbp__rng *rng);

#endif
