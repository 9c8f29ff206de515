/* The ann engine: its backward pass against finite differences of an
 * independent double-precision forward pass, its SBP pseudo-gradients
 * against a naive per-sample computation with the spread operator, the
 * exact ablation and the mask, the mixed schedule, determinism, learning,
 * prediction without side effects, and misuse. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ann.h"
#include "net.h"
#include "rng.h"
#include "rules/spread.h"
#include "testutil.h"

#define D 20
#define K 3
#define H 16
#define NS 60

/* Random-stream salts of the engine (lib/ann.c). */
#define SALT_MASK 0x4D41534Bull
#define SALT_RETRO 0x52455452ull

static sbp_dataset *toy(uint64_t seed)
{
    return sbp_test_prototypes(seed, NS, D, K, 6, 0.8f, 0.05f, 0.2f);
}

/* acts[l] (hidden layers l; NULL or 0: the engine default). */
static sbp_net *make_net_rate(uint64_t seed, const size_t *sizes, size_t n, const int *acts,
                              size_t batch, double rate)
{
    sbp_net *net;
    ck_assert_int_eq(sbp_net_create(SBP_ENGINE_ANN, seed, &net), SBP_OK);
    for (size_t i = 0; i < n; i++) {
        sbp_layer *l;
        ck_assert_int_eq(sbp_layer_create(sizes[i], &l), SBP_OK);
        if (acts && i > 0 && i + 1 < n && acts[i])
            ck_assert_int_eq(sbp_layer_set_int(l, SBP_LAYER_ACTIVATION, acts[i]), SBP_OK);
        if (rate > 0 && i > 0)
            ck_assert_int_eq(sbp_layer_set_real(l, SBP_LAYER_LEARNING_RATE, rate), SBP_OK);
        ck_assert_int_eq(sbp_net_add_layer(net, l), SBP_OK);
        sbp_layer_free(l);
    }
    ck_assert_int_eq(sbp_net_set_int(net, SBP_NET_BATCH_SIZE, (int64_t)batch), SBP_OK);
    return net;
}

static sbp_net *make_net(uint64_t seed, const size_t *sizes, size_t n, const int *acts,
                         size_t batch)
{
    return make_net_rate(seed, sizes, n, acts, batch, 0.0);
}

static void set_int(sbp_net *net, sbp_param p, int64_t v)
{
    ck_assert_int_eq(sbp_net_set_int(net, p, v), SBP_OK);
}

/* A spread rule with the given settings on layers [first, last]. form 0:
 * the default; lambda_p/lambda_f < 0: default. */
static void spread(sbp_net *net, size_t first, size_t last, int enabled, int form, int retro,
                   double lambda_p, double lambda_f)
{
    sbp_rule *r;
    ck_assert_int_eq(sbp_rule_create(SBP_RULE_SBP_SPREAD, &r), SBP_OK);
    ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_ENABLED, enabled), SBP_OK);
    if (form) ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_FORM, form), SBP_OK);
    if (retro) ck_assert_int_eq(sbp_rule_set_int(r, SBP_SPREAD_RETRO_WEIGHT, retro), SBP_OK);
    if (lambda_p >= 0) ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_LAMBDA_P, lambda_p), SBP_OK);
    if (lambda_f >= 0) ck_assert_int_eq(sbp_rule_set_real(r, SBP_SPREAD_LAMBDA_F, lambda_f), SBP_OK);
    for (size_t l = first; l <= last; l++) ck_assert_int_eq(sbp_net_attach_rule(net, l, r), SBP_OK);
    sbp_rule_free(r);
}

