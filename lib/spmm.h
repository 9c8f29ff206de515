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

/* The column split of the last left factor sbp__spmm split on the dense
 * path (a == NULL: none; any other call on the work space forgets it). */
typedef struct sbp__spmm_split {
    const float *a;
    size_t rows, cols, ld, n, n_dense, n_sparse;
} sbp__spmm_split;

/* Work space of the products; engines make one at build time (no
 * allocation per batch). */
typedef struct sbp__spmm_ws {
    /* sparse path: the non-zero terms of a left factor */
    const float **rows; /* the B row each term multiplies */
    float *coef;        /* alpha times the A entry */
    size_t *start;      /* row q's terms: [start[q], start[q+1]) */
    /* dense path: the left factor's dense columns (to BLAS, packed) and
     * sparse ones (to the term kernel); all-zero columns drop out. MNIST
     * batches of 200: of 784 pixel columns about 245 are all zero and
     * another 258 hold at most 20 % non-zeros, 10 % of the batch's. */
    uint32_t *cols, *sparse_cols;
    uint32_t *counts; /* non-zeros per column */
    /* the sparse columns' entries column by column: column s (of
     * sparse_cols) has rows col_row[p] and values col_val[p] for p in
     * [col_start[s], col_start[s+1]) */
    size_t *col_start;
    uint32_t *col_row;
    float *col_val;
    sbp__spmm_split last;
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

/* C (m x n) = alpha A' D + beta C, as sbp__spmm_at2 with A2 = NULL, where
 * A (r x m) was the left factor of the last call on ws, an sbp__spmm,
 * and has not changed since: that call's column split is reused (the same
 * bits as sbp__spmm_at2, which would make the same split). The weight
 * gradient after a forward product. */
void sbp__spmm_at_same(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t r,
                       float alpha, const float *a, const float *d, float beta, float *c);

/* When the sparse kernels are used: a left factor of at most this many
 * rows (samples) with at most this fraction of non-zeros. Taller factors
 * go to BLAS, whose packed kernels win there even on MNIST's 19 % of
 * non-zero pixels (784 x 500 products: 3.5x faster than sgemm at 10 rows,
 * no faster at 200; bench/README.md). */
#define SBP__SPMM_MAX_ROWS 64
#define SBP__SPMM_MAX_DENSITY 0.3
/* On the dense path, a column of the left factor with at most this
 * fraction of non-zeros is summed by the term kernel instead of BLAS
 * (products at least 64 wide); all-zero columns drop out. The split is
 * made when at least SBP__SPMM_MIN_ZERO_COLS of the columns leave BLAS. */
#define SBP__SPMM_SPLIT_DENSITY 0.2
#define SBP__SPMM_MIN_ZERO_COLS 0.1

#endif
