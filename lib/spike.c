/* The spike engine: an event-driven network of leaky integrate-and-fire
 * neurons (model.md section 3). docs/spike.md describes the model and the
 * choices made here; this comment is the map of the file.
 *
 * A sample runs for T steps of dt ms with fresh neuron state. At each step
 * the encoder lists the input spikes; every spike of neuron i adds row i of
 * its outgoing weight matrix (times its STP efficacy) to the next layer's
 * input current, so the synaptic work is proportional to spikes x fan-out,
 * not to the number of synapses (a sparse projection, layer.connectivity < 1,
 * walks only the present synapses of the row through its CSR index, and its
 * absent weights are kept at exactly 0); then each neuron of that layer integrates,
 * fires and resets. Spikes reach every layer in the step they are emitted.
 *
 * Training, per mini-batch (weights fixed within it): samples run in
 * parallel, one pool task each, each with its own random stream (seeded by
 * the network seed, the epoch and the sample's position in the epoch), so
 * results do not depend on the thread count. A sample's output synapses
 * learn by supervised STDP against teaching spike trains into its own dB;
 * from dB it derives the SBP signal S of the hidden layer (additive spread,
 * model.md 2a) and keeps the hidden layer's presynaptic rates e. After the
 * batch, in sample order: W_out += sum dB; W_hidden += lambda_f E^T S
 * (masked), one GEMM; optional pair STDP replayed from recorded spikes;
 * homeostatic thresholds averaged. Nothing is allocated per step or per
 * sample: every per-thread buffer exists from init (one scratch slot per
 * pool thread, claimed by the task that runs). */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc.h"
#include "encode.h"
#include "gemm.h"
#include "io.h"
#include "kernels.h"
#include "net.h"
#include "pool.h"
#include "rules/homeo.h"
#include "rules/spread.h"
#include "rules/stdp.h"
#include "rules/stp.h"
#include "spike.h"

/* Initial weights: U(-1,1) * sqrt(6/(n_in + n_out)) * INIT_GAIN. With the
 * default input rate (200 Hz for a feature of 1, dt 1 ms), threshold 1 and
 * tau_m 20 ms, plain Glorot (gain 1) gives MNIST hidden neurons ~16 Hz on
 * average, but inputs with few active features (NETtalk: 7 of 189) then
 * rarely reach threshold; gain 2 gives ~38 Hz on MNIST and keeps sparse
 * inputs driving the hidden layer. Accuracy on MNIST is about the same for
 * gains 1 and 2 (docs/spike.md). */
#define INIT_GAIN 2.0
/* The spread's lambda_f when the rule leaves it unset. The additive form's
 * generic default (0.5) is sized for dense engines; here the output change
 * of a sample sums per-step trace products while e is a rate per step, and
 * on MNIST lambda_f around 20 learns best (10k-image sweep over 5..100 with
 * signed retro weighting and stdp.eta 1e-4: docs/spike.md). */
#define DEFAULT_LAMBDA_F 20.0
/* Random-stream salts. */
#define SALT_MASK 0x4D41534Bull   /* "MASK", as the relax engine */
#define SALT_RETRO 0x52455452ull  /* "RETR" */
#define SALT_CONN 0x434F4E4Eull   /* "CONN": sparse projection masks */
#define SALT_WEIGHTS 0x57000000ull
#define SALT_EVAL 0x4556414C5350494Bull
#define EPOCH_MIX 0x9E3779B97F4A7C15ull

/* One layer's per-sample working state inside a scratch slot. */
typedef struct sp_buf {
    float *V;      /* membrane potential */
    float *I;      /* input current of the current step */
    float *cnt;    /* spikes of this sample so far */
    float *a;      /* homeostatic adaptation (working copy; NULL: none) */
    int32_t *ref;  /* refractory steps left */
    uint32_t *spk; /* indices that spiked in the current step */
    size_t nspk;
    /* STP of the projection INTO this layer: one (u, x) per presynaptic
     * neuron, relaxed lazily from the step of its previous spike */
    float *u, *x;
    int32_t *last;
} sp_buf;

/* Everything one running sample writes that nobody else reads. */
typedef struct sp_scratch {
    atomic_int busy;
    sp_buf *lay;            /* [L] */
    float *trace;           /* n_{L-2}: presynaptic trace of the output rule */
    float *teach_p;         /* k: teaching spike probability per step */
    uint32_t *teach;        /* k: outputs taught to spike in the current step */
    float *s_plus, *s_minus;/* largest hidden layer: spread signal parts */
    float *chain;           /* largest hidden->hidden projection (deep nets) */
    uint32_t *act;          /* n0: Poisson inputs of the sample with p > 0 */
    float *act_p;           /* n0: their spike probability per step */
} sp_scratch;

typedef struct sp_layer {
    size_t n;
    /* LIF constants, read at every call */
    float decay, v_th, v_reset;
    int32_t t_ref;
    /* homeostatic threshold of this layer's neurons */
    int homeo;
    sbp__homeo hp;
    float *homeo_a;   /* n: adaptation carried from batch to batch */
    float *homeo_end; /* B x n: each sample's final adaptation */
    /* sparse projection into this layer (layer.connectivity < 1): the
     * n_{l-1} x n presence mask and its CSR index (row i: the sorted
     * columns col[rowptr[i] .. rowptr[i+1]-1]); all NULL when dense */
    unsigned char *conn;
    size_t *rowptr;      /* n_{l-1} + 1 */
    uint32_t *col;       /* nnz */
    /* STP on the synapses of the projection into this layer */
    int stp;
    sbp__stp sp;
    /* additive SBP spread into the projection into this (hidden) layer */
    sbp__spread spread;
    int spread_on;
    unsigned char *mask; /* n_{l-1} x n, NULL = every synapse */
    float *retro;        /* n x n_{l+1}, random retro weights (or NULL) */
    float *E;            /* B x n_{l-1}: presynaptic rates of each sample */
    float *S;            /* B x n: SBP signal of each sample */
    float *dW;           /* n_{l-1} x n: masked change (only with a mask) */
    /* unsupervised pair STDP on the projection into this (hidden) layer */
    int stdp;
    sbp__stdp stdpp;
    float *xp, *xq;      /* replay traces, n_{l-1} and n */
    /* spike recordings for STDP replay (this layer is pre or post of one) */
    int record;
    size_t rec_steps;    /* T the recordings are sized for */
    uint32_t *rec_idx;   /* B x (T * n) */
    size_t *rec_off;     /* B x (T + 1) */
    atomic_size_t spikes;/* total since build */
} sp_layer;

