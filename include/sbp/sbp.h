/**
 * @file sbp.h
 * @brief libsbp: self-backpropagation (SBP) learning for spiking and dense
 * networks.
 *
 * This is the whole stable C API. Everything here is exported from libsbp.so.0
 * and nothing else is. See docs/ for concepts, threading and determinism.
 *
 * Conventions
 *  - Every fallible call returns an sbp_status. SBP_OK is 0; the other values
 *    are pinned and only ever appended to.
 *  - Handles are opaque. Each type has a create/free pair; free accepts NULL.
 *  - A handle is used by one thread at a time. Different handles may be used
 *    from different threads concurrently; the library has no global mutable
 *    state (BLAS thread pools are the BLAS library's own business).
 *  - On failure a handle keeps a one-line message describing the last error,
 *    readable with sbp_*_errmsg(). The message is valid until the next call
 *    on that handle.
 *  - Ownership: "copies" means the library keeps its own copy and the caller
 *    may free or reuse its argument right away; "borrows" means the caller's
 *    object must stay alive (and unchanged) for as long as stated.
 *  - Same seed + same thread count + same build => bit-identical results.
 *
 * The generated header sbp_version.h, included here, defines
 * SBP_VERSION_MAJOR, SBP_VERSION_MINOR, SBP_VERSION_PATCH,
 * SBP_VERSION_STRING and SBP_VERSION_NUMBER (MAJOR*10000 + MINOR*100 +
 * PATCH) of the headers a program was compiled with.
 *
 * Since 0.1.0 unless stated otherwise.
 */
#ifndef SBP_SBP_H
#define SBP_SBP_H

#include <stddef.h>
#include <stdint.h>

#include "sbp_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @def SBP_API
 * Marks the exported functions: default visibility with GCC and Clang
 * (libsbp is built with hidden visibility), nothing when SBP_STATIC_BUILD
 * is defined or on other compilers. */
#if defined(SBP_STATIC_BUILD)
#define SBP_API
#elif defined(__GNUC__) && __GNUC__ >= 4
#define SBP_API __attribute__((visibility("default")))
#else
#define SBP_API
#endif

/* ------------------------------------------------------------------------ */
/** @name Version */
/* ------------------------------------------------------------------------ */
/** @{ */

/** SBP_VERSION_NUMBER of the library actually loaded (may differ from the
 * header's if the program was built against another release). */
SBP_API unsigned sbp_version_number(void);
/** "MAJOR.MINOR.PATCH" of the loaded library; static storage. */
SBP_API const char *sbp_version_string(void);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Status codes (values pinned; append only) */
/* ------------------------------------------------------------------------ */
/** @{ */

/** Result of every fallible call (docs/errors.md). SBP_OK is 0; the other
 * values are pinned and only ever appended to, so they may be stored and
 * compared across versions and processes. */
typedef enum sbp_status {
    SBP_OK = 0,            /**< success */
    SBP_E_INVALID = 1,     /**< bad argument: NULL, wrong handle kind, bad enum */
    SBP_E_RANGE = 2,       /**< parameter value outside its documented bounds */
    SBP_E_NOMEM = 3,       /**< allocation failed; the handle stays usable */
    SBP_E_IO = 4,          /**< open/read/write failed (errno text in message) */
    SBP_E_FORMAT = 5,      /**< file content is malformed (magic, dimensions) */
    SBP_E_TRUNCATED = 6,   /**< file ends before the data it announces */
    SBP_E_TOO_LARGE = 7,   /**< sizes beyond the documented limits or overflow */
    SBP_E_MISMATCH = 8,    /**< sizes of two inputs do not agree */
    SBP_E_STATE = 9,       /**< call not valid in the handle's current state */
    SBP_E_UNSUPPORTED = 10,/**< feature or engine not available in this build */
    SBP_E_NUMERIC = 11,    /**< NaN or Inf where a finite number is required */
    SBP_E_CHECKSUM = 12,   /**< stored checksum does not match the content */
    SBP_E_VERSION = 13,    /**< data written by a newer, incompatible version */
    SBP_E_CANCELLED = 14,  /**< a progress callback asked to stop */
    SBP_E_COMPRESSION = 15,/**< corrupt compressed (gzip) stream */
    SBP_E_INTERNAL = 16    /**< a bug in libsbp; please report it */
} sbp_status;

/** Static, never-NULL English text for a status ("out of memory"). Unknown
 * values give "unknown status". */
SBP_API const char *sbp_status_str(sbp_status status);
/** Static identifier of a status ("SBP_E_NOMEM"); NULL for unknown values. */
SBP_API const char *sbp_status_name(sbp_status status);

/** Where a loader found a problem. Pass NULL if not wanted. All strings are
 * NUL-terminated and truncated to fit. */
typedef struct sbp_diag {
    sbp_status status;     /**< same as the return value */
    char file[256];        /**< path of the offending file ("" if none) */
    uint64_t offset;       /**< byte offset in the (decompressed) file */
    uint64_t line;         /**< 1-based line for text formats, 0 otherwise */
    uint64_t expected;     /**< expected value/size when meaningful, else 0 */
    uint64_t found;        /**< value/size found when meaningful, else 0 */
    char message[512];     /**< one line: what was wrong, where */
} sbp_diag;

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Parameters */
/* ------------------------------------------------------------------------ */
/** @{ */

/** One pinned enum for every tunable, grouped by owner. Each parameter has a
 * type (integer or real), inclusive bounds and a default; query them with
 * sbp_param_info(). Setting a value outside the bounds is refused with
 * SBP_E_RANGE, never clamped. Values are pinned; new ones are appended. */
