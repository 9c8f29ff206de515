/* Plasticity rules and spike encoders against closed forms and invariants:
 * pair STDP (closed form and simulated timeline, soft bounds, supervised
 * rule), Tsodyks-Markram STP (hand recursion), the homeostatic threshold
 * (derived rate bound, target rate), the LIF first-spike time, the
 * additive SBP spread (hand-computed 2x3 example, sign and mask
 * invariants) and the encoders (rates, latencies, event replay), plus
 * determinism wherever randomness is used. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "encode.h"
#include "objects.h"
#include "rng.h"
#include "rules/homeo.h"
#include "rules/spread.h"
#include "rules/stdp.h"
#include "rules/stp.h"
#include "testutil.h"

static double param_default(sbp_param id)
{
    sbp_param_desc d;
    ck_assert_int_eq(sbp_param_info(id, &d), SBP_OK);
    return d.default_value;
}

static sbp_rule *rule_new(sbp_rule_kind kind)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(kind, &r), SBP_OK);
    return r;
}

static void set_real(sbp_rule *r, sbp_param id, double v)
{
    ck_assert_int_eq(sbp_rule_set_real(r, id, v), SBP_OK);
}

static void set_int(sbp_rule *r, sbp_param id, int64_t v)
{
    ck_assert_int_eq(sbp_rule_set_int(r, id, v), SBP_OK);
}

/* |a - b| <= rel * |b| + abs */
#define ck_near(a, b, rel, abs_)                                                          \
    ck_assert_msg(fabs((double)(a) - (double)(b)) <= (rel) * fabs((double)(b)) + (abs_), \
                  "%s = %.9g, expected %.9g", #a, (double)(a), (double)(b))

/* ------------------------------------------------------------------------ */
/* STDP                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(stdp_defaults_from_table)
{
    sbp__stdp p;
    sbp__stdp_from_rule(NULL, &p);
    ck_assert_float_eq(p.a_plus, (float)param_default(SBP_STDP_A_PLUS));
    ck_assert_float_eq(p.a_minus, (float)param_default(SBP_STDP_A_MINUS));
    ck_assert_float_eq(p.tau_plus, (float)param_default(SBP_STDP_TAU_PLUS));
    ck_assert_float_eq(p.tau_minus, (float)param_default(SBP_STDP_TAU_MINUS));
    ck_assert_float_eq(p.w_min, (float)param_default(SBP_STDP_W_MIN));
    ck_assert_float_eq(p.w_max, (float)param_default(SBP_STDP_W_MAX));
    ck_assert_float_eq(p.eta, (float)param_default(SBP_STDP_ETA));
    ck_assert_int_eq(p.multiplicative, 0);

    sbp_rule *r = rule_new(SBP_RULE_STDP);
    set_real(r, SBP_STDP_TAU_PLUS, 7.5);
    set_real(r, SBP_STDP_A_MINUS, 0.03);
    set_int(r, SBP_STDP_MULTIPLICATIVE, 1);
    sbp__stdp_from_rule(r, &p);
    ck_assert_float_eq(p.tau_plus, 7.5f);
    ck_assert_float_eq(p.a_minus, 0.03f);
    ck_assert_int_eq(p.multiplicative, 1);
    sbp_rule_free(r);
}
END_TEST

static const float pair_dts[] = {-60, -25, -10, -3, -1, 0, 1, 2, 5, 13, 30, 55};
#define N_DTS (sizeof pair_dts / sizeof pair_dts[0])

/* A exp(-|dt|/tau): A+ / tau+ for dt >= 0 (potentiation), -A- / tau- for
 * dt < 0, computed here in double from the parameters. */
static double pair_expected(const sbp__stdp *p, double dt)
{
    if (dt >= 0) return p->a_plus * exp(-dt / p->tau_plus);
    return -(double)p->a_minus * exp(dt / p->tau_minus);
}

START_TEST(stdp_pair_closed_form)
{
    sbp__stdp p;
    sbp__stdp_from_rule(NULL, &p);
    /* asymmetric constants so that a swapped tau or amplitude shows */
    sbp__stdp q = p;
    q.a_plus = 0.02f;
    q.a_minus = 0.005f;
    q.tau_plus = 10.0f;
    q.tau_minus = 35.0f;
    const sbp__stdp *ps[2] = {&p, &q};
    for (int v = 0; v < 2; v++) {
        for (size_t i = 0; i < N_DTS; i++) {
            float dt = pair_dts[i];
            float got = sbp__stdp_pair(ps[v], dt);
            ck_near(got, pair_expected(ps[v], dt), 1e-6, 1e-12);
            if (dt >= 0)
                ck_assert(got > 0.0f);
            else
                ck_assert(got < 0.0f);
        }
    }
    ck_assert_float_eq(sbp__stdp_pair(&p, 0.0f), p.a_plus);
    ck_near(sbp__trace_decay(20.0f, 1.0f), exp(-1.0 / 20.0), 1e-7, 0);
    ck_near(sbp__trace_decay(5.0f, 0.5f), exp(-0.1), 1e-7, 0);
}
END_TEST

/* Runs one pre/post pair through sbp__stdp_step on a 3 x 2 matrix: pre
 * neuron 1 at step t0, post neuron 0 at t0 + k (k may be negative), step
 * h ms; traces decay with sbp__trace_decay at the start of every step.
 * Returns the change of w[1][0] and checks that nothing else moved. */
static double timeline_pair(const sbp__stdp *p, int k, float h, float w0)
{
    enum { M = 3, N = 2, T = 200, T0 = 80 };
    float w[M * N], x_pre[M] = {0}, x_post[N] = {0};
    for (int i = 0; i < M * N; i++) w[i] = w0;
    const float dp = sbp__trace_decay(p->tau_plus, h), dm = sbp__trace_decay(p->tau_minus, h);
    const uint32_t pre = 1, post = 0;
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < M; i++) x_pre[i] *= dp;
        for (int j = 0; j < N; j++) x_post[j] *= dm;
        int tpre = T0, tpost = T0 + k;
        sbp__stdp_step(p, w, M, N, &pre, t == tpre, &post, t == tpost, x_pre, x_post);
    }
    for (int i = 0; i < M * N; i++)
        if (i != 1 * N + 0) ck_assert_float_eq(w[i], w0);
    return (double)w[1 * N + 0] - (double)w0;
}