typedef struct spike_state {
    size_t B, L;
    sp_layer *layer;  /* [L]; layer[0] is the input */
    float *x;         /* B x n0 */
    float *y;         /* B x k */
    int32_t *labels;  /* B */
    int32_t *pred;    /* B */
    float *dB;        /* B x (n_{L-2} k): each sample's output change */
    sbp__stdp sup;    /* supervised STDP of the output projection */
    float eta;
    /* per-call constants */
    sbp__encoder enc;
    size_t d_enc;     /* features per step given to the encoder */
    size_t T;
    float dt, teach_rate, rest_rate, sup_decay;
    const sbp__kernels *kern;
    sbp__pool *pool;
    sp_scratch *scr;
    size_t n_scr;
    uint64_t epoch;   /* training passes started */
    size_t eval_next; /* global index of the next predicted sample */
    atomic_size_t events;
} spike_state;

/* ---- configuration ------------------------------------------------------ */

static int spike_accepts(sbp_rule_kind kind, size_t layer_index, size_t n_layers)
{
    int output = layer_index + 1 == n_layers;
    switch (kind) {
    case SBP_RULE_SUPERVISED_STDP: return output;
    case SBP_RULE_STDP: return !output;
    case SBP_RULE_SBP_SPREAD: /* on the output layer it has nothing to spread */
    case SBP_RULE_STP:
    case SBP_RULE_HOMEOSTASIS: return 1;
    case SBP_RULE_RBM_CD: return 0;
    }
    return 0;
}

/* Rules and layer settings are checked again when the network is built:
 * layers may have been added after a rule was attached. */
static sbp_status check_config(sbp_net *net)
{
    size_t L = net->n_layers;
    SBP_RETURN_IF(!isnan(sbp__net_param(net, SBP_NET_OUTPUT_ACTIVATION)), net->errmsg,
                  SBP_E_UNSUPPORTED,
                  "the spike engine's neurons are LIF; net.output_activation does not apply");
    SBP_RETURN_IF(sbp__layer_param(net, 0, SBP_LAYER_CONNECTIVITY) < 1.0, net->errmsg,
                  SBP_E_UNSUPPORTED,
                  "layer.connectivity is the density of the projection into a layer; the input "
                  "layer (0) has none");
    for (size_t l = 1; l < L; l++) {
        int output = l + 1 == L;
        SBP_RETURN_IF(!isnan(sbp__layer_param(net, l, SBP_LAYER_ACTIVATION)), net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the spike engine's neurons are LIF; layer.activation does not apply "
                      "(layer %zu)", l);
        SBP_RETURN_IF(!isnan(sbp__layer_param(net, l, SBP_LAYER_LEARNING_RATE)), net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the spike engine's rates come from its rules (stdp.eta of a "
                      "supervised_stdp rule, spread.lambda_f); layer.learning_rate does not "
                      "apply (layer %zu)", l);
        SBP_RETURN_IF(!output && sbp__net_rule(net, l, SBP_RULE_SUPERVISED_STDP), net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the spike engine uses a supervised_stdp rule on the output layer only "
                      "(layer %zu is hidden)", l);
        SBP_RETURN_IF(output && sbp__net_rule(net, l, SBP_RULE_STDP), net->errmsg,
                      SBP_E_UNSUPPORTED,
                      "the spike engine uses unsupervised stdp on hidden layers only (layer %zu "
                      "is the output)", l);
        sbp__spread p;
        sbp__spread_from_rule(sbp__net_rule(net, l, SBP_RULE_SBP_SPREAD), SBP_SPREAD_ADDITIVE,
                              &p);

        SBP_RETURN_IF(p.enabled && p.form != SBP_SPREAD_ADDITIVE, net->errmsg, SBP_E_UNSUPPORTED,
                      "the spike engine uses the additive spread form (layer %zu asks for "
                      "form %d)", l, p.form);
    }
    return SBP_OK;
}

/* ---- memory ------------------------------------------------------------- */

static void free_scratch(spike_state *st)
{
    for (size_t s = 0; st->scr && s < st->n_scr; s++) {
        sp_scratch *sc = &st->scr[s];
        for (size_t l = 0; sc->lay && l < st->L; l++) {
            sp_buf *b = &sc->lay[l];
            sbp__free(b->V);
            sbp__free(b->I);
            sbp__free(b->cnt);
            sbp__free(b->a);
            sbp__free(b->ref);
            sbp__free(b->spk);
            sbp__free(b->u);
            sbp__free(b->x);
            sbp__free(b->last);
        }
        sbp__free(sc->lay);
        sbp__free(sc->trace);
        sbp__free(sc->teach_p);
        sbp__free(sc->teach);
        sbp__free(sc->s_plus);
        sbp__free(sc->s_minus);
        sbp__free(sc->chain);
        sbp__free(sc->act);
        sbp__free(sc->act_p);
    }
    sbp__free(st->scr);
    st->scr = NULL;
    st->n_scr = 0;
}