typedef enum sbp_param {
    /* network, all engines (0x100) */
    SBP_NET_BATCH_SIZE = 0x100,   /**< int, samples per mini-batch (default 50) */
    SBP_NET_THREADS = 0x101,      /**< int, worker threads for engines that use them; 0 = one per core (default). Results do not depend on it. */
    SBP_NET_OUTPUT_ACTIVATION = 0x102, /**< int sbp_activation of the output layer (engine default) */

    /* relax engine: the paper's released SNN (model.md section 4) (0x200) */
    SBP_RELAX_BASE_RULE = 0x200,  /**< int sbp_base_rule (default SBP_BASE_SBP) */
    SBP_RELAX_FREE_ITERS = 0x201, /**< int, free relaxation iterations (20) */
    SBP_RELAX_NUDGE_ITERS = 0x202,/**< int, nudged relaxation iterations (5) */
    SBP_RELAX_EPSILON = 0x203,    /**< real, relaxation step (0.5) */
    SBP_RELAX_BETA = 0x204,       /**< real, nudging strength (0.5) */
    SBP_RELAX_DT = 0x205,         /**< real ms, LIF integration step (0.1) */
    SBP_RELAX_T = 0x206,          /**< real ms, integration time per batch (10) */
    SBP_RELAX_TAU_M = 0x207,      /**< real ms, membrane time constant (10) */
    SBP_RELAX_TAU_S = 0x208,      /**< real ms, synaptic conductance time constant (2) */
    SBP_RELAX_G_LEAK = 0x209,     /**< real nS, leak conductance (5) */
    SBP_RELAX_V_LEAK = 0x20A,     /**< real, leak reversal potential (0) */
    SBP_RELAX_V_E = 0x20B,        /**< real, excitatory reversal potential (0.2) */
    SBP_RELAX_V_TH = 0x20C,       /**< real, firing threshold (0.05) */
    SBP_RELAX_V_RESET = 0x20D,    /**< real, reset potential (-0.5) */
    SBP_RELAX_NAIVE = 0x20E,      /**< int 0/1, recompute the input product every LIF step (slow; for benchmarks) */

    /* spike engine: event-driven LIF (model.md section 3) (0x300) */
    SBP_SPIKE_DT = 0x300,         /**< real ms, time step (1) */
    SBP_SPIKE_STEPS = 0x301,      /**< int, time steps per sample (50) */
    SBP_SPIKE_ENCODER = 0x302,    /**< int sbp_encoder (default SBP_ENCODER_POISSON) */
    SBP_SPIKE_MAX_RATE = 0x303,   /**< real Hz, input rate of a pixel of value 1 (200) */
    SBP_SPIKE_TEACH_RATE = 0x304, /**< real Hz, teaching rate of target outputs (200) */
    SBP_SPIKE_REST_RATE = 0x305,  /**< real Hz, teaching rate of other outputs (0) */

    /* ann engine: dense MLP (model.md section 5) (0x400) */
    SBP_ANN_LOSS = 0x400,         /**< int sbp_loss (default SBP_LOSS_SOFTMAX_XENT) */
    SBP_ANN_OPTIMIZER = 0x401,    /**< int sbp_optimizer (default SBP_OPT_SGD) */
    SBP_ANN_MOMENTUM = 0x402,     /**< real, SGD momentum (0.9) */
    SBP_ANN_HIDDEN_MODE = 0x403,  /**< int sbp_hidden_mode (default SBP_HIDDEN_BP) */
    SBP_ANN_BP_EVERY = 0x404,     /**< int k: with SBP_HIDDEN_MIXED every k-th batch uses the true gradient (10) */
    SBP_ANN_ADAM_BETA1 = 0x405,   /**< real (0.9) */
    SBP_ANN_ADAM_BETA2 = 0x406,   /**< real (0.999) */
    SBP_ANN_REPLACE_BP = 0x407,   /**< real in [0,1]: with SBP_HIDDEN_MIXED, the fraction of batches whose hidden update is SBP; batch b (0-based, counted since the weights were built) uses the true gradient when floor((b+1)(1-r)) > floor(b(1-r)). Unset: 1 - 1/SBP_ANN_BP_EVERY */

    /* layer (0x500); set on an sbp_layer before adding it */
    SBP_LAYER_ACTIVATION = 0x500, /**< int sbp_activation (engine default) */
    SBP_LAYER_LEARNING_RATE = 0x501, /**< real, rate of the weights INTO this layer (engine default; relax 0.1, 0.05) */
    SBP_LAYER_TAU_M = 0x502,      /**< real ms, spike engine membrane time constant (20) */
    SBP_LAYER_V_TH = 0x503,       /**< real, spike engine threshold (1) */
    SBP_LAYER_V_RESET = 0x504,    /**< real, spike engine reset potential (0) */
    SBP_LAYER_T_REF = 0x505,      /**< int steps, spike engine refractory period (2) */
    SBP_LAYER_CONNECTIVITY = 0x506, /**< real in (0,1], spike engine: density of the projection INTO this layer; < 1 draws a fixed random sparse (CSR) mask from the seed (1) */

    /* SBP spread rule (model.md section 2) (0x600) */
    SBP_SPREAD_ENABLED = 0x600,   /**< int 0/1; 0 = exact ablation (identity) (1) */
    SBP_SPREAD_FORM = 0x601,      /**< int sbp_spread_form (default engine's: relax multiplicative, others additive) */
    SBP_SPREAD_FRACTION = 0x602,  /**< real f, multiplicative form (0.2) */
    SBP_SPREAD_LAMBDA_PRE = 0x603,/**< real (1) */
    SBP_SPREAD_LAMBDA_POST = 0x604, /**< real (0.5) */
    SBP_SPREAD_LAMBDA_BP = 0x605, /**< real (1) */
    SBP_SPREAD_PROPAGATION_RANGE = 0x606, /**< real (0.1); accepted for parity, has no effect */
    SBP_SPREAD_LAMBDA_P = 0x607,  /**< real, density of the fixed spread mask (1) */
    SBP_SPREAD_LAMBDA_F = 0x608,  /**< real, fraction of the output change spread back (additive form) / scale of f (0.5 additive; 1 multiplicative) */
    SBP_SPREAD_RETRO_WEIGHT = 0x609, /**< int sbp_retro_weight (default SBP_RETRO_SIGNED: the one that carries an error signal) */
    SBP_SPREAD_SPLIT_LTP_LTD = 0x60A, /**< int 0/1, sum LTP and LTD parts separately (0) */

    /* pair STDP and supervised STDP (0x700) */
    SBP_STDP_A_PLUS = 0x700,      /**< real, potentiation amplitude (0.01) */
    SBP_STDP_A_MINUS = 0x701,     /**< real, depression amplitude (0.0105) */
    SBP_STDP_TAU_PLUS = 0x702,    /**< real ms (20) */
    SBP_STDP_TAU_MINUS = 0x703,   /**< real ms (20) */
    SBP_STDP_W_MIN = 0x704,       /**< real (-1) */
    SBP_STDP_W_MAX = 0x705,       /**< real (1) */
    SBP_STDP_MULTIPLICATIVE = 0x706, /**< int 0/1, soft bounds (0) */
    SBP_STDP_ETA = 0x707,         /**< real, supervised STDP learning rate per sample; a batch sums its samples' changes (1e-4) */

    /* Tsodyks-Markram short-term plasticity (0x800) */
    SBP_STP_U = 0x800,            /**< real, utilisation increment (0.45) */
    SBP_STP_TAU_F = 0x801,        /**< real ms, facilitation time constant (10) */
    SBP_STP_TAU_D = 0x802,        /**< real ms, depression time constant (2) */
    SBP_STP_TAU_S = 0x803,        /**< real ms, synaptic current time constant, relax engine (2) */

    /* homeostatic threshold (0x900) */
    SBP_HOMEO_THETA_PLUS = 0x900, /**< real, threshold increase per spike (0.05) */
    SBP_HOMEO_TAU_THETA = 0x901,  /**< real ms, threshold decay time constant (1000) */
    SBP_HOMEO_TARGET_RATE = 0x902,/**< real Hz, target rate; 0 = plain increment form (0) */

    /* RBM contrastive divergence (0xA00) */
    SBP_CD_K = 0xA00,             /**< int, Gibbs steps per update (1) */
    SBP_CD_PERSISTENT = 0xA01,    /**< int 0/1, persistent chains (0) */
    SBP_CD_WEIGHT_DECAY = 0xA02,  /**< real (0.0001) */
    SBP_CD_MOMENTUM = 0xA03,      /**< real (0.5) */
    SBP_CD_MONITOR = 0xA04        /**< int 0/1, unsupervised RBM: compute the reconstruction
                                       error reported as training error (1); 0 skips it (one
                                       product less per batch with persistent chains) and
                                       reports NaN */
} sbp_param;

