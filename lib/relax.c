/* The relax engine: the SNN of the paper's released code (model.md section 4).
 *
 * Per mini-batch: 100 LIF steps mixed with the saved homeostatic state, a
 * free relaxation (s0, saved as the new homeostatic state), a nudged
 * relaxation (s_beta), then bias and weight updates with the chosen base
 * rule and, where a spread rule is attached and enabled, the multiplicative
 * SBP operator. V, g and h persist across batches and epochs like in the
 * authors' code; evaluation runs on a copy so that it never disturbs
 * training.
 *
 * Differences from the authors' MATLAB that do not change the mathematics:
 * the input product s0 W0 is computed once per batch (the input is clamped
 * and W0 fixed within a batch); base changes are written as products of
 * state differences, e.g. pre'(post_b - post_0), which is the same value
 * with less float cancellation. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "gemm.h"
#include "io.h"
#include "net.h"
#include "pool.h"
#include "kernels.h"
#include "rules/spread.h"
#include "vmath.h"

typedef struct rl_layer {
    size_t n;
    /* persistent training state, B x n */
    float *V, *g, *h;
    /* evaluation copies of the persistent state */
    float *eV, *eg, *eh;
    /* per-batch work, B x n */
    float *s;   /* current state */
    float *s0;  /* free-phase result */
    float *in;  /* s_{l-1} W_{l-1} (+ b) */
    float *fb;  /* s_{l+1} W_l^T */
    float *drive;
    float *wt;  /* W_{l-1} transposed (l >= 2), refreshed per batch */
    /* projection into this layer */
    float alpha;
    float *dw;  /* base change (only when some projection has the operator) */
    sbp__spread spread;
    sbp__spread_sums sums;
    unsigned char *mask;
    /* short-term plasticity of the drive (stp = 0: none) */
    int stp;
    float stp_U, stp_tf, stp_td, stp_ts;
} rl_layer;

typedef struct relax_state {
    size_t B, L;
    rl_layer *layer;  /* [L]; layer[0] is the input (only n used) */
    float *x;         /* B x n0 */
    /* the batch's active inputs (some sample non-zero): a row of the input
     * projection's base change is zero unless its input is active */
    size_t *in_rows;  /* n0: the active inputs, ascending */
    size_t n_in_rows;
    float *xa;        /* B x n_in_rows: x restricted to them */
    float *y;         /* B x k */
    int32_t *labels;  /* B */
    /* constants */
    int base_rule, free_iters, nudge_iters, naive;
    int any_spread;   /* some projection has an enabled spread operator */
    sbp__pool *pool;  /* workers for the row-parallel loops */
    const sbp__kernels *kern;
    sbp__lif_consts lif;
    float eps, beta;
    int steps;
} relax_state;

static int relax_accepts(sbp_rule_kind kind, size_t layer_index, size_t n_layers)
{
    (void)layer_index;
    (void)n_layers;
    return kind == SBP_RULE_SBP_SPREAD || kind == SBP_RULE_STP;
}

/* The authors' multilayer learning rates (main_snn_server_multilayers.m). */
static double default_rate(size_t proj, size_t n_proj)
{
    if (n_proj == 2) return proj == 1 ? 0.1 : 0.05;
    if (proj == n_proj) return 0.01;
    return proj == 1 ? 0.4 : 0.1;
}

/* The model fixes its activations: sigma2 for hidden layers, ReLU for the
 * output in the relaxation. */
static void relax_defaults(sbp_net *net)
{
    if (isnan(sbp__pv(net->params, SBP_NET_OUTPUT_ACTIVATION)))
        net->params[sbp__param_slot(SBP_NET_OUTPUT_ACTIVATION)] = SBP_ACT_RELU;
}

static sbp_status check_activations(sbp_net *net)
{
    for (size_t l = 0; l < net->n_layers; l++)
        SBP_RETURN_IF(sbp__layer_param(net, l, SBP_LAYER_CONNECTIVITY) < 1.0, net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the relax engine has dense projections only; layer.connectivity < 1 "
                      "(layer %zu) is the spike engine's", l);
    double out = sbp__net_param(net, SBP_NET_OUTPUT_ACTIVATION);
    SBP_RETURN_IF(out != SBP_ACT_RELU, net->errmsg, SBP_E_UNSUPPORTED,
                  "the relax engine's output activation is ReLU (net.output_activation)");
    for (size_t l = 1; l + 1 < net->n_layers; l++) {
        double a = sbp__layer_param(net, l, SBP_LAYER_ACTIVATION);
        SBP_RETURN_IF(!isnan(a) && a != SBP_ACT_SCALED_SIGMOID, net->errmsg, SBP_E_UNSUPPORTED,
                      "the relax engine's hidden activation is the scaled sigmoid "
                      "(layer %zu has another layer.activation)", l);
    }
    return SBP_OK;
}