/* One scratch slot per pool thread: at most that many samples run at once. */
static int alloc_scratch(spike_state *st, size_t count)
{
    size_t L = st->L, max_hidden = 1, max_chain = 1;
    for (size_t l = 1; l + 1 < L; l++) {
        if (st->layer[l].n > max_hidden) max_hidden = st->layer[l].n;
        if (l + 2 < L) {
            size_t c;
            if (!sbp__mul_size(st->layer[l].n, st->layer[l + 1].n, &c)) return 0;
            if (c > max_chain) max_chain = c;
        }
    }
    int deep_spread = 0;
    for (size_t l = 1; l + 2 < L; l++) deep_spread |= st->layer[l].spread_on;
    st->scr = sbp__calloc(count, sizeof *st->scr);
    if (!st->scr) return 0;
    st->n_scr = count;
    for (size_t s = 0; s < count; s++) {
        sp_scratch *sc = &st->scr[s];
        atomic_init(&sc->busy, 0);
        sc->lay = sbp__calloc(L, sizeof *sc->lay);
        if (!sc->lay) return 0;
        for (size_t l = 0; l < L; l++) {
            sp_buf *b = &sc->lay[l];
            size_t n = st->layer[l].n;
            b->cnt = sbp__floats(n);
            b->spk = sbp__calloc(n, sizeof *b->spk);
            if (!b->cnt || !b->spk) return 0;
            if (l == 0) continue;
            b->V = sbp__floats(n);
            b->I = sbp__floats(n);
            b->ref = sbp__calloc(n, sizeof *b->ref);
            if (!b->V || !b->I || !b->ref) return 0;
            if (st->layer[l].homeo && !(b->a = sbp__floats(n))) return 0;
            if (st->layer[l].stp) {
                size_t m = st->layer[l - 1].n;
                b->u = sbp__floats(m);
                b->x = sbp__floats(m);
                b->last = sbp__calloc(m, sizeof *b->last);
                if (!b->u || !b->x || !b->last) return 0;
            }
        }
        size_t k = st->layer[L - 1].n;
        sc->trace = sbp__floats(st->layer[L - 2].n);
        sc->teach_p = sbp__floats(k);
        sc->teach = sbp__calloc(k, sizeof *sc->teach);
        sc->s_plus = sbp__floats(max_hidden);
        sc->s_minus = sbp__floats(max_hidden);
        if (!sc->trace || !sc->teach_p || !sc->teach || !sc->s_plus || !sc->s_minus) return 0;
        if (deep_spread && !(sc->chain = sbp__floats(max_chain))) return 0;
        sc->act = sbp__calloc(st->layer[0].n, sizeof *sc->act);
        sc->act_p = sbp__floats(st->layer[0].n);
        if (!sc->act || !sc->act_p) return 0;
    }
    return 1;
}

/* Spike recordings for the STDP replay, sized by T (which may change
 * between calls). */
static int alloc_records(spike_state *st)
{
    for (size_t l = 0; l < st->L; l++) {
        sp_layer *ly = &st->layer[l];
        if (!ly->record || ly->rec_steps == st->T) continue;
        sbp__free(ly->rec_idx);
        sbp__free(ly->rec_off);
        ly->rec_idx = NULL;
        ly->rec_off = NULL;
        ly->rec_steps = 0;
        size_t per, total, offs;
        if (!sbp__mul_size(st->T, ly->n, &per) || !sbp__mul_size(per, st->B, &total) ||
            !sbp__mul_size(st->T + 1, st->B, &offs))
            return 0;
        ly->rec_idx = sbp__calloc(total ? total : 1, sizeof *ly->rec_idx);
        ly->rec_off = sbp__calloc(offs, sizeof *ly->rec_off);
        if (!ly->rec_idx || !ly->rec_off) return 0;
        ly->rec_steps = st->T;
    }
    return 1;
}

static void spike_destroy(sbp_net *net)
{
    spike_state *st = net->state;
    if (!st) return;
    free_scratch(st);
    for (size_t l = 0; st->layer && l < st->L; l++) {
        sp_layer *ly = &st->layer[l];
        sbp__free(ly->homeo_a);
        sbp__free(ly->homeo_end);
        sbp__free(ly->mask);
        sbp__free(ly->conn);
        sbp__free(ly->rowptr);
        sbp__free(ly->col);
        sbp__free(ly->retro);
        sbp__free(ly->E);
        sbp__free(ly->S);
        sbp__free(ly->dW);
        sbp__free(ly->xp);
        sbp__free(ly->xq);
        sbp__free(ly->rec_idx);
        sbp__free(ly->rec_off);
    }
    sbp__free(st->layer);
    sbp__free(st->x);
    sbp__free(st->y);
    sbp__free(st->labels);
    sbp__free(st->pred);
    sbp__free(st->dB);
    sbp__pool_free(st->pool);
    sbp__free(st);
    net->state = NULL;
}

/* Parameters of the network are read at every call, so that changing one
 * between epochs takes effect; buffers that depend on them (per-thread
 * scratch, spike recordings) are rebuilt here, outside every loop. */
static sbp_status load_constants(sbp_net *net, spike_state *st)
{
    double dt = sbp__net_param(net, SBP_SPIKE_DT);
    st->dt = (float)dt;
    st->T = (size_t)sbp__net_param(net, SBP_SPIKE_STEPS);
    st->teach_rate = (float)sbp__net_param(net, SBP_SPIKE_TEACH_RATE);
    st->rest_rate = (float)sbp__net_param(net, SBP_SPIKE_REST_RATE);
    sbp__encoder_from_params(net->params, &st->enc);
    size_t n0 = st->layer[0].n;
    st->d_enc = n0;
    if (st->enc.kind == SBP_ENCODER_EVENTS) {
        SBP_RETURN_IF(n0 % st->T != 0, net->errmsg, SBP_E_MISMATCH,
                      "with the events encoder a sample is spike.steps = %zu frames, but the "
                      "input layer's %zu neurons are not a multiple of it", st->T, n0);
        st->d_enc = n0 / st->T;
    }
    for (size_t l = 1; l < st->L; l++) {
        sp_layer *ly = &st->layer[l];
        ly->decay = (float)exp(-dt / sbp__layer_param(net, l, SBP_LAYER_TAU_M));
        ly->v_th = (float)sbp__layer_param(net, l, SBP_LAYER_V_TH);
        ly->v_reset = (float)sbp__layer_param(net, l, SBP_LAYER_V_RESET);
        ly->t_ref = (int32_t)sbp__layer_param(net, l, SBP_LAYER_T_REF);
    }
    st->sup_decay = sbp__trace_decay(st->sup.tau_plus, st->dt);

    int replaced;
    SBP_TRY(sbp__net_pool(net, &st->pool, &replaced));
    if (replaced) free_scratch(st);
    if (!st->scr && !alloc_scratch(st, sbp__pool_size(st->pool))) {
        free_scratch(st);
        return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory allocating the spike engine");
    }
    SBP_RETURN_IF(!alloc_records(st), net->errmsg, SBP_E_NOMEM,
                  "out of memory allocating the spike recordings for STDP");
    return SBP_OK;
}