/** Type of a parameter's value, which decides the setter to use. */
typedef enum sbp_param_type {
    SBP_PARAM_INT = 1,  /**< set with the *_set_int functions */
    SBP_PARAM_REAL = 2  /**< set with the *_set_real functions */
} sbp_param_type;

/** Static description of a parameter. */
typedef struct sbp_param_desc {
    const char *name;       /**< dotted name, e.g. "relax.beta" */
    const char *unit;       /**< "ms", "Hz", "" ... */
    sbp_param_type type;    /**< SBP_PARAM_INT or SBP_PARAM_REAL */
    /** Inclusive lower bound; values outside [min, max] are refused (SBP_E_RANGE). */
    double min, max;        /**< inclusive upper bound */
    double default_value;   /**< NaN when the default depends on the engine */
} sbp_param_desc;

/** Fills *out for a known parameter, SBP_E_INVALID otherwise. The strings
 * are static. */
SBP_API sbp_status sbp_param_info(sbp_param param, sbp_param_desc *out);
/** Parameter with the given dotted name; SBP_E_INVALID if none. */
SBP_API sbp_status sbp_param_by_name(const char *name, sbp_param *out);

/** Engine of a network (sbp_net_create); values pinned. */
typedef enum sbp_engine {
    SBP_ENGINE_RELAX = 1, /**< relaxation SNN of the paper's released code */
    SBP_ENGINE_SPIKE = 2, /**< event-driven LIF network */
    SBP_ENGINE_ANN = 3,   /**< dense MLP on BLAS */
    SBP_ENGINE_RBM = 4    /**< classification RBM on BLAS */
} sbp_engine;

/** Base rule of the relax engine (SBP_RELAX_BASE_RULE), written with pre
 * and post the states of the layers below and above a projection, 0 free
 * and b nudged, ' the transpose, beta SBP_RELAX_BETA and B the batch size
 * (docs/relax.md). */
typedef enum sbp_base_rule {
    SBP_BASE_SYMMETRIC = 1,   /**< (pre_b' post_b - pre_0' post_0)/(beta B): published baseline */
    SBP_BASE_DIFFERENTIAL = 2,/**< (pre_b' post_0 - pre_0' post_0)/(beta B) */
    SBP_BASE_SBP = 3          /**< pre_0' (post_b - post_0)/(beta B): published "with SBP" */
} sbp_base_rule;

/** Activation of a layer (SBP_LAYER_ACTIVATION, SBP_NET_OUTPUT_ACTIVATION);
 * which ones an engine accepts is in its docs page. */
typedef enum sbp_activation {
    SBP_ACT_SIGMOID = 1,        /**< 1/(1+exp(-z)) */
    SBP_ACT_TANH = 2,           /**< tanh(z) */
    SBP_ACT_RELU = 3,           /**< max(z,0) */
    SBP_ACT_SCALED_SIGMOID = 4, /**< 2/(1+exp(-z)) - 1, the relax engine's hidden activation */
    SBP_ACT_CLIP01 = 5,         /**< min(max(z,0),1) */
    SBP_ACT_LINEAR = 6          /**< z */
} sbp_activation;

/** Form of the SBP spread operator (SBP_SPREAD_FORM; docs/rules/sbp-spread.md). */
typedef enum sbp_spread_form {
    SBP_SPREAD_ADDITIVE = 1,       /**< model.md 2a */
    SBP_SPREAD_MULTIPLICATIVE = 2, /**< model.md 2b, the authors' code */
    SBP_SPREAD_FEEDBACK = 3        /**< ann engine: the authors' spiking-MLP variant, a fixed random
                                      feedback matrix scaled by each hidden neuron's summed
                                      |output-weight change| (model.md section 5) */
} sbp_spread_form;

/** Retrograde weighting w_jk of the additive spread S_j = sum_k w_jk dB_jk
 * (SBP_SPREAD_RETRO_WEIGHT), with B the hidden neuron's output weights. */
typedef enum sbp_retro_weight {
    SBP_RETRO_UNIFORM = 1,  /**< w_jk = 1 */
    SBP_RETRO_EFFICACY = 2, /**< w_jk = |B_jk| */
    SBP_RETRO_SIGNED = 3,   /**< w_jk = B_jk: the weighting that carries an error signal */
    SBP_RETRO_RANDOM = 4    /**< w_jk = R_jk, a fixed U(-1,1) matrix drawn from the seed */
} sbp_retro_weight;

/** How the spike engine turns features into input spikes (SBP_SPIKE_ENCODER). */
typedef enum sbp_encoder {
    SBP_ENCODER_POISSON = 1, /**< feature x spikes with probability x * max_rate * dt per step */
    SBP_ENCODER_LATENCY = 2, /**< one spike per positive feature, earlier for larger x */
    SBP_ENCODER_EVENTS = 3   /**< the features are per-step event frames (sbp_events_to_frames) */
} sbp_encoder;

/** Loss of the ann engine's output layer (SBP_ANN_LOSS). */
typedef enum sbp_loss {
    SBP_LOSS_MSE = 1,         /**< mean squared error */
    SBP_LOSS_SOFTMAX_XENT = 2 /**< softmax output with cross-entropy */
} sbp_loss;

/** Optimizer of the ann engine (SBP_ANN_OPTIMIZER). */
typedef enum sbp_optimizer {
    SBP_OPT_SGD = 1, /**< SGD with momentum SBP_ANN_MOMENTUM */
    SBP_OPT_ADAM = 2 /**< Adam with SBP_ANN_ADAM_BETA1, SBP_ANN_ADAM_BETA2 */
} sbp_optimizer;

/** How the ann engine's hidden layers learn (SBP_ANN_HIDDEN_MODE). */
typedef enum sbp_hidden_mode {
    SBP_HIDDEN_BP = 1,   /**< true gradient */
    SBP_HIDDEN_SBP = 2,  /**< SBP spread of the output change */
    SBP_HIDDEN_MIXED = 3 /**< SBP, with the true gradient every SBP_ANN_BP_EVERY batches */
} sbp_hidden_mode;

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Datasets */
/* ------------------------------------------------------------------------ */
/** @{ */