static float *weights(sbp_net *net, size_t l, size_t count)
{
    float *w = malloc(count * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(sbp_net_get_weights(net, l, w, count), SBP_OK);
    return w;
}

static int same_weights(sbp_net *a, sbp_net *b, const size_t *sizes, size_t n)
{
    int same = 1;
    for (size_t l = 1; l < n; l++) {
        size_t count = sizes[l - 1] * sizes[l];
        float *wa = weights(a, l, count), *wb = weights(b, l, count);
        same &= memcmp(wa, wb, count * sizeof(float)) == 0;
        same &= memcmp(a->b[l], b->b[l], sizes[l] * sizeof(float)) == 0;
        free(wa);
        free(wb);
    }
    return same;
}

static void build(sbp_net *net, const size_t *sizes)
{
    float *w = weights(net, 1, sizes[0] * sizes[1]); /* builds the network */
    free(w);
}

/* ---- an independent forward pass in double -------------------------------- */

#define MAXL 6

typedef struct dnet {
    size_t L, n[MAXL];
    double *w[MAXL], *b[MAXL];
    int act[MAXL]; /* hidden activations; act[L-1]: output (0 = softmax) */
    int xent;
} dnet;

static double act_f(int act, double z)
{
    switch (act) {
    case SBP_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case SBP_ACT_TANH: return tanh(z);
    case SBP_ACT_RELU: return z > 0 ? z : 0;
    case SBP_ACT_SCALED_SIGMOID: return 2.0 / (1.0 + exp(-z)) - 1.0;
    case SBP_ACT_CLIP01: return z < 0 ? 0 : z > 1 ? 1 : z;
    default: return z;
    }
}

/* Copies the engine's weights and biases. */
static void dnet_from(dnet *d, sbp_net *net, const int *acts, int xent, int out_act)
{
    d->L = sbp_net_layer_count(net);
    d->xent = xent;
    for (size_t l = 0; l < d->L; l++) d->n[l] = sbp_net_layer_size(net, l);
    for (size_t l = 1; l < d->L; l++) {
        size_t count = d->n[l - 1] * d->n[l];
        float *w = weights(net, l, count);
        d->w[l] = malloc(count * sizeof(double));
        d->b[l] = malloc(d->n[l] * sizeof(double));
        for (size_t i = 0; i < count; i++) d->w[l][i] = w[i];
        for (size_t j = 0; j < d->n[l]; j++) d->b[l][j] = net->b[l][j];
        d->act[l] = l + 1 < d->L ? acts[l] : (xent ? 0 : out_act);
        free(w);
    }
}

static void dnet_free(dnet *d)
{
    for (size_t l = 1; l < d->L; l++) {
        free(d->w[l]);
        free(d->b[l]);
    }
}

/* Activations of every layer for one sample into a[l] (n[l] doubles). */
static void dforward(const dnet *d, const float *x, double a[MAXL][32])
{
    for (size_t i = 0; i < d->n[0]; i++) a[0][i] = x[i];
    for (size_t l = 1; l < d->L; l++) {
        size_t m = d->n[l - 1], n = d->n[l];
        for (size_t j = 0; j < n; j++) {
            double z = d->b[l][j];
            for (size_t i = 0; i < m; i++) z += a[l - 1][i] * d->w[l][i * n + j];
            a[l][j] = d->act[l] ? act_f(d->act[l], z) : z;
        }
        if (!d->act[l]) { /* softmax */
            double mx = a[l][0], s = 0;
            for (size_t j = 1; j < n; j++) mx = a[l][j] > mx ? a[l][j] : mx;
            for (size_t j = 0; j < n; j++) s += (a[l][j] = exp(a[l][j] - mx));
            for (size_t j = 0; j < n; j++) a[l][j] /= s;
        }
    }
}

static double dloss(const dnet *d, size_t ns, const float *x, const float *t)
{
    double a[MAXL][32], sum = 0;
    size_t k = d->n[d->L - 1];
    for (size_t s = 0; s < ns; s++) {
        dforward(d, x + s * d->n[0], a);
        for (size_t j = 0; j < k; j++) {
            double y = a[d->L - 1][j], tv = t[s * k + j];
            sum += d->xent ? (tv != 0 ? -tv * log(y) : 0) : 0.5 * (y - tv) * (y - tv);
        }
    }
    return sum / (double)ns;
}

/* max |a - b| relative to max |b|, over count values */
static double rel_err(const float *a, const double *b, size_t count)
{
    double num = 0, den = 1e-6;
    for (size_t i = 0; i < count; i++) {
        double e = fabs((double)a[i] - b[i]);
        num = e > num ? e : num;
        den = fabs(b[i]) > den ? fabs(b[i]) : den;
    }
    return num / den;
}

/* Random data for n samples of a d-k network: inputs in [-1, 1], targets
 * one-hot (xent; sample 1 two-hot) or in [0, 1] (mse). */
static void random_batch(uint64_t seed, size_t n, size_t d, size_t k, int xent, float *x,
                         float *t)
{
    sbp__rng r;
    sbp__rng_init(&r, seed, 99);
    for (size_t i = 0; i < n * d; i++) x[i] = (float)(2.0 * sbp__rng_double(&r) - 1.0);
    for (size_t s = 0; s < n; s++)
        for (size_t j = 0; j < k; j++)
            t[s * k + j] = xent ? (float)(j == s % k || (s == 1 && j == (s + 1) % k))
                                : (float)sbp__rng_double(&r);
}

/* Random biases (the engine starts them at 0) so that their gradients and
 * the activations' whole range are exercised. */
static void random_biases(sbp_net *net, uint64_t seed)
{
    sbp__rng r;
    sbp__rng_init(&r, seed, 5);
    for (size_t l = 1; l < sbp_net_layer_count(net); l++)
        for (size_t j = 0; j < sbp_net_layer_size(net, l); j++)
            net->b[l][j] = (float)(sbp__rng_double(&r) - 0.5);
}

/* ---- tests ---------------------------------------------------------------- */

/* The analytic mean gradient against central differences of the double
 * forward pass, for both losses, every hidden and output activation, on a
 * 5-4-3-3 network with two hidden layers. */
START_TEST(backprop_matches_finite_differences)
{
    static const size_t sizes[] = {5, 4, 3, 3};
    enum { NB = 4 };
    const int all[] = {SBP_ACT_SIGMOID, SBP_ACT_TANH, SBP_ACT_RELU, SBP_ACT_SCALED_SIGMOID,
                       SBP_ACT_CLIP01, SBP_ACT_LINEAR};
    for (int xent = 0; xent <= 1; xent++)
        for (int ia = 0; ia < 6; ia++)
            for (int io = 0; io < (xent ? 1 : 6); io++) {
                int acts[4] = {0, all[ia], all[(ia + 1) % 6], 0};
                sbp_net *net = make_net(10 + (uint64_t)ia, sizes, 4, acts, NB);
                set_int(net, SBP_ANN_LOSS, xent ? SBP_LOSS_SOFTMAX_XENT : SBP_LOSS_MSE);
                if (!xent) set_int(net, SBP_NET_OUTPUT_ACTIVATION, all[io]);
                build(net, sizes);
                random_biases(net, (uint64_t)(ia * 7 + io));
                float x[NB * 5], t[NB * 3];
                random_batch((uint64_t)(ia + 20 * io), NB, 5, 3, xent, x, t);
                float g1[20], g2[12], g3[9], b1[4], b2[3], b3[3];
                float *gw[4] = {NULL, g1, g2, g3}, *gb[4] = {NULL, b1, b2, b3};
                ck_assert_int_eq(sbp__ann_gradient(net, SBP_HIDDEN_BP, NB, x, t, gw, gb), SBP_OK);
                dnet d;
                dnet_from(&d, net, acts, xent, all[io]);
                /* the engine's own loss agrees with the double one */
                double lf, ld = dloss(&d, NB, x, t);
                ck_assert_int_eq(sbp__ann_loss(net, NB, x, t, &lf), SBP_OK);
                ck_assert_double_le(fabs(lf - ld), 1e-5 * (1 + fabs(ld)));
                const double h = 1e-6;
                for (size_t l = 1; l < 4; l++) {
                    size_t count = sizes[l - 1] * sizes[l];
                    double num[20], numb[4];
                    for (size_t i = 0; i < count + sizes[l]; i++) {
                        double *p = i < count ? &d.w[l][i] : &d.b[l][i - count];
                        double keep = *p;
                        *p = keep + h;
                        double up = dloss(&d, NB, x, t);
                        *p = keep - h;
                        double down = dloss(&d, NB, x, t);
                        *p = keep;
                        double g = (up - down) / (2 * h);
                        if (i < count)
                            num[i] = g;
                        else
                            numb[i - count] = g;
                    }
                    double ew = rel_err(gw[l], num, count), eb = rel_err(gb[l], numb, sizes[l]);
                    ck_assert_msg(ew < 1e-2 && eb < 1e-2,
                                  "loss %s, activations %d/%d, output %d, layer %zu: relative "
                                  "error %g (weights) %g (biases)",
                                  xent ? "xent" : "mse", acts[1], acts[2], all[io], l, ew, eb);
                }
                dnet_free(&d);
                sbp_net_free(net);
            }
}
END_TEST

/* The SBP pseudo-gradients of a 5-4-3-3 network (both hidden layers with
 * a spread rule and a mask) against a naive computation: every sample's
 * output change G_s = h2_s (x) delta_s materialised, spread with
 * sbp__spread_add_signal / sbp__spread_add_apply into the top hidden
 * projection, whose per-sample change is spread again into the bottom one;
 * the mean over the batch. Also the feedback form against its formula. */
START_TEST(sbp_pseudo_gradient_equals_naive)
{
    static const size_t sz[] = {5, 4, 3, 3};
    enum { NB = 6 };
    const double lp = 0.6, lfs[3] = {0, 0.7, 1.3};
    /* variants 0-3: the retro weightings under mse (with softmax
     * cross-entropy and one-hot targets sum_k delta_k = 0, so uniform
     * weights carry no signal); 4: signed under cross-entropy; 5: feedback */
    for (int variant = 0; variant < 6; variant++) {
        int feedback = variant == 5, retro = feedback ? 0 : variant == 4 ? 3 : variant + 1;
        int xent = variant >= 4;
        uint64_t seed = 30 + (uint64_t)variant;
        int acts[4] = {0, SBP_ACT_SIGMOID, SBP_ACT_TANH, 0};
        sbp_net *net = make_net(seed, sz, 4, acts, NB);
        set_int(net, SBP_ANN_LOSS, xent ? SBP_LOSS_SOFTMAX_XENT : SBP_LOSS_MSE);
        for (size_t l = 1; l <= 2; l++)
            spread(net, l, l, 1, feedback ? SBP_SPREAD_FEEDBACK : 0, retro, lp, lfs[l]);
        build(net, sz);
        random_biases(net, seed);
        float x[NB * 5], t[NB * 3];
        random_batch(seed, NB, 5, 3, xent, x, t);
        for (size_t i = 0; i < NB * 5; i++) x[i] = fabsf(x[i]); /* eligibilities >= 0 */
        float g1[20], g2[12], g3[9], b1[4], b2[3];
        float *gw[4] = {NULL, g1, g2, g3}, *gb[4] = {NULL, b1, b2, NULL};
        ck_assert_int_eq(sbp__ann_gradient(net, SBP_HIDDEN_SBP, NB, x, t, gw, gb), SBP_OK);
        /* hidden biases get nothing in SBP mode */
        for (size_t j = 0; j < 4; j++) ck_assert(b1[j] == 0.0f);
        for (size_t j = 0; j < 3; j++) ck_assert(b2[j] == 0.0f);

        dnet d;
        dnet_from(&d, net, acts, xent, SBP_ACT_SIGMOID);
        /* the engine's masks and random matrices, from their streams */
        unsigned char *mask[3] = {NULL, NULL, NULL};
        float R[3][12];
        for (size_t l = 1; l <= 2; l++) {
            sbp__rng r;
            sbp__rng_init(&r, seed, SALT_MASK + l);
            int failed;
            mask[l] = sbp__spread_mask(&r, sz[l - 1] * sz[l], lp, &failed);
            ck_assert(!failed && mask[l]);
            sbp__rng_init(&r, seed, SALT_RETRO + l);
            double bound = feedback ? sqrt(6.0 / (double)sz[l + 1]) : 1.0;
            for (size_t i = 0; i < sz[l] * sz[l + 1]; i++)
                R[l][i] = (float)((2.0 * sbp__rng_double(&r) - 1.0) * bound);
        }
        sbp__spread p[3];
        for (size_t l = 1; l <= 2; l++)
            sbp__spread_from_rule(sbp__net_rule(net, l, SBP_RULE_SBP_SPREAD),
                                  SBP_SPREAD_ADDITIVE, &p[l]);
        float W2[12], W3[9];
        ck_assert_int_eq(sbp_net_get_weights(net, 2, W2, 12), SBP_OK);
        ck_assert_int_eq(sbp_net_get_weights(net, 3, W3, 9), SBP_OK);

        double want1[20] = {0}, want2[12] = {0}, want3[9] = {0};
        double a[NB][MAXL][32], delta[NB][3];
        for (size_t s = 0; s < NB; s++) {
            dforward(&d, x + s * 5, a[s]);
            double ts = t[s * 3] + t[s * 3 + 1] + t[s * 3 + 2]; /* sample 1 is two-hot */
            for (size_t k = 0; k < 3; k++) {
                double y = a[s][3][k];
                delta[s][k] = xent ? y * ts - t[s * 3 + k] : (y - t[s * 3 + k]) * y * (1 - y);
            }
            for (size_t j = 0; j < 3; j++)
                for (size_t k = 0; k < 3; k++) want3[j * 3 + k] += a[s][2][j] * delta[s][k] / NB;
        }
        if (!feedback) {
            for (size_t s = 0; s < NB; s++) {
                float G3[9], h1[4], sp[4], sm[4], dA2[12] = {0}, dA1[20] = {0};
                for (size_t j = 0; j < 3; j++)
                    for (size_t k = 0; k < 3; k++) G3[j * 3 + k] = (float)(a[s][2][j] * delta[s][k]);
                for (size_t i = 0; i < 4; i++) h1[i] = (float)a[s][1][i];
                /* h1 may be negative here (only sbp__spread_add_apply's
                 * split mode assumes e >= 0; the split is off) */
                sbp__spread_add_signal(&p[2], G3, W3, R[2], 3, 3, sp, sm);
                sbp__spread_add_apply(&p[2], sp, sm, h1, 4, 3, mask[2], dA2);
                sbp__spread_add_signal(&p[1], dA2, W2, R[1], 4, 3, sp, sm);
                sbp__spread_add_apply(&p[1], sp, sm, x + s * 5, 5, 4, mask[1], dA1);
                for (size_t i = 0; i < 12; i++) want2[i] += dA2[i] / NB;
                for (size_t i = 0; i < 20; i++) want1[i] += dA1[i] / NB;
            }
        } else {
            /* sp_j = lambda_f sum_q |G_above,jq| / (n n_above);
             * E_s,j = sp_j sum_q R_jq E_above,s,q; G = mean x_s (x) E_s, masked */
            double sp2[3], E2[NB][3], sp1[4], E1[NB][4];
            for (size_t j = 0; j < 3; j++) {
                double acc = 0;
                for (size_t k = 0; k < 3; k++) acc += fabs(want3[j * 3 + k]);
                sp2[j] = lfs[2] * acc / 9.0;
            }
            for (size_t s = 0; s < NB; s++)
                for (size_t j = 0; j < 3; j++) {
                    double acc = 0;
                    for (size_t k = 0; k < 3; k++) acc += R[2][j * 3 + k] * delta[s][k];
                    E2[s][j] = sp2[j] * acc;
                }
            for (size_t s = 0; s < NB; s++)
                for (size_t i = 0; i < 4; i++)
                    for (size_t j = 0; j < 3; j++)
                        want2[i * 3 + j] += mask[2][i * 3 + j] ? a[s][1][i] * E2[s][j] / NB : 0;
            for (size_t j = 0; j < 4; j++) {
                double acc = 0;
                for (size_t q = 0; q < 3; q++) acc += fabs(want2[j * 3 + q]);
                sp1[j] = lfs[1] * acc / 12.0;
            }
            for (size_t s = 0; s < NB; s++)
                for (size_t j = 0; j < 4; j++) {
                    double acc = 0;
                    for (size_t q = 0; q < 3; q++) acc += R[1][j * 3 + q] * E2[s][q];
                    E1[s][j] = sp1[j] * acc;
                }
            for (size_t s = 0; s < NB; s++)
                for (size_t i = 0; i < 5; i++)
                    for (size_t j = 0; j < 4; j++)
                        want1[i * 4 + j] += mask[1][i * 4 + j] ? x[s * 5 + i] * E1[s][j] / NB : 0;
        }
        double e3 = rel_err(g3, want3, 9), e2 = rel_err(g2, want2, 12), e1 = rel_err(g1, want1, 20);
        ck_assert_msg(e3 < 1e-4 && e2 < 1e-4 && e1 < 1e-4,
                      "variant %d: relative errors %g %g %g", variant, e3, e2, e1);
        /* not trivially zero, and zero outside the masks */
        double n1 = 0;
        for (size_t i = 0; i < 20; i++) {
            n1 += fabs(g1[i]);
            if (!mask[1][i]) ck_assert(g1[i] == 0.0f);
        }
        ck_assert_double_gt(n1, 0);
        for (size_t l = 1; l <= 2; l++) sbp__free(mask[l]);
        dnet_free(&d);
        sbp_net_free(net);
    }
}
END_TEST

static const size_t SIZES3[] = {D, H, K};

/* SBP mode without a signal: the hidden projection and its biases stay
 * exactly as built, the output learns; a disabled rule equals no rule. */
START_TEST(sbp_without_spread_freezes_hidden_exactly)
{
    sbp_dataset *ds = toy(4);
    sbp_net *off = make_net(3, SIZES3, 3, NULL, 10), *none = make_net(3, SIZES3, 3, NULL, 10);
    spread(off, 1, 2, 0, 0, 0, -1, -1);
    for (int opt = SBP_OPT_SGD; opt <= SBP_OPT_ADAM; opt++) {
        set_int(off, SBP_ANN_OPTIMIZER, opt);
        set_int(none, SBP_ANN_OPTIMIZER, opt);
        set_int(off, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_SBP);
        set_int(none, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_SBP);
        build(off, SIZES3);
        float *w0 = weights(off, 1, D * H), *o0 = weights(off, 2, H * K);
        float b0[H];
        memcpy(b0, off->b[1], sizeof b0);
        double e;
        for (int i = 0; i < 2; i++) {
            ck_assert_int_eq(sbp_net_train_epoch(off, ds, &e), SBP_OK);
            ck_assert_int_eq(sbp_net_train_epoch(none, ds, &e), SBP_OK);
        }
        float *w1 = weights(off, 1, D * H), *o1 = weights(off, 2, H * K);
        ck_assert_int_eq(memcmp(w0, w1, D * H * sizeof(float)), 0);
        ck_assert_int_eq(memcmp(b0, off->b[1], sizeof b0), 0);
        ck_assert_int_ne(memcmp(o0, o1, H * K * sizeof(float)), 0);
        ck_assert(same_weights(off, none, SIZES3, 3));
        free(w0);
        free(w1);
        free(o0);
        free(o1);
    }
    sbp_net_free(off);
    sbp_net_free(none);
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(sbp_changes_only_masked_synapses)
{
    sbp_dataset *ds = toy(5);
    /* sigmoid: no hidden neuron is ever silent, so every masked synapse moves */
    const int sig[3] = {0, SBP_ACT_SIGMOID, 0};
    for (int feedback = 0; feedback <= 1; feedback++) {
        sbp_net *net = make_net(3, SIZES3, 3, sig, 10);
        set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_SBP);
        spread(net, 1, 2, 1, feedback ? SBP_SPREAD_FEEDBACK : 0, SBP_RETRO_SIGNED, 0.5, -1);
        float *w0 = weights(net, 1, D * H);
        float b0[H];
        memcpy(b0, net->b[1], sizeof b0);
        double e;
        for (int i = 0; i < 2; i++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
        float *w1 = weights(net, 1, D * H);
        sbp__rng r;
        sbp__rng_init(&r, 3, SALT_MASK + 1);
        int failed;
        unsigned char *mask = sbp__spread_mask(&r, D * H, 0.5, &failed);
        ck_assert(!failed && mask);
        size_t in_mask = 0, changed = 0;
        for (size_t i = 0; i < D * H; i++) {
            in_mask += mask[i];
            if (w1[i] != w0[i]) {
                ck_assert_msg(mask[i], "synapse %zu changed outside the mask", i);
                changed++;
            }
        }
        ck_assert_uint_gt(in_mask, D * H / 4);
        ck_assert_uint_lt(in_mask, 3 * D * H / 4);
        ck_assert_uint_eq(changed, in_mask); /* every masked synapse moved */
        ck_assert_int_eq(memcmp(b0, net->b[1], sizeof b0), 0); /* hidden biases: no update */
        sbp__free(mask);
        free(w0);
        free(w1);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* Which batches of a mixed run use the true gradient. */
START_TEST(mixed_schedule)
{
    /* the pattern itself */
    for (uint64_t b = 0; b < 200; b++) {
        ck_assert_int_eq(sbp__ann_schedule_bp(0.9, 10, b), b % 10 == 9);
        ck_assert_int_eq(sbp__ann_schedule_bp(NAN, 10, b), b % 10 == 9);
        ck_assert_int_eq(sbp__ann_schedule_bp(NAN, 3, b), b % 3 == 2);
        ck_assert_int_eq(sbp__ann_schedule_bp(NAN, 1, b), 1);
        ck_assert_int_eq(sbp__ann_schedule_bp(0.5, 10, b), b % 2 == 1);
        ck_assert_int_eq(sbp__ann_schedule_bp(0.75, 10, b), b % 4 == 3);
        ck_assert_int_eq(sbp__ann_schedule_bp(0.0, 10, b), 1);
        ck_assert_int_eq(sbp__ann_schedule_bp(1.0, 10, b), 0);
    }
    /* the fraction of BP batches is 1 - r over any long run */
    const double rs[] = {0.1, 0.2, 0.3, 0.7, 0.8, 0.95, 0.99};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        uint64_t bp = 0;
        for (uint64_t b = 0; b < 1000; b++) bp += (uint64_t)sbp__ann_schedule_bp(rs[i], 10, b);
        ck_assert_uint_eq(bp, (uint64_t)llround(1000 * (1 - rs[i])));
    }

    /* in training: 12 batches per epoch, 3 epochs */
    sbp_dataset *ds = toy(6);
    const double r_of[] = {0.9, 0.5, 0.0, 1.0};
    const uint64_t bp_of[] = {3, 18, 36, 0};
    sbp_net *bp = make_net(4, SIZES3, 3, NULL, 5), *sbp = make_net(4, SIZES3, 3, NULL, 5);
    set_int(sbp, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_SBP);
    spread(bp, 1, 2, 1, 0, SBP_RETRO_SIGNED, -1, -1);
    spread(sbp, 1, 2, 1, 0, SBP_RETRO_SIGNED, -1, -1);
    double e;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(sbp_net_train_epoch(bp, ds, &e), SBP_OK);
        ck_assert_int_eq(sbp_net_train_epoch(sbp, ds, &e), SBP_OK);
    }
    uint64_t n_bp;
    ck_assert_uint_eq(sbp__ann_batches(bp, &n_bp), 36);
    ck_assert_uint_eq(n_bp, 36);
    ck_assert_uint_eq(sbp__ann_batches(sbp, &n_bp), 36);
    ck_assert_uint_eq(n_bp, 0);
    for (int v = 0; v < 4; v++) {
        sbp_net *net = make_net(4, SIZES3, 3, NULL, 5);
        set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_MIXED);
        ck_assert_int_eq(sbp_net_set_real(net, SBP_ANN_REPLACE_BP, r_of[v]), SBP_OK);
        spread(net, 1, 2, 1, 0, SBP_RETRO_SIGNED, -1, -1);
        for (int i = 0; i < 3; i++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
        ck_assert_uint_eq(sbp__ann_batches(net, &n_bp), 36);
        ck_assert_uint_eq(n_bp, bp_of[v]);
        /* r = 0 is pure BP, r = 1 pure SBP, bit for bit; others neither */
        ck_assert_int_eq(same_weights(net, bp, SIZES3, 3), v == 2);
        ck_assert_int_eq(same_weights(net, sbp, SIZES3, 3), v == 3);
        sbp_net_free(net);
    }
    /* unset replace_bp: every bp_every-th batch */
    sbp_net *net = make_net(4, SIZES3, 3, NULL, 5);
    set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_MIXED);
    set_int(net, SBP_ANN_BP_EVERY, 4);
    spread(net, 1, 2, 1, 0, SBP_RETRO_SIGNED, -1, -1);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    ck_assert_uint_eq(sbp__ann_batches(net, &n_bp), 36);
    ck_assert_uint_eq(n_bp, 9);
    ck_assert_uint_eq(sbp__ann_batches(NULL, &n_bp), 0);
    ck_assert_uint_eq(n_bp, 0);
    sbp_net_free(net);
    sbp_net_free(bp);
    sbp_net_free(sbp);
    sbp_dataset_free(ds);
}
END_TEST

/* Same seed, any thread count: the same bits; on dense inputs (BLAS) and on
 * inputs that are 80 % zeros (the sparse products of lib/spmm.c, whose rows
 * are split over the threads). */
START_TEST(deterministic)
{
    static const size_t sizes[] = {D, H, 10, K};
    sbp_dataset *ds = _i ? sbp_test_prototypes(7, NS, D, K, 4, 0.8f, 0.0f, 0.0f) : toy(7);
    for (int variant = 0; variant < 3; variant++) {
        sbp_net *net[3];
        for (int i = 0; i < 3; i++) {
            net[i] = make_net(i == 2 ? 8 : 7, sizes, 4, NULL, 7);
            set_int(net[i], SBP_NET_THREADS, i + 1);
            set_int(net[i], SBP_ANN_HIDDEN_MODE, variant == 0 ? SBP_HIDDEN_BP : SBP_HIDDEN_MIXED);
            set_int(net[i], SBP_ANN_OPTIMIZER, variant == 2 ? SBP_OPT_ADAM : SBP_OPT_SGD);
            spread(net[i], 1, 3, 1, variant == 2 ? SBP_SPREAD_FEEDBACK : 0, SBP_RETRO_RANDOM,
                   0.7, -1);
        }
        double e[3];
        for (int ep = 0; ep < 3; ep++)
            for (int i = 0; i < 3; i++) ck_assert_int_eq(sbp_net_train_epoch(net[i], ds, &e[i]), SBP_OK);
        ck_assert(e[0] == e[1]);
        ck_assert(same_weights(net[0], net[1], sizes, 4));  /* same seed */
        ck_assert(!same_weights(net[0], net[2], sizes, 4)); /* another seed */
        float x[NS * D], o0[NS * K], o1[NS * K];
        int32_t l0[NS], l1[NS];
        ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
        ck_assert_int_eq(sbp_net_predict(net[0], NS, x, l0, o0), SBP_OK);
        ck_assert_int_eq(sbp_net_predict(net[1], NS, x, l1, o1), SBP_OK);
        ck_assert_int_eq(memcmp(l0, l1, sizeof l0), 0);
        ck_assert_int_eq(memcmp(o0, o1, sizeof o0), 0);
        for (int i = 0; i < 3; i++) sbp_net_free(net[i]);
    }
    sbp_dataset_free(ds);
}
END_TEST

/* Batches above 64 samples whose input columns are of three kinds, dense
 * (60 % non-zero), sparse (8 %) and all zero, into a hidden layer of 80
 * (>= 64): the products' split path, whose sparse columns the term kernel
 * sums on the pool. Same bits on 1, 2 and 3 threads, in BP and SBP
 * batches, and the task is learnt. */
START_TEST(deterministic_on_the_split_path)
{
    enum { SN = 300, SD = 90, SH = 80, SK = 3, SB = 100 };
    static const size_t sizes[] = {SD, SH, SK};
    float *x = malloc(sizeof(float) * SN * SD);
    int32_t lab[SN];
    sbp__rng r;
    sbp__rng_init(&r, 11, 0);
    for (size_t i = 0; i < SN; i++) {
        lab[i] = (int32_t)(i % SK);
        for (size_t j = 0; j < SD; j++) {
            double density = j < 30 ? 0.6 : (j < 60 ? 0.08 : 0.0);
            double u = sbp__rng_double(&r);
            /* the dense columns say the label: column j leans to class j % 3 */
            float v = (float)(0.2 + 0.8 * sbp__rng_double(&r)) * (j % SK == (size_t)lab[i] ? 1.0f : 0.3f);
            x[i * SD + j] = u < density ? v : 0.0f;
        }
    }
    sbp_dataset *ds;
    ck_assert_int_eq(sbp_dataset_create(SN, SD, x, lab, SK, &ds), SBP_OK);
    for (int mode = 0; mode < 2; mode++) {
        sbp_net *net[3];
        double e[3] = {0, 0, 0}, first = 0;
        for (int i = 0; i < 3; i++) {
            net[i] = make_net(5, sizes, 3, NULL, SB);
            set_int(net[i], SBP_NET_THREADS, i + 1);
            set_int(net[i], SBP_ANN_LOSS, SBP_LOSS_SOFTMAX_XENT);
            set_int(net[i], SBP_ANN_HIDDEN_MODE, mode ? SBP_HIDDEN_MIXED : SBP_HIDDEN_BP);
            if (mode) spread(net[i], 1, 1, 1, 0, SBP_RETRO_SIGNED, 0.7, -1);
        }
        for (int ep = 0; ep < 8; ep++)
            for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(sbp_net_train_epoch(net[i], ds, &e[i]), SBP_OK);
                if (ep == 0 && i == 0) first = e[0];
            }
        ck_assert(e[0] == e[1] && e[0] == e[2]);
        ck_assert(same_weights(net[0], net[1], sizes, 3));
        ck_assert(same_weights(net[0], net[2], sizes, 3));
        ck_assert_msg(e[0] < first && e[0] < 0.4, "training error %g after 8 epochs (first %g)",
                      e[0], first);
        for (int i = 0; i < 3; i++) sbp_net_free(net[i]);
    }
    sbp_dataset_free(ds);
    free(x);
}
END_TEST

