/* `sbp experiment` (tools/experiment.c) and its --grid mode (tools/grid.c):
 * the state they share. */
#ifndef SBP_TOOL_EXPERIMENT_H
#define SBP_TOOL_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netcfg.h"
#include "tool.h"

/* One variant: how its runs differ from the experiment's configuration. */
typedef struct variant {
    char name[16];    /* curves.csv, legends: "baseline", "replace30" */
    int base_rule;    /* relax only */
    int sbp_on;
    int replace_pct;  /* ann --replace-bp: percent of SBP batches; -1: not such a variant */
    char color[16];   /* "#1f77b4" */
} variant;

typedef struct experiment {
    run_cfg cfg;
    uint64_t seeds[MAX_SEEDS];
    size_t n_seeds;
    variant vars[MAX_VARIANTS];
    size_t n_vars;
    int base_var, sbp_var; /* the variants "without SBP" and "with SBP"; -1: not run */
    char out_dir[PATH_BUF];
    data_dir dd;
    size_t n_train, n_test;
    int64_t batch; /* effective mini-batch size, for the report */
    /* runs[s * n_vars + v] */
    epoch_rec *rec;        /* n_seeds * n_vars * epochs */
    size_t *n_done;
    double *run_seconds;
    FILE *csv;
    int csv_failed;
    char ckpt_dir[PATH_BUF]; /* <out>/checkpoints */
    size_t cur_seed, cur_var; /* the run whose epochs are being reported */
} experiment;

/* Creates --out and its parents. Returns 0 or EXIT_FAIL. */
int mkdir_p(const char *path);
/* buf = "<out_dir>/<name>". Returns 0 or EXIT_FAIL. */
int out_path(const experiment *x, const char *name, char *buf, size_t size);
/* The "Command:" block of a Markdown report: the command line, shell-quoted. */
void md_command(FILE *f);
/* "95.14 ± 0.12 %", "95.14 %" (one seed) or "n/a". */
void md_pct(FILE *f, double mean, double std, size_t n);

/* --grid lambda: x holds the parsed configuration and seeds. Returns an
 * exit status. */
int run_grid(experiment *x, const args *a);

#endif