static void free_layer(rl_layer *r)
{
    float **bufs[] = {&r->V,  &r->g,  &r->h,     &r->eV, &r->eg, &r->eh, &r->s,
                      &r->s0, &r->in, &r->drive, &r->fb, &r->dw, &r->wt};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        sbp__free(*bufs[i]);
        *bufs[i] = NULL;
    }
    sbp__spread_sums_free(&r->sums);
    sbp__free(r->mask);
}

static void relax_destroy(sbp_net *net)
{
    relax_state *st = net->state;
    if (!st) return;
    if (st->layer)
        for (size_t l = 0; l < st->L; l++) free_layer(&st->layer[l]);
    sbp__free(st->layer);
    sbp__free(st->x);
    sbp__free(st->in_rows);
    sbp__free(st->xa);
    sbp__free(st->y);
    sbp__free(st->labels);
    sbp__pool_free(st->pool);
    sbp__free(st);
    net->state = NULL;
}

/* Network parameters are read at every call, so that changing one between
 * epochs takes effect (the batch size, which shapes the buffers, is fixed
 * at build time by net.c). */
static sbp_status load_constants(sbp_net *net, relax_state *st)
{
    st->base_rule = (int)sbp__net_param(net, SBP_RELAX_BASE_RULE);
    st->free_iters = (int)sbp__net_param(net, SBP_RELAX_FREE_ITERS);
    st->nudge_iters = (int)sbp__net_param(net, SBP_RELAX_NUDGE_ITERS);
    st->naive = sbp__net_param(net, SBP_RELAX_NAIVE) != 0.0;
    st->eps = (float)sbp__net_param(net, SBP_RELAX_EPSILON);
    st->beta = (float)sbp__net_param(net, SBP_RELAX_BETA);
    double dt = sbp__net_param(net, SBP_RELAX_DT);
    double steps = round(sbp__net_param(net, SBP_RELAX_T) / dt);
    SBP_RETURN_IF(steps > 1e7, net->errmsg, SBP_E_RANGE,
                  "relax.T / relax.dt gives %.0f LIF steps per batch; at most 1e7", steps);
    st->steps = (int)steps;
    st->lif.ks = (float)(dt / sbp__net_param(net, SBP_RELAX_TAU_S));
    st->lif.km = (float)(dt / sbp__net_param(net, SBP_RELAX_TAU_M));
    st->lif.gl = (float)sbp__net_param(net, SBP_RELAX_G_LEAK);
    st->lif.igl = 1.0f / st->lif.gl;
    st->lif.vl = (float)sbp__net_param(net, SBP_RELAX_V_LEAK);
    st->lif.ve = (float)sbp__net_param(net, SBP_RELAX_V_E);
    st->lif.vth = (float)sbp__net_param(net, SBP_RELAX_V_TH);
    st->lif.vr = (float)sbp__net_param(net, SBP_RELAX_V_RESET);
    st->kern = sbp__kernels_for_cpu();
    return sbp__net_pool(net, &st->pool, NULL);
}