/* Absent synapses of sparse projections hold exactly 0: after the weights
 * are made, after every batch's changes and after sbp_net_set_weights. */
static void zero_absent_layer(sbp_net *net, const spike_state *st, size_t l)
{
    const unsigned char *conn = st->layer[l].conn;
    if (!conn) return;
    size_t mn = st->layer[l - 1].n * st->layer[l].n;
    float *w = net->w[l];
    for (size_t i = 0; i < mn; i++)
        if (!conn[i]) w[i] = 0.0f;
}

static void zero_absent(sbp_net *net, const spike_state *st)
{
    for (size_t l = 1; l < st->L; l++) zero_absent_layer(net, st, l);
}

static void spike_weights_written(sbp_net *net, size_t layer_index)
{
    if (net->state && layer_index >= 1 && layer_index < ((spike_state *)net->state)->L)
        zero_absent_layer(net, net->state, layer_index);
}

static sbp_status spike_init(sbp_net *net)
{
    SBP_TRY(check_config(net));
    spike_state *st = sbp__calloc(1, sizeof *st);
    if (!st) return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory");
    net->state = st;
    size_t L = net->n_layers, B = (size_t)sbp__net_param(net, SBP_NET_BATCH_SIZE);
    st->L = L;
    st->B = B;
    st->kern = sbp__kernels_for_cpu();
    atomic_init(&st->events, 0);
    st->layer = sbp__calloc(L, sizeof *st->layer);
    if (!st->layer) goto nomem;
    for (size_t l = 0; l < L; l++) {
        atomic_init(&st->layer[l].spikes, 0);
        st->layer[l].n = net->layers[l].size;
    }

    size_t n0 = st->layer[0].n, k = st->layer[L - 1].n, npre = st->layer[L - 2].n, bytes;
    if (!sbp__mul_size(npre, k, &bytes) || !sbp__mul_size(bytes, B, &bytes)) goto nomem;
    st->x = sbp__floats(B * n0);
    st->y = sbp__floats(B * k);
    st->labels = sbp__calloc(B, sizeof *st->labels);
    st->pred = sbp__calloc(B, sizeof *st->pred);
    st->dB = sbp__floats(bytes);
    if (!st->x || !st->y || !st->labels || !st->pred || !st->dB) goto nomem;

    const sbp_rule *sup = sbp__net_rule(net, L - 1, SBP_RULE_SUPERVISED_STDP);
    sbp__stdp_from_rule(sup, &st->sup); /* NULL: the rule's defaults */
    st->eta = st->sup.eta;

    for (size_t l = 1; l < L; l++) {
        sp_layer *ly = &st->layer[l];
        size_t n = ly->n, m = st->layer[l - 1].n, mn = m * n;
        int hidden = l + 1 < L;
        const sbp_rule *r = sbp__net_rule(net, l, SBP_RULE_HOMEOSTASIS);
        if (r) {
            ly->homeo = 1;
            sbp__homeo_from_rule(r, &ly->hp);
            ly->homeo_a = sbp__floats(n);
            ly->homeo_end = sbp__floats(B * n);
            if (!ly->homeo_a || !ly->homeo_end) goto nomem;
        }
        double conn = sbp__layer_param(net, l, SBP_LAYER_CONNECTIVITY);
        if (conn < 1.0) {
            sbp__rng crng;
            sbp__rng_init(&crng, net->seed, SALT_CONN + l);
            int failed;
            ly->conn = sbp__spread_mask(&crng, mn, conn, &failed);
            if (failed) goto nomem;
            size_t nnz = 0;
            for (size_t i = 0; i < mn; i++) nnz += ly->conn[i];
            ly->rowptr = sbp__calloc(m + 1, sizeof *ly->rowptr);
            ly->col = sbp__calloc(nnz ? nnz : 1, sizeof *ly->col);
            if (!ly->rowptr || !ly->col) goto nomem;
            size_t at = 0;
            for (size_t i = 0; i < m; i++) {
                ly->rowptr[i] = at;
                for (size_t j = 0; j < n; j++)
                    if (ly->conn[i * n + j]) ly->col[at++] = (uint32_t)j;
            }
            ly->rowptr[m] = at;
        }
        if ((r = sbp__net_rule(net, l, SBP_RULE_STP))) {
            ly->stp = 1;
            sbp__stp_from_rule(r, &ly->sp);
        }
        const sbp_rule *spread_rule = sbp__net_rule(net, l, SBP_RULE_SBP_SPREAD);
        sbp__spread_from_rule(spread_rule, SBP_SPREAD_ADDITIVE, &ly->spread);
        if (spread_rule && isnan(sbp__pv(spread_rule->params, SBP_SPREAD_LAMBDA_F)))
            ly->spread.lambda_f = DEFAULT_LAMBDA_F;
        ly->spread_on = hidden && ly->spread.enabled;
        if (ly->spread_on) {
            ly->E = sbp__floats(B * m);
            ly->S = sbp__floats(B * n);
            if (!ly->E || !ly->S) goto nomem;
            sbp__rng mrng;
            sbp__rng_init(&mrng, net->seed, SALT_MASK + l);
            int failed;
            ly->mask = sbp__spread_mask(&mrng, mn, ly->spread.lambda_p, &failed);
            if (failed) goto nomem;
            if (ly->mask && !(ly->dW = sbp__floats(mn))) goto nomem;
            if (ly->spread.retro == SBP_RETRO_RANDOM) {
                size_t up = st->layer[l + 1].n;
                sbp__rng rr;
                sbp__rng_init(&rr, net->seed, SALT_RETRO + l);
                if (!(ly->retro = sbp__floats(n * up))) goto nomem;
                for (size_t i = 0; i < n * up; i++)
                    ly->retro[i] = (float)(2.0 * sbp__rng_double(&rr) - 1.0);
            }
        }
        if (hidden && (r = sbp__net_rule(net, l, SBP_RULE_STDP))) {
            ly->stdp = 1;
            sbp__stdp_from_rule(r, &ly->stdpp);
            ly->xp = sbp__floats(m);
            ly->xq = sbp__floats(n);
            if (!ly->xp || !ly->xq) goto nomem;
            ly->record = 1;
            st->layer[l - 1].record = 1;
        }
    }

    /* Glorot-uniform weights times INIT_GAIN, biases 0; one stream per
     * projection as in the relax engine. A sparse projection of density c
     * draws the same stream, scales by its mean fan-in and fan-out
     * (c (rows + cols)), and zeroes its absent synapses. */
    for (size_t l = 1; l < L; l++) {
        size_t rows = st->layer[l - 1].n, cols = st->layer[l].n;
        sbp__rng wr;
        sbp__rng_init(&wr, net->seed, SALT_WEIGHTS + l);
        double fan = (double)(rows + cols);
        if (st->layer[l].conn) fan *= sbp__layer_param(net, l, SBP_LAYER_CONNECTIVITY);
        double scale = INIT_GAIN * sqrt(6.0 / fan);
        for (size_t i = 0; i < rows * cols; i++)
            net->w[l][i] = (float)((2.0 * sbp__rng_double(&wr) - 1.0) * scale);
    }
    zero_absent(net, st);
    sbp_status cs = load_constants(net, st);
    if (cs != SBP_OK) {
        spike_destroy(net);
        return cs;
    }
    return SBP_OK;
nomem:
    spike_destroy(net);
    return sbp__fail(net->errmsg, SBP_E_NOMEM, "out of memory allocating the spike engine");
}