/* Every mode with both optimizers and both losses gets the toy task
 * mostly right within a few epochs (chance: 2/3 wrong). */
START_TEST(learns_a_toy_task)
{
    sbp_dataset *ds = toy(1);
    for (int mode = 0; mode < 4; mode++)
        for (int opt = SBP_OPT_SGD; opt <= SBP_OPT_ADAM; opt++)
            for (int loss = SBP_LOSS_MSE; loss <= SBP_LOSS_SOFTMAX_XENT; loss++) {
                /* mode 0 bp, 1 sbp signed, 2 feedback, 3 mixed */
                sbp_net *net =
                    make_net_rate(2, SIZES3, 3, NULL, 10, opt == SBP_OPT_ADAM ? 0.01 : 0.0);
                set_int(net, SBP_ANN_OPTIMIZER, opt);
                set_int(net, SBP_ANN_LOSS, loss);
                set_int(net, SBP_ANN_HIDDEN_MODE,
                        mode == 0 ? SBP_HIDDEN_BP : mode == 3 ? SBP_HIDDEN_MIXED : SBP_HIDDEN_SBP);
                if (mode) spread(net, 1, 1, 1, mode == 2 ? SBP_SPREAD_FEEDBACK : 0, SBP_RETRO_SIGNED, -1, -1);
                float *w0 = weights(net, 1, D * H);
                double before, after, train = 1;
                ck_assert_int_eq(sbp_net_evaluate(net, ds, &before), SBP_OK);
                for (int ep = 0; ep < 10; ep++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &train), SBP_OK);
                ck_assert_int_eq(sbp_net_evaluate(net, ds, &after), SBP_OK);
                float *w1 = weights(net, 1, D * H);
                ck_assert_msg(after <= 0.1 && train <= 0.25,
                              "mode %d optimizer %d loss %d: error %g (train %g)", mode, opt,
                              loss, after, train);
                ck_assert_int_ne(memcmp(w0, w1, D * H * sizeof(float)), 0); /* hidden learns */
                free(w0);
                free(w1);
                sbp_net_free(net);
            }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(prediction_disturbs_nothing)
{
    sbp_dataset *ds = toy(8);
    sbp_net *a = make_net(5, SIZES3, 3, NULL, 10), *b = make_net(5, SIZES3, 3, NULL, 10);
    float x[NS * D], o1[NS * K], o2[NS * K];
    int32_t l1[NS], l2[NS], l3[NS];
    ck_assert_int_eq(sbp_dataset_batch(ds, 0, NS, x, NULL, NULL), SBP_OK);
    double e;
    ck_assert_int_eq(sbp_net_train_epoch(a, ds, &e), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(b, ds, &e), SBP_OK);
    ck_assert_int_eq(sbp_net_predict(a, NS, x, l1, o1), SBP_OK);
    ck_assert_int_eq(sbp_net_evaluate(a, ds, &e), SBP_OK);
    ck_assert_int_eq(sbp_net_predict(a, NS, x, l2, o2), SBP_OK);
    ck_assert_int_eq(memcmp(l1, l2, sizeof l1), 0);
    ck_assert_int_eq(memcmp(o1, o2, sizeof o1), 0);
    /* softmax probabilities, and the label is their argmax */
    for (int s = 0; s < NS; s++) {
        float sum = 0;
        for (int k = 0; k < K; k++) {
            ck_assert(o1[s * K + k] >= 0 && o1[s * K + k] <= 1);
            sum += o1[s * K + k];
            ck_assert(o1[s * K + k] <= o1[s * K + l1[s]]);
        }
        ck_assert_float_eq_tol(sum, 1.0f, 1e-5f);
    }
    /* chunked prediction (sizes not multiples of the batch) equals one call */
    ck_assert_int_eq(sbp_net_predict(a, 23, x, l3, NULL), SBP_OK);
    ck_assert_int_eq(sbp_net_predict(a, NS - 23, x + 23 * D, l3 + 23, NULL), SBP_OK);
    ck_assert_int_eq(memcmp(l1, l3, sizeof l1), 0);
    /* training goes on exactly as without the predictions */
    ck_assert_int_eq(sbp_net_train_epoch(a, ds, &e), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(b, ds, &e), SBP_OK);
    ck_assert(same_weights(a, b, SIZES3, 3));
    sbp_net_free(a);
    sbp_net_free(b);
    sbp_dataset_free(ds);
}
END_TEST

