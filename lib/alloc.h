/* Memory: overflow-checked sizes, 64-byte aligned float buffers, and a test
 * hook that makes the n-th allocation fail (to prove SBP_E_NOMEM paths). */
#ifndef SBP_ALLOC_H
#define SBP_ALLOC_H

#include <stddef.h>

/* a*b into *out; returns 0 on overflow. */
int sbp__mul_size(size_t a, size_t b, size_t *out);
int sbp__add_size(size_t a, size_t b, size_t *out);

void *sbp__malloc(size_t size);
void *sbp__calloc(size_t n, size_t size);  /* zeroed, overflow-checked */
void *sbp__realloc(void *p, size_t size);
void sbp__free(void *p);
/* Zeroed, 64-byte aligned array of n floats; free with sbp__free. */
float *sbp__floats(size_t n);

/* Test hook: after `n` more successful allocations, every allocation fails
 * until reset with a negative n. Not thread-safe; tests only. */
void sbp__alloc_fail_after(long n);

#endif
