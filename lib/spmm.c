/* Products with a mostly-zero left factor (spmm.h). The work per output
 * row is a list of (coefficient, row) terms fed to the axpy_rows kernel,
 * so each element is summed in the list's order; on the dense path only
 * the sparse columns' terms are, after BLAS has done the dense ones. */
#include "spmm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gemm.h"
#include "kernels.h"

enum {
    SLAB = 64,                 /* columns of B per pass: 784 rows x 64 floats stay in L2 */
    AB_ROWS_PER_TASK = 16,     /* rows of C per task of sbp__spmm */
    AT_ROWS_PER_TASK = 16,     /* rows of C per task of sbp__spmm_at2 */
    CHUNK = 128,               /* terms per kernel call in sbp__spmm_at2 */
    COUNT_COLS_PER_TASK = 256, /* columns per task of the non-zero count */
    PACK_ROWS_PER_TASK = 32    /* rows per task of the packing copies */
};

int sbp__spmm_ws_init(sbp__spmm_ws *ws, size_t max_rows, size_t max_cols, size_t max_n)
{
    memset(ws, 0, sizeof *ws);
    size_t terms, packed_b;
    if (!sbp__mul_size(max_rows, max_cols, &terms) || terms > SIZE_MAX / 2 ||
        !sbp__mul_size(max_cols, max_n, &packed_b))
        return -1;
    ws->rows = sbp__calloc(terms ? terms : 1, sizeof *ws->rows);
    ws->coef = sbp__calloc(terms ? terms : 1, sizeof *ws->coef);
    ws->start = sbp__calloc(max_rows + 1, sizeof *ws->start);
    ws->cols = sbp__calloc(max_cols ? max_cols : 1, sizeof *ws->cols);
    ws->sparse_cols = sbp__calloc(max_cols ? max_cols : 1, sizeof *ws->sparse_cols);
    ws->counts = sbp__calloc(max_cols ? max_cols : 1, sizeof *ws->counts);
    ws->col_start = sbp__calloc(max_cols + 1, sizeof *ws->col_start);
    ws->col_row = sbp__calloc(terms ? terms : 1, sizeof *ws->col_row);
    ws->col_val = sbp__calloc(terms ? terms : 1, sizeof *ws->col_val);
    ws->pack_a = sbp__calloc(terms ? 2 * terms : 1, sizeof *ws->pack_a);
    ws->pack_b = sbp__calloc(packed_b ? packed_b : 1, sizeof *ws->pack_b);
    if (!ws->rows || !ws->coef || !ws->start || !ws->cols || !ws->sparse_cols || !ws->counts ||
        !ws->col_start || !ws->col_row || !ws->col_val || !ws->pack_a || !ws->pack_b) {
        sbp__spmm_ws_free(ws);
        return -1;
    }
    ws->max_rows = max_rows;
    ws->max_cols = max_cols;
    ws->max_n = max_n;
    ws->max_terms = terms;
    return 0;
}

void sbp__spmm_ws_free(sbp__spmm_ws *ws)
{
    sbp__free(ws->rows);
    sbp__free(ws->coef);
    sbp__free(ws->start);
    sbp__free(ws->cols);
    sbp__free(ws->sparse_cols);
    sbp__free(ws->counts);
    sbp__free(ws->col_start);
    sbp__free(ws->col_row);
    sbp__free(ws->col_val);
    sbp__free(ws->pack_a);
    sbp__free(ws->pack_b);
    memset(ws, 0, sizeof *ws);
}

typedef struct count_job {
    const float *a, *a2;
    size_t rows, cols, ld;
    uint32_t *count;
} count_job;

/* Non-zeros of columns [i0, i1) (of A or A2), read row by row. */
static void count_columns(void *ctx, size_t task)
{
    const count_job *j = ctx;
    size_t i0 = task * COUNT_COLS_PER_TASK;
    size_t i1 = sbp__task_end(task, COUNT_COLS_PER_TASK, j->cols);
    uint32_t *count = j->count;
    for (size_t i = i0; i < i1; i++) count[i] = 0;
    for (size_t q = 0; q < j->rows; q++) {
        const float *row = j->a + q * j->ld;
        if (j->a2) {
            const float *row2 = j->a2 + q * j->ld;
            for (size_t i = i0; i < i1; i++)
                count[i] += (uint32_t)((row[i] != 0.0f) | (row2[i] != 0.0f));
        } else {
            for (size_t i = i0; i < i1; i++) count[i] += (uint32_t)(row[i] != 0.0f);
        }
    }
}

