/* The network of a `sbp train` / `sbp experiment` run (tools/netcfg.c):
 * --set NAME=VALUE, the run configuration read from the options, building
 * the network with its rules, and the epoch loop. */
#ifndef SBP_TOOL_NETCFG_H
#define SBP_TOOL_NETCFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sbp/sbp.h"
#include "msg.h"
#include "tool.h"

/* ------------------------------------------------------------------------ */
/* --set NAME=VALUE                                                          */
/* ------------------------------------------------------------------------ */

/* Where a --set goes, by the parameter's group: net.*, relax.*, spike.*,
 * ann.* to the network, spread.* to the SBP spread rule, layer.* to every
 * layer after the input, stdp.* to the STDP rules, stp.* and homeo.* to the
 * --with stp / homeo rules, cd.* to the rbm engine's CD rule. */
enum set_target { SET_NET, SET_SPREAD, SET_LAYER, SET_STDP, SET_STP, SET_HOMEO, SET_CD };

typedef struct set_item {
    const char *text;  /* as given, for messages */
    sbp_param param;
    sbp_param_desc desc;
    enum set_target target;
    size_t layer;      /* layerN.*: only layer N (>= 1); 0: every layer after the input */
    int64_t ival;
    double rval;
} set_item;

/* Symbolic values accepted for integer (enum) parameters. */
typedef struct set_symbol {
    sbp_param param;
    const char *name;
    int value;
} set_symbol;

extern const set_symbol set_symbols[];
extern const size_t n_set_symbols;

/* Parses "NAME=VALUE" (text is kept, not copied). Returns 0 or EXIT_USAGE. */
int parse_set(const char *text, set_item *it);

/* ------------------------------------------------------------------------ */
/* The run configuration                                                     */
/* ------------------------------------------------------------------------ */

/* --with: rules attached besides the spread rule. */
enum { WITH_STDP = 1, WITH_STP = 2, WITH_HOMEO = 4 };

typedef struct run_cfg {
    sbp_engine engine;
    int sbp_on;           /* spread operator enabled; with relax also the default base rule */
    int base_rule;        /* sbp_base_rule, 0: from sbp_on */
    int replace_pct;      /* ann --replace-bp: percent of SBP batches; -1: not given */
    unsigned with;        /* WITH_* */
    size_t hidden[MAX_HIDDEN];
    size_t n_hidden;
    size_t epochs;
    size_t train_limit, test_limit; /* 0: all */
    int batch_given, threads_given;
    int64_t batch, threads;
    int shuffle;
    int quiet, json;
    const char *eval_name; /* what the per-epoch evaluation set is called; NULL: "test" */
    int task;              /* TASK_MNIST or TASK_NETTALK (--task) */
    size_t inputs, outputs;/* of the task: 784, 10 (MNIST) or 189, 26 (NETtalk) */
    sbp_nettalk_split split;   /* --split, NETtalk */
    uint64_t split_seed;       /* --split words:SEED, NETtalk */
    const sbp_nettalk_codes *codes; /* NETtalk: set once the data are loaded */
    sbp_event_frames events;   /* N-MNIST, DvsGesture: frames (--events; events_task.c) */
    set_item sets[MAX_SETS];
    size_t n_sets;
} run_cfg;

/* "symmetric", "differential", "sbp", indexed by sbp_base_rule. */
extern const char *const base_rule_names[];

/* Options common to train and experiment (the variant options --sbp,
 * --rule and --replace-bp are handled by the caller). Checks that every
 * --set reaches a rule the run attaches. Returns 0 or EXIT_USAGE. */
int parse_run_cfg(const args *a, run_cfg *c);
/* Reads --sbp, --rule and --replace-bp PCT (train only). */
int parse_variant_opts(const args *a, run_cfg *c);
/* --replace-bp: refused unless the engine is ann and no --set gives the
 * parameters it sets. Returns 0 or EXIT_USAGE. */
int check_replace_bp(const run_cfg *c);
/* The last --set of parameter p, or NULL. */
const set_item *find_set(const run_cfg *c, sbp_param p);
/* "sbp rule + SBP spread", for the note that opens a run. */
const char *rule_description(const run_cfg *c);

