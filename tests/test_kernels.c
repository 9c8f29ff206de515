/* The baseline and AVX2 kernel builds must give identical bits, and the
 * vector exp must match the scalar one and libm closely. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "rng.h"
#include "testutil.h"
#include "vmath.h"

#define N 1037 /* not a multiple of any vector width: exercises the tails */

static void fill(float *x, size_t n, sbp__rng *r, float scale)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((sbp__rng_double(r) * 2.0 - 1.0) * scale);
}

static const sbp__kernels *other(void)
{
#if defined(SBP_HAVE_AVX2_KERNELS)
    if (__builtin_cpu_supports("avx2")) return &sbp__kernels_avx2;
#endif
    return NULL;
}

START_TEST(exp_accuracy)
{
    double worst = 0;
    for (float x = -87.0f; x <= 87.0f; x += 0.01f) {
        double e = exp((double)x);
        double rel = fabs((double)sbp__expf(x) - e) / e;
        if (rel > worst) worst = rel;
    }
    ck_assert_double_lt(worst, 2e-7);
    /* saturation instead of overflow or NaN */
    ck_assert(isfinite(sbp__expf(1000.0f)));
    ck_assert(sbp__expf(-1000.0f) >= 0.0f);
    ck_assert_float_eq_tol(sbp__sigma2(0.0f), 0.0f, 1e-7f);
    ck_assert_float_eq_tol(sbp__sigma2(100.0f), 1.0f, 1e-6f);
    ck_assert_float_eq_tol(sbp__sigma2(-100.0f), -1.0f, 1e-6f);
}
END_TEST

START_TEST(sigma_scalar_equals_vector)
{
    sbp__rng r;
    sbp__rng_init(&r, 1, 0);
    static float x[N], y[N];
    fill(x, N, &r, 50.0f);
    memcpy(y, x, sizeof x);
    sbp__kernels_base.sigma2(y, N);
    for (size_t i = 0; i < N; i++) {
        float want = sbp__sigma2(x[i]);
        ck_assert_int_eq(memcmp(&want, &y[i], sizeof want), 0);
    }
}
END_TEST

START_TEST(builds_agree_bit_for_bit)
{
    const sbp__kernels *k2 = other();
    if (!k2) {
        printf("skipped: no second kernel build on this CPU\n");
        return;
    }
    const sbp__kernels *k1 = &sbp__kernels_base;
    sbp__rng r;
    sbp__rng_init(&r, 2, 0);
    static float a[N], b[N], c[N], d[N], e[N], h[N], V1[N], g1[N], s1[N], V2[N], g2[N], s2[N];
    fill(a, N, &r, 4.0f);
    fill(b, N, &r, 1.0f);
    fill(c, N, &r, 1.0f);
    fill(d, N, &r, 1.0f);
    fill(h, N, &r, 1.0f);
    memcpy(e, a, sizeof a);
    k1->sigma2(a, N);
    k2->sigma2(e, N);
    ck_assert_int_eq(memcmp(a, e, sizeof a), 0);

    sbp__lif_consts lc = {0.05f, 0.01f, 5.0f, 0.2f, 0.0f, 0.2f, 0.05f, -0.5f};
    fill(V1, N, &r, 0.3f);
    fill(g1, N, &r, 5.0f);
    memcpy(V2, V1, sizeof V1);
    memcpy(g2, g1, sizeof g1);
    for (int step = 1; step <= 100; step++) {
        k1->lif(&lc, (float)step / 100.0f, V1, g1, h, s1, b, N);
        k2->lif(&lc, (float)step / 100.0f, V2, g2, h, s2, b, N);
    }
    ck_assert_int_eq(memcmp(V1, V2, sizeof V1), 0);
    ck_assert_int_eq(memcmp(g1, g2, sizeof g1), 0);
    ck_assert_int_eq(memcmp(s1, s2, sizeof s1), 0);

    /* 3 rows x 101 inputs times a 101 x 7 matrix given transposed */
    static float out1[21], out2[21];
    k1->rows_times(b, 3, 101, c, 7, out1);
    k2->rows_times(b, 3, 101, c, 7, out2);
    ck_assert_int_eq(memcmp(out1, out2, sizeof out1), 0);
    /* and a row's result does not depend on the rows beside it */
    k2->rows_times(b + 101, 1, 101, c, 7, out2);
    ck_assert_int_eq(memcmp(out1 + 7, out2, 7 * sizeof(float)), 0);

    memcpy(s1, c, sizeof c);
    memcpy(s2, c, sizeof c);
    k1->relax_hidden(s1, a, b, d, 17, 61, 0.5f);
    k2->relax_hidden(s2, a, b, d, 17, 61, 0.5f);
    ck_assert_int_eq(memcmp(s1, s2, 17 * 61 * sizeof(float)), 0);
    k1->bias_sigma(s1, a, d, 17, 61);
    k2->bias_sigma(s2, a, d, 17, 61);
    ck_assert_int_eq(memcmp(s1, s2, 17 * 61 * sizeof(float)), 0);
}
END_TEST

/* The spike engine's LIF step written the obvious way (docs/spike.md). */
static size_t lif_reference(float *V, int32_t *ref, float *cnt, const float *I, const float *a,
                            size_t n, float decay, float v_th, float v_reset, int32_t t_ref,
                            uint32_t *spk)
{
    size_t c = 0;
    for (size_t j = 0; j < n; j++) {
        if (ref[j] > 0) {
            ref[j]--;
            continue;
        }
        float v = V[j] * decay + I[j];
        if (v >= v_th + (a ? a[j] : 0.0f)) {
            V[j] = v_reset;
            ref[j] = t_ref;
            cnt[j] += 1.0f;
            spk[c++] = (uint32_t)j;
        } else {
            V[j] = v;
        }
    }
    return c;
}