/* ---- one sample ----------------------------------------------------------- */

typedef struct sp_job {
    const sbp_net *net;
    spike_state *st;
    const float *x;    /* c x n0 */
    const float *y;    /* c x k targets; NULL: prediction (no teaching, no learning) */
    int32_t *labels;   /* c: predicted classes */
    float *outputs;    /* c x k spike counts / T, or NULL */
    uint64_t seed;     /* of the samples' random streams */
    size_t first;      /* stream (global index) of task 0 */
} sp_job;

static sp_scratch *claim(spike_state *st)
{
    for (;;)
        for (size_t s = 0; s < st->n_scr; s++) {
            int expected = 0;
            if (atomic_compare_exchange_strong(&st->scr[s].busy, &expected, 1)) return &st->scr[s];
        }
}

static void reset_sample(const spike_state *st, sp_scratch *sc)
{
    memset(sc->lay[0].cnt, 0, st->layer[0].n * sizeof(float));
    for (size_t l = 1; l < st->L; l++) {
        const sp_layer *ly = &st->layer[l];
        sp_buf *b = &sc->lay[l];
        size_t n = ly->n;
        memset(b->V, 0, n * sizeof *b->V);
        memset(b->cnt, 0, n * sizeof *b->cnt);
        memset(b->ref, 0, n * sizeof *b->ref);
        if (ly->homeo) memcpy(b->a, ly->homeo_a, n * sizeof *b->a);
        if (ly->stp) {
            size_t m = st->layer[l - 1].n;
            for (size_t i = 0; i < m; i++) {
                b->u[i] = ly->sp.U; /* at rest */
                b->x[i] = 1.0f;
                b->last[i] = 0;
            }
        }
    }
}

/* Adds the spikes of layer l-1 to layer l's input current (the event loop)
 * and integrates layer l for one step. Returns the synaptic events. */
static size_t layer_step(const sbp_net *net, const spike_state *st, sp_scratch *sc, size_t l,
                         int32_t t)
{
    const sp_layer *ly = &st->layer[l];
    const sp_buf *pre = &sc->lay[l - 1];
    sp_buf *b = &sc->lay[l];
    size_t n = ly->n;
    float *restrict I = b->I;
    memcpy(I, net->b[l], n * sizeof *I); /* bias: constant current */
    const float *W = net->w[l];
    const size_t *rp = ly->rowptr;
    const uint32_t *col = ly->col;
    size_t events = pre->nspk * n;
    if (rp) { /* sparse: only the present synapses of each spiking row */
        events = 0;
        for (size_t s = 0; s < pre->nspk; s++) {
            uint32_t i = pre->spk[s];
            const float *restrict row = W + (size_t)i * n;
            float eff = 1.0f;
            if (ly->stp) {
                sbp__stp_relax(&ly->sp, (float)(t - b->last[i]) * st->dt, &b->u[i], &b->x[i]);
                b->last[i] = t;
                eff = sbp__stp_spike(&ly->sp, &b->u[i], &b->x[i]);
            }
            size_t k0 = rp[i], k1 = rp[i + 1];
            events += k1 - k0;
            if (ly->stp)
                for (size_t k = k0; k < k1; k++) I[col[k]] += eff * row[col[k]];
            else
                for (size_t k = k0; k < k1; k++) I[col[k]] += row[col[k]];
        }
    } else if (ly->stp) {
        for (size_t s = 0; s < pre->nspk; s++) {
            uint32_t i = pre->spk[s];
            const float *restrict row = W + (size_t)i * n;
            sbp__stp_relax(&ly->sp, (float)(t - b->last[i]) * st->dt, &b->u[i], &b->x[i]);
            b->last[i] = t;
            float eff = sbp__stp_spike(&ly->sp, &b->u[i], &b->x[i]);
            for (size_t j = 0; j < n; j++) I[j] += eff * row[j];
        }
    } else {
        st->kern->add_rows(I, W, n, pre->spk, pre->nspk);
    }
    size_t nspk = st->kern->spike_lif(b->V, b->ref, b->cnt, I, b->a, n, ly->decay, ly->v_th,
                                      ly->v_reset, ly->t_ref, b->spk);
    b->nspk = nspk;
    if (ly->homeo) sbp__homeo_step(&ly->hp, st->dt, b->a, n, b->spk, nspk);
    return events;
}

