/* The rbm engine: a restricted Boltzmann machine trained by contrastive
 * divergence, with the SBP spread (model.md sections 2 and 5). docs/rbm.md
 * describes the model and the choices made here; this comment is the map
 * of the file.
 *
 * Layout: 3 layers [input m, hidden n, label k] make a classification RBM
 * (net->w[1] = W, m x n; net->w[2] = U, n x k; net->b[1] = hidden bias c;
 * net->b[2] = label bias d; the visible bias a lives in the state); 2
 * layers [input m, hidden n] an unsupervised one.
 *
 * One mini-batch: every matrix product is one product over the batch,
 * through BLAS, or the sparse kernels of spmm.c when the left factor is
 * mostly zeros (pixels, binary samples: x W, v W and the statistics); the
 * elementwise work (sigmoids, softmax, sampling, free energies) runs on
 * the thread pool in blocks of rows. Each row (sample) draws from its own
 * random stream, seeded by the network seed, the epoch and the sample's
 * position in the epoch, in a fixed order, so no result depends on the
 * thread count. All buffers exist from init. */
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "gemm.h"
#include "io.h"
#include "net.h"
#include "pool.h"
#include "rbm.h"
#include "rules/spread.h"
#include "spmm.h"
#include "vmath.h"

/* Engine defaults (docs/rbm.md). */
#define DEFAULT_RATE 0.1
#define INIT_STD 0.01
/* Random-stream salts: the mask and weight streams as the other engines. */
#define SALT_MASK 0x4D41534Bull  /* "MASK" */
#define SALT_RETRO 0x52455452ull /* "RETR" */
#define SALT_WEIGHTS 0x57000000ull
#define EPOCH_MIX 0x9E3779B97F4A7C15ull

typedef struct rbm_state {
    size_t B, m, n, k; /* k = 0: unsupervised */
    /* settings, fixed at build */
    int cd_k, persistent;
    int monitor; /* cd.monitor: unsupervised RBMs compute their reconstruction error */
    float decay, momentum, rate1, rate2;
    sbp__spread spread;
    int spread_on;           /* enabled spread on layer 1 of a classification RBM */
    unsigned char *mask;     /* m x n or NULL */
    float *retro;            /* n x k random retro weights or NULL */
    /* model state the network does not hold */
    float *a;                /* m: visible bias */
    float *vW, *vU, *va, *vc, *vd; /* momentum */
    float *chain;            /* B x n: persistent hidden samples (PCD) */
    unsigned char *chain_ready;
    uint64_t epoch;
    int diverged;
    /* statistics of the last batch */
    float *gW, *gWs, *gU, *ga, *gc, *gd;
    /* spread work */
    float *omega;            /* n x k */
    float *S, *S2;           /* B x n: spread signal (S2: LTD part with split) */
    float *T1, *T2;          /* m x n scratch */
    sbp__spread_sums sums_w, sums_u;
    /* batch buffers */
    size_t c;                /* rows of the last batch */
    float *x, *y;            /* B x m, B x k */
    int32_t *labels, *pred;  /* B */
    double *err;             /* B: squared reconstruction error per row */
    float *xw;               /* B x n: x W (+ c) */
    float *h0, *hs, *v, *yk, *hk; /* B x n, B x n, B x m, B x k, B x n */
    float *fe;               /* B x k: free energies */
    float *ut;               /* k x n: U transposed */
    sbp__rng *rng;           /* B */
    sbp__spmm_ws ws;         /* terms of a B x m sparse factor */
    sbp__pool *pool;
} rbm_state;

/* ---- configuration ------------------------------------------------------ */

static int rbm_accepts(sbp_rule_kind kind, size_t layer_index, size_t n_layers)
{
    (void)n_layers;
    switch (kind) {
    case SBP_RULE_RBM_CD: return layer_index == 1;
    /* on layer 2 it has nothing to spread into; accepted because the sbp
     * tool attaches the rule to every layer (docs/rbm.md) */
    case SBP_RULE_SBP_SPREAD: return 1;
    default: return 0;
    }
}

static sbp_status check_config(sbp_net *net)
{
    size_t L = net->n_layers;
    SBP_RETURN_IF(L != 2 && L != 3, net->errmsg, SBP_E_UNSUPPORTED,
                  "the rbm engine takes 2 layers (input, hidden: an unsupervised RBM) or 3 "
                  "(input, hidden, label: a classification RBM); this network has %zu", L);
    for (size_t l = 0; l < net->n_layers; l++)
        SBP_RETURN_IF(sbp__layer_param(net, l, SBP_LAYER_CONNECTIVITY) < 1.0, net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the rbm engine has dense projections only; layer.connectivity < 1 "
                      "(layer %zu) is the spike engine's", l);
    double h = sbp__layer_param(net, 1, SBP_LAYER_ACTIVATION);
    SBP_RETURN_IF(!isnan(h) && h != SBP_ACT_SIGMOID, net->errmsg, SBP_E_UNSUPPORTED,
                  "the rbm engine's hidden units are binary with sigmoid probabilities; "
                  "layer.activation on layer 1 can only be sigmoid");
    double out = sbp__net_param(net, SBP_NET_OUTPUT_ACTIVATION);
    if (L == 3) {
        SBP_RETURN_IF(!isnan(sbp__layer_param(net, 2, SBP_LAYER_ACTIVATION)) || !isnan(out),
                      net->errmsg, SBP_E_UNSUPPORTED,
                      "the rbm engine's label units are a softmax; layer.activation and "
                      "net.output_activation do not apply to them");
    } else {
        SBP_RETURN_IF(!isnan(out) && out != SBP_ACT_SIGMOID, net->errmsg, SBP_E_UNSUPPORTED,
                      "the unsupervised rbm's output is its hidden layer (sigmoid); "
                      "net.output_activation can only be sigmoid");
    }
    sbp__spread p;
    sbp__spread_from_rule(sbp__net_rule(net, 1, SBP_RULE_SBP_SPREAD), SBP_SPREAD_ADDITIVE, &p);
    SBP_RETURN_IF(p.enabled && p.form != SBP_SPREAD_ADDITIVE &&
                      p.form != SBP_SPREAD_MULTIPLICATIVE,
                  net->errmsg, SBP_E_UNSUPPORTED,
                  "the rbm engine uses the additive or the multiplicative spread form "
                  "(layer 1 asks for form %d)", p.form);
    return SBP_OK;
}

