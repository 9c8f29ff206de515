/* The ann engine: a dense multilayer perceptron trained on BLAS, whose
 * hidden layers learn by backpropagation, by the SBP spread of the output
 * change, or by both in turn (model.md section 5). docs/ann.md describes
 * the model, the choices made here and the defaults; this comment is the
 * map of the file.
 *
 * A network m-n1-...-k: a_0 = x, a_l = f_l(a_{l-1} W_l + b_l), the output
 * a sigmoid (or another activation) under the mse loss or a softmax under
 * cross-entropy. Per mini-batch of c samples, with every product one GEMM
 * over the whole batch (sbp__sgemm, the only door to BLAS):
 *   1. forward pass, activations kept per layer (c x n_l);
 *   2. top-down, an error signal E_l (c x n_l) per layer and the
 *      (pseudo-)gradient G_l = a_{l-1}^T E_l / c of the projection into it:
 *      the output's E is dL/dz; a hidden layer's E is the backpropagated
 *      (E_{l+1} W_{l+1}^T) * f'(a_l) in a BP batch, or in an SBP batch the
 *      spread of the per-sample change of the projection above, written
 *      as products so that no per-sample change is ever materialised;
 *   3. every gradient checked finite, then each projection's optimizer
 *      (SGD with momentum, or Adam) consumes its G like a gradient.
 * Elementwise loops run in a fixed order on one thread and BLAS does the
 * parallel work, so a seed gives the same bits on every run of a build.
 * Every buffer exists from the build (Adam's second moments from the first
 * Adam epoch); nothing is allocated inside the batch loop. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "ann.h"
#include "gemm.h"
#include "io.h"
#include "net.h"
#include "rules/spread.h"
#include "spmm.h"
#include "vmath.h"

/* Engine defaults (docs/ann.md). */
#define DEFAULT_HIDDEN_ACT SBP_ACT_RELU
#define DEFAULT_OUTPUT_ACT SBP_ACT_SIGMOID /* mse loss */
#define DEFAULT_RATE_SGD 0.1
#define DEFAULT_RATE_ADAM 1e-3
#define ADAM_EPS 1e-8
/* The mixed schedule compares floor(b (1 - r)) across batches with this
 * slack, so that decimal fractions such as r = 0.9 (1 - r = 0.0999...98 in
 * binary) give the intended pattern: batches 9, 19, ... */
#define SCHEDULE_TOL 1e-6
/* Random-stream salts: the same streams as the other engines. */
#define SALT_WEIGHTS 0x57000000ull /* "W" */
#define SALT_MASK 0x4D41534Bull    /* "MASK" */
#define SALT_RETRO 0x52455452ull   /* "RETR" */

typedef struct an_layer {
    size_t n;
    int act;          /* activation (the output's is resolved per call) */
    float *a;         /* B x n activations (layer 0: the input batch) */
    float *e;         /* B x n error signal: dL/dz or its SBP replacement */
    /* the projection into this layer (l >= 1) */
    float *gw, *gb;   /* (pseudo-)gradient of W_l (n_{l-1} x n) and b_l */
    float *mw, *mb;   /* SGD velocity / Adam first moment */
    float *vw, *vb;   /* Adam second moment (allocated on first Adam use) */
    uint64_t tw, tb;  /* Adam steps taken by W_l and b_l */
    float rate;       /* layer.learning_rate, resolved per call */
    /* SBP replacement of this (hidden) layer's gradient */
    sbp__spread spread;
    int spread_on;       /* hidden layer with an enabled spread rule */
    unsigned char *mask; /* n_{l-1} x n, NULL: every synapse */
    float *R;            /* n x n_{l+1}: random retro weights or feedback matrix */
    float *omega;        /* n x n_{l+1}: retro weights times the mask above */
    int omega_fixed;     /* omega does not follow the weights (uniform, random) */
    float *sp;           /* n: feedback scale per hidden neuron */
    int updated;         /* this batch: the projection gets an update */
    sbp__spmm_ws ws;     /* the products of the projection into this layer */
} an_layer;

typedef struct ann_state {
    size_t B, L;
    an_layer *layer;  /* [L]; layer[0] is the input */
    float *y;         /* B x k targets */
    int32_t *labels;  /* B */
    int32_t *pred;    /* B */
    /* per-call constants */
    int loss, out_act, optimizer, mode;
    float momentum, beta1, beta2;
    double replace;   /* ann.replace_bp, NaN when unset */
    uint64_t every;   /* ann.bp_every */
    int opt_kind;     /* optimizer the moment buffers hold state of (0: none) */
    uint64_t batches, bp_batches;
    sbp__pool *pool;  /* the sparse products' rows */
} ann_state;

/* ---- configuration ------------------------------------------------------ */

/* A spread rule on the output layer has nothing to spread; it is accepted
 * because the command line attaches the rule to every layer. */
static int ann_accepts(sbp_rule_kind kind, size_t layer_index, size_t n_layers)
{
    (void)layer_index;
    (void)n_layers;
    return kind == SBP_RULE_SBP_SPREAD;
}

static void ann_defaults(sbp_net *net)
{
    int slot = sbp__param_slot(SBP_LAYER_ACTIVATION);
    for (size_t l = 1; l + 1 < net->n_layers; l++)
        if (isnan(net->layers[l].params[slot])) net->layers[l].params[slot] = DEFAULT_HIDDEN_ACT;
}

