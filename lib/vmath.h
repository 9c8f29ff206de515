/* Scalar elementwise math for the engines' hot loops (kernels_impl.h has
 * the vector forms, which perform the same operations lane by lane).
 *
 * glibc's expf is not vectorised without -ffast-math, and -ffast-math would
 * give up reproducible rounding. This exp is a fixed sequence of IEEE
 * operations (Cody-Waite range reduction + degree-6 polynomial, relative
 * error below 2e-7 on [-87, 87]), so the compiler can vectorise it and the
 * result is the same on every run of the same build. */
#ifndef SBP_VMATH_H
#define SBP_VMATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline float sbp__expf(float x)
{
    /* clamp to the range where 2^n is a normal float */
    x = x < -87.0f ? -87.0f : (x > 87.0f ? 87.0f : x);
    float t = x * 1.44269504088896341f + 0.5f;
    /* floor without a library call: truncate then fix negatives */
    int32_t n = (int32_t)t;
    n -= (float)n > t;
    float fn = (float)n;
    /* r = x - n*ln2, ln2 split in two for accuracy */
    float r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = (n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* The relax engine's squashing: 2/(1+exp(-z)) - 1 (= tanh(z/2)). */
static inline float sbp__sigma2(float z)
{
    return 2.0f / (1.0f + sbp__expf(-z)) - 1.0f;
}

static inline float sbp__relu(float z)
{
    return z > 0.0f ? z : 0.0f;
}

#endif