/** A dataset holds n samples of d float32 features (row-major) and, per
 * sample, a float32 target vector of length k (one-hot for classification,
 * multi-hot allowed) plus an integer label (-1 when the target is not a
 * single class). It also holds a presentation order (initially 0..n-1) used
 * by batch reads; shuffling permutes the order, not the data.
 * Thread safety: concurrent reads (batch, sample, shape) of one dataset from
 * several threads are safe; mutating calls (shuffle, normalize) are not. */
typedef struct sbp_dataset sbp_dataset;

/** Copies x (n*d floats), labels (n ints in 0..n_classes-1) into a new
 * classification dataset with one-hot targets of length n_classes. */
SBP_API sbp_status sbp_dataset_create(size_t n, size_t d, const float *x,
                                      const int32_t *labels, size_t n_classes,
                                      sbp_dataset **out);
/** Copies x (n*d) and targets (n*k) into a new dataset with arbitrary
 * (e.g. multi-hot) targets; labels are the argmax of each target row when
 * it has exactly one non-zero entry, -1 otherwise. */
SBP_API sbp_status sbp_dataset_create_targets(size_t n, size_t d, const float *x,
                                              size_t k, const float *targets,
                                              sbp_dataset **out);

/** Loads an IDX image file (magic 0x00000803, uint8 pixels) and an IDX label
 * file (0x00000801, labels 0..9), each raw or gzip-compressed (detected by
 * content). Pixels are scaled to [0,1] (x/255). n_classes is 10. On failure
 * *out is NULL and diag (if given) says which file, where and what. */
SBP_API sbp_status sbp_dataset_load_idx(const char *images_path,
                                        const char *labels_path,
                                        sbp_diag *diag, sbp_dataset **out);

/** Part of MNIST to load (sbp_dataset_load_mnist). */
typedef enum sbp_mnist_part {
    SBP_MNIST_TRAIN = 1, /**< train-images-idx3-ubyte[.gz] (60 000) or the bundled train10k sample */
    SBP_MNIST_TEST = 2   /**< t10k-images-idx3-ubyte[.gz] (10 000) */
} sbp_mnist_part;

/** Loads one part of MNIST from a directory holding the standard file names
 * (raw or .gz). For SBP_MNIST_TRAIN the full training set is preferred; a
 * directory holding only train10k-* files (the bundled sample) is accepted. */
SBP_API sbp_status sbp_dataset_load_mnist(const char *dir, sbp_mnist_part part,
                                          sbp_diag *diag, sbp_dataset **out);

/** Frees a dataset and everything it holds. Accepts NULL. */
SBP_API void sbp_dataset_free(sbp_dataset *ds);

SBP_API size_t sbp_dataset_count(const sbp_dataset *ds);    /**< Samples n; 0 for NULL. */
SBP_API size_t sbp_dataset_features(const sbp_dataset *ds); /**< Features d per sample; 0 for NULL. */
SBP_API size_t sbp_dataset_targets(const sbp_dataset *ds);  /**< Target units k per sample; 0 for NULL. */
/** Number of classes for classification datasets (== k), 0 if the targets
 * are not all single-class. */
SBP_API size_t sbp_dataset_classes(const sbp_dataset *ds);

/** Copies sample i (in storage order, not presentation order) into x (d
 * floats) and/or target (k floats) and/or label; any may be NULL. */
SBP_API sbp_status sbp_dataset_sample(const sbp_dataset *ds, size_t i, float *x,
                                      float *target, int32_t *label);

/** Permutes the presentation order with a seeded Fisher-Yates shuffle. */
SBP_API sbp_status sbp_dataset_shuffle(sbp_dataset *ds, uint64_t seed);
/** Restores the presentation order 0..n-1. */
SBP_API sbp_status sbp_dataset_reset_order(sbp_dataset *ds);

/** Copies `count` samples starting at presentation position `start` into x
 * (count*d), targets (count*k) and labels (count); any output may be NULL.
 * Positions past the end are an error (SBP_E_RANGE). For mini-batch b of
 * size B use start = b*B, count = min(B, n - b*B). */
SBP_API sbp_status sbp_dataset_batch(const sbp_dataset *ds, size_t start, size_t count,
                                     float *x, float *targets, int32_t *labels);

/** New dataset with samples [start, start+count) of the presentation order
 * (copies the data). */
SBP_API sbp_status sbp_dataset_subset(const sbp_dataset *ds, size_t start, size_t count,
                                      sbp_dataset **out);
/** Seeded split: shuffles a copy of the order with `seed`, then the first
 * n_validation samples go to *validation and the rest to *train (both are
 * new datasets, copies). Either output may be NULL. */
SBP_API sbp_status sbp_dataset_split(const sbp_dataset *ds, size_t n_validation,
                                     uint64_t seed, sbp_dataset **train,
                                     sbp_dataset **validation);
/** Rescales all features linearly to [0,1] using the dataset's global min and
 * max (a constant dataset becomes all zeros). NaN/Inf features: SBP_E_NUMERIC. */
SBP_API sbp_status sbp_dataset_normalize(sbp_dataset *ds);

/** One-line message about the last failed call on the dataset ("" if none);
 * valid until the next call on it. */
SBP_API const char *sbp_dataset_errmsg(const sbp_dataset *ds);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Event streams (docs/events.md) */
/* ------------------------------------------------------------------------ */
/** @{ */

/** One event of an event camera. The layout is pinned (16 bytes). */
typedef struct sbp_event {
    uint64_t t;        /**< timestamp in microseconds */
    /** Pixel column: 0 <= x < width. */
    uint16_t x, y;     /**< pixel row: 0 <= y < height */
    uint8_t polarity;  /**< 1 = ON (brighter), 0 = OFF */
} sbp_event;

/** File format of an event recording (sbp_events_read). */
typedef enum sbp_event_format {
    SBP_EVENTS_BS2 = 1,   /**< N-MNIST binary ("bs2"): 5-byte events, no header */
    SBP_EVENTS_AEDAT3 = 2 /**< AEDAT 3.1 (DVS128 Gesture): '#' header, then packets */
} sbp_event_format;

/** Reads every event of a recording (raw or gzip-compressed) in file order
 * into a new array *events (free it with sbp_events_free; NULL when *count
 * is 0). AEDAT: polarity events only; other packet types and events whose
 * valid bit is 0 are skipped. Every coordinate must lie on a sensor of
 * width x height pixels (1..32768 each) and timestamps must never decrease;
 * otherwise, and for any malformed or truncated content, the call fails and
 * diag names the file, the byte offset and the problem. */
SBP_API sbp_status sbp_events_read(const char *path, sbp_event_format format, unsigned width,
                                   unsigned height, sbp_diag *diag, sbp_event **events,
                                   size_t *count);
/** Frees an array returned by sbp_events_read. Accepts NULL. */
SBP_API void sbp_events_free(sbp_event *events);