/* 40 steps of 37 neurons (not a multiple of any vector width) with random
 * input, with and without adaptation: every build equals the reference in
 * every state variable and spike list, and neurons do fire and sit out
 * refractory steps. */
START_TEST(spike_lif_matches_reference)
{
    enum { NN = 37 };
    const sbp__kernels *builds[2] = {&sbp__kernels_base, other()};
    for (int use_a = 0; use_a < 2; use_a++) {
        for (int bi = 0; bi < 2; bi++) {
            const sbp__kernels *k = builds[bi];
            if (!k) continue;
            sbp__rng r;
            sbp__rng_init(&r, 5, (uint64_t)use_a);
            float V0[NN] = {0}, V1[NN] = {0}, c0[NN] = {0}, c1[NN] = {0}, I[NN], a[NN];
            int32_t r0[NN] = {0}, r1[NN] = {0};
            uint32_t s0[NN], s1[NN];
            fill(a, NN, &r, 0.3f);
            size_t fired = 0, held = 0;
            for (int step = 0; step < 40; step++) {
                fill(I, NN, &r, 0.6f);
                for (size_t j = 0; j < NN; j++) held += r0[j] > 0;
                size_t n0 = lif_reference(V0, r0, c0, I, use_a ? a : NULL, NN, 0.95f, 1.0f,
                                          -0.1f, 2, s0);
                size_t n1 = k->spike_lif(V1, r1, c1, I, use_a ? a : NULL, NN, 0.95f, 1.0f, -0.1f,
                                         2, s1);
                ck_assert_uint_eq(n0, n1);
                ck_assert_int_eq(memcmp(s0, s1, n0 * sizeof *s0), 0);
                fired += n0;
            }
            ck_assert_int_eq(memcmp(V0, V1, sizeof V0), 0);
            ck_assert_int_eq(memcmp(r0, r1, sizeof r0), 0);
            ck_assert_int_eq(memcmp(c0, c1, sizeof c0), 0);
            ck_assert_uint_gt(fired, 20);
            ck_assert_uint_gt(held, 20);
        }
    }
}
END_TEST

/* The event loop's row sums: every build equals the plain loop, rows
 * repeated and in any order, on a width that is not a multiple of 8. */
START_TEST(add_rows_matches_reference)
{
    enum { NR = 9, NC = 29 };
    const sbp__kernels *builds[2] = {&sbp__kernels_base, other()};
    sbp__rng r;
    sbp__rng_init(&r, 8, 0);
    float Wm[NR * NC], I0[NC], I1[NC];
    fill(Wm, NR * NC, &r, 1.0f);
    fill(I0, NC, &r, 1.0f);
    const uint32_t rows[] = {3, 0, 8, 3, 5, 5, 1};
    float want[NC];
    memcpy(want, I0, sizeof want);
    for (size_t s = 0; s < sizeof rows / sizeof rows[0]; s++)
        for (size_t j = 0; j < NC; j++) want[j] += Wm[rows[s] * NC + j];
    for (int bi = 0; bi < 2; bi++) {
        if (!builds[bi]) continue;
        memcpy(I1, I0, sizeof I1);
        builds[bi]->add_rows(I1, Wm, NC, rows, sizeof rows / sizeof rows[0]);
        ck_assert_int_eq(memcmp(want, I1, sizeof want), 0);
        builds[bi]->add_rows(I1, Wm, NC, rows, 0); /* no spikes: unchanged */
        ck_assert_int_eq(memcmp(want, I1, sizeof want), 0);
    }
}
END_TEST

/* The sparse products' row updates: every build equals one plain axpy per
 * term in list order, on widths around the 8-vector block and with an
 * offset into the rows. */
START_TEST(axpy_rows_matches_reference)
{
    enum { NR = 7, NCMAX = 80 };
    const sbp__kernels *builds[2] = {&sbp__kernels_base, other()};
    sbp__rng r;
    sbp__rng_init(&r, 9, 0);
    float Wm[NR * NCMAX], y0[NCMAX], y1[NCMAX], want[NCMAX];
    fill(Wm, NR * NCMAX, &r, 1.0f);
    fill(y0, NCMAX, &r, 1.0f);
    const float coef[] = {0.5f, -1.25f, 3.0f, 1e-3f, -0.75f};
    const float *rows[] = {Wm + 4 * NCMAX, Wm, Wm + 6 * NCMAX, Wm + 4 * NCMAX, Wm + 2 * NCMAX};
    const size_t widths[] = {1, 7, 8, 31, 32, 33, 64, 65, 75};
    for (size_t off = 0; off <= 5; off += 5)
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
            size_t nc = widths[wi];
            memcpy(want, y0, sizeof want);
            for (size_t s = 0; s < 5; s++)
                for (size_t j = 0; j < nc; j++) want[j] += coef[s] * rows[s][off + j];
            for (int bi = 0; bi < 2; bi++) {
                if (!builds[bi]) continue;
                memcpy(y1, y0, sizeof y1);
                builds[bi]->axpy_rows(y1, rows, off, coef, 5, nc);
                ck_assert_int_eq(memcmp(want, y1, sizeof want), 0);
                builds[bi]->axpy_rows(y1, rows, off, coef, 0, nc); /* no terms: unchanged */
                ck_assert_int_eq(memcmp(want, y1, sizeof want), 0);
            }
        }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, exp_accuracy);
    tcase_add_test(tc, sigma_scalar_equals_vector);
    tcase_add_test(tc, builds_agree_bit_for_bit);
    tcase_add_test(tc, spike_lif_matches_reference);
    tcase_add_test(tc, add_rows_matches_reference);
    tcase_add_test(tc, axpy_rows_matches_reference);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
