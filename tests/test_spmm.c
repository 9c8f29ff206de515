/* The products of lib/spmm.c against a double-precision reference, on
 * each of their paths: the sparse kernels (few rows, mostly zeros), BLAS
 * over the packed live columns (some all-zero columns), the split path
 * (BLAS on dense columns, the term kernel on sparse ones), plain BLAS (no
 * work space, or nothing to skip); with every beta case; the reuse of a
 * split by sbp__spmm_at_same; bit-identical over pool sizes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "spmm.h"
#include "testutil.h"

enum { K = 37, N = 45, MAXR = 100 };

/* rows x cols with that fraction of non-zeros, and every column whose
 * index is a multiple of `dead_every` (0: none) all zero */
static void fill_a(float *x, size_t rows, size_t cols, sbp__rng *r, double density,
                   size_t dead_every)
{
    for (size_t q = 0; q < rows; q++)
        for (size_t i = 0; i < cols; i++) {
            double u = sbp__rng_double(r);
            float v = (float)(sbp__rng_double(r) * 2.0 - 1.0);
            x[q * cols + i] = u < density && !(dead_every && i % dead_every == 0) ? v : 0.0f;
        }
}

static double max_rel_error(const float *got, const double *want, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= worst)) worst = e; /* NaN counts as the worst */
    }
    return worst;
}

typedef struct path_case {
    size_t rows;       /* A's rows: <= SBP__SPMM_MAX_ROWS allows the sparse path */
    double density;    /* of A's entries */
    size_t dead_every; /* all-zero columns (dense path: packed away) */
    int with_ws;
} path_case;

static const path_case cases[] = {
    {23, 0.1, 0, 1},  /* sparse kernel */
    {23, 0.9, 0, 1},  /* plain BLAS: nothing to skip */
    {23, 0.9, 3, 1},  /* BLAS on the packed live columns */
    {100, 0.1, 0, 1}, /* too many rows for the sparse kernel: BLAS (packed if dead columns) */
    {100, 0.9, 2, 1}, /* packed */
    {23, 0.1, 3, 0},  /* no work space: plain BLAS */
};

/* C = alpha A B + beta C */
START_TEST(spmm_matches_reference)
{
    const path_case *pc = &cases[_i];
    const float betas[] = {0.0f, 1.0f, 0.5f};
    sbp__rng r;
    sbp__rng_init(&r, 1, (uint64_t)_i);
    size_t M = pc->rows;
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N);
    float *c0 = malloc(sizeof(float) * M * N), *c = malloc(sizeof(float) * M * N);
    double *want = malloc(sizeof(double) * M * N);
    sbp__spmm_ws ws;
    ck_assert_int_eq(sbp__spmm_ws_init(&ws, MAXR, K, N), 0);
    for (int bi = 0; bi < 3; bi++) {
        fill_a(a, M, K, &r, pc->density, pc->dead_every);
        fill_a(b, K, N, &r, 1.0, 0);
        fill_a(c0, M, N, &r, 1.0, 0);
        float alpha = 0.75f, beta = betas[bi];
        for (size_t q = 0; q < M; q++)
            for (size_t j = 0; j < N; j++) {
                double s = 0.0;
                for (size_t i = 0; i < K; i++) s += (double)a[q * K + i] * b[i * N + j];
                want[q * N + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)c0[q * N + j]);
            }
        memcpy(c, c0, sizeof(float) * M * N);
        if (beta == 0.0f) /* beta 0: C is not read */
            for (size_t i = 0; i < M * N; i++) c[i] = NAN;
        sbp__spmm(NULL, pc->with_ws ? &ws : NULL, M, N, K, alpha, a, K, b, N, beta, c, N);
        ck_assert_double_lt(max_rel_error(c, want, M * N), 1e-5);
    }
    sbp__spmm_ws_free(&ws);
    free(a);
    free(b);
    free(c0);
    free(c);
    free(want);
}
END_TEST

/* C = alpha1 A1' D1 + alpha2 A2' D2 + beta C, with and without A2; here
 * the case's rows are the samples r and C is K x N */