static sbp_status relax_init(sbp_net *net)
{
    SBP_TRY(check_activations(net));
    relax_state *st = sbp__calloc(1, sizeof *st);
    if (!st) return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory");
    net->state = st;
    size_t L = net->n_layers;
    size_t B = (size_t)sbp__net_param(net, SBP_NET_BATCH_SIZE);
    st->B = B;
    st->L = L;
    sbp_status cs = load_constants(net, st);
    if (cs != SBP_OK) {
        relax_destroy(net);
        return cs;
    }

    st->layer = sbp__calloc(L, sizeof *st->layer);
    st->x = sbp__floats(B * net->layers[0].size);
    st->in_rows = sbp__calloc(net->layers[0].size, sizeof *st->in_rows);
    st->xa = sbp__floats(B * net->layers[0].size);
    st->y = sbp__floats(B * net->layers[L - 1].size);
    st->labels = sbp__calloc(B, sizeof *st->labels);
    if (!st->layer || !st->x || !st->in_rows || !st->xa || !st->y || !st->labels) goto nomem;

    for (size_t l = 0; l < L; l++) {
        rl_layer *r = &st->layer[l];
        r->n = net->layers[l].size;
        if (l == 0) continue;
        size_t bn = B * r->n, prev = net->layers[l - 1].size;
        r->V = sbp__floats(bn);
        r->g = sbp__floats(bn);
        r->h = sbp__floats(bn);
        r->eV = sbp__floats(bn);
        r->eg = sbp__floats(bn);
        r->eh = sbp__floats(bn);
        r->s = sbp__floats(bn);
        r->s0 = sbp__floats(bn);
        r->in = sbp__floats(bn);
        r->fb = sbp__floats(bn);
        r->drive = sbp__floats(bn);
        r->wt = sbp__floats(prev * r->n);
        if (!r->wt || !r->V || !r->g || !r->h || !r->eV || !r->eg || !r->eh || !r->s || !r->s0 || !r->in ||
            !r->fb || !r->drive)
            goto nomem;
        double rate = sbp__layer_param(net, l, SBP_LAYER_LEARNING_RATE);
        r->alpha = (float)(isnan(rate) ? default_rate(l, L - 1) : rate);
        sbp__spread_from_rule(sbp__net_rule(net, l, SBP_RULE_SBP_SPREAD),
                              SBP_SPREAD_MULTIPLICATIVE, &r->spread);
        if (r->spread.enabled && r->spread.form != SBP_SPREAD_MULTIPLICATIVE) {
            relax_destroy(net);
            return sbp__fail(net->errmsg, SBP_E_UNSUPPORTED,
                             "the relax engine uses the multiplicative spread form (layer %zu)", l);
        }
        if (r->spread.enabled) {
            sbp__rng mrng;
            sbp__rng_init(&mrng, net->seed, 0x4D41534Bull + l); /* "MASK" */
            int failed;
            r->mask = sbp__spread_mask(&mrng, prev * r->n, r->spread.lambda_p, &failed);
            if (failed) goto nomem;
        }
        const sbp_rule *stp = sbp__net_rule(net, l, SBP_RULE_STP);
        if (stp) {
            r->stp = 1;
            r->stp_U = (float)sbp__pv(stp->params, SBP_STP_U);
            r->stp_tf = (float)sbp__pv(stp->params, SBP_STP_TAU_F);
            r->stp_td = (float)sbp__pv(stp->params, SBP_STP_TAU_D);
            r->stp_ts = (float)sbp__pv(stp->params, SBP_STP_TAU_S);
        }
    }

    /* With the operator anywhere, every projection keeps its base change and
     * sums: a hidden projection's backward factors read the one above. */
    /* The input projection always has one: its change is built from the
     * active inputs' rows only. */
    for (size_t l = 1; l < L; l++) st->any_spread |= st->layer[l].spread.enabled;
    for (size_t l = 1; l < L; l++) {
        rl_layer *r = &st->layer[l];
        size_t prev = st->layer[l - 1].n;
        if (!st->any_spread && l > 1) continue;
        r->dw = sbp__floats(prev * r->n);
        if (!r->dw) goto nomem;
        if (st->any_spread && !sbp__spread_sums_alloc(&r->sums, prev, r->n)) goto nomem;
    }

    /* Glorot-uniform weights, biases 0, as the authors' code. One stream
     * per projection so that a layer's weights do not depend on the sizes
     * of the others. */
    for (size_t l = 1; l < L; l++) {
        size_t rows = net->layers[l - 1].size, cols = net->layers[l].size;
        sbp__rng wr;
        sbp__rng_init(&wr, net->seed, 0x57000000ull + l); /* "W" */
        double scale = sqrt(6.0 / (double)(rows + cols));
        for (size_t i = 0; i < rows * cols; i++)
            net->w[l][i] = (float)((2.0 * sbp__rng_double(&wr) - 1.0) * scale);
    }
    return SBP_OK;
nomem:
    relax_destroy(net);
    return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory allocating the relax engine");
}

/* ---- the dynamics ------------------------------------------------------ */

/* Which copy of the persistent state a pass works on. */
typedef struct rl_view {
    float *V, *g, *h;
} rl_view;