/* Depth: two layers make a softmax regression; deeper nets chain the
 * spread downward, and a disabled rule in the middle cuts the chain. */
START_TEST(shallow_and_deep_networks)
{
    sbp_dataset *ds = toy(9);
    const size_t two[] = {D, K};
    for (int mode = SBP_HIDDEN_BP; mode <= SBP_HIDDEN_MIXED; mode++) {
        sbp_net *net = make_net(1, two, 2, NULL, 10);
        set_int(net, SBP_ANN_HIDDEN_MODE, mode);
        spread(net, 1, 1, 1, 0, 0, -1, -1); /* on the output: accepted, no effect */
        double after, train;
        for (int ep = 0; ep < 10; ep++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &train), SBP_OK);
        ck_assert_int_eq(sbp_net_evaluate(net, ds, &after), SBP_OK);
        ck_assert_double_le(after, 0.1);
        sbp_net_free(net);
    }
    const size_t five[] = {D, 14, 12, 10, K};
    for (int cut = 0; cut <= 1; cut++) {
        sbp_net *net = make_net(2, five, 5, NULL, 10);
        set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_SBP);
        spread(net, 1, 4, 1, 0, SBP_RETRO_SIGNED, -1, -1);
        if (cut) spread(net, 2, 2, 0, 0, 0, -1, -1);
        float *w0[4];
        for (size_t l = 1; l < 4; l++) w0[l] = weights(net, l, five[l - 1] * five[l]);
        double e;
        for (int ep = 0; ep < 2; ep++) ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
        for (size_t l = 1; l < 4; l++) {
            size_t count = five[l - 1] * five[l];
            float *w1 = weights(net, l, count);
            int moved = memcmp(w0[l], w1, count * sizeof(float)) != 0;
            ck_assert_int_eq(moved, !cut || l == 3);
            free(w0[l]);
            free(w1);
        }
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(misuse_is_refused_with_a_message)
{
    sbp_dataset *ds = toy(10);
    double e;
    sbp_net *net = make_net(1, SIZES3, 3, NULL, 10);
    /* rules other than the spread */
    const sbp_rule_kind kinds[] = {SBP_RULE_STDP, SBP_RULE_SUPERVISED_STDP, SBP_RULE_STP,
                                   SBP_RULE_HOMEOSTASIS, SBP_RULE_RBM_CD};
    for (size_t i = 0; i < 5; i++) {
        sbp_rule *r;
        ck_assert_int_eq(sbp_rule_create(kinds[i], &r), SBP_OK);
        ck_assert_int_eq(sbp_net_attach_rule(net, 1, r), SBP_E_UNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "ann"));
        sbp_rule_free(r);
    }
    /* an output activation with the softmax loss; fine with mse */
    set_int(net, SBP_NET_OUTPUT_ACTIVATION, SBP_ACT_TANH);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "softmax"));
    set_int(net, SBP_ANN_LOSS, SBP_LOSS_MSE);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    /* a dataset of the wrong shape */
    float x[2 * 5] = {0};
    int32_t lab[2] = {0, 1};
    sbp_dataset *bad;
    ck_assert_int_eq(sbp_dataset_create(2, 5, x, lab, 3, &bad), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, bad, &e), SBP_E_MISMATCH);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "features"));
    ck_assert_int_eq(sbp_net_evaluate(net, bad, &e), SBP_E_MISMATCH);
    sbp_dataset_free(bad);
    /* hooks: sizes checked */
    float xs[11 * D] = {0}, ts[11 * K] = {0};
    ck_assert_int_eq(sbp__ann_gradient(net, SBP_HIDDEN_BP, 11, xs, ts, NULL, NULL), SBP_E_RANGE);
    ck_assert_int_eq(sbp__ann_gradient(net, SBP_HIDDEN_BP, 10, xs, ts, NULL, NULL), SBP_OK);
    /* cancellation keeps the network usable */
    size_t seen = 0;
    ck_assert_int_eq(sbp_net_set_progress(net, sbp_test_stop_at_20, &seen), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_CANCELLED);
    ck_assert_uint_eq(seen, 20);
    ck_assert_int_eq(sbp_net_set_progress(net, NULL, NULL), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    sbp_net_free(net);

    /* hooks on a network that is not built */
    net = make_net(1, SIZES3, 3, NULL, 10);
    ck_assert_int_eq(sbp__ann_gradient(net, SBP_HIDDEN_BP, 1, xs, ts, NULL, NULL), SBP_E_STATE);
    ck_assert_uint_eq(sbp__ann_batches(net, NULL), 0);
    /* the multiplicative spread is the relax engine's */
    spread(net, 1, 1, 1, SBP_SPREAD_MULTIPLICATIVE, 0, -1, -1);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "multiplicative"));
    /* ... and the network is not built: the rule can be replaced */
    ck_assert_int_eq(sbp_net_detach_rule(net, 1, SBP_RULE_SBP_SPREAD), SBP_OK);
    ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
    sbp_net_free(net);

    /* divergence is reported and the weights stay finite */
    const int lin[3] = {0, SBP_ACT_LINEAR, 0};
    net = make_net_rate(1, SIZES3, 3, lin, 10, 1e4);
    set_int(net, SBP_ANN_LOSS, SBP_LOSS_MSE);
    set_int(net, SBP_NET_OUTPUT_ACTIVATION, SBP_ACT_LINEAR);
    sbp_status st = SBP_OK;
    for (int ep = 0; ep < 20 && st == SBP_OK; ep++) st = sbp_net_train_epoch(net, ds, &e);
    ck_assert_int_eq(st, SBP_E_NUMERIC);
    ck_assert_ptr_nonnull(strstr(sbp_net_errmsg(net), "diverged"));
    float *w = weights(net, 1, D * H);
    for (size_t i = 0; i < D * H; i++) ck_assert(isfinite(w[i]));
    free(w);
    sbp_net_free(net);
    sbp_dataset_free(ds);
}
END_TEST