/* ---- memory ------------------------------------------------------------- */

static void rbm_destroy(sbp_net *net)
{
    rbm_state *st = net->state;
    if (!st) return;
    float **bufs[] = {&st->retro, &st->a,  &st->vW,  &st->vU,    &st->va, &st->vc, &st->vd,
                      &st->chain, &st->gW, &st->gWs, &st->gU,    &st->ga, &st->gc, &st->gd,
                      &st->omega, &st->S,  &st->S2,  &st->T1,    &st->T2, &st->x,  &st->y,
                      &st->xw,    &st->h0, &st->hs,  &st->v,     &st->yk, &st->hk, &st->fe,
                      &st->ut};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) sbp__free(*bufs[i]);
    sbp__free(st->mask);
    sbp__free(st->chain_ready);
    sbp__free(st->labels);
    sbp__free(st->pred);
    sbp__free(st->err);
    sbp__free(st->rng);
    sbp__spread_sums_free(&st->sums_w);
    sbp__spread_sums_free(&st->sums_u);
    sbp__spmm_ws_free(&st->ws);
    sbp__pool_free(st->pool);
    sbp__free(st);
    net->state = NULL;
}

/* rows x cols zeroed floats, NULL on overflow or failure (cols may be 0:
 * one float so that the pointer is valid). */
static float *floats2(size_t rows, size_t cols)
{
    size_t count;
    if (!sbp__mul_size(rows, cols, &count)) return NULL;
    return sbp__floats(count ? count : 1);
}

static double rate_of(const sbp_net *net, size_t l)
{
    double r = sbp__layer_param(net, l, SBP_LAYER_LEARNING_RATE);
    return isnan(r) ? DEFAULT_RATE : r;
}