START_TEST(stdp_step_timeline_matches_pair)
{
    sbp__stdp p;
    sbp__stdp_from_rule(NULL, &p);
    sbp_rule *r = rule_new(SBP_RULE_STDP);
    set_real(r, SBP_STDP_A_PLUS, 0.02);
    set_real(r, SBP_STDP_A_MINUS, 0.005);
    set_real(r, SBP_STDP_TAU_PLUS, 10);
    set_real(r, SBP_STDP_TAU_MINUS, 35);
    sbp__stdp q;
    sbp__stdp_from_rule(r, &q);
    sbp_rule_free(r);
    const sbp__stdp *ps[2] = {&p, &q};
    const float hs[2] = {1.0f, 0.5f}; /* ms per step */
    for (int v = 0; v < 2; v++) {
        for (int hi = 0; hi < 2; hi++) {
            for (size_t i = 0; i < N_DTS; i++) {
                int k = (int)pair_dts[i];
                float dt = (float)k * hs[hi];
                double got = timeline_pair(ps[v], k, hs[hi], 0.0f);
                /* k products of a float factor: relative error ~ k eps */
                ck_near(got, pair_expected(ps[v], dt), 2e-5, 1e-9);
                ck_near(got, sbp__stdp_pair(ps[v], dt), 2e-5, 1e-9);
            }
        }
    }
}
END_TEST

START_TEST(stdp_multiplicative_pair_and_bounds)
{
    sbp__stdp p;
    sbp__stdp_from_rule(NULL, &p);
    p.multiplicative = 1;
    const float w0 = 0.3f;
    for (size_t i = 0; i < N_DTS; i++) {
        int k = (int)pair_dts[i];
        double bound = k >= 0 ? (double)p.w_max - w0 : (double)w0 - p.w_min;
        ck_near(timeline_pair(&p, k, 1.0f, w0), pair_expected(&p, k) * bound, 2e-5, 1e-8);
    }

    /* Isolated pairs (traces cleared before each, as if far apart): soft
     * bounds approach the bound geometrically and never reach it:
     *   dt = 0 pairs:  w_k = w_max - (1 - a+)^k (w_max - w0)
     *   dt = -5 pairs: w_k = w_min + (1 - a- exp(-5/tau-))^k (w0 - w_min) */
    p.a_plus = 0.5f;
    p.a_minus = 0.5f;
    float w = w0, xp, xq;
    uint32_t z = 0;
    for (int pair = 1; pair <= 12; pair++) {
        xp = xq = 0;
        for (int t = 0; t < 30; t++) {
            xp *= sbp__trace_decay(p.tau_plus, 1);
            xq *= sbp__trace_decay(p.tau_minus, 1);
            sbp__stdp_step(&p, &w, 1, 1, &z, t == 0, &z, t == 0, &xp, &xq);
        }
        double expect = p.w_max - pow(1.0 - p.a_plus, pair) * (p.w_max - w0);
        ck_near(w, expect, 1e-5, 1e-6);
        ck_assert(w < p.w_max);
    }
    w = w0;
    const double f = 1.0 - p.a_minus * exp(-5.0 / p.tau_minus);
    for (int pair = 1; pair <= 12; pair++) {
        xp = xq = 0;
        for (int t = 0; t < 30; t++) {
            xp *= sbp__trace_decay(p.tau_plus, 1);
            xq *= sbp__trace_decay(p.tau_minus, 1);
            sbp__stdp_step(&p, &w, 1, 1, &z, t == 5, &z, t == 0, &xp, &xq);
        }
        double expect = p.w_min + pow(f, pair) * (w0 - p.w_min);
        ck_near(w, expect, 1e-5, 1e-6);
        ck_assert(w > p.w_min);
    }

    /* Additive form with a huge amplitude: clipped exactly at w_max. */
    p.multiplicative = 0;
    p.a_plus = 50.0f;
    w = w0;
    xp = xq = 0;
    sbp__stdp_step(&p, &w, 1, 1, &z, 1, &z, 1, &xp, &xq);
    ck_assert_float_eq(w, p.w_max);
}
END_TEST

/* Random trains on a 9 x 7 matrix with large amplitudes (traces pile up,
 * so a x can exceed 1): every weight stays in [w_min, w_max] at every step,
 * in both forms. */
START_TEST(stdp_random_trains_stay_in_bounds)
{
    enum { M = 9, N = 7, T = 3000 };
    for (int mult = 0; mult < 2; mult++) {
        sbp__stdp p;
        sbp__stdp_from_rule(NULL, &p);
        p.multiplicative = mult;
        p.a_plus = 0.4f;
        p.a_minus = 0.45f;
        p.w_min = -0.5f;
        p.w_max = 0.75f;
        float w[M * N], xp[M] = {0}, xq[N] = {0};
        sbp__rng r;
        sbp__rng_init(&r, 11, (uint64_t)mult);
        for (int i = 0; i < M * N; i++) w[i] = -0.5f + 1.25f * sbp__rng_float(&r);
        uint32_t pre[M], post[N];
        const float dp = sbp__trace_decay(p.tau_plus, 1), dm = sbp__trace_decay(p.tau_minus, 1);
        for (int t = 0; t < T; t++) {
            size_t np = 0, nq = 0;
            for (uint32_t i = 0; i < M; i++) {
                xp[i] *= dp;
                if (sbp__rng_float(&r) < 0.2f) pre[np++] = i;
            }
            for (uint32_t j = 0; j < N; j++) {
                xq[j] *= dm;
                if (sbp__rng_float(&r) < 0.2f) post[nq++] = j;
            }
            sbp__stdp_step(&p, w, M, N, pre, np, post, nq, xp, xq);
            for (int i = 0; i < M * N; i++) ck_assert(w[i] >= p.w_min && w[i] <= p.w_max);
        }
    }
}
END_TEST