START_TEST(spmm_at2_matches_reference)
{
    const path_case *pc = &cases[_i];
    const float betas[] = {0.0f, 1.0f, 0.9f};
    sbp__rng r;
    sbp__rng_init(&r, 2, (uint64_t)_i);
    size_t R = pc->rows;
    float *a1 = malloc(sizeof(float) * R * K), *a2 = malloc(sizeof(float) * R * K);
    float *d1 = malloc(sizeof(float) * R * N), *d2 = malloc(sizeof(float) * R * N);
    float c0[K * N], c[K * N];
    double want[K * N];
    sbp__spmm_ws ws;
    ck_assert_int_eq(sbp__spmm_ws_init(&ws, MAXR, K, N), 0);
    for (int bi = 0; bi < 3; bi++)
        for (int two = 0; two < 2; two++) {
            fill_a(a1, R, K, &r, pc->density, pc->dead_every);
            fill_a(a2, R, K, &r, pc->density, pc->dead_every);
            fill_a(d1, R, N, &r, 1.0, 0);
            fill_a(d2, R, N, &r, 1.0, 0);
            fill_a(c0, K, N, &r, 1.0, 0);
            float al1 = 0.1f, al2 = -0.3f, beta = betas[bi];
            for (size_t i = 0; i < K; i++)
                for (size_t j = 0; j < N; j++) {
                    double s = 0.0;
                    for (size_t q = 0; q < R; q++) {
                        s += (double)al1 * a1[q * K + i] * d1[q * N + j];
                        if (two) s += (double)al2 * a2[q * K + i] * d2[q * N + j];
                    }
                    want[i * N + j] = s + (beta == 0.0f ? 0.0 : beta * (double)c0[i * N + j]);
                }
            memcpy(c, c0, sizeof c);
            if (beta == 0.0f)
                for (size_t i = 0; i < K * N; i++) c[i] = NAN;
            sbp__spmm_at2(NULL, pc->with_ws ? &ws : NULL, K, N, R, al1, a1, d1, al2,
                          two ? a2 : NULL, d2, beta, c);
            ck_assert_double_lt(max_rel_error(c, want, K * N), 1e-5);
        }
    sbp__spmm_ws_free(&ws);
    free(a1);
    free(a2);
    free(d1);
    free(d2);
}
END_TEST

/* C = A B (rows x k times k x n), then G (k x n) = 0.25 A' D through
 * sbp__spmm_at_same, or, with d NULL, 0.5 A'C - 0.5 A'C through
 * sbp__spmm_at2; on pools of 1, 2 and 3 threads (c[p], g[p]), checked
 * bit-identical. The caller frees c[] and g[]. */
static void products_on_pools(size_t rows, size_t k, size_t n, const float *a, const float *b,
                              const float *d, float *c[3], float *g[3])
{
    for (unsigned p = 0; p < 3; p++) {
        c[p] = malloc(sizeof(float) * rows * n);
        g[p] = malloc(sizeof(float) * k * n);
        sbp__pool *pool = sbp__pool_create(p + 1);
        ck_assert_ptr_nonnull(pool);
        sbp__spmm_ws ws;
        ck_assert_int_eq(sbp__spmm_ws_init(&ws, rows, k, n), 0);
        sbp__spmm(pool, &ws, rows, n, k, 1.0f, a, k, b, n, 0.0f, c[p], n);
        if (d)
            sbp__spmm_at_same(pool, &ws, k, n, rows, 0.25f, a, d, 0.0f, g[p]);
        else
            sbp__spmm_at2(pool, &ws, k, n, rows, 0.5f, a, c[p], -0.5f, a, c[p], 0.0f, g[p]);
        sbp__spmm_ws_free(&ws);
        sbp__pool_free(pool);
    }
    for (unsigned p = 1; p < 3; p++) {
        ck_assert_int_eq(memcmp(c[0], c[p], sizeof(float) * rows * n), 0);
        ck_assert_int_eq(memcmp(g[0], g[p], sizeof(float) * k * n), 0);
    }
}

/* The sparse path gives the same bits on 1, 2 and 3 threads; no samples
 * (r = 0) only scales C; a work space too small for a call falls back. */