/** How a time window is cut into frames (sbp_event_frames.binning). */
typedef enum sbp_event_binning {
    SBP_EVENT_BIN_TIME = 1, /**< F frames of equal duration */
    SBP_EVENT_BIN_COUNT = 2 /**< F frames of equal event counts (differing by at most 1) */
} sbp_event_binning;

/** What happens to the polarity of events (sbp_event_frames.polarity). */
typedef enum sbp_event_polarity {
    SBP_EVENT_POLARITY_SPLIT = 1, /**< two channels: ON, then OFF */
    SBP_EVENT_POLARITY_MERGE = 2  /**< one channel for both */
} sbp_event_polarity;

/** The value of a frame cell (sbp_event_frames.value). */
typedef enum sbp_event_value {
    SBP_EVENT_VALUE_COUNT = 1, /**< events per cell */
    SBP_EVENT_VALUE_BINARY = 2 /**< 1 if the cell has any event, else 0 */
} sbp_event_value;

/** How events become a sample's features. Versioned by size: set
 * struct_size = sizeof(sbp_event_frames) (SBP_EVENT_FRAMES_INIT does) and
 * leave unused fields 0, which always means the default. A library older
 * than the header reads the fields it knows and refuses (SBP_E_VERSION) a
 * larger struct whose unknown fields are not 0; a newer one gives fields
 * past struct_size their defaults. A NULL pointer means all defaults. */
typedef struct sbp_event_frames {
    size_t struct_size;  /**< sizeof(sbp_event_frames) */
    size_t frames;       /**< F, frames per sample, 1..65536; 0: 10 */
    unsigned downsample; /**< s: pixel (x, y) goes to cell (x/s, y/s), 1..32768; 0: 1 */
    int binning;         /**< sbp_event_binning; 0: SBP_EVENT_BIN_TIME */
    int polarity;        /**< sbp_event_polarity; 0: SBP_EVENT_POLARITY_SPLIT */
    int value;           /**< sbp_event_value; 0: SBP_EVENT_VALUE_COUNT */
} sbp_event_frames;

/** Initializer of an sbp_event_frames with every option at its default:
 * `sbp_event_frames opt = SBP_EVENT_FRAMES_INIT;` */
#define SBP_EVENT_FRAMES_INIT {sizeof(sbp_event_frames), 0, 0, 0, 0, 0}

/** Features of one sample from a width x height sensor:
 * F x C x ceil(height/s) x ceil(width/s), C = 2 (split) or 1 (merged).
 * Checks the options. */
SBP_API sbp_status sbp_event_frames_features(const sbp_event_frames *opt, unsigned width,
                                             unsigned height, sbp_diag *diag,
                                             size_t *features);

/** Bins the events with t_begin <= t < t_end (t_end > t_begin; at most
 * 2^40 us apart) into out, which must hold exactly the features above and
 * is overwritten. Layout [frame][channel][y/s][x/s] (step-major, as the
 * spike engine's events encoder expects with spike.steps = F). Equal time:
 * an event goes to frame floor((t - t_begin) F / (t_end - t_begin)). Equal
 * count: the m events of the window, in order, go to frame floor(j F / m)
 * for the j-th (0-based). Events must be in time order and on the sensor. */
SBP_API sbp_status sbp_events_to_frames(const sbp_event *events, size_t count, unsigned width,
                                        unsigned height, uint64_t t_begin, uint64_t t_end,
                                        const sbp_event_frames *opt, sbp_diag *diag,
                                        float *out, size_t out_count);

/** N-MNIST: a directory of ID.bs2 recordings (34 x 34) and a label file
 * (labels_path, or dir/labels.txt when NULL): '#' header/comment lines,
 * then "id TAB class" lines (class 0..9; LF or CR LF). One sample per line,
 * in file order; the frames cover each recording from its first event to
 * its last. 10 classes. */
SBP_API sbp_status sbp_dataset_load_nmnist(const char *dir, const char *labels_path,
                                           const sbp_event_frames *opt, sbp_diag *diag,
                                           sbp_dataset **out);

/** Part of DVS128 Gesture to load (sbp_dataset_load_dvsgesture). */
typedef enum sbp_dvsgesture_part {
    SBP_DVSGESTURE_TRAIN = 1, /**< the recordings listed in trials_to_train.txt */
    SBP_DVSGESTURE_TEST = 2   /**< those in trials_to_test.txt */
} sbp_dvsgesture_part;

/** DVS128 Gesture from the official folder (dir is DvsGesture/ or its
 * parent): each listed userNN_LIGHTING.aedat (AEDAT 3.1, 128 x 128) with
 * its userNN_LIGHTING_labels.csv gives one sample per labelled interval
 * [startTime_usec, endTime_usec), in list and row order; classes 1..11
 * become labels 0..10. 11 classes. */
SBP_API sbp_status sbp_dataset_load_dvsgesture(const char *dir, sbp_dvsgesture_part part,
                                               const sbp_event_frames *opt, sbp_diag *diag,
                                               sbp_dataset **out);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name NETtalk (docs/nettalk.md) */
/* ------------------------------------------------------------------------ */
/** @{ */

/* One sample per letter of a word: the input is the 7-letter window centred
 * on it, each position one-hot over 27 symbols (a..z = 0..25, 26 = the
 * blank beyond the word's edges): input unit p*27 + symbol, p = 0..6, the
 * letter itself at p = 3. The target is 26 units: the letter's phoneme code
 * (units 0..20, from features.tsv) followed by its stress code (units
 * 21..25, from stress.tsv). Targets are multi-hot, so labels are -1. */
#define SBP_NETTALK_WINDOW 7          /**< letters in an input window */
#define SBP_NETTALK_SYMBOLS 27        /**< symbols per window position: a..z and the blank */
#define SBP_NETTALK_INPUTS 189        /**< input units: SBP_NETTALK_WINDOW x SBP_NETTALK_SYMBOLS */
#define SBP_NETTALK_ARTICULATORY 21   /**< phoneme (articulatory feature) units of a target */
#define SBP_NETTALK_STRESS_UNITS 5    /**< stress units of a target */
#define SBP_NETTALK_UNITS 26          /**< target units: articulatory + stress */
#define SBP_NETTALK_MAX_PHONEMES 64   /**< largest phoneme table sbp_nettalk_codes holds */
#define SBP_NETTALK_MAX_STRESS 16     /**< largest stress table sbp_nettalk_codes holds */

/** The unit code table: each phoneme symbol's 21 articulatory units and each
 * stress symbol's 5 stress units (1 = on, 0 = off), in file order. The
 * bundled table has 51 phonemes and 5 stress symbols; /J/ and /G/ have the
 * same code there (the paper's table), so decoding counts them as one. */