static int act_valid(double a)
{
    return a >= SBP_ACT_SIGMOID && a <= SBP_ACT_LINEAR && a == floor(a);
}

static const char *act_name(int a)
{
    static const char *const names[] = {"?",      "sigmoid", "tanh",  "relu",
                                        "scaled_sigmoid", "clip01", "linear"};
    return a >= 1 && a <= 6 ? names[a] : "?";
}

/* Rules and layer settings are checked when the network is built: layers
 * may have been added after a rule was attached. */
static sbp_status check_config(sbp_net *net)
{
    for (size_t l = 0; l < net->n_layers; l++)
        SBP_RETURN_IF(sbp__layer_param(net, l, SBP_LAYER_CONNECTIVITY) < 1.0, net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the ann engine has dense projections only; layer.connectivity < 1 "
                      "(layer %zu) is the spike engine's", l);
    for (size_t l = 1; l < net->n_layers; l++) {
        if (l + 1 < net->n_layers) {
            double a = sbp__layer_param(net, l, SBP_LAYER_ACTIVATION);
            SBP_RETURN_IF(!act_valid(a), net->errmsg, SBP_E_UNSUPPORTED,
                          "the ann engine has no activation %g (layer %zu)", a, l);
        }
        sbp__spread p;
        sbp__spread_from_rule(sbp__net_rule(net, l, SBP_RULE_SBP_SPREAD), SBP_SPREAD_ADDITIVE,
                              &p);
        SBP_RETURN_IF(p.enabled && p.form == SBP_SPREAD_MULTIPLICATIVE, net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the ann engine uses the additive or the feedback spread form (layer %zu "
                      "asks for the multiplicative one, which only the relax engine has)", l);
        SBP_RETURN_IF(p.enabled && p.form != SBP_SPREAD_ADDITIVE &&
                          p.form != SBP_SPREAD_FEEDBACK, net->errmsg, SBP_E_UNSUPPORTED,
                      "the ann engine has no spread form %d (layer %zu)", p.form, l);
    }
    return SBP_OK;
}

/* Network parameters are read at every call, so that changing one between
 * epochs takes effect (the batch size, which shapes the buffers, is fixed
 * at build time by net.c). */
static sbp_status load_constants(sbp_net *net, ann_state *st)
{
    st->loss = (int)sbp__net_param(net, SBP_ANN_LOSS);
    st->optimizer = (int)sbp__net_param(net, SBP_ANN_OPTIMIZER);
    st->mode = (int)sbp__net_param(net, SBP_ANN_HIDDEN_MODE);
    st->momentum = (float)sbp__net_param(net, SBP_ANN_MOMENTUM);
    st->beta1 = (float)sbp__net_param(net, SBP_ANN_ADAM_BETA1);
    st->beta2 = (float)sbp__net_param(net, SBP_ANN_ADAM_BETA2);
    st->replace = sbp__net_param(net, SBP_ANN_REPLACE_BP);
    st->every = (uint64_t)sbp__net_param(net, SBP_ANN_BP_EVERY);
    double out = sbp__net_param(net, SBP_NET_OUTPUT_ACTIVATION);
    if (st->loss == SBP_LOSS_SOFTMAX_XENT) {
        SBP_RETURN_IF(!isnan(out), net->errmsg, SBP_E_UNSUPPORTED,
                      "with ann.loss = softmax_xent the output layer is a softmax; "
                      "net.output_activation (%s) does not apply: leave it unset or use "
                      "ann.loss = mse", act_name((int)out));
        st->out_act = 0;
    } else {
        st->out_act = isnan(out) ? DEFAULT_OUTPUT_ACT : (int)out;
        SBP_RETURN_IF(!act_valid(st->out_act), net->errmsg, SBP_E_UNSUPPORTED,
                      "the ann engine has no output activation %d", st->out_act);
    }
    double def = st->optimizer == SBP_OPT_ADAM ? DEFAULT_RATE_ADAM : DEFAULT_RATE_SGD;
    for (size_t l = 1; l < st->L; l++) {
        double r = sbp__layer_param(net, l, SBP_LAYER_LEARNING_RATE);
        st->layer[l].rate = (float)(isnan(r) ? def : r);
    }
    return sbp__net_pool(net, &st->pool, NULL);
}

/* Optimizer state for the current optimizer: Adam's second moments on
 * first use; a change of optimizer restarts the state. Called outside the
 * batch loop. */
static sbp_status prepare_optimizer(sbp_net *net, ann_state *st)
{
    for (size_t l = 1; st->optimizer == SBP_OPT_ADAM && l < st->L; l++) {
        an_layer *ly = &st->layer[l];
        if (ly->vw) continue;
        ly->vw = sbp__floats(st->layer[l - 1].n * ly->n);
        ly->vb = sbp__floats(ly->n);
        if (!ly->vw || !ly->vb) {
            sbp__free(ly->vw);
            sbp__free(ly->vb);
            ly->vw = ly->vb = NULL;
            return sbp__fail(net->errmsg, SBP_E_NOMEM,
                             "out of memory allocating the Adam state of the ann engine");
        }
    }
    if (st->opt_kind != st->optimizer) {
        for (size_t l = 1; l < st->L; l++) {
            an_layer *ly = &st->layer[l];
            size_t count = st->layer[l - 1].n * ly->n;
            memset(ly->mw, 0, count * sizeof(float));
            memset(ly->mb, 0, ly->n * sizeof(float));
            if (ly->vw) memset(ly->vw, 0, count * sizeof(float));
            if (ly->vb) memset(ly->vb, 0, ly->n * sizeof(float));
            ly->tw = ly->tb = 0;
        }
        st->opt_kind = st->optimizer;
    }
    return SBP_OK;
}

/* ---- memory ------------------------------------------------------------- */

static void ann_destroy(sbp_net *net)
{
    ann_state *st = net->state;
    if (!st) return;
    for (size_t l = 0; st->layer && l < st->L; l++) {
        an_layer *ly = &st->layer[l];
        float **bufs[] = {&ly->a,  &ly->e,  &ly->gw, &ly->gb,    &ly->mw, &ly->mb,
                          &ly->vw, &ly->vb, &ly->R,  &ly->omega, &ly->sp};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) sbp__free(*bufs[i]);
        sbp__free(ly->mask);
        sbp__spmm_ws_free(&ly->ws);
    }
    sbp__free(st->layer);
    sbp__free(st->y);
    sbp__free(st->labels);
    sbp__free(st->pred);
    sbp__pool_free(st->pool);
    sbp__free(st);
    net->state = NULL;
}

