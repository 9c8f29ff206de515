#include "param.h"

#include <math.h>
#include <string.h>

#define I SBP_PARAM_INT
#define R SBP_PARAM_REAL
#define ENGINE_DEFAULT NAN
#define BIG 1e30

static const sbp__param_row rows[] = {
    /* network, all engines */
    {SBP_NET_BATCH_SIZE, SBP__G_NET, {"net.batch_size", "samples", I, 1, 1000000, 50}},
    {SBP_NET_THREADS, SBP__G_NET, {"net.threads", "", I, 0, 1024, 0}},
    {SBP_NET_OUTPUT_ACTIVATION, SBP__G_NET, {"net.output_activation", "", I, 1, 6, ENGINE_DEFAULT}},
    /* relax engine */
    {SBP_RELAX_BASE_RULE, SBP__G_RELAX, {"relax.base_rule", "", I, 1, 3, SBP_BASE_SBP}},
    {SBP_RELAX_FREE_ITERS, SBP__G_RELAX, {"relax.free_iters", "", I, 0, 100000, 20}},
    {SBP_RELAX_NUDGE_ITERS, SBP__G_RELAX, {"relax.nudge_iters", "", I, 0, 100000, 5}},
    {SBP_RELAX_EPSILON, SBP__G_RELAX, {"relax.epsilon", "", R, 0, 1, 0.5}},
    {SBP_RELAX_BETA, SBP__G_RELAX, {"relax.beta", "", R, 1e-6, 100, 0.5}},
    {SBP_RELAX_DT, SBP__G_RELAX, {"relax.dt", "ms", R, 1e-6, 1000, 0.1}},
    {SBP_RELAX_T, SBP__G_RELAX, {"relax.T", "ms", R, 0, 1e6, 10}},
    {SBP_RELAX_TAU_M, SBP__G_RELAX, {"relax.tau_m", "ms", R, 1e-6, 1e6, 10}},
    {SBP_RELAX_TAU_S, SBP__G_RELAX, {"relax.tau_s", "ms", R, 1e-6, 1e6, 2}},
    {SBP_RELAX_G_LEAK, SBP__G_RELAX, {"relax.g_leak", "nS", R, 1e-6, 1e6, 5}},
    {SBP_RELAX_V_LEAK, SBP__G_RELAX, {"relax.v_leak", "", R, -BIG, BIG, 0}},
    {SBP_RELAX_V_E, SBP__G_RELAX, {"relax.v_e", "", R, -BIG, BIG, 0.2}},
    {SBP_RELAX_V_TH, SBP__G_RELAX, {"relax.v_th", "", R, -BIG, BIG, 0.05}},
    {SBP_RELAX_V_RESET, SBP__G_RELAX, {"relax.v_reset", "", R, -BIG, BIG, -0.5}},
    {SBP_RELAX_NAIVE, SBP__G_RELAX, {"relax.naive", "", I, 0, 1, 0}},
    /* spike engine */
    {SBP_SPIKE_DT, SBP__G_SPIKE, {"spike.dt", "ms", R, 1e-3, 100, 1}},
    {SBP_SPIKE_STEPS, SBP__G_SPIKE, {"spike.steps", "", I, 1, 1000000, 50}},
    {SBP_SPIKE_ENCODER, SBP__G_SPIKE, {"spike.encoder", "", I, 1, 3, SBP_ENCODER_POISSON}},
    {SBP_SPIKE_MAX_RATE, SBP__G_SPIKE, {"spike.max_rate", "Hz", R, 0, 1000, 200}},
    {SBP_SPIKE_TEACH_RATE, SBP__G_SPIKE, {"spike.teach_rate", "Hz", R, 0, 1000, 200}},
    {SBP_SPIKE_REST_RATE, SBP__G_SPIKE, {"spike.rest_rate", "Hz", R, 0, 1000, 0}},
    /* ann engine */
    {SBP_ANN_LOSS, SBP__G_ANN, {"ann.loss", "", I, 1, 2, SBP_LOSS_SOFTMAX_XENT}},
    {SBP_ANN_OPTIMIZER, SBP__G_ANN, {"ann.optimizer", "", I, 1, 2, SBP_OPT_SGD}},
    {SBP_ANN_MOMENTUM, SBP__G_ANN, {"ann.momentum", "", R, 0, 0.999999, 0.9}},
    {SBP_ANN_HIDDEN_MODE, SBP__G_ANN, {"ann.hidden_mode", "", I, 1, 3, SBP_HIDDEN_BP}},
    {SBP_ANN_BP_EVERY, SBP__G_ANN, {"ann.bp_every", "batches", I, 1, 1000000, 10}},
    {SBP_ANN_ADAM_BETA1, SBP__G_ANN, {"ann.adam_beta1", "", R, 0, 0.999999, 0.9}},
    {SBP_ANN_ADAM_BETA2, SBP__G_ANN, {"ann.adam_beta2", "", R, 0, 0.999999999, 0.999}},
    {SBP_ANN_REPLACE_BP, SBP__G_ANN, {"ann.replace_bp", "", R, 0, 1, ENGINE_DEFAULT}},
    /* layer */
    {SBP_LAYER_ACTIVATION, SBP__G_LAYER, {"layer.activation", "", I, 1, 6, ENGINE_DEFAULT}},
    {SBP_LAYER_LEARNING_RATE, SBP__G_LAYER, {"layer.learning_rate", "", R, 0, 1e6, ENGINE_DEFAULT}},
    {SBP_LAYER_TAU_M, SBP__G_LAYER, {"layer.tau_m", "ms", R, 1e-3, 1e6, 20}},
    {SBP_LAYER_V_TH, SBP__G_LAYER, {"layer.v_th", "", R, 1e-9, BIG, 1}},
    {SBP_LAYER_V_RESET, SBP__G_LAYER, {"layer.v_reset", "", R, -BIG, BIG, 0}},
    {SBP_LAYER_T_REF, SBP__G_LAYER, {"layer.t_ref", "steps", I, 0, 1000000, 2}},
    {SBP_LAYER_CONNECTIVITY, SBP__G_LAYER, {"layer.connectivity", "", R, 1e-6, 1, 1}},
    /* SBP spread */
    {SBP_SPREAD_ENABLED, SBP__G_SPREAD, {"spread.enabled", "", I, 0, 1, 1}},
    {SBP_SPREAD_FORM, SBP__G_SPREAD, {"spread.form", "", I, 1, 3, ENGINE_DEFAULT}},
    {SBP_SPREAD_FRACTION, SBP__G_SPREAD, {"spread.fraction", "", R, 0, 100, 0.2}},
    {SBP_SPREAD_LAMBDA_PRE, SBP__G_SPREAD, {"spread.lambda_pre", "", R, 0, 100, 1}},
    {SBP_SPREAD_LAMBDA_POST, SBP__G_SPREAD, {"spread.lambda_post", "", R, 0, 100, 0.5}},
    {SBP_SPREAD_LAMBDA_BP, SBP__G_SPREAD, {"spread.lambda_bp", "", R, 0, 100, 1}},
    {SBP_SPREAD_PROPAGATION_RANGE, SBP__G_SPREAD, {"spread.propagation_range", "", R, 0, 100, 0.1}},
    {SBP_SPREAD_LAMBDA_P, SBP__G_SPREAD, {"spread.lambda_p", "", R, 0, 1, 1}},
    {SBP_SPREAD_LAMBDA_F, SBP__G_SPREAD, {"spread.lambda_f", "", R, 0, 100, ENGINE_DEFAULT}},
    {SBP_SPREAD_RETRO_WEIGHT, SBP__G_SPREAD, {"spread.retro_weight", "", I, 1, 4, SBP_RETRO_SIGNED}},
    {SBP_SPREAD_SPLIT_LTP_LTD, SBP__G_SPREAD, {"spread.split_ltp_ltd", "", I, 0, 1, 0}},
    /* STDP */
    {SBP_STDP_A_PLUS, SBP__G_STDP, {"stdp.a_plus", "", R, 0, 100, 0.01}},
    {SBP_STDP_A_MINUS, SBP__G_STDP, {"stdp.a_minus", "", R, 0, 100, 0.0105}},
    {SBP_STDP_TAU_PLUS, SBP__G_STDP, {"stdp.tau_plus", "ms", R, 1e-3, 1e6, 20}},
    {SBP_STDP_TAU_MINUS, SBP__G_STDP, {"stdp.tau_minus", "ms", R, 1e-3, 1e6, 20}},
    {SBP_STDP_W_MIN, SBP__G_STDP, {"stdp.w_min", "", R, -BIG, BIG, -1}},
    {SBP_STDP_W_MAX, SBP__G_STDP, {"stdp.w_max", "", R, -BIG, BIG, 1}},
    {SBP_STDP_MULTIPLICATIVE, SBP__G_STDP, {"stdp.multiplicative", "", I, 0, 1, 0}},
    {SBP_STDP_ETA, SBP__G_STDP, {"stdp.eta", "", R, 0, 1e6, 1e-4}},
    /* STP */
    {SBP_STP_U, SBP__G_STP, {"stp.U", "", R, 0, 1, 0.45}},
    {SBP_STP_TAU_F, SBP__G_STP, {"stp.tau_f", "ms", R, 1e-3, 1e6, 10}},
    {SBP_STP_TAU_D, SBP__G_STP, {"stp.tau_d", "ms", R, 1e-3, 1e6, 2}},
    {SBP_STP_TAU_S, SBP__G_STP, {"stp.tau_s", "ms", R, 1e-3, 1e6, 2}},
    /* homeostasis */
    {SBP_HOMEO_THETA_PLUS, SBP__G_HOMEO, {"homeo.theta_plus", "", R, 0, BIG, 0.05}},
    {SBP_HOMEO_TAU_THETA, SBP__G_HOMEO, {"homeo.tau_theta", "ms", R, 1e-3, 1e9, 1000}},
    {SBP_HOMEO_TARGET_RATE, SBP__G_HOMEO, {"homeo.target_rate", "Hz", R, 0, 1000, 0}},
    /* contrastive divergence */
    {SBP_CD_K, SBP__G_CD, {"cd.k", "", I, 1, 1000, 1}},
    {SBP_CD_PERSISTENT, SBP__G_CD, {"cd.persistent", "", I, 0, 1, 0}},
    {SBP_CD_WEIGHT_DECAY, SBP__G_CD, {"cd.weight_decay", "", R, 0, 1, 0.0001}},
    {SBP_CD_MOMENTUM, SBP__G_CD, {"cd.momentum", "", R, 0, 0.999999, 0.5}},
    {SBP_CD_MONITOR, SBP__G_CD, {"cd.monitor", "", I, 0, 1, 1}},
};