static rl_view view_train(rl_layer *r)
{
    return (rl_view){r->V, r->g, r->h};
}

static rl_view view_eval(rl_layer *r)
{
    return (rl_view){r->eV, r->eg, r->eh};
}

/* in = s_{l-1} W_{l-1} for rows 0..c-1. */
static void forward_product(const sbp_net *net, const relax_state *st, size_t l, size_t c,
                            float *out)
{
    const float *pre = l == 1 ? st->x : st->layer[l - 1].s;
    size_t np = st->layer[l - 1].n, n = st->layer[l].n;
    sbp__sgemm(0, 0, c, n, np, 1.0f, pre, np, net->w[l], n, 0.0f, out, n);
}

/* One LIF step for elements [first, first+cnt) of layer l (model.md 4,
 * step 1). `drive` holds sigma(s_{l-1} W + b) on entry. */
static void lif_step(const relax_state *st, rl_layer *r, rl_view v, size_t first, size_t cnt,
                     float kappa, const float *drive)
{
    st->kern->lif(&st->lif, kappa, v.V + first, v.g + first, v.h + first, r->s + first,
                  drive + first, cnt);
}

/* Synaptic drive of a layer: sigma(in + b), passed through short-term
 * plasticity when the layer has it.
 *
 * STP as the authors' code runs it (snn_lif.m): u, x and I_s are locals
 * that restart from u = 0.1, x = 1, I_s = 0.1 at every step and are never
 * stored, so STP is a fixed function of the drive, one Euler step of one
 * time unit. (Keeping u, x, I_s across steps, as the equations alone
 * suggest, is unstable: u grows by 0.9 - U*I > 1 per step when I < -2/9.) */
static void make_drive(const relax_state *st, const rl_layer *r, float *out, const float *in,
                       const float *b, size_t c)
{
    size_t n = r->n;
    st->kern->bias_sigma(out, in, b, c, n);
    if (!r->stp) return;
    const float U = r->stp_U, itf = 1.0f / r->stp_tf, itd = 1.0f / r->stp_td,
                its = 1.0f / r->stp_ts;
    const float u0 = 0.1f, x0 = 1.0f, i0 = 0.1f;
    for (size_t i = 0; i < c * n; i++) {
        float I = out[i];
        float u = u0 - u0 * itf + U * I * (1.0f - u0);
        float x = x0 + (1.0f - x0) * itd - u * x0 * I;
        out[i] = i0 - i0 * its + u * x * I;
    }
}

/* Row ranges for parallel loops: a multiple of the thread count, with at
 * most MAX_TASK_ROWS rows each so that a block's LIF state stays in cache
 * across the steps. Each row is computed the same way whatever range it
 * falls in, so the split never changes a result. */
#define MAX_TASK_ROWS 16

static size_t task_rows(const relax_state *st, size_t c, size_t *n_tasks)
{
    size_t t = sbp__pool_size(st->pool);
    size_t tasks = t * ((c + t * MAX_TASK_ROWS - 1) / (t * MAX_TASK_ROWS));
    size_t rows = (c + tasks - 1) / tasks;
    *n_tasks = (c + rows - 1) / rows;
    return rows;
}

typedef struct lif_job {
    const sbp_net *net;
    relax_state *st;
    int eval;
    size_t c, rows;
} lif_job;

/* All LIF steps of every non-input layer for one block of rows. Rows are
 * independent in this phase, so blocks can run on any thread. */
static void lif_block(void *ctx, size_t task)
{
    lif_job *job = ctx;
    const sbp_net *net = job->net;
    relax_state *st = job->st;
    size_t q0 = task * job->rows, rows = job->c - q0 < job->rows ? job->c - q0 : job->rows;
    for (int step = 1; step <= st->steps; step++) {
        float kappa = (float)step / (float)st->steps;
        for (size_t l = 1; l < st->L; l++) {
            rl_layer *r = &st->layer[l];
            size_t n = r->n, first = q0 * n;
            if (l > 1) {
                rl_layer *below = &st->layer[l - 1];
                st->kern->rows_times(below->s + q0 * below->n, rows, below->n, r->wt, n, r->in + first);
                make_drive(st, r, r->drive + first, r->in + first, net->b[l], rows);
            }
            lif_step(st, r, job->eval ? view_eval(r) : view_train(r), first, rows * n, kappa,
                     r->drive);
        }
    }
}

