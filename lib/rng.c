#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sbp__rng_init(sbp__rng *rng, uint64_t seed, uint64_t stream)
{
    /* Mix the stream through splitmix first so that neighbouring streams
     * start in unrelated states. */
    uint64_t x = seed;
    uint64_t k = splitmix64(&x) ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&k);
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3])) rng->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sbp__rng_u64(sbp__rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sbp__rng_double(sbp__rng *rng)
{
    return (double)(sbp__rng_u64(rng) >> 11) * 0x1.0p-53;
}

float sbp__rng_float(sbp__rng *rng)
{
    return (float)(sbp__rng_u64(rng) >> 40) * 0x1.0p-24f;
}

uint64_t sbp__rng_below(sbp__rng *rng, uint64_t n)
{
    /* Rejection on the top of the range keeps the result unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do {
        r = sbp__rng_u64(rng);
    } while (r >= limit);
    return r % n;
}

double sbp__rng_normal(sbp__rng *rng)
{
    double u1;
    do {
        u1 = sbp__rng_double(rng);
    } while (u1 <= 0.0);
    double u2 = sbp__rng_double(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