#undef I
#undef R

#define N_ROWS (sizeof rows / sizeof rows[0])

/* Value arrays are sized by SBP__N_PARAMS; keep it in step with the table. */
_Static_assert(N_ROWS <= SBP__N_PARAMS, "raise SBP__N_PARAMS");

size_t sbp__param_count(void)
{
    return N_ROWS;
}

const sbp__param_row *sbp__param_row_at(size_t slot)
{
    return slot < N_ROWS ? &rows[slot] : NULL;
}

int sbp__param_slot(sbp_param id)
{
    for (size_t i = 0; i < N_ROWS; i++)
        if (rows[i].id == id) return (int)i;
    return -1;
}

const sbp__param_row *sbp__param_row_of(sbp_param id)
{
    int s = sbp__param_slot(id);
    return s < 0 ? NULL : &rows[s];
}

void sbp__param_defaults(double *values)
{
    for (size_t i = 0; i < SBP__N_PARAMS; i++)
        values[i] = i < N_ROWS ? rows[i].desc.default_value : NAN;
}

sbp_status sbp_param_info(sbp_param param, sbp_param_desc *out)
{
    const sbp__param_row *r = sbp__param_row_of(param);
    if (!r || !out) return SBP_E_INVALID;
    *out = r->desc;
    return SBP_OK;
}