/* Retro weights times the mask of the projection above (whose per-sample
 * change is what gets spread): computed once when they do not follow the
 * weights, else at every SBP batch. */
static void compute_omega(const sbp_net *net, const ann_state *st, size_t l)
{
    const an_layer *ly = &st->layer[l], *up = &st->layer[l + 1];
    size_t n = ly->n, k = up->n, count = n * k;
    const float *w = net->w[l + 1];
    float *om = ly->omega;
    switch (ly->spread.retro) {
    case SBP_RETRO_EFFICACY:
        for (size_t i = 0; i < count; i++) om[i] = fabsf(w[i]);
        break;
    case SBP_RETRO_SIGNED:
        memcpy(om, w, count * sizeof *om);
        break;
    case SBP_RETRO_RANDOM:
        memcpy(om, ly->R, count * sizeof *om);
        break;
    default:
        for (size_t i = 0; i < count; i++) om[i] = 1.0f;
        break;
    }
    if (up->mask)
        for (size_t i = 0; i < count; i++) om[i] = up->mask[i] ? om[i] : 0.0f;
}

static sbp_status ann_init(sbp_net *net)
{
    SBP_TRY(check_config(net));
    ann_state *st = sbp__calloc(1, sizeof *st);
    if (!st) return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory");
    net->state = st;
    size_t L = net->n_layers, B = (size_t)sbp__net_param(net, SBP_NET_BATCH_SIZE);
    st->L = L;
    st->B = B;
    st->layer = sbp__calloc(L, sizeof *st->layer);
    if (!st->layer) goto nomem;
    size_t k = net->layers[L - 1].size;
    st->y = sbp__floats(B * k);
    st->labels = sbp__calloc(B, sizeof *st->labels);
    st->pred = sbp__calloc(B, sizeof *st->pred);
    if (!st->y || !st->labels || !st->pred) goto nomem;
    for (size_t l = 0; l < L; l++) {
        an_layer *ly = &st->layer[l];
        size_t n = net->layers[l].size, bn;
        ly->n = n;
        if (!sbp__mul_size(B, n, &bn) || !(ly->a = sbp__floats(bn))) goto nomem;
        if (l == 0) continue;
        size_t m = net->layers[l - 1].size, mn = m * n; /* net.c checked m*n */
        int hidden = l + 1 < L;
        ly->act = hidden ? (int)sbp__layer_param(net, l, SBP_LAYER_ACTIVATION) : 0;
        ly->e = sbp__floats(bn);
        ly->gw = sbp__floats(mn);
        ly->gb = sbp__floats(n);
        ly->mw = sbp__floats(mn);
        ly->mb = sbp__floats(n);
        if (!ly->e || !ly->gw || !ly->gb || !ly->mw || !ly->mb) goto nomem;
        if (sbp__spmm_ws_init(&ly->ws, B, m, n) != 0) goto nomem;
        sbp__spread_from_rule(sbp__net_rule(net, l, SBP_RULE_SBP_SPREAD), SBP_SPREAD_ADDITIVE,
                              &ly->spread);
        ly->spread_on = hidden && ly->spread.enabled;
        if (!ly->spread_on) continue;
        size_t up = net->layers[l + 1].size, nk = n * up;
        sbp__rng mrng;
        sbp__rng_init(&mrng, net->seed, SALT_MASK + l);
        int failed;
        ly->mask = sbp__spread_mask(&mrng, mn, ly->spread.lambda_p, &failed);
        if (failed) goto nomem;
        int feedback = ly->spread.form == SBP_SPREAD_FEEDBACK;
        if (feedback || ly->spread.retro == SBP_RETRO_RANDOM) {
            /* additive random retro weights U(-1,1) as the spike engine;
             * the feedback matrix Kaiming-uniform, bound sqrt(6/fan_in)
             * with fan_in = its columns, as torch initialises an n x k
             * tensor */
            double bound = feedback ? sqrt(6.0 / (double)up) : 1.0;
            sbp__rng rr;
            sbp__rng_init(&rr, net->seed, SALT_RETRO + l);
            if (!(ly->R = sbp__floats(nk))) goto nomem;
            for (size_t i = 0; i < nk; i++)
                ly->R[i] = (float)((2.0 * sbp__rng_double(&rr) - 1.0) * bound);
        }
        if (feedback) {
            if (!(ly->sp = sbp__floats(n))) goto nomem;
        } else {
            if (!(ly->omega = sbp__floats(nk))) goto nomem;
            ly->omega_fixed =
                ly->spread.retro != SBP_RETRO_EFFICACY && ly->spread.retro != SBP_RETRO_SIGNED;
        }
    }

    /* Glorot-uniform weights (He-uniform into ReLU layers), biases 0; one
     * stream per projection so that a layer's weights do not depend on the
     * sizes of the others. */
    for (size_t l = 1; l < L; l++) {
        size_t rows = net->layers[l - 1].size, cols = net->layers[l].size;
        sbp__rng wr;
        sbp__rng_init(&wr, net->seed, SALT_WEIGHTS + l);
        double scale = st->layer[l].act == SBP_ACT_RELU ? sqrt(6.0 / (double)rows)
                                                        : sqrt(6.0 / (double)(rows + cols));
        for (size_t i = 0; i < rows * cols; i++)
            net->w[l][i] = (float)((2.0 * sbp__rng_double(&wr) - 1.0) * scale);
    }
    /* fixed retro weights need every mask drawn first */
    for (size_t l = 1; l + 1 < L; l++)
        if (st->layer[l].omega && st->layer[l].omega_fixed) compute_omega(net, st, l);
    return SBP_OK;
nomem:
    ann_destroy(net);
    return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory allocating the ann engine");
}

