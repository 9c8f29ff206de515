/* The rbm engine through the public API and its internal view
 * (lib/rbm.h): free energies and likelihoods against exact enumeration,
 * CD against the exact gradient, the SBP spread (ablation, mask, both
 * forms, a naive per-sample reference), determinism, prediction without
 * side effects, learning, the unsupervised mode, and misuse. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "net.h"
#include "rbm.h"
#include "rng.h"
#include "rules/spread.h"
#include "testutil.h"

/* ---- helpers ---------------------------------------------------------- */

static sbp_net *make_sized(const size_t *sizes, size_t n_layers, uint64_t seed, size_t batch,
                           unsigned threads, double rate)
{
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_RBM, seed, &net), SBP_OK);
    for (size_t i = 0; i < n_layers; i++) {
        sbp_layer *l;
        ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
        if (i > 0 && rate >= 0.0)
            ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, rate), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, (int64_t)batch), SBP_OK);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_THREADS, threads), SBP_OK);
    return net;
}

/* A CD rule on layer 1 (k, persistent, momentum, decay; negative: default). */
static void attach_cd(sbp_net *net, int k, int persistent, double momentum, double decay)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_RBM_CD, &r), SBP_OK);
    if (k > 0) ck_assert_int_eq(sbp_rule_set_int(r, SBP_CD_K, k), SBP_OK);
    if (persistent >= 0) ck_assert_int_eq(sbp_rule_set_int(r, SBP_CD_PERSISTENT, persistent), SBP_OK);
    if (momentum >= 0) ck_assert_int_eq(sbp_rule_set_real(r, SBP_CD_MOMENTUM, momentum), SBP_OK);
    if (decay >= 0) ck_assert_int_eq(sbp_rule_set_real(r, SBP_CD_WEIGHT_DECAY, decay), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_OK);
    sbp_rule_free(r);
}

typedef struct spread_cfg {
    int enabled, form, retro, split;
    double lambda_p, lambda_f;
} spread_cfg;

static sbp_rule *spread_rule(const spread_cfg *c)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_SBP_SPREAD, &r), SBP_OK);
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_ENABLED, c->enabled), SBP_OK);
    if (c->form) ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_FORM, c->form), SBP_OK);
    if (c->retro) ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_RETRO_WEIGHT, c->retro), SBP_OK);
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_SPLIT_LTP_LTD, c->split), SBP_OK);
    if (c->lambda_p > 0) ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_LAMBDA_P, c->lambda_p), SBP_OK);
    if (c->lambda_f > 0) ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_LAMBDA_F, c->lambda_f), SBP_OK);
    return r;
}

static void attach_spread(sbp_net *net, const spread_cfg *c)
{
    sbp_rule *r = spread_rule(c);
    ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_OK);
    sbp_rule_free(r);
}