sbp_status sbp_param_by_name(const char *name, sbp_param *out)
{
    if (!name || !out) return SBP_E_INVALID;
    for (size_t i = 0; i < N_ROWS; i++) {
        if (strcmp(rows[i].desc.name, name) == 0) {
            *out = rows[i].id;
            return SBP_OK;
        }
    }
    return SBP_E_INVALID;
}

static sbp_status lookup(unsigned group_mask, const char *what, sbp_param id,
                         char *errbuf, int *slot)
{
    *slot = sbp__param_slot(id);
    SBP_RETURN_IF(*slot < 0, errbuf, SBP_E_INVALID, "unknown parameter 0x%X", (unsigned)id);
    const sbp__param_row *r = &rows[*slot];
    SBP_RETURN_IF(!(group_mask & (1u << r->group)), errbuf, SBP_E_INVALID,
                  "parameter '%s' does not apply to a %s", r->desc.name, what);
    return SBP_OK;
}

sbp_status sbp__param_set(double *values, unsigned group_mask, const char *what,
                          sbp_param id, double value, int is_int, char *errbuf)
{
    int slot;
    SBP_TRY(lookup(group_mask, what, id, errbuf, &slot));
    const sbp_param_desc *d = &rows[slot].desc;
    SBP_RETURN_IF(d->type == SBP_PARAM_INT && !is_int, errbuf, SBP_E_INVALID,
                  "parameter '%s' is an integer: use the _int setter", d->name);
    SBP_RETURN_IF(d->type == SBP_PARAM_REAL && is_int, errbuf, SBP_E_INVALID,
                  "parameter '%s' is real-valued: use the _real setter", d->name);
    SBP_RETURN_IF(!isfinite(value), errbuf, SBP_E_NUMERIC,
                  "parameter '%s' must be finite", d->name);
    SBP_RETURN_IF(value < d->min || value > d->max, errbuf, SBP_E_RANGE,
                  "parameter '%s' = %g is outside [%g, %g]", d->name, value, d->min, d->max);
    values[slot] = value;
    return SBP_OK;
}

sbp_status sbp__param_get(const double *values, unsigned group_mask, const char *what,
                          sbp_param id, double *value, char *errbuf)
{
    int slot;
    SBP_RETURN_IF(!value, errbuf, SBP_E_INVALID, "output pointer is NULL");
    SBP_TRY(lookup(group_mask, what, id, errbuf, &slot));
    *value = values[slot];
    return SBP_OK;
}

double sbp__pv(const double *values, sbp_param id)
{
    int s = sbp__param_slot(id);
    return s < 0 ? NAN : values[s];
}