/* ---- forward ------------------------------------------------------------ */

static void activate(int act, float *z, size_t count)
{
    switch (act) {
    case SBP_ACT_SIGMOID:
        for (size_t i = 0; i < count; i++) z[i] = 1.0f / (1.0f + sbp__expf(-z[i]));
        break;
    case SBP_ACT_TANH:
        for (size_t i = 0; i < count; i++) z[i] = tanhf(z[i]);
        break;
    case SBP_ACT_RELU:
        for (size_t i = 0; i < count; i++) z[i] = sbp__relu(z[i]);
        break;
    case SBP_ACT_SCALED_SIGMOID:
        for (size_t i = 0; i < count; i++) z[i] = sbp__sigma2(z[i]);
        break;
    case SBP_ACT_CLIP01:
        for (size_t i = 0; i < count; i++) z[i] = z[i] < 0.0f ? 0.0f : (z[i] > 1.0f ? 1.0f : z[i]);
        break;
    default: /* linear */
        break;
    }
}

/* e *= f'(z), written with the activation a = f(z). Where the derivative
 * jumps (ReLU at 0, clip01 at 0 and 1) it is taken as 0. */
static void times_derivative(int act, const float *a, float *e, size_t count)
{
    switch (act) {
    case SBP_ACT_SIGMOID:
        for (size_t i = 0; i < count; i++) e[i] *= a[i] * (1.0f - a[i]);
        break;
    case SBP_ACT_TANH:
        for (size_t i = 0; i < count; i++) e[i] *= 1.0f - a[i] * a[i];
        break;
    case SBP_ACT_RELU:
        for (size_t i = 0; i < count; i++) e[i] = a[i] > 0.0f ? e[i] : 0.0f;
        break;
    case SBP_ACT_SCALED_SIGMOID:
        for (size_t i = 0; i < count; i++) e[i] *= 0.5f * (1.0f - a[i] * a[i]);
        break;
    case SBP_ACT_CLIP01:
        for (size_t i = 0; i < count; i++) e[i] = a[i] > 0.0f && a[i] < 1.0f ? e[i] : 0.0f;
        break;
    default:
        break;
    }
}

static void softmax_rows(float *z, size_t c, size_t k)
{
    for (size_t q = 0; q < c; q++) {
        float *row = z + q * k;
        float mx = row[0];
        for (size_t j = 1; j < k; j++) mx = row[j] > mx ? row[j] : mx;
        float sum = 0.0f;
        for (size_t j = 0; j < k; j++) {
            row[j] = sbp__expf(row[j] - mx);
            sum += row[j];
        }
        for (size_t j = 0; j < k; j++) row[j] /= sum;
    }
}

enum { ROWS_PER_TASK = 16 }; /* rows of a batch per task of an elementwise pass */

typedef struct bias_act_job {
    float *z;
    const float *b;
    size_t n, c;
    int act; /* -1: softmax */
} bias_act_job;

/* z = f(z + b) on rows [q0, q1): each row computed the same way on any
 * thread. */
static void bias_act_rows(void *ctx, size_t task)
{
    const bias_act_job *j = ctx;
    size_t q0 = task * ROWS_PER_TASK, q1 = sbp__task_end(task, ROWS_PER_TASK, j->c);
    float *z = j->z + q0 * j->n;
    for (size_t q = q0; q < q1; q++, z += j->n)
        for (size_t k = 0; k < j->n; k++) z[k] += j->b[k];
    z = j->z + q0 * j->n;
    if (j->act < 0)
        softmax_rows(z, q1 - q0, j->n);
    else
        activate(j->act, z, (q1 - q0) * j->n);
}

/* a_l = f(a_{l-1} W_l + b_l) for rows 0..c-1 (the input batch is in
 * layer[0].a). */