static sbp_status rbm_init(sbp_net *net)
{
    SBP_TRY(check_config(net));
    rbm_state *st = sbp__calloc(1, sizeof *st);
    if (!st) return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory");
    net->state = st;
    size_t L = net->n_layers, B = (size_t)sbp__net_param(net, SBP_NET_BATCH_SIZE);
    size_t m = net->layers[0].size, n = net->layers[1].size, k = L == 3 ? net->layers[2].size : 0;
    st->B = B;
    st->m = m;
    st->n = n;
    st->k = k;

    /* CD settings from a rule on layer 1, the rule's defaults otherwise */
    double defaults[SBP__N_PARAMS];
    sbp__param_defaults(defaults);
    const sbp_rule *cd = sbp__net_rule(net, 1, SBP_RULE_RBM_CD);
    const double *cv = cd ? cd->params : defaults;
    st->cd_k = (int)sbp__pv(cv, SBP_CD_K);
    st->persistent = sbp__pv(cv, SBP_CD_PERSISTENT) != 0.0;
    st->decay = (float)sbp__pv(cv, SBP_CD_WEIGHT_DECAY);
    st->momentum = (float)sbp__pv(cv, SBP_CD_MOMENTUM);
    st->monitor = sbp__pv(cv, SBP_CD_MONITOR) != 0.0;
    st->rate1 = (float)rate_of(net, 1);
    st->rate2 = L == 3 ? (float)rate_of(net, 2) : 0.0f;
    sbp__spread_from_rule(sbp__net_rule(net, 1, SBP_RULE_SBP_SPREAD), SBP_SPREAD_ADDITIVE,
                          &st->spread);
    st->spread_on = st->spread.enabled && k > 0;

    size_t kk = k ? k : 1;
    st->a = floats2(m, 1);
    st->vW = floats2(m, n);
    st->va = floats2(m, 1);
    st->vc = floats2(n, 1);
    st->gW = floats2(m, n);
    st->ga = floats2(m, 1);
    st->gc = floats2(n, 1);
    st->x = floats2(B, m);
    st->y = floats2(B, kk);
    st->labels = sbp__calloc(B, sizeof *st->labels);
    st->pred = sbp__calloc(B, sizeof *st->pred);
    st->err = sbp__calloc(B, sizeof *st->err);
    st->rng = sbp__calloc(B, sizeof *st->rng);
    st->xw = floats2(B, n);
    st->h0 = floats2(B, n);
    st->hs = floats2(B, n);
    st->v = floats2(B, m);
    st->hk = floats2(B, n);
    st->yk = floats2(B, kk);
    st->fe = floats2(B, kk);
    st->ut = floats2(kk, n);
    st->vU = floats2(n, kk);
    st->vd = floats2(kk, 1);
    st->gU = floats2(n, kk);
    st->gd = floats2(kk, 1);
    if (!st->a || !st->vW || !st->va || !st->vc || !st->gW || !st->ga || !st->gc || !st->x ||
        !st->y || !st->labels || !st->pred || !st->err || !st->rng || !st->xw || !st->h0 ||
        !st->hs || !st->v || !st->hk || !st->yk || !st->fe || !st->ut || !st->vU || !st->vd ||
        !st->gU || !st->gd || sbp__spmm_ws_init(&st->ws, B, m, n) != 0)
        goto nomem;
    if (st->persistent) {
        st->chain = floats2(B, n);
        st->chain_ready = sbp__calloc(B, 1);
        if (!st->chain || !st->chain_ready) goto nomem;
    }
    if (st->spread_on) {
        st->gWs = floats2(m, n);
        if (!st->gWs) goto nomem;
        sbp__rng mrng;
        sbp__rng_init(&mrng, net->seed, SALT_MASK + 1);
        int failed;
        st->mask = sbp__spread_mask(&mrng, m * n, st->spread.lambda_p, &failed);
        if (failed) goto nomem;
        if (st->spread.form == SBP_SPREAD_ADDITIVE) {
            st->omega = floats2(n, k);
            st->S = floats2(B, n);
            st->S2 = floats2(B, n);
            if (!st->omega || !st->S || !st->S2) goto nomem;
            if ((st->mask || st->spread.split) && !(st->T1 = floats2(m, n))) goto nomem;
            if (st->spread.split && !(st->T2 = floats2(m, n))) goto nomem;
            if (st->spread.retro == SBP_RETRO_RANDOM) {
                sbp__rng rr;
                sbp__rng_init(&rr, net->seed, SALT_RETRO + 1);
                if (!(st->retro = floats2(n, k))) goto nomem;
                for (size_t i = 0; i < n * k; i++)
                    st->retro[i] = (float)(2.0 * sbp__rng_double(&rr) - 1.0);
            }
        } else if (!sbp__spread_sums_alloc(&st->sums_w, m, n) ||
                   !sbp__spread_sums_alloc(&st->sums_u, n, k)) {
            goto nomem;
        }
    }
    sbp_status ps = sbp__net_pool(net, &st->pool, NULL);
    if (ps != SBP_OK) {
        rbm_destroy(net);
        return ps;
    }

    /* Small Gaussian weights N(0, 0.01^2), biases 0 (Hinton's practical
     * guide); one stream per projection as the other engines. */
    for (size_t l = 1; l < L; l++) {
        size_t count = net->layers[l - 1].size * net->layers[l].size;
        sbp__rng wr;
        sbp__rng_init(&wr, net->seed, SALT_WEIGHTS + l);
        for (size_t i = 0; i < count; i++)
            net->w[l][i] = (float)(INIT_STD * sbp__rng_normal(&wr));
    }
    return SBP_OK;
nomem:
    rbm_destroy(net);
    return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory allocating the rbm engine");
}

/* ---- elementwise math -------------------------------------------------- */

static inline float sigmoid(float z)
{
    return 1.0f / (1.0f + sbp__expf(-z));
}

/* softplus(z) = max(z,0) + log1p(exp(-|z|)), with log1p(e) for e in (0,1]
 * written as 2 atanh(s), s = e/(2+e) <= 1/3, and the atanh series to s^15
 * (next term below 2e-9 relative): a fixed sequence of IEEE operations the
 * compiler can vectorise, like sbp__expf. */
static inline float softplus(float z)
{
    float e = sbp__expf(-fabsf(z));
    float s = e / (2.0f + e), s2 = s * s;
    float p = 1.0f / 15.0f;
    p = p * s2 + 1.0f / 13.0f;
    p = p * s2 + 1.0f / 11.0f;
    p = p * s2 + 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return (z > 0.0f ? z : 0.0f) + 2.0f * s * p;
}

/* sum_j softplus(base_j + u_j) over n, in 8 fixed lanes (vectorisable,
 * and the same order on every run). */
