/* Private layout of the network handle and the engine interface. */
#ifndef SBP_NET_H
#define SBP_NET_H

#include "objects.h"
#include "rng.h"

typedef struct sbp__engine_ops sbp__engine_ops;
struct sbp__writer; /* lib/io.h */
struct sbp__reader;

typedef struct sbp__net_layer {
    size_t size;
    double params[SBP__N_PARAMS];           /* copied layer description */
    struct sbp_rule *rules[SBP__RULE_KINDS + 1]; /* attached copies, by kind */
} sbp__net_layer;

struct sbp_net {
    uint32_t tag;
    sbp_engine engine;
    const sbp__engine_ops *ops;   /* NULL when the engine is not in this build */
    uint64_t seed;
    sbp__rng rng;                 /* the network's own stream (weight init, masks) */
    double params[SBP__N_PARAMS];
    size_t n_layers, cap_layers;
    sbp__net_layer *layers;
    int built;                    /* weights exist; topology frozen */
    float **w;                    /* w[l], l >= 1: size[l-1] x size[l], row-major */
    float **b;                    /* b[l], l >= 1: size[l] */
    void *state;                  /* engine-private */
    sbp_progress_fn progress;
    void *progress_user;
    char errmsg[SBP__MSG_MAX];
};

/* What an engine implements. Engines get a network whose layers, params and
 * rules are set and whose weights are allocated (zeroed); init fills them
 * and creates `state`. */
struct sbp__engine_ops {
    sbp_engine id;
    const char *name;
    /* Whether a rule kind can be attached to layer l of n layers. */
    int (*accepts_rule)(sbp_rule_kind kind, size_t layer_index, size_t n_layers);
    /* Engine defaults for parameters left at NaN. */
    void (*defaults)(sbp_net *net);
    sbp_status (*init)(sbp_net *net);
    void (*destroy)(sbp_net *net);
    sbp_status (*train_epoch)(sbp_net *net, const sbp_dataset *train, double *train_error);
    /* Must not change the training state. `resume` = 0 starts from the
     * training state; 1 continues the state of the previous predict call
     * (one evaluation pass over a dataset in several chunks). */
    sbp_status (*predict)(sbp_net *net, size_t n, const float *x, int32_t *labels,
                          float *outputs, int resume);
    /* Optional: 0 when training ignores the dataset's targets (so their
     * count need not match the last layer); NULL means targets are used. */
    int (*uses_targets)(const sbp_net *net);
    /* Optional (model files, lib/io.c): write / restore the private state
     * that training and prediction carry across calls, for a built network
     * (load_state runs right after init and the weights are restored). */
    sbp_status (*save_state)(const sbp_net *net, struct sbp__writer *w);
    sbp_status (*load_state)(sbp_net *net, struct sbp__reader *r);
    /* Optional: the user wrote the weights into layer l (sbp_net_set_weights);
     * the engine may restore its invariants on them (the spike engine zeroes
     * the absent synapses of a sparse projection). */
    void (*weights_written)(sbp_net *net, size_t layer_index);
};

extern const sbp__engine_ops sbp__relax_ops;
extern const sbp__engine_ops sbp__spike_ops;
extern const sbp__engine_ops sbp__ann_ops;
extern const sbp__engine_ops sbp__rbm_ops;

/* The engine table: NULL for engines not compiled in. */
const sbp__engine_ops *sbp__engine_lookup(sbp_engine engine);

/* Calls the progress callback; SBP_E_CANCELLED (with message) if it asks to
 * stop. */
sbp_status sbp__net_progress(sbp_net *net, size_t done, size_t total);

/* Makes *pool the size net.threads asks for (0: sbp_default_threads()),
 * replacing it when the setting changed since the last call; *replaced
 * (may be NULL) says so. SBP_E_NOMEM (with message) when threads cannot
 * start. */
struct sbp__pool;
sbp_status sbp__net_pool(sbp_net *net, struct sbp__pool **pool, int *replaced);

/* Parameter value of the network, layer or attached rule (NULL rule: none). */
double sbp__net_param(const sbp_net *net, sbp_param id);
double sbp__layer_param(const sbp_net *net, size_t layer, sbp_param id);
const struct sbp_rule *sbp__net_rule(const sbp_net *net, size_t layer, sbp_rule_kind kind);

#endif