static void forward(const sbp_net *net, ann_state *st, size_t c)
{
    size_t L = st->L;
    for (size_t l = 1; l < L; l++) {
        const an_layer *pre = &st->layer[l - 1];
        an_layer *ly = &st->layer[l];
        size_t n = ly->n;
        sbp__spmm(st->pool, &ly->ws, c, n, pre->n, 1.0f, pre->a, pre->n, net->w[l], n, 0.0f,
                  ly->a, n);
        int act = l + 1 < L ? ly->act : st->loss == SBP_LOSS_SOFTMAX_XENT ? -1 : st->out_act;
        bias_act_job job = {ly->a, net->b[l], n, c, act};
        sbp__pool_run(st->pool, bias_act_rows, &job, (c + ROWS_PER_TASK - 1) / ROWS_PER_TASK);
    }
}

/* Class = the largest output (ties: the lower index). */
static void argmax_rows(const float *s, size_t c, size_t n, int32_t *out)
{
    for (size_t q = 0; q < c; q++) {
        const float *row = s + q * n;
        size_t best = 0;
        for (size_t j = 1; j < n; j++)
            if (row[j] > row[best]) best = j;
        out[q] = (int32_t)best;
    }
}

/* ---- gradients ---------------------------------------------------------- */

/* Output error dL/dz for rows 0..c-1 against the targets st->y:
 * softmax_xent p * sum(t) - t (p - t for a one-hot target); mse (y - t) f'. */
static void output_error(ann_state *st, size_t c)
{
    an_layer *out = &st->layer[st->L - 1];
    size_t k = out->n;
    const float *y = st->y;
    if (st->loss == SBP_LOSS_SOFTMAX_XENT) {
        for (size_t q = 0; q < c; q++) {
            float ts = 0.0f;
            for (size_t j = 0; j < k; j++) ts += y[q * k + j];
            for (size_t j = 0; j < k; j++)
                out->e[q * k + j] = out->a[q * k + j] * ts - y[q * k + j];
        }
        return;
    }
    for (size_t i = 0; i < c * k; i++) out->e[i] = out->a[i] - y[i];
    times_derivative(st->out_act, out->a, out->e, c * k);
}

/* G_l = a_{l-1}^T E_l / c and g_b = column sums of E_l / c; the mask of an
 * SBP layer applied to G. */
static void projection_gradient(ann_state *st, size_t l, size_t c, int masked)
{
    const an_layer *pre = &st->layer[l - 1];
    an_layer *ly = &st->layer[l];
    size_t m = pre->n, n = ly->n;
    float inv = 1.0f / (float)c;
    /* pre->a is the forward pass's left factor, unchanged since */
    sbp__spmm_at_same(st->pool, &ly->ws, m, n, c, inv, pre->a, ly->e, 0.0f, ly->gw);
    if (masked && ly->mask)
        for (size_t i = 0; i < m * n; i++) ly->gw[i] = ly->mask[i] ? ly->gw[i] : 0.0f;
    float *gb = ly->gb;
    memcpy(gb, ly->e, n * sizeof *gb);
    for (size_t q = 1; q < c; q++)
        for (size_t j = 0; j < n; j++) gb[j] += ly->e[q * n + j];
    for (size_t j = 0; j < n; j++) gb[j] *= inv;
}

/* The SBP replacement of hidden layer l's error signal, from the layer
 * above (model.md 2a, written per batch). The per-sample change of the
 * projection above is a_l,s (x) E_{l+1},s (.) M_{l+1} (c times the batch's
 * pseudo-gradient share of sample s). Additive form:
 *   S_s,j = sum_q omega_jq a_s,j E_{l+1},s,q M_{l+1},jq
 *         = a_s,j (E_{l+1} (omega (.) M_{l+1})^T)_s,j
 *   E_l = lambda_f S
 * Feedback form (the authors' spiking-MLP variant):
 *   sp_j = lambda_f sum_q |G_{l+1},jq| / (n_l n_{l+1})
 *   E_l,s,j = sp_j (E_{l+1} R^T)_s,j
 * Returns 0 (no signal) when the spread is off or nothing reached the
 * layer above. */
static int sbp_signal(const sbp_net *net, ann_state *st, size_t l, size_t c)
{
    an_layer *ly = &st->layer[l];
    const an_layer *up = &st->layer[l + 1];
    if (!ly->spread_on || !up->updated) return 0;
    size_t n = ly->n, k = up->n;
    float lf = (float)ly->spread.lambda_f;
    if (ly->spread.form == SBP_SPREAD_FEEDBACK) {
        float scale = lf / ((float)n * (float)k);
        for (size_t j = 0; j < n; j++) {
            float acc = 0.0f;
            for (size_t q = 0; q < k; q++) acc += fabsf(up->gw[j * k + q]);
            ly->sp[j] = scale * acc;
        }
        sbp__sgemm_rested(st->pool, 0, 1, c, n, k, 1.0f, up->e, k, ly->R, k, 0.0f, ly->e, n);
        for (size_t q = 0; q < c; q++)
            for (size_t j = 0; j < n; j++) ly->e[q * n + j] *= ly->sp[j];
        return 1;
    }
    if (!ly->omega_fixed) compute_omega(net, st, l);
    sbp__sgemm_rested(st->pool, 0, 1, c, n, k, 1.0f, up->e, k, ly->omega, k, 0.0f, ly->e, n);
    for (size_t i = 0; i < c * n; i++) ly->e[i] *= lf * ly->a[i];
    return 1;
}