static void record_step(const spike_state *st, const sp_scratch *sc, size_t pos, size_t t)
{
    for (size_t l = 0; l < st->L; l++) {
        const sp_layer *ly = &st->layer[l];
        if (!ly->record) continue;
        const sp_buf *b = &sc->lay[l];
        size_t *off = ly->rec_off + pos * (st->T + 1);
        uint32_t *idx = ly->rec_idx + pos * st->T * ly->n;
        if (t == 0) off[0] = 0;
        memcpy(idx + off[t], b->spk, b->nspk * sizeof *idx);
        off[t + 1] = off[t] + b->nspk;
    }
}

/* Supervised STDP of the output projection for one step (rules/stdp.h):
 * dB_jk += eta x_j (teach_k(t) - out_k(t)); only the columns where the two
 * differ are touched, so this is event-driven as well. */
static void teach_step(const spike_state *st, sp_scratch *sc, sbp__rng *rng, float *dB)
{
    size_t L = st->L, k = st->layer[L - 1].n, n = st->layer[L - 2].n;
    const sp_buf *pre = &sc->lay[L - 2], *out = &sc->lay[L - 1];
    float *restrict tr = sc->trace;
    const float decay = st->sup_decay;
    for (size_t j = 0; j < n; j++) tr[j] *= decay;
    for (size_t s = 0; s < pre->nspk; s++) tr[pre->spk[s]] += 1.0f;
    size_t n_teach = 0;
    for (size_t c = 0; c < k; c++) /* one draw per output and step */
        if (sbp__rng_float(rng) < sc->teach_p[c]) sc->teach[n_teach++] = (uint32_t)c;
    sbp__stdp_supervised_step(&st->sup, tr, n, k, sc->teach, n_teach, out->spk, out->nspk, dB);
}

/* The SBP signals of the hidden layers from the sample's output change dB
 * (top hidden layer) and, below it, from the change the spread gives the
 * projection above (deep nets). Also stores each spreading layer's
 * presynaptic rates e. */
static void sample_signals(const sbp_net *net, const spike_state *st, sp_scratch *sc, size_t pos,
                           const float *dB)
{
    size_t L = st->L;
    if (L < 3) return;
    const float inv_t = 1.0f / (float)st->T;
    for (size_t l = L - 2; l >= 1; l--) {
        const sp_layer *ly = &st->layer[l];
        if (ly->spread_on) {
            size_t m = st->layer[l - 1].n, n = ly->n;
            const float *cnt = sc->lay[l - 1].cnt;
            float *E = ly->E + pos * m, *S = ly->S + pos * n;
            for (size_t i = 0; i < m; i++) E[i] = cnt[i] * inv_t;
            const sp_layer *up = &st->layer[l + 1];
            const float *change = NULL;
            if (l + 2 == L) {
                change = dB;
            } else if (up->spread_on) {
                /* this sample's share of the change of the projection above:
                 * lambda_f e (x) S there, masked */
                size_t n2 = up->n;
                const float *e = up->E + pos * n, *s2 = up->S + pos * n2;
                const float lf = (float)up->spread.lambda_f;
                float *ch = sc->chain;
                for (size_t j = 0; j < n; j++)
                    for (size_t q = 0; q < n2; q++) {
                        float v = lf * e[j] * s2[q];
                        ch[j * n2 + q] = (up->mask && !up->mask[j * n2 + q]) ||
                                                 (up->conn && !up->conn[j * n2 + q])
                                             ? 0.0f
                                             : v;
                    }
                change = ch;
            }
            if (change) {
                sbp__spread_add_signal(&ly->spread, change, net->w[l + 1], ly->retro, n, up->n,
                                       sc->s_plus, sc->s_minus);
                for (size_t j = 0; j < n; j++) S[j] = sc->s_plus[j] + sc->s_minus[j];
            } else {
                memset(S, 0, n * sizeof *S);
            }
        }
        if (l == 1) break;
    }
}