/* Step 1: LIF integration of all non-input layers. */
static void lif_phase(const sbp_net *net, relax_state *st, int eval, size_t c)
{
    size_t L = st->L;
    /* The input is clamped and W0, b1 are fixed within the batch: the first
     * hidden layer's drive is the same at every step. */
    rl_layer *r1 = &st->layer[1];
    forward_product(net, st, 1, c, r1->in);
    make_drive(st, r1, r1->drive, r1->in, net->b[1], c);
    if (!st->naive) {
        /* the upper layers' products read W transposed (contiguous dots) */
        for (size_t l = 2; l < L; l++) {
            size_t rows = st->layer[l - 1].n, cols = st->layer[l].n;
            const float *w = net->w[l];
            float *wt = st->layer[l].wt;
            for (size_t i = 0; i < rows; i++)
                for (size_t j = 0; j < cols; j++) wt[j * rows + i] = w[i * cols + j];
        }
        size_t n_tasks;
        lif_job job = {net, st, eval, c, 0};
        job.rows = task_rows(st, c, &n_tasks);
        sbp__pool_run(st->pool, lif_block, &job, n_tasks);
        return;
    }
    /* Naive: what the authors' code does, every product recomputed for the
     * whole batch at every step (for benchmarks). */
    for (int step = 1; step <= st->steps; step++) {
        float kappa = (float)step / (float)st->steps;
        for (size_t l = 1; l < L; l++) {
            rl_layer *r = &st->layer[l];
            forward_product(net, st, l, c, r->in);
            make_drive(st, r, r->drive, r->in, net->b[l], c);
            lif_step(st, r, eval ? view_eval(r) : view_train(r), 0, c * r->n, kappa, r->drive);
        }
    }
}

/* Elementwise part of a relaxation update for rows [q0, q1) of layer l. */
typedef struct sweep_job {
    const relax_state *st;
    size_t l, c, rows;
    const float *b;
    const float *y; /* teaching target for the output, or NULL */
} sweep_job;

static void sweep_rows(void *ctx, size_t task)
{
    const sweep_job *job = ctx;
    const relax_state *st = job->st;
    rl_layer *r = &st->layer[job->l];
    size_t n = r->n, q0 = task * job->rows;
    size_t q1 = q0 + job->rows < job->c ? q0 + job->rows : job->c;
    const float eps = st->eps, beta = st->beta;
    float *s = r->s;
    const float *in = r->in, *b = job->b;
    if (job->l + 1 < st->L) {
        st->kern->relax_hidden(s + q0 * n, in + q0 * n, r->fb + q0 * n, b, q1 - q0, n, eps);
        return;
    }
    const float *y = job->y;
    for (size_t q = q0; q < q1; q++)
        for (size_t j = 0; j < n; j++) {
            size_t i = q * n + j;
            float bracket = s[i] - in[i] - b[j];
            if (y) bracket += beta * (s[i] - y[i]);
            s[i] = sbp__relu(s[i] - eps * bracket);
        }
}

/* One relaxation sweep (hidden layers in order, then the output), with the
 * teaching term when y is not NULL (model.md 4, steps 2-3). Each layer
 * sees the layer below as updated in this sweep and the layer above from
 * the previous one (Gauss-Seidel, as the authors' code). */
static void relax_sweep(const sbp_net *net, relax_state *st, size_t c, const float *y)
{
    size_t L = st->L, n_tasks;
    sweep_job job = {st, 0, c, task_rows(st, c, &n_tasks), NULL, y};
    for (size_t l = 1; l < L; l++) {
        rl_layer *r = &st->layer[l];
        /* s_{l-1} W_{l-1}: constant for l = 1 (input clamped) */
        if (l > 1) forward_product(net, st, l, c, r->in);
        if (l + 1 < L) {
            rl_layer *up = &st->layer[l + 1];
            sbp__sgemm(0, 1, c, r->n, up->n, 1.0f, up->s, up->n, net->w[l + 1], up->n, 0.0f,
                       r->fb, r->n);
        }
        job.l = l;
        job.b = net->b[l];
        if (c * r->n < 4096) {
            /* too small to be worth waking the workers (the output layer) */
            sweep_job all = job;
            all.rows = c;
            sweep_rows(&all, 0);
        } else {
            sbp__pool_run(st->pool, sweep_rows, &job, n_tasks);
        }
    }
}

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