/* Top-down error signals and (pseudo-)gradients of a batch of c samples
 * whose forward pass is done. use_bp: the hidden layers get their true
 * gradient. Sets layer->updated for the projections the batch changes. */
static void gradients(const sbp_net *net, ann_state *st, size_t c, int use_bp)
{
    size_t L = st->L;
    output_error(st, c);
    st->layer[L - 1].updated = 1;
    projection_gradient(st, L - 1, c, 0);
    for (size_t l = L - 2; l >= 1; l--) {
        an_layer *ly = &st->layer[l];
        const an_layer *up = &st->layer[l + 1];
        if (use_bp) {
            sbp__sgemm_rested(st->pool, 0, 1, c, ly->n, up->n, 1.0f, up->e, up->n, net->w[l + 1],
                              up->n, 0.0f, ly->e, ly->n);
            times_derivative(ly->act, ly->a, ly->e, c * ly->n);
            ly->updated = 1;
        } else {
            ly->updated = sbp_signal(net, st, l, c);
        }
        if (ly->updated) projection_gradient(st, l, c, !use_bp);
        if (l == 1) break;
    }
}

/* Elementwise passes over a projection's parameters run on the pool in
 * chunks of this many entries; each entry is computed the same way on any
 * thread, so the pool's size changes no bit. */
enum { PARAM_CHUNK = 16384 };

static size_t n_chunks(size_t count)
{
    return (count + PARAM_CHUNK - 1) / PARAM_CHUNK;
}

typedef struct finite_job {
    const float *x;
    size_t count;
    atomic_int bad;
} finite_job;

static void finite_chunk(void *ctx, size_t task)
{
    finite_job *j = ctx;
    size_t i0 = task * PARAM_CHUNK, i1 = sbp__task_end(task, PARAM_CHUNK, j->count);
    /* x - x is 0 for finite x and NaN otherwise; an integer OR keeps the
     * loop vectorizable */
    int bad = 0;
    for (size_t i = i0; i < i1; i++) bad |= (j->x[i] - j->x[i]) != 0.0f;
    if (bad) atomic_store_explicit(&j->bad, 1, memory_order_relaxed);
}

static int all_finite(sbp__pool *pool, const float *x, size_t count)
{
    finite_job job = {x, count, 0};
    sbp__pool_run(pool, finite_chunk, &job, n_chunks(count));
    return !atomic_load_explicit(&job.bad, memory_order_relaxed);
}

/* Index of the first projection with a non-finite gradient, 0 if none. */
static size_t nonfinite_gradient(const ann_state *st)
{
    for (size_t l = 1; l < st->L; l++) {
        const an_layer *ly = &st->layer[l];
        if (!ly->updated) continue;
        size_t count = st->layer[l - 1].n * ly->n;
        if (!all_finite(st->pool, ly->gw, count) || !all_finite(NULL, ly->gb, ly->n)) return l;
    }
    return 0;
}

/* ---- optimizers --------------------------------------------------------- */

typedef struct step_job {
    int adam;
    float rate, mu, b1, b2, c1, c2, eps;
    size_t count;
    float *p, *m, *v;
    const float *g;
} step_job;

static void step_chunk(void *ctx, size_t task)
{
    const step_job *j = ctx;
    size_t i0 = task * PARAM_CHUNK, i1 = sbp__task_end(task, PARAM_CHUNK, j->count);
    float *restrict p = j->p, *restrict m = j->m, *restrict v = j->v;
    const float *restrict g = j->g;
    if (j->adam) {
        const float b1 = j->b1, b2 = j->b2, c1 = j->c1, c2 = j->c2, eps = j->eps;
        for (size_t i = i0; i < i1; i++) {
            float gi = g[i];
            float mi = b1 * m[i] + (1.0f - b1) * gi;
            float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] -= c1 * mi / (sqrtf(vi) * c2 + eps);
        }
        return;
    }
    const float mu = j->mu, rate = j->rate;
    for (size_t i = i0; i < i1; i++) {
        float mi = mu * m[i] + g[i];
        m[i] = mi;
        p[i] -= rate * mi;
    }
}

/* One optimizer step of `count` parameters p with gradient g. SGD (as
 * torch.optim.SGD): m = mu m + g; p -= rate m. Adam (as torch.optim.Adam):
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= rate/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps). */
static void step(const ann_state *st, float rate, size_t count, float *p, const float *g,
                 float *m, float *v, uint64_t *t)
{
    step_job job = {0, rate, st->momentum, 0, 0, 0, 0, 0, count, p, m, v, g};
    if (st->optimizer == SBP_OPT_ADAM) {
        ++*t;
        double tt = (double)*t;
        job.adam = 1;
        job.b1 = st->beta1;
        job.b2 = st->beta2;
        job.c1 = (float)((double)rate / (1.0 - pow((double)st->beta1, tt)));
        job.c2 = (float)(1.0 / sqrt(1.0 - pow((double)st->beta2, tt)));
        job.eps = (float)ADAM_EPS;
    }
    sbp__pool_run(st->pool, step_chunk, &job, n_chunks(count));
}

/* Hidden biases move only in BP batches: in SBP batches they get no
 * gradient and are left alone, as in the authors' code. */