static void run_sample(const sp_job *job, size_t task, sp_scratch *sc)
{
    const sbp_net *net = job->net;
    spike_state *st = job->st;
    size_t L = st->L, T = st->T, n0 = st->layer[0].n, k = st->layer[L - 1].n;
    size_t npre = st->layer[L - 2].n;
    const float *x = job->x + task * n0;
    const float *y = job->y ? job->y + task * k : NULL;
    sbp__rng rng;
    sbp__rng_init(&rng, job->seed, (uint64_t)(job->first + task));
    reset_sample(st, sc);
    float *dB = NULL;
    if (y) {
        dB = st->dB + task * npre * k;
        memset(dB, 0, npre * k * sizeof *dB);
        memset(sc->trace, 0, npre * sizeof *sc->trace);
        const float step_s = st->dt * 1e-3f;
        for (size_t c = 0; c < k; c++) {
            float yc = y[c] > 0.0f ? (y[c] < 1.0f ? y[c] : 1.0f) : 0.0f;
            float p = (st->rest_rate + yc * (st->teach_rate - st->rest_rate)) * step_s;
            sc->teach_p[c] = p < 1.0f ? p : 1.0f;
        }
    }
    size_t events = 0, spikes[64] = {0};
    sp_buf *in = &sc->lay[0];
    const int poisson = st->enc.kind == SBP_ENCODER_POISSON;
    size_t n_act = poisson ? sbp__encode_active(&st->enc, x, st->d_enc, sc->act, sc->act_p) : 0;
    for (size_t t = 0; t < T; t++) {
        in->nspk = poisson ? sbp__encode_poisson_step(sc->act, sc->act_p, n_act, &rng, in->spk)
                           : sbp__encode_step(&st->enc, x, st->d_enc, t, &rng, in->spk);
        if (st->d_enc != n0) /* events: frame t has its own input neurons */
            for (size_t s = 0; s < in->nspk; s++) in->spk[s] += (uint32_t)(t * st->d_enc);
        for (size_t s = 0; s < in->nspk; s++) in->cnt[in->spk[s]] += 1.0f;
        spikes[0] += in->nspk;
        for (size_t l = 1; l < L; l++) {
            events += layer_step(net, st, sc, l, (int32_t)t);
            spikes[l] += sc->lay[l].nspk;
        }
        if (y) {
            record_step(st, sc, task, t);
            teach_step(st, sc, &rng, dB);
        }
    }

    /* class: most output spikes, ties to the higher membrane potential */
    const sp_buf *out = &sc->lay[L - 1];
    size_t best = 0;
    for (size_t c = 1; c < k; c++)
        if (out->cnt[c] > out->cnt[best] || (out->cnt[c] == out->cnt[best] && out->V[c] > out->V[best]))
            best = c;
    job->labels[task] = (int32_t)best;
    if (job->outputs) {
        const float inv_t = 1.0f / (float)T;
        for (size_t c = 0; c < k; c++) job->outputs[task * k + c] = out->cnt[c] * inv_t;
    }
    if (y) {
        const unsigned char *conn = st->layer[L - 1].conn;
        if (conn) /* absent output synapses do not change */
            for (size_t i = 0; i < npre * k; i++)
                if (!conn[i]) dB[i] = 0.0f;
        sample_signals(net, st, sc, task, dB);
        for (size_t l = 1; l < L; l++)
            if (st->layer[l].homeo)
                memcpy(st->layer[l].homeo_end + task * st->layer[l].n, sc->lay[l].a,
                       st->layer[l].n * sizeof(float));
    }
    atomic_fetch_add_explicit(&st->events, events, memory_order_relaxed);
    for (size_t l = 0; l < L; l++)
        atomic_fetch_add_explicit(&st->layer[l].spikes, spikes[l], memory_order_relaxed);
}

static void sample_task(void *ctx, size_t task)
{
    sp_job *job = ctx;
    sp_scratch *sc = claim(job->st);
    run_sample(job, task, sc);
    atomic_store(&sc->busy, 0);
}

/* ---- after a batch ---------------------------------------------------------- */

/* Pair STDP of the projection into hidden layer l, replayed sample after
 * sample (in order) from the recorded spikes. */
static void stdp_replay(sbp_net *net, const spike_state *st, size_t l, size_t c)
{
    const sp_layer *ly = &st->layer[l], *pre = &st->layer[l - 1];
    size_t m = pre->n, n = ly->n, T = st->T;
    float dp = sbp__trace_decay(ly->stdpp.tau_plus, st->dt);
    float dq = sbp__trace_decay(ly->stdpp.tau_minus, st->dt);
    for (size_t s = 0; s < c; s++) {
        memset(ly->xp, 0, m * sizeof(float));
        memset(ly->xq, 0, n * sizeof(float));
        const uint32_t *pi = pre->rec_idx + s * T * m, *qi = ly->rec_idx + s * T * n;
        const size_t *po = pre->rec_off + s * (T + 1), *qo = ly->rec_off + s * (T + 1);
        for (size_t t = 0; t < T; t++) {
            for (size_t i = 0; i < m; i++) ly->xp[i] *= dp;
            for (size_t j = 0; j < n; j++) ly->xq[j] *= dq;
            sbp__stdp_step(&ly->stdpp, net->w[l], m, n, pi + po[t], po[t + 1] - po[t],
                           qi + qo[t], qo[t + 1] - qo[t], ly->xp, ly->xq);
        }
    }
}

static void apply_batch(sbp_net *net, spike_state *st, size_t c)
{
    size_t L = st->L, count = st->layer[L - 2].n * st->layer[L - 1].n;
    /* output synapses: B += sum of the samples' dB, in sample order */
    float *acc = st->dB;
    for (size_t s = 1; s < c; s++) {
        const float *d = st->dB + s * count;
        for (size_t i = 0; i < count; i++) acc[i] += d[i];
    }
    float *w = net->w[L - 1];
    for (size_t i = 0; i < count; i++) w[i] += acc[i];
    /* hidden input synapses: dA = lambda_f E^T S (a rank-c product), masked */
    for (size_t l = 1; l + 1 < L; l++) {
        sp_layer *ly = &st->layer[l];
        if (!ly->spread_on) continue;
        size_t m = st->layer[l - 1].n, n = ly->n;
        float lf = (float)ly->spread.lambda_f;
        if (ly->mask) {
            sbp__sgemm(1, 0, m, n, c, lf, ly->E, m, ly->S, n, 0.0f, ly->dW, n);
            float *wl = net->w[l];
            for (size_t i = 0; i < m * n; i++)
                if (ly->mask[i]) wl[i] += ly->dW[i];
        } else {
            sbp__sgemm(1, 0, m, n, c, lf, ly->E, m, ly->S, n, 1.0f, net->w[l], n);
        }
    }
    for (size_t l = 1; l + 1 < L; l++)
        if (st->layer[l].stdp) stdp_replay(net, st, l, c);
    /* homeostatic adaptation: the mean of the samples' final values */
    for (size_t l = 1; l < L; l++) {
        sp_layer *ly = &st->layer[l];
        if (!ly->homeo) continue;
        size_t n = ly->n;
        memcpy(ly->homeo_a, ly->homeo_end, n * sizeof(float));
        for (size_t s = 1; s < c; s++)
            for (size_t j = 0; j < n; j++) ly->homeo_a[j] += ly->homeo_end[s * n + j];
        float inv = 1.0f / (float)c;
        for (size_t j = 0; j < n; j++) ly->homeo_a[j] *= inv;
    }
    zero_absent(net, st); /* whatever the rules above wrote there */
}