/* Multi-hot targets: softmax cross-entropy with sum(t) != 1, and samples
 * without a single label always count as wrong. */
START_TEST(multi_hot_targets)
{
    enum { N = 40 };
    float x[N * D], t[N * K];
    sbp__rng r;
    sbp__rng_init(&r, 12, 0);
    for (size_t s = 0; s < N; s++) {
        for (size_t i = 0; i < D; i++) x[s * D + i] = (float)sbp__rng_double(&r);
        for (size_t k = 0; k < K; k++) t[s * K + k] = k != s % K ? 1.0f : 0.0f;
    }
    sbp_dataset *ds;
    ck_assert_int_eq(sbp_dataset_create_targets(N, D, x, K, t, &ds), SBP_OK);
    for (int loss = SBP_LOSS_MSE; loss <= SBP_LOSS_SOFTMAX_XENT; loss++) {
        sbp_net *net = make_net(1, SIZES3, 3, NULL, 8);
        set_int(net, SBP_ANN_LOSS, loss);
        double e;
        ck_assert_int_eq(sbp_net_train_epoch(net, ds, &e), SBP_OK);
        ck_assert_double_eq(e, 1.0);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

START_TEST(allocation_failure_leaves_net_usable)
{
    sbp_dataset *ds = toy(11);
    static const size_t sizes[] = {D, H, 10, K};
    for (long n = 0; n < 70; n += 3) {
        sbp_net *net = make_net(1, sizes, 4, NULL, 10);
        set_int(net, SBP_ANN_HIDDEN_MODE, SBP_HIDDEN_MIXED);
        set_int(net, SBP_ANN_OPTIMIZER, SBP_OPT_ADAM);
        spread(net, 1, 3, 1, 0, SBP_RETRO_RANDOM, 0.5, -1);
        sbp_test_train_despite_alloc_failure(net, ds, n);
        sbp_net_free(net);
    }
    sbp_dataset_free(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ann");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, backprop_matches_finite_differences);
    tcase_add_test(tc, sbp_pseudo_gradient_equals_naive);
    tcase_add_test(tc, sbp_without_spread_freezes_hidden_exactly);
    tcase_add_test(tc, sbp_changes_only_masked_synapses);
    tcase_add_test(tc, mixed_schedule);
    tcase_add_loop_test(tc, deterministic, 0, 2);
    tcase_add_test(tc, deterministic_on_the_split_path);
    tcase_add_test(tc, learns_a_toy_task);
    tcase_add_test(tc, prediction_disturbs_nothing);
    tcase_add_test(tc, shallow_and_deep_networks);
    tcase_add_test(tc, misuse_is_refused_with_a_message);
    tcase_add_test(tc, multi_hot_targets);
    tcase_add_test(tc, allocation_failure_leaves_net_usable);
    suite_add_tcase(s, tc);
    return sbp_test_run(s);
}