START_TEST(spmm_pool_size_invariant)
{
    enum { MB = 60, KB = 300, NB = 130 }; /* MB <= SBP__SPMM_MAX_ROWS */
    sbp__rng r;
    sbp__rng_init(&r, 3, 0);
    float *a = malloc(sizeof(float) * MB * KB), *b = malloc(sizeof(float) * KB * NB);
    float *c[3], *t[3];
    fill_a(a, MB, KB, &r, 0.2, 0);
    fill_a(b, KB, NB, &r, 1.0, 0);
    products_on_pools(MB, KB, NB, a, b, NULL, c, t);
    /* 0.5 A'C - 0.5 A'C sums to exactly zero term by term */
    for (size_t i = 0; i < (size_t)KB * NB; i++) ck_assert(t[0][i] == 0.0f);
    float cc[4] = {1, 2, 3, 4};
    sbp__spmm_at2(NULL, NULL, 2, 2, 0, 1.0f, a, b, 1.0f, NULL, NULL, 0.5f, cc);
    ck_assert(cc[0] == 0.5f && cc[3] == 2.0f);
    /* room for 10 rows only: a 60-row product still comes out right */
    sbp__spmm_ws small;
    ck_assert_int_eq(sbp__spmm_ws_init(&small, 10, KB, NB), 0);
    float *c2 = malloc(sizeof(float) * MB * NB);
    sbp__spmm(NULL, &small, MB, NB, KB, 1.0f, a, KB, b, NB, 0.0f, c2, NB);
    for (size_t i = 0; i < (size_t)MB * NB; i++)
        ck_assert_float_eq_tol(c2[i], c[0][i], 1e-4f * (1.0f + fabsf(c[0][i])));
    sbp__spmm_ws_free(&small);
    free(c2);
    for (unsigned p = 0; p < 3; p++) {
        free(c[p]);
        free(t[p]);
    }
    free(a);
    free(b);
}
END_TEST

/* ---- the split dense path: tall factors with dense, sparse and all-zero
 * columns, products wide enough (>= 64) for the term kernel ---------- */

enum { SR = 150, SK = 90, SN = 70 };

/* column i: all zero (i % 3 == 0), sparse (~5 %, i % 3 == 1) or dense
 * (~60 %); `all_sparse`: every column sparse */
static void fill_split(float *x, sbp__rng *r, int all_sparse)
{
    for (size_t q = 0; q < SR; q++)
        for (size_t i = 0; i < SK; i++) {
            double density = all_sparse || i % 3 == 1 ? 0.05 : (i % 3 == 0 ? 0.0 : 0.6);
            double u = sbp__rng_double(r);
            float v = (float)(sbp__rng_double(r) * 2.0 - 1.0);
            x[q * SK + i] = u < density ? v : 0.0f;
        }
}

/* want (rows x cols) = alpha X Y + beta C in double, where X's entry (r, i)
 * is x[r * xr + i * xi] and Y is inner x cols (row stride ys); then C is
 * filled with NaN when beta is 0 (C must not be read). */
static void reference(double *want, size_t rows, size_t cols, size_t inner, const float *x,
                      size_t xr, size_t xi, const float *y, size_t ys, double alpha, float beta,
                      float *c)
{
    for (size_t q = 0; q < rows; q++)
        for (size_t j = 0; j < cols; j++) {
            double s = 0.0;
            for (size_t i = 0; i < inner; i++) s += (double)x[q * xr + i * xi] * y[i * ys + j];
            want[q * cols + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)c[q * cols + j]);
        }
    if (beta == 0.0f)
        for (size_t i = 0; i < rows * cols; i++) c[i] = NAN;
}