/* ---- engine entry points ------------------------------------------------- */

static sbp_status spike_train_epoch(sbp_net *net, const sbp_dataset *train, double *train_error)
{
    spike_state *st = net->state;
    SBP_TRY(load_constants(net, st));
    uint64_t seed = net->seed ^ (EPOCH_MIX * (st->epoch + 1));
    st->epoch++;
    size_t n = sbp_dataset_count(train), B = st->B, wrong = 0;
    for (size_t start = 0; start < n; start += B) {
        size_t c = n - start < B ? n - start : B;
        sbp_status s = sbp_dataset_batch(train, start, c, st->x, st->y, st->labels);
        if (s != SBP_OK) return sbp__fail(net->errmsg, s, "%s", sbp_dataset_errmsg(train));
        sp_job job = {net, st, st->x, st->y, st->pred, NULL, seed, start};
        sbp__pool_run(st->pool, sample_task, &job, c);
        for (size_t q = 0; q < c; q++) wrong += st->pred[q] != st->labels[q];
        apply_batch(net, st, c);
        SBP_TRY(sbp__net_progress(net, start + c, n));
    }
    *train_error = (double)wrong / (double)n;
    return SBP_OK;
}

/* Prediction: no teaching, no learning, fresh state per sample. Sample i
 * of a pass (resume continues the count) draws from its own stream, so a
 * pass gives the same answers whatever the chunking and thread count. */
static sbp_status spike_predict(sbp_net *net, size_t n, const float *x, int32_t *labels,
                                float *outputs, int resume)
{
    spike_state *st = net->state;
    SBP_TRY(load_constants(net, st));
    if (!resume) st->eval_next = 0;
    sp_job job = {net, st, x, NULL, labels, outputs, net->seed ^ SALT_EVAL, st->eval_next};
    sbp__pool_run(st->pool, sample_task, &job, n);
    st->eval_next += n;
    return SBP_OK;
}

static const spike_state *spike_state_of(const sbp_net *net)
{
    if (!net || net->tag != SBP__TAG_NET || net->ops != &sbp__spike_ops || !net->built)
        return NULL;
    return net->state;
}

size_t sbp__spike_events(const sbp_net *net)
{
    const spike_state *st = spike_state_of(net);
    return st ? atomic_load(&((spike_state *)st)->events) : 0;
}

size_t sbp__spike_count(const sbp_net *net, size_t layer)
{
    const spike_state *st = spike_state_of(net);
    if (!st || layer >= st->L) return 0;
    return atomic_load(&((spike_state *)st)->layer[layer].spikes);
}

/* ---- model files (lib/io.c) ------------------------------------------- */

/* The state carried across calls: the epoch counter (it seeds each epoch's
 * sample streams), the evaluation counter, the event and spike counters and
 * the homeostatic adaptation of every layer that has it. Masks and random
 * retro weights come back from the seed through init; per-sample and
 * per-batch buffers start afresh. */
static sbp_status spike_save_state(const sbp_net *net, sbp__writer *w)
{
    spike_state *st = net->state;
    sbp__put_u64(w, st->epoch);
    sbp__put_u64(w, st->eval_next);
    sbp__put_u64(w, atomic_load(&st->events));
    sbp__put_u64(w, st->L);
    for (size_t l = 0; l < st->L; l++) {
        sp_layer *ly = &st->layer[l];
        sbp__put_u64(w, atomic_load(&ly->spikes));
        sbp__put_u8(w, ly->homeo ? 1 : 0);
        if (ly->homeo) sbp__put_floats(w, ly->homeo_a, ly->n);
    }
    return SBP_OK;
}

static sbp_status spike_load_state(sbp_net *net, sbp__reader *r)
{
    spike_state *st = net->state;
    uint64_t epoch, eval_next, events, spikes;
    SBP_TRY(sbp__get_u64(r, &epoch, "the epoch counter"));
    SBP_TRY(sbp__get_u64(r, &eval_next, "the evaluation counter"));
    SBP_TRY(sbp__get_u64(r, &events, "the event counter"));
    SBP_TRY(sbp__get_count(r, st->L, "the spike state's layer count"));
    st->epoch = epoch;
    st->eval_next = (size_t)eval_next;
    atomic_store(&st->events, (size_t)events);
    for (size_t l = 0; l < st->L; l++) {
        sp_layer *ly = &st->layer[l];
        SBP_TRY(sbp__get_u64(r, &spikes, "a spike counter"));
        atomic_store(&ly->spikes, (size_t)spikes);
        size_t at = r->pos;
        int homeo;
        SBP_TRY(sbp__get_flag(r, &homeo, "the homeostasis flag"));
        if (homeo != ly->homeo)
            return sbp__reader_fail(r, SBP_E_MISMATCH, at, (uint64_t)ly->homeo, (uint64_t)homeo,
                                    "layer %zu: homeostatic state %s, but the layer %s a "
                                    "homeostasis rule", l, homeo ? "stored" : "missing",
                                    ly->homeo ? "has" : "has no");
        if (homeo)
            SBP_TRY(sbp__get_floats(r, ly->homeo_a, ly->n, "the adaptation of layer %zu", l));
    }
    return SBP_OK;
}

const sbp__engine_ops sbp__spike_ops = {
    .id = SBP_ENGINE_SPIKE,
    .name = "spike",
    .accepts_rule = spike_accepts,
    .defaults = NULL,
    .init = spike_init,
    .destroy = spike_destroy,
    .train_epoch = spike_train_epoch,
    .predict = spike_predict,
    .save_state = spike_save_state,
    .load_state = spike_load_state,
    .weights_written = spike_weights_written,
};