START_TEST(stdp_supervised_signs)
{
    sbp__stdp p;
    sbp__stdp_from_rule(NULL, &p);
    p.eta = 0.1f;
    const float x[3] = {0.5f, 0.0f, 1.0f};
    float dw[3 * 2] = {0};
    uint32_t t0 = 0, o1 = 1, both[2] = {0, 1};
    /* teaching spike at output 0 after presynaptic activity: potentiation;
     * an unwanted spike of output 1: depression; silent input 1: nothing */
    sbp__stdp_supervised_step(&p, x, 3, 2, &t0, 1, &o1, 1, dw);
    const float want[6] = {0.05f, -0.05f, 0, 0, 0.1f, -0.1f};
    for (int i = 0; i < 6; i++) ck_assert_float_eq_tol(dw[i], want[i], 1e-7f);
    /* teach {0,1} with output {1}: output 1 was right, no change there */
    float dv[6] = {0};
    sbp__stdp_supervised_step(&p, x, 3, 2, both, 2, &o1, 1, dv);
    const float want2[6] = {0.05f, 0, 0, 0, 0.1f, 0};
    for (int i = 0; i < 6; i++) ck_assert_float_eq_tol(dv[i], want2[i], 1e-7f);
    ck_assert_float_eq(dv[1], 0.0f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* STP                                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(stp_regular_train_matches_recursion)
{
    /* (U, tau_f, tau_d, rate Hz): the defaults (full recovery at 20 Hz),
     * facilitation-dominated and depression-dominated synapses */
    const double cases[][4] = {
        {-1, -1, -1, 20}, {0.1, 500, 50, 20}, {0.5, 50, 800, 20}, {0.2, 100, 200, 50},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sbp__stp p;
        if (cases[c][0] < 0) {
            sbp__stp_from_rule(NULL, &p);
            ck_assert_float_eq(p.U, (float)param_default(SBP_STP_U));
            ck_assert_float_eq(p.tau_f, (float)param_default(SBP_STP_TAU_F));
            ck_assert_float_eq(p.tau_d, (float)param_default(SBP_STP_TAU_D));
        } else {
            sbp_rule *r = rule_new(SBP_RULE_STP);
            set_real(r, SBP_STP_U, cases[c][0]);
            set_real(r, SBP_STP_TAU_F, cases[c][1]);
            set_real(r, SBP_STP_TAU_D, cases[c][2]);
            sbp__stp_from_rule(r, &p);
            sbp_rule_free(r);
        }
        const double U = p.U, tf = p.tau_f, td = p.tau_d;
        const double isi = 1000.0 / cases[c][3]; /* ms */
        /* Hand recursion from model.md 3, exact relaxation between spikes:
         *   before spike n:  u-_n, x-_n   (u-_1 = U, x-_1 = 1: at rest)
         *   at spike n:      u+_n = u-_n + U (1 - u-_n)
         *                    eff_n = u+_n x-_n,  x+_n = x-_n - eff_n
         *   to spike n+1:    u-_{n+1} = U + (u+_n - U) exp(-isi/tau_f)
         *                    x-_{n+1} = 1 + (x+_n - 1) exp(-isi/tau_d) */
        double um = U, xm = 1.0;
        float u = p.U, x = 1.0f;      /* library, one relax per interval */
        float u2 = p.U, x2 = 1.0f;    /* library, relaxed in 1 ms pieces */
        double first = 0, last = 0;
        for (int n = 0; n < 10; n++) {
            double up = um + U * (1.0 - um);
            double eff = up * xm;
            double xp = xm - eff;
            if (n > 0) {
                sbp__stp_relax(&p, (float)isi, &u, &x);
                for (int s = 0; s < (int)isi; s++) sbp__stp_relax(&p, 1.0f, &u2, &x2);
            }
            float got = sbp__stp_spike(&p, &u, &x);
            float got2 = sbp__stp_spike(&p, &u2, &x2);
            ck_near(got, eff, 1e-5, 1e-7);
            ck_near(got2, eff, 1e-4, 1e-6); /* exact relaxation composes */
            ck_near(u, up, 1e-5, 1e-7);
            ck_near(x, xp, 1e-5, 1e-7);
            if (n == 0) first = eff;
            last = eff;
            um = U + (up - U) * exp(-isi / tf);
            xm = 1.0 + (xp - 1.0) * exp(-isi / td);
        }
        /* the recursion itself behaves as the regime says */
        if (c == 0) ck_near(last, first, 5e-3, 0); /* nearly recovers in 50 ms */
        if (c == 1) ck_assert(last > first);       /* facilitating */
        if (c == 2) ck_assert(last < 0.5 * first); /* depressing */
    }
}
END_TEST

START_TEST(stp_relax_limits)
{
    sbp__stp p = {0.3f, 20.0f, 40.0f};
    float u = 0.9f, x = 0.1f;
    sbp__stp_relax(&p, 0.0f, &u, &x);
    ck_assert_float_eq(u, 0.9f);
    ck_assert_float_eq(x, 0.1f);
    sbp__stp_relax(&p, 1e5f, &u, &x);
    ck_assert_float_eq_tol(u, p.U, 1e-7f);
    ck_assert_float_eq_tol(x, 1.0f, 1e-7f);
    /* the efficacy of a spike at rest is U' x with U' = 2U - U^2 */
    float eff = sbp__stp_spike(&p, &u, &x);
    ck_assert_float_eq_tol(eff, 0.3f + 0.3f * 0.7f, 1e-6f);
    ck_assert(x > 0.0f && x < 1.0f && u > p.U && u < 1.0f);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Homeostatic threshold and LIF                                             */
/* ------------------------------------------------------------------------ */

/* The LIF update the spike engine uses (model.md 3), one neuron, reset 0:
 * V <- V q + I; spike when V >= theta0 + a; then V <- 0. Returns the
 * number of spikes in steps [from, to) of a run of `to` steps; the
 * adaptation is stepped by sbp__homeo_step when p is not NULL. */
typedef struct lif_run {
    size_t spikes;
    float a_at_from, a_end, a_min, a_max; /* over [from, to) */
} lif_run;

static lif_run lif(const sbp__homeo *p, float I, float tau_m, float dt, float theta0, int from,
                   int to)
{
    lif_run out = {0, 0, 0, INFINITY, -INFINITY};
    const float q = expf(-dt / tau_m);
    float V = 0.0f, a = 0.0f;
    for (int t = 0; t < to; t++) {
        if (t == from) out.a_at_from = a;
        V = V * q + I;
        uint32_t zero = 0;
        int spk = V >= theta0 + a;
        if (spk) V = 0.0f;
        if (p) sbp__homeo_step(p, dt, &a, 1, &zero, (size_t)spk);
        if (t >= from) {
            out.spikes += (size_t)spk;
            if (a < out.a_min) out.a_min = a;
            if (a > out.a_max) out.a_max = a;
        }
    }
    out.a_end = a;
    return out;
}

START_TEST(homeostasis_bounds_the_rate)
{
    sbp__homeo d;
    sbp__homeo_from_rule(NULL, &d);
    ck_assert_float_eq(d.theta_plus, (float)param_default(SBP_HOMEO_THETA_PLUS));
    ck_assert_float_eq(d.tau_theta, (float)param_default(SBP_HOMEO_TAU_THETA));
    ck_assert_float_eq(d.target_rate, 0.0f);

    sbp_rule *r = rule_new(SBP_RULE_HOMEOSTASIS);
    set_real(r, SBP_HOMEO_THETA_PLUS, 0.5);
    set_real(r, SBP_HOMEO_TAU_THETA, 200);
    sbp__homeo p;
    sbp__homeo_from_rule(r, &p);
    sbp_rule_free(r);

    const float I = 1.2f, tau_m = 5.0f, dt = 1.0f, theta0 = 1.0f;
    const int T0 = 5000, T1 = 10000; /* measure over [T0, T1) */
    /* Derivation of the bound. With V_0 = 0 and V_{t+1} <= q V_t + I,
     * V <= Vmax = I/(1-q). A spike at t needs a_t <= V - theta0 <= A with
     * A = Vmax - theta0, and a grows only at spikes, so 0 <= a_t <= A + th
     * (th = theta_plus) at all times. a_{t+1} = qa a_t + th s_t with
     * qa = exp(-dt/tau_theta); summed over a window of T steps,
     *   th N = a_end - a_start + (1 - qa) sum_t a_t
     *       <= (A + th) + (1 - qa) T (A + th),
     * so the rate N/T <= (A + th) (1 - qa + 1/T) / th spikes per step. */
    const double q = exp(-(double)dt / tau_m), qa = exp(-(double)dt / p.tau_theta);
    const double A = I / (1.0 - q) - theta0, th = p.theta_plus;
    const double T = T1 - T0;
    const double bound = (A + th) * (1.0 - qa + 1.0 / T) / th; /* spikes/step */
    ck_assert(bound < 0.1); /* a useful bound: 1000 Hz -> under 100 Hz */

    lif_run without = lif(NULL, I, tau_m, dt, theta0, T0, T1);
    ck_assert_uint_eq(without.spikes, (size_t)T); /* I >= theta0: every step */
    /* with homeostasis the rate starts high (a = 0) and falls below it */
    lif_run early = lif(&p, I, tau_m, dt, theta0, 0, 100);
    ck_assert((double)early.spikes / 100.0 > bound);
    lif_run with = lif(&p, I, tau_m, dt, theta0, T0, T1);
    double rate = (double)with.spikes / T;
    ck_assert_msg(rate <= bound, "rate %g > bound %g", rate, bound);
    ck_assert(with.spikes > 0);
    ck_assert(with.a_max <= A + th + 1e-4);
    /* stays below: every later window of 500 steps too */
    for (int w0 = T0; w0 < T1; w0 += 500) {
        lif_run win = lif(&p, I, tau_m, dt, theta0, w0, w0 + 500);
        double b500 = (A + th) * (1.0 - qa + 1.0 / 500.0) / th;
        ck_assert((double)win.spikes / 500.0 <= b500);
    }
}
END_TEST

START_TEST(homeostasis_reaches_target_rate)
{
    const double targets[] = {20, 50, 100}; /* Hz */
    for (size_t c = 0; c < 3; c++) {
        sbp_rule *r = rule_new(SBP_RULE_HOMEOSTASIS);
        set_real(r, SBP_HOMEO_THETA_PLUS, 0.05);
        set_real(r, SBP_HOMEO_TARGET_RATE, targets[c]);
        sbp__homeo p;
        sbp__homeo_from_rule(r, &p);
        sbp_rule_free(r);
        const float dt = 1.0f;
        const int T0 = 3000, T1 = 23000;
        lif_run run = lif(&p, 1.2f, 5.0f, dt, 1.0f, T0, T1);
        const double T = T1 - T0, want = targets[c] * dt / 1000.0; /* per step */
        double rate = (double)run.spikes / T;
        /* Over the window a changes by th (N - want T) exactly (no decay),
         * so |rate - want| = |a_end - a_start| / (th T) <= (a_max - a_min) /
         * (th T): a bounded a gives the target up to that term. */
        double slack = ((double)run.a_max - run.a_min) / (0.05 * T);
        ck_assert_msg(fabs(rate - want) <= slack + 1e-4, "rate %g, target %g, slack %g", rate,
                      want, slack);
        ck_assert_msg(fabs(rate - want) <= 0.02 * want, "rate %g Hz, target %g Hz",
                      rate * 1000.0 / dt, targets[c]);
    }
}
END_TEST

START_TEST(homeostasis_step_forms)
{
    sbp__homeo p = {0.25f, 100.0f, 0.0f};
    float a[4] = {1.0f, 1.0f, 0.0f, 2.0f};
    uint32_t spk[2] = {1, 2};
    sbp__homeo_step(&p, 2.0f, a, 4, spk, 2);
    float q = expf(-2.0f / 100.0f);
    ck_assert_float_eq_tol(a[0], q, 1e-7f);
    ck_assert_float_eq_tol(a[1], q + 0.25f, 1e-7f);
    ck_assert_float_eq_tol(a[2], 0.25f, 1e-7f);
    ck_assert_float_eq_tol(a[3], 2.0f * q, 1e-6f);
    p.target_rate = 100.0f; /* 0.2 expected spikes per 2 ms step */
    float b[2] = {0.0f, 0.0f};
    uint32_t one = 1;
    sbp__homeo_step(&p, 2.0f, b, 2, &one, 1);
    ck_assert_float_eq_tol(b[0], -0.25f * 0.2f, 1e-7f);
    ck_assert_float_eq_tol(b[1], 0.25f * 0.8f, 1e-7f);
}
END_TEST

START_TEST(lif_first_spike_time_is_analytic)
{
    const float taus[2][2] = {{20.0f, 1.0f}, {10.0f, 0.5f}}; /* tau_m, dt */
    const float currents[] = {0.06f, 0.08f, 0.1f, 0.2f, 0.35f, 0.5f, 0.9f, 1.5f, 3.0f};
    const float theta = 1.0f;
    for (int c = 0; c < 2; c++) {
        const float q = expf(-taus[c][1] / taus[c][0]);
        for (size_t k = 0; k < sizeof currents / sizeof currents[0]; k++) {
            float I = currents[k];
            if (I <= theta * (1.0f - q)) continue;
            /* V_n = I (1 - q^n)/(1 - q) >= theta first at
             * n = ceil(log(1 - theta (1-q)/I) / log q) */
            double qd = q;
            double nstar = log(1.0 - theta * (1.0 - qd) / I) / log(qd);
            /* away from an integer, so float rounding cannot move it */
            ck_assert(fabs(nstar - nearbyint(nstar)) > 1e-3);
            long want = (long)ceil(nstar);
            float V = 0.0f;
            long n = 0;
            while (n < 100000) {
                n++;
                V = V * q + I;
                if (V >= theta) break;
            }
            ck_assert_int_eq(n, want);
        }
        /* below theta (1 - q) it never fires: V -> I/(1-q) < theta */
        float V = 0.0f, I = 0.8f * theta * (1.0f - q);
        for (int n = 0; n < 100000; n++) {
            V = V * q + I;
            ck_assert(V < theta);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Additive SBP spread                                                      */
/* ------------------------------------------------------------------------ */

static sbp__spread additive(int retro, int split, double lambda_f)
{
    sbp_rule *r = rule_new(SBP_RULE_SBP_SPREAD);
    set_int(r, SBP_SPREAD_RETRO_WEIGHT, retro);
    set_int(r, SBP_SPREAD_SPLIT_LTP_LTD, split);
    if (lambda_f >= 0) set_real(r, SBP_SPREAD_LAMBDA_F, lambda_f);
    sbp__spread p;
    sbp__spread_from_rule(r, SBP_SPREAD_ADDITIVE, &p);
    sbp_rule_free(r);
    ck_assert_int_eq(p.form, SBP_SPREAD_ADDITIVE);
    ck_assert_int_eq(p.enabled, 1);
    return p;
}

START_TEST(spread_additive_hand_example)
{
    /* n = 2 hidden neurons, k = 3 outputs */
    const float dB[6] = {0.5f, -0.2f, 0.1f, -0.4f, 0.3f, 0.0f};
    const float B[6] = {1.0f, -2.0f, 0.5f, -1.0f, 0.5f, 3.0f};
    const float R[6] = {0.3f, -0.7f, -1.1f, 2.0f, -0.5f, 0.25f};
    /* S by hand, and its positive / negative terms (the split sums):
     *   uniform : S0 = .5 - .2 + .1 = .4          (+.6, -.2)
     *             S1 = -.4 + .3 + 0 = -.1         (+.3, -.4)
     *   efficacy: S0 = .5*1 - .2*2 + .1*.5 = .15  (+.55, -.4)
     *             S1 = -.4*1 + .3*.5 + 0*3 = -.25 (+.15, -.4)
     *   signed  : S0 = .5*1 + .2*2 + .1*.5 = .95  (+.95, 0)
     *             S1 = .4*1 + .3*.5 + 0 = .55     (+.55, 0)
     *   random  : S0 = .15 + .14 - .11 = .18      (+.29, -.11)
     *             S1 = -.8 - .15 + 0 = -.95       (0, -.95) */
    const int retro[4] = {SBP_RETRO_UNIFORM, SBP_RETRO_EFFICACY, SBP_RETRO_SIGNED,
                          SBP_RETRO_RANDOM};
    const double S[4][2] = {{0.4, -0.1}, {0.15, -0.25}, {0.95, 0.55}, {0.18, -0.95}};
    const double Sp[4][2] = {{0.6, 0.3}, {0.55, 0.15}, {0.95, 0.55}, {0.29, 0.0}};
    const double Sm[4][2] = {{-0.2, -0.4}, {-0.4, -0.4}, {0.0, 0.0}, {-0.11, -0.95}};
    const float e[3] = {1.0f, 0.5f, 0.0f};
    for (int v = 0; v < 4; v++) {
        float sp[2], sm[2];
        sbp__spread p = additive(retro[v], 0, -1);
        ck_assert_double_eq(p.lambda_f, 0.5); /* the additive default */
        sbp__spread_add_signal(&p, dB, B, R, 2, 3, sp, sm);
        for (int j = 0; j < 2; j++) {
            ck_near(sp[j], S[v][j], 1e-6, 1e-7);
            ck_assert_float_eq(sm[j], 0.0f);
        }
        float dA[6] = {0};
        sbp__spread_add_apply(&p, sp, sm, e, 3, 2, NULL, dA);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) ck_near(dA[i * 2 + j], 0.5 * S[v][j] * e[i], 1e-6, 1e-7);

        sbp__spread ps = additive(retro[v], 1, 0.25);
        sbp__spread_add_signal(&ps, dB, B, R, 2, 3, sp, sm);
        for (int j = 0; j < 2; j++) {
            ck_near(sp[j], Sp[v][j], 1e-6, 1e-7);
            ck_near(sm[j], Sm[v][j], 1e-6, 1e-7);
            ck_assert(sp[j] >= 0.0f && sm[j] <= 0.0f);
        }
        /* split: positive dA gets S+, negative S-, zero both */
        float dA2[6] = {0.1f, -0.1f, 0.0f, 0.0f, -0.3f, 0.2f};
        float before[6];
        memcpy(before, dA2, sizeof before);
        sbp__spread_add_apply(&ps, sp, sm, e, 3, 2, NULL, dA2);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
                float b = before[i * 2 + j];
                double s = b > 0 ? Sp[v][j] : (b < 0 ? Sm[v][j] : Sp[v][j] + Sm[v][j]);
                ck_near(dA2[i * 2 + j], b + 0.25 * s * e[i], 1e-6, 1e-7);
            }
        }
    }
}
END_TEST

/* Random problem for the invariant tests. */
enum { SM = 40, SN = 25, SK = 5 };
typedef struct spread_case {
    float dA[SM * SN], dB[SN * SK], B[SN * SK], R[SN * SK], e[SM];
} spread_case;

static void spread_case_fill(spread_case *c, uint64_t seed)
{
    sbp__rng r;
    sbp__rng_init(&r, seed, 0);
    for (int i = 0; i < SM * SN; i++) {
        float u = sbp__rng_float(&r);
        /* a third each: zero, positive, negative */
        c->dA[i] = u < 1.0f / 3 ? 0.0f : (float)(sbp__rng_double(&r) - 0.5) * 0.02f;
    }
    for (int i = 0; i < SN * SK; i++) {
        c->dB[i] = (float)(sbp__rng_double(&r) - 0.5);
        c->B[i] = (float)(2.0 * sbp__rng_double(&r) - 1.0);
        c->R[i] = (float)sbp__rng_normal(&r);
    }
    for (int k = 0; k < SK; k++) c->dB[3 * SK + k] = 0.0f; /* hidden 3: S = 0 */
    for (int i = 0; i < SM; i++) c->e[i] = i % 4 == 1 ? 0.0f : sbp__rng_float(&r);
}

static const int all_retro[4] = {SBP_RETRO_UNIFORM, SBP_RETRO_EFFICACY, SBP_RETRO_SIGNED,
                                 SBP_RETRO_RANDOM};

START_TEST(spread_additive_never_flips_with_split)
{
    static spread_case c;
    int flips_without_split = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        spread_case_fill(&c, seed);
        sbp__rng mr;
        sbp__rng_init(&mr, seed, 9);
        int failed;
        unsigned char *mask = sbp__spread_mask(&mr, SM * SN, 0.4, &failed);
        ck_assert_int_eq(failed, 0);
        for (int v = 0; v < 4; v++) {
            for (int split = 0; split < 2; split++) {
                sbp__spread p = additive(all_retro[v], split, 5.0); /* large: flips possible */
                float sp[SN], sm[SN], dA[SM * SN];
                memcpy(dA, c.dA, sizeof dA);
                sbp__spread_add_signal(&p, c.dB, c.B, c.R, SN, SK, sp, sm);
                sbp__spread_add_apply(&p, sp, sm, c.e, SM, SN, mask, dA);
                for (int i = 0; i < SM * SN; i++) {
                    int flipped = (c.dA[i] > 0 && dA[i] <= 0) || (c.dA[i] < 0 && dA[i] >= 0);
                    if (split) {
                        ck_assert_msg(!flipped, "retro %d: entry %d flipped %g -> %g",
                                      all_retro[v], i, c.dA[i], dA[i]);
                        /* it only moves away from zero */
                        if (c.dA[i] > 0) ck_assert(dA[i] >= c.dA[i]);
                        if (c.dA[i] < 0) ck_assert(dA[i] <= c.dA[i]);
                    }
                    flips_without_split += !split && flipped;
                }
            }
        }
        sbp__free(mask);
    }
    /* the check has teeth: without split the same data does flip signs */
    ck_assert_int_gt(flips_without_split, 0);
}
END_TEST

START_TEST(spread_additive_touches_exactly_the_mask)
{
    static spread_case c;
    size_t kept = 0, total = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        spread_case_fill(&c, seed);
        sbp__rng mr;
        sbp__rng_init(&mr, seed, 9);
        int failed;
        unsigned char *mask = sbp__spread_mask(&mr, SM * SN, 0.4, &failed);
        ck_assert_int_eq(failed, 0);
        ck_assert_ptr_nonnull(mask);
        for (int i = 0; i < SM * SN; i++) kept += mask[i];
        total += SM * SN;
        for (int v = 0; v < 4; v++) {
            for (int split = 0; split < 2; split++) {
                sbp__spread p = additive(all_retro[v], split, 0.5);
                float sp[SN], sm[SN], dA[SM * SN];
                memset(dA, 0, sizeof dA); /* from zero: every addition shows */
                sbp__spread_add_signal(&p, c.dB, c.B, c.R, SN, SK, sp, sm);
                size_t changed = 0, expected = 0;
                sbp__spread_add_apply(&p, sp, sm, c.e, SM, SN, mask, dA);
                for (int i = 0; i < SM; i++) {
                    for (int j = 0; j < SN; j++) {
                        int should = mask[i * SN + j] && c.e[i] != 0.0f && sp[j] + sm[j] != 0.0f;
                        int did = dA[i * SN + j] != 0.0f;
                        ck_assert_int_eq(did, should); /* the same set, not just count */
                        changed += (size_t)did;
                        expected += (size_t)should;
                    }
                }
                ck_assert_uint_eq(changed, expected);
                ck_assert_uint_gt(changed, 0);
            }
        }
        sbp__free(mask);
    }
    /* density lambda_p = 0.4 within 5 binomial standard deviations */
    double sd = sqrt((double)total * 0.4 * 0.6);
    ck_assert(fabs((double)kept - 0.4 * (double)total) < 5 * sd);
    /* lambda_p = 1: no mask at all */
    sbp__rng mr;
    sbp__rng_init(&mr, 1, 9);
    int failed;
    ck_assert_ptr_null(sbp__spread_mask(&mr, 100, 1.0, &failed));
    ck_assert_int_eq(failed, 0);
}
END_TEST

START_TEST(spread_additive_off_is_identity)
{
    static spread_case c;
    spread_case_fill(&c, 3);
    /* lambda_f = 0 adds nothing, bit for bit, in every variant */
    for (int v = 0; v < 4; v++) {
        for (int split = 0; split < 2; split++) {
            sbp__spread p = additive(all_retro[v], split, 0.0);
            float sp[SN], sm[SN], dA[SM * SN];
            memcpy(dA, c.dA, sizeof dA);
            sbp__spread_add_signal(&p, c.dB, c.B, c.R, SN, SK, sp, sm);
            sbp__spread_add_apply(&p, sp, sm, c.e, SM, SN, NULL, dA);
            ck_assert_int_eq(memcmp(dA, c.dA, sizeof dA), 0);
        }
    }
    /* disabled: the rule says so and callers skip the operator (spread.h) */
    sbp_rule *r = rule_new(SBP_RULE_SBP_SPREAD);
    set_int(r, SBP_SPREAD_ENABLED, 0);
    sbp__spread p;
    sbp__spread_from_rule(r, SBP_SPREAD_ADDITIVE, &p);
    ck_assert_int_eq(p.enabled, 0);
    sbp_rule_free(r);
    sbp__spread_from_rule(NULL, SBP_SPREAD_ADDITIVE, &p);
    ck_assert_int_eq(p.enabled, 0);
    /* a zero output change spreads nothing either */
    float zero[SN * SK] = {0}, sp[SN], sm[SN], dA[SM * SN];
    p = additive(SBP_RETRO_SIGNED, 1, 1.0);
    memcpy(dA, c.dA, sizeof dA);
    sbp__spread_add_signal(&p, zero, c.B, c.R, SN, SK, sp, sm);
    sbp__spread_add_apply(&p, sp, sm, c.e, SM, SN, NULL, dA);
    ck_assert_int_eq(memcmp(dA, c.dA, sizeof dA), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Encoders                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(encoder_defaults)
{
    sbp__encoder e;
    sbp__encoder_from_params(NULL, &e);
    ck_assert_int_eq(e.kind, SBP_ENCODER_POISSON);
    ck_assert_float_eq(e.max_rate, (float)param_default(SBP_SPIKE_MAX_RATE));
    ck_assert_float_eq(e.dt, (float)param_default(SBP_SPIKE_DT));
    ck_assert_uint_eq(e.steps, (size_t)param_default(SBP_SPIKE_STEPS));
    double v[SBP__N_PARAMS];
    sbp__param_defaults(v);
    v[sbp__param_slot(SBP_SPIKE_ENCODER)] = SBP_ENCODER_LATENCY;
    v[sbp__param_slot(SBP_SPIKE_STEPS)] = 7;
    sbp__encoder_from_params(v, &e);
    ck_assert_int_eq(e.kind, SBP_ENCODER_LATENCY);
    ck_assert_uint_eq(e.steps, 7);
}
END_TEST

START_TEST(poisson_rate_matches)
{
    /* (max_rate Hz, dt ms) */
    const float set[2][2] = {{200.0f, 1.0f}, {90.0f, 0.5f}};
    const float x[6] = {0.0f, 0.1f, 0.25f, 0.5f, 0.8f, 1.0f};
    enum { D = 6, STEPS = 100, SAMPLES = 400 };
    for (int s = 0; s < 2; s++) {
        sbp__encoder e = {SBP_ENCODER_POISSON, set[s][0], set[s][1], STEPS};
        size_t count[D] = {0};
        uint32_t out[D];
        for (uint64_t smp = 0; smp < SAMPLES; smp++) {
            sbp__rng r;
            sbp__rng_init(&r, 5, smp); /* one stream per sample, as the engine */
            for (size_t t = 0; t < STEPS; t++) {
                size_t c = sbp__encode_step(&e, x, D, t, &r, out);
                ck_assert_uint_le(c, D);
                for (size_t q = 0; q < c; q++) {
                    ck_assert_uint_lt(out[q], D);
                    if (q) ck_assert_uint_gt(out[q], out[q - 1]);
                    count[out[q]]++;
                }
            }
        }
        const double N = (double)STEPS * SAMPLES;
        for (int i = 0; i < D; i++) {
            double p = (double)x[i] * set[s][0] * set[s][1] / 1000.0;
            double sd = sqrt(N * p * (1.0 - p));
            ck_assert_msg(fabs((double)count[i] - N * p) <= 5.0 * sd + 1e-9,
                          "x %g: %zu spikes, expected %g +- %g", x[i], count[i], N * p, sd);
        }
        ck_assert_uint_eq(count[0], 0);
    }
}
END_TEST

START_TEST(poisson_same_seed_same_spikes)
{
    enum { D = 50, STEPS = 60 };
    float x[D];
    for (int i = 0; i < D; i++) x[i] = (float)i / (float)(D - 1);
    sbp__encoder e = {SBP_ENCODER_POISSON, 300.0f, 1.0f, STEPS};
    uint32_t a[D], b[D], c[D];
    int differ = 0;
    sbp__rng ra, rb, rc;
    sbp__rng_init(&ra, 77, 3);
    sbp__rng_init(&rb, 77, 3);
    sbp__rng_init(&rc, 77, 4);
    for (size_t t = 0; t < STEPS; t++) {
        size_t na = sbp__encode_step(&e, x, D, t, &ra, a);
        size_t nb = sbp__encode_step(&e, x, D, t, &rb, b);
        size_t nc = sbp__encode_step(&e, x, D, t, &rc, c);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(a, b, na * sizeof a[0]), 0);
        differ |= na != nc || memcmp(a, c, na * sizeof a[0]) != 0;
    }
    ck_assert_int_eq(differ, 1); /* another stream, another train */
}
END_TEST

/* The engine's hoisted Poisson path (active list once, then one draw per
 * active input per step) gives the same spikes and consumes the same draws
 * as encoding step by step, including zero and negative features. */
START_TEST(poisson_active_list_equals_step_encoder)
{
    enum { D = 64, STEPS = 40 };
    float x[D];
    for (int i = 0; i < D; i++) x[i] = i % 3 == 0 ? 0.0f : (i % 7 == 0 ? -0.5f : (float)i / D);
    sbp__encoder e = {SBP_ENCODER_POISSON, 250.0f, 1.0f, STEPS};
    uint32_t idx[D], a[D], b[D];
    float p[D];
    size_t n_act = sbp__encode_active(&e, x, D, idx, p);
    ck_assert_uint_lt(n_act, D);
    sbp__rng ra, rb;
    sbp__rng_init(&ra, 12, 1);
    sbp__rng_init(&rb, 12, 1);
    size_t total = 0;
    for (size_t t = 0; t < STEPS; t++) {
        size_t na = sbp__encode_step(&e, x, D, t, &ra, a);
        size_t nb = sbp__encode_poisson_step(idx, p, n_act, &rb, b);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(memcmp(a, b, na * sizeof a[0]), 0);
        total += na;
    }
    ck_assert_uint_gt(total, 0);
    ck_assert_float_eq(sbp__rng_float(&ra), sbp__rng_float(&rb));
}
END_TEST

START_TEST(latency_spike_times)
{
    /* steps 51: a spike at floor((1 - x) * 50); values exact in binary */
    const float x[8] = {1.0f, 0.5f, 0.25f, 0.75f, 0.125f, 0.015625f, 0.0f, 1.5f};
    const long want[8] = {0, 25, 37, 12, 43, 49, -1, 0};
    sbp__encoder e = {SBP_ENCODER_LATENCY, 0.0f, 1.0f, 51};
    long seen[8];
    int count[8] = {0};
    uint32_t out[8];
    for (int i = 0; i < 8; i++) seen[i] = -1;
    for (size_t t = 0; t < 60; t++) { /* past the end: nothing more */
        size_t c = sbp__encode_step(&e, x, 8, t, NULL, out);
        for (size_t q = 0; q < c; q++) {
            seen[out[q]] = (long)t;
            count[out[q]]++;
        }
    }
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(seen[i], want[i]);
        ck_assert_int_eq(count[i], want[i] < 0 ? 0 : 1);
    }
}
END_TEST

START_TEST(events_replay_counts)
{
    enum { D = 4, STEPS = 6 };
    /* step-major counts; binary in the first three inputs, up to 3 in the last */
    const float x[STEPS * D] = {
        1, 0, 0, 3, /**/ 0, 1, 0, 0, /**/ 1, 1, 0, 2, /**/
        0, 0, 0, 0, /**/ 1, 0, 0, 1, /**/ 0, 1, 0, 0,
    };
    sbp__encoder e = {SBP_ENCODER_EVENTS, 0.0f, 1.0f, STEPS};
    int total[D] = {0};
    uint32_t out[D];
    for (size_t t = 0; t < STEPS + 3; t++) {
        size_t c = sbp__encode_step(&e, x, D, t, NULL, out);
        if (t >= STEPS) {
            ck_assert_uint_eq(c, 0);
            continue;
        }
        size_t q = 0;
        for (uint32_t i = 0; i < D; i++) {
            if (x[t * D + i] > 0) {
                ck_assert_uint_lt(q, c);
                ck_assert_uint_eq(out[q], i); /* exactly this step's events */
                q++;
                total[i]++;
            }
        }
        ck_assert_uint_eq(q, c);
    }
    /* binary inputs: spikes == recorded events; counts > 1 fire once */
    ck_assert_int_eq(total[0], 3);
    ck_assert_int_eq(total[1], 3);
    ck_assert_int_eq(total[2], 0);
    ck_assert_int_eq(total[3], 3);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Determinism                                                              */
/* ------------------------------------------------------------------------ */

/* Everything random in one pipeline: Poisson input trains drive STDP, a
 * mask and a random retro matrix are drawn, and the additive spread is
 * applied. Returns a checksum-free copy of the result in out. */
static void pipeline(uint64_t seed, float *w_out, float *dA_out)
{
    enum { M = 30, N = 12, K = 4, STEPS = 80 };
    float x[M], w[M * N], xp[M] = {0}, xq[N] = {0};
    sbp__rng r;
    sbp__rng_init(&r, seed, 0);
    for (int i = 0; i < M; i++) x[i] = sbp__rng_float(&r);
    for (int i = 0; i < M * N; i++) w[i] = 0.2f * (float)sbp__rng_normal(&r);
    sbp__stdp p;
    sbp__stdp_from_rule(NULL, &p);
    sbp__encoder e = {SBP_ENCODER_POISSON, 200.0f, 1.0f, STEPS};
    uint32_t pre[M], post[N];
    sbp__rng enc, out_rng;
    sbp__rng_init(&enc, seed, 1);
    sbp__rng_init(&out_rng, seed, 2);
    for (size_t t = 0; t < STEPS; t++) {
        for (int i = 0; i < M; i++) xp[i] *= sbp__trace_decay(p.tau_plus, 1);
        for (int j = 0; j < N; j++) xq[j] *= sbp__trace_decay(p.tau_minus, 1);
        size_t np = sbp__encode_step(&e, x, M, t, &enc, pre);
        size_t nq = 0;
        for (uint32_t j = 0; j < N; j++)
            if (sbp__rng_float(&out_rng) < 0.1f) post[nq++] = j;
        sbp__stdp_step(&p, w, M, N, pre, np, post, nq, xp, xq);
    }
    memcpy(w_out, w, sizeof w);

    float dB[N * K], B[N * K], R[N * K], sp[N], sm[N], dA[M * N] = {0};
    sbp__rng rr;
    sbp__rng_init(&rr, seed, 3);
    for (int i = 0; i < N * K; i++) {
        dB[i] = (float)sbp__rng_normal(&rr);
        B[i] = (float)sbp__rng_normal(&rr);
        R[i] = (float)sbp__rng_normal(&rr);
    }
    sbp__rng mr;
    sbp__rng_init(&mr, seed, 4);
    int failed;
    unsigned char *mask = sbp__spread_mask(&mr, M * N, 0.4, &failed);
    ck_assert_int_eq(failed, 0);
    sbp__spread sp_p = additive(SBP_RETRO_RANDOM, 1, 0.5);
    sbp__spread_add_signal(&sp_p, dB, B, R, N, K, sp, sm);
    sbp__spread_add_apply(&sp_p, sp, sm, xp, M, N, mask, dA);
    sbp__free(mask);
    memcpy(dA_out, dA, sizeof dA);
}

START_TEST(same_seed_identical_results)
{
    static float w1[360], w2[360], w3[360], a1[360], a2[360], a3[360];
    pipeline(2021, w1, a1);
    pipeline(2021, w2, a2);
    pipeline(2022, w3, a3);
    ck_assert_int_eq(memcmp(w1, w2, sizeof w1), 0);
    ck_assert_int_eq(memcmp(a1, a2, sizeof a1), 0);
    ck_assert_int_ne(memcmp(w1, w3, sizeof w1), 0);
    ck_assert_int_ne(memcmp(a1, a3, sizeof a1), 0);

    /* the mask alone: same (seed, stream), same bytes */
    sbp__rng m1, m2;
    sbp__rng_init(&m1, 8, 1);
    sbp__rng_init(&m2, 8, 1);
    int f1, f2;
    unsigned char *k1 = sbp__spread_mask(&m1, 1000, 0.3, &f1);
    unsigned char *k2 = sbp__spread_mask(&m2, 1000, 0.3, &f2);
    ck_assert(k1 && k2 && !f1 && !f2);
    ck_assert_int_eq(memcmp(k1, k2, 1000), 0);
    sbp__free(k1);
    sbp__free(k2);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("stdp");
    tcase_add_test(tc, stdp_defaults_from_table);
    tcase_add_test(tc, stdp_pair_closed_form);
    tcase_add_test(tc, stdp_step_timeline_matches_pair);
    tcase_add_test(tc, stdp_multiplicative_pair_and_bounds);
    tcase_add_test(tc, stdp_random_trains_stay_in_bounds);
    tcase_add_test(tc, stdp_supervised_signs);
    suite_add_tcase(s, tc);

    tc = tcase_create("stp");
    tcase_add_test(tc, stp_regular_train_matches_recursion);
    tcase_add_test(tc, stp_relax_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("homeostasis");
    tcase_add_test(tc, homeostasis_bounds_the_rate);
    tcase_add_test(tc, homeostasis_reaches_target_rate);
    tcase_add_test(tc, homeostasis_step_forms);
    tcase_add_test(tc, lif_first_spike_time_is_analytic);
    suite_add_tcase(s, tc);

    tc = tcase_create("spread");
    tcase_add_test(tc, spread_additive_hand_example);
    tcase_add_test(tc, spread_additive_never_flips_with_split);
    tcase_add_test(tc, spread_additive_touches_exactly_the_mask);
    tcase_add_test(tc, spread_additive_off_is_identity);
    suite_add_tcase(s, tc);

    tc = tcase_create("encode");
    tcase_add_test(tc, encoder_defaults);
    tcase_add_test(tc, poisson_rate_matches);
    tcase_add_test(tc, poisson_same_seed_same_spikes);
    tcase_add_test(tc, poisson_active_list_equals_step_encoder);
    tcase_add_test(tc, latency_spike_times);
    tcase_add_test(tc, events_replay_counts);
    tcase_add_test(tc, same_seed_identical_results);
    suite_add_tcase(s, tc);

    return sbp_test_run(s);
}
