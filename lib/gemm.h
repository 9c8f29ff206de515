/* The one door to BLAS. Row-major single precision only. */
#ifndef SBP_GEMM_H
#define SBP_GEMM_H

#include <stddef.h>

/* C = alpha * op(A) op(B) + beta * C, row-major; op(X) = X or X^T.
 * op(A) is m x k, op(B) is k x n, C is m x n. lda/ldb/ldc are row strides. */
void sbp__sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                size_t ldc);

struct sbp__pool;
/* sbp__sgemm after telling `pool` (may be NULL) that its idle workers
 * should sleep rather than poll while BLAS's own threads run
 * (sbp__pool_rest). For engines that alternate pool jobs and products. */
void sbp__sgemm_rested(struct sbp__pool *pool, int trans_a, int trans_b, size_t m, size_t n,
                       size_t k, float alpha, const float *a, size_t lda, const float *b,
                       size_t ldb, float beta, float *c, size_t ldc);

/* Name of the BLAS backend, e.g. "OpenBLAS 0.3.21 (Haswell, 2 threads)". */
const char *sbp__blas_describe(void);

#endif
