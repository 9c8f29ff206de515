/* The sparse-aware products (lib/spmm.c) against a double-precision
 * reference, on both of their paths (sparse kernel and BLAS), with every
 * beta case, and bit-identical over pool sizes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "spmm.h"
#include "testutil.h"

enum { M = 23, K = 37, N = 45, R = 11 };

/* density 0 < d <= 1: that fraction of entries non-zero */
static void fill_sparse(float *x, size_t n, sbp__rng *r, double d)
{
    for (size_t i = 0; i < n; i++) {
        double u = sbp__rng_double(r);
        x[i] = u < d ? (float)(sbp__rng_double(r) * 2.0 - 1.0) : 0.0f;
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

/* C = alpha A B + beta C, for a sparse and a dense A and beta in {0, 1, 0.5} */
START_TEST(spmm_matches_reference)
{
    const double densities[] = {0.1, 0.9};
    const float betas[] = {0.0f, 1.0f, 0.5f};
    sbp__rng r;
    sbp__rng_init(&r, 1, 0);
    float a[M * K], b[K * N], c0[M * N], c[M * N];
    double want[M * N];
    for (int di = 0; di < 2; di++)
        for (int bi = 0; bi < 3; bi++) {
            fill_sparse(a, M * K, &r, densities[di]);
            fill_sparse(b, K * N, &r, 1.0);
            fill_sparse(c0, M * N, &r, 1.0);
            float alpha = 0.75f, beta = betas[bi];
            for (size_t q = 0; q < M; q++)
                for (size_t j = 0; j < N; j++) {
                    double s = 0.0;
                    for (size_t i = 0; i < K; i++) s += (double)a[q * K + i] * b[i * N + j];
                    want[q * N + j] = alpha * s + (beta == 0.0f ? 0.0 : beta * (double)c0[q * N + j]);
                }
            /* with room for the terms (sparse path when A is) and without (BLAS) */
            sbp__spmm_ws ws;
            ck_assert_int_eq(sbp__spmm_ws_init(&ws, M, K), 0);
            for (int with_ws = 0; with_ws < 2; with_ws++) {
                memcpy(c, c0, sizeof c);
                if (beta == 0.0f) /* beta 0: C is not read */
                    for (size_t i = 0; i < M * N; i++) c[i] = NAN;
                sbp__spmm(NULL, with_ws ? &ws : NULL, M, N, K, alpha, a, K, b, N, beta, c, N);
                ck_assert_double_lt(max_rel_error(c, want, M * N), 1e-5);
            }
            sbp__spmm_ws_free(&ws);
        }
}
END_TEST

/* C = alpha1 A1' D1 + alpha2 A2' D2 + beta C, with and without A2 */
START_TEST(spmm_at2_matches_reference)
{
    const double densities[] = {0.1, 0.9};
    const float betas[] = {0.0f, 1.0f, 0.9f};
    sbp__rng r;
    sbp__rng_init(&r, 2, 0);
    float a1[R * M], a2[R * M], d1[R * N], d2[R * N], c0[M * N], c[M * N];
    double want[M * N];
    for (int di = 0; di < 2; di++)
        for (int bi = 0; bi < 3; bi++)
            for (int two = 0; two < 2; two++) {
                fill_sparse(a1, R * M, &r, densities[di]);
                fill_sparse(a2, R * M, &r, densities[di]);
                fill_sparse(d1, R * N, &r, 1.0);
                fill_sparse(d2, R * N, &r, 1.0);
                fill_sparse(c0, M * N, &r, 1.0);
                float al1 = 0.1f, al2 = -0.3f, beta = betas[bi];
                for (size_t i = 0; i < M; i++)
                    for (size_t j = 0; j < N; j++) {
                        double s = 0.0;
                        for (size_t q = 0; q < R; q++) {
                            s += (double)al1 * a1[q * M + i] * d1[q * N + j];
                            if (two) s += (double)al2 * a2[q * M + i] * d2[q * N + j];
                        }
                        want[i * N + j] = s + (beta == 0.0f ? 0.0 : beta * (double)c0[i * N + j]);
                    }
                memcpy(c, c0, sizeof c);
                if (beta == 0.0f)
                    for (size_t i = 0; i < M * N; i++) c[i] = NAN;
                sbp__spmm_at2(NULL, M, N, R, al1, a1, d1, al2, two ? a2 : NULL, d2, beta, c);
                ck_assert_double_lt(max_rel_error(c, want, M * N), 1e-5);
            }
}
END_TEST

/* The sparse path gives the same bits on 1, 2 and 3 threads; no samples
 * (r = 0) only scales C. */
START_TEST(spmm_pool_size_invariant)
{
    enum { MB = 60, KB = 300, NB = 130 }; /* MB <= SBP__SPMM_MAX_ROWS */
    sbp__rng r;
    sbp__rng_init(&r, 3, 0);
    float *a = malloc(sizeof(float) * MB * KB), *b = malloc(sizeof(float) * KB * NB);
    float *c[3], *t[3];
    fill_sparse(a, MB * KB, &r, 0.2);
    fill_sparse(b, KB * NB, &r, 1.0);
    for (unsigned p = 0; p < 3; p++) {
        c[p] = malloc(sizeof(float) * MB * NB);
        t[p] = malloc(sizeof(float) * KB * NB);
        sbp__pool *pool = sbp__pool_create(p + 1);
        ck_assert_ptr_nonnull(pool);
        sbp__spmm_ws ws;
        ck_assert_int_eq(sbp__spmm_ws_init(&ws, MB, KB), 0);
        sbp__spmm(pool, &ws, MB, NB, KB, 1.0f, a, KB, b, NB, 0.0f, c[p], NB);
        sbp__spmm_ws_free(&ws);
        sbp__spmm_at2(pool, KB, NB, MB, 0.5f, a, c[p], -0.5f, a, c[p], 0.0f, t[p]);
        sbp__pool_free(pool);
    }
    for (unsigned p = 1; p < 3; p++) {
        ck_assert_int_eq(memcmp(c[0], c[p], sizeof(float) * MB * NB), 0);
        ck_assert_int_eq(memcmp(t[0], t[p], sizeof(float) * KB * NB), 0);
    }
    /* 0.5 A'C - 0.5 A'C sums to exactly zero term by term */
    for (size_t i = 0; i < (size_t)KB * NB; i++) ck_assert(t[0][i] == 0.0f);
    float cc[4] = {1, 2, 3, 4};
    sbp__spmm_at2(NULL, 2, 2, 0, 1.0f, a, b, 1.0f, NULL, NULL, 0.5f, cc);
    ck_assert(cc[0] == 0.5f && cc[3] == 2.0f);
    for (unsigned p = 0; p < 3; p++) {
        free(c[p]);
        free(t[p]);
    }
    free(a);
    free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spmm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, spmm_matches_reference);
    tcase_add_test(tc, spmm_at2_matches_reference);
    tcase_add_test(tc, spmm_pool_size_invariant);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