/* Layer sizes: input, hidden..., output; returns their count (at most
 * MAX_HIDDEN + 2). */
size_t layer_sizes(const run_cfg *c, size_t *sizes);
/* "784-500-10". */
void format_topology(char *buf, size_t size, const run_cfg *c);
/* "SNN: mn + nk + n" or "dense: mn + nk + kn + nm". */
const char *cost_formula(sbp_engine e);
/* Per-epoch complexity (model.md section 7). */
double per_epoch_cost(const run_cfg *c);
/* Cap of the mean-epochs thresholds: COST_CAP for MNIST; NETtalk as the
 * paper: none (0) for the SNN engines, 0.4 for ann. */
double cost_cap(const run_cfg *c);
/* "MNIST" or "NETtalk". */
const char *task_name(const run_cfg *c);
/* Loads the task's data into train / test (and c->codes for NETtalk).
 * Returns 0 or an exit status after the message. */
int load_task(run_cfg *c, const data_dir *dd, sbp_dataset **train, sbp_dataset **test);

/* Builds the network of a run: engine, parameters, layers and rules: the
 * SBP spread rule on every layer after the input (enabled per sbp_on);
 * with the spike engine and any stdp.*, supervised STDP on the output
 * layer; --with stdp: STDP on every hidden layer; --with stp / homeo: STP /
 * homeostasis on every layer after the input; with rbm and any cd.*, CD on
 * layer 1. With ann, ann.hidden_mode follows --replace-bp (mixed) or sbp_on
 * (sbp / bp) unless a --set gives it. Returns 0, EXIT_USAGE (a --set or
 * option value the library refused) or EXIT_FAIL (library failure, e.g. an
 * engine not in this build or a rule the engine cannot use). */
int build_net(const run_cfg *c, uint64_t seed, sbp_net **out);

/* ------------------------------------------------------------------------ */
/* The epoch loop                                                            */
/* ------------------------------------------------------------------------ */

/* NETtalk: test_error = 1 - cosine score and train_error is NaN (the
 * library's train error counts argmax misclassifications, which multi-hot
 * targets do not have); the accuracies are NaN for MNIST. */
typedef struct epoch_rec {
    double train_error, test_error, seconds;
    double phoneme_accuracy, stress_accuracy;
} epoch_rec;

/* The NETtalk test pass: every test window through sbp_net_predict in one
 * call, scored by the library (r->test_error = 1 - cosine score, and the
 * phoneme and stress accuracies). On failure *why is a message, or NULL
 * for the network's own. */
sbp_status evaluate_nettalk(sbp_net *net, const sbp_dataset *test,
                            const sbp_nettalk_codes *codes, epoch_rec *r, const char **why);

/* Called after each completed epoch with the network as it stands; a
 * non-zero return (an exit status) stops the run with that status. */
typedef int (*epoch_fn)(void *user, sbp_net *net, size_t epoch, size_t epochs,
                        const epoch_rec *r);

/* Trains up to c->epochs epochs, evaluating after each. On entry *n_done
 * is the number of epochs the network has already trained (0 for a new
 * one; a run continued from a checkpoint passes its count and rec holds
 * those epochs): the training set's shuffles of those epochs are replayed
 * so that the run continues exactly. rec receives one entry per completed
 * epoch and *n_done their count; fn (if not NULL) is called after each.
 * Returns 0, EXIT_FAIL, EXIT_INTERRUPTED or fn's status. */
int run_epochs(sbp_net *net, sbp_dataset *train, const sbp_dataset *test, const run_cfg *c,
               uint64_t seed, const char *prefix, epoch_rec *rec, size_t *n_done,
               double *seconds, epoch_fn fn, void *user);
/* First epoch (1-based) reaching the minimum test error; 0 if none. */
size_t best_epoch(const epoch_rec *rec, size_t n);
/* "epoch 3/10  train error 12.80 %  test error 11.70 %  12.3 s". */
void print_epoch_human(FILE *f, size_t e, size_t epochs, const epoch_rec *r);

#endif