START_TEST(spmm_split_matches_reference)
{
    sbp__rng r;
    sbp__rng_init(&r, 4, (uint64_t)_i);
    int all_sparse = _i == 1;
    float *a = malloc(sizeof(float) * SR * SK), *a2 = malloc(sizeof(float) * SR * SK);
    float *b = malloc(sizeof(float) * SK * SN), *d = malloc(sizeof(float) * SR * SN);
    float *c = malloc(sizeof(float) * SR * SN), *g = malloc(sizeof(float) * SK * SN);
    float *g2 = malloc(sizeof(float) * SK * SN);
    double *want = malloc(sizeof(double) * SR * SN), *wantg = malloc(sizeof(double) * SK * SN);
    fill_split(a, &r, all_sparse);
    fill_split(a2, &r, all_sparse);
    fill_a(b, SK, SN, &r, 1.0, 0);
    fill_a(d, SR, SN, &r, 1.0, 0);
    sbp__spmm_ws ws;
    ck_assert_int_eq(sbp__spmm_ws_init(&ws, SR, SK, SN), 0);
    const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int bi = 0; bi < 3; bi++) {
        float beta = betas[bi];
        fill_a(c, SR, SN, &r, 1.0, 0);
        reference(want, SR, SN, SK, a, SK, 1, b, SN, 0.75, beta, c);
        sbp__spmm(NULL, &ws, SR, SN, SK, 0.75f, a, SK, b, SN, beta, c, SN);
        ck_assert_double_lt(max_rel_error(c, want, (size_t)SR * SN), 1e-5);

        /* the gradient after it: reference, sbp__spmm_at2, sbp__spmm_at_same */
        fill_a(g, SK, SN, &r, 1.0, 0);
        reference(wantg, SK, SN, SR, a, 1, SK, d, SN, 0.5, beta, g);
        memcpy(g2, g, sizeof(float) * SK * SN);
        sbp__spmm_at_same(NULL, &ws, SK, SN, SR, 0.5f, a, d, beta, g);
        ck_assert_double_lt(max_rel_error(g, wantg, (size_t)SK * SN), 1e-5);
        sbp__spmm_at2(NULL, &ws, SK, SN, SR, 0.5f, a, d, 0.0f, NULL, NULL, beta, g2);
        ck_assert_int_eq(memcmp(g, g2, sizeof(float) * SK * SN), 0);
        /* a split is used once: a second call makes its own, same bits */
        for (size_t i = 0; i < (size_t)SK * SN; i++) g[i] = g2[i] = NAN;
        sbp__spmm_at_same(NULL, &ws, SK, SN, SR, 0.5f, a, d, 0.0f, g);
        sbp__spmm_at2(NULL, &ws, SK, SN, SR, 0.5f, a, d, 0.0f, NULL, NULL, 0.0f, g2);
        ck_assert_int_eq(memcmp(g, g2, sizeof(float) * SK * SN), 0);
        /* a split recorded for another factor is not used for this one */
        sbp__spmm(NULL, &ws, SR, SN, SK, 0.75f, a2, SK, b, SN, 0.0f, c, SN);
        for (size_t i = 0; i < (size_t)SK * SN; i++) g[i] = g2[i] = NAN;
        sbp__spmm_at_same(NULL, &ws, SK, SN, SR, 0.5f, a, d, 0.0f, g);
        sbp__spmm_at2(NULL, &ws, SK, SN, SR, 0.5f, a, d, 0.0f, NULL, NULL, 0.0f, g2);
        ck_assert_int_eq(memcmp(g, g2, sizeof(float) * SK * SN), 0);
    }
    /* two left factors: A1' D + A2' B-shaped D (second term -1) */
    for (size_t i = 0; i < SK; i++)
        for (size_t j = 0; j < SN; j++) {
            double s = 0.0;
            for (size_t q = 0; q < SR; q++)
                s += (double)a[q * SK + i] * d[q * SN + j] - (double)a2[q * SK + i] * d[q * SN + j];
            wantg[i * SN + j] = s;
        }
    sbp__spmm_at2(NULL, &ws, SK, SN, SR, 1.0f, a, d, -1.0f, a2, d, 0.0f, g);
    ck_assert_double_lt(max_rel_error(g, wantg, (size_t)SK * SN), 1e-5);
    sbp__spmm_ws_free(&ws);
    free(a);
    free(a2);
    free(b);
    free(d);
    free(c);
    free(g);
    free(g2);
    free(want);
    free(wantg);
}
END_TEST

/* The split path gives the same bits on 1, 2 and 3 threads. */
START_TEST(spmm_split_pool_size_invariant)
{
    sbp__rng r;
    sbp__rng_init(&r, 5, 0);
    float *a = malloc(sizeof(float) * SR * SK), *b = malloc(sizeof(float) * SK * SN);
    float *d = malloc(sizeof(float) * SR * SN), *c[3], *g[3];
    fill_split(a, &r, 0);
    fill_a(b, SK, SN, &r, 1.0, 0);
    fill_a(d, SR, SN, &r, 1.0, 0);
    products_on_pools(SR, SK, SN, a, b, d, c, g);
    for (unsigned p = 0; p < 3; p++) {
        free(c[p]);
        free(g[p]);
    }
    free(a);
    free(b);
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spmm");
    TCase *tc = tcase_create("core");
    size_t n_cases = sizeof cases / sizeof cases[0];
    tcase_add_loop_test(tc, spmm_matches_reference, 0, (int)n_cases);
    tcase_add_loop_test(tc, spmm_at2_matches_reference, 0, (int)n_cases);
    tcase_add_test(tc, spmm_pool_size_invariant);
    tcase_add_loop_test(tc, spmm_split_matches_reference, 0, 2);
    tcase_add_test(tc, spmm_split_pool_size_invariant);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