/* Base change of W_{l-1} (model.md 4, step 5) into dw (rows x cols),
 * scaled by `scale` (alpha/(beta B) when written straight into W, with
 * accumulate = 1). pre0/preb: B x rows; post0/postb: B x cols. */
static void base_change(int rule, size_t c, size_t rows, size_t cols, const float *pre0,
                        const float *preb, const float *post0, const float *postb,
                        float *post_diff, float *pre_diff, float scale, float *dw, int accumulate)
{
    float beta0 = accumulate ? 1.0f : 0.0f;
    for (size_t i = 0; i < c * cols; i++) post_diff[i] = postb[i] - post0[i];
    int pre_moves = pre0 != preb;
    if (pre_moves && rule != SBP_BASE_SBP)
        for (size_t i = 0; i < c * rows; i++) pre_diff[i] = preb[i] - pre0[i];
    switch (rule) {
    case SBP_BASE_SYMMETRIC:
        /* preb' postb - pre0' post0 = preb'(postb - post0) + (preb - pre0)' post0 */
        sbp__sgemm(1, 0, rows, cols, c, scale, preb, rows, post_diff, cols, beta0, dw, cols);
        if (pre_moves)
            sbp__sgemm(1, 0, rows, cols, c, scale, pre_diff, rows, post0, cols, 1.0f, dw, cols);
        break;
    case SBP_BASE_DIFFERENTIAL:
        /* (preb - pre0)' post0: zero for the clamped input */
        if (pre_moves)
            sbp__sgemm(1, 0, rows, cols, c, scale, pre_diff, rows, post0, cols, beta0, dw, cols);
        else if (!accumulate)
            memset(dw, 0, rows * cols * sizeof *dw);
        break;
    default: /* SBP_BASE_SBP: pre0' (postb - post0) */
        sbp__sgemm(1, 0, rows, cols, c, scale, pre0, rows, post_diff, cols, beta0, dw, cols);
        break;
    }
}

/* Finds the batch's active inputs and packs their columns of x into xa. */
static void gather_active_inputs(relax_state *st, size_t c)
{
    size_t n0 = st->layer[0].n, na = 0;
    for (size_t i = 0; i < n0; i++) {
        size_t q = 0;
        while (q < c && st->x[q * n0 + i] == 0.0f) q++;
        if (q < c) st->in_rows[na++] = i;
    }
    st->n_in_rows = na;
    if (na == n0) return; /* all active: update() takes the full path, xa unused */
    for (size_t q = 0; q < c; q++)
        for (size_t k = 0; k < na; k++) st->xa[q * na + k] = st->x[q * n0 + st->in_rows[k]];
}

/* The input projection's change when some inputs are inactive (model.md 4,
 * step 5 with the input clamped, so s^beta = s^0 = x below it). Only the rows
 * of the active inputs can be non-zero; they are computed (into r->dw,
 * n_in_rows x cols) and applied, the others are left alone. This is the
 * same update, with far less work for sparse inputs (NETtalk: 7 of 189). */
static void update_input_rows(sbp_net *net, relax_state *st, size_t c, float inv_bc)
{
    rl_layer *r = &st->layer[1];
    size_t cols = r->n, na = st->n_in_rows;
    const size_t *rows_of = st->in_rows;
    float *w = net->w[1], *dw = r->dw;
    int spread = st->any_spread && r->spread.enabled;
    float scale = st->any_spread ? inv_bc : r->alpha * inv_bc;
    /* the clamped input does not move: pre0 = preb = xa */
    base_change(st->base_rule, c, na, cols, st->xa, st->xa, r->s0, r->s, r->fb, NULL, scale, dw,
                0);
    if (st->any_spread)
        sbp__spread_mult_prepare_rows(&r->spread, spread, dw, rows_of, na, &r->sums, st->pool);
    if (spread) {
        int hidden = st->L > 2;
        if (hidden) sbp__spread_mult_backward(&r->spread, &st->layer[2].sums, &r->sums);
        sbp__spread_mult_apply_rows(&r->sums, hidden, dw, rows_of, na, r->mask, r->alpha, w,
                                    st->pool);
        return;
    }
    float a = st->any_spread ? r->alpha : 1.0f; /* else already in scale */
    for (size_t k = 0; k < na; k++) {
        float *wr = w + rows_of[k] * cols;
        const float *d = dw + k * cols;
        for (size_t j = 0; j < cols; j++) wr[j] += a * d[j];
    }
}