/* Sorts the columns of A (rows x cols, row stride ld; of A and A2 when
 * A2 is given, same shape) by their count of non-zeros: ws->cols gets the
 * dense ones (more than `sparse_max` non-zeros), ws->sparse_cols the
 * sparse ones (1..sparse_max), both ascending; all-zero columns drop out. */
static void split_columns(sbp__pool *pool, sbp__spmm_ws *ws, const float *a, const float *a2,
                          size_t rows, size_t cols, size_t ld, size_t sparse_max,
                          size_t *n_dense, size_t *n_sparse)
{
    count_job job = {a, a2, rows, cols, ld, ws->counts};
    sbp__pool_run(pool, count_columns, &job,
                  (cols + COUNT_COLS_PER_TASK - 1) / COUNT_COLS_PER_TASK);
    size_t nd = 0, ns = 0;
    for (size_t i = 0; i < cols; i++) {
        if (ws->counts[i] > sparse_max)
            ws->cols[nd++] = (uint32_t)i;
        else if (ws->counts[i] > 0)
            ws->sparse_cols[ns++] = (uint32_t)i;
    }
    *n_dense = nd;
    *n_sparse = ns;
}

/* Columns with at most this many non-zeros out of `rows` go to the term
 * kernel, when the product is wide enough for it to pay (n >= SLAB). */
static size_t sparse_limit(size_t rows, size_t n)
{
    return n >= SLAB ? (size_t)(SBP__SPMM_SPLIT_DENSITY * (double)rows) : 0;
}

/* Worth leaving BLAS's plain call: enough of the columns leave the GEMM. */
static int worth_splitting(size_t dense, size_t cols)
{
    return (double)(cols - dense) >= SBP__SPMM_MIN_ZERO_COLS * (double)cols;
}

/* dst (rows x count) = the columns `which` of src (rows x cols, stride ld) */
static void pack_columns(float *dst, const float *src, size_t rows, size_t ld,
                         const uint32_t *which, size_t count)
{
    for (size_t q = 0; q < rows; q++)
        for (size_t s = 0; s < count; s++) dst[q * count + s] = src[q * ld + which[s]];
}

static void scale_row(float *y, size_t n, float beta)
{
    if (beta == 0.0f)
        memset(y, 0, n * sizeof *y);
    else if (beta != 1.0f)
        for (size_t j = 0; j < n; j++) y[j] *= beta;
}

/* ---- C = alpha A B + beta C ------------------------------------------- */

typedef struct ab_job {
    const sbp__spmm_ws *ws;
    size_t m, n, ldc;
    float beta;
    float *c;
} ab_job;

/* Rows [q0, q1) of C, B's columns a slab at a time so that the rows of B
 * the terms touch are read from cache for every row of the task. */
static void ab_rows(void *ctx, size_t task)
{
    const ab_job *j = ctx;
    const sbp__kernels *kr = sbp__kernels_for_cpu();
    const sbp__spmm_ws *ws = j->ws;
    size_t q0 = task * AB_ROWS_PER_TASK, q1 = q0 + AB_ROWS_PER_TASK;
    if (q1 > j->m) q1 = j->m;
    for (size_t q = q0; q < q1; q++) scale_row(j->c + q * j->ldc, j->n, j->beta);
    for (size_t j0 = 0; j0 < j->n; j0 += SLAB) {
        size_t w = j->n - j0 < SLAB ? j->n - j0 : SLAB;
        for (size_t q = q0; q < q1; q++) {
            size_t s0 = ws->start[q], count = ws->start[q + 1] - s0;
            if (count)
                kr->axpy_rows(j->c + q * j->ldc + j0, ws->rows + s0, j0, ws->coef + s0, count, w);
        }
    }
}

typedef struct pack_job {
    const sbp__spmm_ws *ws;
    const float *a;
    size_t lda, m;
    const float *b;
    size_t ldb, n, n_dense;
} pack_job;

/* The packing of dense_ab in tasks of rows: first A's m rows (their dense
 * columns), then the n_dense rows of B those columns multiply. */
static void pack_rows(void *ctx, size_t task)
{
    const pack_job *j = ctx;
    size_t ta = (j->m + PACK_ROWS_PER_TASK - 1) / PACK_ROWS_PER_TASK;
    if (task < ta) {
        size_t q0 = task * PACK_ROWS_PER_TASK;
        size_t q1 = sbp__task_end(task, PACK_ROWS_PER_TASK, j->m);
        pack_columns(j->ws->pack_a + q0 * j->n_dense, j->a + q0 * j->lda, q1 - q0, j->lda,
                     j->ws->cols, j->n_dense);
        return;
    }
    size_t s0 = (task - ta) * PACK_ROWS_PER_TASK;
    size_t s1 = sbp__task_end(task - ta, PACK_ROWS_PER_TASK, j->n_dense);
    for (size_t s = s0; s < s1; s++)
        memcpy(j->ws->pack_b + s * j->n, j->b + (size_t)j->ws->cols[s] * j->ldb,
               j->n * sizeof *j->b);
}

