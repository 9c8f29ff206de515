/* Shared declarations of the `sbp` command's modules (tools/).
 *
 *   sbp.c         main, the option and command tables, help; the small
 *                 commands (info, data info, train, eval, bench)
 *   msg.c         messages, strict number parsing, JSON/number formatting
 *                 (msg.h)
 *   data.c        choosing the MNIST directory and loading it
 *   netcfg.c      --set, the run configuration, building the network, the
 *                 epoch loop (netcfg.h)
 *   experiment.c  sbp experiment: variants, --resume, summary.md, curves
 *   grid.c        sbp experiment --grid lambda (experiment.h)
 *   verify.c      sbp data verify (with hash.c)
 *   modelinfo.c   sbp info FILE: what a model file holds
 *   bench.c       sbp bench (bench.h)
 *   progress.c    progress bar and Ctrl-C (progress.h)
 *   svg.c         plots (svg.h) */
#ifndef SBP_TOOL_H
#define SBP_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sbp/sbp.h"

/* `sbp data verify DIR`: checks every MNIST file present in DIR (raw or
 * .gz): parses it with the library loader and compares the decompressed
 * content's hash with the published value. Prints one line per file to
 * `out`, problems to `err`. Returns 0 when every file present verifies and
 * at least one image/label pair was found, 1 otherwise. */
int sbp_tool_data_verify(const char *dir, FILE *out, FILE *err);

/* `sbp info FILE`: loads a model file and prints its engine, seed, layer
 * sizes and the parameters and rules that differ from the defaults (JSON
 * with `json`) to `out`; a load failure to `err`. Returns 0 or EXIT_FAIL. */
int sbp_tool_model_info(const char *path, int json, FILE *out, FILE *err);

/* ------------------------------------------------------------------------ */
/* Exit statuses and limits                                                  */
/* ------------------------------------------------------------------------ */

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130

#define MAX_SETS 128
#define MAX_POSITIONAL 2
#define MAX_HIDDEN 16
#define MAX_SEEDS 64
#define MAX_VARIANTS 24
#define MAX_EPOCHS 100000
#define MAX_LAYER_SIZE 1000000
#define PATH_BUF 4096

#define MNIST_FEATURES 784
#define MNIST_CLASSES 10

/* --task: what the network learns (tools/data.c). */
enum task { TASK_MNIST = 0, TASK_NETTALK = 1, TASK_NMNIST = 2, TASK_DVSGESTURE = 3 };
/* --task nettalk without --test-limit: a seeded sample of this many test
 * windows (the paper split's 140 209 take minutes per epoch at batch 1). */
#define NETTALK_TEST_SAMPLE 5000
/* Seed of that sample and of --split words (--split words:SEED changes the
 * latter): fixed, so that every network seed and variant sees the same data. */
#define NETTALK_DATA_SEED 0

/* Cap of the mean-epochs thresholds (model.md section 7). */
#define COST_CAP 0.2

/* The whole command line, for summary.md and grid.md (set by main). */
extern int tool_argc;
extern char **tool_argv;

/* ------------------------------------------------------------------------ */
/* Options and the parsed command line (the option table is in sbp.c)       */
/* ------------------------------------------------------------------------ */

enum opt_id {
    OPT_HELP,
    OPT_JSON,
    OPT_QUIET,
    OPT_DATA,
    OPT_TASK,
    OPT_MODEL,
    OPT_SBP,
    OPT_RULE,
    OPT_WITH,
    OPT_REPLACE_BP,
    OPT_REPLACE_BP_LIST,
    OPT_HIDDEN,
    OPT_EPOCHS,
    OPT_SEED,
    OPT_SEEDS,
    OPT_VARIANTS,
    OPT_TRAIN_LIMIT,
    OPT_TEST_LIMIT,
    OPT_BATCH,
    OPT_THREADS,
    OPT_SHUFFLE,
    OPT_SET,
    OPT_OUT,
    OPT_SAVE,
    OPT_LOAD,
    OPT_RESUME,
    OPT_GRID,
    OPT_GRID_VALUES,
    OPT_VAL,
    OPT_SPLIT,
    OPT_EVENTS,
    OPT__COUNT
};

/* Parsed command line of one command. */
typedef struct args {
    const char *val[OPT__COUNT]; /* last value given */
    int given[OPT__COUNT];
    const char *sets[MAX_SETS];  /* every --set, in order */
    size_t n_sets;
    const char *pos[MAX_POSITIONAL];
    size_t n_pos;
} args;

/* ------------------------------------------------------------------------ */
/* Data directory (data.c)                                                   */
/* ------------------------------------------------------------------------ */

typedef struct data_dir {
    char path[PATH_BUF];
    const char *source; /* how it was chosen, for messages */
} data_dir;

int is_dir(const char *path);
/* --data, else $SBP_DATA, else the bundled sample: ./data/mnist, then the
 * source tree the tool was built from, then the installed share dir.
 * Returns 0 or EXIT_FAIL after the message. */
int resolve_data_dir(const args *a, data_dir *dd);
/* One MNIST part, its first `limit` samples (0: all). Returns 0 or an exit
 * status after the message. */
int load_part(const data_dir *dd, sbp_mnist_part part, size_t limit, sbp_dataset **out);
/* Loads both parts and says on stderr what was used. */
int load_mnist(const data_dir *dd, size_t train_limit, size_t test_limit, int quiet,
               sbp_dataset **train, sbp_dataset **test);

/* The data directory of a task: MNIST as resolve_data_dir; NETtalk: --data,
 * else the bundled corpus (./data/nettalk, the source tree's, the installed
 * share/libsbp/nettalk). Returns 0 or EXIT_FAIL after the message. */
int resolve_task_dir(const args *a, int task, data_dir *dd);
/* "paper split", "word split, seed S", ... for notes and summaries
 * (tools/data.c); returns buf. */
const char *nettalk_split_text(sbp_nettalk_split split, uint64_t seed, char *buf, size_t size);
/* Loads a NETtalk directory (tools/data.c): the split's two parts, the first
 * train_limit training windows, test_limit test windows drawn by a seeded
 * sample (0: NETTALK_TEST_SAMPLE; SIZE_MAX: all) and the code table into
 * *codes. Says on stderr what was used. Returns 0 or an exit status. */
int load_nettalk(const data_dir *dd, sbp_nettalk_split split, uint64_t split_seed,
                 size_t train_limit, size_t test_limit, int quiet, sbp_dataset **train,
                 sbp_dataset **test, sbp_nettalk_codes *codes);

/* ------------------------------------------------------------------------ */
/* Commands implemented outside sbp.c                                        */
/* ------------------------------------------------------------------------ */

/* `sbp experiment` (experiment.c). Returns an exit status. */
int tool_experiment(const args *a);

#endif