static void apply_updates(sbp_net *net, ann_state *st, int use_bp)
{
    size_t L = st->L;
    for (size_t l = 1; l < L; l++) {
        an_layer *ly = &st->layer[l];
        if (!ly->updated) continue;
        size_t count = st->layer[l - 1].n * ly->n;
        step(st, ly->rate, count, net->w[l], ly->gw, ly->mw, ly->vw, &ly->tw);
        if (use_bp || l + 1 == L)
            step(st, ly->rate, ly->n, net->b[l], ly->gb, ly->mb, ly->vb, &ly->tb);
    }
}

/* ---- engine entry points ------------------------------------------------ */

int sbp__ann_schedule_bp(double r, uint64_t every, uint64_t b)
{
    if (isnan(r)) return every <= 1 || (b + 1) % every == 0;
    double q = 1.0 - r;
    return floor((double)(b + 1) * q + SCHEDULE_TOL) > floor((double)b * q + SCHEDULE_TOL);
}

static int batch_uses_bp(const ann_state *st, uint64_t b)
{
    if (st->mode == SBP_HIDDEN_BP) return 1;
    if (st->mode == SBP_HIDDEN_SBP) return 0;
    return sbp__ann_schedule_bp(st->replace, st->every, b);
}

static sbp_status ann_train_epoch(sbp_net *net, const sbp_dataset *train, double *train_error)
{
    ann_state *st = net->state;
    SBP_TRY(load_constants(net, st));
    SBP_TRY(prepare_optimizer(net, st));
    size_t n = sbp_dataset_count(train), B = st->B, L = st->L, wrong = 0;
    an_layer *out = &st->layer[L - 1];
    for (size_t start = 0; start < n; start += B) {
        size_t c = n - start < B ? n - start : B;
        sbp_status s = sbp_dataset_batch(train, start, c, st->layer[0].a, st->y, st->labels);
        if (s != SBP_OK) return sbp__fail(net->errmsg, s, "%s", sbp_dataset_errmsg(train));
        forward(net, st, c);
        argmax_rows(out->a, c, out->n, st->pred);
        for (size_t q = 0; q < c; q++) wrong += st->pred[q] != st->labels[q];
        int use_bp = batch_uses_bp(st, st->batches);
        gradients(net, st, c, use_bp);
        size_t bad = nonfinite_gradient(st);
        SBP_RETURN_IF(bad, net->errmsg, SBP_E_NUMERIC,
                      "training diverged: the gradient of the weights into layer %zu is not "
                      "finite at samples %zu..%zu (weights kept as before that batch); lower "
                      "layer.learning_rate or check the data", bad, start, start + c - 1);
        apply_updates(net, st, use_bp);
        st->batches++;
        st->bp_batches += (uint64_t)(use_bp && L > 2);
        SBP_TRY(sbp__net_progress(net, start + c, n));
    }
    *train_error = (double)wrong / (double)n;
    return SBP_OK;
}

/* Forward passes in chunks of the batch size; no training state is read
 * or written besides the weights, so `resume` changes nothing. */
static sbp_status ann_predict(sbp_net *net, size_t n, const float *x, int32_t *labels,
                              float *outputs, int resume)
{
    (void)resume;
    ann_state *st = net->state;
    SBP_TRY(load_constants(net, st));
    size_t B = st->B, d = st->layer[0].n;
    const an_layer *out = &st->layer[st->L - 1];
    for (size_t start = 0; start < n; start += B) {
        size_t c = n - start < B ? n - start : B;
        memcpy(st->layer[0].a, x + start * d, c * d * sizeof *x);
        forward(net, st, c);
        argmax_rows(out->a, c, out->n, labels + start);
        if (outputs) memcpy(outputs + start * out->n, out->a, c * out->n * sizeof(float));
    }
    return SBP_OK;
}

/* ---- test hooks (lib/ann.h) --------------------------------------------- */

static ann_state *ann_state_of(const sbp_net *net)
{
    if (!net || net->tag != SBP__TAG_NET || net->ops != &sbp__ann_ops || !net->built)
        return NULL;
    return net->state;
}

static sbp_status hook_batch(sbp_net *net, size_t n, const float *x, const float *t,
                             ann_state **out)
{
    ann_state *st = ann_state_of(net);
    if (!st) return SBP_E_STATE;
    SBP_RETURN_IF(!x || !t, net->errmsg, SBP_E_INVALID, "NULL buffer");
    SBP_RETURN_IF(n == 0 || n > st->B, net->errmsg, SBP_E_RANGE,
                  "%zu samples; 1..%zu (the batch size) allowed", n, st->B);
    SBP_TRY(load_constants(net, st));
    memcpy(st->layer[0].a, x, n * st->layer[0].n * sizeof *x);
    memcpy(st->y, t, n * st->layer[st->L - 1].n * sizeof *t);
    forward(net, st, n);
    *out = st;
    return SBP_OK;
}

