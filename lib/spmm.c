/* Products with a mostly-zero left factor (spmm.h). The work per output
 * row is a list of (coefficient, row) terms fed to the axpy_rows kernel,
 * so each element is summed in the list's order. */
#include "spmm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gemm.h"
#include "kernels.h"

enum {
    SLAB = 64,             /* columns of B per pass: 784 rows x 64 floats stay in L2 */
    AB_ROWS_PER_TASK = 16, /* rows of C per task of sbp__spmm */
    AT_ROWS_PER_TASK = 16, /* rows of C per task of sbp__spmm_at2 */
    CHUNK = 128            /* terms per kernel call in sbp__spmm_at2 */
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
    ws->pack_a = sbp__calloc(terms ? 2 * terms : 1, sizeof *ws->pack_a);
    ws->pack_b = sbp__calloc(packed_b ? packed_b : 1, sizeof *ws->pack_b);
    if (!ws->rows || !ws->coef || !ws->start || !ws->cols || !ws->pack_a || !ws->pack_b) {
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
    sbp__free(ws->pack_a);
    sbp__free(ws->pack_b);
    memset(ws, 0, sizeof *ws);
}

/* The columns of A (rows x cols, row stride ld; and of A2 when given,
 * same shape) holding a non-zero, in ws->cols; returns their count. */
static size_t live_columns(sbp__spmm_ws *ws, const float *a, const float *a2, size_t rows,
                           size_t cols, size_t ld)
{
    size_t count = 0;
    for (size_t i = 0; i < cols; i++) {
        int live = 0;
        for (size_t q = 0; q < rows && !live; q++)
            live = a[q * ld + i] != 0.0f || (a2 && a2[q * ld + i] != 0.0f);
        if (live) ws->cols[count++] = (uint32_t)i;
    }
    return count;
}

static int worth_packing(size_t live, size_t cols)
{
    return (double)(cols - live) >= SBP__SPMM_MIN_ZERO_COLS * (double)cols;
}

/* dst (rows x live) = the live columns of src (rows x cols, stride ld) */
static void pack_columns(float *dst, const float *src, size_t rows, size_t ld,
                         const uint32_t *cols, size_t live)
{
    for (size_t q = 0; q < rows; q++)
        for (size_t s = 0; s < live; s++) dst[q * live + s] = src[q * ld + cols[s]];
}

/* C = alpha A B + beta C through BLAS, without A's all-zero columns (and
 * B's rows they would multiply) when enough of them are. */
static void dense_ab(sbp__spmm_ws *ws, size_t m, size_t n, size_t k, float alpha,
                     const float *a, size_t lda, const float *b, size_t ldb, float beta,
                     float *c, size_t ldc)
{
    if (ws && m <= ws->max_rows && k <= ws->max_cols && n <= ws->max_n) {
        size_t live = live_columns(ws, a, NULL, m, k, lda);
        if (worth_packing(live, k)) {
            pack_columns(ws->pack_a, a, m, lda, ws->cols, live);
            for (size_t s = 0; s < live; s++)
                memcpy(ws->pack_b + s * n, b + (size_t)ws->cols[s] * ldb, n * sizeof *b);
            sbp__sgemm(0, 0, m, n, live, alpha, ws->pack_a, live, ws->pack_b, n, beta, c, ldc);
            return;
        }
    }
    sbp__sgemm(0, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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

void sbp__spmm(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t k, float alpha,
               const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
               size_t ldc)
{
    if (m == 0 || n == 0) return;
    size_t limit = (size_t)(SBP__SPMM_MAX_DENSITY * (double)m * (double)k);
    if (!ws || m > ws->max_rows || m > SBP__SPMM_MAX_ROWS || limit > ws->max_terms) {
        dense_ab(ws, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
                dense_ab(ws, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
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
    term_list t;
    for (size_t i = i0; i < i1; i++) {
        float *y = j->c + i * j->n;
        t.count = 0;
        scale_row(y, j->n, j->beta);
        for (size_t q = 0; q < j->r; q++) {
            float v1 = j->a1[q * j->m + i];
            if (v1 != 0.0f) push(kr, &t, y, j->n, j->alpha1 * v1, j->d1 + q * j->n);
            if (!j->a2) continue;
            float v2 = j->a2[q * j->m + i];
            if (v2 != 0.0f) push(kr, &t, y, j->n, j->alpha2 * v2, j->d2 + q * j->n);
        }
        flush(kr, &t, y, j->n);
    }
}

static int mostly_zero(const float *a, size_t count)
{
    size_t nz = 0;
    for (size_t i = 0; i < count; i++) nz += a[i] != 0.0f;
    return (double)nz <= SBP__SPMM_MAX_DENSITY * (double)count;
}

/* The dense path: BLAS, over the rows of C whose column of A1 or A2 holds
 * a non-zero when enough of them are all zero (the others only scale). */
static void dense_at2(sbp__spmm_ws *ws, size_t m, size_t n, size_t r, float alpha1,
                      const float *a1, const float *d1, float alpha2, const float *a2,
                      const float *d2, float beta, float *c)
{
    if (ws && r <= ws->max_rows && m <= ws->max_cols && n <= ws->max_n) {
        size_t live = live_columns(ws, a1, a2, r, m, m);
        if (worth_packing(live, m)) {
            float *p1 = ws->pack_a, *p2 = ws->pack_a + r * live, *out = ws->pack_b;
            pack_columns(p1, a1, r, m, ws->cols, live);
            sbp__sgemm(1, 0, live, n, r, alpha1, p1, live, d1, n, 0.0f, out, n);
            if (a2) {
                pack_columns(p2, a2, r, m, ws->cols, live);
                sbp__sgemm(1, 0, live, n, r, alpha2, p2, live, d2, n, 1.0f, out, n);
            }
            size_t s = 0;
            for (size_t i = 0; i < m; i++) {
                float *y = c + i * n;
                int is_live = s < live && ws->cols[s] == i;
                const float *src = is_live ? out + s++ * n : NULL;
                if (beta == 0.0f && src) {
                    memcpy(y, src, n * sizeof *y);
                    continue;
                }
                scale_row(y, n, beta);
                if (src)
                    for (size_t j = 0; j < n; j++) y[j] += src[j];
            }
            return;
        }
    }
    sbp__sgemm(1, 0, m, n, r, alpha1, a1, m, d1, n, beta, c, n);
    if (a2) sbp__sgemm(1, 0, m, n, r, alpha2, a2, m, d2, n, 1.0f, c, n);
}

void sbp__spmm_at2(sbp__pool *pool, sbp__spmm_ws *ws, size_t m, size_t n, size_t r,
                   float alpha1, const float *a1, const float *d1, float alpha2,
                   const float *a2, const float *d2, float beta, float *c)
{
    if (m == 0 || n == 0) return;
    if (r > SBP__SPMM_MAX_ROWS || !mostly_zero(a1, r * m) || (a2 && !mostly_zero(a2, r * m))) {
        dense_at2(ws, m, n, r, alpha1, a1, d1, alpha2, a2, d2, beta, c);
        return;
    }
    at_job job = {m, n, r, alpha1, alpha2, beta, a1, d1, a2, d2, c};
    sbp__pool_run(pool, at_rows, &job, (m + AT_ROWS_PER_TASK - 1) / AT_ROWS_PER_TASK);
}