/* Steps 4-5: biases and weights from s0 (in layer->s0) and s_beta (in
 * layer->s). */
static void update(sbp_net *net, relax_state *st, size_t c)
{
    size_t L = st->L;
    const float beta = st->beta;
    const float inv_bc = 1.0f / (beta * (float)c);
    /* biases: b_l += alpha * mean((s_b - s_0)/beta) */
    for (size_t l = 1; l < L; l++) {
        rl_layer *r = &st->layer[l];
        for (size_t j = 0; j < r->n; j++) {
            float acc = 0.0f;
            for (size_t q = 0; q < c; q++) acc += r->s[q * r->n + j] - r->s0[q * r->n + j];
            net->b[l][j] += r->alpha * acc * inv_bc;
        }
    }
    /* weights, output first: the backward factors of a hidden projection
     * come from the projection above it */
    gather_active_inputs(st, c);
    for (size_t l = L - 1; l >= 1; l--) {
        rl_layer *r = &st->layer[l];
        size_t rows = st->layer[l - 1].n, cols = r->n;
        const float *pre0 = l == 1 ? st->x : st->layer[l - 1].s0;
        const float *preb = l == 1 ? st->x : st->layer[l - 1].s;
        /* scratch for the state differences: the feedback buffers are free
         * once the relaxation is over */
        float *post_diff = r->fb;
        float *pre_diff = l > 1 ? st->layer[l - 1].fb : NULL;
        if (l == 1 && st->n_in_rows < rows) {
            update_input_rows(net, st, c, inv_bc);
            continue;
        }
        if (!st->any_spread) {
            /* no operator anywhere: write the scaled change straight into W */
            base_change(st->base_rule, c, rows, cols, pre0, preb, r->s0, r->s, post_diff,
                        pre_diff, r->alpha * inv_bc, net->w[l], 1);
            continue;
        }
        base_change(st->base_rule, c, rows, cols, pre0, preb, r->s0, r->s, post_diff, pre_diff,
                    inv_bc, r->dw, 0);
        /* a projection without the operator still provides (unscaled) sums
         * for the backward factors of the one below it */
        sbp__spread_mult_prepare(&r->spread, r->spread.enabled ? 1 : 0, r->dw, &r->sums, st->pool);
        int hidden = l + 1 < L;
        if (!r->spread.enabled) {
            float *w = net->w[l];
            size_t count = rows * cols;
            for (size_t i = 0; i < count; i++) w[i] += r->alpha * r->dw[i];
            continue;
        }
        if (hidden) sbp__spread_mult_backward(&r->spread, &st->layer[l + 1].sums, &r->sums);
        sbp__spread_mult_apply(&r->sums, hidden, r->dw, r->mask, r->alpha, net->w[l], st->pool);
    }
}

/* Copies rows 0..c-1 of the target batch into y. */
static sbp_status train_batch(sbp_net *net, relax_state *st, size_t c, size_t *wrong)
{
    size_t L = st->L;
    lif_phase(net, st, 0, c);
    for (int it = 0; it < st->free_iters; it++) relax_sweep(net, st, c, NULL);
    for (size_t l = 1; l < L; l++) {
        rl_layer *r = &st->layer[l];
        size_t cnt = c * r->n;
        memcpy(r->h, r->s, cnt * sizeof *r->s);  /* homeostatic state */
        memcpy(r->s0, r->s, cnt * sizeof *r->s); /* free-phase result */
    }
    rl_layer *out = &st->layer[L - 1];
    int32_t pred[1024];
    for (size_t q0 = 0; q0 < c; q0 += 1024) {
        size_t m = c - q0 < 1024 ? c - q0 : 1024;
        argmax_rows(out->s0 + q0 * out->n, m, out->n, pred);
        for (size_t q = 0; q < m; q++) *wrong += pred[q] != st->labels[q0 + q];
    }
    for (int it = 0; it < st->nudge_iters; it++) relax_sweep(net, st, c, st->y);
    update(net, st, c);
    return SBP_OK;
}

