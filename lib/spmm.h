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
#include <stdint.h>

#include "pool.h"

/* Work space of the products; engines make one at build time (no
 * allocation per batch). */
typedef struct sbp__spmm_ws {
    /* sparse path: the non-zero terms of a left factor */
    const float **rows; /* the B row each term multiplies */
    float *coef;        /* alpha times the A entry */
    size_t *start;      /* row q's terms: [start[q], start[q+1]) */
    /* dense path: the columns of the left factor that are not all zero,
     * packed (MNIST batches of 200 have about 31 % all-zero pixel columns) */
    uint32_t *cols;
    float *pack_a; /* 2 x max_rows x max_cols */
    float *pack_b; /* max_cols x max_n */
    size_t max_rows, max_cols, max_n, max_terms;
} sbp__spmm_ws;

/* Room for left factors of up to max_rows x max_cols and right factors
 * (or results) of up to max_cols x max_n; 0, or -1 when out of memory. */
int sbp__spmm_ws_init(sbp__spmm_ws *ws, size_t max_rows, size_t max_cols, size_t max_n);
void sbp__spmm_ws_free(sbp__spmm_ws *ws);

/* C (m x n) = alpha A B + beta C; A is m x k (row stride lda), B k x n.
 * ws NULL or too small: plain BLAS. */
void sbp__spmm(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t k, float alpha,
               const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
               size_t ldc);

/* C (m x n) = alpha1 A1' D1 + alpha2 A2' D2 + beta C, where A1, A2 are
 * r x m (row stride m) and D1, D2 r x n (row stride n): the batch sums of
 * outer products behind a weight change. A2 = NULL drops the second term.
 * On the sparse path each element adds its terms sample by sample (A1's
 * then A2's of a sample). ws NULL or too small: plain BLAS. */
void sbp__spmm_at2(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t r,
                   float alpha1, const float *a1, const float *d1, float alpha2,
                   const float *a2, const float *d2, float beta, float *c);

/* When the sparse kernels are used: a left factor of at most this many
 * rows (samples) with at most this fraction of non-zeros. Taller factors
 * go to BLAS, whose packed kernels win there even on MNIST's 19 % of
 * non-zero pixels (784 x 500 products: 3.5x faster than sgemm at 10 rows,
 * no faster at 200; bench/README.md). */
#define SBP__SPMM_MAX_ROWS 64
#define SBP__SPMM_MAX_DENSITY 0.3
/* On the dense path, the left factor's all-zero columns are packed away
 * when at least this fraction of them is all zero. */
#define SBP__SPMM_MIN_ZERO_COLS 0.1

#endif