static float softplus_sum(const float *restrict base, const float *restrict u, size_t n)
{
    float lane[8] = {0};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        for (size_t q = 0; q < 8; q++) lane[q] += softplus(base[j + q] + u[j + q]);
    for (size_t q = 0; j + q < n; q++) lane[q] += softplus(base[j + q] + u[j + q]);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

/* ---- row-parallel jobs --------------------------------------------------- */

typedef enum row_phase {
    PH_POSITIVE,  /* free energies (train error), h0 = sigma(h0 + c), hs ~ h0 */
    PH_VISIBLE,   /* v = sigma(v + a) [error vs x] [v ~ v], yk ~ softmax(yk + d) */
    PH_HIDDEN,    /* hk = sigma(hk + c) [h ~ hk] */
    PH_SIGNAL,    /* additive spread signal S (and S2) per row */
    PH_PREDICT    /* free energies, labels, outputs for prediction */
} row_phase;

typedef struct row_job {
    const sbp_net *net;
    rbm_state *st;
    row_phase phase;
    size_t c, rows;
    int sample;          /* PH_VISIBLE / PH_HIDDEN: draw binary states */
    int recon;           /* PH_VISIBLE: record the squared reconstruction error */
    float *h;            /* PH_HIDDEN: where the hidden samples go */
    /* PH_PREDICT */
    const float *x;      /* rows of the caller's input (for -a.x) */
    float *xw;
    int32_t *labels;
    float *outputs;
    float *fe;           /* free energies out (rows x k) */
    int with_ax;
} row_job;

/* Free energies of row q (base = x W + c, n floats) for every label into
 * f (k): F(x,y) = -d_y - sum_j softplus(base_j + U_jy) [- a.x]. Returns
 * the argmin (ties: lower index). */
static size_t free_energy_row(const sbp_net *net, const rbm_state *st, const float *base,
                              float ax, float *f)
{
    size_t n = st->n, k = st->k, best = 0;
    const float *d = net->b[2];
    for (size_t y = 0; y < k; y++) {
        f[y] = -d[y] - softplus_sum(base, st->ut + y * n, n) - ax;
        if (f[y] < f[best]) best = y;
    }
    return best;
}

static void sample_bits(sbp__rng *rng, const float *p, float *out, size_t count)
{
    for (size_t i = 0; i < count; i++) out[i] = sbp__rng_float(rng) < p[i] ? 1.0f : 0.0f;
}

static void row_positive(const row_job *job, size_t q)
{
    const sbp_net *net = job->net;
    rbm_state *st = job->st;
    size_t n = st->n;
    const float *c = net->b[1];
    float *base = st->xw + q * n, *h0 = st->h0 + q * n;
    for (size_t j = 0; j < n; j++) {
        base[j] += c[j];
        h0[j] = sigmoid(h0[j] + c[j]);
    }
    if (st->k) st->pred[q] = (int32_t)free_energy_row(net, st, base, 0.0f, st->fe + q * st->k);
    sample_bits(&st->rng[q], h0, st->hs + q * n, n);
}

static void row_visible(const row_job *job, size_t q)
{
    rbm_state *st = job->st;
    size_t m = st->m, k = st->k;
    float *v = st->v + q * m;
    const float *a = st->a;
    for (size_t i = 0; i < m; i++) v[i] = sigmoid(v[i] + a[i]);
    if (job->recon) {
        const float *x = st->x + q * m;
        double e = 0.0;
        for (size_t i = 0; i < m; i++) e += (double)(x[i] - v[i]) * (x[i] - v[i]);
        st->err[q] = e;
    }
    if (job->sample) sample_bits(&st->rng[q], v, v, m);
    if (!k) return;
    /* labels: one one-hot draw from the softmax */
    float *y = st->yk + q * k;
    const float *d = job->net->b[2];
    float top = -INFINITY;
    for (size_t c = 0; c < k; c++) {
        y[c] += d[c];
        if (y[c] > top) top = y[c];
    }
    double total = 0.0;
    for (size_t c = 0; c < k; c++) {
        y[c] = sbp__expf(y[c] - top);
        total += y[c];
    }
    double u = sbp__rng_double(&st->rng[q]) * total, cum = 0.0;
    size_t pick = k;
    for (size_t c = 0; c < k; c++) {
        cum += y[c];
        if (pick == k && u < cum) pick = c;
    }
    if (pick == k) /* rounding left u at the very top: the last non-zero label */
        for (size_t c = k; c-- > 0;)
            if (y[c] > 0.0f) {
                pick = c;
                break;
            }
    for (size_t c = 0; c < k; c++) y[c] = c == pick ? 1.0f : 0.0f;
}

static void row_hidden(const row_job *job, size_t q)
{
    rbm_state *st = job->st;
    size_t n = st->n;
    const float *c = job->net->b[1];
    float *hk = st->hk + q * n;
    for (size_t j = 0; j < n; j++) hk[j] = sigmoid(hk[j] + c[j]);
    if (job->sample) sample_bits(&st->rng[q], hk, job->h + q * n, n);
}

/* Additive spread signal of one sample (model.md 2a) from its own CD
 * change of U, dU_jk = h0_j y_k - hk_j yk_k: S_j = sum_k omega_jk dU_jk,
 * split into LTP and LTD terms when asked, summed in double as
 * sbp__spread_add_signal does. */
static void row_signal(const row_job *job, size_t q)
{
    rbm_state *st = job->st;
    size_t n = st->n, k = st->k;
    const float *h0 = st->h0 + q * n, *hk = st->hk + q * n;
    const float *y = st->y + q * k, *yk = st->yk + q * k, *om = st->omega;
    float *sp = st->S + q * n, *sm = st->S2 + q * n;
    int split = st->spread.split;
    for (size_t j = 0; j < n; j++) {
        double p = 0.0, mneg = 0.0;
        for (size_t c = 0; c < k; c++) {
            float du = h0[j] * y[c] - hk[j] * yk[c];
            double t = (double)om[j * k + c] * (double)du;
            if (!split || t > 0.0)
                p += t;
            else
                mneg += t;
        }
        sp[j] = (float)p;
        sm[j] = (float)mneg;
    }
}

static void row_predict(const row_job *job, size_t q)
{
    const sbp_net *net = job->net;
    const rbm_state *st = job->st;
    size_t n = st->n, k = st->k, m = st->m;
    const float *c = net->b[1];
    float *base = job->xw + q * n;
    if (!k) { /* unsupervised: the hidden probabilities */
        float *out = job->outputs + q * n;
        for (size_t j = 0; j < n; j++) out[j] = sigmoid(base[j] + c[j]);
        job->labels[q] = -1;
        return;
    }
    for (size_t j = 0; j < n; j++) base[j] += c[j];
    float ax = 0.0f;
    if (job->with_ax) {
        const float *x = job->x + q * m;
        for (size_t i = 0; i < m; i++) ax += st->a[i] * x[i];
    }
    float *f = job->fe + q * k;
    size_t best = free_energy_row(net, st, base, ax, f);
    job->labels[q] = (int32_t)best;
    if (job->outputs) {
        /* p(y|x) = softmax(-F) */
        float *out = job->outputs + q * k;
        double total = 0.0;
        for (size_t y = 0; y < k; y++) total += exp((double)(f[best] - f[y]));
        for (size_t y = 0; y < k; y++) out[y] = (float)(exp((double)(f[best] - f[y])) / total);
    }
}

static void row_task(void *ctx, size_t task)
{
    const row_job *job = ctx;
    size_t q0 = task * job->rows, q1 = q0 + job->rows < job->c ? q0 + job->rows : job->c;
    for (size_t q = q0; q < q1; q++) {
        switch (job->phase) {
        case PH_POSITIVE: row_positive(job, q); break;
        case PH_VISIBLE: row_visible(job, q); break;
        case PH_HIDDEN: row_hidden(job, q); break;
        case PH_SIGNAL: row_signal(job, q); break;
        case PH_PREDICT: row_predict(job, q); break;
        }
    }
}

/* Runs a phase over rows 0..c-1 in blocks. Every row is computed the same
 * way in any block, so the split never changes a result. */
static void run_rows(rbm_state *st, row_job *job, size_t c)
{
    size_t t = sbp__pool_size(st->pool), tasks = 4 * t < c ? 4 * t : c;
    if (tasks == 0) return;
    job->c = c;
    job->rows = (c + tasks - 1) / tasks;
    sbp__pool_run(st->pool, row_task, job, (c + job->rows - 1) / job->rows);
}

/* ---- one mini-batch ------------------------------------------------------- */

static void transpose_u(const sbp_net *net, rbm_state *st)
{
    size_t n = st->n, k = st->k;
    const float *U = net->w[2];
    for (size_t j = 0; j < n; j++)
        for (size_t c = 0; c < k; c++) st->ut[c * n + j] = U[j * k + c];
}

/* The CD chain from the hidden samples h (B x n, overwritten with the
 * chain's state): k exact Gibbs steps. Each step samples the visibles
 * from their Bernoulli probabilities p(v|h) and a one-hot label from the
 * softmax p(y|h), then computes p(h|v,y); the hidden units are sampled
 * again except after the last step, whose probabilities enter the
 * statistics (persistent chains also keep a sample of them). Leaves v
 * (sampled), yk (one-hot), hk (probabilities). The first step's mean-field
 * p(v|h0) is the reconstruction whose error an unsupervised CD run
 * reports. */
static void gibbs_chain(const sbp_net *net, rbm_state *st, size_t c, float *h)
{
    size_t m = st->m, n = st->n, k = st->k;
    const float *W = net->w[1], *U = k ? net->w[2] : NULL;
    row_job job = {.net = net, .st = st, .h = h};
    for (int t = 1; t <= st->cd_k; t++) {
        int last = t == st->cd_k;
        sbp__sgemm(0, 1, c, m, n, 1.0f, h, n, W, n, 0.0f, st->v, m);
        if (k) sbp__sgemm(0, 0, c, k, n, 1.0f, h, n, U, k, 0.0f, st->yk, k);
        job.phase = PH_VISIBLE;
        job.sample = 1;
        job.recon = t == 1 && !st->persistent && !k && st->monitor;
        run_rows(st, &job, c);
        sbp__spmm(st->pool, &st->ws, c, n, m, 1.0f, st->v, m, W, n, 0.0f, st->hk, n);
        if (k) sbp__sgemm(0, 1, c, n, k, 1.0f, st->yk, k, U, k, 1.0f, st->hk, n);
        job.phase = PH_HIDDEN;
        job.sample = !last || st->persistent;
        run_rows(st, &job, c);
    }
}

/* Column means of a - b (rows x cols) into out, rows summed in order. */
static void mean_diff(const float *a, const float *b, size_t rows, size_t cols, float *out)
{
    memset(out, 0, cols * sizeof *out);
    for (size_t q = 0; q < rows; q++)
        for (size_t j = 0; j < cols; j++) out[j] += a[q * cols + j] - b[q * cols + j];
    float inv = 1.0f / (float)rows;
    for (size_t j = 0; j < cols; j++) out[j] *= inv;
}

/* The SBP spread of dU into dW: gWs = spread(gW). */
static void spread_batch(const sbp_net *net, rbm_state *st, size_t c)
{
    size_t m = st->m, n = st->n, k = st->k, mn = m * n;
    const sbp__spread *p = &st->spread;
    if (p->form == SBP_SPREAD_MULTIPLICATIVE) {
        /* as the relax engine's hidden projection: U's sums (factors 1, no
         * operator of its own) give the backward factors of W */
        sbp__spread_mult_prepare(p, 0, st->gU, &st->sums_u, st->pool);
        sbp__spread_mult_prepare(p, 1, st->gW, &st->sums_w, st->pool);
        sbp__spread_mult_backward(p, &st->sums_u, &st->sums_w);
        memset(st->gWs, 0, mn * sizeof *st->gWs);
        sbp__spread_mult_apply(&st->sums_w, 1, st->gW, st->mask, 1.0f, st->gWs, st->pool);
        return;
    }
    /* additive: omega, the per-sample signals, then lambda_f/c X' S */
    const float *U = net->w[2];
    for (size_t i = 0; i < n * k; i++) {
        switch (p->retro) {
        case SBP_RETRO_EFFICACY: st->omega[i] = fabsf(U[i]); break;
        case SBP_RETRO_SIGNED: st->omega[i] = U[i]; break;
        case SBP_RETRO_RANDOM: st->omega[i] = st->retro[i]; break;
        default: st->omega[i] = 1.0f; break;
        }
    }
    row_job job = {.net = net, .st = st, .phase = PH_SIGNAL};
    run_rows(st, &job, c);
    float g = (float)p->lambda_f / (float)c;
    const float *gW = st->gW;
    float *out = st->gWs;
    const unsigned char *M = st->mask;
    if (p->split) {
        /* LTP terms go to synapses whose CD change is >= 0, LTD terms to
         * those <= 0 (sbp__spread_add_apply): no sign flips */
        sbp__spmm_at2(st->pool, &st->ws, m, n, c, g, st->x, st->S, 0.0f, NULL, NULL, 0.0f, st->T1);
        sbp__spmm_at2(st->pool, &st->ws, m, n, c, g, st->x, st->S2, 0.0f, NULL, NULL, 0.0f, st->T2);
        for (size_t i = 0; i < mn; i++) {
            float v = gW[i];
            float add = (v >= 0.0f ? st->T1[i] : 0.0f) + (v <= 0.0f ? st->T2[i] : 0.0f);
            out[i] = v + (!M || M[i] ? add : 0.0f);
        }
    } else if (M) {
        sbp__spmm_at2(st->pool, &st->ws, m, n, c, g, st->x, st->S, 0.0f, NULL, NULL, 0.0f, st->T1);
        for (size_t i = 0; i < mn; i++) out[i] = gW[i] + (M[i] ? st->T1[i] : 0.0f);
    } else {
        memcpy(out, gW, mn * sizeof *out);
        sbp__spmm_at2(st->pool, &st->ws, m, n, c, g, st->x, st->S, 0.0f, NULL, NULL, 1.0f, out);
    }
}

/* w += v, v = momentum v + rate (g - decay w); returns 0 when a weight is
 * no longer finite. */
static int apply_update(float *restrict w, float *restrict vel, const float *restrict g,
                        size_t count, float rate, float momentum, float decay)
{
    int bad = 0; /* an integer OR keeps the loop vectorizable */
    for (size_t i = 0; i < count; i++) {
        float nv = momentum * vel[i] + rate * (g[i] - decay * w[i]);
        vel[i] = nv;
        w[i] += nv;
        bad |= (w[i] - w[i]) != 0.0f; /* NaN for NaN or infinite w */
    }
    return !bad;
}

static sbp_status train_batch(sbp_net *net, rbm_state *st, size_t c, size_t start,
                              uint64_t seed, size_t *wrong, double *sq_err)
{
    size_t m = st->m, n = st->n, k = st->k;
    float *W = net->w[1], *U = k ? net->w[2] : NULL;
    float inv_c = 1.0f / (float)c;
    st->c = c;
    for (size_t q = 0; q < c; q++) sbp__rng_init(&st->rng[q], seed, (uint64_t)(start + q));

    /* positive phase: h0 = sigma(x W + y U' + c), the data as probabilities */
    sbp__spmm(st->pool, &st->ws, c, n, m, 1.0f, st->x, m, W, n, 0.0f, st->xw, n);
    memcpy(st->h0, st->xw, c * n * sizeof *st->h0);
    if (k) {
        sbp__sgemm(0, 1, c, n, k, 1.0f, st->y, k, U, k, 1.0f, st->h0, n);
        transpose_u(net, st);
    }
    row_job job = {.net = net, .st = st, .phase = PH_POSITIVE};
    run_rows(st, &job, c);
    for (size_t q = 0; q < c && k; q++) *wrong += st->pred[q] != st->labels[q];

    /* negative phase */
    float *h = st->hs;
    if (st->persistent) {
        for (size_t q = 0; q < c; q++)
            if (!st->chain_ready[q]) {
                memcpy(st->chain + q * n, st->hs + q * n, n * sizeof *st->chain);
                st->chain_ready[q] = 1;
            }
        h = st->chain;
        if (!k && st->monitor) { /* the reconstruction error from the data's own hidden sample */
            sbp__sgemm(0, 1, c, m, n, 1.0f, st->hs, n, W, n, 0.0f, st->v, m);
            job.phase = PH_VISIBLE;
            job.recon = 1;
            run_rows(st, &job, c);
        }
    }
    gibbs_chain(net, st, c, h);
    if (!k && st->monitor)
        for (size_t q = 0; q < c; q++) *sq_err += st->err[q];

    /* statistics, averaged over the batch */
    sbp__spmm_at2(st->pool, &st->ws, m, n, c, inv_c, st->x, st->h0, -inv_c, st->v, st->hk, 0.0f, st->gW);
    mean_diff(st->x, st->v, c, m, st->ga);
    mean_diff(st->h0, st->hk, c, n, st->gc);
    if (k) {
        sbp__sgemm(1, 0, n, k, c, inv_c, st->h0, n, st->y, k, 0.0f, st->gU, k);
        sbp__sgemm(1, 0, n, k, c, -inv_c, st->hk, n, st->yk, k, 1.0f, st->gU, k);
        mean_diff(st->y, st->yk, c, k, st->gd);
    }
    if (st->spread_on) spread_batch(net, st, c);

    /* updates (weight decay on W and U only) */
    int ok = apply_update(W, st->vW, st->spread_on ? st->gWs : st->gW, m * n, st->rate1,
                          st->momentum, st->decay);
    ok &= apply_update(st->a, st->va, st->ga, m, st->rate1, st->momentum, 0.0f);
    ok &= apply_update(net->b[1], st->vc, st->gc, n, st->rate1, st->momentum, 0.0f);
    if (k) {
        ok &= apply_update(U, st->vU, st->gU, n * k, st->rate2, st->momentum, st->decay);
        ok &= apply_update(net->b[2], st->vd, st->gd, k, st->rate2, st->momentum, 0.0f);
    }
    if (!ok) {
        st->diverged = 1;
        return sbp__fail(net->errmsg, SBP_E_NUMERIC,
                         "the rbm diverged in the batch starting at sample %zu (a weight or "
                         "bias is no longer finite); lower layer.learning_rate", start);
    }
    return SBP_OK;
}

static sbp_status check_diverged(sbp_net *net, const rbm_state *st)
{
    SBP_RETURN_IF(st->diverged, net->errmsg, SBP_E_NUMERIC,
                  "the rbm diverged earlier (non-finite weights); build a new network");
    return SBP_OK;
}

static sbp_status rbm_train_epoch(sbp_net *net, const sbp_dataset *train, double *train_error)
{
    rbm_state *st = net->state;
    SBP_TRY(check_diverged(net, st));
    SBP_TRY(sbp__net_pool(net, &st->pool, NULL));
    uint64_t seed = net->seed ^ (EPOCH_MIX * (st->epoch + 1));
    st->epoch++;
    size_t n = sbp_dataset_count(train), B = st->B, wrong = 0;
    double sq = 0.0;
    for (size_t start = 0; start < n; start += B) {
        size_t c = n - start < B ? n - start : B;
        sbp_status s = sbp_dataset_batch(train, start, c, st->x, st->k ? st->y : NULL,
                                         st->labels);
        if (s != SBP_OK) return sbp__fail(net->errmsg, s, "%s", sbp_dataset_errmsg(train));
        SBP_TRY(train_batch(net, st, c, start, seed, &wrong, &sq));
        SBP_TRY(sbp__net_progress(net, start + c, n));
    }
    if (st->k)
        *train_error = (double)wrong / (double)n;
    else
        *train_error = st->monitor ? sq / ((double)n * (double)st->m) : NAN;
    return SBP_OK;
}

/* ---- prediction ----------------------------------------------------------- */

/* Works in chunks of B rows through st->xw, st->fe and st->ut, which are
 * scratch between batches: no training state (weights, chains, velocities,
 * random streams) is read for writing. */
static sbp_status predict_rows(sbp_net *net, size_t count, const float *x, int32_t *labels,
                               float *outputs, float *fe_out, int with_ax)
{
    rbm_state *st = net->state;
    SBP_TRY(check_diverged(net, st));
    SBP_TRY(sbp__net_pool(net, &st->pool, NULL));
    size_t B = st->B, m = st->m, n = st->n, k = st->k;
    if (k) transpose_u(net, st);
    for (size_t start = 0; start < count; start += B) {
        size_t c = count - start < B ? count - start : B;
        const float *xc = x + start * m;
        sbp__spmm(st->pool, &st->ws, c, n, m, 1.0f, xc, m, net->w[1], n, 0.0f, st->xw, n);
        row_job job = {.net = net, .st = st, .phase = PH_PREDICT, .x = xc, .xw = st->xw,
                       .labels = labels + start,
                       .outputs = outputs ? outputs + start * (k ? k : n) : NULL,
                       .fe = fe_out ? fe_out + start * k : st->fe, .with_ax = with_ax};
        run_rows(st, &job, c);
    }
    return SBP_OK;
}

static sbp_status rbm_predict(sbp_net *net, size_t n, const float *x, int32_t *labels,
                              float *outputs, int resume)
{
    (void)resume; /* prediction carries no state from chunk to chunk */
    rbm_state *st = net->state;
    SBP_RETURN_IF(!st->k && !outputs, net->errmsg, SBP_E_UNSUPPORTED,
                  "an unsupervised rbm (2 layers) predicts no labels: ask sbp_net_predict for "
                  "outputs (the hidden probabilities); sbp_net_evaluate does not apply");
    return predict_rows(net, n, x, labels, outputs, NULL, 0);
}

/* ---- test hooks (lib/rbm.h) ------------------------------------------------ */

static rbm_state *rbm_state_of(sbp_net *net)
{
    if (!net || net->tag != SBP__TAG_NET || net->ops != &sbp__rbm_ops || !net->built)
        return NULL;
    return net->state;
}

int sbp__rbm_view_of(sbp_net *net, sbp__rbm_view *out)
{
    rbm_state *st = rbm_state_of(net);
    if (!st) return 0;
    sbp__rbm_view v = {
        .m = st->m, .n = st->n, .k = st->k, .batch = st->c, .a = st->a,
        .x = st->x, .y = st->y, .h0 = st->h0, .vk = st->v, .yk = st->yk, .hk = st->hk,
        .grad_w_cd = st->gW, .grad_w = st->spread_on ? st->gWs : st->gW, .grad_u = st->gU,
        .grad_a = st->ga, .grad_c = st->gc, .grad_d = st->gd, .retro = st->retro,
        .mask = st->mask,
    };
    *out = v;
    return 1;
}

sbp_status sbp__rbm_free_energy(sbp_net *net, size_t count, const float *x, float *f)
{
    rbm_state *st = rbm_state_of(net);
    if (!st || !st->k || !x || !f) return SBP_E_INVALID;
    int32_t *labels = sbp__calloc(count ? count : 1, sizeof *labels);
    if (!labels) return SBP_E_NOMEM;
    sbp_status s = predict_rows(net, count, x, labels, NULL, f, 1);
    sbp__free(labels);
    return s;
}

/* The unsupervised (2-layer) RBM never reads targets. */
static int rbm_uses_targets(const sbp_net *net)
{
    return net->n_layers != 2;
}

/* ---- model files (lib/io.c) ------------------------------------------- */

/* The model state the network does not hold and what training carries
 * across batches: the epoch counter (it seeds the epoch's streams), the
 * divergence flag, the visible bias a, the momentum buffers and, with
 * persistent CD, the chains and which of them have started. The mask and
 * random retro weights come back from the seed through init; the batch
 * statistics are recomputed by every batch. */
static sbp_status rbm_save_state(const sbp_net *net, sbp__writer *w)
{
    const rbm_state *st = net->state;
    size_t m = st->m, n = st->n, k = st->k;
    sbp__put_u64(w, st->epoch);
    sbp__put_u8(w, st->diverged ? 1 : 0);
    sbp__put_floats(w, st->a, m);
    sbp__put_floats(w, st->vW, m * n);
    sbp__put_floats(w, st->va, m);
    sbp__put_floats(w, st->vc, n);
    sbp__put_floats(w, st->vU, n * k);
    sbp__put_floats(w, st->vd, k);
    sbp__put_u8(w, st->persistent ? 1 : 0);
    if (st->persistent) {
        sbp__put_floats(w, st->chain, st->B * n);
        sbp__put_u64(w, st->B);
        for (size_t q = 0; q < st->B; q++) sbp__put_u8(w, st->chain_ready[q] ? 1 : 0);
    }
    return SBP_OK;
}

static sbp_status rbm_load_state(sbp_net *net, sbp__reader *r)
{
    rbm_state *st = net->state;
    size_t m = st->m, n = st->n, k = st->k;
    int flag;
    SBP_TRY(sbp__get_u64(r, &st->epoch, "the epoch counter"));
    SBP_TRY(sbp__get_flag(r, &flag, "the divergence flag"));
    st->diverged = flag;
    SBP_TRY(sbp__get_floats(r, st->a, m, "the visible biases"));
    SBP_TRY(sbp__get_floats(r, st->vW, m * n, "the momentum of W"));
    SBP_TRY(sbp__get_floats(r, st->va, m, "the momentum of a"));
    SBP_TRY(sbp__get_floats(r, st->vc, n, "the momentum of c"));
    SBP_TRY(sbp__get_floats(r, st->vU, n * k, "the momentum of U"));
    SBP_TRY(sbp__get_floats(r, st->vd, k, "the momentum of d"));
    size_t at = r->pos;
    SBP_TRY(sbp__get_flag(r, &flag, "the persistent-chain flag"));
    if (flag != st->persistent)
        return sbp__reader_fail(r, SBP_E_MISMATCH, at, (uint64_t)st->persistent, (uint64_t)flag,
                                "persistent chains %s, but the CD rule says cd.persistent = %d",
                                flag ? "stored" : "missing", st->persistent);
    if (!flag) return SBP_OK;
    SBP_TRY(sbp__get_floats(r, st->chain, st->B * n, "the persistent chains"));
    SBP_TRY(sbp__get_count(r, st->B, "the chain count"));
    for (size_t q = 0; q < st->B; q++) {
        SBP_TRY(sbp__get_flag(r, &flag, "a chain-started flag"));
        st->chain_ready[q] = (unsigned char)flag;
    }
    return SBP_OK;
}

const sbp__engine_ops sbp__rbm_ops = {
    .id = SBP_ENGINE_RBM,
    .name = "rbm",
    .accepts_rule = rbm_accepts,
    .defaults = NULL,
    .init = rbm_init,
    .destroy = rbm_destroy,
    .train_epoch = rbm_train_epoch,
    .predict = rbm_predict,
    .uses_targets = rbm_uses_targets,
    .save_state = rbm_save_state,
    .load_state = rbm_load_state,
};