typedef struct sbp_nettalk_codes {
    size_t n_phonemes;  /**< 1..SBP_NETTALK_MAX_PHONEMES */
    size_t n_stress;    /**< 1..SBP_NETTALK_MAX_STRESS */
    char phonemes[SBP_NETTALK_MAX_PHONEMES + 1]; /**< the symbols, NUL-terminated */
    char stress[SBP_NETTALK_MAX_STRESS + 1];     /**< the stress symbols, NUL-terminated */
    /** Row p: the 21 articulatory units of phonemes[p] (1 on, 0 off). */
    float phoneme_code[SBP_NETTALK_MAX_PHONEMES][SBP_NETTALK_ARTICULATORY];
    /** Row s: the 5 stress units of stress[s] (1 on, 0 off). */
    float stress_code[SBP_NETTALK_MAX_STRESS][SBP_NETTALK_STRESS_UNITS];
} sbp_nettalk_codes;

/** How sbp_nettalk_load splits the corpus into training and test windows. */
typedef enum sbp_nettalk_split {
    /** train: the letters of the words of nettalk.list (the 1 000 most
     * common words: 5 438 windows), in list order; test: the letters of
     * every other distinct word of the corpus (18 801 words: 140 209
     * windows), in corpus order. The seed is not used. */
    SBP_NETTALK_PAPER = 1,
    /** seeded word-level split of the whole corpus: a shuffle of the
     * distinct words puts (words + 5) / 10 of them (1 980) in test, in
     * corpus order, and the rest in train, in shuffled order. */
    SBP_NETTALK_WORDS = 2,
    /** validation inside the paper's training words, for tuning without
     * the test words: a seeded shuffle of the words of nettalk.list puts
     * (words + 2) / 5 of them (200: about 1 100 windows) in the second
     * dataset, in corpus order, and the rest in train, in list order. No
     * window of a test word of SBP_NETTALK_PAPER is in either. */
    SBP_NETTALK_PAPER_VAL = 3
} sbp_nettalk_split;

/** Loads a NETtalk directory (nettalk.data, features.tsv, stress.tsv and,
 * for the paper splits, nettalk.list) and builds the two datasets (either
 * output may be NULL, not both). Words listed more than once keep their
 * first pronunciation only. On failure both outputs are NULL and diag (if
 * given) names the file, line and byte offset and says what was wrong. */
SBP_API sbp_status sbp_nettalk_load(const char *dir, sbp_nettalk_split split, uint64_t seed,
                                    sbp_diag *diag, sbp_dataset **train, sbp_dataset **test);
/** Reads the code table from dir/features.tsv and dir/stress.tsv. */
SBP_API sbp_status sbp_nettalk_load_codes(const char *dir, sbp_diag *diag,
                                          sbp_nettalk_codes *codes);
/** Decodes n output rows of 26 units by the smallest angle: units 0..20 to
 * the phoneme whose code has the largest cosine with them, units 21..25 to
 * the stress symbol likewise (ties: the first in table order, so /J/
 * decodes as /G/ in the bundled table). Writes indices into
 * codes->phonemes / codes->stress, -1 for a part that is all zero or not
 * finite. Either output array may be NULL. */
SBP_API sbp_status sbp_nettalk_decode(const sbp_nettalk_codes *codes, const float *outputs,
                                      size_t n, int32_t *phonemes, int32_t *stress);
/** Scores n output rows against their targets (n x 26 each):
 *  phoneme_accuracy  fraction of rows whose units 0..20 decode (as above)
 *                    to the same phoneme code as the target's;
 *  stress_accuracy   the same for units 21..25;
 *  cosine_score      the paper's metric, 1 - mean cosine distance over the
 *                    26 units = mean of o.t / (|o| |t|); a row with |o| = 0
 *                    or a non-finite output scores 0.
 * Any output pointer may be NULL. Non-finite targets: SBP_E_NUMERIC. */
SBP_API sbp_status sbp_nettalk_score(const sbp_nettalk_codes *codes, const float *outputs,
                                     const float *targets, size_t n,
                                     double *phoneme_accuracy, double *stress_accuracy,
                                     double *cosine_score);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Layers */
/* ------------------------------------------------------------------------ */
/** @{ */

/** A layer is a description (size and neuron parameters). Adding it to a
 * network copies it, so one layer object can describe many layers. */
typedef struct sbp_layer sbp_layer;

/** Creates a description of a layer of `size` neurons (SBP_E_RANGE for 0,
 * SBP_E_TOO_LARGE beyond the library's limit) with every layer parameter
 * at its default. */
SBP_API sbp_status sbp_layer_create(size_t size, sbp_layer **out);
/** Frees a layer description. Accepts NULL. */
SBP_API void sbp_layer_free(sbp_layer *layer);
/** Number of neurons; 0 for NULL. */
SBP_API size_t sbp_layer_size(const sbp_layer *layer);
/** Sets an integer layer parameter (SBP_LAYER_*). A parameter of another
 * group, or of the other type, is refused with SBP_E_INVALID; a value
 * outside the bounds with SBP_E_RANGE (never clamped); NaN or infinity
 * with SBP_E_NUMERIC. The same holds for every sbp_*_set_int /
 * sbp_*_set_real function. */
SBP_API sbp_status sbp_layer_set_int(sbp_layer *layer, sbp_param param, int64_t value);
/** Sets a real layer parameter (SBP_LAYER_*); see sbp_layer_set_int. */
SBP_API sbp_status sbp_layer_set_real(sbp_layer *layer, sbp_param param, double value);
/** Reads an integer layer parameter; 0 while an engine-chosen default is
 * unset. */
SBP_API sbp_status sbp_layer_get_int(const sbp_layer *layer, sbp_param param, int64_t *value);
/** Reads a layer parameter as a double; NaN while an engine-chosen default
 * is unset. */
SBP_API sbp_status sbp_layer_get_real(const sbp_layer *layer, sbp_param param, double *value);
/** One-line message about the last failed call on the layer ("" if none);
 * valid until the next call on it. */
SBP_API const char *sbp_layer_errmsg(const sbp_layer *layer);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Plasticity rules */
/* ------------------------------------------------------------------------ */
/** @{ */

/** Kind of a plasticity rule (docs/rules/). Which engines and layers accept
 * which kinds is in each engine's page. */
typedef enum sbp_rule_kind {
    SBP_RULE_STDP = 1,           /**< pair STDP with traces (unsupervised) */
    SBP_RULE_SUPERVISED_STDP = 2,/**< STDP against teaching spike trains */
    SBP_RULE_STP = 3,            /**< Tsodyks-Markram short-term plasticity */
    SBP_RULE_HOMEOSTASIS = 4,    /**< homeostatic threshold */
    SBP_RULE_SBP_SPREAD = 5,     /**< the SBP retrograde spread operator */
    SBP_RULE_RBM_CD = 6          /**< contrastive divergence for the RBM engine */
} sbp_rule_kind;

/** A rule is a description (kind and parameters); attaching it to a network
 * copies it. Thread safety: as for all handles. */
typedef struct sbp_rule sbp_rule;

/** Creates a rule of the given kind (SBP_E_INVALID for an unknown kind)
 * with every parameter at its default. */