static sbp_status relax_train_epoch(sbp_net *net, const sbp_dataset *train, double *train_error)
{
    relax_state *st = net->state;
    SBP_TRY(load_constants(net, st));
    size_t n = sbp_dataset_count(train), B = st->B, wrong = 0;
    for (size_t start = 0; start < n; start += B) {
        size_t c = n - start < B ? n - start : B;
        sbp_status s = sbp_dataset_batch(train, start, c, st->x, st->y, st->labels);
        if (s != SBP_OK) return sbp__fail(net->errmsg, s, "%s", sbp_dataset_errmsg(train));
        SBP_TRY(train_batch(net, st, c, &wrong));
        SBP_TRY(sbp__net_progress(net, start + c, n));
    }
    *train_error = (double)wrong / (double)n;
    return SBP_OK;
}

static void copy_state_to_eval(relax_state *st)
{
    for (size_t l = 1; l < st->L; l++) {
        rl_layer *r = &st->layer[l];
        size_t bytes = st->B * r->n * sizeof(float);
        memcpy(r->eV, r->V, bytes);
        memcpy(r->eg, r->g, bytes);
        memcpy(r->eh, r->h, bytes);
    }
}

/* Evaluation runs the authors' test pass (LIF from the carried state, free
 * relaxation, h overwritten, state carried from batch to batch) on a copy
 * of the training state taken at the start of the pass, so training
 * resumes exactly where it was. (The authors' code lets the test pass
 * overwrite the training state.) */
static sbp_status relax_predict(sbp_net *net, size_t n, const float *x, int32_t *labels,
                                float *outputs, int resume)
{
    relax_state *st = net->state;
    SBP_TRY(load_constants(net, st));
    size_t B = st->B, d = st->layer[0].n, L = st->L;
    rl_layer *out = &st->layer[L - 1];
    if (!resume) copy_state_to_eval(st);
    for (size_t start = 0; start < n; start += B) {
        size_t c = n - start < B ? n - start : B;
        memcpy(st->x, x + start * d, c * d * sizeof *x);
        lif_phase(net, st, 1, c);
        for (int it = 0; it < st->free_iters; it++) relax_sweep(net, st, c, NULL);
        for (size_t l = 1; l < L; l++)
            memcpy(st->layer[l].eh, st->layer[l].s, c * st->layer[l].n * sizeof(float));
        argmax_rows(out->s, c, out->n, labels + start);
        if (outputs) memcpy(outputs + start * out->n, out->s, c * out->n * sizeof(float));
    }
    return SBP_OK;
}

/* ---- model files (lib/io.c) ------------------------------------------- */

/* The state carried from batch to batch: V, g and h of every non-input
 * layer (B x n each). Masks and initial weights come back from the seed
 * through init; everything else is recomputed at every batch. */
static sbp_status relax_save_state(const sbp_net *net, sbp__writer *w)
{
    const relax_state *st = net->state;
    sbp__put_u64(w, st->B);
    sbp__put_u64(w, st->L);
    for (size_t l = 1; l < st->L; l++) {
        const rl_layer *r = &st->layer[l];
        sbp__put_floats(w, r->V, st->B * r->n);
        sbp__put_floats(w, r->g, st->B * r->n);
        sbp__put_floats(w, r->h, st->B * r->n);
    }
    return SBP_OK;
}

static sbp_status relax_load_state(sbp_net *net, sbp__reader *r)
{
    relax_state *st = net->state;
    SBP_TRY(sbp__get_count(r, st->B, "the relax state's batch size"));
    SBP_TRY(sbp__get_count(r, st->L, "the relax state's layer count"));
    for (size_t l = 1; l < st->L; l++) {
        rl_layer *ly = &st->layer[l];
        SBP_TRY(sbp__get_floats(r, ly->V, st->B * ly->n, "V of layer %zu", l));
        SBP_TRY(sbp__get_floats(r, ly->g, st->B * ly->n, "g of layer %zu", l));
        SBP_TRY(sbp__get_floats(r, ly->h, st->B * ly->n, "h of layer %zu", l));
    }
    return SBP_OK;
}

const sbp__engine_ops sbp__relax_ops = {
    .id = SBP_ENGINE_RELAX,
    .name = "relax",
    .accepts_rule = relax_accepts,
    .defaults = relax_defaults,
    .init = relax_init,
    .destroy = relax_destroy,
    .train_epoch = relax_train_epoch,
    .predict = relax_predict,
    .save_state = relax_save_state,
    .load_state = relax_load_state,
};
