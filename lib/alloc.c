#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Test hook state. It is the only mutable file-scope state in the library
 * and is written by tests only (sbp__alloc_fail_after is not exported). */
static long fail_after = -1;

static int should_fail(void)
{
    if (fail_after < 0) return 0;
    if (fail_after == 0) return 1;
    fail_after--;
    return 0;
}

void sbp__alloc_fail_after(long n)
{
    fail_after = n;
}

int sbp__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

int sbp__add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}

void *sbp__malloc(size_t size)
{
    if (should_fail()) return NULL;
    return malloc(size ? size : 1);
}

void *sbp__calloc(size_t n, size_t size)
{
    if (should_fail()) return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *sbp__realloc(void *p, size_t size)
{
    if (should_fail()) return NULL;
    return realloc(p, size ? size : 1);
}

void sbp__free(void *p)
{
    free(p);
}

float *sbp__floats(size_t n)
{
    size_t bytes;
    if (!sbp__mul_size(n ? n : 1, sizeof(float), &bytes)) return NULL;
    /* round up to the alignment so that SIMD tails never read past the end */
    if (!sbp__add_size(bytes, 63, &bytes)) return NULL;
    bytes &= ~(size_t)63;
    if (should_fail()) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) return NULL;
    memset(p, 0, bytes);
    return p;
}
