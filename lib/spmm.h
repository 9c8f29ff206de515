/* Matrix products whose left factor is mostly zeros: MNIST pixels (about
 * 80 % of them are 0), binary samples of an RBM, ReLU activations. Each
 * function looks at the operand first and hands dense ones to BLAS
 * (sbp__sgemm); sparse ones skip the zero terms, output rows split into
 * tasks on the pool, every element summed in the same order whatever the
 * pool's size. The choice depends on the operand's values only, so a
 * result is reproducible for a given build like every other one.
 *
 * beta follows BLAS: 0 means C is written without being read. */
#ifndef SBP_SPMM_H
#define SBP_SPMM_H

#include <stddef.h>

#include "pool.h"

/* Room for the non-zero terms of one left factor; engines make one at
 * build time (no allocation per batch). */
typedef struct sbp__spmm_ws {
    const float **rows; /* the B row each term multiplies */
    float *coef;        /* alpha times the A entry */
    size_t *start;      /* row q's terms: [start[q], start[q+1]) */
    size_t max_rows, max_terms;
} sbp__spmm_ws;

/* Room for factors of up to max_rows x max_cols; 0 or SBP_E_NOMEM. */
int sbp__spmm_ws_init(sbp__spmm_ws *ws, size_t max_rows, size_t max_cols);
void sbp__spmm_ws_free(sbp__spmm_ws *ws);

/* C (m x n) = alpha A B + beta C; A is m x k (row stride lda), B k x n.
 * ws NULL or too small: BLAS. */
void sbp__spmm(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t k, float alpha,
               const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
               size_t ldc);

/* C (m x n) = alpha1 A1' D1 + alpha2 A2' D2 + beta C, where A1, A2 are
 * r x m (row stride m) and D1, D2 r x n (row stride n): the batch sums of
 * outer products behind a weight change. A2 = NULL drops the second term.
 * Each element adds its terms sample by sample (A1's then A2's of a
 * sample). */
void sbp__spmm_at2(sbp__pool *pool, size_t m, size_t n, size_t r, float alpha1,
                   const float *a1, const float *d1, float alpha2, const float *a2,
                   const float *d2, float beta, float *c);

/* When the sparse kernels are used: a left factor of at most this many
 * rows (samples) with at most this fraction of non-zeros. Taller factors
 * go to BLAS, whose packed kernels win there even on MNIST's 19 % of
 * non-zero pixels (784 x 500 products: 3.5x faster than sgemm at 10 rows,
 * no faster at 200; bench/README.md). */
#define SBP__SPMM_MAX_ROWS 64
#define SBP__SPMM_MAX_DENSITY 0.3

#endif