SBP_API sbp_status sbp_rule_create(sbp_rule_kind kind, sbp_rule **out);
/** Frees a rule description. Accepts NULL. */
SBP_API void sbp_rule_free(sbp_rule *rule);
/** The rule's kind; 0 for NULL. */
SBP_API sbp_rule_kind sbp_rule_get_kind(const sbp_rule *rule);
/** Static name of a rule kind ("sbp_spread", as in docs/rules/); NULL for
 * unknown values. */
SBP_API const char *sbp_rule_kind_name(sbp_rule_kind kind);
/** Sets an integer parameter of the rule's group (STDP and supervised STDP:
 * SBP_STDP_*, STP: SBP_STP_*, homeostasis: SBP_HOMEO_*, spread:
 * SBP_SPREAD_*, RBM CD: SBP_CD_*); see sbp_layer_set_int for the errors. */
SBP_API sbp_status sbp_rule_set_int(sbp_rule *rule, sbp_param param, int64_t value);
/** Sets a real parameter of the rule's group; see sbp_rule_set_int. */
SBP_API sbp_status sbp_rule_set_real(sbp_rule *rule, sbp_param param, double value);
/** Reads an integer rule parameter; 0 while an engine-chosen default is
 * unset. */
SBP_API sbp_status sbp_rule_get_int(const sbp_rule *rule, sbp_param param, int64_t *value);
/** Reads a rule parameter as a double; NaN while an engine-chosen default
 * is unset. */
SBP_API sbp_status sbp_rule_get_real(const sbp_rule *rule, sbp_param param, double *value);
/** One-line message about the last failed call on the rule ("" if none);
 * valid until the next call on it. */
SBP_API const char *sbp_rule_errmsg(const sbp_rule *rule);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Networks */
/* ------------------------------------------------------------------------ */
/** @{ */

/** A network: an engine, a stack of layers (input first), the projections
 * between consecutive layers, the rules attached to them, its weights and
 * its own random number generator. Weights are created on first use
 * (train, evaluate, predict or weight access); after that the topology is
 * frozen (SBP_E_STATE). */
typedef struct sbp_net sbp_net;

/** Creates an empty network of the given engine with its random stream
 * seeded by `seed`. An engine not compiled into this build still creates a
 * handle; training it returns SBP_E_UNSUPPORTED with a message. */
SBP_API sbp_status sbp_net_create(sbp_engine engine, uint64_t seed, sbp_net **out);
/** Frees a network and everything it owns. Accepts NULL. */
SBP_API void sbp_net_free(sbp_net *net);
/** The network's engine; 0 for NULL. */
SBP_API sbp_engine sbp_net_get_engine(const sbp_net *net);
/** Static name of an engine ("relax"); NULL for unknown values. */
SBP_API const char *sbp_engine_name(sbp_engine engine);
/** Whether an engine is implemented in this build (1) or not (0). */
SBP_API int sbp_engine_available(sbp_engine engine);

/** Appends a layer (copies its description). Layer 0 is the input. */
SBP_API sbp_status sbp_net_add_layer(sbp_net *net, const sbp_layer *layer);
/** Number of layers, the input layer included; 0 for NULL. */
SBP_API size_t sbp_net_layer_count(const sbp_net *net);
/** Neurons of layer `layer_index`; 0 for NULL or an index past the last
 * layer. */
SBP_API size_t sbp_net_layer_size(const sbp_net *net, size_t layer_index);

/** The seed the network was created with (or loaded with, for a network
 * read from a model file). */
SBP_API sbp_status sbp_net_get_seed(const sbp_net *net, uint64_t *seed);
/** A new layer description equal to layer `layer_index` of the network
 * (0 is the input; SBP_E_RANGE past the last layer): its size and
 * parameters as they were added (or loaded), so a loaded network can be
 * inspected; a parameter left to the engine's default reads as unset (see
 * sbp_layer_get_real). The caller frees *out with sbp_layer_free. */
SBP_API sbp_status sbp_net_get_layer(const sbp_net *net, size_t layer_index, sbp_layer **out);
/** A new rule description equal to the rule of `kind` attached to layer
 * `layer_index` (>= 1; SBP_E_RANGE otherwise), or *out = NULL with SBP_OK
 * when no rule of that kind is attached there. An unknown kind is
 * SBP_E_INVALID. The caller frees *out with sbp_rule_free. */
SBP_API sbp_status sbp_net_get_rule(const sbp_net *net, size_t layer_index, sbp_rule_kind kind,
                                    sbp_rule **out);

/** Attaches a rule (copies it) to layer `layer_index` (>= 1): synaptic rules
 * act on the projection INTO that layer, neuron rules (STP, homeostasis) on
 * the layer's neurons. An engine that cannot use the rule kind refuses it
 * with SBP_E_UNSUPPORTED. Attaching a rule of a kind already attached to the
 * same layer replaces it. */
SBP_API sbp_status sbp_net_attach_rule(sbp_net *net, size_t layer_index, const sbp_rule *rule);
/** Removes a rule kind from a layer; SBP_OK even if none was attached. */
SBP_API sbp_status sbp_net_detach_rule(sbp_net *net, size_t layer_index, sbp_rule_kind kind);

/** Sets an integer network parameter: SBP_NET_* and those of the network's
 * engine (SBP_RELAX_*, SBP_SPIKE_*, SBP_ANN_*); see sbp_layer_set_int for
 * the errors. Parameters are read when they are used, so a change between
 * epochs takes effect, except SBP_NET_BATCH_SIZE, which cannot change once
 * the network is built (SBP_E_STATE). */
SBP_API sbp_status sbp_net_set_int(sbp_net *net, sbp_param param, int64_t value);
/** Sets a real network parameter; see sbp_net_set_int. */
SBP_API sbp_status sbp_net_set_real(sbp_net *net, sbp_param param, double value);
/** Reads an integer network parameter; 0 while an engine-chosen default is
 * unset. */
SBP_API sbp_status sbp_net_get_int(const sbp_net *net, sbp_param param, int64_t *value);
/** Reads a network parameter as a double; NaN while an engine-chosen
 * default is unset. */
SBP_API sbp_status sbp_net_get_real(const sbp_net *net, sbp_param param, double *value);

/** Progress callback: called from the training thread after each mini-batch
 * with the samples done and the total of the current call. A non-zero
 * return value stops the call, which returns SBP_E_CANCELLED (the network
 * stays valid; the interrupted epoch's updates so far are kept). */
typedef int (*sbp_progress_fn)(void *user, size_t done, size_t total);
/** Installs a progress callback for sbp_net_train_epoch and sbp_net_evaluate;
 * `user` is passed back to it unchanged. fn = NULL removes it. Not saved
 * in model files. */
SBP_API sbp_status sbp_net_set_progress(sbp_net *net, sbp_progress_fn fn, void *user);