static float *weights(sbp_net *net, size_t l, size_t count)
{
    float *w = malloc(count * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(sbp_net_get_weights(net, l, w, count), SBP_OK);
    return w;
}

static void same_weights(sbp_net *a, sbp_net *b, const size_t *sizes, size_t n_layers)
{
    for (size_t l = 1; l < n_layers; l++) {
        size_t count = sizes[l - 1] * sizes[l];
        float *wa = weights(a, l, count), *wb = weights(b, l, count);
        ck_assert_int_eq(memcmp(wa, wb, count * sizeof(float)), 0);
        free(wa);
        free(wb);
        ck_assert_int_eq(memcmp(a->b[l], b->b[l], sizes[l] * sizeof(float)), 0);
    }
    sbp__rbm_view va, vb;
    ck_assert(sbp__rbm_view_of(a, &va) && sbp__rbm_view_of(b, &vb));
    ck_assert_int_eq(memcmp(va.a, vb.a, va.m * sizeof(float)), 0);
}

static int same_w1(sbp_net *a, sbp_net *b, size_t count)
{
    float *wa = weights(a, 1, count), *wb = weights(b, 1, count);
    int same = memcmp(wa, wb, count * sizeof(float)) == 0;
    free(wa);
    free(wb);
    return same;
}

/* ---- the tiny RBM, enumerated exactly ------------------------------------ */

#define TM 4 /* binary inputs */
#define TN 4 /* hidden */
#define TK 2 /* labels */
static const size_t TINY[] = {TM, TN, TK};

typedef struct tiny_params {
    double W[TM * TN], U[TN * TK], a[TM], c[TN], d[TK];
} tiny_params;

static void read_params(sbp_net *net, tiny_params *p)
{
    float w[TM * TN], u[TN * TK];
    ck_assert_int_eq(sbp_net_get_weights(net, 1, w, TM * TN), SBP_OK);
    ck_assert_int_eq(sbp_net_get_weights(net, 2, u, TN * TK), SBP_OK);
    sbp__rbm_view v;
    ck_assert(sbp__rbm_view_of(net, &v));
    for (size_t i = 0; i < TM * TN; i++) p->W[i] = w[i];
    for (size_t i = 0; i < TN * TK; i++) p->U[i] = u[i];
    for (size_t i = 0; i < TM; i++) p->a[i] = v.a[i];
    for (size_t j = 0; j < TN; j++) p->c[j] = net->b[1][j];
    for (size_t y = 0; y < TK; y++) p->d[y] = net->b[2][y];
}

/* Random parameters of a given scale, written into the network. */
static void set_params(sbp_net *net, uint64_t seed, double scale)
{
    sbp__rng r;
    sbp__rng_init(&r, seed, 99);
    float w[TM * TN], u[TN * TK];
    for (size_t i = 0; i < TM * TN; i++) w[i] = (float)(scale * (2 * sbp__rng_double(&r) - 1));
    for (size_t i = 0; i < TN * TK; i++) u[i] = (float)(scale * (2 * sbp__rng_double(&r) - 1));
    ck_assert_int_eq(sbp_net_set_weights(net, 1, w, TM * TN), SBP_OK);
    ck_assert_int_eq(sbp_net_set_weights(net, 2, u, TN * TK), SBP_OK);
    sbp__rbm_view v;
    ck_assert(sbp__rbm_view_of(net, &v));
    for (size_t i = 0; i < TM; i++) v.a[i] = (float)(scale * (2 * sbp__rng_double(&r) - 1));
    for (size_t j = 0; j < TN; j++) net->b[1][j] = (float)(scale * (2 * sbp__rng_double(&r) - 1));
    for (size_t y = 0; y < TK; y++) net->b[2][y] = (float)(scale * (2 * sbp__rng_double(&r) - 1));
}

static double bit(unsigned pattern, size_t i)
{
    return (double)((pattern >> i) & 1u);
}

/* -E(x, y, h) for binary patterns x (TM bits) and h (TN bits). */
static double neg_energy(const tiny_params *p, unsigned x, size_t y, unsigned h)
{
    double e = p->d[y];
    for (size_t i = 0; i < TM; i++) e += p->a[i] * bit(x, i);
    for (size_t j = 0; j < TN; j++) {
        if (!((h >> j) & 1u)) continue;
        e += p->c[j] + p->U[j * TK + y];
        for (size_t i = 0; i < TM; i++) e += bit(x, i) * p->W[i * TN + j];
    }
    return e;
}

/* F(x, y) = -log sum_h exp(-E) by enumeration. */
static double free_energy_enum(const tiny_params *p, unsigned x, size_t y)
{
    double s = 0.0;
    for (unsigned h = 0; h < (1u << TN); h++) s += exp(neg_energy(p, x, y, h));
    return -log(s);
}

static double log_z(const tiny_params *p)
{
    double s = 0.0;
    for (unsigned x = 0; x < (1u << TM); x++)
        for (size_t y = 0; y < TK; y++)
            for (unsigned h = 0; h < (1u << TN); h++) s += exp(neg_energy(p, x, y, h));
    return log(s);
}

/* A small binary training set: two classes of four patterns each. */
static const unsigned TRAIN_X[] = {0x3, 0x7, 0x2, 0xB, 0xC, 0xE, 0x4, 0xD};
static const int32_t TRAIN_Y[] = {0, 0, 0, 0, 1, 1, 1, 1};
#define N_TRAIN 8

static sbp_dataset *tiny_set(size_t copies)
{
    size_t n = N_TRAIN * copies;
    float *x = malloc(n * TM * sizeof *x);
    int32_t *lab = malloc(n * sizeof *lab);
    ck_assert(x && lab);
    for (size_t s = 0; s < n; s++) {
        for (size_t i = 0; i < TM; i++) x[s * TM + i] = (float)bit(TRAIN_X[s % N_TRAIN], i);
        lab[s] = TRAIN_Y[s % N_TRAIN];
    }
    sbp_dataset *ds;
    ck_assert_int_eq(sbp_dataset_create(n, TM, x, lab, TK, &ds), SBP_OK);
    free(x);
    free(lab);
    return ds;
}

/* Mean exact log-likelihood log p(x, y) of the training set. */
static double log_likelihood(sbp_net *net)
{
    tiny_params p;
    read_params(net, &p);
    double lz = log_z(&p), ll = 0.0;
    for (size_t s = 0; s < N_TRAIN; s++)
        ll += -free_energy_enum(&p, TRAIN_X[s], (size_t)TRAIN_Y[s]) - lz;
    return ll / N_TRAIN;
}

START_TEST(free_energy_matches_enumeration)
{
    sbp_net *net = make_sized(TINY, 3, 5, 7, 2, -1.0);
    float w[TM * TN];
    ck_assert_int_eq(sbp_net_get_weights(net, 1, w, TM * TN), SBP_OK); /* builds */
    for (int trial = 0; trial < 3; trial++) {
        set_params(net, (uint64_t)trial, trial == 0 ? 0.3 : 2.5);
        tiny_params p;
        read_params(net, &p);
        float x[16 * TM], fe[16 * TK], out[16 * TK];
        int32_t lab[16];
        for (unsigned q = 0; q < 16; q++)
            for (size_t i = 0; i < TM; i++) x[q * TM + i] = (float)bit(q, i);
        ck_assert_int_eq(sbp__rbm_free_energy(net, 16, x, fe), SBP_OK);
        ck_assert_int_eq(sbp_net_predict(net, 16, x, lab, out), SBP_OK);
        for (unsigned q = 0; q < 16; q++) {
            double f[TK], best = INFINITY, total = 0.0;
            size_t arg = 0;
            for (size_t y = 0; y < TK; y++) {
                f[y] = free_energy_enum(&p, q, y);
                ck_assert_double_eq_tol(fe[q * TK + y], f[y], 2e-5 * (1.0 + fabs(f[y])));
                if (f[y] < best) {
                    best = f[y];
                    arg = y;
                }
            }
            for (size_t y = 0; y < TK; y++) total += exp(best - f[y]);
            for (size_t y = 0; y < TK; y++)
                ck_assert_double_eq_tol(out[q * TK + y], exp(best - f[y]) / total, 1e-5);
            if (fabs(f[0] - f[1]) > 1e-4) ck_assert_int_eq(lab[q], (int32_t)arg);
        }
    }
    /* fractional inputs: the free energy is defined for x in [0,1] too */
    float xf[TM] = {0.25f, 1.0f, 0.0f, 0.5f}, fe[TK];
    ck_assert_int_eq(sbp__rbm_free_energy(net, 1, xf, fe), SBP_OK);
    tiny_params p;
    read_params(net, &p);
    for (size_t y = 0; y < TK; y++) {
        double f = -p.d[y];
        for (size_t i = 0; i < TM; i++) f -= p.a[i] * xf[i];
        for (size_t j = 0; j < TN; j++) {
            double z = p.c[j] + p.U[j * TK + y];
            for (size_t i = 0; i < TM; i++) z += xf[i] * p.W[i * TN + j];
            f -= log1p(exp(z));
        }
        ck_assert_double_eq_tol(fe[y], f, 2e-5 * (1.0 + fabs(f)));
    }
    sbp_net_free(net);
}
END_TEST

START_TEST(likelihood_rises_with_cd_and_pcd)
{
    /* 8 copies in batches of 32: persistent CD wants more chains than the
     * 8 distinct samples (with 4 chains it oscillates on this task) */
    sbp_dataset *ds = tiny_set(8);
    for (int persistent = 0; persistent < 2; persistent++) {
        sbp_net *net = make_sized(TINY, 3, 11, 32, 1, 0.1);
        attach_cd(net, 1, persistent, persistent ? 0.0 : 0.5, 0.0);
        float w[TM * TN];
        ck_assert_int_eq(sbp_net_get_weights(net, 1, w, TM * TN), SBP_OK);
        double before = log_likelihood(net), e;
        for (int epoch = 0; epoch < 400; epoch++)
            ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
        double after = log_likelihood(net);
        /* uniform over the 32 (x, y): -3.47; the data's optimum: log(1/8) = -2.08 */
        ck_assert_double_lt(before, -3.4);
        ck_assert_double_gt(after, before + 0.6);
        ck_assert_double_eq(e, 0.0); /* the two classes are told apart */
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* With long chains, the CD statistics of a big batch approach the exact
 * log-likelihood gradient (learning rates 0: nothing moves). */
START_TEST(long_chains_approach_the_exact_gradient)
{
    const size_t copies = 1000, n = N_TRAIN * copies;
    sbp_dataset *ds = tiny_set(copies);
    sbp_net *net = make_sized(TINY, 3, 13, n, 2, 0.0);
    attach_cd(net, 50, 0, 0.0, 0.0);
    float w[TM * TN];
    ck_assert_int_eq(sbp_net_get_weights(net, 1, w, TM * TN), SBP_OK);
    set_params(net, 4, 3.0);
    tiny_params p;
    read_params(net, &p);
    double e;
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    sbp__rbm_view v;
    ck_assert(sbp__rbm_view_of(net, &v));
    ck_assert_uint_eq(v.batch, n);
    /* exact: E_data[x p(h|x,y)] - E_model[x h], and likewise for U */
    double data_w[TM * TN] = {0}, model_w[TM * TN] = {0};
    double data_u[TN * TK] = {0}, model_u[TN * TK] = {0};
    for (size_t s = 0; s < N_TRAIN; s++) {
        unsigned x = TRAIN_X[s];
        size_t y = (size_t)TRAIN_Y[s];
        for (size_t j = 0; j < TN; j++) {
            double z = p.c[j] + p.U[j * TK + y];
            for (size_t i = 0; i < TM; i++) z += bit(x, i) * p.W[i * TN + j];
            double ph = 1.0 / (1.0 + exp(-z));
            for (size_t i = 0; i < TM; i++) data_w[i * TN + j] += bit(x, i) * ph / N_TRAIN;
            data_u[j * TK + y] += ph / N_TRAIN;
        }
    }
    double lz = log_z(&p);
    for (unsigned x = 0; x < 16; x++)
        for (size_t y = 0; y < TK; y++)
            for (unsigned h = 0; h < 16; h++) {
                double pr = exp(neg_energy(&p, x, y, h) - lz);
                for (size_t j = 0; j < TN; j++) {
                    if (!((h >> j) & 1u)) continue;
                    for (size_t i = 0; i < TM; i++) model_w[i * TN + j] += pr * bit(x, i);
                    model_u[j * TK + y] += pr;
                }
            }
    double worst = 0.0, worst_cd1 = 0.0;
    for (size_t i = 0; i < TM * TN; i++) {
        double g = data_w[i] - model_w[i];
        double err = fabs(v.grad_w_cd[i] - g);
        if (err > worst) worst = err;
    }
    for (size_t i = 0; i < TN * TK; i++) {
        double err = fabs(v.grad_u[i] - (data_u[i] - model_u[i]));
        if (err > worst) worst = err;
    }
    /* (measured: 0.006; the sampling noise of 8000 chains is about 0.005
     * per entry) */
    ck_assert_double_lt(worst, 0.025);
    sbp_net_free(net);

    /* CD-1 from the same parameters is visibly biased: the long chain is
     * what made the difference */
    net = make_sized(TINY, 3, 13, n, 2, 0.0);
    attach_cd(net, 1, 0, 0.0, 0.0);
    ck_assert_int_eq(sbp_net_get_weights(net, 1, w, TM * TN), SBP_OK);
    set_params(net, 4, 3.0);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    ck_assert(sbp__rbm_view_of(net, &v));
    for (size_t i = 0; i < TM * TN; i++) {
        double err = fabs(v.grad_w_cd[i] - (data_w[i] - model_w[i]));
        if (err > worst_cd1) worst_cd1 = err;
    }
    ck_assert_double_gt(worst_cd1, 0.04); /* (measured: 0.055) */
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* ---- the toy task --------------------------------------------------------- */

#define D 20
#define K 3
#define H 16
#define NS 60
static const size_t SIZES3[] = {D, H, K};

static sbp_dataset *toy(uint64_t seed)
{
    return sbp_test_prototypes(seed, NS, D, K, 6, 0.8f, 0.05f, 0.2f);
}

static sbp_net *make(uint64_t seed, unsigned threads)
{
    return make_sized(SIZES3, 3, seed, 10, threads, -1.0);
}

/* Plain CD-1, persistent CD and CD with the spread, at the engine's
 * defaults. (Over seeds 1-8 the evaluation error first reaches 0 after
 * 11-13 epochs, 8-10 with the spread: the small initial weights take a
 * few epochs to break the hidden units' symmetry.) */
START_TEST(learns_a_toy_task)
{
    sbp_dataset *ds = toy(1);
    for (int variant = 0; variant < 3; variant++) {
        sbp_net *net = make(1, 2);
        if (variant == 1) attach_cd(net, 1, 1, -1, -1);
        if (variant == 2) attach_spread(net, &(spread_cfg){1, 0, 0, 0, 0, 0});
        double before, after, train = 1.0;
        ck_assert_int_eq(sbp_net_evaluate(net, ds, &before), SBP_OK);
        for (int e = 0; e < 20; e++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &train), SBP_OK);
        ck_assert_int_eq(sbp_net_evaluate(net, ds, &after), SBP_OK);
        ck_assert_double_le(after, 0.05);
        ck_assert_double_le(train, 0.1);
        ck_assert_double_lt(after, before);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(unsupervised_rbm_learns_features)
{
    static const size_t sizes[] = {D, H};
    /* a labelled set: training ignores the targets, whose count (K) need
     * not match the last layer (H) */
    sbp_dataset *ds = toy(2);
    ck_assert_uint_ne(sbp_dataset_targets(ds), H);
    for (int persistent = 0; persistent < 2; persistent++) {
        sbp_net *net = make_sized(sizes, 2, 3, 10, 2, 0.1);
        attach_cd(net, 1, persistent, -1, -1);
        double first, last = 0.0;
        ck_assert_int_eq(sbp_net_train_epoch(net, ds, &first), SBP_OK);
        /* mean squared error per feature of a near-zero-weight model: x is
         * about 0.3 on average, the reconstruction 0.5 */
        ck_assert_double_gt(first, 0.05);
        for (int e = 0; e < 30; e++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &last), SBP_OK);
        ck_assert_double_lt(last, 0.5 * first);
        /* prediction: hidden probabilities, no labels; evaluation refused */
        float x[3 * D], out[3 * H];
        int32_t lab[3];
        ck_assert_int_eq(sbp_dataset_batch(ds, 0, 3, x, NULL, NULL), SBP_OK);
        ck_assert_int_eq(sbp_net_predict(net, 3, x, lab, out), SBP_OK);
        for (size_t i = 0; i < 3; i++) ck_assert_int_eq(lab[i], -1);
        for (size_t i = 0; i < 3 * H; i++) ck_assert(out[i] >= 0.0f && out[i] <= 1.0f);
        ck_assert_int_eq(sbp_net_predict(net, 3, x, lab, NULL), SBP_E_UNSUPPORTED);
        double e;
        ck_assert_int_eq(sbp_net_evaluate(net, ds, &e), SBP_E_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "unsupervised"));
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* cd.monitor 0: an unsupervised RBM reports NaN instead of its
 * reconstruction error and trains the same bits (CD and PCD); a
 * classification RBM still reports its error. */
START_TEST(monitor_off_skips_only_the_error)
{
    static const size_t sizes[] = {D, H}, sizes3[] = {D, H, K};
    sbp_dataset *ds = toy(4);
    for (int layers = 2; layers <= 3; layers++)
        for (int persistent = 0; persistent < 2; persistent++) {
            sbp_net *net[2];
            double e[2];
            for (int mon = 0; mon < 2; mon++) {
                net[mon] = make_sized(layers == 2 ? sizes : sizes3, (size_t)layers, 5, 10, 1, 0.1);
                sbp_rule *r;
                ck_assert_int_eq(sbp_rule_create(SBP_RULE_RBM_CD, &r), SBP_OK);
                ck_assert_int_eq(sbp_rule_set_int(r, SBP_CD_PERSISTENT, persistent), SBP_OK);
                ck_assert_int_eq(sbp_rule_set_int(r, SBP_CD_MONITOR, mon), SBP_OK);
                ck_assert_int_eq(sbp_net_attach_rule(net[mon], 1, r), SBP_OK);
                sbp_rule_free(r);
                for (int ep = 0; ep < 3; ep++)
                    ck_assert_int_eq(sbp_net_train_epoch(net[mon], ds, &e[mon]), SBP_OK);
            }
            if (layers == 2) {
                ck_assert(isnan(e[0]));
                ck_assert(e[1] > 0.0 && e[1] < 1.0);
            } else {
                ck_assert(e[0] == e[1]);
            }
            float *w0 = weights(net[0], 1, (size_t)D * H), *w1 = weights(net[1], 1, (size_t)D * H);
            ck_assert_int_eq(memcmp(w0, w1, sizeof(float) * D * H), 0);
            free(w0);
            free(w1);
            sbp_net_free(net[0]);
            sbp_net_free(net[1]);
        }
    sbp_dataset_free(ds);
}
END_TEST

/* ---- the SBP spread --------------------------------------------------------- */

START_TEST(disabled_spread_is_plain_cd)
{
    sbp_dataset *ds = toy(4);
    for (int persistent = 0; persistent < 2; persistent++) {
        sbp_net *plain = make(2, 1), *off = make(2, 1), *off_mult = make(2, 2);
        attach_cd(plain, 2, persistent, -1, -1);
        attach_cd(off, 2, persistent, -1, -1);
        attach_cd(off_mult, 2, persistent, -1, -1);
        attach_spread(off, &(spread_cfg){0, 0, SBP_RETRO_RANDOM, 1, 0.5, 2.0});
        attach_spread(off_mult, &(spread_cfg){0, SBP_SPREAD_MULTIPLICATIVE, 0, 0, 0.5, 0});
        /* a rule on the label layer has nothing to spread into */
        sbp_rule *r = spread_rule(&(spread_cfg){1, 0, 0, 0, 0, 0});
        ck_assert_int_eq(sbp_net_attach_rule(off, 2, r), SBP_OK);
        sbp_rule_free(r);
        double e1, e2, e3;
        for (int i = 0; i < 3; i++) {
            ck_assert_int_eq(sbp_net_train_epoch(plain, ds, &e1), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(off, ds, &e2), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(off_mult, ds, &e3), SBP_OK);
            ck_assert(e1 == e2 && e1 == e3);
        }
        same_weights(plain, off, SIZES3, 3);
        same_weights(plain, off_mult, SIZES3, 3);
        sbp_net_free(plain);
        sbp_net_free(off);
        sbp_net_free(off_mult);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* One batch (the whole dataset) with and without the rule: both see the
 * same weights and draw the same samples, so the CD statistics agree and
 * W differs exactly where the spread wrote. */
static sbp_dataset *one_batch_set(uint64_t seed, size_t n)
{
    sbp_dataset *src = toy(seed), *ds;
    ck_assert_int_eq(sbp_dataset_subset(src, 0, n, &ds), SBP_OK);
    sbp_dataset_free(src);
    return ds;
}

START_TEST(additive_spread_writes_masked_synapses_only)
{
    sbp_dataset *ds = one_batch_set(5, 10);
    sbp_net *plain = make(3, 1), *sbp = make(3, 1);
    attach_cd(plain, 1, 0, 0.0, 0.0);
    attach_cd(sbp, 1, 0, 0.0, 0.0);
    attach_spread(sbp, &(spread_cfg){1, 0, SBP_RETRO_SIGNED, 0, 0.5, 1.0});
    float *w0 = weights(plain, 1, D * H);
    double e1, e2;
    ck_assert_int_eq(sbp_net_train_epoch(plain, ds, &e1), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(sbp, ds, &e2), SBP_OK);
    ck_assert(e1 == e2);
    float *wp = weights(plain, 1, D * H), *ws = weights(sbp, 1, D * H);
    float *up = weights(plain, 2, H * K), *us = weights(sbp, 2, H * K);
    ck_assert_int_eq(memcmp(up, us, H * K * sizeof(float)), 0);
    sbp__rbm_view vp, vs;
    ck_assert(sbp__rbm_view_of(plain, &vp) && sbp__rbm_view_of(sbp, &vs));
    ck_assert_ptr_nonnull(vs.mask);
    ck_assert_ptr_null(vp.mask);
    ck_assert_int_eq(memcmp(vp.grad_w_cd, vs.grad_w_cd, D * H * sizeof(float)), 0);
    size_t masked = 0, changed = 0;
    for (size_t i = 0; i < D * H; i++) {
        masked += vs.mask[i];
        if (!vs.mask[i]) {
            ck_assert(ws[i] == wp[i]);
            ck_assert(vs.grad_w[i] == vs.grad_w_cd[i]);
        } else {
            changed += ws[i] != wp[i];
        }
        ck_assert(wp[i] != w0[i]); /* CD itself moved every synapse */
    }
    ck_assert_uint_gt(masked, D * H / 4);
    ck_assert_uint_lt(masked, 3 * D * H / 4);
    ck_assert_uint_gt(changed, masked / 2);
    free(w0);
    free(wp);
    free(ws);
    free(up);
    free(us);
    sbp_net_free(plain);
    sbp_net_free(sbp);
    sbp_dataset_free(ds);
}
END_TEST

/* The engine's GEMM form of the additive spread against the operator
 * applied sample by sample (sbp__spread_add_signal / _apply), for every
 * retro weighting, with and without the LTP/LTD split. */
START_TEST(additive_spread_matches_per_sample_operator)
{
    const size_t c = 7;
    sbp_dataset *ds = one_batch_set(6, c);
    for (int retro = SBP_RETRO_UNIFORM; retro <= SBP_RETRO_RANDOM; retro++)
        for (int split = 0; split < 2; split++) {
            spread_cfg cfg = {1, 0, retro, split, 0.6, 0.7};
            sbp_net *net = make(7, 2);
            attach_cd(net, 2, 0, -1, -1);
            attach_spread(net, &cfg);
            float *u0 = weights(net, 2, H * K);
            double e;
            ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
            sbp__rbm_view v;
            ck_assert(sbp__rbm_view_of(net, &v));
            ck_assert_uint_eq(v.batch, c);
            ck_assert(retro == SBP_RETRO_RANDOM ? v.retro != NULL : v.retro == NULL);
            sbp_rule *r = spread_rule(&cfg);
            sbp__spread p;
            sbp__spread_from_rule(r, SBP_SPREAD_ADDITIVE, &p);
            sbp_rule_free(r);
            double ref[D * H] = {0};
            float du[H * K], sp[H], sm[H], e_s[D], tmp[D * H];
            for (size_t s = 0; s < c; s++) {
                for (size_t j = 0; j < H; j++)
                    for (size_t q = 0; q < K; q++)
                        du[j * K + q] = v.h0[s * H + j] * v.y[s * K + q] -
                                        v.hk[s * H + j] * v.yk[s * K + q];
                sbp__spread_add_signal(&p, du, u0, v.retro, H, K, sp, sm);
                for (size_t i = 0; i < D; i++) e_s[i] = v.x[s * D + i] / (float)c;
                memcpy(tmp, v.grad_w_cd, sizeof tmp);
                sbp__spread_add_apply(&p, sp, sm, e_s, D, H, v.mask, tmp);
                for (size_t i = 0; i < D * H; i++) ref[i] += (double)tmp[i] - v.grad_w_cd[i];
            }
            double scale = 0.0;
            for (size_t i = 0; i < D * H; i++)
                if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
            ck_assert_double_gt(scale, 1e-4);
            for (size_t i = 0; i < D * H; i++) {
                double got = (double)v.grad_w[i] - v.grad_w_cd[i];
                ck_assert_double_eq_tol(got, ref[i], 1e-5 * scale + 1e-7);
                if (split) /* no sign flips */
                    ck_assert(v.grad_w[i] * v.grad_w_cd[i] >= 0.0f);
            }
            free(u0);
            sbp_net_free(net);
        }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(multiplicative_spread_keeps_signs)
{
    sbp_dataset *ds = one_batch_set(8, 10);
    for (int masked = 0; masked < 2; masked++) {
        sbp_net *plain = make(9, 1), *mult = make(9, 1);
        attach_cd(plain, 1, 0, 0.0, 0.0);
        attach_cd(mult, 1, 0, 0.0, 0.0);
        attach_spread(mult, &(spread_cfg){1, SBP_SPREAD_MULTIPLICATIVE, 0, 0, masked ? 0.5 : 0, 0});
        double e;
        ck_assert_int_eq(sbp_net_train_epoch(plain, ds, &e), SBP_OK);
        ck_assert_int_eq(sbp_net_train_epoch(mult, ds, &e), SBP_OK);
        sbp__rbm_view v;
        ck_assert(sbp__rbm_view_of(mult, &v));
        size_t grown = 0;
        for (size_t i = 0; i < D * H; i++) {
            float g0 = v.grad_w_cd[i], g = v.grad_w[i];
            ck_assert(g * g0 >= 0.0f);
            if (g0 == 0.0f) ck_assert(g == 0.0f);
            ck_assert(fabsf(g) >= fabsf(g0) * (1.0f - 1e-6f));
            if (masked && !v.mask[i]) ck_assert(g == g0);
            grown += fabsf(g) > fabsf(g0) * (1.0f + 1e-6f);
        }
        ck_assert_uint_gt(grown, 0);
        ck_assert(!same_w1(plain, mult, D * H));
        /* it keeps training */
        for (int i = 0; i < 3; i++) ck_assert_int_eq(sbp_net_train_epoch(mult, ds, &e), SBP_OK);
        sbp_net_free(plain);
        sbp_net_free(mult);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* ---- state, determinism ------------------------------------------------------ */

static sbp_net *make_full(uint64_t seed, unsigned threads)
{
    sbp_net *net = make(seed, threads);
    attach_cd(net, 3, 1, -1, -1);
    attach_spread(net, &(spread_cfg){1, 0, SBP_RETRO_RANDOM, 1, 0.5, 0});
    return net;
}

/* On dense inputs (BLAS) and on inputs that are 80 % zeros (the sparse
 * products of lib/spmm.c). */
START_TEST(deterministic_per_seed_and_across_threads)
{
    sbp_dataset *ds = _i ? sbp_test_prototypes(10, NS, D, K, 4, 0.8f, 0.0f, 0.0f) : toy(10);
    for (int variant = 0; variant < 2; variant++) {
        sbp_net *a = variant ? make_full(5, 1) : make(5, 1);
        sbp_net *b = variant ? make_full(5, 3) : make(5, 3);
        sbp_net *c = variant ? make_full(5, 2) : make(5, 2);
        sbp_net *other = variant ? make_full(6, 1) : make(6, 1);
        double ea, eb, ec, eo;
        for (int i = 0; i < 3; i++) {
            ck_assert_int_eq(sbp_net_train_epoch(a, ds, &ea), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(b, ds, &eb), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(c, ds, &ec), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(other, ds, &eo), SBP_OK);
            ck_assert(ea == eb && ea == ec);
        }
        same_weights(a, b, SIZES3, 3);
        same_weights(a, c, SIZES3, 3);
        ck_assert(!same_w1(a, other, D * H));
        sbp_net_free(a);
        sbp_net_free(b);
        sbp_net_free(c);
        sbp_net_free(other);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(prediction_disturbs_nothing)
{
    sbp_dataset *ds = toy(12);
    float x[NS * D], out[NS * K], out2[NS * K];
    int32_t lab[NS], lab2[NS];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
    for (int variant = 0; variant < 2; variant++) {
        sbp_net *a = variant ? make_full(7, 2) : make(7, 2);
        sbp_net *b = variant ? make_full(7, 2) : make(7, 2);
        double ea, eb, ev;
        for (int i = 0; i < 3; i++) {
            ck_assert_int_eq(sbp_net_train_epoch(a, ds, &ea), SBP_OK);
            ck_assert_int_eq(sbp_net_predict(a, NS, x, lab, out), SBP_OK);
            ck_assert_int_eq(sbp_net_evaluate(a, ds, &ev), SBP_OK);
            ck_assert_int_eq(sbp_net_predict(a, NS, x, lab2, out2), SBP_OK);
            ck_assert_int_eq(memcmp(lab, lab2, sizeof lab), 0);
            ck_assert_int_eq(memcmp(out, out2, sizeof out), 0);
            ck_assert_int_eq(sbp_net_train_epoch(b, ds, &eb), SBP_OK);
            ck_assert(ea == eb);
        }
        same_weights(a, b, SIZES3, 3);
        /* outputs are p(y|x): rows sum to 1, the label is their argmax */
        for (size_t q = 0; q < NS; q++) {
            float sum = 0.0f;
            size_t best = 0;
            for (size_t y = 0; y < K; y++) {
                sum += out[q * K + y];
                if (out[q * K + y] > out[q * K + best]) best = y;
            }
            ck_assert_float_eq_tol(sum, 1.0f, 1e-5f);
            ck_assert_int_eq(lab[q], (int32_t)best);
        }
        sbp_net_free(a);
        sbp_net_free(b);
    }
    sbp_dataset_free(ds);
}
END_TEST

static size_t calls, last_done;
static int count_progress(void *user, size_t done, size_t total)
{
    (void)user;
    ck_assert_uint_eq(total, 23);
    calls++;
    last_done = done;
    return 0;
}

START_TEST(partial_batches_progress_and_cancel)
{
    sbp_dataset *src = toy(13), *ds;
    ck_assert_int_eq(sbp_dataset_subset(src, 0, 23, &ds), SBP_OK);
    sbp_net *net = make(8, 1);
    attach_cd(net, 1, 1, -1, -1); /* persistent chains: the short batch uses 3 of 10 */
    ck_assert_int_eq(sbp_net_set_progress(net, count_progress, NULL), SBP_OK);
    double e;
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    ck_assert_uint_eq(calls, 3);
    ck_assert_uint_eq(last_done, 23);
    sbp__rbm_view v;
    ck_assert(sbp__rbm_view_of(net, &v));
    ck_assert_uint_eq(v.batch, 3);
    size_t seen = 0;
    ck_assert_int_eq(sbp_net_set_progress(net, sbp_test_stop_at_20, &seen), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_CANCELLED);
    ck_assert_uint_eq(seen, 20);
    ck_assert_int_eq(sbp_net_set_progress(net, NULL, NULL), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    sbp_net_free(net);
    sbp_dataset_free(ds);
    sbp_dataset_free(src);
}
END_TEST

/* ---- misuse -------------------------------------------------------------------- */

START_TEST(misuse_is_refused_with_a_message)
{
    sbp_dataset *ds = toy(14);
    double e;
    /* rules */
    sbp_net *net = make(1, 1);
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_STDP, &r), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "rbm"));
    sbp_rule_free(r);
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_RBM_CD, &r), SBP_OK);
    ck_assert_int_eq(sbp_net_attach_rule(net, 2, r), SBP_E_UNSUPPORTED);
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_CD_K, 0), SBP_E_RANGE);
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_CD_MOMENTUM, 1.0), SBP_E_RANGE);
    ck_assert_int_eq(sbp_rule_set_real(r, SBP_CD_WEIGHT_DECAY, -0.1), SBP_E_RANGE);
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_CD_PERSISTENT, 2), SBP_E_RANGE);
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_STDP_ETA, 1), SBP_E_INVALID);
    sbp_rule_free(r);
    /* wrong dataset shapes */
    sbp_dataset *wrong = sbp_test_prototypes(1, 10, D + 1, K, 6, 0.8f, 0.05f, 0.2f);
    ck_assert_int_eq(sbp_net_train_epoch(net, wrong, &e), SBP_E_MISMATCH);
    sbp_dataset_free(wrong);
    wrong = sbp_test_prototypes(1, 10, D, K + 1, 5, 0.8f, 0.05f, 0.2f);
    ck_assert_int_eq(sbp_net_train_epoch(net, wrong, &e), SBP_E_MISMATCH);
    ck_assert_int_eq(sbp_net_evaluate(net, wrong, &e), SBP_E_MISMATCH);
    sbp_dataset_free(wrong);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    sbp_net_free(net);

    /* four layers */
    static const size_t deep[] = {D, H, 8, K};
    net = make_sized(deep, 4, 1, 10, 1, -1.0);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "2 layers"));
    sbp_net_free(net);

    /* the feedback form belongs to the ann engine */
    net = make(1, 1);
    attach_spread(net, &(spread_cfg){1, SBP_SPREAD_FEEDBACK, 0, 0, 0, 0});
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "spread"));
    sbp_net_free(net);

    /* fixed unit types */
    net = make_sized(SIZES3, 0, 1, 10, 1, -1.0);
    for (size_t i = 0; i < 3; i++) {
        sbp_layer *l;
        ck_assert_int_eq(sbp_layer_create(SIZES3[i], &l), SBP_OK);
        if (i == 1) ck_assert_int_eq(sbp_layer_set_int(l, SBP_LAYER_ACTIVATION, SBP_ACT_RELU), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "sigmoid"));
    sbp_net_free(net);
    net = make(1, 1);
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_OUTPUT_ACTIVATION, SBP_ACT_SIGMOID), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "softmax"));
    sbp_net_free(net);

    /* divergence is reported, not continued */
    net = make_sized(SIZES3, 3, 1, 10, 1, 1e6);
    attach_cd(net, 1, 0, 0.9, 1.0);
    sbp_status st = SBP_OK;
    for (int i = 0; i < 20 && st == SBP_OK; i++) st = sbp_net_train_epoch(net, ds, &e);
    ck_assert_int_eq(st, SBP_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "diverged"));
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_NUMERIC);
    ck_assert_int_eq(sbp_net_evaluate(net, ds, &e), SBP_E_NUMERIC);
    sbp_net_free(net);

    /* the hooks refuse other handles */
    sbp__rbm_view v;
    ck_assert(!sbp__rbm_view_of(NULL, &v));
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_RELAX, 1, &net), SBP_OK);
    ck_assert(!sbp__rbm_view_of(net, &v));
    float x[D], f[K];
    ck_assert_int_eq(sbp__rbm_free_energy(net, 1, x, f), SBP_E_INVALID);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(allocation_failure_leaves_net_usable)
{
    sbp_dataset *ds = toy(15);
    for (long n = 0; n < 60; n += 2) {
        sbp_net *net = make_full(1, 2);
        sbp_test_train_despite_alloc_failure(net, ds, n);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rbm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, free_energy_matches_enumeration);
    tcase_add_test(tc, likelihood_rises_with_cd_and_pcd);
    tcase_add_test(tc, long_chains_approach_the_exact_gradient);
    tcase_add_test(tc, learns_a_toy_task);
    tcase_add_test(tc, unsupervised_rbm_learns_features);
    tcase_add_test(tc, monitor_off_skips_only_the_error);
    tcase_add_test(tc, disabled_spread_is_plain_cd);
    tcase_add_test(tc, additive_spread_writes_masked_synapses_only);
    tcase_add_test(tc, additive_spread_matches_per_sample_operator);
    tcase_add_test(tc, multiplicative_spread_keeps_signs);
    tcase_add_loop_test(tc, deterministic_per_seed_and_across_threads, 0, 2);
    tcase_add_test(tc, prediction_disturbs_nothing);
    tcase_add_test(tc, partial_batches_progress_and_cancel);
    tcase_add_test(tc, misuse_is_refused_with_a_message);
    tcase_add_test(tc, allocation_failure_leaves_net_usable);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