/* The dense path: BLAS over A's dense columns (and B's rows they
 * multiply, both packed), then the terms of its sparse columns added row
 * by row, in column order, by the term kernel; A's all-zero columns drop
 * out. Plain BLAS when too few columns would leave the GEMM. */
static void dense_ab(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t k,
                     float alpha, const float *a, size_t lda, const float *b, size_t ldb,
                     float beta, float *c, size_t ldc)
{
    if (!ws || m > ws->max_rows || k > ws->max_cols || n > ws->max_n) {
        sbp__sgemm_rested(pool, 0, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    size_t nd, ns;
    split_columns(pool, ws, a, NULL, m, k, lda, sparse_limit(m, n), &nd, &ns);
    if (!worth_splitting(nd, k)) {
        sbp__sgemm_rested(pool, 0, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    sbp__spmm_split last = {a, m, k, lda, n, nd, ns};
    ws->last = last;
    if (nd) {
        pack_job pj = {ws, a, lda, m, b, ldb, n, nd};
        size_t ta = (m + PACK_ROWS_PER_TASK - 1) / PACK_ROWS_PER_TASK;
        sbp__pool_run(pool, pack_rows, &pj, ta + (nd + PACK_ROWS_PER_TASK - 1) / PACK_ROWS_PER_TASK);
        sbp__sgemm_rested(pool, 0, 0, m, n, nd, alpha, ws->pack_a, nd, ws->pack_b, n, beta, c,
                          ldc);
    } else {
        for (size_t q = 0; q < m; q++) scale_row(c + q * ldc, n, beta);
    }
    if (!ns) return;
    /* The terms row by row, and the sparse columns' entries column by
     * column (rows ascending) for sbp__spmm_at_same; at most
     * sparse_limit(m, n) of them per sparse column: within max_terms. */
    size_t *next = ws->col_start;
    next[0] = 0;
    for (size_t s = 0; s < ns; s++) next[s + 1] = next[s] + ws->counts[ws->sparse_cols[s]];
    size_t t = 0;
    for (size_t q = 0; q < m; q++) {
        ws->start[q] = t;
        const float *row = a + q * lda;
        for (size_t s = 0; s < ns; s++) {
            size_t i = ws->sparse_cols[s];
            if (row[i] == 0.0f) continue;
            size_t at = next[s]++;
            ws->col_row[at] = (uint32_t)q;
            ws->col_val[at] = row[i];
            ws->rows[t] = b + i * ldb;
            ws->coef[t++] = alpha * row[i];
        }
    }
    ws->start[m] = t;
    /* next[s] has moved on to the end of column s: shift back to starts */
    for (size_t s = ns; s > 0; s--) next[s] = next[s - 1];
    next[0] = 0;
    ab_job job = {ws, m, n, ldc, 1.0f, c};
    sbp__pool_run(pool, ab_rows, &job, (m + AB_ROWS_PER_TASK - 1) / AB_ROWS_PER_TASK);
}

void sbp__spmm(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t k, float alpha,
               const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
               size_t ldc)
{
    if (m == 0 || n == 0) return;
    if (ws) ws->last.a = NULL;
    size_t limit = (size_t)(SBP__SPMM_MAX_DENSITY * (double)m * (double)k);
    if (!ws || m > ws->max_rows || m > SBP__SPMM_MAX_ROWS || limit > ws->max_terms) {
        dense_ab(pool, ws, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* the terms row by row; give up (BLAS) as soon as there are too many */
    size_t t = 0;
    for (size_t q = 0; q < m; q++) {
        ws->start[q] = t;
        const float *row = a + q * lda;
        for (size_t i = 0; i < k; i++) {
            if (row[i] == 0.0f) continue;
            if (t == limit) {
                dense_ab(pool, ws, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
                return;
            }
            ws->rows[t] = b + i * ldb;
            ws->coef[t++] = alpha * row[i];
        }
    }
    ws->start[m] = t;
    ab_job job = {ws, m, n, ldc, beta, c};
    sbp__pool_run(pool, ab_rows, &job, (m + AB_ROWS_PER_TASK - 1) / AB_ROWS_PER_TASK);
}

/* ---- C = alpha1 A1' D1 + alpha2 A2' D2 + beta C ------------------------ */

typedef struct term_list {
    const float *rows[CHUNK];
    float coef[CHUNK];
    size_t count;
} term_list;

static void flush(const sbp__kernels *kr, term_list *t, float *y, size_t n)
{
    if (t->count) kr->axpy_rows(y, t->rows, 0, t->coef, t->count, n);
    t->count = 0;
}

static inline void push(const sbp__kernels *kr, term_list *t, float *y, size_t n, float coef,
                        const float *row)
{
    t->rows[t->count] = row;
    t->coef[t->count] = coef;
    if (++t->count == CHUNK) flush(kr, t, y, n);
}

/* y (n) += row i of alpha1 A1' D1 + alpha2 A2' D2: the terms found by
 * scanning column i of A1 and A2 (r x m), sample by sample, A1's then
 * A2's of a sample (A2 may be NULL). */
static void add_column_terms(const sbp__kernels *kr, float *y, size_t i, size_t m, size_t n,
                             size_t r, float alpha1, const float *a1, const float *d1,
                             float alpha2, const float *a2, const float *d2)
{
    term_list t;
    t.count = 0;
    for (size_t q = 0; q < r; q++) {
        float v1 = a1[q * m + i];
        if (v1 != 0.0f) push(kr, &t, y, n, alpha1 * v1, d1 + q * n);
        if (!a2) continue;
        float v2 = a2[q * m + i];
        if (v2 != 0.0f) push(kr, &t, y, n, alpha2 * v2, d2 + q * n);
    }
    flush(kr, &t, y, n);
}

typedef struct at_job {
    size_t m, n, r;
    float alpha1, alpha2, beta;
    const float *a1, *d1, *a2, *d2;
    float *c;
} at_job;

/* Rows [i0, i1) of C; D1 and D2 (r x n) are small enough to stay in
 * cache across them. */
static void at_rows(void *ctx, size_t task)
{
    const at_job *j = ctx;
    const sbp__kernels *kr = sbp__kernels_for_cpu();
    size_t i0 = task * AT_ROWS_PER_TASK, i1 = i0 + AT_ROWS_PER_TASK;
    if (i1 > j->m) i1 = j->m;
    for (size_t i = i0; i < i1; i++) {
        float *y = j->c + i * j->n;
        scale_row(y, j->n, j->beta);
        add_column_terms(kr, y, i, j->m, j->n, j->r, j->alpha1, j->a1, j->d1, j->alpha2, j->a2,
                         j->d2);
    }
}

static int mostly_zero(const float *a, size_t count)
{
    size_t nz = 0;
    for (size_t i = 0; i < count; i++) nz += a[i] != 0.0f;
    return (double)nz <= SBP__SPMM_MAX_DENSITY * (double)count;
}

typedef struct at_split_job {
    const sbp__spmm_ws *ws;
    size_t m, n, r, n_dense, n_sparse;
    float alpha1, alpha2, beta;
    const float *a1, *d1, *a2, *d2;
    const float *dense_out; /* n_dense x n: the BLAS rows */
    int by_column;          /* the sparse rows' terms are in ws->col_* */
    float *c;
} at_split_job;

/* Rows [i0, i1) of C on the dense path: a dense row takes its BLAS row, a
 * sparse row its terms sample by sample (A1's then A2's of a sample), an
 * all-zero row is only scaled. */
static void at_split_rows(void *ctx, size_t task)
{
    const at_split_job *j = ctx;
    const sbp__kernels *kr = sbp__kernels_for_cpu();
    const uint32_t *dense = j->ws->cols, *sparse = j->ws->sparse_cols;
    size_t i0 = task * AT_ROWS_PER_TASK, i1 = i0 + AT_ROWS_PER_TASK;
    if (i1 > j->m) i1 = j->m;
    /* the first dense and sparse entries at or after row i0 */
    size_t sd = 0, ss = 0;
    while (sd < j->n_dense && dense[sd] < i0) sd++;
    while (ss < j->n_sparse && sparse[ss] < i0) ss++;
    for (size_t i = i0; i < i1; i++) {
        float *y = j->c + i * j->n;
        if (sd < j->n_dense && dense[sd] == i) {
            const float *src = j->dense_out + sd++ * j->n;
            if (j->beta == 0.0f) {
                memcpy(y, src, j->n * sizeof *y);
            } else {
                scale_row(y, j->n, j->beta);
                for (size_t k = 0; k < j->n; k++) y[k] += src[k];
            }
            continue;
        }
        scale_row(y, j->n, j->beta);
        if (!(ss < j->n_sparse && sparse[ss] == i)) continue;
        if (j->by_column) {
            const sbp__spmm_ws *ws = j->ws;
            term_list t;
            t.count = 0;
            for (size_t p = ws->col_start[ss]; p < ws->col_start[ss + 1]; p++)
                push(kr, &t, y, j->n, j->alpha1 * ws->col_val[p],
                     j->d1 + (size_t)ws->col_row[p] * j->n);
            flush(kr, &t, y, j->n);
        } else {
            add_column_terms(kr, y, i, j->m, j->n, j->r, j->alpha1, j->a1, j->d1, j->alpha2,
                             j->a2, j->d2);
        }
        ss++;
    }
}

/* The dense path's work once the columns are split (nd dense in ws->cols,
 * ns sparse in ws->sparse_cols): BLAS on the dense rows of C, packed, then
 * every row of C put in place by at_split_rows. */
static void split_at2(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t r,
                      size_t nd, size_t ns, int by_column, float alpha1, const float *a1,
                      const float *d1, float alpha2, const float *a2, const float *d2,
                      float beta, float *c)
{
    float *p1 = ws->pack_a, *p2 = ws->pack_a + r * nd, *out = ws->pack_b;
    if (nd) {
        pack_columns(p1, a1, r, m, ws->cols, nd);
        sbp__sgemm_rested(pool, 1, 0, nd, n, r, alpha1, p1, nd, d1, n, 0.0f, out, n);
        if (a2) {
            pack_columns(p2, a2, r, m, ws->cols, nd);
            sbp__sgemm_rested(pool, 1, 0, nd, n, r, alpha2, p2, nd, d2, n, 1.0f, out, n);
        }
    }
    at_split_job job = {ws,  m,  n,  r,   nd,  ns,  alpha1,    alpha2, beta,
                        a1,  d1, a2, d2,  out, by_column, c};
    sbp__pool_run(pool, at_split_rows, &job, (m + AT_ROWS_PER_TASK - 1) / AT_ROWS_PER_TASK);
}

/* The dense path: BLAS over the rows of C whose column of A1 or A2 is
 * dense, the term kernel for the sparse ones; plain BLAS when too few
 * rows would leave the GEMM. */
static void dense_at2(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t r,
                      float alpha1, const float *a1, const float *d1, float alpha2,
                      const float *a2, const float *d2, float beta, float *c)
{
    if (ws && r <= ws->max_rows && m <= ws->max_cols && n <= ws->max_n) {
        size_t nd, ns;
        split_columns(pool, ws, a1, a2, r, m, m, sparse_limit(r, n), &nd, &ns);
        if (worth_splitting(nd, m)) {
            split_at2(pool, ws, m, n, r, nd, ns, 0, alpha1, a1, d1, alpha2, a2, d2, beta, c);
            return;
        }
    }
    sbp__sgemm_rested(pool, 1, 0, m, n, r, alpha1, a1, m, d1, n, beta, c, n);
    if (a2) sbp__sgemm_rested(pool, 1, 0, m, n, r, alpha2, a2, m, d2, n, 1.0f, c, n);
}

void sbp__spmm_at2(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t r,
                   float alpha1, const float *a1, const float *d1, float alpha2,
                   const float *a2, const float *d2, float beta, float *c)
{
    if (m == 0 || n == 0) return;
    if (ws) ws->last.a = NULL;
    if (r > SBP__SPMM_MAX_ROWS || !mostly_zero(a1, r * m) || (a2 && !mostly_zero(a2, r * m))) {
        dense_at2(pool, ws, m, n, r, alpha1, a1, d1, alpha2, a2, d2, beta, c);
        return;
    }
    at_job job = {m, n, r, alpha1, alpha2, beta, a1, d1, a2, d2, c};
    sbp__pool_run(pool, at_rows, &job, (m + AT_ROWS_PER_TASK - 1) / AT_ROWS_PER_TASK);
}

void sbp__spmm_at_same(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t r,
                       float alpha, const float *a, const float *d, float beta, float *c)
{
    /* the split sbp__spmm_at2 would make itself, already made: same bits */
    const sbp__spmm_split *s = ws ? &ws->last : NULL;
    if (m == 0 || n == 0 || !s || s->a != a || s->rows != r || s->cols != m || s->ld != m ||
        sparse_limit(r, s->n) != sparse_limit(r, n) || n > ws->max_n) {
        sbp__spmm_at2(pool, ws, m, n, r, alpha, a, d, 0.0f, NULL, NULL, beta, c);
        return;
    }
    ws->last.a = NULL;
    split_at2(pool, ws, m, n, r, s->n_dense, s->n_sparse, 1, alpha, a, d, 0.0f, NULL, NULL,
              beta, c);
}