/** One pass over `train` in its presentation order, in mini-batches of
 * SBP_NET_BATCH_SIZE. *train_error (may be NULL) receives the fraction of
 * training samples misclassified during the pass. Borrows `train` for the
 * duration of the call. */
SBP_API sbp_status sbp_net_train_epoch(sbp_net *net, const sbp_dataset *train,
                                       double *train_error);
/** Classification error on `data` without changing the training state. */
SBP_API sbp_status sbp_net_evaluate(sbp_net *net, const sbp_dataset *data, double *error);
/** Predicts n samples x (n * input size); writes class indices to labels
 * (n) and, if outputs is not NULL, the output layer state (n * output size). */
SBP_API sbp_status sbp_net_predict(sbp_net *net, size_t n, const float *x,
                                   int32_t *labels, float *outputs);

/** Weights of the projection into layer `layer_index` (>= 1), row-major
 * (rows = size of layer_index-1, columns = size of layer_index). `count`
 * must equal rows*columns. */
SBP_API sbp_status sbp_net_get_weights(sbp_net *net, size_t layer_index, float *w, size_t count);
/** Replaces the weights of the projection into layer `layer_index` (copies
 * w; layout and count as for sbp_net_get_weights; SBP_E_NUMERIC if a value
 * is not finite). Like sbp_net_get_weights, builds the network if needed. */
SBP_API sbp_status sbp_net_set_weights(sbp_net *net, size_t layer_index, const float *w, size_t count);

/** One-line message about the last failed call on the network ("" if none);
 * valid until the next call on it. */
SBP_API const char *sbp_net_errmsg(const sbp_net *net);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Computational cost, as the paper measures it (model.md section 7) */
/* ------------------------------------------------------------------------ */
/** @{ */

/** Per-epoch complexity formula of model.md section 7 (docs/cost.md), for m
 * inputs, n hidden and k output neurons. */
typedef enum sbp_cost_model {
    SBP_COST_SNN = 1,   /**< mn + nk + n: the SNN with or without SBP */
    SBP_COST_BBT = 2,   /**< mn + nk + n + m: the comparison figure's SNN without SBP */
    SBP_COST_DENSE = 3  /**< mn + nk + kn + nm: RBM and BP-trained nets */
} sbp_cost_model;

/** Per-epoch complexity for m inputs, n hidden and k outputs; 0 for an
 * unknown model. */
SBP_API double sbp_cost_per_epoch(sbp_cost_model model, size_t m, size_t n, size_t k);

/** Mean epochs to reach five error thresholds, for a pair of test-error
 * curves a (e.g. without SBP) and b (with SBP), errors as fractions.
 * lo = max(min a, min b), hi = min(max a, max b, cap) (cap <= 0: no cap);
 * thresholds = 5 values evenly spaced from lo to hi; for each, the first
 * 1-based epoch whose error is <= the threshold, or `budget` if never
 * reached (budget 0: the curve's length). Results are the means over the
 * five thresholds. NaN errors are refused (SBP_E_NUMERIC). */
SBP_API sbp_status sbp_cost_mean_epochs(const double *a, size_t n_a, const double *b,
                                        size_t n_b, double cap, size_t budget,
                                        double *epochs_a, double *epochs_b);

/** Mean and population standard deviation (divide by n) of n >= 1 values. */
SBP_API sbp_status sbp_cost_mean_std(const double *values, size_t n, double *mean,
                                     double *std);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Build information */
/* ------------------------------------------------------------------------ */
/** @{ */

/** Name of the BLAS in use ("OpenBLAS 0.3.21 ..." or "built-in C"); static. */
SBP_API const char *sbp_blas_name(void);
/** Number of cores the library would use for SBP_NET_THREADS = 0. */
SBP_API unsigned sbp_default_threads(void);

/** @} */

/* ------------------------------------------------------------------------ */
/** @name Model files (docs/file-format.md) */
/* ------------------------------------------------------------------------ */
/** @{ */

/** @file
 * @par Model files
 * A model file holds a whole network: engine, seed and random state, every
 * network, layer and rule parameter, the attached rules and, once the
 * network is built, its weights, biases and the engine's training state
 * (momenta, persistent chains, homeostatic thresholds, counters...). A
 * loaded network predicts bit-identically to the saved one and continues
 * training bit-identically (same build). Files are little-endian on every
 * host and end with a CRC-32C of their content. Not saved: the progress
 * callback and net.threads, which belongs to the machine (results never
 * depend on it); a loaded network has its default, 0 (one per core).
 *
 * An unbuilt network (no training, evaluation, prediction or weight access
 * yet) is saved as it is: its description only, and it loads unbuilt.
 * Saving does not build a network.
 *
 * This library writes format version 1 and reads versions 1 and lower; a
 * newer version is refused with SBP_E_VERSION. */

/** Saves the network to `path`, atomically: the bytes go to a new temporary
 * file "path.tmp.XXXXXX" in the same directory, which is synced and then
 * renamed over `path`, and the directory is synced. On any failure the
 * temporary file is removed and an existing file at `path` is left as it
 * was. A replaced file keeps its permission bits; a new one gets 0666 less
 * the umask. Errors: SBP_E_IO (errno text in the message), SBP_E_NOMEM,
 * SBP_E_NUMERIC (weights or state not finite: a diverged network, which
 * no loader would accept). The network is not changed. Since 0.1.0. */
SBP_API sbp_status sbp_net_save(sbp_net *net, const char *path);

/** Loads a model file into a new network (*out; NULL on failure, when diag,
 * if given, says where and what: SBP_E_IO, SBP_E_FORMAT (wrong magic,
 * malformed sections, unknown ids), SBP_E_TRUNCATED, SBP_E_CHECKSUM,
 * SBP_E_VERSION (newer format), SBP_E_UNSUPPORTED (engine not in this
 * build), SBP_E_MISMATCH (sizes that disagree), SBP_E_RANGE (parameter out
 * of bounds), SBP_E_NUMERIC (NaN or Inf weights), SBP_E_TOO_LARGE,
 * SBP_E_NOMEM). Free the network with sbp_net_free. Since 0.1.0. */
SBP_API sbp_status sbp_net_load(const char *path, sbp_diag *diag, sbp_net **out);

/** The bytes of a model file in memory: *data (allocated by the library;
 * release it with sbp_free) and *size. Same content and errors as
 * sbp_net_save, without the file. Since 0.1.0. */
SBP_API sbp_status sbp_net_save_mem(sbp_net *net, void **data, size_t *size);

/** Loads a network from the `size` bytes at `data` (borrowed for the call
 * only), with the checks and errors of sbp_net_load. Since 0.1.0. */
SBP_API sbp_status sbp_net_load_mem(const void *data, size_t size, sbp_diag *diag,
                                    sbp_net **out);

/** Releases memory the library allocated for the caller (sbp_net_save_mem).
 * Accepts NULL. Since 0.1.0. */
SBP_API void sbp_free(void *p);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SBP_SBP_H */