sbp_status sbp__ann_gradient(sbp_net *net, sbp_hidden_mode mode, size_t n, const float *x,
                             const float *t, float **gw, float **gb)
{
    ann_state *st;
    SBP_TRY(hook_batch(net, n, x, t, &st));
    int use_bp = mode == SBP_HIDDEN_BP;
    gradients(net, st, n, use_bp);
    for (size_t l = 1; l < st->L; l++) {
        const an_layer *ly = &st->layer[l];
        size_t count = st->layer[l - 1].n * ly->n;
        int bias = ly->updated && (use_bp || l + 1 == st->L);
        if (gw && gw[l]) {
            if (ly->updated)
                memcpy(gw[l], ly->gw, count * sizeof(float));
            else
                memset(gw[l], 0, count * sizeof(float));
        }
        if (gb && gb[l]) {
            if (bias)
                memcpy(gb[l], ly->gb, ly->n * sizeof(float));
            else
                memset(gb[l], 0, ly->n * sizeof(float));
        }
    }
    return SBP_OK;
}

sbp_status sbp__ann_loss(sbp_net *net, size_t n, const float *x, const float *t, double *loss)
{
    ann_state *st;
    SBP_TRY(hook_batch(net, n, x, t, &st));
    const an_layer *out = &st->layer[st->L - 1];
    size_t k = out->n;
    double sum = 0.0;
    for (size_t i = 0; i < n * k; i++) {
        double y = out->a[i], tv = t[i];
        if (st->loss == SBP_LOSS_SOFTMAX_XENT)
            sum -= tv != 0.0 ? tv * log(y) : 0.0;
        else
            sum += 0.5 * (y - tv) * (y - tv);
    }
    *loss = sum / (double)n;
    return SBP_OK;
}

uint64_t sbp__ann_batches(const sbp_net *net, uint64_t *bp_batches)
{
    const ann_state *st = ann_state_of(net);
    if (bp_batches) *bp_batches = st ? st->bp_batches : 0;
    return st ? st->batches : 0;
}

/* ---- model files (lib/io.c) ------------------------------------------- */

/* The state carried across batches: which optimizer the moments belong to,
 * the batch counters (the mixed schedule) and, per projection, the step
 * counts and moments (Adam's second moments only once allocated). Masks,
 * retro and feedback matrices come back from the seed through init. */
static sbp_status ann_save_state(const sbp_net *net, sbp__writer *w)
{
    const ann_state *st = net->state;
    sbp__put_u32(w, (uint32_t)st->opt_kind);
    sbp__put_u64(w, st->batches);
    sbp__put_u64(w, st->bp_batches);
    sbp__put_u64(w, st->L);
    for (size_t l = 1; l < st->L; l++) {
        const an_layer *ly = &st->layer[l];
        size_t count = st->layer[l - 1].n * ly->n;
        sbp__put_u64(w, ly->tw);
        sbp__put_u64(w, ly->tb);
        sbp__put_floats(w, ly->mw, count);
        sbp__put_floats(w, ly->mb, ly->n);
        sbp__put_u8(w, ly->vw ? 1 : 0);
        if (ly->vw) {
            sbp__put_floats(w, ly->vw, count);
            sbp__put_floats(w, ly->vb, ly->n);
        }
    }
    return SBP_OK;
}

static sbp_status ann_load_state(sbp_net *net, sbp__reader *r)
{
    ann_state *st = net->state;
    size_t at = r->pos;
    uint32_t opt;
    SBP_TRY(sbp__get_u32(r, &opt, "the optimizer of the moments"));
    if (opt != 0 && opt != SBP_OPT_SGD && opt != SBP_OPT_ADAM)
        return sbp__reader_fail(r, SBP_E_FORMAT, at, 0, opt, "unknown optimizer %u",
                                (unsigned)opt);
    st->opt_kind = (int)opt;
    SBP_TRY(sbp__get_u64(r, &st->batches, "the batch counter"));
    SBP_TRY(sbp__get_u64(r, &st->bp_batches, "the BP batch counter"));
    SBP_TRY(sbp__get_count(r, st->L, "the ann state's layer count"));
    for (size_t l = 1; l < st->L; l++) {
        an_layer *ly = &st->layer[l];
        size_t count = st->layer[l - 1].n * ly->n;
        SBP_TRY(sbp__get_u64(r, &ly->tw, "a step count"));
        SBP_TRY(sbp__get_u64(r, &ly->tb, "a step count"));
        SBP_TRY(sbp__get_floats(r, ly->mw, count, "the first moments of layer %zu", l));
        SBP_TRY(sbp__get_floats(r, ly->mb, ly->n, "the bias moments of layer %zu", l));
        int has_v;
        at = r->pos;
        SBP_TRY(sbp__get_flag(r, &has_v, "the second-moment flag"));
        if (!has_v) continue;
        if (!ly->vw) {
            ly->vw = sbp__floats(count);
            ly->vb = sbp__floats(ly->n);
            if (!ly->vw || !ly->vb)
                return sbp__reader_fail(r, SBP_E_NOMEM, at, 0, 0,
                                        "out of memory allocating the Adam state of layer %zu",
                                        l);
        }
        SBP_TRY(sbp__get_floats(r, ly->vw, count, "the second moments of layer %zu", l));
        SBP_TRY(sbp__get_floats(r, ly->vb, ly->n, "the bias second moments of layer %zu", l));
    }
    return SBP_OK;
}

const sbp__engine_ops sbp__ann_ops = {
    .id = SBP_ENGINE_ANN,
    .name = "ann",
    .accepts_rule = ann_accepts,
    .defaults = ann_defaults,
    .init = ann_init,
    .destroy = ann_destroy,
    .train_epoch = ann_train_epoch,
    .predict = ann_predict,
    .save_state = ann_save_state,
    .load_state = ann_load_state,
};
